"""Time responses: exactness of the dense and sparse paths, and the stability check."""

import numpy as np
import pytest
import scipy.linalg as la
import scipy.signal

import netcoh as nc
from netcoh.analysis import time as tm
from netcoh.network.system import check_stable
from tests.conftest import random_connected_laplacian, random_turbine_nodes


def expm_reference(system, u0, t, kind="step", omega=None):
    """Samples of the exact response from one matrix exponential per time (no stepping)."""
    A, B, C, D = (x.toarray() for x in system.realization())
    N = A.shape[0]
    bu, du = B @ u0, D @ u0
    out = []
    for tk in t:
        if kind == "step":      # x(t) = int_0^t e^{A s} ds B u0 through the augmented exponential
            M = np.zeros((N + 1, N + 1))
            M[:N, :N], M[:N, N] = A, bu
            x = la.expm(M * tk)[:N, N]
            out.append(C @ x + du)
        else:                   # impulse
            out.append(C @ la.expm(A * tk) @ bu)
    return np.array(out)


def sparse_swing(n, rng):
    import networkx as nx

    G = nx.connected_watts_strogatz_graph(n, 4, 0.2, seed=int(rng.integers(1000)))
    L, _ = nc.laplacian.from_graph(G, sparse=True)
    g = nc.nodal.swing(rng.uniform(0.5, 5.0, n), rng.uniform(0.5, 2.0, n))
    return nc.NetworkSystem.from_laplacian(10.0 * L, nodal=g)


def test_step_matches_lsim_to_1e10_on_a_uniform_grid(rng):
    n = 30
    sys = nc.NetworkSystem.from_laplacian(random_connected_laplacian(n, rng),
                                          nodal=random_turbine_nodes(n, rng))
    u0 = rng.normal(size=n) * 0.1
    t = np.linspace(0, 30, 3001)
    resp = nc.step_response(sys, u0, t)
    A, B, C, D = (x.toarray() for x in sys.realization())
    _, y, _ = scipy.signal.lsim((A, B, C, D), np.outer(np.ones_like(t), u0), t)
    np.testing.assert_allclose(resp.outputs, y, atol=1e-10 * np.abs(y).max())


def test_non_uniform_grid_and_late_start_match_the_exponential(rng):
    n = 8
    sys = nc.NetworkSystem.from_laplacian(random_connected_laplacian(n, rng),
                                          nodal=random_turbine_nodes(n, rng))
    u0 = rng.normal(size=n)
    t = np.concatenate([[0.3], np.geomspace(0.5, 40, 25)])
    ref = expm_reference(sys, u0, t)
    np.testing.assert_allclose(nc.step_response(sys, u0, t).outputs, ref,
                               atol=1e-11 * np.abs(ref).max())
    ref_i = expm_reference(sys, u0, t, kind="impulse")
    np.testing.assert_allclose(nc.impulse_response(sys, u0, t).outputs, ref_i,
                               atol=1e-11 * np.abs(ref_i).max())


@pytest.mark.parametrize("uniform", [True, False])
def test_sparse_path_matches_dense_exponential(rng, monkeypatch, uniform):
    sys = sparse_swing(120, rng)
    u0 = np.zeros(sys.n)
    u0[7] = -0.2
    t = np.linspace(0, 15, 301) if uniform else np.sort(rng.uniform(0, 15, 60))
    dense = {k: nc.step_response(sys, u0, t) for k in ("step",)}["step"]
    imp_d = nc.impulse_response(sys, u0, t)
    sin_d = nc.sine_response(sys, u0, t, 1.3)
    monkeypatch.setattr(tm, "DENSE_STATES", 10)     # force the sparse Taylor path
    for got, ref in ((nc.step_response(sys, u0, t), dense),
                     (nc.impulse_response(sys, u0, t), imp_d),
                     (nc.sine_response(sys, u0, t, 1.3), sin_d)):
        scale = np.abs(ref.outputs).max()
        np.testing.assert_allclose(got.outputs, ref.outputs, atol=1e-10 * scale)
        np.testing.assert_allclose(got.coi, ref.coi, atol=1e-10 * scale)
    # the dense path itself against lsim, so both are tied to an outside reference
    if uniform:
        A, B, C, D = (x.toarray() for x in sys.realization())
        _, y, _ = scipy.signal.lsim((A, B, C, D), np.outer(np.ones_like(t), u0), t)
        np.testing.assert_allclose(dense.outputs, y, atol=1e-10 * np.abs(y).max())


