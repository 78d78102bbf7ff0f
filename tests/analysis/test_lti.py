"""step_response and worst_case_nadir on a general linear model (a control.StateSpace).

References: python-control's forced_response for trajectories; the NetworkSystem route on the
same realisation for the nadir; a brute-force table of step responses (unit inputs simulated
with python-control, maximised over a fine time grid) for a model with more inputs than
outputs.
"""

from __future__ import annotations

import control
import numpy as np
import pytest
import scipy.linalg as la

import netcoh as nc
from netcoh.analysis.lti import as_lti, is_lti
from netcoh.analysis.nadir_sets import BudgetBox


def _network():
    m = np.array([2.0, 3.0, 4.0, 5.0, 6.0])
    nodal = nc.nodal.swing_turbine(m, 1.0, 20.0, np.array([4.0, 5.0, 6.0, 7.0, 8.0]))
    return nc.NetworkSystem.from_laplacian(5.0 * nc.laplacian.ring_lattice(5, 1), nodal=nodal,
                                           f_hz=50.0)


def _as_statespace(system):
    A, B, C, D = (M.toarray() for M in system.realization())
    lin = control.ss(A, B, C, D, inputs=list(system.labels), outputs=list(system.labels))
    lin.f_hz = system.f_hz
    return lin


def _rectangular(seed=3):
    """A stable random model with 6 inputs (buses) and 3 outputs (machines)."""
    rng = np.random.default_rng(seed)
    N = 8
    Q = np.linalg.qr(rng.standard_normal((N, N)))[0]
    A = Q @ np.diag(-rng.uniform(0.3, 3.0, N)) @ Q.T + 0.8 * (rng.standard_normal((N, N))
                                                              - rng.standard_normal((N, N))).T
    A -= (np.linalg.eigvals(A).real.max() + 0.2) * np.eye(N)     # shift: stable, oscillatory
    lin = control.ss(A, rng.standard_normal((N, 6)), rng.standard_normal((3, N)),
                     np.zeros((3, 6)), inputs=[f"b{i}" for i in range(6)],
                     outputs=["g0", "g1", "g2"])
    lin.f_hz = 60.0
    return lin


def test_is_lti_and_adapter():
    lin = _rectangular()
    m = as_lti(lin)
    assert is_lti(lin) and is_lti(m) and not is_lti(_network())
    assert (m.n, m.n_inputs, m.f_hz) == (3, 6, 60.0)
    assert m.labels == ("g0", "g1", "g2") and m.input_labels[0] == "b0"
    assert np.all(m.eigenvalues.real < 0)
    assert np.allclose(m.inertia_weights, 1 / 3)
    assert as_lti(m, f_hz=50.0).f_hz == 50.0


def test_step_response_equals_forced_response():
    lin = _rectangular()
    t = np.linspace(0.0, 12.0, 601)
    u = np.array([0.0, -0.3, 0.1, 0.0, 0.2, -0.05])
    r = nc.step_response(lin, u, t)
    ref = control.forced_response(lin, t, np.tile(u[:, None], (1, t.size))).outputs.T
    assert r.outputs.shape == (t.size, 3) and r.disturbance.shape == (6,)
    assert np.abs(r.outputs - ref).max() <= 1e-6 * np.abs(ref).max()
    assert np.allclose(r.coi, ref.mean(axis=1), atol=1e-6 * np.abs(ref).max())
    assert np.all(np.isnan(r.aggregate)) and r.labels == ("g0", "g1", "g2")
    # a dict names inputs
    r2 = nc.step_response(lin, {"b1": -0.3, "b2": 0.1, "b4": 0.2, "b5": -0.05}, t)
    assert np.array_equal(r2.outputs, r.outputs)


def test_step_response_coi_weights():
    lin = _rectangular()
    lin.coi_weights = np.array([1.0, 0.0, 3.0])
    r = nc.step_response(lin, np.ones(6), [0.0, 1.0, 2.0])
    assert np.allclose(r.coi, (r.outputs[:, 0] + 3 * r.outputs[:, 2]) / 4)


@pytest.mark.parametrize("kw", [dict(rho=0.5), dict(rho=0.5, norm=np.inf), dict(rho=0.3, norm=1),
                                dict(bounds=[0.1, 0.2, 0.0, 0.3, 0.1], rho=0.4),
                                dict(disturbance_set=[0.0, -0.2, 0.0, 0.0, 0.1])])
