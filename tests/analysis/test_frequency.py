import numpy as np
import pytest

import netcoh as nc
from tests.conftest import random_connected_laplacian, random_turbine_nodes


def test_check1_solve_equals_loop_form(turbine_system, rng):
    """Check 1: (diag(1/g) + f L)^{-1} == (I + G f L)^{-1} G at random points."""
    s = rng.uniform(-0.2, 1, 6) + 1j * rng.uniform(0.1, 3, 6)
    T = nc.analysis.evaluate_transfer(turbine_system, s)
    G = turbine_system.nodal(s)
    f = turbine_system.coupling(s)[:, 0]
    L = turbine_system.laplacian
    for k in range(s.size):
        ref = np.linalg.solve(np.eye(L.shape[0]) + G[k][:, None] * f[k] * L, np.diag(G[k]))
        np.testing.assert_allclose(T[k], ref, rtol=1e-10, atol=1e-12)


def test_check4_homogeneous_eigendecomposition(rng):
    n = 15
    L = random_connected_laplacian(n, rng)
    g = nc.nodal.swing_turbine(0.3, 0.4, 0.15, 5.0, n=n)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=g)
    w = np.array([0.03, 0.4, 2.5])
    T = np.asarray(nc.transfer_matrix(sys, w))
    lam, V = np.linalg.eigh(L)
    for k, wk in enumerate(w):
        s = 1j * wk
        gs = g(np.array([s]))[0, 0]
        ref = gs / n * np.ones((n, n)) + (V[:, 1:] / (1 / gs + lam[1:] / s)) @ V[:, 1:].T
        np.testing.assert_allclose(T[k], ref, rtol=1e-10, atol=1e-12)


def test_zero_of_a_node_uses_the_finite_form(rng):
    """A node with g_i(j w) = 0 (a zero on the axis) must not produce NaN."""
    import control
    n = 4
    g = nc.nodal.concat([nc.nodal.from_tf([control.tf([1.0, 0.0, 1.0], [1.0, 2.0, 1.0])]),
                         nc.nodal.swing(1.0, 1.0, n=n - 1)])
    sys = nc.NetworkSystem.from_laplacian(random_connected_laplacian(n, rng), nodal=g)
    T = np.asarray(nc.transfer_matrix(sys, [1.0, 1.0 + 1e-7]))   # g_0 has zeros at +-j
    assert np.all(np.isfinite(T))
    np.testing.assert_allclose(T[0], T[1], atol=1e-5)
    np.testing.assert_allclose(T[0][0], 0, atol=1e-14)


def test_frequency_response_object(turbine_system):
    resp = nc.transfer_matrix(turbine_system, [0.1, 1.0], inputs=["3"])
    assert resp.shape == (2, 12, 1) and resp.inputs == (3,)
    df = resp.to_frame()
    assert len(df) == 2 * 12 and set(df["input"]) == {"3"}
    np.testing.assert_allclose(df["magnitude"].to_numpy(), np.abs(resp.values).ravel())
    with pytest.raises(ValueError):
        resp.values[0, 0, 0] = 1


@pytest.mark.parametrize("omega, match", [
    ([0.0, 1.0], "poles of the coupling"),
    ([-1.0], "non-negative"),
    ([np.inf], "finite"),
    ([], "at least one"),
])
def test_bad_frequencies(turbine_system, omega, match):
    with pytest.raises(nc.InputError, match=match):
        nc.transfer_matrix(turbine_system, omega)


def test_bad_inputs(turbine_system):
    with pytest.raises(nc.InputError, match="inputs"):
        nc.transfer_matrix(turbine_system, [1.0], inputs=[99])
    with pytest.raises(nc.InputError, match="inputs"):
        nc.transfer_matrix(turbine_system, [1.0], inputs=["nope"])


def test_random_networks_vs_statespace_many_sizes():
    rng = np.random.default_rng(7)
    for n in (2, 6, 20):
        sys = nc.NetworkSystem.from_laplacian(random_connected_laplacian(n, rng),
                                              nodal=random_turbine_nodes(n, rng))
        A, B, C, D = (x.toarray() for x in sys.realization())
        w = rng.uniform(0.01, 5, 4)
        T = np.asarray(nc.transfer_matrix(sys, w))
        for k, wk in enumerate(w):
            ref = C @ np.linalg.solve(1j * wk * np.eye(A.shape[0]) - A, B) + D
            np.testing.assert_allclose(T[k], ref, rtol=1e-10, atol=1e-12)
