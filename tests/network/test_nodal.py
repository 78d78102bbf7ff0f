import control
import numpy as np
import pytest

import netcoh as nc
from netcoh.network import nodal


def test_swing_turbine_matches_closed_form(rng):
    m, d, r, tau = rng.uniform(0.1, 1, 4), rng.uniform(0.1, 1, 4), rng.uniform(0, 1, 4), rng.uniform(1, 5, 4)
    g = nodal.swing_turbine(m, d, r, tau)
    s = np.array([0.3j, 1 + 2j, -0.1 + 0.5j])
    expected = 1.0 / (m * s[:, None] + d + r / (tau * s[:, None] + 1))
    np.testing.assert_allclose(g(s), expected, rtol=1e-13)
    np.testing.assert_allclose(g.inverse(s), 1 / expected, rtol=1e-13)
    assert g(s).shape == (3, 4)


def test_inverter_and_from_tf_agree_with_python_control():
    tfs = [control.tf([2.0], [0.5, 1.0]), control.tf([1.0, 3.0], [1.0, 2.0, 5.0]),
           control.tf([4.0, 1.0], [2.0, 1.0])]
    g = nodal.from_tf(tfs)
    w = np.logspace(-2, 2, 7)
    for i, tf in enumerate(tfs):
        ref = np.asarray(tf(1j * w)).ravel()
        np.testing.assert_allclose(g(1j * w)[:, i], ref, rtol=1e-12)
    inv = nodal.inverter([2.0], [0.5])
    np.testing.assert_allclose(inv(1j * w)[:, 0], np.asarray(tfs[0](1j * w)).ravel(), rtol=1e-12)


def test_node_realization_reproduces_each_transfer_function(rng):
    g = nodal.concat([nodal.swing(rng.uniform(0.1, 1, 3), 0.4),
                      nodal.swing_turbine(0.3, 0.2, 0.1, 4.0, n=2),
                      nodal.from_tf([control.tf([4.0, 1.0], [2.0, 1.0])])])   # biproper
    A, B, C, D = g.realization()
    s = np.array([0.2j, 1.5j, 0.5 + 1j])
    N = A.shape[0]
    assert N == int(g.orders.sum()) == 3 + 4 + 1
    for k, sk in enumerate(s):
        H = C.toarray() @ np.linalg.solve(sk * np.eye(N) - A.toarray(), B.toarray()) + np.diag(D)
        np.testing.assert_allclose(np.diag(H), g(s)[k], rtol=1e-11)
        assert np.allclose(H - np.diag(np.diag(H)), 0)


@pytest.mark.parametrize("bad, match", [
    (lambda: nodal.swing(-1.0, 1.0), "`m` must be positive"),
    (lambda: nodal.swing([1.0, 2.0], [1.0, 2.0, 3.0]), "equal lengths"),
    (lambda: nodal.swing(np.nan, 1.0), "`m` must be finite"),
    (lambda: nodal.swing_turbine(1.0, 1.0, 1.0, 0.0), "`tau` must be positive"),
    (lambda: nodal.from_tf(num=[[1.0, 0.0, 0.0]], den=[[1.0, 1.0]]), "proper"),
    (lambda: nodal.from_tf(num=[[1.0]], den=[[0.0]]), "non-zero polynomial"),
])
def test_bad_nodal_input_names_parameter(bad, match):
    with pytest.raises(nc.InputError, match=match):
        bad()


def test_from_tf_rejects_wrong_types():
    with pytest.raises(nc.NetcohTypeError, match="tfs\\[0\\]"):
        nodal.from_tf(["not a tf"])
    with pytest.raises(nc.InputError, match="SISO"):
        nodal.from_tf([control.tf([[[1]], [[1]]], [[[1, 1]], [[1, 2]]])])


def test_nodal_is_immutable():
    g = nodal.swing(1.0, 1.0, n=3)
    with pytest.raises(ValueError):
        g.den[0, 0] = 5.0
    with pytest.raises(AttributeError):
        g.num = None
    assert g.subset([2, 0]).n == 2
