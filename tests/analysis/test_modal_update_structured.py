"""Updates of the state-space modes from the Laplacian change alone (no realisation built).

References: the outaged network's own realisation (the state-matrix change the update
assumes), LAPACK's eigenvalues of it, its transfer matrix ``(diag(1/g(s)) + f(s) L)^{-1}``
solved directly, the dense modal path, and the steady state of the dense modal form.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netcoh as nc
from netcoh.analysis import modal_cluster, modal_secular, modal_update
from netcoh.analysis.modal_statespace import pin_reference, statespace_modes
from netcoh.analysis.nadir import worst_case_nadir
from netcoh.analysis.nadir_inputs import restrict
from netcoh.analysis.nadir_sets import BudgetBox

from .test_modal_update import laplacian, mesh, outage, transfer_from_modes, turbines


def _eigs_match(s_j, system):
    exact = la.eigvals(system.realization().A.toarray())
    exact = exact[exact.imag >= 0]
    assert s_j.size == exact.size
    d = np.abs(exact[:, None] - s_j[None, :])
    assert np.all(d.min(axis=1) <= 1e-9 * np.abs(exact).max())
    assert np.unique(d.argmin(axis=1)).size == exact.size


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(3, 14), seed=st.integers(0, 2**31 - 1), rank=st.integers(1, 2))
def test_laplacian_change_is_the_realisations_change(n, seed, rank):
    """``A + (B Z) Y^T`` built from ``L' - L`` equals the outaged network's own state matrix,
    and the traces used by the check are its traces."""
    rng = np.random.default_rng(seed)
    W = mesh(n, rng)
    nodal = turbines(n, rng)
    base = nc.NetworkSystem.from_laplacian(10.0 * laplacian(W), nodal=nodal)
    out = nc.NetworkSystem.from_laplacian(10.0 * laplacian(outage(W, rng, rank)), nodal=nodal)
    modal_update.clear()
    assert pin_reference(base)
    basis = modal_update.pinned()[0]
    layout = modal_update._layout(basis)
    assert layout is not None
    dL = out.laplacian - base.laplacian
    change = modal_update._laplacian_change(basis, layout, np.asarray(dL), 2,
                                            float(np.abs(out.laplacian).max()))
    A2 = out.realization().A.toarray()
    if isinstance(change, str):                  # outage() may halve nothing: no change
        assert change == "same" and np.array_equal(A2, basis.A.toarray())
        return
    Z, Yc, traces = change
    Y = np.zeros((basis.n_states, Z.shape[1]))
    Y[basis.row0:] = Yc
    built = basis.A.toarray() + np.asarray(basis.B @ Z) @ Y.T
    np.testing.assert_allclose(built, A2, rtol=0, atol=1e-12 * np.abs(A2).max())
    assert traces[0] == pytest.approx(np.trace(A2), rel=1e-12, abs=1e-12 * np.abs(A2).max())
    assert traces[1] == pytest.approx(np.trace(A2 @ A2), rel=1e-11)
    got = modal_update.update_structured(out)
    modal_update.clear()
    if got is None:
        assert modal_update.last_failure[0]
        return
    s_j, P, Q = got
    _eigs_match(s_j, out)
    for s in (0.3 + 1.7j, 2.0j, -0.05 + 0.4j):
        H = np.linalg.inv(out.system_matrix(s))
        assert np.abs(transfer_from_modes(s_j, P, Q, s) - H).max() <= 1e-9 * np.abs(H).max()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(3, 12), seed=st.integers(0, 2**31 - 1), last=st.booleans())
def test_trip_from_the_laplacian_matches_dense(n, seed, last):
    """A machine on its own link trips (anywhere, also the node the realisation is grounded
    on): the modes kept are the tripped network's eigenvalues and transfer matrix."""
    rng = np.random.default_rng(seed)
    W = np.zeros((n + 1, n + 1))
    W[:n, :n] = mesh(n, rng)
    j = int(rng.integers(0, n))
    W[j, n] = W[n, j] = rng.uniform(1.0, 5.0)                  # the machine's link
    order = np.arange(n + 1) if last else np.roll(np.arange(n + 1), -int(rng.integers(0, n)))
    W = W[np.ix_(order, order)]                                # the machine at any position
    k = int(np.flatnonzero(order == n)[0])
    nodal = turbines(n + 1, rng)
    ref = nc.NetworkSystem.from_laplacian(10.0 * laplacian(W), nodal=nodal)
    keep = np.delete(np.arange(n + 1), k)
    trip = nc.NetworkSystem.from_laplacian(10.0 * laplacian(W[np.ix_(keep, keep)]),
                                           nodal=nodal.subset(keep),
                                           labels=tuple(ref.labels[i] for i in keep))
    modal_update.clear()
    assert pin_reference(ref)
    got = modal_update.update_structured(trip)
    modal_update.clear()
    assert not isinstance(got, str)              # the structure applies
    if got is None:
        assert modal_update.last_failure[0]
        return
    s_j, P, Q = got
    _eigs_match(s_j, trip)
    for s in (0.3 + 1.7j, 2.0j):
        H = np.linalg.inv(trip.system_matrix(s))
        assert np.abs(transfer_from_modes(s_j, P, Q, s) - H).max() <= 1e-9 * np.abs(H).max()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(5, 12), m=st.integers(2, 4), seed=st.integers(0, 2**31 - 1))
