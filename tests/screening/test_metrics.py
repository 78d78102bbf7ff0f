"""Frequency metrics: the uniform-grid evaluation of the modal functions against the
model's own ``phi``."""

from __future__ import annotations

import numpy as np
import pytest

import netcoh as nc
from netcoh.analysis.nadir import build_modal_model
from netcoh.screening.metrics import _phi_steps


@pytest.mark.parametrize("nodal", [
    nc.nodal.swing_turbine([1.0, 2.0, 3.0, 5.0], [1.0, 1.5, 2.0, 2.5], [5.0, 8.0, 12.0, 20.0],
                           [2.0, 4.0, 6.0, 8.0]),
    nc.nodal.swing([1.0, 2.0, 3.0, 5.0], [0.5, 1.0, 3.0, 1.0]),
])
@pytest.mark.parametrize("count", [5, 17, 251, 400])
def test_phi_on_uniform_steps_is_phi(nodal, count):
    """Products of exponentials give ``phi`` on a uniform grid to rounding, for the
    state-space modes (one pole per mode) and the other modal forms (``model.phi``)."""
    L = 20.0 * nc.laplacian.ring_lattice(4, 1)
    system = nc.NetworkSystem.from_laplacian(L, nodal=nodal)
    model, _ = build_modal_model(system)
    t = 0.3 + 0.02 * np.arange(count)
    exact = model.phi(t)
    got = _phi_steps(model, 0.3, 0.02, count)
    assert got.shape == exact.shape and got.dtype == exact.dtype
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-13 * np.abs(exact).max())
    # and its products with a few coefficient vectors, without forming phi
    C = np.random.default_rng(count).standard_normal((exact.shape[1], 2)) * [1.0, 1j]
    want = exact @ C
    np.testing.assert_allclose(_phi_steps(model, 0.3, 0.02, count, C), want, rtol=0,
                               atol=1e-13 * np.abs(exact).max() * np.abs(C).sum())
