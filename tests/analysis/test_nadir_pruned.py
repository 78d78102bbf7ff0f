"""The default search rules buses out by a certified bound and gives the same worst case.

The reference is the full table of the same search (``full_table=True``, every bus exact),
and for the bound itself the exact row norms of the step-response matrix. The pruned
result computes the whole table on first access; it must equal the full search's.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netcoh as nc
from netcoh.analysis.nadir import build_modal_model, worst_case_nadir


def random_system(n, kind="swing", spread=300.0, seed=0, scale=50.0):
    """Proportional machines with inertias spread over ``spread`` : 1 on a random mesh."""
    rng = np.random.default_rng(seed)
    A = np.triu(rng.uniform(0.2, 2.0, (n, n)) * (rng.random((n, n)) < 4.0 / n), 1)
    A[np.arange(n - 1), np.arange(1, n)] += 1.0            # a path keeps it connected
    A = A + A.T
    L = scale * (np.diag(A.sum(1)) - A)
    r = np.exp(rng.uniform(0.0, np.log(spread), n))
    r = r / r.mean()
    if kind == "swing":
        g = nc.nodal.swing(2.0 * r, 4.0 * r)
    elif kind == "swing_turbine":
        g = nc.nodal.swing_turbine(2.0 * r, 1.0 * r, 8.0 * r, np.full(n, 4.0))
    else:                               # non-proportional: the state-space modal form
        g = nc.nodal.swing_turbine(2.0 * r, 1.0 * r, 8.0 * r, rng.uniform(2.0, 9.0, n))
    return nc.NetworkSystem.from_laplacian(L, nodal=g)


def exact_row_norms(model, t):
    n = model.n
    S = model.rows(np.tile(np.arange(n), t.size), np.repeat(t, n)).reshape(t.size, n, n)
    return np.linalg.norm(S, axis=2).T


@pytest.mark.parametrize("kind", ["swing", "swing_turbine"])
@pytest.mark.parametrize("light", [0, 1, 5, 29])
def test_row_norm_bound_is_an_upper_bound(kind, light):
    sys = random_system(30, kind, seed=light)
    model, used = build_modal_model(sys)
    assert used == "modal" and model.scale is not None
    t = np.linspace(0.0, 3.0, 37)
    exact = exact_row_norms(model, t)
    bound = model.row_norm_bound(t, light)
    assert bound.shape == exact.shape
    assert np.all(bound >= exact * (1 - 1e-12))
    # the bound is useful: close to the exact value for the worst rows
    assert bound.max() <= 3.0 * exact.max()


def test_row_norm_bound_is_exact_for_homogeneous_machines():
    L = 10.0 * nc.laplacian.ring_lattice(12, 2)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(3.0, 2.0, n=12))
    model, _ = build_modal_model(sys)
    t = np.linspace(0.0, 2.0, 9)
    assert np.allclose(model.row_norm_bound(t, 0), exact_row_norms(model, t), rtol=1e-8,
                       atol=1e-15)


def test_row_norm_bound_needs_a_proportional_model():
    rng = np.random.default_rng(1)
    g = nc.nodal.swing_turbine(m=rng.uniform(0.1, 0.5, 5), d=rng.uniform(0.2, 0.5, 5),
                               droop=rng.uniform(0.1, 0.2, 5), tau=rng.uniform(2, 9, 5))
    sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(5), nodal=g)
    model, used = build_modal_model(sys)
    assert used == "statespace" and model.scale is None
    with pytest.raises(ValueError, match="proportional"):
        model.row_norm_bound(np.array([0.0, 1.0]), 2)


@pytest.mark.parametrize("kind", ["swing", "swing_turbine"])
@pytest.mark.parametrize("horizon", [1.0, None])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pruned_search_equals_full_table(kind, horizon, seed):
    sys = random_system(60, kind, seed=seed)
    kw = dict(rho=0.5, dt=0.05, horizon=horizon, f_hz=50.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.AccuracyWarning)
        full = worst_case_nadir(sys, full_table=True, **kw)
        # a threshold between the smallest and the largest bus forces the flags to be exact
        mid = float(np.median(full.per_bus_hz))
        full = worst_case_nadir(sys, threshold_hz=mid, full_table=True, **kw)
        fast = worst_case_nadir(sys, threshold_hz=mid, **kw)
        lean = worst_case_nadir(sys, full_table=False, **kw)
    assert full.evaluated.all()
    for res in (fast, lean):
        assert not res.evaluated.all()            # buses were ruled out by the bound
        assert "table" not in vars(res._tables)   # the whole table is not computed yet
        assert res.bus == full.bus
        assert res.value == pytest.approx(full.value, rel=1e-12)
        # the nadir is flat in t: its time is fixed to ~sqrt(eps), the value to eps
        assert res.time == pytest.approx(full.time, rel=1e-6)
        assert res.certified == full.certified
        assert np.allclose(res.disturbance, full.disturbance, rtol=1e-6, atol=1e-12)
        # computed on first access, the table and the per-bus worst are the full search's
        assert np.array_equal(res.table, full.table)
        assert np.allclose(res.per_bus, full.per_bus, rtol=1e-12)
        assert np.array_equal(res.per_bus_time, full.per_bus_time)
        assert not res.table.flags.writeable
    assert fast.flagged == full.flagged and len(full.flagged) > 0


def test_gb_case_is_decided_by_a_few_rows():
    import netcoh.grids as grids

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sys = grids.load("gb").to_system(model="swing")
    full = worst_case_nadir(sys, rho=0.5, dt=0.05, horizon=1.0, full_table=True)
    fast = worst_case_nadir(sys, rho=0.5, dt=0.05, horizon=1.0)
    assert (fast.bus, fast.value, fast.certified) == (full.bus, pytest.approx(full.value, rel=1e-12),
                                                      True)
    assert np.count_nonzero(fast.evaluated.any(axis=1)) <= 20
    assert np.count_nonzero(fast.evaluated) <= 20 * fast.times.size
    assert np.array_equal(fast.table, full.table)


@pytest.mark.parametrize("kw", [dict(norm=np.inf), dict(norm=1), dict(method="statespace"),
                                dict(method="statespace", norm=np.inf),
                                dict(bounds="box", rho=0.8), dict(trips="all")])
def test_other_sets_and_models_use_the_triangle_bound(kw):
    """Any set and model: the triangle inequality over modes rules buses out."""
    sys = random_system(40, "swing_turbine", spread=50.0, seed=4)
    kw = dict(rho=0.5, dt=0.05, horizon=3.0) | kw
    if kw.get("bounds") == "box":
        kw["bounds"] = np.full(sys.n, 0.1)
    if kw.get("trips") == "all":
        kw["trips"] = np.linspace(0.05, 0.3, sys.n)
        kw.pop("rho")
    sys_h = sys
    if kw.get("method") == "statespace":       # heterogeneous: no modal closed form
        rng = np.random.default_rng(0)
        p = sys.nodal.params
        sys_h = nc.NetworkSystem.from_laplacian(
            np.asarray(sys.laplacian),
            nodal=nc.nodal.swing_turbine(p["m"], p["d"], p["droop"], rng.uniform(2, 9, sys.n)))
    full = worst_case_nadir(sys_h, full_table=True, **kw)
    fast = worst_case_nadir(sys_h, **kw)
    assert fast.method == full.method
    assert (fast.bus, fast.certified) == (full.bus, full.certified)
    assert fast.value == pytest.approx(full.value, rel=1e-12)
    assert not fast.evaluated.all()
    assert np.allclose(fast.per_bus, full.per_bus, rtol=1e-12, equal_nan=True)
    assert np.allclose(fast.table, full.table, rtol=1e-12, atol=1e-300, equal_nan=True)
    assert np.array_equal(np.isnan(fast.per_bus), np.isnan(full.per_bus))


def test_statespace_condition_estimate_matches_svd_and_guards():
    from netcoh.analysis.modal_statespace import statespace_modes
    from netcoh.exceptions import SolverError

    rng = np.random.default_rng(5)
    n = 7
    g = nc.nodal.swing_turbine(m=rng.uniform(0.1, 0.5, n), d=rng.uniform(0.2, 0.5, n),
                               droop=rng.uniform(0.1, 0.2, n), tau=rng.uniform(2, 9, n))
    sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(n, 1) * 3.0, nodal=g)
    A = sys.realization()[0].toarray()
    cond2 = np.linalg.cond(np.linalg.eig(A)[1])
    # the 1-norm estimate is within a factor n of the 2-norm condition number
    statespace_modes(sys, cond_max=cond2 * A.shape[0] * 1.01)
    with pytest.raises(SolverError, match="defective"):
        statespace_modes(sys, cond_max=cond2 / (A.shape[0] * 1.01))


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 25), seed=st.integers(0, 10_000),
       kind=st.sampled_from(["swing", "swing_turbine", "hetero"]),
       spread=st.sampled_from([1.0, 5.0, 300.0]), norm=st.sampled_from([2, np.inf, 1]),
       dt=st.sampled_from([0.02, 0.1, 0.5]), horizon=st.sampled_from([0.5, 3.0, None]),
       scale=st.sampled_from([1.0, 50.0]))
def test_pruned_equals_full_property(n, seed, kind, spread, norm, dt, horizon, scale):
    """Whatever the network, set and grid: the pruned search returns the full one's answer."""
    sys = random_system(n, kind, spread=spread, seed=seed, scale=scale)
    kw = dict(rho=0.3, norm=norm, dt=dt, horizon=horizon, f_hz=50.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.AccuracyWarning)
        full = worst_case_nadir(sys, full_table=True, **kw)
        # a threshold in a clear gap between two buses' values, near the median
        v = np.concatenate([[0.0], np.sort(full.per_bus_hz)])
        gaps = np.flatnonzero(np.diff(v) > 1e-6 * v[-1])
        k = gaps[np.argmin(np.abs(gaps - n // 2))]
        thr = float(0.5 * (v[k] + v[k + 1]))
        full = worst_case_nadir(sys, threshold_hz=thr, full_table=True, **kw)
        fast = worst_case_nadir(sys, threshold_hz=thr, **kw)
    assert fast.value == pytest.approx(full.value, rel=1e-9)
    assert fast.upper_bound >= fast.value and fast.certified == full.certified
    if not np.isclose(full.per_bus[np.argsort(full.per_bus)[-2:]], full.value, rtol=1e-6).all():
        assert fast.bus == full.bus                   # (a tie may pick either bus)
    assert fast.flagged == full.flagged
    assert np.array_equal(fast.table, full.table)
    assert np.allclose(fast.per_bus, full.per_bus, rtol=1e-9)


def test_full_table_must_be_a_bool():
    sys = random_system(4, seed=1)
    with pytest.raises(nc.NetcohTypeError, match="`full_table` must be True or False, got 'no'"):
        worst_case_nadir(sys, rho=0.5, full_table="no")
    assert worst_case_nadir(sys, rho=0.5, full_table=np.bool_(False)).certified


def test_plain_call_frames_and_trips_are_complete():
    """The default result gives every bus's worst and the table, as the full search does."""
    sys = random_system(30, "swing", seed=7)
    kw = dict(rho=0.4, dt=0.05, horizon=2.0, f_hz=50.0)
    full = worst_case_nadir(sys, full_table=True, **kw)
    res = worst_case_nadir(sys, **kw)
    frame = res.to_frame()
    assert not frame.isna().any().any()
    assert np.allclose(frame.worst, full.to_frame().worst, rtol=1e-12)
    assert res.table_frame().shape == (sys.n, res.times.size)
    trips = np.linspace(0.05, 0.3, sys.n)
    t_full = worst_case_nadir(sys, trips=trips, full_table=True, dt=0.05, horizon=2.0)
    t_res = worst_case_nadir(sys, trips=trips, dt=0.05, horizon=2.0)
    assert (t_res.bus, t_res.value) == (t_full.bus, pytest.approx(t_full.value, rel=1e-12))
    gone = np.flatnonzero(t_res.disturbance)[0]              # the tripped unit
    assert not t_res.evaluated[gone].any()
    assert np.allclose(t_res.table, t_full.table, rtol=1e-12, equal_nan=True)
    assert np.isnan(t_res.table[gone]).all() and np.isnan(t_res.per_bus[gone])
    assert np.allclose(t_res.per_bus, t_full.per_bus, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("seed", [0, 1])
def test_large_network_bounded_light_set_equals_full_table(seed):
    """Beyond 512 machines the tight bound treats a bounded set of light machines exactly;
    still an upper bound, so the pruned search returns the full table's answer."""
    sys = random_system(600, "swing", spread=20.0, seed=seed)
    model, _ = build_modal_model(sys)
    t = np.linspace(0.0, 1.0, 6)
    from netcoh.analysis.nadir_search import Search
    from netcoh.analysis.nadir_sets import NormBall

    engine = Search(model, NormBall(0.5, 2), 1e-6, full_table=False)
    assert engine.light < sys.n // 16
    exact = 0.5 * exact_row_norms(model, t)
    assert np.all(engine.bound_table(t) >= exact * (1 - 1e-12))
    kw = dict(rho=0.5, dt=0.05, horizon=1.0, model=model)
    full = worst_case_nadir(sys, full_table=True, **kw)
    fast = worst_case_nadir(sys, **kw)
    assert (fast.bus, fast.certified) == (full.bus, full.certified)
    assert fast.value == pytest.approx(full.value, rel=1e-12)
    assert fast.evaluated.sum() < 0.1 * fast.evaluated.size
    assert np.array_equal(fast.table, full.table)


def test_lazy_table_survives_replace_and_pickle():
    import dataclasses
    import pickle

    sys = random_system(12, "swing", seed=3)
    full = worst_case_nadir(sys, rho=0.5, dt=0.05, horizon=2.0, full_table=True)
    res = worst_case_nadir(sys, rho=0.5, dt=0.05, horizon=2.0)
    for other in (dataclasses.replace(res, threshold_hz=0.01), pickle.loads(pickle.dumps(res))):
        assert np.array_equal(other.table, full.table)
        assert np.allclose(other.per_bus, full.per_bus, rtol=1e-12)
    bare = dataclasses.replace(res, _tables=None)
    with pytest.raises(AttributeError, match="without its search"):
        bare.table
