"""The modal evaluation of T(s) on many frequencies against direct solves."""

import numpy as np
import pytest

import netcoh as nc
from netcoh.analysis import frequency as fr
from tests.conftest import random_connected_laplacian, random_turbine_nodes


def direct(system, w, cols=None):
    out = []
    for wj in w:
        T = np.linalg.inv(system.system_matrix(1j * wj))
        out.append(T if cols is None else T[:, cols])
    return np.array(out)


@pytest.fixture
def spy(monkeypatch):
    calls = []
    real = fr._modal_evaluate

    def wrapped(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(fr, "_modal_evaluate", wrapped)
    return calls


@pytest.mark.parametrize("inputs", [None, [3, 0, 7]])
def test_modal_path_matches_direct_solves(rng, spy, inputs):
    n = 20
    sys = nc.NetworkSystem.from_laplacian(random_connected_laplacian(n, rng),
                                          nodal=random_turbine_nodes(n, rng))
    w = np.logspace(-3, 2, 400)
    got = np.asarray(nc.transfer_matrix(sys, w, inputs=inputs))
    assert spy, "400 frequencies of a 20-node network should take the modal path"
    ref = direct(sys, w, inputs)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-11 * np.abs(ref).max())
    # relative accuracy holds entry by entry where the response is not tiny
    big = np.abs(ref) > 1e-6 * np.abs(ref).max()
    np.testing.assert_allclose(got[big], ref[big], rtol=1e-9)


def test_modal_path_with_static_coupling_and_feedthrough(rng, spy):
    n = 12
    g = nc.nodal.from_tf(num=np.c_[np.full(n, 0.5), np.ones(n)],
                         den=np.c_[rng.uniform(0.5, 2, n), np.ones(n)])  # (0.5 s + 1)/(a s + 1)
    sys = nc.NetworkSystem.from_laplacian(random_connected_laplacian(n, rng), nodal=g,
                                          coupling=nc.nodal.static_gain(2.0))
    w = np.concatenate([[0.0], np.logspace(-2, 2, 300)])
    got = np.asarray(nc.transfer_matrix(sys, w))
    assert spy
    ref = direct(sys, w)
    np.testing.assert_allclose(got, ref, atol=1e-11 * np.abs(ref).max())


def test_defective_state_matrix_falls_back_to_solves(spy):
    # m s^2 + d s + lambda with d^2 = 4 m lambda: a double (defective) pole for lambda_2 = 1
    sys = nc.NetworkSystem.from_laplacian(0.5 * nc.laplacian.complete(2),
                                          nodal=nc.nodal.swing(1.0, 2.0, n=2))
    w = np.logspace(-2, 2, 200)
    got = np.asarray(nc.transfer_matrix(sys, w))
    assert not spy
    np.testing.assert_allclose(got, direct(sys, w), rtol=1e-12)
