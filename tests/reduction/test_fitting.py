"""Checks 13-16 of specs/power.md: frequency-weighted balanced truncation (L-CSS 2021)."""

import control
import numpy as np
import pytest

from netcoh.exceptions import InputError, NetcohError, NetcohTypeError
from netcoh.reduction.fitting import (
    PAPER_WEIGHTS,
    fit_aggregate_machine,
    weighted_balanced_truncation,
)

# Table I of Min, Paganini & Mallada (L-CSS 2021)
DROOP = np.array([0.0218, 0.0256, 0.0236, 0.0255, 0.0192])
TAU = np.array([9.08, 5.26, 2.29, 7.97, 3.24])
M_HAT, D_HAT = 0.0683, 0.0107
# only the sums m̂, d̂ enter ĝ; split them unevenly to make sure of that
M = M_HAT * np.array([0.1, 0.3, 0.2, 0.15, 0.25])
D = D_HAT * np.array([0.4, 0.1, 0.2, 0.2, 0.1])


def table1(**kw):
    return fit_aggregate_machine(m=M, d=D, droop=DROOP, tau=TAU, **kw)


def sig(x, digits=4):
    x = np.asarray(x, float)
    return np.array([float(f"{v:.{digits - 1}e}") for v in x])


def tf_coeffs(tf):
    return np.asarray(tf.num[0][0], float), np.asarray(tf.den[0][0], float)


def test_check13_turbine_reduction_reproduces_paper():
    fit = table1(order=3, method="turbine", weight=PAPER_WEIGHTS["turbine"])
    num, den = tf_coeffs(fit.turbine)
    num, den = num / den[0], den / den[0]
    # (0.0266 s + 0.0057)/(s^2 + 0.5046 s + 0.0489), 4 significant digits where printed
    np.testing.assert_allclose(sig(num, 3), [0.0266, 0.00566], rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.round(num, 4), [0.0266, 0.0057])
    np.testing.assert_allclose(np.round(den, 4), [1.0, 0.5047, 0.0489], atol=1.5e-4)
    np.testing.assert_allclose(den, [1.0, 0.5046, 0.0489], rtol=2e-3)
    # partial fractions 0.0473/(2.68 s + 1) + 0.0684/(7.64 s + 1)
    np.testing.assert_allclose(fit.tau_tilde, [2.68, 7.64], rtol=2e-3)
    np.testing.assert_allclose(fit.droop_tilde, [0.0473, 0.0684], rtol=2e-3)
    assert fit.interpretable
    # the turbine method keeps m̂ and d̂ exactly (no DC rescaling here)
    assert fit.m_tilde == pytest.approx(M_HAT, rel=1e-12)
    assert fit.d_tilde == pytest.approx(D_HAT, rel=1e-12)


@pytest.mark.parametrize("match_dc", [False, True])
def test_check14_closed_loop_parameters_within_one_percent(match_dc):
    fit = table1(order=2, method="closed_loop", weight=PAPER_WEIGHTS["closed_loop"],
                 match_dc=match_dc)
    got = [fit.m_tilde, fit.d_tilde, fit.droop_tilde[0], fit.tau_tilde[0]]
    np.testing.assert_allclose(got, [0.06715, 0.01464, 0.1118, 4.9733], rtol=0.01)
    assert fit.interpretable
    # m̃, d̃ differ from m̂, d̂ (the closed-loop fit redistributes them)
    assert abs(fit.d_tilde - D_HAT) > 0.1 * D_HAT
    # model equals 1/(m̃ s + d̃ + r̃/(τ̃ s + 1)) on a grid
    s = 1j * np.logspace(-3, 2, 50)
    direct = 1 / (fit.m_tilde * s + fit.d_tilde + fit.droop_tilde[0] / (fit.tau_tilde[0] * s + 1))
    np.testing.assert_allclose(fit.model(s), direct, rtol=1e-9)


def test_check15_table2_ordering_and_values():
    fits = {}
    for method, tag in (("closed_loop", "cl"), ("turbine", "tb")):
        for k in (2, 3):
            f = table1(order=k, method=method, weight=PAPER_WEIGHTS[method], match_dc=True)
            fits[f"BT{k}-{tag}"] = f
            assert f.name == f"BT{k}-{tag}"
            assert f.dc_gain == pytest.approx(f.aggregate_dc_gain, rel=1e-12)
    for metric in ("l2_error", "linf_error", "hinf_error"):
        v = {k: getattr(f, metric) for k, f in fits.items()}
        assert v["BT3-cl"] < v["BT3-tb"] < v["BT2-cl"] < v["BT2-tb"], (metric, v)
    # Table II values (they correspond to a unit step; horizon 50 s): within 3 %
    table2 = {"BT2-tb": (4.3737, 2.1454, 7.5879), "BT2-cl": (2.0376, 0.9934, 2.0381),
              "BT3-tb": (0.0967, 0.0361, 0.1315), "BT3-cl": (0.0704, 0.0249, 0.0317)}
    for name, ref in table2.items():
        f = fits[name]
        np.testing.assert_allclose([f.l2_error, f.linf_error, f.hinf_error], ref, rtol=0.03)
    frame = fits["BT3-cl"].to_frame()
    assert list(frame.index) == ["BT3-cl"]
    assert {"m_tilde", "droop_tilde_2", "tau_tilde_2_s", "l2_error"} <= set(frame.columns)