def test_nadir_statespace_equals_network(kw):
    sys = _network()
    a = nc.worst_case_nadir(sys, method="statespace", **kw)
    b = nc.worst_case_nadir(_as_statespace(sys), **kw)
    assert b.certified and a.certified
    assert b.value == pytest.approx(a.value, rel=1e-9)
    assert b.value_hz == pytest.approx(a.value_hz, rel=1e-9)     # f_hz carried by the model
    assert (b.bus, b.labels) == (a.bus, a.labels)
    assert b.time == pytest.approx(a.time, rel=1e-6)
    assert np.allclose(b.disturbance, a.disturbance, atol=1e-9)


def _brute_table(lin, t):
    """S(t) (T, outputs, inputs) from python-control step responses of each input."""
    return np.stack([control.forced_response(lin, t, np.tile(np.eye(lin.ninputs)[j][:, None],
                                                             (1, t.size))).outputs.T
                     for j in range(lin.ninputs)], axis=2)


@pytest.mark.parametrize(("norm", "dual"), [(2, 2), (np.inf, 1), (1, np.inf)])
def test_nadir_rectangular_against_brute_force(norm, dual):
    lin = _rectangular()
    t = np.linspace(0.0, 30.0, 6001)
    S = _brute_table(lin, t)
    brute = 0.2 * np.linalg.norm(S, ord=dual, axis=2)             # (T, outputs)
    res = nc.worst_case_nadir(lin, rho=0.2, norm=norm, output="pu")
    assert res.certified and res.disturbance.shape == (6,) and res.labels == ("g0", "g1", "g2")
    assert res.value >= brute.max() * (1 - 1e-6)
    assert res.value == pytest.approx(brute.max(), rel=1e-3)
    assert res.bus == lin.output_labels[int(np.argmax(brute.max(axis=0)))]
    assert res.value_hz == pytest.approx(60.0 * res.value)
    # the worst disturbance reproduces the value
    y = nc.step_response(lin, res.disturbance, t).outputs
    assert np.abs(y).max() == pytest.approx(res.value, rel=1e-3)


def test_nadir_rectangular_budget_and_fixed_step():
    lin = _rectangular()
    t = np.linspace(0.0, 30.0, 6001)
    u = np.array([0.0, -0.2, 0.0, 0.1, 0.0, 0.0])
    y = nc.step_response(lin, u, t).outputs
    res = nc.worst_case_nadir(lin, disturbance_set=u)
    assert res.value == pytest.approx(np.abs(y).max(), rel=1e-6)
    box = nc.worst_case_nadir(lin, bounds=[0.0, 0.2, 0.0, 0.1, 0.0, 0.0], rho=0.3)
    assert box.certified and box.disturbance.shape == (6,)
    assert np.all(box.disturbance <= 1e-12) and -box.disturbance.sum() <= 0.3 + 1e-12
    # every vertex of the box-with-budget set is a candidate: the worst is one of them
    S = _brute_table(lin, t)
    verts = [np.array(v) for v in ([0, -0.2, 0, 0, 0, 0], [0, 0, 0, -0.1, 0, 0],
                                   [0, -0.2, 0, -0.1, 0, 0])]
    brute = max(np.abs(S @ v).max() for v in verts)
    assert box.value == pytest.approx(brute, rel=1e-3)
    with pytest.raises(nc.InputError, match="one per input"):
        nc.worst_case_nadir(lin, disturbance_set=np.ones(3))
    with pytest.raises(nc.InputError):
        nc.worst_case_nadir(lin, disturbance_set=BudgetBox([0.1] * 3, 0.3, 3))


def test_unstable_statespace_raises():
    bad = control.ss([[0.1, 1.0], [0.0, -1.0]], [[1.0], [1.0]], [[1.0, 0.0]], [[0.0]])
    with pytest.raises(nc.UnstableError, match="not asymptotically stable"):
        nc.step_response(bad, [1.0], [0.0, 1.0])
    with pytest.raises(nc.UnstableError, match="not asymptotically stable"):
        nc.worst_case_nadir(bad, rho=1.0)
    marginal = control.ss([[0.0]], [[1.0]], [[1.0]], [[0.0]])      # an integrator
    with pytest.raises(nc.UnstableError):
        nc.worst_case_nadir(marginal, rho=1.0)


