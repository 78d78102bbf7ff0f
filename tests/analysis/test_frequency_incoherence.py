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


@pytest.mark.parametrize("n, sparse", [(3, False), (40, False), (60, True)])
def test_iterative_norm_matches_svd(rng, n, sparse):
    L = random_connected_laplacian(n, rng, p=0.1)
    if sparse:
        import scipy.sparse as sp

        L = sp.csr_matrix(L)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=random_turbine_nodes(n, rng))
    w = np.logspace(-3, 1.5, 25)
    got = nc.incoherence(sys, 1j * w, method="iterative")
    np.testing.assert_allclose(got, dense_norms(sys, w), rtol=1e-9)
