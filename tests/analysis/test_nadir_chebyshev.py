"""The eigen-free Chebyshev path of the worst-case nadir against the dense modal closed form."""

import networkx as nx
import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse as sp

import netcoh as nc
from netcoh.analysis import nadir_chebyshev_bounds
from netcoh.analysis.nadir_chebyshev import ChebyshevSwing
from netcoh.analysis.nadir_chebyshev_bounds import moment_bound, square_weights, window_bound
from netcoh.exceptions import AccuracyWarning, InputError


def _system(n, seed, spread=(50.0, 1000.0), sparse=True, k=6):
    rng = np.random.default_rng(seed)
    G = nx.connected_watts_strogatz_graph(n, k, 0.1, seed=seed)
    for u, v in G.edges:
        G[u][v]["weight"] = 2 * np.pi * 50 * rng.uniform(5.0, 50.0)
    m = rng.uniform(*spread, n)
    return nc.NetworkSystem.from_graph(G, nodal=nc.nodal.swing(m, m * 16 / 4.38), sparse=sparse)


@pytest.mark.parametrize("n, seed", [(50, 0), (120, 1), (300, 2), (500, 3)])
def test_equals_dense_modal_path(n, seed):
    sys = _system(n, seed)
    cheb = nc.worst_case_nadir(sys, rho=0.5, dt=0.1, horizon=1.0, method="chebyshev")
    ref = nc.worst_case_nadir(sys, rho=0.5, dt=0.1, horizon=1.0, method="modal")
    assert cheb.method == "chebyshev" and ref.method == "modal"
    assert cheb.certified and ref.certified
    assert cheb.value == pytest.approx(ref.value, rel=2e-6)
    assert cheb.bus == ref.bus
    assert cheb.upper_bound >= ref.value * (1 - 1e-9)
    assert cheb.grid_value == pytest.approx(ref.grid_value, rel=1e-9)
    # the worst disturbance is feasible and reproduces the value at the worst bus
    assert np.linalg.norm(cheb.disturbance) == pytest.approx(0.5, rel=1e-12)
    model = nc.analysis.nadir.build_modal_model(sys)[0]
    y = model.rows([cheb.bus_index], [cheb.time])[0] @ cheb.disturbance
    assert y == pytest.approx(-cheb.value, rel=1e-8)
    assert np.allclose(cheb.trajectory, model.response(cheb.disturbance, cheb.times), atol=1e-12)


def test_worst_bus_need_not_be_lightest():
    # a light machine hidden among stiff lines responds less than a slightly heavier one
    # on weak lines: the search must not stop at the lightest machine
    rng = np.random.default_rng(7)
    n = 80
    G = nx.connected_watts_strogatz_graph(n, 4, 0.2, seed=7)
    for u, v in G.edges:
        G[u][v]["weight"] = 300.0
    m = rng.uniform(200.0, 1000.0, n)
    m[0] = 60.0
    m[40] = 80.0
    for v in G[0]:
        G[0][v]["weight"] = 30_000.0
    sys = nc.NetworkSystem.from_graph(G, nodal=nc.nodal.swing(m, m * 16 / 4.38), sparse=True)
    cheb = nc.worst_case_nadir(sys, rho=0.5, dt=0.1, horizon=1.0, method="chebyshev")
    ref = nc.worst_case_nadir(sys, rho=0.5, dt=0.1, horizon=1.0, method="modal")
    assert ref.bus_index != int(np.argmin(m))
    assert cheb.bus == ref.bus
    assert cheb.value == pytest.approx(ref.value, rel=2e-6)


def test_full_table_and_per_bus_on_request():
    sys = _system(60, 4)
    cheb = nc.worst_case_nadir(sys, rho=0.5, dt=0.1, horizon=1.0, method="chebyshev")
    ref = nc.worst_case_nadir(sys, rho=0.5, dt=0.1, horizon=1.0, method="modal", full_table=True)
    assert np.allclose(cheb.table, ref.table, rtol=1e-9, atol=1e-15)
    assert np.allclose(cheb.per_bus[np.arange(60) != ref.bus_index],
                       ref.per_bus[np.arange(60) != ref.bus_index], rtol=1e-9)


def test_chebyshev_error_bound_holds():
    sys = _system(40, 5)
    r = np.asarray(sys.nodal.params["m"]) / np.mean(sys.nodal.params["m"])
    m, d = np.mean(sys.nodal.params["m"]), np.mean(sys.nodal.params["d"])
    L = sys.laplacian.toarray()
    for tol in (1e-2, 1e-5, 1e-11):
        op = ChebyshevSwing(L, r, m, d, 1.0, 1.0, tol=tol)
        # the true error of the expansion at the exact spectrum, against the closed form
        lam, V = la.eigh(op.Ls.toarray())
        t = np.linspace(0.0, 1.0, 21)
        C = op.coefficients(t)
        x = 2.0 * lam / op.lam_max - 1.0
        p = np.polynomial.chebyshev.chebval(x, C.T)          # (T, n) interpolant at lam
        err = np.abs(p - op.h(t, lam)).max()
        assert err <= op.error
        # and the columns of S(t) themselves
        S = op.columns(np.arange(40), t)
        Sx = np.einsum("ik,tk,jk->tij", V / np.sqrt(r)[:, None], op.h(t, np.maximum(lam, 0)),
                       V / np.sqrt(r)[:, None])
        assert np.abs(S - Sx).max() <= op.value_error(np.arange(40)).max() + 1e-12