def test_bad_inputs_raise():
    lin = _rectangular()
    with pytest.raises(nc.InputError, match=r"shape \(6,\) \(one value per input\), got \(3,\)"):
        nc.step_response(lin, np.ones(3), [0.0, 1.0])
    with pytest.raises(nc.InputError, match="unknown node 'g0'"):
        nc.step_response(lin, {"g0": 1.0}, [0.0, 1.0])
    with pytest.raises(nc.InputError, match="`trips` needs a NetworkSystem"):
        nc.worst_case_nadir(lin, trips={"b0": 0.1})
    with pytest.raises(nc.InputError, match="method='modal'"):
        nc.worst_case_nadir(lin, rho=0.1, method="modal")
    lin.output_unit = "hz"
    with pytest.raises(nc.InputError, match=r"output unit 'hz' \(or 'auto'\), got 'pu'"):
        nc.worst_case_nadir(lin, rho=0.1, output="pu")
    assert nc.worst_case_nadir(lin, rho=0.1).hz_per_unit == 1.0     # its own unit by default
    with pytest.raises(nc.InputError, match="continuous-time"):
        nc.step_response(control.ss([[0.5]], [[1.0]], [[1.0]], [[0.0]], dt=0.1), [1.0], [0.0])
    with pytest.raises(nc.NetcohTypeError, match="got str"):
        as_lti("not a model")


def test_nadir_without_f_hz_reports_nan_hz():
    lin = _rectangular()
    del lin.f_hz
    res = nc.worst_case_nadir(lin, rho=0.1)
    assert np.isnan(res.value_hz) and res.value > 0         # never a silent 50 Hz
    assert nc.worst_case_nadir(lin, rho=0.1, f_hz=50.0).value_hz == pytest.approx(50 * res.value)


def test_impulse_and_sine_responses_of_a_statespace():
    lin = _rectangular()
    t = np.linspace(0.0, 10.0, 501)
    u = np.array([0.3, 0.0, -0.1, 0.0, 0.0, 0.2])
    imp = nc.impulse_response(lin, u, t)
    ref = control.impulse_response(control.ss(lin.A, lin.B @ u[:, None], lin.C,
                                              np.zeros((3, 1))), t).outputs
    assert np.abs(imp.outputs - np.asarray(ref).reshape(3, -1).T).max() <= 1e-6 * np.abs(ref).max()
    sine = nc.sine_response(lin, u, t, 2.0)
    ref = control.forced_response(lin, t, u[:, None] * np.sin(2.0 * t)[None, :]).outputs.T
    # forced_response holds the input linear between samples: (omega dt)^2 / 8 = 2e-4 here
    assert np.abs(sine.outputs - ref).max() <= 1e-3 * np.abs(ref).max()


def _defective(split=0.0, seed=5):
    """A stable model with 6 inputs and 3 outputs whose state matrix has a Jordan block of
    size 4 (eigenvalue -0.6; ``split`` spreads it into distinct eigenvalues) beside an
    oscillatory pair, in dense coordinates."""
    rng = np.random.default_rng(seed)
    J = np.zeros((6, 6))
    J[:4, :4] = -0.6 * np.eye(4) + np.diag(np.ones(3), 1) + np.diag(split * np.arange(4))
    J[4:, 4:] = [[-0.4, 2.0], [-2.0, -0.4]]
    J[:4, 4:] = 0.3 * rng.standard_normal((4, 2))
    T = np.eye(6) + 0.3 * rng.standard_normal((6, 6))
    A = T @ J @ np.linalg.inv(T)
    lin = control.ss(A, rng.standard_normal((6, 6)), rng.standard_normal((3, 6)),
                     np.zeros((3, 6)), inputs=[f"b{i}" for i in range(6)],
                     outputs=["g0", "g1", "g2"])
    lin.f_hz = 50.0
    return lin


def test_defective_model_is_refused_by_the_modal_form():
    from netcoh.analysis.modal_statespace import lti_modes

    with pytest.raises(nc.SolverError, match="defective.*'timedomain' searches without it"):
        lti_modes(as_lti(_defective()))
    with pytest.raises(nc.SolverError, match="defective"):
        nc.worst_case_nadir(_defective(), rho=0.2, method="statespace")


def test_step_response_of_a_defective_model():
    lin = _defective()
    t = np.linspace(0.0, 15.0, 751)
    u = np.array([0.2, 0.0, -0.1, 0.0, 0.3, 0.0])
    r = nc.step_response(lin, u, t)
    ref = control.forced_response(lin, t, np.tile(u[:, None], (1, t.size))).outputs.T
    assert np.abs(r.outputs - ref).max() <= 1e-6 * np.abs(ref).max()


