import dataclasses

import control
import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import netcoh as nc
from netcoh.network import nodal
from tests.conftest import random_connected_laplacian, random_turbine_nodes


def test_realization_is_hurwitz_and_zero_mode_free(turbine_system):
    A, B, C, D = turbine_system.realization()
    n = turbine_system.n
    assert A.shape[0] == 2 * n + (n - 1)          # 2 states per machine + n-1 angle differences
    assert np.max(np.linalg.eigvals(A.toarray()).real) < -1e-6


@pytest.mark.parametrize("coupling", [None, nodal.static_gain(3.0),
                                      nodal.from_tf([control.tf([2.0], [1.0, 0.5, 0.0])])])
def test_transfer_matrix_equals_python_control(rng, coupling):
    n = 9
    sys = nc.NetworkSystem.from_laplacian(random_connected_laplacian(n, rng),
                                          nodal=random_turbine_nodes(n, rng), coupling=coupling)
    w = np.logspace(-2, 1.5, 25)
    T = np.asarray(nc.transfer_matrix(sys, w))
    fr = control.frequency_response(sys.to_statespace(), w)
    ref = np.moveaxis(np.asarray(fr.complex), -1, 0)           # (k, n, n)
    np.testing.assert_allclose(T, ref, rtol=1e-10, atol=1e-10 * np.abs(ref).max())


def test_biproper_nodes_with_static_coupling_algebraic_loop(rng):
    n = 5
    g = nodal.from_tf([control.tf([1.0, 2.0], [1.0, 1.0 + i]) for i in range(n)])  # feedthrough 1
    sys = nc.NetworkSystem.from_laplacian(random_connected_laplacian(n, rng), nodal=g,
                                          coupling=nodal.static_gain(0.7))
    w = np.array([0.1, 1.0, 10.0])
    fr = control.frequency_response(sys.to_statespace(), w)
    np.testing.assert_allclose(np.asarray(nc.transfer_matrix(sys, w)),
                               np.moveaxis(np.asarray(fr.complex), -1, 0), rtol=1e-10, atol=1e-12)


def test_sparse_and_dense_agree_and_inputs_select_columns(rng):
    n = 40
    L = random_connected_laplacian(n, rng, p=0.08)
    g = random_turbine_nodes(n, rng)
    dense = nc.NetworkSystem.from_laplacian(L, nodal=g)
    sparse = nc.NetworkSystem.from_laplacian(sp.csr_matrix(L), nodal=g)
    assert sparse.is_sparse and not dense.is_sparse
    w = np.array([0.05, 0.7, 3.0])
    Td = np.asarray(nc.transfer_matrix(dense, w))
    Ts = np.asarray(nc.transfer_matrix(sparse, w, inputs=[3, 17]))
    np.testing.assert_allclose(Ts, Td[:, :, [3, 17]], rtol=1e-11)
    np.testing.assert_allclose(sparse.lambda2, dense.lambda2, rtol=1e-9)


def test_from_graph_labels_and_weights():
    G = nx.Graph()
    G.add_edge("a", "b", weight=2.0)
    G.add_edge("b", "c", weight=3.0)
    sys = nc.NetworkSystem.from_graph(G, nodal=nodal.swing(1.0, 1.0, n=3))
    assert sys.labels == ("a", "b", "c")
    np.testing.assert_allclose(sys.laplacian, [[2, -2, 0], [-2, 5, -3], [0, -3, 3]])
    with pytest.raises(nc.InputError, match="directed"):
        nc.NetworkSystem.from_graph(nx.DiGraph(G), nodal=nodal.swing(1.0, 1.0, n=3))


def test_system_is_frozen_and_replace_revalidates(turbine_system):
    with pytest.raises(dataclasses.FrozenInstanceError):
        turbine_system.laplacian = None
    with pytest.raises(ValueError):
        turbine_system.laplacian[0, 0] = 1.0
    scaled = dataclasses.replace(turbine_system, laplacian=10 * turbine_system.laplacian)
    assert np.isclose(scaled.lambda2, 10 * turbine_system.lambda2)
    with pytest.raises(nc.InputError, match="12 nodes"):
        dataclasses.replace(turbine_system, nodal=nodal.swing(1.0, 1.0, n=3))


