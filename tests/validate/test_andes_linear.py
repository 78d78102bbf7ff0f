"""The full linear model of ANDES cases (exciters, stabilisers, flux dynamics) against ANDES.

References: ANDES's own time-domain simulation of a 1 % load step at the largest load
(constant-power loads, criteria off), ANDES's eigenvalue routine ``EIG`` on the cases where
it has no zero-time-constant filters, and python-control's ``forced_response`` on the same
StateSpace; the eigen-free nadir search against the modal one. Measured
(benchmarks/validate_andes.py, 20 s runs): worst machine nadir error
0.05 % (ieee14_full), 0.26 % (kundur_full), 0.26 % (ieee39_full); trajectories within 1 %
RMS; eigenvalues within 1e-11 of ANDES's on kundur_full and ieee14_full.
"""

from __future__ import annotations

import andes  # noqa: F401  (installed by the README's test command: a missing ANDES fails)
import control
import numpy as np
import pytest
import scipy.linalg as la

import netcoh as nc
from netcoh.grids.andes import from_andes
from netcoh.grids.andes_linear import OUTPUTS, linearize
from netcoh.validate import andes_variant, default_load_step, simulate_andes

pytestmark = pytest.mark.andes

KUNDUR = "kundur/kundur_full.xlsx"


@pytest.fixture(scope="module")
def kundur():
    return linearize(KUNDUR, output="pu")


def _compare(case, lin, t_end_s, t_step_s):
    step = default_load_step(from_andes(case))
    grid, t, w, _ = simulate_andes(case, step, t_end_s=t_end_s, t_step_s=t_step_s)
    u = {b: -p / lin.base_mva for b, p in step.items()}
    y = nc.step_response(lin, u, t).outputs
    M = grid.tables["machines"]
    ids = [str(i) for i in M["id"][M["in_service"]]]
    y = y[:, [list(lin.output_labels).index(i) for i in ids]]
    nadir_err = np.abs(y.min(axis=0) - w.min(axis=0)) / np.abs(w.min(axis=0))
    rms = np.sqrt(np.mean((y - w) ** 2, axis=0) / np.mean(w ** 2, axis=0))
    peak = np.abs(y - w).max(axis=0) / np.abs(w).max(axis=0)
    return nadir_err, rms, peak, w


def test_kundur_load_step_matches_andes(kundur):
    nadir_err, rms, peak, w = _compare(KUNDUR, kundur, 6.0, 1 / 120)    # nadirs by 3.4 s
    assert w.shape[1] == 4 and (w.min(axis=0) < 0).all()
    assert nadir_err.max() < 0.01, nadir_err          # measured 0.26 %
    assert rms.max() < 0.03, rms                       # measured 1.0 % (20 s)
    assert peak.max() < 0.05, peak                     # measured 1.7 % (20 s)


@pytest.mark.slow          # ANDES's simulation of ieee39_full: about 25 s on a busy machine
def test_ieee39_pss_filters_and_load_step():
    """ieee39_full's IEEEST stabilisers have second-order filters with zero time constants:
    the states they constrain become algebraic (ANDES's EIG regularises them instead and
    reports eigenvalues near +1); the model is stable and follows ANDES's simulation."""
    lin = linearize("ieee39/ieee39_full.xlsx", output="pu")
    assert not any(s.startswith(("F1_y IEEEST", "F2_x2 IEEEST", "delta GENROU 1 "))
                   for s in lin.state_labels)
    assert lin.nstates == 149 and lin.noutputs == 10 and lin.ninputs == 39
    assert la.eigvals(lin.A).real.max() < -0.1
    nadir_err, rms, _, _ = _compare("ieee39/ieee39_full.xlsx", lin, 4.0, 1 / 100)  # by 3.3 s
    assert nadir_err.max() < 0.01, nadir_err          # measured 0.26 % (20 s)
    assert rms.max() < 0.03, rms


def test_eigenvalues_agree_with_andes_eig(kundur):
    ss = andes_variant(KUNDUR, classical=False)
    ss.PFlow.run()
    ss.EIG.run()
    ref = np.asarray(ss.EIG.mu, dtype=complex).ravel()
    mu = la.eigvals(kundur.A)
    assert ref.size == mu.size + 1                     # ANDES keeps the angle reference
    dist = np.abs(mu[:, None] - ref[None, :]).min(axis=1)
    assert dist.max() < 1e-8 * np.abs(mu).max(), dist.max()
    extra = ref[np.abs(ref[:, None] - mu[None, :]).min(axis=1) > 1e-6]
    assert extra.size == 1 and abs(extra[0]) < 1e-9


