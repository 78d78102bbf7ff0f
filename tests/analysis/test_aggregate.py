"""The harmonic-mean aggregate in feedback form: exact for any number of distinct turbines.

References: ``1/sum(1/g_i(s))`` evaluated node by node, python-control's evaluation of the
exported StateSpace, numpy's dense eigenvalues, and a sparse solve of the realisation.
"""

import warnings

import control
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import netcoh as nc
from netcoh.exceptions import AccuracyWarning, InputError

OMEGA = np.logspace(-3, 3, 200)


def _turbines(n, seed=1):
    rng = np.random.default_rng(seed)
    return nc.nodal.swing_turbine(m=rng.uniform(0.05, 0.5, n), d=rng.uniform(0.01, 0.5, n),
                                  droop=rng.uniform(0.1, 20, n), tau=rng.uniform(1, 10, n))


def _direct(g, s):
    return 1.0 / np.sum(g.inverse(s), axis=1)


def _rel(a, b):
    return float(np.max(np.abs(a - b) / np.abs(b)))


def _sparse_eval(gh, s):
    """``C (sI - A)^{-1} B + D`` of the sparse realisation, states reordered so the arrow's
    dense row and column come last (no fill-in in the LU)."""
    A, B, C, D = gh.realization(sparse=True)
    r = A.shape[0]
    perm = np.r_[1:r, 0]
    A = A[perm][:, perm].tocsc().astype(complex)
    B, C = B[perm, 0].astype(complex), C[0, perm]
    eye = sp.identity(r, format="csc", dtype=complex)
    out = []
    for sk in s:
        lu = spla.splu(sk * eye - A, permc_spec="NATURAL", diag_pivot_thresh=0.0)
        out.append(C @ lu.solve(B) + D[0, 0])
    return np.array(out)


@pytest.mark.parametrize("n", [10, 100, 1000, 10000])
def test_many_distinct_time_constants_exact_and_stable(n):
    g = _turbines(n)
    gh = nc.aggregate_dynamics(g)
    s = 1j * OMEGA
    ref = _direct(g, s)
    assert gh.order == n + 1                      # 1 + n distinct turbine time constants
    assert _rel(1.0 / gh.inverse(s), ref) <= 1e-10
    # the realisation (what to_ss exports) reproduces the aggregate
    if n <= 1000:
        ss = gh.to_ss()
        assert ss.nstates == n + 1
        assert _rel(np.squeeze(ss(s)), ref) <= 1e-10
    else:
        assert _rel(_sparse_eval(gh, s[::10]), ref[::10]) <= 1e-10
    poles = gh.poles
    assert poles.size == n + 1
    assert np.all(poles.real < 0)
    if n <= 1000:                                 # an independent eigen-solver
        ev = np.sort_complex(np.linalg.eigvals(gh.realization()[0]))
        assert np.max(np.abs(poles - ev)) <= 1e-9 * np.max(np.abs(ev))
    # one real pole between each pair of consecutive turbine poles -1/tau (interlacing), and a
    # pair whose residual in 1/g_hat is small
    z = np.sort(gh.zeros.real)
    real = np.sort(poles[poles.imag == 0].real)
    pair = poles[poles.imag != 0]
    assert pair.size == 2 and real.size == n - 1
    assert np.all((real > z[:-1]) & (real < z[1:]))
    assert np.all(np.abs(gh.inverse(pair)) <= 1e-8 * np.abs(gh.poly[0] * pair))


@pytest.mark.parametrize("n", [10, 100, 400])
def test_poles_match_dense_eigenvalues(n):
    gh = nc.aggregate_dynamics(_turbines(n, seed=n))
    ev = np.sort_complex(np.linalg.eigvals(gh.realization()[0]))
    assert np.max(np.abs(gh.poles - ev)) <= 1e-9 * np.max(np.abs(ev))


