"""Low-rank updates of the state-space modal form against the dense eigenproblem.

References: the eigenvalues of the outaged network's state matrix from LAPACK, and its
transfer matrix ``(diag(1/g(s)) + f(s) L)^{-1}`` solved directly at test points; the
nadir of the dense path.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as la
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netcoh as nc
from netcoh.analysis import modal_update
from netcoh.analysis.modal_statespace import pin_reference, statespace_modes
from netcoh.analysis.nadir import worst_case_nadir
from netcoh.network.system import check_stable


def mesh(n, rng, density=0.5):
    W = np.triu(rng.uniform(0.5, 3.0, (n, n)) * (rng.random((n, n)) < density), 1)
    W[np.arange(n - 1), np.arange(1, n)] += 1.0             # a path keeps it connected
    return W + W.T


def laplacian(W):
    return np.diag(W.sum(1)) - W


def turbines(n, rng):
    """Non-proportional swing-turbine machines (distinct parameters)."""
    m = rng.uniform(1.0, 10.0, n)
    return nc.nodal.swing_turbine(m, rng.uniform(0.5, 2.0, n) * m, rng.uniform(1.0, 20.0, n),
                                  rng.uniform(2.0, 9.0, n))


def reference(system):
    real = system.realization()
    mu, W = la.eig(real.A.toarray())
    return modal_update.dense_basis(real, mu, W, la.lu_factor(W),
                                    row0=int(np.sum(system.nodal.orders)), system=system)


def transfer_from_modes(s_j, P, Q, s):
    """``H(s)`` from the kept modes (complex pairs counted once, ``Q`` doubled)."""
    out = np.zeros((P.shape[0], P.shape[0]), dtype=complex)
    for k in range(s_j.size):
        R = np.outer(P[:, k], Q[k])
        if s_j[k].imag > 0:
            out += 0.5 * (R / (s - s_j[k]) + np.conj(R) / (s - np.conj(s_j[k])))
        else:
            out += R / (s - s_j[k])
    return out


def outage(W, rng, k):
    """Take ``k`` edges of ``W`` out (or halve them), keeping the path edges."""
    W = W.copy()
    iu = [(i, j) for i, j in zip(*np.triu_indices_from(W, 1)) if W[i, j] > 0 and j != i + 1]
    rng.shuffle(iu)
    for i, j in iu[:k]:
        W[i, j] = W[j, i] = W[i, j] * rng.choice([0.0, 0.5])
    return W


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(3, 14), seed=st.integers(0, 2**31 - 1), rank=st.integers(1, 2))
def test_update_matches_dense_eigenvalues_and_transfer(n, seed, rank):
    rng = np.random.default_rng(seed)
    W = mesh(n, rng)
    nodal = turbines(n, rng)
    base = nc.NetworkSystem.from_laplacian(10.0 * laplacian(W), nodal=nodal)
    W2 = outage(W, rng, rank)
    out_sys = nc.NetworkSystem.from_laplacian(10.0 * laplacian(W2), nodal=nodal)
    got = modal_update.update_basis(reference(base), out_sys, out_sys.realization())
    if got is None:           # a check refused the update: the dense path is used instead
        assert modal_update.last_failure[0]
        return
    s_j, P, Q = got
    exact = la.eigvals(out_sys.realization().A.toarray())
    exact = exact[exact.imag >= 0]
    assert s_j.size == exact.size
    # every exact eigenvalue found, once
    d = np.abs(exact[:, None] - s_j[None, :])
    assert np.all(d.min(axis=1) <= 1e-9 * np.abs(exact).max())
    assert np.unique(d.argmin(axis=1)).size == exact.size
    for s in (0.3 + 1.7j, 2.0j, -0.05 + 0.4j):
        H = np.linalg.inv(out_sys.system_matrix(s))
        Hm = transfer_from_modes(s_j, P, Q, s)
        assert np.abs(Hm - H).max() <= 1e-9 * np.abs(H).max()


def test_statespace_modes_reuse_gives_the_dense_nadir():
    rng = np.random.default_rng(7)
    n = 24
    W = mesh(n, rng, density=0.25)
    nodal = turbines(n, rng)
    base = nc.NetworkSystem.from_laplacian(30.0 * laplacian(W), nodal=nodal)
    modal_update.clear()
    assert pin_reference(base)                               # dense; kept as the reference
    for _ in range(3):
        sys2 = nc.NetworkSystem.from_laplacian(30.0 * laplacian(outage(W, rng, 1)), nodal=nodal)
        assert modal_update.lookup(sys2.realization()) is not None
        fast = statespace_modes(sys2)
        assert modal_update.last_failure[0] == ""           # the update was used
        dense = statespace_modes(sys2, reuse=False)
        r1 = worst_case_nadir(sys2, rho=0.5, model=fast, horizon=6.0)
        r2 = worst_case_nadir(sys2, rho=0.5, model=dense, horizon=6.0)
        assert r1.value == pytest.approx(r2.value, rel=1e-9)
        assert r1.bus == r2.bus and r1.certified and r2.certified
        np.testing.assert_allclose(fast.rows(np.arange(n), np.full(n, 1.3)),
                                   dense.rows(np.arange(n), np.full(n, 1.3)), atol=1e-10)
    modal_update.clear()


def test_references_only_on_request():
    """Without a pinned reference every network is decomposed densely (the digits do not
    depend on what was computed before); ``reuse=True`` chains outages from the last one."""
    rng = np.random.default_rng(11)
    n = 10
    W = mesh(n, rng)
    nodal = turbines(n, rng)
    modal_update.clear()
    first = nc.NetworkSystem.from_laplacian(laplacian(outage(W, rng, 1)), nodal=nodal)
    second = nc.NetworkSystem.from_laplacian(laplacian(outage(W, rng, 1)), nodal=nodal)
    statespace_modes(first)
    assert modal_update.lookup(second.realization(), recent=True) is None
    statespace_modes(first, reuse=True)                     # kept among the recent ones
    assert modal_update.lookup(second.realization()) is None
    assert modal_update.lookup(second.realization(), recent=True) is not None
    chained = statespace_modes(second, reuse=True)          # rank two from `first`
    assert modal_update.last_failure[0] == ""
    exact = la.eigvals(second.realization().A.toarray())
    np.testing.assert_allclose(np.sort_complex(chained.poles[:, 0]),
                               np.sort_complex(exact[exact.imag >= 0]), rtol=1e-9, atol=1e-12)
    modal_update.clear()


def test_full_rank_change_falls_back_to_the_dense_path():
    rng = np.random.default_rng(3)
    n = 8
    nodal = turbines(n, rng)
    base = nc.NetworkSystem.from_laplacian(laplacian(mesh(n, rng)), nodal=nodal)
    other = nc.NetworkSystem.from_laplacian(laplacian(mesh(n, rng, density=0.9)), nodal=nodal)
    assert modal_update.update_basis(reference(base), other, other.realization()) is None
    assert modal_update.last_failure[0] == "rank"
    modal_update.clear()
    assert pin_reference(base)
    model = statespace_modes(other)                          # refused update: dense
    assert modal_update.last_failure[0] == "rank"
    modal_update.clear()
    exact = la.eigvals(other.realization().A.toarray())
    assert np.sort_complex(model.poles[:, 0]) == pytest.approx(
        np.sort_complex(exact[exact.imag >= 0]), rel=1e-10, abs=1e-12)


def test_low_rank_factors_and_rank_limit():
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal((2, 6, 3))
    X, Y = modal_update.low_rank(u @ v.T, 3, 1.0)
    np.testing.assert_allclose(X @ Y.T, u @ v.T, atol=1e-12)
    assert modal_update.low_rank(np.asarray(u @ v.T), 2, 1.0) is None


def test_check_stable_uses_given_eigenvalues():
    L = nc.laplacian.complete(3)
    lag3 = nc.nodal.from_tf(num=[[1.0]] * 3, den=[[1.0, 3.0, 3.0, 1.0]] * 3)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=lag3)      # not certified by passivity
    check_stable(sys, eigenvalues=[-1.0 + 2.0j, -0.5])
    with pytest.raises(nc.UnstableError, match="unstable"):
        check_stable(sys, eigenvalues=[-1.0, 0.2 + 1.0j])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(3, 12), seed=st.integers(0, 2**31 - 1))
def test_unit_trip_update_matches_dense(n, seed):
    """A machine joined by its own link trips: the reference's rank-one update restricted to
    the other nodes against the tripped network's own eigenvalues and transfer matrix."""
    rng = np.random.default_rng(seed)
    W = np.zeros((n + 1, n + 1))
    W[:n, :n] = mesh(n, rng)
    j = int(rng.integers(0, n))
    W[j, n] = W[n, j] = rng.uniform(1.0, 5.0)                  # the machine's link
    nodal = turbines(n + 1, rng)
    ref = nc.NetworkSystem.from_laplacian(10.0 * laplacian(W), nodal=nodal)
    keep = np.arange(n)
    trip = nc.NetworkSystem.from_laplacian(10.0 * laplacian(W[:n, :n]), nodal=nodal.subset(keep),
                                           labels=ref.labels[:n])
    got = modal_update.update_trip(reference(ref), trip, trip.realization())
    if got is None:
        assert modal_update.last_failure[0]
        return
    s_j, P, Q = got
    exact = la.eigvals(trip.realization().A.toarray())
    exact = exact[exact.imag >= 0]
    assert s_j.size == exact.size
    d = np.abs(exact[:, None] - s_j[None, :])
    assert np.all(d.min(axis=1) <= 1e-9 * np.abs(exact).max())
    for s in (0.3 + 1.7j, 2.0j):
        H = np.linalg.inv(trip.system_matrix(s))
        assert np.abs(transfer_from_modes(s_j, P, Q, s) - H).max() <= 1e-9 * np.abs(H).max()


