"""Spectral clustering: checks 17, 18, 20, 21 of specs/power.md and solver robustness."""

import warnings

import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse as sp

import netcoh as nc
from netcoh.exceptions import DisconnectedError, InputError, NetcohTypeError, NetcohWarning
from netcoh.reduction.clustering import laplacian_eigs, spectral_clustering

Q3 = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]
W3 = [[20, 0.4, 0.8], [0.4, 20, 0.7], [0.8, 0.7, 20]]


def two_block(seed, p=0.6, q=0.1, wp=5.0, wq=0.5, sizes=(30, 20)):
    return nc.laplacian.weighted_sbm(list(sizes), [[p, q], [q, p]], [[wp, wq], [wq, wp]],
                                     rng=seed)


def ideal_block(na, nb, alpha, beta):
    n = na + nb
    lab = np.repeat([0, 1], [na, nb])
    A = np.where(lab[:, None] == lab[None, :], alpha, beta).astype(float)
    return np.diag(A.sum(1)) - A, lab, n


def test_check17_ideal_block_spectrum():
    na, nb, alpha, beta = 12, 8, 3.0, 0.2
    L, lab, n = ideal_block(na, nb, alpha, beta)
    res = spectral_clustering(L, 2)
    assert res.method == "bisection"
    np.testing.assert_allclose(res.eigenvalues[1], n * beta, rtol=1e-12)
    np.testing.assert_allclose(res.eigenvalues[2], nb * alpha + na * beta, rtol=1e-12)
    v2 = np.concatenate([np.full(na, np.sqrt(nb / na)), -np.full(nb, np.sqrt(na / nb))])
    v2 /= np.sqrt(n)
    got = res.eigenvectors[:, 1]
    np.testing.assert_allclose(np.abs(got @ v2), 1.0, atol=1e-12)
    assert res.labels.tolist() == lab.tolist()


def test_check18_two_block_wsbm_bisection_recovers_partition():
    hits = 0
    for seed in range(10):
        L, truth = two_block(seed)
        res = spectral_clustering(L)          # k chosen by the eigengap
        hits += res.n_clusters == 2 and res.labels.tolist() == truth.tolist()
    assert hits >= 9
    assert res.chosen_by == "eigengap" and "λ3/λ2" in res.reason


def test_check20_three_block_wsbm_recovered():
    hits = 0
    for seed in range(10):
        L, truth = nc.laplacian.weighted_sbm([20, 40, 20], Q3, W3, rng=seed)
        res = spectral_clustering(L, random_state=seed)
        hits += res.n_clusters == 3 and res.labels.tolist() == truth.tolist()
    assert hits >= 9
    assert res.method == "kmeans"


