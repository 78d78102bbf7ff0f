import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import netcoh as nc
from netcoh.network import laplacian


def test_ring_lattice_and_complete_spectra():
    n, k = 20, 3
    L = laplacian.ring_lattice(n, k)
    assert np.all(np.diag(L) == 2 * k)
    # circulant: eigenvalues 2k - 2 sum_j cos(2 pi j m / n)
    lam = np.sort([2 * k - 2 * sum(np.cos(2 * np.pi * j * m / n) for j in range(1, k + 1))
                   for m in range(n)])
    np.testing.assert_allclose(np.linalg.eigvalsh(L), lam, atol=1e-10)
    np.testing.assert_allclose(np.linalg.eigvalsh(laplacian.complete(7, 2.0))[1:], 14.0)


def test_kron_reduction_matches_schur_complement_and_sparse(rng):
    G = nx.connected_watts_strogatz_graph(30, 4, 0.3, seed=1)
    for u, v in G.edges:
        G[u][v]["weight"] = rng.uniform(0.5, 3)
    L, _ = laplacian.from_graph(G)
    keep = np.array([0, 5, 9, 17, 22])
    red = laplacian.kron_reduce(L, keep)
    elim = np.setdiff1d(np.arange(30), keep)
    ref = L[np.ix_(keep, keep)] - L[np.ix_(keep, elim)] @ np.linalg.solve(
        L[np.ix_(elim, elim)], L[np.ix_(elim, keep)])
    np.testing.assert_allclose(red, ref, atol=1e-12)
    np.testing.assert_allclose(red.sum(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(laplacian.kron_reduce(sp.csr_matrix(L), keep), red, atol=1e-12)


def test_power_flow_laplacian_hand_computed():
    # 3 buses, two lines b=10 and b=5; V = (1, 0.9, 1), theta = (0, -0.1, 0.05)
    L = laplacian.from_power_flow(3, [(0, 1), (1, 2)], [10.0, 5.0], [1.0, 0.9, 1.0],
                                  [0.0, -0.1, 0.05], sparse=False)
    l01 = 1.0 * 0.9 * 10.0 * np.cos(0.1)
    l12 = 0.9 * 1.0 * 5.0 * np.cos(-0.15)
    ref = np.array([[l01, -l01, 0], [-l01, l01 + l12, -l12], [0, -l12, l12]])
    np.testing.assert_allclose(L, ref, rtol=1e-14)


def test_weighted_sbm_expected_weights():
    sizes, Q, W = [40, 30], [[0.6, 0.1], [0.1, 0.6]], [[5.0, 0.5], [0.5, 5.0]]
    degs = []
    for seed in range(20):
        L, labels = laplacian.weighted_sbm(sizes, Q, W, rng=seed)
        degs.append(np.diag(L)[labels == 0].mean())
    expected = 39 * 0.6 * 5.0 + 30 * 0.1 * 0.5
    assert abs(np.mean(degs) - expected) < 0.03 * expected


@pytest.mark.parametrize("L, match", [
    (np.ones((2, 3)), "square"),
    (np.array([[1.0, -1.0], [-2.0, 2.0]]), "symmetric"),
    (np.array([[1.0, -1.0], [-1.0, 2.0]]), "zero row sums"),
    (np.array([[-1.0, 1.0], [1.0, -1.0]]), "non-positive off-diagonal"),
    (np.array([[np.nan, 0.0], [0.0, 0.0]]), "finite"),
])
def test_bad_laplacians_rejected(L, match):
    with pytest.raises(nc.InputError, match=match):
        nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(1.0, 1.0, n=L.shape[0]))


def test_disconnected_graph_lists_components():
    L = laplacian.from_edges(5, [(0, 1), (2, 3), (3, 4)])
    with pytest.raises(nc.DisconnectedError, match="2 components") as info:
        nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(1.0, 1.0, n=5),
                                        labels=list("abcde"))
    assert info.value.components == [["a", "b"], ["c", "d", "e"]]
    assert isinstance(info.value, ValueError)


def test_components_dense_and_sparse_paths_agree():
    """Dense matrices use frontier expansion, sparse ones scipy's connected_components."""
    from netcoh._validation import components_of

    rng = np.random.default_rng(0)
    for _ in range(100):
        n = int(rng.integers(1, 50))
        A = rng.random((n, n)) < rng.uniform(0.0, 0.15)
        A = A | A.T
        L = np.where(A, -1.0, 0.0)
        np.fill_diagonal(L, rng.random(n))
        dense = components_of(L)
        sparse = components_of(sp.csr_matrix(L))
        assert [c.tolist() for c in dense] == [c.tolist() for c in sparse]
        assert sorted(np.concatenate(dense).tolist()) == list(range(n))


def test_reduced_system_admits_negative_couplings_only_when_psd():
    from netcoh.network.system import reduced_system

    g = nc.nodal.swing(1.0, 1.0, n=3)
    # a path 0-1-2 with a weak negative chord 0-2: still PSD
    L = np.array([[2.0, -2.5, 0.5], [-2.5, 5.0, -2.5], [0.5, -2.5, 2.0]])
    sys = reduced_system(L, g, ["a", "b", "c"])
    assert sys.signed and sys.labels == ("a", "b", "c")
    assert not reduced_system(nc.laplacian.complete(3), g, ["a", "b", "c"]).signed
    with pytest.raises(nc.SolverError, match="negative eigenvalue"):
        reduced_system(np.array([[2.0, -4.0, 2.0], [-4.0, 5.0, -1.0], [2.0, -1.0, -1.0]]),
                       g, ["a", "b", "c"])
