"""Structure-preserving reduction: checks 17-20 of specs/power.md, round trips, bad input."""

import json
import warnings

import control
import numpy as np
import pytest

import netcoh as nc
from netcoh.exceptions import CaseFileError, DisconnectedError, InputError, NetcohWarning, SolverError
from netcoh.reduction import (
    load_reduced,
    load_reduced_partition,
    reduce_network,
    refine_partition,
    save_reduced,
)
from netcoh.reduction.clustering import spectral_clustering

pytestmark = pytest.mark.filterwarnings("ignore::netcoh.exceptions.AccuracyWarning")

Q3 = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]
W3 = [[20, 0.4, 0.8], [0.4, 20, 0.7], [0.8, 0.7, 20]]


def acc23_nodes(n, seed):
    """ACC23 generator distributions: m~U[.05,.5], d~U[.2,.5], r~U[5,10], tau~U[2,10]."""
    rng = np.random.default_rng(seed)
    return nc.nodal.swing_turbine(rng.uniform(0.05, 0.5, n), rng.uniform(0.2, 0.5, n),
                                  1 / rng.uniform(5, 10, n), rng.uniform(2, 10, n))


def block_ideal(sizes, B):
    """L = diag(A 1) - A with A = P B P^T (diagonal included; it cancels)."""
    lab = np.repeat(np.arange(len(sizes)), sizes)
    A = np.asarray(B, float)[lab][:, lab]
    return np.diag(A.sum(1)) - A, lab


def rank_k(system, V, lam, s):
    ginv = system.nodal.inverse(s)
    f = system.coupling(s)[:, 0]
    H = np.einsum("ia,fi,ib->fab", V, ginv, V) + f[:, None, None] * np.diag(lam)[None]
    return np.einsum("ia,fab,jb->fij", V, np.linalg.inv(H), V)


def test_check17_theorem2_two_block_ideal_exact():
    L, lab = block_ideal([12, 8], [[3.0, 0.2], [0.2, 3.0]])
    sys = nc.NetworkSystem.from_laplacian(L, nodal=acc23_nodes(20, 0))
    red = reduce_network(sys, lab)
    lam2 = sys.lambda2
    np.testing.assert_allclose(lam2, 20 * 0.2, rtol=1e-12)
    np.testing.assert_allclose(red.laplacian, lam2 * 12 * 8 / 20 * np.array([[1, -1], [-1, 1]]),
                               rtol=1e-12, atol=1e-12)
    w = np.logspace(-2, 1, 7)
    T2 = rank_k(sys, red.eigenvectors, red.eigenvalues[:2], 1j * w)
    lifted = np.asarray(red.transfer_matrix(w))
    assert np.max(np.abs(T2 - lifted)) < 1e-10 * np.max(np.abs(T2))
    err = red.error(w)
    assert np.max(err.lift_gap) < 1e-10


def test_check17_acc23_theorem1_bound_on_general_graph():
    L, lab = nc.laplacian.weighted_sbm([30, 20], [[0.6, 0.1], [0.1, 0.6]], [[5, 0.5], [0.5, 5]],
                                       rng=0)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=acc23_nodes(50, 1))
    err = reduce_network(sys, lab).error(np.logspace(-3, 1, 25))
    holds = err.hypothesis_holds
    assert holds.sum() >= 10
    assert np.all(err.rank_k_error[holds] <= err.bound[holds])
    assert np.all(err.error[holds] <= err.bound[holds] + err.lift_gap[holds] + 1e-12)
    frame = err.to_frame()
    assert list(frame.columns) == ["omega_rad_s", "error", "rank_k_error", "bound", "lift_gap"]


def test_check18_more_coherent_for_denser_blocks():
    eta = 1.0
    w = np.logspace(-2, 0, 9)
    sup = {}
    for p in (0.6, 0.9):
        vals = []
        for seed in range(3):
            L, lab = nc.laplacian.weighted_sbm([30, 20], [[p, 0.1], [0.1, p]],
                                               [[5, 0.5], [0.5, 5]], rng=seed)
            sys = nc.NetworkSystem.from_laplacian(L, nodal=acc23_nodes(50, seed))
            vals.append(reduce_network(sys, spectral_clustering(sys, 2)).error(w)
                        .max_error(eta))
        sup[p] = np.mean(vals)
    assert sup[0.9] < sup[0.6]