def test_check15_dc_mismatch_of_turbine_reduction():
    weighted = table1(order=2, method="turbine", weight=PAPER_WEIGHTS["turbine"])
    unweighted = table1(order=2, method="turbine")
    num, den = tf_coeffs(weighted.turbine)
    dc_w = num[-1] / den[-1]
    assert dc_w == pytest.approx(0.11556, abs=5e-5)   # spec [C]: g̃_t1 = 0.02303/(s + 0.19932)
    np.testing.assert_allclose(num / den[0], [0.02303], rtol=5e-4)
    np.testing.assert_allclose(den / den[0], [1.0, 0.19932], rtol=5e-4)
    num_u, den_u = tf_coeffs(unweighted.turbine)
    dc_u = num_u[-1] / den_u[-1]
    total = DROOP.sum()
    # visible DC mismatch, and the low-frequency weight reduces it
    assert abs(dc_u - total) > 0.02 * total
    assert abs(dc_w - total) < abs(dc_u - total)
    assert unweighted.dc_gain != pytest.approx(unweighted.aggregate_dc_gain, rel=1e-2)


def test_check16_stable_and_weighted_error_decreases_with_order():
    A = np.diag(-1 / TAU)
    B = (DROOP / TAU)[:, None]
    C = np.ones((1, 5))
    wnum, wden = PAPER_WEIGHTS["turbine"]
    s = 1j * np.logspace(-4, 3, 3000)
    W = np.polyval(wnum, s) / np.polyval(wden, s)
    G = (DROOP / (TAU * s[:, None] + 1)).sum(1)
    errs = []
    for k in range(1, 5):
        red = weighted_balanced_truncation(A, B, C, None, k, weight=(wnum, wden))
        assert np.all(np.linalg.eigvals(red.a).real < 0)
        Gk = red.to_statespace()(s).ravel()
        errs.append(np.max(np.abs(W * (G - Gk))))
        # Enns' weighted error bound is not guaranteed, but errors are tied to the
        # neglected weighted Hankel values: sanity check against twice their sum times a margin
        assert errs[-1] <= 10 * 2 * red.hankel_singular_values[k:].sum()
    assert all(a > b for a, b in zip(errs, errs[1:])), errs
    for k in (2, 3):
        for method in ("closed_loop", "turbine"):
            fit = table1(order=k, method=method, weight=PAPER_WEIGHTS[method])
            assert np.all(np.roots(tf_coeffs(fit.model)[1]).real < 0)


def test_unweighted_bt_matches_python_control_balred():
    import slycot  # noqa: F401  (python-control's balred needs it)

    rng = np.random.default_rng(3)
    n = 12
    # stable, well-separated modes, MIMO
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    A = Q @ np.diag(-np.logspace(-1, 1.5, n)) @ Q.T + 0.05 * rng.standard_normal((n, n))
    assert np.max(np.linalg.eigvals(A).real) < 0
    B = rng.standard_normal((n, 2))
    C = rng.standard_normal((2, n))
    full = control.ss(A, B, C, np.zeros((2, 2)))
    ours = weighted_balanced_truncation(A, B, C, None, 5)
    ref = control.balred(full, 5, method="truncate")
    s = 1j * np.logspace(-2, 2, 60)
    np.testing.assert_allclose(ours.to_statespace()(s), ref(s), rtol=1e-6, atol=1e-9)
    hsv = np.real(control.hankel_singular_values(full))
    np.testing.assert_allclose(ours.hankel_singular_values, np.sort(hsv)[::-1], rtol=1e-6)
    frame = ours.to_frame()
    assert frame["kept"].sum() == 5


def test_errors_match_independent_simulation():
    fit = table1(order=2, method="closed_loop", weight=PAPER_WEIGHTS["closed_loop"],
                 match_dc=True, step_pu=0.1)
    t = np.linspace(0, fit.t_final_s, 20001)
    _, ym = control.step_response(fit.model, t)
    # aggregate built independently as a transfer function
    taus = TAU
    den = np.polymul([M_HAT, D_HAT], np.poly(-1 / taus) * np.prod(taus))
    num_t = np.zeros(len(taus))
    for j in range(len(taus)):
        others = np.delete(taus, j)
        term = DROOP[j] * np.poly(-1 / others) * np.prod(others)
        num_t = np.polyadd(num_t, term)
    g_hat = control.tf(np.poly(-1 / taus) * np.prod(taus), np.polyadd(den, num_t))
    _, ya = control.step_response(g_hat, t)
    e = 0.1 * (np.ravel(ym) - np.ravel(ya))
    assert fit.linf_error == pytest.approx(np.max(np.abs(e)), rel=1e-3)
    assert fit.l2_error == pytest.approx(np.sqrt(np.trapezoid(e**2, t)), rel=1e-3)
    s = 1j * np.logspace(-2, 1, 20)
    np.testing.assert_allclose(fit.aggregate(s).ravel(), g_hat(s), rtol=1e-8)
    assert fit.aggregate_dc_gain == pytest.approx(1 / (D_HAT + DROOP.sum()))