def test_ungrounded_realisation_has_the_same_transfer(rng):
    sys = sparse_swing(15, rng)
    s0 = 0.3 + 1.1j
    T = np.linalg.inv(sys.system_matrix(s0).toarray())
    for grounded in (True, False):
        A, B, C, D = (x.toarray() for x in sys._build_realization(grounded=grounded))
        G = C @ np.linalg.solve(s0 * np.eye(A.shape[0]) - A, B) + D
        np.testing.assert_allclose(G, T, atol=1e-12 * np.abs(T).max())


def lag3_system(gain):
    """Third-order lags 1/(s+1)^3 coupled by gain * complete(3): stable iff 3 gain < 8/9."""
    g = nc.nodal.from_tf(num=[[1.0]] * 3, den=[[1.0, 3.0, 3.0, 1.0]] * 3)
    return nc.NetworkSystem.from_laplacian(gain * nc.laplacian.complete(3), nodal=g)


@pytest.mark.parametrize("respond", [
    lambda s, u, t: nc.step_response(s, u, t),
    lambda s, u, t: nc.impulse_response(s, u, t),
    lambda s, u, t: nc.sine_response(s, u, t, 0.5),
])
def test_unstable_model_raises(respond):
    sys = lag3_system(0.5)                 # s (s+1)^3 + 1.5 has roots in the right half-plane
    assert np.max(np.linalg.eigvals(sys.realization().A.toarray()).real) > 0
    with pytest.raises(nc.UnstableError, match="unstable"):
        respond(sys, [1.0, 0.0, 0.0], np.linspace(0, 10, 11))
    with pytest.raises(nc.UnstableError):
        nc.worst_case_nadir(sys, 1.0)      # the nadir refuses the same model


def test_stable_model_that_is_not_passive_is_simulated():
    sys = lag3_system(0.1)                 # 0.3 < 8/9: stable, but 1/g = (s+1)^3 is not passive
    t = np.linspace(0, 80, 801)
    u0 = np.array([1.0, 0.0, 0.0])
    resp = nc.step_response(sys, u0, t)
    A, B, C, D = (x.toarray() for x in sys.realization())
    _, y, _ = scipy.signal.lsim((A, B, C, D), np.outer(np.ones_like(t), u0), t)
    np.testing.assert_allclose(resp.outputs, y, atol=1e-10)
    np.testing.assert_allclose(resp.outputs[-1], 1 / 3, rtol=1e-4)   # g_hat(0) = 1/3


def test_check_stable_certificate_agrees_with_eigenvalues(rng):
    for _ in range(5):
        n = int(rng.integers(3, 12))
        sys = nc.NetworkSystem.from_laplacian(random_connected_laplacian(n, rng),
                                              nodal=random_turbine_nodes(n, rng))
        check_stable(sys)                                  # by the passivity certificate
        assert np.max(np.linalg.eigvals(sys.realization().A.toarray()).real) < 0
    lossless = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
                                               nodal=nc.nodal.swing(1.0, 0.0, n=3))
    with pytest.raises(nc.UnstableError, match="not asymptotically stable"):
        check_stable(lossless)
    check_stable(lossless, strict=False)                   # bounded oscillations are admitted
    with pytest.raises(nc.UnstableError):
        check_stable(lag3_system(0.5), strict=False)