def test_check19_refinement_properties():
    L, lab = nc.laplacian.weighted_sbm([20, 40, 20], Q3, W3, rng=2)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=acc23_nodes(80, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NetcohWarning)
        red = reduce_network(sys, lab)
    P = red.indicator().toarray()
    Vh = P @ red.S
    np.testing.assert_allclose(Vh.T @ Vh, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(Vh[:, 0], 1 / np.sqrt(80), atol=1e-12)
    Lk = np.asarray(red.laplacian)
    np.testing.assert_allclose(Lk @ np.ones(3), 0, atol=1e-10 * np.abs(Lk).max())
    np.testing.assert_allclose(Lk, Lk.T, atol=0)
    assert np.linalg.eigvalsh(Lk).min() > -1e-10 * np.abs(Lk).max()
    # L_k = (S^-1)^T Λ_k S^-1 (the paper's form) equals D S Λ S^T D
    Sinv = np.linalg.inv(red.S)
    np.testing.assert_allclose(Lk, Sinv.T @ np.diag(red.eigenvalues[:3]) @ Sinv,
                               rtol=1e-9, atol=1e-9 * np.abs(Lk).max())
    # the refinement is the best fit among feasible S: compare with P S for random feasible S
    resid = np.linalg.norm(red.eigenvectors - Vh)
    rng = np.random.default_rng(0)
    D = np.diag([20.0, 40.0, 20.0])
    u = np.sqrt(np.diag(D)) / np.sqrt(80)
    Qb = np.linalg.qr(np.column_stack([u, np.eye(3)]))[0][:, 1:3]
    for _ in range(20):
        O = np.linalg.qr(rng.standard_normal((2, 2)))[0]
        S = np.column_stack([np.ones(3) / np.sqrt(80), (Qb @ O) / np.sqrt(np.diag(D))[:, None]])
        assert np.linalg.norm(red.eigenvectors - P @ S) >= resid - 1e-12


def test_check19_k2_formula_on_random_graph():
    L, lab = nc.laplacian.weighted_sbm([30, 20], [[0.6, 0.1], [0.1, 0.6]], [[5, 0.5], [0.5, 5]],
                                       rng=4)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=acc23_nodes(50, 4))
    red = reduce_network(sys, lab)
    np.testing.assert_allclose(red.laplacian, sys.lambda2 * 30 * 20 / 50 * np.array(
        [[1, -1], [-1, 1]]), rtol=1e-10)


def test_check19_theorem3_k_block_ideal_exact():
    sizes = [5, 9, 6]
    B = [[8.0, 0.3, 0.1], [0.3, 8.0, 0.2], [0.1, 0.2, 8.0]]
    L, lab = block_ideal(sizes, B)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=acc23_nodes(20, 3))
    red = reduce_network(sys, lab)
    # block-ideal: V_k = P S exactly and L_k is the aggregated Laplacian P^T L P
    P = red.indicator().toarray()
    np.testing.assert_allclose(red.eigenvectors, P @ red.S, atol=1e-12)
    np.testing.assert_allclose(red.laplacian, P.T @ L @ P, atol=1e-10)
    w = np.logspace(-2, 1, 6)
    Tk = rank_k(sys, red.eigenvectors, red.eigenvalues[:3], 1j * w)
    lifted = np.asarray(red.transfer_matrix(w))
    assert np.max(np.abs(Tk - lifted)) <= 1e-10 * np.max(np.abs(Tk))


@pytest.mark.slow
def test_check20_error_shrinks_as_blocks_grow():
    w = np.logspace(-2, 0, 5)
    sups = []
    for scale in (1, 2, 4):
        sizes = [20 * scale, 40 * scale, 20 * scale]
        L, lab = nc.laplacian.weighted_sbm(sizes, Q3, W3, rng=11)
        sys = nc.NetworkSystem.from_laplacian(L, nodal=acc23_nodes(sum(sizes), 11))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            red = reduce_network(sys, spectral_clustering(sys, 3))
        assert red.sizes.tolist() in (sizes, sorted(sizes, reverse=True)) or \
            sorted(red.sizes.tolist()) == sorted(sizes)
        sups.append(red.error(w).max_error(1.0))
    assert sups[0] > sups[1] > sups[2], sups