def test_pinned_reference_serves_unit_trips():
    rng = np.random.default_rng(2)
    n = 9
    W = np.zeros((n + 1, n + 1))
    W[:n, :n] = mesh(n, rng)
    W[3, n] = W[n, 3] = 2.0
    nodal = turbines(n + 1, rng)
    ref = nc.NetworkSystem.from_laplacian(laplacian(W), nodal=nodal)
    trip = nc.NetworkSystem.from_laplacian(laplacian(W[:n, :n]), nodal=nodal.subset(np.arange(n)),
                                           labels=ref.labels[:n])
    modal_update.clear()
    assert pin_reference(ref)
    fast = statespace_modes(trip)
    assert modal_update.last_failure[0] == ""
    dense = statespace_modes(trip, reuse=False)
    r1 = worst_case_nadir(trip, rho=0.5, model=fast, horizon=8.0)
    r2 = worst_case_nadir(trip, rho=0.5, model=dense, horizon=8.0)
    assert r1.value == pytest.approx(r2.value, rel=1e-9) and r1.bus == r2.bus
    modal_update.clear()


def test_pin_reference_names_bad_inputs():
    from netcoh.exceptions import InputError, NetcohTypeError

    with pytest.raises(NetcohTypeError, match="`system` must be a NetworkSystem, got str"):
        pin_reference("ieee39")
    L = 5.0 * nc.laplacian.ring_lattice(6, 2)
    system = nc.NetworkSystem.from_laplacian(
        L, nodal=nc.nodal.swing_turbine(np.arange(1.0, 7.0), 1.0, 2.0, 5.0))
    with pytest.raises(InputError, match="`cond_max` must be >= 1, got 0.5"):
        pin_reference(system, cond_max=0.5)


