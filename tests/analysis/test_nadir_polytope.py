"""General linear disturbance sets (cvxpy LPs): equal to the closed-form budget box when
they are one, feasible worst disturbances, and no random feasible loss is worse."""

from __future__ import annotations

import numpy as np
import pytest

import netcoh as nc
from netcoh.analysis.nadir import build_modal_model, worst_case_nadir
from netcoh.analysis.nadir_polytope import LinearSet
from netcoh.analysis.nadir_sets import BudgetBox
from netcoh.exceptions import InputError


def small_system(n=4, seed=0):
    rng = np.random.default_rng(seed)
    A = np.triu(rng.uniform(0.5, 2.0, (n, n)), 1)
    A = A + A.T
    L = 20.0 * (np.diag(A.sum(1)) - A)
    m = rng.uniform(1.0, 4.0, n)
    return nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(m, 0.5 * m), f_hz=50.0)


def test_support_values_equal_the_budget_box():
    rng = np.random.default_rng(3)
    cap = rng.uniform(0.1, 1.0, 6)
    lin, box = LinearSet(cap, budget=1.2), BudgetBox(cap, 1.2, 6)
    rows = rng.normal(size=(8, 6))
    assert np.allclose(lin.value(rows), box.value(rows), rtol=1e-6, atol=1e-9)
    for s in rows[:3]:
        u = lin.maximiser(s)
        assert np.all(-u >= -1e-8) and np.all(-u <= cap + 1e-8) and -u.sum() <= 1.2 + 1e-7
        assert abs(s @ u) == pytest.approx(box.value(s[None])[0], rel=1e-6)


@pytest.mark.filterwarnings("ignore::netcoh.AccuracyWarning")   # same 3 s window for all
def test_area_budget_nadir_is_feasible_and_worst():
    sys = small_system()
    cap = np.array([0.3, 0.3, 0.3, 0.3])
    lin = LinearSet(cap, budget=0.5, groups=[([0, 1], 0.2)])
    res = worst_case_nadir(sys, disturbance_set=lin, horizon=3.0, dt=0.05, full_table=False)
    p = -res.disturbance
    assert np.all(p >= -1e-8) and np.all(p <= cap + 1e-8)
    assert p.sum() <= 0.5 + 1e-7 and p[:2].sum() <= 0.2 + 1e-7
    box = worst_case_nadir(sys, bounds=cap, rho=0.5, horizon=3.0, dt=0.05)
    assert res.value <= box.value * (1 + 1e-9)
    model, _ = build_modal_model(sys)
    t = np.linspace(0.0, 3.0, 601)
    rng = np.random.default_rng(1)
    for _ in range(30):                      # random feasible losses are no worse
        q = rng.uniform(0, 1, 4) * cap
        q[:2] *= min(1.0, 0.2 / q[:2].sum())
        q *= min(1.0, 0.5 / q.sum())
        assert np.abs(model.response(-q, t)).max() <= res.value * (1 + 1e-6)


def test_bad_constraints_are_refused():
    with pytest.raises(InputError, match="`budget` must be positive"):
        LinearSet([1.0, 1.0], budget=-1.0)
    with pytest.raises(InputError, match="`groups` indices"):
        LinearSet([1.0, 1.0], groups=[([5], 1.0)])
    with pytest.raises(InputError, match="`A` must be"):
        LinearSet([1.0, 1.0], A=[[1.0, 2.0, 3.0]], b=[1.0])
