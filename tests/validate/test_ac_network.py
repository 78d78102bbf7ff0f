"""The full AC linearisation used by the validation harness, checked by finite differences
of the nonlinear network equations (no ANDES needed)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import fsolve

import netcoh as nc
from netcoh.validate import _ybus, ac_network, build_system, frequency_metrics, injection


@pytest.fixture(scope="module")
def grid():
    return nc.grids.load("kundur", warn=False)


def _network(grid):
    """Nonlinear map (delta, bus injections) -> machine electrical power, by Newton on V."""
    T, base = grid.tables, grid.base_mva
    B, M = T["buses"], T["machines"]
    bidx = {b: i for i, b in enumerate(B["id"])}
    nb, nm = len(bidx), len(M["id"])
    V = B["vm_pu"] * np.exp(1j * np.radians(B["va_deg"]))
    mb = np.array([bidx[b] for b in M["bus"]])
    xd = M["transient_reactance_pu"]
    S = (M["p_mw"] + 1j * M["q_mvar"]) / base
    E = V[mb] + 1j * xd * np.conj(S / V[mb])
    Y = _ybus(grid, nm, bidx)
    y = 1 / (1j * xd)
    for k in range(nm):
        i = nm + mb[k]
        Y[k, k] += y[k]
        Y[i, i] += y[k]
        Y[k, i] -= y[k]
        Y[i, k] -= y[k]

    def solve(delta, s_bus):
        e = np.abs(E) * np.exp(1j * delta)

        def res(x):
            v = x[nb:] * np.exp(1j * x[:nb])
            vall = np.concatenate([e, v])
            s = vall * np.conj(Y @ vall)
            r = s[nm:] - s_bus
            return np.concatenate([r.real, r.imag])

        x0 = np.concatenate([np.angle(V), np.abs(V)])
        x = fsolve(res, x0, xtol=1e-13)
        v = x[nb:] * np.exp(1j * x[:nb])
        vall = np.concatenate([e, v])
        return (vall * np.conj(Y @ vall))[:nm].real

    vall0 = np.concatenate([E, V])
    s_bus0 = (vall0 * np.conj(Y @ vall0))[nm:]
    return solve, np.angle(E), s_bus0, nm, nb


def test_sensitivities_match_finite_differences(grid):
    net = ac_network(grid)
    solve, delta0, s0, nm, nb = _network(grid)
    pe0 = solve(delta0, s0)
    h = 1e-6
    K_fd = np.column_stack([(solve(delta0 + h * np.eye(nm)[j], s0) - pe0) / h for j in range(nm)])
    np.testing.assert_allclose(net.sensitivity, K_fd, rtol=1e-4, atol=1e-4 * np.abs(K_fd).max())
    inj_fd = np.column_stack([(solve(delta0, s0 + h * np.eye(nb)[j]) - pe0) / h for j in range(nb)])
    np.testing.assert_allclose(net.injection, inj_fd, rtol=1e-4, atol=1e-4 * np.abs(inj_fd).max())


def test_laplacian_and_losses(grid):
    net = ac_network(grid)
    L = net.laplacian
    np.testing.assert_allclose(L, L.T, atol=0)
    np.testing.assert_allclose(L.sum(axis=1), 0, atol=1e-9 * np.abs(L).max())
    assert np.all(L - np.diag(np.diag(L)) <= 0)
    # zero row sums of K: a common rotation of all machines changes nothing
    np.testing.assert_allclose(net.sensitivity.sum(axis=1), 0, atol=1e-9 * np.abs(L).max())
    # a lossy network: a 1 p.u. load increase needs more than 1 p.u. from the machines
    u = injection(grid, {"9": 1.0}, "ac")
    assert -u.sum() > 1.0
    u0 = injection(grid, {"9": 1.0}, "lossless")
    np.testing.assert_allclose(u0.sum(), -1.0, rtol=1e-9)
    # same order of magnitude as the grid's lossless Laplacian
    L0 = grid.to_system().laplacian
    assert np.abs(L - L0).max() < 0.25 * np.abs(L0).max()


def test_build_system_needs_andes_provenance(grid):
    with pytest.raises(nc.InputError, match="from_andes"), pytest.warns(DeprecationWarning):
        build_system(grid, "governor", "ac")
    with pytest.raises(nc.InputError, match="`model`"):
        build_system(grid, "bogus", "ac")
    with pytest.raises(nc.InputError, match="no case dynamics"):
        grid.to_system(model="case")
    assert grid.to_system().nodal.kind == "swing_turbine"  # default without case dynamics


def test_case_injection_with_reactive_loss(grid):
    """A lost reactive injection moves the machines' electrical power through the lossy
    network (finite differences of the network equations, as above)."""
    from netcoh.grids.case_model import case_injection
    solve, delta0, s0, nm, nb = _network(grid)
    pe0 = solve(delta0, s0)
    k = list(grid.buses.id).index("7")
    h = 1e-6
    dq = solve(delta0, s0 + 1j * h * np.eye(nb)[k]) - pe0
    u = case_injection(grid, {}, bus_q_pu={"7": h})
    np.testing.assert_allclose(u, -dq, rtol=1e-3, atol=1e-3 * np.abs(dq).max())


def test_frequency_metrics():
    t = np.linspace(0, 10, 2001)
    y = np.column_stack([-1e-3 * t * np.exp(1 - t), 2e-3 * np.sin(t)])
    m = frequency_metrics(t, y, f_hz=60.0, rocof_window_s=0.5)
    np.testing.assert_allclose(m["nadir_hz"][0], -60e-3, rtol=1e-6)
    np.testing.assert_allclose(m["t_nadir_s"][0], 1.0, atol=5e-3)
    np.testing.assert_allclose(m["rocof_hz_s"][0], 60 * -1e-3 * 0.5 * np.exp(0.5) / 0.5, rtol=1e-9)
    m = frequency_metrics(t, y, f_hz=60.0, sign=+1.0)
    np.testing.assert_allclose(m["nadir_hz"][1], 0.12, rtol=1e-6)
