"""Shared fixtures: small random networks with the ACC 2023 parameter distributions."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

import netcoh as nc  # noqa: E402


def random_turbine_nodes(n: int, rng) -> nc.NodalDynamics:
    """m ~ U[0.05, 0.5], d ~ U[0.2, 0.5], r ~ U[5, 10] (droop 1/r), tau ~ U[2, 10]."""
    return nc.nodal.swing_turbine(m=rng.uniform(0.05, 0.5, n), d=rng.uniform(0.2, 0.5, n),
                                  droop=1.0 / rng.uniform(5, 10, n), tau=rng.uniform(2, 10, n))


def random_connected_laplacian(n: int, rng, p: float = 0.3):
    """Erdos-Renyi weights U[0.5, 2] plus a ring so the graph is connected."""
    A = np.triu((rng.random((n, n)) < p) * rng.uniform(0.5, 2.0, (n, n)), 1)
    i = np.arange(n)
    A[i, (i + 1) % n] += 1.0
    A = np.triu(A + A.T, 1)
    return nc.laplacian.from_adjacency(A + A.T)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def turbine_system(rng):
    n = 12
    return nc.NetworkSystem.from_laplacian(random_connected_laplacian(n, rng),
                                           nodal=random_turbine_nodes(n, rng))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """A skipped test is not a passing one: say so, and fail the run (see sessionfinish)."""
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} test(s) skipped: every test must run (install the 'test' and "
            "'validate' extras, as the README's test command does)", red=True)


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = 1


_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def pytest_collection_modifyitems(config, items):
    """The browser check of the HTML report needs chromium, a system package, not a pip one.

    CI (``CI=true``, where ``.ci/run`` installs it) always runs it and fails without a browser;
    elsewhere, without a browser, it is deselected with a line that says so (never skipped).
    """
    import shutil

    if os.environ.get("CI", "").lower() == "true" or any(shutil.which(b) for b in _BROWSERS):
        return
    chosen = [it for it in items if "browser" not in it.keywords]
    dropped = [it for it in items if "browser" in it.keywords]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = chosen
        config._netcoh_no_browser = len(dropped)


def pytest_report_header(config):
    import shutil

    if not (os.environ.get("CI", "").lower() == "true" or any(shutil.which(b) for b in _BROWSERS)):
        return ("no chromium found: the report's browser check is deselected "
                "(apt-get install chromium to run it; CI always runs it)")
    return None