def test_roots_near_clusters_of_close_poles_start_from_each_clusters_own_problem():
    """Newton from a pole of a tight cluster can end on its neighbour's root; the missed
    roots are then found by Aberth's iteration started from each cluster's own rank-one
    eigenproblem. Checked against the dense eigenvalues of ``diag(mu) + a b^T``."""
    from netcoh.analysis.modal_secular import _aberth, _cluster_seeds

    rng = np.random.default_rng(3)
    spread = np.sort(-rng.uniform(0.5, 5.0, 40))
    cluster = -0.2 + 1e-4 * np.arange(6)                    # six real poles 1e-4 apart
    pair = np.array([-1.8 + 1.60j, -1.8 + 1.61j])           # two close complex poles
    up = np.concatenate([pair, -1.8 + 1j * rng.uniform(3.0, 9.0, 10)])
    mu = np.concatenate([up, np.conj(up), spread, cluster]).astype(complex)
    def side():                     # conjugate poles get conjugate entries (a real matrix)
        z = 0.05 * (rng.standard_normal(up.size) + 1j * rng.standard_normal(up.size))
        return np.concatenate([z, np.conj(z), 0.05 * rng.standard_normal(46)])[:, None]

    a, b = side(), side()
    exact = la.eigvals(np.diag(mu) + a @ b.T)
    # pretend Newton found every root but those of two cluster poles and one pair pole
    miss = np.array([0, mu.size - 1, mu.size - 3])
    nearest = [int(np.argmin(np.abs(exact - mu[k]))) for k in miss]
    taken = set(nearest) | {int(np.argmin(np.abs(exact - np.conj(exact[nearest[0]]))))}
    known = np.delete(exact, sorted(taken))
    m = mu.size - known.size
    seeds = _cluster_seeds(mu, miss, known, a, b, m)
    assert seeds is not None and seeds.size == m
    missing = exact[sorted(taken)]
    # each seed is much closer to a missing root than the cluster's spacing
    assert np.abs(seeds[:, None] - missing[None, :]).min(axis=1).max() < 1e-5
    found = _aberth(mu, miss, mu[miss].imag == 0, known, a, b, b * a)
    want = missing[missing.imag >= 0]
    assert found is not None and found.size == want.size
    assert np.abs(np.sort_complex(found) - np.sort_complex(want)).max() < 1e-10


def test_a_missed_pole_far_from_the_others_is_not_solved_as_a_cluster_of_everything():
    """A missed pole far from all others would gather most of the spectrum into its
    cluster, a small eigenproblem as large as the dense one (two GB unit trips took 2 s
    there). Such clusters give no seeds; Aberth's iteration starts beside the poles and
    still finds the root."""
    from netcoh.analysis.modal_secular import _CLUSTER_MAX, _aberth, _cluster_seeds

    rng = np.random.default_rng(5)
    mu = np.concatenate([-1.0 - 0.01 * np.arange(_CLUSTER_MAX + 20), [-10.0]]).astype(complex)
    a = 0.05 * rng.standard_normal((mu.size, 1))
    b = 0.05 * rng.standard_normal((mu.size, 1))
    exact = la.eigvals(np.diag(mu) + a @ b.T)
    far = mu.size - 1
    lost = int(np.argmin(np.abs(exact - mu[far])))
    known = np.delete(exact, lost)
    assert _cluster_seeds(mu, np.array([far]), known, a, b, 1) is None
    found = _aberth(mu, np.array([far]), np.array([True]), known, a, b, b * a)
    assert found is not None and abs(found[0] - exact[lost]) < 1e-10