def test_the_issue_example_is_stable():
    rng = np.random.default_rng(1)
    n = 100
    g = nc.nodal.swing_turbine(m=rng.uniform(.05, .5, n), d=rng.uniform(.01, .5, n),
                               droop=rng.uniform(0, 20, n), tau=rng.uniform(1, 10, n))
    gh = nc.aggregate_dynamics(g)
    assert gh.poles.real.max() < 0
    s = 1j * OMEGA
    assert _rel(np.squeeze(gh.to_ss()(s)), _direct(g, s)) <= 1e-10


def test_dc_gain_is_inverse_total_damping_plus_droop():
    g = _turbines(200)
    gh = nc.aggregate_dynamics(g)
    p = g.params
    assert gh.dc_gain == pytest.approx(1.0 / (p["d"].sum() + p["droop"].sum()), rel=1e-13)
    # zeros of g_hat are the turbine poles -1/tau
    np.testing.assert_allclose(np.sort(gh.zeros.real), np.sort(-1.0 / p["tau"]), rtol=1e-13)


def test_polynomial_fraction_only_on_request_and_warns_when_inaccurate():
    small = nc.aggregate_dynamics(_turbines(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error", AccuracyWarning)
        tf = small.to_tf()                        # a handful of time constants: accurate
    s = 1j * OMEGA
    assert _rel(np.squeeze(tf(s)), small(s)) <= 1e-9
    big = nc.aggregate_dynamics(_turbines(150))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big.poles, big.dc_gain, big.realization()  # no polynomial, no warning
    with pytest.warns(AccuracyWarning, match="polynomial fraction is inaccurate"):
        big.den


def test_mixed_kinds_and_higher_order_numerators():
    # swing, inverter, static and second-order numerator nodes together
    g = nc.nodal.from_tf(num=[[1.0], [2.0], [1.0, 0.4, 2.0], [3.0]],
                         den=[[4.0, 0.5], [0.5, 1.0], [1.0, 1.5, 3.0, 1.0], [1.0]])
    gh = nc.aggregate_dynamics(g)
    s = 1j * OMEGA
    assert _rel(1.0 / gh.inverse(s), _direct(g, s)) <= 1e-12
    assert _rel(np.squeeze(gh.to_ss()(s)), _direct(g, s)) <= 1e-10
    ev = np.linalg.eigvals(gh.realization()[0])
    np.testing.assert_allclose(np.sort_complex(gh.poles), np.sort_complex(ev), atol=1e-10)


def test_static_aggregate_and_improper_refused():
    gh = nc.aggregate_dynamics(nc.nodal.from_tf(num=[[2.0], [1.0, 0.0]], den=[[1.0], [1.0, 1.0]]))
    s = 1j * OMEGA[::20]
    ref = 1.0 / (0.5 + (s + 1.0) / s)
    np.testing.assert_allclose(np.squeeze(gh.to_ss()(s)), ref, rtol=1e-12)
    # 1/g = 1 and 1/g = -1 + 1/s cancel their static parts: g_hat = s is improper
    with pytest.raises(InputError, match="improper"):
        nc.aggregate_dynamics(nc.nodal.from_tf(num=[[1.0], [1.0, 0.0]], den=[[1.0], [-1.0, 1.0]]))


def test_step_response_aggregate_trace_exact_with_many_turbines():
    n = 100
    g = _turbines(n, seed=3)
    rng = np.random.default_rng(3)
    L = nc.laplacian.ring_lattice(n, 3) * 5.0
    system = nc.NetworkSystem.from_laplacian(L, nodal=g)
    t = np.linspace(0, 20, 201)
    r = nc.step_response(system, -0.01 * np.eye(n)[int(rng.integers(n))], t)
    ref = control.forced_response(control.ss(*nc.aggregate_dynamics(g).realization()), t,
                                  -0.01 * np.ones_like(t)).outputs
    np.testing.assert_allclose(r.aggregate, ref, atol=1e-9 * np.abs(ref).max())