def test_window_bound_bounds_every_bus():
    sys = _system(100, 6)
    cheb = nc.worst_case_nadir(sys, rho=1.0, dt=0.02, horizon=1.0, method="chebyshev")
    r = np.asarray(sys.nodal.params["m"]) / np.mean(sys.nodal.params["m"])
    m, d = np.mean(sys.nodal.params["m"]), np.mean(sys.nodal.params["d"])
    op = ChebyshevSwing(sys.laplacian, r, m, d, 1.0, 1.0)
    U = window_bound(op)
    assert np.all(cheb.table.max(axis=1) <= U)


def test_homogeneous_complete_graph_closed_form():
    # equal machines, stiff network: the worst case is the even disturbance, rho/(d sqrt n)
    # (lambda_2 = n >= (n - 3/4) d^2 / m); at t = 20 s the other modes are down to 1e-5
    n, mm, dd, rho = 30, 2.0, 1.0, 0.5
    sys = nc.NetworkSystem.from_laplacian(sp.csr_matrix(nc.laplacian.complete(n)),
                                          nodal=nc.nodal.swing(mm, dd, n=n))
    with pytest.warns(AccuracyWarning, match="end of the window"):
        res = nc.worst_case_nadir(sys, rho=rho, dt=0.5, horizon=20.0, method="chebyshev")
    assert res.value == pytest.approx(rho / (dd * np.sqrt(n)) * (1 - np.exp(-dd * 20.0 / mm)),
                                      rel=1e-4)
    even = -np.ones(n) / np.sqrt(n)
    assert res.disturbance @ even / rho > 0.999          # (nearly) the even step


def test_auto_dispatch_keeps_small_and_dense_on_the_modal_path():
    sys = _system(200, 8)
    assert nc.worst_case_nadir(sys, rho=0.5, dt=0.1, horizon=1.0).method == "modal"


@pytest.mark.parametrize("kw, match", [
    (dict(norm=np.inf), "2-norm ball"),
    (dict(horizon=None), "explicit `horizon`"),
    (dict(full_table=True), "full_table=False"),
])
def test_bad_input_names_the_reason(kw, match):
    sys = _system(30, 9)
    args = dict(rho=0.5, dt=0.1, horizon=1.0, method="chebyshev")
    args.update(kw)
    with pytest.raises(InputError, match=match):
        nc.worst_case_nadir(sys, **args)


def test_not_swing_machines_rejected():
    L = nc.laplacian.ring_lattice(10, 1)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing_turbine(
        np.arange(1.0, 11.0), 1.0, 2.0, 5.0))
    with pytest.raises(InputError, match="proportional swing machines"):
        nc.worst_case_nadir(sys, rho=0.5, dt=0.1, horizon=1.0, method="chebyshev")


def test_uncoupled_network_rejected():
    with pytest.raises(InputError, match="`L` must couple the machines"):
        ChebyshevSwing(np.zeros((3, 3)), np.ones(3), 1.0, 1.0, 1.0, 1.0)


def _operator(sys):
    r = np.asarray(sys.nodal.params["m"]) / np.mean(sys.nodal.params["m"])
    m, d = np.mean(sys.nodal.params["m"]), np.mean(sys.nodal.params["d"])
    return ChebyshevSwing(sys.laplacian, r, m, d, 1.0, 1.0)


def _exact_sup(sys, n_t=2001):
    # sup over a fine grid of rho ||S(t) e_i|| from the dense modes (a lower bound of the sup)
    t = np.linspace(0.0, 1.0, n_t)
    res = nc.worst_case_nadir(sys, rho=1.0, dt=t[1], horizon=1.0, method="modal",
                              full_table=True)
    return res.table.max(axis=1)


@pytest.mark.parametrize("n, seed, spread", [(120, 11, (50.0, 1000.0)), (90, 12, (500.0, 500.0))])
def test_moment_bound_bounds_every_bus_and_beats_six_moments(n, seed, spread):
    sys = _system(n, seed, spread=spread)
    op = _operator(sys)
    F = _exact_sup(sys)
    t = np.linspace(0.0, 1.0, 41)
    B = moment_bound(op, np.arange(n), t)
    assert np.all(F <= B)
    assert np.all(B < window_bound(op))
    # early dropping below a level keeps every bound certified, and never sharpens it
    level = float(np.median(B))
    Bl = moment_bound(op, np.arange(n), t, level=level, block=16)
    assert np.all(F <= Bl)
    assert np.all(Bl >= B * (1 - 1e-12))
    assert np.all((Bl <= level) | np.isclose(Bl, B, rtol=1e-12))
    # a finer grid is sharper
    Bf = moment_bound(op, np.arange(n), np.linspace(0.0, 1.0, 401))
    assert np.all(F <= Bf) and np.median(Bf / B) < 1.0


def test_square_weights_give_the_square():
    rng = np.random.default_rng(0)
    C = rng.standard_normal((3, 7))
    x = np.cos(np.linspace(0.0, np.pi, 50))
    P = np.polynomial.chebyshev.chebval(x, C.T)
    assert np.allclose(np.polynomial.chebyshev.chebval(x, square_weights(C).T), P ** 2,
                       rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("steps", [2, 3, 5])
def test_moment_bound_after_few_steps_bounds_the_moments_not_yet_known(monkeypatch, steps):
    # every bus dropped after a few steps of the recurrence: the bound then rests on the
    # moments not yet computed being at most tau_0 (equal machines: no s_max slack)
    sys = _system(90, 12, spread=(500.0, 500.0))
    op = _operator(sys)
    F = _exact_sup(sys)
    t = np.linspace(0.0, 1.0, 801)
    full = moment_bound(op, np.arange(90), t)
    monkeypatch.setattr(nadir_chebyshev_bounds, "_steps", lambda K: {steps})
    early = moment_bound(op, np.arange(90), t, level=np.inf)
    assert np.all(F <= early)
    assert np.all(early >= full * (1 - 1e-12))
