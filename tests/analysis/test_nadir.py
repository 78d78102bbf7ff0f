"""Worst-case nadir: EPSR24 acceptance checks 22-27 and the extensions (continuous-time
supremum, heterogeneous machines, bounded/budget and unit-trip disturbance sets)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import netcoh as nc
from netcoh.analysis.nadir import THRESHOLDS_HZ, NadirResult, build_modal_model, worst_case_nadir
from netcoh.analysis.nadir_sets import BudgetBox, NormBall
from netcoh.exceptions import AccuracyWarning, InputError, NetcohTypeError


def ring_system(n=8, scale=1.0, r=None, m=2.0, d=1.0, seed=0):
    rng = np.random.default_rng(seed)
    L = nc.laplacian.ring_lattice(n, 1) + 0.0
    # random positive weights on the ring edges
    w = rng.uniform(0.5, 2.0, n)
    A = np.zeros((n, n))
    for i in range(n):
        j = (i + 1) % n
        A[i, j] = A[j, i] = w[i]
    L = scale * (np.diag(A.sum(1)) - A)
    r = np.ones(n) if r is None else np.asarray(r)
    return nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(m * r, d * r))


def ode_step(L, m, d, u, t, droop=None, tau=None):
    """Direct ODE of the swing(-turbine) network: m w' = -d w - q + u - L theta, theta' = w."""
    n = L.shape[0]
    turb = droop is not None

    def rhs(_, x):
        w, th = x[:n], x[n:2 * n]
        q = x[2 * n:] if turb else 0.0
        dw = (-d * w - q + u - L @ th) / m
        out = [dw, w]
        if turb:
            out.append((-q + droop * w) / tau)
        return np.concatenate(out)

    x0 = np.zeros(3 * n if turb else 2 * n)
    sol = solve_ivp(rhs, (0, t[-1]), x0, t_eval=t, rtol=1e-12, atol=1e-14, method="DOP853")
    return sol.y[:n].T


# -- check 22: modal decomposition == direct ODE -----------------------------------------

@pytest.mark.parametrize("kind", ["swing", "swing_turbine"])
def test_modal_equals_ode(kind):
    rng = np.random.default_rng(3)
    n = 6
    r = rng.uniform(0.5, 2.0, n)
    sys0 = ring_system(n, 3.0)
    L = np.asarray(sys0.laplacian)
    m, d = 2.0 * r, 1.0 * r
    if kind == "swing":
        g = nc.nodal.swing(m, d)
        droop = tau = None
    else:
        droop, tau = 5.0 * r, np.full(n, 3.0)
        g = nc.nodal.swing_turbine(m, d, droop, tau)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=g)
    model, used = build_modal_model(sys)
    assert used == "modal"
    u = rng.normal(size=n)
    t = np.linspace(0, 6, 121)
    y_modal = model.response(u, t)
    y_ode = ode_step(L, m, d, u, t, droop, tau)
    assert np.max(np.abs(y_modal - y_ode)) <= 1e-8 * np.max(np.abs(y_ode))


def test_modal_critical_damping_is_accurate():
    # lambda_k = d^2 / (4 m) for some mode: xi_k = 1 exactly
    m, d = 1.0, 2.0
    L = np.array([[1.0, -1.0], [-1.0, 1.0]]) * 0.5     # eigenvalue 1 = d^2/(4m)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(m, d, n=2))
    model, _ = build_modal_model(sys)
    t = np.linspace(0, 5, 51)
    y = model.response(np.array([1.0, 0.0]), t)
    y_ode = ode_step(L, np.full(2, m), np.full(2, d), np.array([1.0, 0.0]), t)
    assert np.max(np.abs(y - y_ode)) < 1e-10


# -- check 23: dual norms vs brute force ---------------------------------------------------

@pytest.mark.parametrize("norm", [2, np.inf, 1])
def test_dual_norm_matches_brute_force(norm):
    rng = np.random.default_rng(7)
    sys = ring_system(6, 2.0, r=rng.uniform(0.5, 2, 6))
    rho = 0.5
    res = worst_case_nadir(sys, rho=rho, norm=norm, horizon=None, dt=0.05)
    model, _ = build_modal_model(sys)
    # brute force over many feasible disturbances on the boundary of the ball
    U = rng.normal(size=(20000, 6))
    if norm == np.inf:
        U = np.sign(U) * rng.uniform(0.0, 1.0, U.shape) ** 0.1
    U = rho * U / np.linalg.norm(U, ord=norm, axis=1)[:, None]
    if norm == 1:     # add the vertices
        U = np.vstack([U, rho * np.eye(6), -rho * np.eye(6)])
    if norm == np.inf:
        U = np.vstack([U, rho * np.array(list(itertools.product([-1.0, 1.0], repeat=6)))])
    t = res.times[res.times <= 10.0]
    Y = np.abs(np.einsum("tij,kj->kti", model_matrix(model, t), U))
    brute = Y.max()
    assert brute <= res.value * (1 + 1e-9)                          # never exceeded
    assert brute >= res.table[:, : t.size].max() * (0.97 if norm == 2 else 1 - 1e-12)  # attained
    # the returned maximiser is feasible, on the boundary, and attains the value
    u = res.disturbance
    assert np.isclose(np.linalg.norm(u, ord=norm), rho, rtol=1e-12)
    y = model.response(u, np.array([res.time]))[0]
    assert np.isclose(abs(y[res.bus_index]), res.value, rtol=1e-10)
    assert y[res.bus_index] < 0                    # signed as a dip
    # table entries: F_it = rho ||S_i(t)||_dual
    S = model_matrix(model, t[:7])
    dual = {2: 2, np.inf: 1, 1: np.inf}[norm]
    assert np.allclose(res.table[:, :7], rho * np.linalg.norm(S, ord=dual, axis=2).T, rtol=1e-12,
                       atol=1e-15)


def model_matrix(model, t):
    n = model.n
    return model.rows(np.repeat(np.arange(n)[None], t.size, 0).ravel(),
                      np.repeat(t, n)).reshape(t.size, n, n)


# -- checks 24-26: analytical limits -------------------------------------------------------

def test_homogeneous_strongly_connected():
    n, m, d, rho = 6, 4.38, 16.0, 0.5
    base = ring_system(n, 1.0, m=m, d=d)
    lam2 = base.lambda2
    scale = 1.01 * (n - 0.75) * d * d / m / lam2
    sys = ring_system(n, scale, m=m, d=d)
    assert sys.lambda2 >= (n - 0.75) * d * d / m
    res = worst_case_nadir(sys, rho=rho)
    assert np.isclose(res.value, rho / (d * np.sqrt(n)), rtol=1e-6)
    u = res.disturbance
    assert np.allclose(np.abs(u), rho / np.sqrt(n), rtol=1e-5)
    assert np.all(np.sign(u) == np.sign(u[0]))
    assert res.certified


def test_isolated_buses():
    n, m, d, rho = 5, 2.0, 1.0, 0.5
    for norm in (1, 2):
        sys = ring_system(n, 1e-7, m=m, d=d)
        res = worst_case_nadir(sys, rho=rho, norm=norm, horizon=40.0)
        assert np.isclose(res.value, rho / d, rtol=1e-3)
        u = np.abs(res.disturbance)
        assert u.max() >= rho * (1 - 1e-3)          # concentrated on one bus
        assert np.sort(u)[-2] <= 1e-2 * rho


def test_heterogeneous_strongly_connected_limit():
    rng = np.random.default_rng(5)
    n, m, d, rho = 6, 3.0, 2.0, 0.5
    r = rng.uniform(0.3, 3.0, n)
    sys = ring_system(n, 1e5, r=r, m=m, d=d)
    res = worst_case_nadir(sys, rho=rho)
    # in terms of the representative unit: d_i = r_i d  ->  rho sqrt(n) / sum(d_i)
    assert np.isclose(res.value, rho * np.sqrt(n) / (d * r.sum()), rtol=1e-3)
    assert np.allclose(np.abs(res.disturbance), rho / np.sqrt(n), rtol=1e-2)


# -- check 27 and the continuous-time supremum ---------------------------------------------

def test_window_too_short_is_flagged():
    sys = ring_system(5, 1.0, m=10.0, d=0.5)          # slow: the nadir is far beyond 1 s
    with pytest.warns(AccuracyWarning, match="end of the window"):
        res = worst_case_nadir(sys, rho=0.5, dt=0.01, horizon=1.0)
    assert np.isclose(res.time, 1.0)
    full = worst_case_nadir(sys, rho=0.5)
    assert full.value > res.value


def test_value_equals_fine_simulation_and_beats_grid():
    rng = np.random.default_rng(11)
    n = 7
    r = rng.uniform(0.5, 2.0, n)
    sys = ring_system(n, 20.0, r=r, m=1.0, d=0.3)
    res = worst_case_nadir(sys, rho=0.5, dt=0.05, horizon=5.0)
    assert res.certified and res.value >= res.grid_value
    assert res.upper_bound <= res.value * (1 + 1e-6)
    # independent fine simulation of the returned disturbance (scipy ODE)
    L = np.asarray(sys.laplacian)
    t = np.linspace(max(res.time - 0.05, 0), res.time + 0.05, 2001)
    t_full = np.concatenate([[0.0], t]) if t[0] > 0 else t
    y = ode_step(L, 1.0 * r, 0.3 * r, res.disturbance, t_full)
    assert np.isclose(np.abs(y).max(), res.value, rtol=1e-6)
    # and a dense grid never beats it
    dense = worst_case_nadir(sys, rho=0.5, dt=0.001, horizon=5.0, n_refine=1)
    assert dense.grid_value <= res.value * (1 + 1e-9)


def test_heterogeneous_swing_turbine_statespace():
    rng = np.random.default_rng(2)
    n = 6
    g = nc.nodal.swing_turbine(m=rng.uniform(0.05, 0.5, n), d=rng.uniform(0.2, 0.5, n),
                               droop=1 / rng.uniform(5, 10, n), tau=rng.uniform(2, 10, n))
    sys = nc.NetworkSystem.from_laplacian(np.asarray(ring_system(n, 1.0).laplacian), nodal=g)
    res = worst_case_nadir(sys, rho=0.3, dt=0.05)
    assert res.method == "statespace" and res.certified
    t = np.linspace(0, max(res.time * 2, 1.0), 4001)
    if np.isfinite(res.time):
        t = np.sort(np.append(t, res.time))
    y = nc.step_response(sys, res.disturbance, t).outputs
    assert np.isclose(np.abs(y).max(), res.value, rtol=1e-4)
    assert np.isclose(np.linalg.norm(res.disturbance), 0.3)
    # table == exact step-response matrix from python-control-free expm simulation
    S = np.stack([nc.step_response(sys, np.eye(n)[j], res.times[:5]).outputs for j in range(n)], axis=2)
    assert np.allclose(res.table[:, :5], 0.3 * np.linalg.norm(S, axis=2).T, atol=1e-10)


# -- disturbance sets: budget box (vs cvxpy) and unit trips ---------------------------------

def test_budget_box_matches_cvxpy():
    import cvxpy as cp

    rng = np.random.default_rng(4)
    n = 7
    rows = rng.normal(size=(6, n))
    cap = rng.uniform(0.05, 0.3, n)
    box = BudgetBox(cap, 0.5, n)
    vals = box.value(rows)
    for s, v in zip(rows, vals):
        p = cp.Variable(n)
        cons = [p >= 0, p <= cap, cp.sum(p) <= 0.5]
        best = max(cp.Problem(cp.Maximize(s @ p), cons).solve(),
                   cp.Problem(cp.Maximize(-s @ p), cons).solve())
        assert np.isclose(v, best, rtol=1e-6, atol=1e-8)
        u = box.maximiser(s)
        assert np.all(-u >= -1e-12) and np.all(-u <= cap + 1e-12) and -u.sum() <= 0.5 + 1e-12
        assert np.isclose(abs(s @ u), v, rtol=1e-12)
    assert np.all(box.upper(rows) >= vals - 1e-12)


def test_budget_and_trips_in_nadir():
    sys = ring_system(6, 5.0, r=np.linspace(0.5, 2, 6))
    cap = np.array([0.1, 0.2, 0.05, 0.3, 0.1, 0.1])
    res = worst_case_nadir(sys, rho=0.4, bounds=cap, horizon=5.0)
    p = -res.disturbance
    assert np.all(p >= -1e-12) and np.all(p <= cap + 1e-12) and p.sum() <= 0.4 + 1e-9
    model, _ = build_modal_model(sys)
    assert np.isclose(np.abs(model.response(res.disturbance, [res.time])[0, res.bus_index]), res.value)
    trips = worst_case_nadir(sys, trips={"0": [0.05, 0.1], "3": 0.3}, horizon=5.0)
    u = trips.disturbance
    assert np.count_nonzero(u) == 1 and u.min() in (-0.1, -0.3)
    # brute force: each unit leaves the network (its node Kron-eliminated) and its output is
    # lost at its bus, simulated by an ODE on the post-trip model
    t = np.linspace(0.0, 5.0, 2001)
    best, where = 0.0, None
    L = np.asarray(sys.laplacian)
    r = np.linspace(0.5, 2, 6)
    for bus, pw in ((0, 0.05), (0, 0.1), (3, 0.3)):
        keep = np.delete(np.arange(6), bus)
        Lr = L[np.ix_(keep, keep)] - np.outer(L[keep, bus], L[bus, keep]) / L[bus, bus]
        y = ode_step(Lr, 2.0 * r[keep], r[keep], pw * L[keep, bus] / L[bus, bus], t)
        if np.abs(y).max() > best:
            best, where = np.abs(y).max(), keep[np.argmax(np.abs(y).max(axis=0))]
    assert trips.value == pytest.approx(best, rel=1e-3)
    assert trips.bus_index == where
    assert np.isnan(trips.per_bus[np.flatnonzero(u)[0]])        # the tripped unit is gone
    assert np.isnan(trips.trajectory[:, np.flatnonzero(u)[0]]).all()


# -- units, flags, result type, errors -----------------------------------------------------

def test_hz_flags_and_frame():
    sys = ring_system(5, 3.0)
    res = worst_case_nadir(sys, rho=0.05, f_hz=50.0, threshold_hz="gb")
    assert isinstance(res, NadirResult)
    assert np.isclose(res.value_hz, 50.0 * res.value)
    assert res.threshold_hz == THRESHOLDS_HZ["gb"] == 0.5
    df = res.to_frame()
    assert list(df.columns) == ["bus", "worst", "worst_hz", "time_s", "flagged"]
    assert set(df.loc[df.flagged, "bus"]) == set(res.flagged)
    assert np.all((df.worst_hz > 0.5) == df.flagged)
    assert np.isclose(df.worst.max(), res.value)
    with pytest.raises(InputError, match="`output`"):
        worst_case_nadir(sys, rho=0.05, output="furlongs")
    r2 = worst_case_nadir(sys, rho=0.05, output="rad/s", threshold_hz=1e-4)
    assert np.isclose(r2.value_hz, r2.value / (2 * np.pi))
    assert len(r2.flagged) == 5
    with pytest.raises(ValueError):
        res.table[0, 0] = 1.0
    assert res.table_frame().shape == res.table.shape


def test_plot_runs():
    import matplotlib

    matplotlib.use("Agg")
    res = worst_case_nadir(ring_system(4, 2.0), rho=0.1, threshold_hz=0.8, f_hz=50.0)
    assert res.plot() is not None
    assert res.plot_trajectory() is not None


def test_errors():
    sys = ring_system(4)
    with pytest.raises(InputError, match="`rho` must be positive"):
        worst_case_nadir(sys, rho=-1.0)
    with pytest.raises(InputError, match="`norm`"):
        worst_case_nadir(sys, rho=1.0, norm=3)
    with pytest.raises(InputError, match="`rho` must be given"):
        worst_case_nadir(sys)
    with pytest.raises(InputError, match="threshold_hz"):
        worst_case_nadir(sys, rho=1.0, threshold_hz="mars")
    with pytest.raises(NetcohTypeError):
        worst_case_nadir(np.eye(3), rho=1.0)
    undamped = nc.NetworkSystem.from_laplacian(np.asarray(sys.laplacian), nodal=nc.nodal.swing(1.0, 0.0, n=4))
    with pytest.raises(InputError, match="damping"):
        worst_case_nadir(undamped, rho=1.0)
    with pytest.raises(InputError, match="`method`"):
        worst_case_nadir(sys, rho=1.0, method="magic")


def test_does_not_warn_on_normal_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        worst_case_nadir(ring_system(5, 2.0), rho=0.5)


def test_norm_ball_parsing():
    assert NormBall(1.0, "inf").p == np.inf
    assert NormBall(1.0, 1).p == 1


def test_shapes_product_is_the_real_part_of_the_complex_one():
    """``Re(X @ P^T)`` by one real product over the modes with complex shapes, for complex
    and real coefficients, on a state-space model with real and complex modes and through
    a restricted model."""
    from netcoh.analysis.nadir_inputs import InputMap
    L = 20.0 * nc.laplacian.ring_lattice(5, 1)
    nodal = nc.nodal.swing_turbine([1.0, 2.0, 3.0, 5.0, 4.0], [1.0, 1.5, 2.0, 2.5, 1.0],
                                   [5.0, 8.0, 12.0, 20.0, 9.0], [2.0, 4.0, 6.0, 8.0, 3.0])
    model, _ = build_modal_model(nc.NetworkSystem.from_laplacian(L, nodal=nodal))
    real = np.all(model.P.imag == 0, axis=0)
    assert np.iscomplexobj(model.P) and 0 < real.sum() < real.size
    rng = np.random.default_rng(2)
    X = rng.standard_normal((7, real.size)) + 1j * rng.standard_normal((7, real.size))
    for x in (X, X.real):
        want = np.real(x @ model.P.T)
        np.testing.assert_allclose(model.shapes_product(x), want, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(InputMap(model, cols=[0, 2]).shapes_product(x), want,
                                   rtol=1e-13, atol=1e-13)


def test_slopes_are_kept_for_the_same_grid_only():
    from netcoh.analysis.nadir_search import Search
    sys_ = nc.NetworkSystem.from_laplacian(10.0 * nc.laplacian.ring_lattice(5, 1),
                                          nodal=nc.nodal.swing([1.0, 2.0, 3.0, 4.0, 5.0], 1.0))
    engine = Search(build_modal_model(sys_)[0], NormBall(0.5, 2), 1e-6)
    t = np.linspace(0.0, 2.0, 9)
    K1, K2 = engine.slopes(t)
    again = engine.slopes(t.copy())
    assert again[0] is K1 and again[1] is K2 and not K1.flags.writeable
    t2 = np.linspace(0.0, 2.0, 17)
    fresh = Search(build_modal_model(sys_)[0], NormBall(0.5, 2), 1e-6).slopes(t2)
    for got, want in zip(engine.slopes(t2), fresh):
        assert got.shape == (5, 16)
        np.testing.assert_allclose(got, want, rtol=1e-14)