def test_split_cutting_several_machines_matches_dense(n, m, seed):
    """An outage that cuts ``m`` machines (connected among themselves) off the rest: the
    main island's modes from the whole network's, against LAPACK's eigenvalues of the
    island's own realisation and its transfer matrix solved directly."""
    m = min(m, n - 2)
    rng = np.random.default_rng(seed)
    W = mesh(n, rng)
    isl = np.sort(rng.choice(n - 1, m, replace=False))      # the last node stays (ground)
    main = np.setdiff1d(np.arange(n), isl)
    cut = np.zeros((n, n), dtype=bool)
    cut[np.ix_(isl, main)] = cut[np.ix_(main, isl)] = True
    W[cut] = 0.0
    for part in (isl, main):                                  # each side connected
        W[part[:-1], part[1:]] = W[part[1:], part[:-1]] = 1.0 + rng.random(part.size - 1)
    a, b = int(rng.choice(isl)), int(rng.choice(main))
    Wb = W.copy()
    Wb[a, b] = Wb[b, a] = rng.uniform(0.5, 3.0)                # the one link between them
    nodal = turbines(n, rng)
    labels = [f"G{i}" for i in range(n)]
    base = nc.NetworkSystem.from_laplacian(10.0 * laplacian(Wb), nodal=nodal, labels=labels)
    out = nc.NetworkSystem.from_laplacian(10.0 * laplacian(W[np.ix_(main, main)]),
                                          nodal=nodal.subset(main),
                                          labels=[labels[i] for i in main])
    modal_update.clear()
    assert pin_reference(base)
    got = modal_update.update_structured(out)
    modal_update.clear()
    assert not isinstance(got, str)
    if got is None:                   # a check may refuse (then the dense path runs)
        assert modal_update.last_failure[0]
        return
    s_j, P, Q = got
    _eigs_match(s_j, out)
    for s in (0.3 + 1.7j, 2.0j, -0.05 + 0.4j):
        H = np.linalg.inv(out.system_matrix(s))
        assert np.abs(transfer_from_modes(s_j, P, Q, s) - H).max() <= 1e-9 * np.abs(H).max()


def test_close_roots_are_told_apart_by_their_own_size():
    """Two slow roots ``3e-10`` apart next to a fast one: the same root to the largest
    root's ``1e-11``, distinct to their own."""
    s = np.array([-100.0 + 0j, -0.2 + 0j, -0.2 - 3e-10 + 0j, -0.2 - 3e-10 + 0j])
    skip = np.zeros(4, dtype=bool)
    assert modal_secular._duplicates(s, skip).tolist() == [False, False, True, True]
    assert modal_secular._duplicates(s, skip, local=True).tolist() == [False, False, False, True]


