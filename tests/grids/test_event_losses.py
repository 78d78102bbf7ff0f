"""Losses of finite events (secant) against an independent power-flow solution."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from scipy.optimize import fsolve

import netcoh as nc
from netcoh.exceptions import InputError, NetcohTypeError
from netcoh.grids.case_model import case_injection
from netcoh.grids.event_losses import event_generation, loss_curvature

R_PU, X_PU, LOAD_MW = 0.05, 0.2, 60.0


def _two_bus(tmp_path):
    doc = {"format": "netcoh-grid", "format_version": 1, "name": "two", "base_mva": 100.0,
           "f_hz": 50.0, "topology": "inline",
           "provenance": {"source": "test", "licence": "BSD-3-Clause", "synthesised": []},
           "buses": [{"id": "1", "base_kv": 110.0}, {"id": "2", "base_kv": 110.0}],
           "branches": [{"id": "l", "from_bus": "1", "to_bus": "2", "r_pu": R_PU,
                         "x_pu": X_PU}],
           "machines": [{"id": "G", "bus": "1", "base_mva": 100.0, "rating_mva": 100.0,
                         "inertia_h_s": 5.0, "damping_pu": 1.0, "droop_r_pu": 0.05,
                         "turbine_tau_s": 5.0, "transient_reactance_pu": 0.05,
                         "p_mw": 62.0, "vm_pu": 1.0, "slack": True}],
           "loads": [{"id": "L", "bus": "2", "p_mw": LOAD_MW, "q_mvar": 0.0}]}
    path = tmp_path / "two.json"
    path.write_text(json.dumps(doc))
    return nc.grids.load(path, warn=False)


def _generation(p_load_pu):
    """Sending-end power of a slack at 1 p.u. feeding ``p_load_pu`` over r + jx (scipy)."""
    z = R_PU + 1j * X_PU

    def mismatch(x):
        v2 = x[0] * np.exp(1j * x[1])
        s2 = v2 * np.conj((v2 - 1.0) / z)          # injection into the network at bus 2
        return [s2.real + p_load_pu, s2.imag]

    vm, va = fsolve(mismatch, [1.0, -0.1], xtol=1e-13)
    v2 = vm * np.exp(1j * va)
    return float((1.0 * np.conj((1.0 - v2) / z)).real)


def test_event_generation_matches_an_independent_power_flow(tmp_path):
    grid = _two_bus(tmp_path)
    base = LOAD_MW / 100.0
    for step in (0.05, 0.3):
        expected = _generation(base + step) - _generation(base)
        got = event_generation(grid, {"2": -step})
        assert got == pytest.approx(expected, rel=1e-6)
        assert got > step                       # losses grow with the transfer


def test_secant_tends_to_tangent_for_small_events_and_exceeds_it_for_large_ones(tmp_path):
    grid = _two_bus(tmp_path)
    small_t = case_injection(grid, {"2": -1e-4})
    small_s = case_injection(grid, {"2": -1e-4}, losses="secant")
    assert small_s.sum() == pytest.approx(small_t.sum(), rel=1e-3)
    big_t = case_injection(grid, {"2": -0.6})
    big_s = case_injection(grid, {"2": -0.6}, losses="secant")
    assert big_s.sum() < big_t.sum() < -0.6     # quadratic losses: secant above tangent
    with pytest.raises(nc.InputError, match="`losses` must be"):
        case_injection(grid, {"2": -0.1}, losses="exact")
    with pytest.raises(nc.InputError, match="bus ids"):
        event_generation(grid, {"9": -0.1})


@pytest.mark.parametrize("call, exc, text", [
    (lambda g: event_generation("kundur", {"9": -1.0}), NetcohTypeError, "`grid` must be a Grid"),
    (lambda g: event_generation(g, [("9", -1.0)]), NetcohTypeError, "`bus_p_pu` must be a mapping"),
    (lambda g: event_generation(g, {"9": "x"}), NetcohTypeError, "`bus_p_pu['9']` must be a real"),
    (lambda g: event_generation(g, {"9": -1.0}, scale=float("nan")), InputError,
     "`scale` must be finite, got nan"),
    (lambda g: event_generation(g, {"9": -1.0}, tol=0.0), InputError, "`tol` must be positive"),
    (lambda g: event_generation(g, {"9": -1.0}, max_iter=0), InputError, "`max_iter` must be >= 1"),
    (lambda g: loss_curvature(g, {"9": -1.0}, rel_step=-1.0), InputError,
     "`rel_step` must be in (0, 1], got -1"),
])
def test_bad_event_inputs_are_named(call, exc, text):
    g = nc.grids.load("kundur", warn=False)
    with pytest.raises(exc, match=re.escape(text)):
        call(g)