def test_mismatched_nodes_and_labels(rng):
    L = random_connected_laplacian(4, rng)
    with pytest.raises(nc.InputError, match="must describe 4 nodes"):
        nc.NetworkSystem.from_laplacian(L, nodal=nodal.swing(1.0, 1.0, n=5))
    with pytest.raises(nc.InputError, match="`labels` must have 4"):
        nc.NetworkSystem.from_laplacian(L, nodal=nodal.swing(1.0, 1.0, n=4), labels=["a"])
    with pytest.raises(nc.NetcohTypeError, match="`nodal`"):
        nc.NetworkSystem.from_laplacian(L, nodal="swing")


def test_signed_laplacian_needs_opt_in_and_must_be_psd():
    # symmetric, zero row sums, one positive off-diagonal, PSD
    L = np.array([[2.0, -1.5, -0.5], [-1.5, 1.4, 0.1], [-0.5, 0.1, 0.4]])
    assert np.linalg.eigvalsh(L)[0] > -1e-12
    g = nodal.swing(1.0, 1.0, n=3)
    with pytest.raises(nc.InputError, match="non-positive off-diagonal"):
        nc.NetworkSystem.from_laplacian(L, nodal=g)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=g, signed=True)
    assert dataclasses.replace(sys, laplacian=2 * L).signed
    bad = np.array([[1.0, 1.0, -2.0], [1.0, -3.0, 2.0], [-2.0, 2.0, 0.0]])
    with pytest.raises(nc.InputError, match="positive semidefinite"):
        nc.NetworkSystem.from_laplacian(bad, nodal=g, signed=True)


def test_systems_pickle_round_trip(turbine_system):
    import pickle

    _ = turbine_system.lambda2, turbine_system.realization()      # caches are not pickled
    back = pickle.loads(pickle.dumps(turbine_system))
    assert back.labels == turbine_system.labels and back.nodal.kind == "swing_turbine"
    np.testing.assert_array_equal(back.laplacian, turbine_system.laplacian)
    np.testing.assert_array_equal(back.nodal.params["tau"], turbine_system.nodal.params["tau"])
    w = [0.1, 1.0]
    np.testing.assert_array_equal(np.asarray(nc.transfer_matrix(back, w)),
                                  np.asarray(nc.transfer_matrix(turbine_system, w)))
    sparse = nc.NetworkSystem.from_laplacian(sp.csr_matrix(turbine_system.laplacian),
                                             nodal=turbine_system.nodal)
    assert pickle.loads(pickle.dumps(sparse)).is_sparse


def test_stability_certificate_is_kept_per_node():
    """The passivity certificate remembers the machines that passed: a subset of them (a
    unit trip) passes without a new test; a network of other machines is tested on its
    own and fails."""
    from netcoh.network.system import _PASSIVE_ROWS, _strictly_passive_nodes, check_stable
    L = 10 * nc.laplacian.complete(3)
    passive = nodal.from_tf(num=[[0.0, 1.0]] * 2 + [[0.0, 2.0]], den=[[1.0, 0.5]] * 3)
    growing = nodal.from_tf(num=[[0.0, 1.0]] * 3, den=[[1.0, -0.5]] * 3)    # 1/(s - 0.5)
    _PASSIVE_ROWS.clear()
    for _ in range(2):
        check_stable(nc.NetworkSystem.from_laplacian(L, nodal=passive))
        assert len(_PASSIVE_ROWS) == 2
        with pytest.raises(nc.UnstableError):
            check_stable(nc.NetworkSystem.from_laplacian(L, nodal=growing))
    mixed = nodal.from_tf(num=[[0.0, 1.0]] * 3, den=[[1.0, 0.5]] * 2 + [[1.0, -0.5]])
    assert not _strictly_passive_nodes(mixed)
    check_stable(nc.NetworkSystem.from_laplacian(10 * nc.laplacian.complete(2), nodal=nodal.from_tf(
        num=[[0.0, 2.0]] * 2, den=[[1.0, 0.5]] * 2)))
    assert len(_PASSIVE_ROWS) == 2