def test_structured_path_gives_the_dense_nadir_and_steady_state():
    rng = np.random.default_rng(5)
    n = 20
    W = mesh(n, rng, density=0.3)
    nodal = turbines(n, rng)
    base = nc.NetworkSystem.from_laplacian(30.0 * laplacian(W), nodal=nodal)
    modal_update.clear()
    assert pin_reference(base)
    caps = rng.uniform(0.0, 0.3, n) * (rng.random(n) < 0.7)
    for _ in range(3):
        out = nc.NetworkSystem.from_laplacian(30.0 * laplacian(outage(W, rng, 1)), nodal=nodal)
        fast = statespace_modes(out)
        assert modal_update.last_failure[0] == ""
        dense = statespace_modes(out, reuse=False)
        # the steady state in closed form equals the dense modal form's
        Sinf = np.real((dense.P * dense.phi_inf()) @ dense.Q)
        np.testing.assert_allclose(fast.rows_at_inf(), Sinf, rtol=1e-8)
        small, _, _ = restrict(fast, BudgetBox(caps, 0.4, n))
        np.testing.assert_allclose(small.rows_at_inf(), Sinf[:, caps > 0], rtol=1e-8)
        for kw in (dict(rho=0.5), dict(bounds=caps, rho=0.4)):
            r1 = worst_case_nadir(out, model=fast, horizon=6.0, **kw)
            r2 = worst_case_nadir(out, model=dense, horizon=6.0, **kw)
            assert r1.value == pytest.approx(r2.value, rel=1e-9)
            assert r1.bus == r2.bus and r1.certified and r2.certified
    modal_update.clear()


def test_structure_with_feedthrough_is_not_used():
    """Nodes with feedthrough put the Laplacian into more blocks: the realisation path."""
    rng = np.random.default_rng(1)
    n = 6
    W = mesh(n, rng)
    nodal = nc.nodal.from_tf(num=[[1.0, 2.0]] * n,
                             den=[[1.0 + 0.1 * i, 3.0 + 0.2 * i] for i in range(n)])
    base = nc.NetworkSystem.from_laplacian(laplacian(W), nodal=nodal)
    modal_update.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pinned = pin_reference(base)
    out = nc.NetworkSystem.from_laplacian(laplacian(outage(W, rng, 1)), nodal=nodal)
    if pinned:
        assert modal_update.update_structured(out) == "n/a"
    modal_update.clear()


def test_real_rows_of_the_pair_product():
    """Rows flagged real drop their imaginary part only when it is rounding."""
    rng = np.random.default_rng(4)
    n = 8
    base = nc.NetworkSystem.from_laplacian(10.0 * laplacian(mesh(n, rng)), nodal=turbines(n, rng))
    basis = modal_update.decompose(base)
    h, N = basis.half, basis.n_states
    assert h > 0
    Y = rng.standard_normal((6, N)) + 1j * rng.standard_normal((6, N))
    Y[:4, h:2 * h] = np.conj(Y[:4, :h])                       # real rows: conjugate pairs ...
    Y[:4, 2 * h:] = Y[:4, 2 * h:].real                        # ... and real on the real modes
    real = np.array([True, True, True, True, True, False])    # row 4 flagged, but not real
    exact = modal_secular._pair_product(basis, Y)
    got = modal_secular._pair_product(basis, Y, real)
    assert got.shape == (6, n)                                # one row per row of Y
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-13 * np.abs(exact).max())
    assert np.all(got[:4].imag == 0)
    assert np.abs(got[4].imag).max() > 1e-3 * np.abs(got[4]).max()


