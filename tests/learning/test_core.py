"""The common abstraction: pack/unpack, HVP, sharpness, linearisation, simulators, errors."""

import control
import numpy as np
import pytest

from netcoh.exceptions import InputError, NetcohError, SolverError
from netcoh.learning import (
    TheoremCheck,
    first_crossing,
    fit_power_law,
    linearize,
    local_rate,
    sharpness,
    simulate_gd,
    simulate_gf,
)
from netcoh.learning.edge_of_stability import ScalarFactorization
from netcoh.learning.linear_net import LinearNet


def _net(seed=0):
    rng = np.random.default_rng(seed)
    dyn = LinearNet(rng.standard_normal((6, 4)), rng.standard_normal((6, 3)), h=5)
    return dyn, rng.standard_normal(dyn.size), rng


def test_pack_unpack_roundtrip_and_readonly_data():
    dyn, th, _ = _net()
    blocks = dyn.unpack(th)
    assert set(blocks) == {"U", "V"} and blocks["U"].shape == (4, 5)
    assert np.array_equal(dyn.pack(blocks), th)
    blocks["U"][:] = 0  # unpack returns copies
    assert not np.array_equal(dyn.pack(blocks), th)
    with pytest.raises(ValueError):
        dyn.X[0, 0] = 1.0
    with pytest.raises(InputError):
        dyn.pack(U=np.zeros((4, 5)))
    with pytest.raises(InputError):
        dyn.pack(U=np.zeros((4, 4)), V=np.zeros((3, 5)))


def test_gradient_and_hvp_match_finite_differences():
    dyn, th, rng = _net(1)
    v = rng.standard_normal(dyn.size)
    h = 1e-6
    fd = (dyn.loss(th + h * v) - dyn.loss(th - h * v)) / (2 * h)
    assert abs(fd - dyn.grad(th) @ v) < 1e-6 * max(1, abs(fd))
    fd_h = (dyn.grad(th + h * v) - dyn.grad(th - h * v)) / (2 * h)
    assert np.allclose(dyn.hvp(th, v), fd_h, rtol=1e-6, atol=1e-6)
    H = dyn.hessian(th)
    assert np.allclose(H, H.T) and np.allclose(H @ v, dyn.hvp(th, v), atol=1e-10)


def test_sharpness_lanczos_matches_dense():
    dyn, th, _ = _net(2)
    dense = np.linalg.eigvalsh(dyn.hessian(th))[::-1]
    assert abs(sharpness(dyn, th) - dense[0]) < 1e-8 * dense[0]
    assert np.allclose(sharpness(dyn, th, k=3), dense[:3], rtol=1e-8)


def test_linearize_continuous_and_discrete():
    dyn = ScalarFactorization(y=2.0)
    th = [np.sqrt(2.0), np.sqrt(2.0)]
    sys_c = linearize(dyn, th)
    assert isinstance(sys_c, control.StateSpace) and sys_c.dt == 0
    assert np.allclose(np.sort(sys_c.poles().real), [-4.0, 0.0], atol=1e-12)
    sys_d = linearize(dyn, th, eta=0.4)
    assert sys_d.isdtime()
    assert np.allclose(np.sort(sys_d.poles().real), [1 - 0.4 * 4, 1.0], atol=1e-12)
    r = local_rate(dyn, th, eta=0.4)
    assert r.null_dim == 1 and abs(r.rate - 0.6) < 1e-12 and r.stable
    assert not local_rate(dyn, th, eta=0.6).stable  # 0.6 > 2/4: beyond the EoS threshold
    with pytest.raises(InputError):
        linearize(dyn, [1.0, 1.0])  # not an equilibrium


def test_gf_and_gd_agree_for_small_steps():
    dyn, th, _ = _net(3)
    th = 0.3 * th
    gf = simulate_gf(dyn, th, [0.0, 0.5])
    gd = simulate_gd(dyn, th, 1e-4, 5000, record_every=5000)
    assert np.max(np.abs(gf.theta[-1] - gd.theta[-1])) < 1e-3
    df = gd.to_frame()
    assert list(df.columns) == ["t", "loss", "eta"] and len(df) == 2


def test_simulator_input_errors():
    dyn, th, _ = _net(4)
    with pytest.raises(InputError):
        simulate_gd(dyn, th, -0.1, 10)
    with pytest.raises(InputError):
        simulate_gd(dyn, th, 0.0, 10)
    with pytest.raises(InputError):
        simulate_gd(dyn, th[:-1], 0.1, 10)
    with pytest.raises(InputError):
        simulate_gd(dyn, th, 0.1, 10, schedule=lambda t, x: -1.0)
    with pytest.raises(InputError):
        simulate_gf(dyn, th, [1.0, 0.5])
    with pytest.raises(InputError):
        simulate_gf(dyn, th, [0.0])
    with pytest.raises(SolverError):
        simulate_gd(dyn, 10 * th, 10.0, 200)  # diverges
    assert issubclass(InputError, NetcohError)


def test_helpers():
    bound, ok = TheoremCheck(1.0, True)
    assert bound == 1.0 and ok
    assert np.isnan(first_crossing([0, 1], [0, 0.1], 1.0))
    with pytest.raises(InputError):
        fit_power_law([1.0, 2.0], [1.0, -1.0])
