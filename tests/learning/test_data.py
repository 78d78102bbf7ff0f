"""load_digits stand-in for MNIST and a short alignment run on digits 0 vs 1 (Tier D, scaled)."""

import numpy as np
import pytest

import netcoh.learning as nl
from netcoh.exceptions import InputError
from netcoh.learning import relu_alignment as ra
from netcoh.learning.data import load_digits_subset


def test_public_surface_imports_alone():
    for name in nl.__all__:
        assert hasattr(nl, name)


def test_digits_alignment_early_phase():
    # centred digits 0 vs 1; h = 50, small balanced init, GD with eta * n ~ 1: the positive
    # neurons' mean direction aligns with x+ (spec 2.6, qualitative)
    X, y = load_digits_subset((0, 1))
    n = X.shape[0]
    net = ra.ShallowNet(X, y, h=50)
    th0 = ra.balanced_init(64, 50, 1e-6, 0)
    traj = nl.simulate_gd(net, th0, 1.0 / n, 400, record_every=400)
    W = net.unpack(traj.theta[-1])["W"]
    v = net.unpack(traj.theta[-1])["V"][0]
    xp = X[y > 0].sum(axis=0)
    wbar = W[:, v > 0].sum(axis=1)
    cos = wbar @ xp / (np.linalg.norm(wbar) * np.linalg.norm(xp))
    assert cos > 0.9
    # GD only approximately conserves the balance (O(eta^2) per step)
    assert np.max(np.abs(traj.invariant("balance")[-1])) < 1e-2 * np.sum(W**2, axis=0).max()


def test_bad_classes():
    with pytest.raises(InputError):
        load_digits_subset((1, 1))
    with pytest.raises(InputError):
        load_digits_subset((3, 12))