def test_first_newton_step_from_the_reference_gaps():
    rng = np.random.default_rng(9)
    n = 10
    W = mesh(n, rng)
    nodal = turbines(n, rng)
    base = nc.NetworkSystem.from_laplacian(laplacian(W), nodal=nodal)
    out = nc.NetworkSystem.from_laplacian(laplacian(outage(W, rng, 1)), nodal=nodal)
    basis = modal_update.decompose(base)
    fac = modal_secular.low_rank(sp.csr_matrix(out.realization().A - basis.A), 2, 1.0)
    Z = modal_secular._input_part(basis.B, fac[0])
    a, b = basis.Q @ Z, basis.W.T @ fac[1][basis.row0:]
    BA = (b[:, :, None] * a[:, None, :]).reshape(basis.n_states, -1)
    mu = basis.mu
    start = np.flatnonzero(mu.imag >= 0)
    real = mu[start].imag == 0
    tau0 = np.zeros(start.size, complex)
    t1, c1 = modal_secular._newton(mu, start, tau0, real, a, b, BA)
    t2, c2 = modal_secular._newton(mu, start, tau0, real, a, b, BA,
                                   modal_secular._pole_gaps(mu, start))
    # real roots from real poles in real arithmetic (conjugate pairs folded)
    assert basis.half > 0 and real.sum() > 2
    t3, c3 = modal_secular._newton(mu, start, tau0, real, a, b, BA,
                                   modal_secular._pole_gaps(mu, start), basis.half)
    assert c1.all() and c2.all() and c3.all()
    np.testing.assert_allclose(t2, t1, rtol=1e-12, atol=1e-14 * np.abs(mu).max())
    np.testing.assert_allclose(t3, t1, rtol=1e-10, atol=1e-14 * np.abs(mu).max())
    assert np.all(t3[real].imag == 0)
    # each root of the updated state matrix
    exact = la.eigvals(out.realization().A.toarray())
    s3 = mu[start] + t3
    assert np.abs(exact[:, None] - s3[None, :]).min(axis=0).max() <= 1e-9 * np.abs(mu).max()


def test_a_root_at_the_origin_with_a_rounding_imaginary_part_is_real():
    """Newton from a complex pole can end on the origin (a tripped machine's coupling pole)
    with an imaginary part of rounding size; such a root is on the real axis and is searched
    for again (counted as a pair it would hide a missing root). Roots off the axis by more
    than rounding stay complex, however small."""
    mu = np.array([-0.2 + 30.0j, -0.2 - 30.0j, -3.6])
    s = np.array([7.3e-14 + 2.7e-15j, -1.0 + 2e-10j, -1e-6 + 1e-6j, -0.5 + 1e-3j])
    assert modal_update._on_axis(s, mu).tolist() == [True, True, False, False]


@pytest.mark.slow
def test_gb_outages_and_trip_match_the_dense_path():
    """GB (394 swing-turbine machines, 1,181 states): branch outages and a unit trip updated
    from the intact network against the dense eigenproblem; on ``line:29`` a complex pair of
    modes meets on the real axis (two real roots near a complex pole), on ``line:23`` a
    cluster of close poles needs the deflated search, and on the trip of ``gen:16`` Newton
    from a complex pole ends on the origin (the tripped machine's coupling pole) with an
    imaginary part of rounding size: that root is real, and searched for again; on the trip
    of ``gen:121`` a missed pole far from the others is seeded beside itself, not from a
    cluster of the whole spectrum. On ``line:1211`` the seeds of six missed roots from
    the clusters' own eigenproblems include poles themselves (poles the change leaves
    decoupled): they are moved off before Aberth's iteration. The turbines' real poles
    (about 380 within 0.005 of ``-0.2``) make the products with the mode shapes go
    through the cluster's expansions."""
    from netcoh.screening import ScreeningContext, contingency_list

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = nc.grids.load("gb")
    ctx = ScreeningContext.from_grid(grid, model="swing_turbine")
    modal_update.clear()
    pin_reference(ctx.base_system())                       # the intact network
    assert len(modal_update.pinned()) == 1
    # the turbines' poles form a tight cluster: the mode shapes' products use its expansions
    cl = modal_cluster.cluster_of(modal_update.pinned()[0])
    assert cl is not None and cl.hi - cl.lo > 300
    conts = contingency_list(grid, "n-1")
    picks = [c for c in conts if c.kind == "branch" and c.id in ("line:4", "line:23",
                                                                  "line:29", "line:1211")] + \
        [c for c in conts if c.kind == "machine" and c.id in ("gen:0", "gen:16", "gen:121")]
    assert len(picks) == 7
    t = np.array([0.05, 0.5, 1.0, 3.0])
    for c in picks:
        system = ctx.systems(c)[0][0][0]
        assert isinstance(modal_update.update_structured(system), tuple), c.name  # updated
        fast = statespace_modes(system)
        assert modal_update.last_failure[0] == ""
        dense = statespace_modes(system, reuse=False)
        bus, tt = np.repeat(np.arange(system.n), t.size), np.tile(t, system.n)
        ref = dense.rows(bus, tt)
        assert np.abs(fast.rows(bus, tt) - ref).max() <= 1e-9 * np.abs(ref).max()
    modal_update.clear()