@pytest.mark.parametrize(("norm", "dual"), [(2, 2), (np.inf, 1), (1, np.inf)])
def test_defective_nadir_against_brute_force(norm, dual):
    """No eigenvector basis: the time-domain search with the Lyapunov tail bound."""
    lin = _defective()
    t = np.linspace(0.0, 40.0, 8001)
    S = _brute_table(lin, t)
    brute = 0.2 * np.linalg.norm(S, ord=dual, axis=2)
    res = nc.worst_case_nadir(lin, rho=0.2, norm=norm, output="pu", dt=0.05)
    assert res.method == "timedomain" and res.certified and res.upper_bound >= res.value
    assert res.value >= brute.max() * (1 - 1e-6)
    assert res.value == pytest.approx(brute.max(), rel=1e-3)
    assert res.bus == lin.output_labels[int(np.argmax(brute.max(axis=0)))]
    y = nc.step_response(lin, res.disturbance, t).outputs
    assert np.abs(y).max() == pytest.approx(res.value, rel=1e-3)
    with pytest.warns(nc.AccuracyWarning, match="end of the window"):   # still rising
        window = nc.worst_case_nadir(lin, rho=0.2, norm=norm, horizon=10.0, dt=0.05)
    assert window.method == "timedomain" and window.certified and window.horizon == 10.0
    assert window.value == pytest.approx(brute[t <= 10.0].max(), rel=1e-3)


def test_defective_given_step_and_budget():
    lin = _defective()
    t = np.linspace(0.0, 40.0, 8001)
    u = np.array([0.0, -0.2, 0.0, 0.1, 0.0, 0.0])
    res = nc.worst_case_nadir(lin, disturbance_set=u, dt=0.05)
    y = nc.step_response(lin, u, t).outputs
    assert res.method == "timedomain" and res.certified
    assert res.value == pytest.approx(np.abs(y).max(), rel=1e-6)
    box = nc.worst_case_nadir(lin, bounds=[0.0, 0.2, 0.0, 0.1, 0.0, 0.0], rho=0.3, dt=0.1)
    assert box.certified and np.all(box.disturbance <= 1e-12)
    S = _brute_table(lin, t)
    verts = [np.array(v) for v in ([0, -0.2, 0, 0, 0, 0], [0, 0, 0, -0.1, 0, 0],
                                   [0, -0.2, 0, -0.1, 0, 0])]
    assert box.value == pytest.approx(max(np.abs(S @ v).max() for v in verts), rel=1e-3)


def test_timedomain_equals_modal_on_a_diagonalisable_model():
    lin = _defective(split=0.05)                 # distinct eigenvalues: the modal form works
    modal = nc.worst_case_nadir(lin, rho=0.2)
    td = nc.worst_case_nadir(lin, rho=0.2, method="timedomain", dt=0.05)
    assert modal.method == "statespace" and td.method == "timedomain"
    assert modal.certified and td.certified
    assert td.value == pytest.approx(modal.value, rel=1e-6)
    assert td.bus == modal.bus and td.time == pytest.approx(modal.time, abs=1e-4)


def test_lyapunov_tail_bounds_the_rest():
    from netcoh.analysis.lti_timedomain import LyapunovTail, _DenseRows, _Realised
    from netcoh.analysis.nadir_sets import NormBall

    lin = _defective()
    rows = _DenseRows(_Realised(as_lti(lin)), value=NormBall(1.0, 2).value, unit_sup=1.0)
    tail = LyapunovTail(rows)
    assert tail.ok and np.allclose(tail.steady, control.dcgain(lin), atol=1e-10)
    t = np.linspace(0.0, 60.0, 3001)
    S = _brute_table(lin, t)
    Z, R = rows.start(np.arange(3))
    for a, H in ((0.0, 0.0), (0.0, 2.0), (2.0, 8.0)):
        Z, R = rows.advance(Z, R, H - a)
        bound = tail.bound(Z, NormBall(1.0, 2))
        late = np.linalg.norm(S[t >= H] - tail.steady[None], axis=2).max(axis=0)  # (outputs,)
        assert np.all(late <= bound)
        assert np.all(bound < 50 * late)           # and not vacuous