def test_error_is_exact_deep_in_the_coherent_band():
    """The full, rank-k and reduced models all agree with g_hat 1 1^T to O(omega) at low
    frequency: their differences are taken between the incoherent parts, so they stay
    linear in omega down to 1e-9 rad/s and below the Theorem 1 bound (forming the models
    and subtracting gave errors several times too large there, above the bound)."""
    L, lab = nc.laplacian.weighted_sbm([5, 5], [[1, .3], [.3, 1]], [[4, .2], [.2, 4]], rng=1)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(np.linspace(.1, .5, 10), 0.5))
    w = np.array([1e-9, 1e-8, 1e-6])
    e = reduce_network(sys, lab).error(w)
    for x in (e.error, e.rank_k_error, e.lift_gap):
        np.testing.assert_allclose(x[:2] / w[:2], x[2] / w[2], rtol=1e-6)
    assert np.all(e.error <= e.bound) and np.all(e.rank_k_error <= e.bound)
    with pytest.raises(InputError, match="poles of the coupling"):
        reduce_network(sys, lab).error([0.0])


def test_nadir_of_a_reduced_network_through_its_statespace():
    """Exact aggregates of many distinct turbines in polynomial form are ill-conditioned
    for the modal search, which says so and points to to_statespace(); that realisation
    gives the nadir of the time-domain search."""
    rng = np.random.default_rng(0)
    L, truth = nc.laplacian.weighted_sbm([6, 8, 6], [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1],
                                                     [0.1, 0.1, 0.8]],
                                         [[20, 0.4, 0.8], [0.4, 20, 0.7], [0.8, 0.7, 20]], rng=rng)
    nodal = nc.nodal.swing_turbine(rng.uniform(0.1, 0.5, 20), 0.3, rng.uniform(5, 10, 20),
                                   rng.uniform(2, 8, 20))
    red = reduce_network(nc.NetworkSystem.from_laplacian(L, nodal=nodal), truth)
    try:
        nc.worst_case_nadir(red.system, rho=0.5)
    except SolverError as exc:
        assert "red.to_statespace()" in str(exc)
    via_ss = nc.worst_case_nadir(red.to_statespace(), rho=0.5)
    timed = nc.worst_case_nadir(red.system, rho=0.5, method="timedomain", horizon=20.0)
    assert via_ss.certified and via_ss.value == pytest.approx(timed.value, rel=1e-6)


def test_error_shrinks_with_stronger_coupling():
    L, lab = nc.laplacian.weighted_sbm([20, 40, 20], Q3, W3, rng=1)
    nd = acc23_nodes(80, 1)
    w = np.logspace(-2, 0, 5)
    sups = []
    for c in (1.0, 10.0, 100.0):
        sys = nc.NetworkSystem.from_laplacian(c * L, nodal=nd)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sups.append(reduce_network(sys, lab).error(w).max_error())
    assert sups[0] > sups[1] > sups[2]


def test_lifted_model_against_independent_aggregate_and_statespace():
    L, lab = nc.laplacian.weighted_sbm([6, 5, 7], Q3, W3, rng=9)
    nd = acc23_nodes(18, 9)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=nd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        red = reduce_network(sys, lab)
    w = np.logspace(-2, 1, 8)
    s = 1j * w
    ghat = np.column_stack([nc.aggregate_dynamics(nd.subset(np.flatnonzero(lab == a)))(s)
                            for a in range(3)])
    M = np.asarray(red.laplacian)[None] / s[:, None, None]
    M = M + np.einsum("fa,ab->fab", 1 / ghat, np.eye(3))
    Th = np.linalg.inv(M)
    np.testing.assert_allclose(red.reduced_transfer_matrix(w), Th, rtol=1e-10)
    lifted = np.asarray(red.transfer_matrix(w, inputs=[0, 17]))
    np.testing.assert_allclose(lifted[:, :, 1], Th[:, lab, lab[17]], rtol=1e-12)
    ss = red.to_statespace()
    assert isinstance(ss, control.StateSpace)
    resp = control.frequency_response(ss, w)
    np.testing.assert_allclose(np.moveaxis(resp.complex, -1, 0), Th, rtol=1e-8, atol=1e-12)
    big = red.to_statespace(lifted=True)
    assert big.ninputs == 18 and big.noutputs == 18
    assert np.all(np.linalg.eigvals(ss.A).real < 0)
    frame = red.to_frame()
    assert frame["n_nodes"].tolist() == [6, 5, 7]
    np.testing.assert_allclose(frame["m_total"], [nd.params["m"][lab == a].sum()
                                                  for a in range(3)])


def test_swing_nodes_aggregate_to_centre_of_inertia():
    L, lab = nc.laplacian.weighted_sbm([5, 4], [[1, 0.2], [0.2, 1]], [[4, 0.3], [0.3, 4]], rng=0)
    m = np.linspace(0.1, 0.9, 9)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(m, 0.2))
    red = reduce_network(sys, lab)
    assert red.system.nodal.kind == "swing"
    np.testing.assert_allclose(red.system.nodal.params["m"], [m[:5].sum(), m[5:].sum()])
    np.testing.assert_allclose(red.system.nodal.params["d"], [1.0, 0.8])