@pytest.mark.parametrize("one_tau", [True, False])
def test_residual_through_the_common_denominator_is_the_direct_one(one_tau):
    """Machines with one turbine time constant share the denominator of ``1/g_i``: the
    residual check factors through it and gives the direct estimate's errors; a shape off
    by ``1e-7`` fails either way. Distinct time constants keep the direct check."""
    rng = np.random.default_rng(11)
    n = 14
    m = rng.uniform(1.0, 10.0, n)
    tau = np.full(n, 5.0) if one_tau else rng.uniform(2.0, 9.0, n)
    nodal = nc.nodal.swing_turbine(m, rng.uniform(0.5, 2.0, n) * m, rng.uniform(1.0, 20.0, n), tau)
    system = nc.NetworkSystem.from_laplacian(30.0 * laplacian(mesh(n, rng)), nodal=nodal)
    num, den = np.asarray(nodal.num), np.asarray(nodal.den)
    common = modal_secular._common_numerator(num, den)
    assert (common is not None) == one_tau
    if not one_tau:
        return
    s = la.eigvals(system.to_statespace().A)
    s = s[np.abs(s) > 1e-9]                                     # the synchronous mode: none
    P = np.column_stack([la.null_space(system.system_matrix(x), rcond=1e-9)[:, 0] for x in s])
    L = np.asarray(system.laplacian.todense()) if sp.issparse(system.laplacian) else system.laplacian
    G = np.random.default_rng(1).standard_normal((8, n))
    f = np.asarray(system.coupling(s))[:, 0]
    Lnorm = float(np.abs(L).sum(axis=1).max())
    for shape in (P, P + 1e-7 * rng.standard_normal(P.shape)):
        direct = modal_secular._direct_errors(nodal, num, den, s, shape, f, G, G @ L, Lnorm)
        fact, unsure = modal_secular._factored_errors(common, s, np.ascontiguousarray(shape.T), f,
                                                      G, G @ L, Lnorm)
        assert not unsure.any()
        np.testing.assert_allclose(fact, direct, rtol=1e-6, atol=1e-13)
    assert direct.max() > 1e-7 * 10 and modal_secular._residual_ok(system, s, P, np.ones(s.size))
    assert not modal_secular._residual_ok(system, s, shape, np.ones(s.size))
    # a mode at a zero of 1/g_i (no governor, s = -1/tau) cannot be scaled through the sum
    nodal0 = nc.nodal.swing_turbine(m, m, np.r_[0.0, np.ones(n - 1)], tau)
    D0 = modal_secular._common_numerator(np.asarray(nodal0.num), np.asarray(nodal0.den))
    e0 = np.zeros((1, n))
    e0[0, 0] = 1.0
    _, unsure = modal_secular._factored_errors(D0, np.array([-0.2]), e0, np.ones(1), G, G @ L, Lnorm)
    assert unsure.tolist() == [True]


