"""The iterative incoherence norm (block Krylov on solves) against dense SVDs."""

import numpy as np
import pytest

import netcoh as nc
from tests.conftest import random_connected_laplacian, random_turbine_nodes


def dense_norms(system, w):
    gh = nc.aggregate_dynamics(system)(1j * w)
    out = []
    for j, wj in enumerate(w):
        M = system.system_matrix(1j * wj)
        M = M.toarray() if hasattr(M, "toarray") else M
        out.append(np.linalg.svd(np.linalg.inv(M) - gh[j], compute_uv=False)[0])
    return np.array(out)


def assert_matches_dense(system, w, got, rtol=1e-9):
    """``got`` equals the dense SVD to ``rtol``, up to the reference's own rounding.

    At low frequency the incoherence is a small difference of large matrices: the dense
    inverse carries an error of about ``eps cond(M) ||T||`` (BLAS-dependent), which can exceed
    ``rtol`` times the incoherence itself.
    """
    ref = dense_norms(system, w)
    slack = []
    for wj in w:
        M = system.system_matrix(1j * wj)
        M = M.toarray() if hasattr(M, "toarray") else M
        sv = np.linalg.svd(M, compute_uv=False)
        slack.append(np.finfo(float).eps * sv[0] / sv[-1] ** 2)     # eps cond(M) ||M^-1||
    np.testing.assert_array_less(np.abs(np.asarray(got) - ref), rtol * ref + np.array(slack))


@pytest.mark.parametrize("n, sparse", [(3, False), (40, False), (60, True)])
def test_iterative_norm_matches_svd(rng, n, sparse):
    L = random_connected_laplacian(n, rng, p=0.1)
    if sparse:
        import scipy.sparse as sp

        L = sp.csr_matrix(L)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=random_turbine_nodes(n, rng))
    w = np.logspace(-3, 1.5, 25)
    got = nc.incoherence(sys, 1j * w, method="iterative")
    assert_matches_dense(sys, w, got)


def test_dense_array_of_a_sparse_graph_is_factorised_sparse_and_agrees(rng):
    import scipy.sparse as sp

    from netcoh.analysis.coherence import _factorable_laplacian

    n = 200
    L = np.asarray(nc.laplacian.ring_lattice(n, 3), dtype=float)   # dense array, 3.5 % non-zero
    sys = nc.NetworkSystem.from_laplacian(L, nodal=random_turbine_nodes(n, rng))
    w = np.logspace(-3, 1.5, 6)
    fvals = sys.coupling(1j * w)[:, 0]
    assert sp.issparse(_factorable_laplacian(sys.laplacian, fvals, sys.nodal.inverse(1j * w)))
    assert_matches_dense(sys, w, nc.incoherence(sys, 1j * w, method="iterative"))


def test_fully_dense_network_uses_the_symmetric_factorisation_and_agrees(rng):
    from netcoh.analysis.coherence import _factorable_laplacian

    n = 120
    A = rng.uniform(0.1, 2.0, (n, n))
    A = np.triu(A, 1) + np.triu(A, 1).T                      # a Kron-reduced-like dense network
    L = np.diag(A.sum(1)) - A
    sys = nc.NetworkSystem.from_laplacian(L, nodal=random_turbine_nodes(n, rng))
    w = np.logspace(-3, 1.5, 6)
    fvals = sys.coupling(1j * w)[:, 0]
    assert isinstance(_factorable_laplacian(sys.laplacian, fvals, sys.nodal.inverse(1j * w)),
                      np.ndarray)
    assert_matches_dense(sys, w, nc.incoherence(sys, 1j * w, method="iterative"))


@pytest.mark.parametrize("method", ["dense", "iterative"])
def test_incoherence_is_continuous_through_zeros_of_the_nodes(method):
    """At a zero common to every ``g_i``, ``T = 0`` and ``g_hat = 0``: the incoherence is 0 and
    its neighbours tend to it; at a zero of one node only it is the limit from either side."""
    import control as ct

    from netcoh.analysis.coherence import incoherence

    L = nc.laplacian.complete(4)
    common = nc.nodal.from_tf([ct.tf([1, 0, 1], [m, 1, 2]) for m in (1, 2, 3, 4)])
    system = nc.NetworkSystem.from_laplacian(L, nodal=common)
    eps = 1e-7
    got = incoherence(system, [1j, 1j * (1 + eps), 1j * (1 - eps)], method=method)
    assert got[0] == 0.0
    assert np.all(np.isfinite(got)) and 0 < got[1] < 1e-5 and 0 < got[2] < 1e-5
    one = nc.nodal.from_tf([ct.tf([1, 0, 1], [1, 1, 2])] + [ct.tf([1], [m, 1]) for m in (2, 3, 4)])
    system = nc.NetworkSystem.from_laplacian(L, nodal=one)
    got = incoherence(system, [1j, 1j * (1 + eps), 1j * (1 - eps)], method=method)
    assert np.all(np.isfinite(got)) and got[0] > 0.1
    np.testing.assert_allclose(got[1:], got[0], rtol=1e-5)
    res = nc.coherence(system, [0.5, 1.0, 2.0])
    assert np.isinf(res.relative_incoherence[1]) and res.aggregate[1] == 0