def test_machine_order_fits_low_order_areas():
    L, lab = nc.laplacian.weighted_sbm([20, 40, 20], Q3, W3, rng=0)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=acc23_nodes(80, 0))
    w = np.logspace(-2, 0, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exact = reduce_network(sys, lab)
        fitted = reduce_network(sys, lab, machine_order=3)
    assert not fitted.exact_aggregates
    assert fitted.system.nodal.orders.tolist() == [3, 3, 3]
    e_fit = fitted.error(w).max_error()
    e_exact = exact.error(w).max_error()
    assert e_fit < 0.2 * np.max(np.abs(np.asarray(exact.transfer_matrix(w))))
    assert e_exact <= e_fit


def test_json_round_trip(tmp_path):
    L, lab = nc.laplacian.weighted_sbm([20, 40, 20], Q3, W3, rng=0)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=acc23_nodes(80, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        red = reduce_network(sys, lab, machine_order=2)
    path = save_reduced(red, tmp_path / "red.json")
    back = load_reduced(path)
    assert isinstance(back, nc.NetworkSystem)
    assert back.labels == red.area_names
    np.testing.assert_allclose(back.laplacian, red.laplacian)
    s = 1j * np.logspace(-2, 1, 5)
    np.testing.assert_allclose(back.nodal(s), red.system.nodal(s))
    part = load_reduced_partition(path)
    assert part["0"] == "area0" and part["79"] == "area2"
    assert back.f_hz is None                         # no nominal frequency given
    # a grid's nominal frequency is kept by the reduction and by the file: Hz results work
    grid = nc.grids.load("kundur", warn=False).to_system()
    two = reduce_network(grid, nc.spectral_clustering(grid, n_clusters=2))
    assert grid.f_hz == two.system.f_hz == 60.0
    assert load_reduced(save_reduced(two, tmp_path / "k.json")).f_hz == 60.0
    assert np.isfinite(nc.worst_case_nadir(two.system, rho=0.5).value_hz)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(CaseFileError, match="format"):
        load_reduced(bad)
    bad.write_text("{not json")
    with pytest.raises(CaseFileError):
        load_reduced(bad)


def test_string_area_labels():
    L, lab = nc.laplacian.weighted_sbm([5, 4], [[1, 0.2], [0.2, 1]], [[4, 0.3], [0.3, 4]], rng=0)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(0.2, 0.2, n=9))
    red = reduce_network(sys, np.where(lab == 0, "north", "south"))
    assert red.area_names == ("north", "south")
    assert red.system.labels == ("north", "south")


def test_bad_reduction_input():
    L, lab = nc.laplacian.weighted_sbm([5, 4], [[1, 0.2], [0.2, 1]], [[4, 0.3], [0.3, 4]], rng=0)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(0.2, 0.2, n=9))
    with pytest.raises(InputError, match="9 entries"):
        reduce_network(sys, lab[:-1])
    with pytest.raises(InputError, match="empty areas"):
        reduce_network(sys, np.where(lab == 0, 0, 2))
    with pytest.raises(InputError, match="empty areas"):
        reduce_network(sys, np.arange(9) + 3)       # more areas than nodes
    with pytest.raises(InputError):
        reduce_network(sys, -np.ones(9, int))
    with pytest.raises(nc.NetcohTypeError):
        reduce_network(L, lab)
    # a path 0-1-2 ; area {0, 2} is not connected within itself
    Lp = nc.laplacian.from_edges(3, [(0, 1), (1, 2)])
    sp3 = nc.NetworkSystem.from_laplacian(Lp, nodal=nc.nodal.swing(1.0, 1.0, n=3))
    with pytest.raises(DisconnectedError, match="area 'area0'"):
        reduce_network(sp3, [0, 1, 0])
    red = reduce_network(sp3, [0, 1, 0], connected_areas=False)
    assert red.k == 2
    with pytest.raises(InputError):
        red.reduced_transfer_matrix([0.0])
    with pytest.raises(InputError):
        spectral_clustering(sp3, 4)


def test_refine_partition_single_area():
    V = np.ones((4, 1)) / 2
    np.testing.assert_allclose(refine_partition(V, np.zeros(4, int)), [[0.5]])