def test_equal_time_constants_are_grouped_and_source_is_accepted():
    class Nodal:
        kind = "swing_turbine"
        params = {"m": np.array([0.1, 0.2, 0.3]), "d": np.array([0.01, 0.02, 0.03]),
                  "droop": np.array([0.1, 0.1, 0.2]), "tau": np.array([5.0, 5.0, 2.0])}

    fit = fit_aggregate_machine(Nodal(), order=3, method="closed_loop")
    # two distinct time constants: order 3 is exact
    assert fit.aggregate.nstates == 3
    assert fit.hinf_error < 1e-8
    np.testing.assert_allclose(fit.tau_tilde, [2.0, 5.0], rtol=1e-6)
    np.testing.assert_allclose(fit.droop_tilde, [0.2, 0.2], rtol=1e-6)
    assert fit.m_tilde == pytest.approx(0.6) and fit.d_tilde == pytest.approx(0.06)


def test_fit_plot_and_transfer_function_weight():
    import matplotlib

    matplotlib.use("Agg")
    w = control.tf([1, 0.08], [1, 1e-4])
    a = table1(order=2, weight=w)
    b = table1(order=2, weight=PAPER_WEIGHTS["closed_loop"])
    assert a.m_tilde == pytest.approx(b.m_tilde, rel=1e-10)
    ax = a.plot()
    assert len(ax.lines) == 2


def test_step_responses_take_times_from_zero_only():
    """python-control reads any time grid as starting at 0: a grid from 5 s would silently
    return the values at 0, 1, 2 s, so it is refused, as are uneven and too short grids."""
    fit = table1(order=2)
    # a frozen result, the python-control models inside it included
    for arr in (fit.model.num[0][0], fit.aggregate.A, fit.tau_tilde):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 99.0
    t, ym, ya = fit.step_responses(np.linspace(0.0, 7.0, 8))
    assert t[-1] == 7.0 and ym.shape == ya.shape == (8,)
    for bad, msg in (([5.0, 6.0, 7.0], "start at 0"), ([0.0, 1.0, 3.0], "equally spaced"),
                     ([0.0], "at least two"), ([0.0, np.nan], "finite"),
                     ([0.0, 1.0 + 1.0j], "real")):
        with pytest.raises(InputError, match=msg):
            fit.step_responses(np.array(bad))


@pytest.mark.parametrize(
    "kwargs, err",
    [
        (dict(order=0), InputError),
        (dict(order=7), InputError),
        (dict(order=1, method="turbine"), InputError),
        (dict(method="bogus"), InputError),
        (dict(weight="s+1"), NetcohTypeError),
        (dict(weight=([1, 0, 0], [1, 1])), InputError),    # improper
        (dict(weight=([1], [1, -1])), InputError),          # unstable
        (dict(order=2.5), NetcohTypeError),
    ],
)
def test_bad_fit_input(kwargs, err):
    with pytest.raises(err):
        table1(**kwargs)


def test_bad_inputs_misc():
    with pytest.raises(InputError, match="`m` must be positive"):
        fit_aggregate_machine(m=[-1.0], d=[1.0])
    with pytest.raises(InputError, match="equal lengths"):
        fit_aggregate_machine(m=[1.0, 2.0], d=[1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="droop > 0"):
        fit_aggregate_machine(m=[1.0], d=[1.0], method="turbine")
    with pytest.raises(NetcohError, match="Hurwitz"):
        weighted_balanced_truncation(np.zeros((2, 2)), np.ones((2, 1)), np.ones((1, 2)), None, 1)
    with pytest.raises(InputError, match="minimal order"):
        # second state uncontrollable
        weighted_balanced_truncation(np.diag([-1.0, -2.0]), [[1.0], [0.0]], [[1.0, 1.0]], None, 2)


def test_precompressed_turbine_bank_gives_same_fit(monkeypatch):
    import netcoh.reduction.fitting as fitting

    rng = np.random.default_rng(0)
    n = 60
    kw = dict(m=rng.uniform(0.05, 0.5, n), d=rng.uniform(0.2, 0.5, n),
              droop=1 / rng.uniform(5, 10, n), tau=rng.uniform(2, 10, n), order=3,
              weight=PAPER_WEIGHTS["closed_loop"], match_dc=True)
    fast = fit_aggregate_machine(**kw)
    monkeypatch.setattr(fitting, "_PRECOMPRESS", 10**9)
    slow = fit_aggregate_machine(**kw)
    np.testing.assert_allclose(tf_coeffs(fast.model)[0], tf_coeffs(slow.model)[0], rtol=1e-7)
    np.testing.assert_allclose(tf_coeffs(fast.model)[1], tf_coeffs(slow.model)[1], rtol=1e-7)