def test_labels_units_and_attributes(kundur):
    assert kundur.output_labels == ["1", "2", "3", "4"]             # GENROU ids
    assert kundur.input_labels == [str(i) for i in range(1, 11)]    # bus ids
    assert kundur.f_hz == 60.0 and kundur.base_mva == 100.0 and kundur.output_unit == "pu"
    # M = 2H S_n / S_base with Kundur's H = 6.5 s (G1, G2) and 6.175 s (G3, G4) on 900 MVA
    assert np.allclose(kundur.coi_weights, 2 * np.array([6.5, 6.5, 6.175, 6.175]) * 900 / 100)
    hz = linearize(KUNDUR)
    assert hz.output_unit == "hz" and np.allclose(hz.C, 60.0 * kundur.C)
    with pytest.raises(nc.InputError, match="`output` must be one of"):
        linearize(KUNDUR, output="Hz")
    assert OUTPUTS == ("hz", "pu", "rad/s")


def test_step_response_equals_forced_response(kundur):
    t = np.linspace(0.0, 10.0, 1001)
    u = np.zeros(kundur.ninputs)
    u[kundur.input_labels.index("8")] = -1.0             # unit load step at bus 8
    r = nc.step_response(kundur, u, t)
    ref = control.forced_response(kundur, t, np.tile(u[:, None], (1, t.size))).outputs.T
    assert np.abs(r.outputs - ref).max() <= 1e-6 * np.abs(ref).max()
    w = kundur.coi_weights / kundur.coi_weights.sum()
    assert np.allclose(r.coi, ref @ w, atol=1e-9)


def test_worst_case_nadir_of_a_load_step(kundur):
    u = np.zeros(kundur.ninputs)
    u[kundur.input_labels.index("8")] = -0.2734
    res = nc.worst_case_nadir(kundur, disturbance_set=u)
    t = np.linspace(0.0, 20.0, 20001)
    y = nc.step_response(kundur, u, t).outputs
    assert res.certified and res.value == pytest.approx(np.abs(y).max(), rel=1e-6)
    assert res.bus == kundur.output_labels[int(np.argmax(np.abs(y).max(axis=0)))]
    assert res.value_hz == pytest.approx(60.0 * res.value)          # f_hz from the model
    ball = nc.worst_case_nadir(kundur, rho=0.2734)
    assert ball.value >= res.value and ball.disturbance.shape == (10,)


def test_eigen_free_nadir_equals_modal(kundur):
    """The search that needs no eigenvectors (for nearly defective models such as
    wecc_full's) against the modal one on kundur_full, horizon=None on both."""
    modal = nc.worst_case_nadir(kundur, rho=0.2734)
    free = nc.worst_case_nadir(kundur, rho=0.2734, method="timedomain")
    assert (modal.method, free.method) == ("statespace", "timedomain")
    assert modal.certified and free.certified
    assert free.value == pytest.approx(modal.value, rel=1e-9)      # measured 1e-14 apart
    assert free.bus == modal.bus and free.time == pytest.approx(modal.time, abs=1e-5)
    # threshold flags: each output's supremum over t >= 0 on both paths
    worst = np.sort(modal.per_bus_hz)
    thr = 0.5 * (worst[-2] + worst[-3])
    flags = [nc.worst_case_nadir(kundur, rho=0.2734, threshold_hz=thr, method=m).flagged
             for m in ("statespace", "timedomain")]
    assert flags[0] == flags[1] and modal.bus in flags[0]


def test_trip_input_is_the_lost_output():
    """A trip linearised at the pre-trip state: the machine, its exciter, governor and
    stabiliser leave the model, and the ``"trip"`` input's residual is its lost output."""
    from netcoh.grids import andes_linear as al

    lin = linearize("ieee39/ieee39_full.xlsx", output="pu", trips=["GENROU_8"])
    assert "GENROU_8" not in lin.output_labels and lin.noutputs == 9
    assert lin.input_labels[-1] == "trip" and lin.ninputs == 40
    assert not any(s.endswith(("GENROU 8", "IEEEX1 8", "IEEEST 8", "TGOV1 8"))
                   for s in lin.state_labels)
    assert la.eigvals(lin.A).real.max() < -0.1
    grid = from_andes("ieee39/ieee39_full.xlsx")
    M = grid.tables["machines"]
    k = list(M["id"]).index("GENROU_8")
    bus = str(M["bus"][k])
    # the trip's steady state: the lost output as a step at the machine's bus, up to the
    # reactive part of the trip and the network's marginal losses
    y_trip = control.dcgain(lin)[:, -1]
    y_bus = control.dcgain(lin)[:, lin.input_labels.index(bus)] * (-M["p_mw"][k] / 100.0)
    assert np.allclose(y_trip, y_bus, rtol=0.005)          # measured 0.09 % apart
    with pytest.raises(nc.InputError, match="`trips` must name machines"):
        al.linearize(KUNDUR, trips=["GENROU_99"])
