"""General linear disturbance sets (cvxpy LPs): equal to the closed-form budget box when
they are one, feasible worst disturbances, and no random feasible loss is worse."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netcoh as nc
from netcoh.analysis.nadir import build_modal_model, worst_case_nadir
from netcoh.analysis.nadir_inputs import restrict
from netcoh.analysis.nadir_polytope import LinearSet
from netcoh.analysis.nadir_sets import BudgetBox, FixedStep, _knapsack
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


def _lp(s, cap, budget):
    """``max s.p`` over ``0 <= p <= cap, sum p <= budget`` by scipy's HiGHS LP."""
    from scipy.optimize import linprog

    res = linprog(-s, A_ub=np.ones((1, s.size)), b_ub=[budget],
                  bounds=list(zip(np.zeros(s.size), cap)), method="highs")
    assert res.status == 0
    return -res.fun


_sizes = st.integers(min_value=1, max_value=40)


@settings(max_examples=60, deadline=None)
@given(n=_sizes, seed=st.integers(0, 2**31 - 1), frac=st.floats(0.01, 1.5),
       zero=st.floats(0.0, 0.6))
def test_closed_form_support_is_the_lp(n, seed, frac, zero):
    # caps (some zero, some tied) and one total budget: the knapsack in closed form, no LP,
    # and its value equals the LP's (HiGHS and the set's own cvxpy path) on every row
    rng = np.random.default_rng(seed)
    cap = np.round(rng.uniform(0.0, 1.0, n), 2)
    cap[rng.random(n) < zero] = 0.0
    budget = max(frac * cap.sum(), 1e-3)
    lin = LinearSet(cap, budget=budget)
    rows = rng.normal(size=(5, n))
    rows[0] = np.abs(rows[0])                 # mode-bound rows are non-negative
    got = lin.value(rows)
    assert lin.n_lp == 0
    want = [max(_lp(s, cap, budget), _lp(-s, cap, budget)) for s in rows]
    assert np.allclose(got, want, rtol=1e-9, atol=1e-9)
    assert np.allclose(lin.bound_weights(np.abs(rows)),
                       [_lp(np.abs(s), cap, budget) for s in rows], rtol=1e-9, atol=1e-9)
    # a limit that cannot bind keeps the closed form; one it cannot read (-sum p <= 0,
    # redundant too) sends the same set to the cvxpy LPs, which agree to their accuracy
    loose = LinearSet(cap, budget=budget, A=[np.linspace(1.0, 2.0, n)], b=[1e6])
    lp = LinearSet(cap, budget=budget, A=[-np.ones(n)], b=[0.0])
    assert loose._box is not None and lp._box is None
    assert np.allclose(loose.value(rows), got, rtol=1e-12, atol=1e-12)
    assert np.allclose(lp.value(rows[:2]), got[:2], rtol=1e-6, atol=1e-7)
    for s in rows[:2]:
        u = lin.maximiser(s)
        p = -u
        assert np.all(p >= 0) and np.all(p <= cap + 1e-12) and p.sum() <= budget * (1 + 1e-12)
        assert abs(s @ u) == pytest.approx(max(_lp(s, cap, budget), _lp(-s, cap, budget)),
                                           rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 60), seed=st.integers(0, 2**31 - 1), frac=st.floats(0.001, 1.2))
def test_knapsack_partial_sort_is_exact(n, seed, frac):
    # the passes over each row's best unit, then the partial sort (the 16 best of each row),
    # against a plain greedy fill
    rng = np.random.default_rng(seed)
    cap = rng.uniform(0.0, 1.0, n)
    cap[rng.random(n) < 0.3] = 0.0
    budget = max(frac * cap.sum(), 1e-6)
    rows = rng.normal(size=(20, n))
    rows[:, : n // 3] = np.round(rows[:, : n // 3], 1)     # ties
    want = []
    for s in rows:
        left, v = budget, 0.0
        for j in np.argsort(-s, kind="stable"):
            if s[j] <= 0 or left <= 0:
                break
            take = min(cap[j], left)
            v, left = v + s[j] * take, left - take
        want.append(v)
    assert np.allclose(_knapsack(rows, cap, budget), want, rtol=1e-12, atol=1e-12)
    # the cheap upper bound of the bound weights: never below, and exact when a few
    # units spend the budget
    up = _knapsack(np.abs(rows), cap, budget, exact=False)
    exact = _knapsack(np.abs(rows), cap, budget)
    assert np.all(up >= exact * (1 - 1e-12) - 1e-15)
    big = np.full(n, budget)                   # every unit can spend the budget alone
    assert np.allclose(_knapsack(np.abs(rows), big, budget, exact=False),
                       _knapsack(np.abs(rows), big, budget), rtol=1e-12, atol=1e-15)


def test_restricted_inputs_give_the_same_nadir():
    # a set that cannot use every node (zero caps, a given step) is searched on the columns
    # it uses: value, bus, time and disturbance equal the search over all columns
    sys = small_system(n=5, seed=2)
    model, _ = build_modal_model(sys)
    cap = np.array([0.3, 0.0, 0.2, 0.0, 0.4])
    box = BudgetBox(cap, 0.5, 5)
    small, zset, lift = restrict(model, box)
    assert small.Q.shape == (model.Q.shape[0], 3)
    t = np.linspace(0.0, 4.0, 41)
    bus = np.repeat(np.arange(5), t.size)
    tt = np.tile(t, 5)
    assert np.allclose(zset.value(small.rows(bus, tt)), box.value(model.rows(bus, tt)),
                       rtol=1e-12, atol=1e-14)
    u = -np.array([0.1, 0.0, 0.05, 0.0, 0.2])
    small1, one, lift1 = restrict(model, FixedStep(u))
    assert np.allclose(one.value(small1.rows(bus, tt)), np.abs(model.rows(bus, tt) @ u),
                       rtol=1e-12, atol=1e-14)
    assert np.allclose(lift1(one.maximiser(small1.rows([0], [1.0])[0])), u)
    for dset in (box, FixedStep(u), LinearSet(cap, budget=0.5)):
        res = worst_case_nadir(sys, disturbance_set=dset, dt=0.05, full_table=False)
        ref = worst_case_nadir(sys, disturbance_set=_Unrestricted(dset), dt=0.05)
        assert res.value == pytest.approx(ref.value, rel=1e-6)
        assert res.bus == ref.bus and res.certified and ref.certified
        assert np.allclose(res.disturbance, ref.disturbance, atol=1e-9)


class _Unrestricted:
    """A set seen without its ``inputs`` (searched over every column)."""

    def __init__(self, inner):
        self.inner = inner
        self.description = inner.description

    def value(self, rows):
        return self.inner.value(rows)

    def maximiser(self, s):
        return self.inner.maximiser(s)

    def norm_of(self, u):
        return self.inner.norm_of(u)