def test_nearly_double_poles_left_by_a_weak_change_are_not_searched_again(monkeypatch):
    """Two identical machines hung on one node by equal weak links have poles about 1e-9
    apart (their antisymmetric mode does not see the rest of the network). An outage
    elsewhere leaves both where they are: Newton from each pole ends on its own root, and
    the two are not taken for one root found twice (which sent them to Aberth's
    iteration: the test of one root found twice was at 1e-9 of the largest root, not of
    the roots' own size). Checked against LAPACK."""
    n = 8
    L = np.zeros((n, n))
    for i in range(6):                                   # a ring of six machines
        j = (i + 1) % 6
        L[i, j] = L[j, i] = -20.0 - 3.0 * i
    L[0, 6] = L[6, 0] = L[0, 7] = L[7, 0] = -1e-4         # two identical machines, weakly
    np.fill_diagonal(L, -L.sum(axis=1))
    M = np.array([3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 2.0, 2.0])
    nodal = nc.nodal.swing_turbine(M, 1.0, 2.0, 5.0)
    ref = nc.NetworkSystem.from_laplacian(L, nodal=nodal)
    modal_update.clear()
    pin_reference(ref)
    mu = modal_update.pinned()[0].mu
    near = np.abs(mu[:, None] - mu[None, :]) + np.eye(mu.size)
    pair = set(np.unravel_index(int(np.argmin(near)), near.shape))
    gap = float(near.min())
    assert gap < 1e-9 * np.abs(mu).max()             # within the old test of one root twice
    assert gap > 1e-9 * np.abs(mu[list(pair)]).max()          # but not of their own size
    L2 = L.copy()
    L2[2, 3] = L2[3, 2] = 0.0                                # a ring line out
    np.fill_diagonal(L2, 0.0)
    np.fill_diagonal(L2, -L2.sum(axis=1))
    out = nc.NetworkSystem.from_laplacian(L2, nodal=nodal)
    searched = []
    real_aberth = modal_update._aberth
    def spy(mu_, poles, *rest):
        searched.extend(int(k) for k in poles)
        return real_aberth(mu_, poles, *rest)
    monkeypatch.setattr(modal_update, "_aberth", spy)
    s, _, _ = modal_update.update_structured(out)
    assert not pair & set(searched)
    _eigs_match(s, out)
    modal_update.clear()


def test_a_tripped_machines_own_modes_are_not_searched_for(monkeypatch):
    """The modes of a tripped machine's isolated states (the poles of ``g_k`` and the
    coupling's pole at zero) are eigenvalues of the updated network known beforehand;
    Newton's method from the reference's poles misses them here, and they are taken as
    found instead of being searched for by Aberth's iteration (which then deflates them
    when it runs at all). Checked against LAPACK."""
    rng = np.random.default_rng(4)
    n = 12
    L = np.zeros((n, n))
    for i in range(n - 1):                                          # a ring of eleven
        j = (i + 1) % (n - 1)
        L[i, j] = L[j, i] = -rng.uniform(5.0, 30.0)
    L[0, n - 1] = L[n - 1, 0] = -8.0                               # one machine on its link
    np.fill_diagonal(L, -L.sum(axis=1))
    nodal = nc.nodal.swing_turbine(rng.uniform(2.0, 8.0, n), 1.0, 2.0, 5.0)
    ref = nc.NetworkSystem.from_laplacian(L, nodal=nodal)
    modal_update.clear()
    pin_reference(ref)
    Lt = L[:n - 1, :n - 1].copy()
    Lt[0, 0] -= 8.0
    trip = nc.NetworkSystem.from_laplacian(Lt, nodal=nodal.subset(np.arange(n - 1)),
                                           labels=ref.labels[:n - 1])
    own = np.append(np.roots(np.asarray(nodal.den[n - 1], float)), 0.0)
    own = own[own.imag >= 0]
    searched, given = [], []
    real_aberth, real_own = modal_update._aberth, modal_update._missed_own
    def spy(mu_, poles, real, known, *rest):
        searched.append(bool(np.all(np.abs(own[:, None] - known[None, :]).min(axis=1) < 1e-9)))
        return real_aberth(mu_, poles, real, known, *rest)
    def spy_own(*args):
        out = real_own(*args)
        given.extend(out[0])
        return out
    monkeypatch.setattr(modal_update, "_aberth", spy)
    monkeypatch.setattr(modal_update, "_missed_own", spy_own)
    s, _, _ = modal_update.update_structured(trip)
    # Newton missed every own mode here, and each was taken as found
    assert np.abs(own[:, None] - np.array(given, dtype=complex)[None, :]).min(axis=1).max() < 1e-9
    assert all(searched)                 # the own modes are known to every search, if any
    _eigs_match(s, trip)
    modal_update.clear()