def test_agreement_with_sklearn_on_block_models():
    import sklearn.cluster as sklearn_cluster
    from sklearn.metrics import adjusted_rand_score

    ours, theirs = [], []
    for seed in range(5):
        L, truth = nc.laplacian.weighted_sbm([20, 40, 20], Q3, W3, rng=seed)
        A = -L + np.diag(np.diag(L))
        ours.append(adjusted_rand_score(truth, spectral_clustering(L, 3).labels))
        sc = sklearn_cluster.SpectralClustering(3, affinity="precomputed", random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs.append(adjusted_rand_score(truth, sc.fit_predict(A)))
    assert np.mean(ours) >= np.mean(theirs) - 1e-12


def test_check21_laplacian_concentration():
    # Proposition 3: ||L_A - L_EA|| <= 8 sqrt(Δ log(4n/δ)) with prob >= 1 - δ (max|W| <= 1)
    sizes, P, Wt = [60, 40], np.array([[0.6, 0.1], [0.1, 0.6]]), np.array([[1.0, 0.1], [0.1, 1.0]])
    n, delta = sum(sizes), 0.1
    lab = np.repeat([0, 1], sizes)
    EA = (P * Wt)[lab][:, lab]
    np.fill_diagonal(EA, 0.0)
    LE = np.diag(EA.sum(1)) - EA
    Delta = np.max(((P * Wt**2)[lab][:, lab]).sum(1))
    bound = 8 * np.sqrt(Delta * np.log(4 * n / delta))
    ok = 0
    for seed in range(20):
        L, _ = nc.laplacian.weighted_sbm(sizes, P, Wt, rng=seed)
        ok += np.linalg.norm(L - LE, 2) <= bound
    assert ok >= (1 - delta) * 20


@pytest.mark.parametrize("solver", ["dense", "shift-invert", "lobpcg"])
def test_solvers_agree_on_sparse_graph(solver):
    L, truth = nc.laplacian.weighted_sbm([150, 100, 110], Q3, W3, rng=5, sparse=True)
    w_ref = la.eigvalsh(L.toarray(), subset_by_index=[0, 4])
    w, V, used = laplacian_eigs(L, 5, solver=solver, random_state=0)
    assert used == solver
    np.testing.assert_allclose(w[1:], w_ref[1:], rtol=1e-7)
    np.testing.assert_allclose(V.T @ V, np.eye(5), atol=1e-8)
    np.testing.assert_allclose(V[:, 0], 1 / np.sqrt(L.shape[0]), atol=1e-14)
    res = spectral_clustering(L, solver=solver)
    assert res.n_clusters == 3 and res.labels.tolist() == truth.tolist()


def test_deterministic_and_canonical_labels():
    L, truth = nc.laplacian.weighted_sbm([20, 40, 20], Q3, W3, rng=3)
    a = spectral_clustering(L, 3, random_state=7)
    b = spectral_clustering(L, 3, random_state=7)
    assert a.labels.tolist() == b.labels.tolist()
    assert a.labels[0] == 0
    assert not a.labels.flags.writeable
    assert np.asarray(a).tolist() == a.labels.tolist()
    assert a.sizes.tolist() == [20, 40, 20]
    assert [p.size for p in a.partition] == [20, 40, 20]
    assert a.to_frame()["area"].tolist() == a.labels.tolist()


def test_disconnected_graph_reports_components():
    L1, _ = two_block(0)
    L = sp.block_diag([sp.csr_matrix(L1), sp.csr_matrix(nc.laplacian.complete(4))]).tocsr()
    with pytest.warns(NetcohWarning, match="connected components"):
        res = spectral_clustering(L)
    assert res.chosen_by == "components" and res.n_clusters == 2
    assert len(res.components) == 2
    assert sorted(len(c) for c in res.components) == [4, 50]
    with pytest.warns(NetcohWarning):
        res3 = spectral_clustering(L, 3, solver="shift-invert")
    # no area spans two components
    comp = np.zeros(L.shape[0], int)
    comp[res3.components[1]] = 1
    for idx in res3.partition:
        assert np.unique(comp[idx]).size == 1
    with pytest.raises(DisconnectedError) as info:
        spectral_clustering(L, 1)
    assert len(info.value.components) == 2


def test_nearly_disconnected_graph_with_sparse_solver():
    # two rings joined by one very weak edge: λ2 ~ 1e-9
    n = 800
    A = sp.lil_matrix((2 * n, 2 * n))
    for off in (0, n):
        for i in range(n):
            A[off + i, off + (i + 1) % n] = 1.0
            A[off + (i + 1) % n, off + i] = 1.0
    A[0, n] = A[n, 0] = 1e-9
    L = nc.laplacian.from_adjacency(A.tocsr())
    res = spectral_clustering(L, 2, solver="shift-invert")
    assert sorted(res.sizes.tolist()) == [n, n]
    assert res.labels[: n].tolist() == [0] * n


def test_inertia_weighting_matches_generalized_eigenproblem():
    rng = np.random.default_rng(0)
    L, truth = two_block(1)
    n = L.shape[0]
    m = rng.uniform(0.05, 0.5, n)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(m, 0.3))
    res = spectral_clustering(sys, 2, weighting="inertia")
    assert res.weighting == "inertia"
    w_ref = la.eigh(L, np.diag(m), eigvals_only=True, subset_by_index=[0, 2])
    np.testing.assert_allclose(res.eigenvalues[1:3], w_ref[1:3], rtol=1e-10)
    assert res.labels.tolist() == truth.tolist()
    same = spectral_clustering(L, 2, weighting="inertia", inertia=m)
    assert same.labels.tolist() == res.labels.tolist()


@pytest.mark.parametrize(
    "kwargs, err",
    [
        (dict(n_clusters=51), InputError),
        (dict(n_clusters=0), InputError),
        (dict(n_clusters=2.0), NetcohTypeError),
        (dict(weighting="degree"), InputError),
        (dict(weighting="inertia"), InputError),          # bare L without inertia
        (dict(solver="amg"), InputError),
    ],
)
def test_bad_clustering_input(kwargs, err):
    L, _ = two_block(0)
    with pytest.raises(err):
        spectral_clustering(L, **kwargs)


def test_not_a_laplacian():
    with pytest.raises(InputError, match="zero row sums"):
        spectral_clustering(np.array([[1.0, -0.5], [-0.5, 1.0]]))