def _peaks(split=0.0):
    """A stable model with 2 inputs and 4 outputs for threshold flags (a 0.01 p.u. ball at
    50 Hz): ``osc`` and ``big`` overshoot to their peak at t = 0.75 s, between the points of
    a 0.5 s grid (``big`` is the worst bus); ``chain``, a Jordan block of size 3 (``split``
    spreads it into distinct eigenvalues), rises to a steady state just below 0.75 Hz;
    ``slow`` (a lag of 20 s) rises to one just above it, late."""
    w2 = (np.pi / 0.75) ** 2 + 0.25                     # damping 0.5 /s: peak at pi / w_d
    A = np.zeros((6, 6))
    A[:2, :2] = [[0.0, 1.0], [-w2, -1.0]]
    A[2:5, 2:5] = -0.3 * np.eye(3) + np.diag([0.3, 0.3], 1) + np.diag(split * np.arange(3))
    A[5, 5] = -0.05
    B = np.zeros((6, 2))
    B[1, 0], B[4], B[5, 1] = w2, [0.6, 0.8], 0.05
    C = np.zeros((4, 6))
    C[0, 0], C[1, 0], C[2, 2], C[3, 5] = 1.0, 3.0, 1.0, 1.0
    steady = 0.01 * 50.0 * np.linalg.norm(C @ np.linalg.solve(A, B), axis=1)
    C[2:] *= (np.array([0.74, 0.775]) / steady[2:])[:, None]
    lin = control.ss(A, B, C, np.zeros((4, 2)), inputs=["u0", "u1"],
                     outputs=["osc", "big", "chain", "slow"])
    lin.f_hz = 50.0
    return lin


@pytest.mark.parametrize("split", [0.0, 0.05])
@pytest.mark.parametrize("horizon", [None, 5.0])
def test_timedomain_flags_between_grid_points(split, horizon):
    """A bus above the threshold only between grid points is flagged; the steady states
    decide the rest (with horizon=None): the flags are those of a dense grid, and those of
    the modal state-space path where it runs."""
    lin = _peaks(split)
    thr, dt = 0.75, 0.5
    end = 400.0 if horizon is None else horizon
    t = np.linspace(0.0, 10.0, 2001) if horizon is None else np.linspace(0.0, end, 2001)
    if horizon is None:                 # and over the slow rises
        t = np.concatenate([t, np.linspace(10.0, end, 2001)[1:]])
    A, B, C = lin.A, lin.B, lin.C
    S = np.stack([C @ np.linalg.solve(A, (la.expm(A * x) - np.eye(6)) @ B) for x in t])
    F = 0.01 * 50.0 * np.linalg.norm(S, axis=2)        # (T, outputs), Hz
    steady = 0.01 * 50.0 * np.linalg.norm(C @ np.linalg.solve(A, B), axis=1)
    if horizon is None:                 # settled by the grid's end: nothing later is higher
        assert np.abs(F[-1] - steady).max() <= 1e-6
    sup = F.max(axis=0) if horizon is not None else np.maximum(F.max(axis=0), steady)
    assert np.all(np.abs(sup - thr) >= 0.01 * thr)     # clear of the threshold either way
    dense = tuple(b for b, v in zip(lin.output_labels, sup) if v > thr)
    coarse = F[:2001:int(round(dt / t[1]))].max(axis=0)   # the search's grid (every 0.5 s)
    assert coarse[0] < thr < sup[0]     # the grid alone misses `osc`
    assert "osc" in dense and "chain" not in dense
    res = nc.worst_case_nadir(lin, rho=0.01, dt=dt, horizon=horizon, threshold_hz=thr,
                              method="timedomain")
    assert res.method == "timedomain" and res.certified
    assert res.flagged == dense
    if split:
        modal = nc.worst_case_nadir(lin, rho=0.01, dt=dt, horizon=horizon, threshold_hz=thr,
                                    method="statespace")
        assert modal.flagged == res.flagged


def test_timedomain_flags_an_output_the_tail_bound_cannot_clear(monkeypatch):
    """An output whose tail bound still reaches the threshold when the search stops is
    counted as flagged, with a warning (here the search is stopped after its first window;
    `chain` rises to 0.74 Hz, below the threshold, too slowly to be cleared by then)."""
    import netcoh.analysis.lti_timedomain as ltd

    lin = _peaks()
    kw = dict(rho=0.01, dt=0.5, threshold_hz=0.75, method="timedomain")
    assert "chain" not in nc.worst_case_nadir(lin, **kw).flagged
    monkeypatch.setattr(ltd, "_MAX_HORIZON_S", 1.0)
    with pytest.warns(nc.AccuracyWarning) as caught:
        res = nc.worst_case_nadir(lin, **kw)
    said = sorted(str(w.message) for w in caught)
    assert len(said) == 2 and said[0].startswith("1 output(s) could not be shown below")
    assert said[1].startswith("the worst-case nadir could not be certified")   # cut short too
    assert "chain" in res.flagged and res.horizon == 10.0
