"""Edge of stability on the manifold of minimisers, in dimension d >= 10.

Model: L = (theta_1 ... theta_d - 1)^2 / 2. Every measurement below comes from a plain numpy
gradient-descent loop written here (not the package's simulators) and is compared with what
the decomposition (Riemannian GD on the sharpness + bifurcating normal part) predicts.
"""

import numpy as np
import pytest

from netcoh.exceptions import InputError
from netcoh.learning import eos_manifold as em
from netcoh.learning import eos_regimes as er
from netcoh.learning.dynamics import TrainingDynamics
from netcoh.learning.edge_of_stability import (
    DeepScalarFactorization,
    ScalarFactorization,
    two_cycle_closed_form,
)

D = 10
MODEL = DeepScalarFactorization(d=D)
P_STAR = np.ones(D)


def _start(spread, d=D, seed=0):
    th = np.exp(spread * np.random.default_rng(seed).standard_normal(d))
    return 1.001 * th / np.prod(th) ** (1 / d)


def _grad_f(th):
    return np.prod(th) / th


def _lam(th):
    # sharpness of the nearby minimiser: |grad f|^2
    return float(np.sum(_grad_f(th) ** 2))


def _gd(theta0, eta, steps):
    """Plain gradient descent on (prod theta - 1)^2 / 2; all iterates."""
    th = np.array(theta0, dtype=float)
    out = np.empty((steps + 1, th.size))
    out[0] = th
    for k in range(steps):
        p = np.prod(th)
        th = th - eta * (p - 1.0) * p / th
        out[k + 1] = th
    return out


def _fit_rate(k, y):
    return float(np.exp(np.polyfit(k, np.log(y), 1)[0]))


def _on_manifold(th):
    return th / np.prod(th) ** (1 / th.size)


def test_projection_and_sharpness_derivatives_along_curves_on_the_manifold():
    rng = np.random.default_rng(1)
    d = 12
    model = DeepScalarFactorization(d=d)
    p = _on_manifold(np.exp(0.3 * rng.standard_normal(d)))
    n = _grad_f(p) / np.linalg.norm(_grad_f(p))
    foot, s = em.project(model, p + 0.01 * n)
    assert np.abs(foot - p).max() < 1e-12 and abs(s - 0.01) < 1e-12
    # curves c(tau) = p * exp(tau v) with sum v = 0 stay on prod = 1
    rg = em.riemannian_gradient(model, p)
    assert abs(rg @ n) < 1e-10
    h = 1e-5
    for _ in range(3):
        v = rng.standard_normal(d)
        v -= v.mean()
        fd = (_lam(p * np.exp(h * v)) - _lam(p * np.exp(-h * v))) / (2 * h)
        assert abs(fd - rg @ (p * v)) < 1e-6 * max(1.0, abs(fd))
    # at the flattest point the gradient vanishes, so any curve gives the Riemannian Hessian
    R = em.riemannian_hessian(model, np.ones(d))
    h = 1e-4
    for _ in range(3):
        v = rng.standard_normal(d)
        v -= v.mean()
        fd2 = (_lam(np.exp(h * v)) - 2 * _lam(np.ones(d)) + _lam(np.exp(-h * v))) / h**2
        assert abs(fd2 - v @ R @ v) < 1e-5 * fd2
    assert np.allclose(em.flattest_minimiser(model, _on_manifold(p)), np.ones(d), atol=1e-7)
    assert em.manifold_sharpness(model, np.ones(d)) == pytest.approx(model.flattest()[1])


def test_gd_step_splits_into_riemannian_gd_on_sharpness_and_a_normal_part():
    # the normal part is (1 - eta lambda) s up to O(s^2); the tangent part is
    # -eta (s^2/2) grad_M lambda up to O(s^3) (grad_M lambda by finite differences here)
    eta = 0.15
    p = _on_manifold(_start(0.3))
    g = _grad_f(p)
    n = g / np.linalg.norm(g)
    h = 1e-6
    grad_lam = np.array([(_lam(p + h * e) - _lam(p - h * e)) / (2 * h) for e in np.eye(D)])
    rg = grad_lam - n * (n @ grad_lam)
    err_n, err_t = [], []
    for s in (1e-2, 1e-3):
        th = p + s * n
        step = _gd(th, eta, 1)[1] - th
        normal = step @ n
        err_n.append(abs(normal + eta * _lam(p) * s))
        err_t.append(np.linalg.norm(step - normal * n + eta * 0.5 * s * s * rg))
        dec = em.decompose(MODEL, th, eta)
        assert abs(dec.normal_offset - s) < 1e-12 and np.abs(dec.foot - p).max() < 1e-12
        assert abs(dec.step_normal - normal) < 1e-14
        assert np.linalg.norm(dec.predicted_tangent + eta * 0.5 * s * s * rg) < 1e-7 * s * s
    assert 50 < err_n[0] / err_n[1] < 200        # O(s^2)
    assert 500 < err_t[0] / err_t[1] < 2000      # O(s^3)
    assert err_t[0] < 0.1 * np.linalg.norm(eta * 0.5 * 1e-4 * rg)   # already 10% at s = 0.01


@pytest.mark.parametrize("d", [2, 10, 16])
def test_flip_coefficient_matches_the_two_step_map_on_the_normal_line(d):
    # by symmetry the diagonal is the normal line through the flattest point and is invariant;
    # GD on it, x -> x - eta (x^d - 1) x^(d-1), at the critical step eta = 2/d
    model = DeepScalarFactorization(d=d)
    eta = 2.0 / d

    def two_step_s(s):
        x = 1 + s / np.sqrt(d)
        for _ in range(2):
            x = x - eta * (x**d - 1) * x ** (d - 1)
        return np.sqrt(d) * (x - 1)

    s = 1e-3
    beta_fd = 0.5 * ((s - two_step_s(s)) / s**3 + (-s - two_step_s(-s)) / (-s) ** 3)
    nf = em.normal_form(model, np.ones(d), eta)
    assert abs(nf.multiplier + 1) < 1e-12
    assert nf.beta == pytest.approx(beta_fd, rel=1e-4)
    assert nf.beta > 0                                  # supercritical flip
    if d == 2:
        # the scalar model's closed-form 2-cycle: half-width -> normal-form value as eta -> 1
        for e in (1.01, 1.001):
            hi, lo = two_cycle_closed_form(1.0, e)
            exact = np.sqrt(2) * (hi - lo) / 2          # the diagonal is the normal line
            half = em.normal_form(model, [1.0, 1.0], e).cycle_half_width
            assert abs(half / exact - 1) < 2 * (2 * e - 2)


def test_subcritical_linear_convergence_to_a_suboptimally_flat_minimum():
    lam_star = em.manifold_sharpness(MODEL, P_STAR)
    eta = 0.8 * 2 / lam_star
    th0 = _start(0.5)
    ths = _gd(th0, eta, 8000)
    lam = np.array([_lam(_on_manifold(t)) for t in ths])   # sharpness of M below the iterate
    lam_inf = lam[-1]
    assert lam[0] > 2 / eta + 0.5                        # starts unstable
    assert lam_star + 2 < lam_inf < 2 / eta              # stable, but far from the flattest
    unstable = np.nonzero(lam > 2 / eta)[0][-1]
    assert 50 < unstable < 1000                          # instability overcome in finite time
    r = np.abs(np.prod(ths, axis=1) - 1)
    assert r[:unstable + 1].max() > 10 * r[0]            # the normal part grew meanwhile
    k = np.arange(r.size)
    sel = (k > unstable) & (r > 1e-12) & (r < 1e-4)
    rate = _fit_rate(k[sel], r[sel])
    assert abs(rate - abs(1 - eta * lam_inf)) < 1e-6
    res = er.subcritical_rate(MODEL, th0, eta, 8000)
    # the limit predicted by iterating the decomposition (Riemannian GD + normal map)
    assert abs(res.limit_sharpness_predicted - lam_inf) < 2e-5 * lam_inf
    assert abs(res.rate_predicted - rate) < 1e-6
    assert abs(res.limit_sharpness - lam_inf) < 1e-9 and abs(res.rate_measured - rate) < 1e-6
    assert 50 < res.unstable_steps < 1000       # (its own way back to M: equal only to O(s))


def test_critical_power_laws_match_the_decomposition():
    pred = er.predict(MODEL, 2 / em.manifold_sharpness(MODEL, P_STAR), P_STAR)
    assert pred.regime == "critical" and pred.beta > pred.eta * pred.kappa
    steps = 100_000
    ths = _gd(_start(0.2), pred.eta, steps)
    t = np.arange(1, steps + 1, dtype=float)
    loss = 0.5 * (np.prod(ths, axis=1) - 1) ** 2
    dist2 = np.sum((ths - 1.0) ** 2, axis=1)
    loss = 0.5 * (loss[1:] + loss[:-1])          # average the two sides of the manifold
    dist2 = 0.5 * (dist2[1:] + dist2[:-1])
    k = t >= 1e4
    slope_loss = np.polyfit(np.log(t[k]), np.log(loss[k]), 1)[0]
    slope_dist = np.polyfit(np.log(t[k]), 0.5 * np.log(dist2[k]), 1)[0]
    assert abs(slope_loss - pred.loss_exponent) < 0.03
    assert abs(slope_dist - pred.distance_exponent) < 0.03
    assert abs(loss[-1] * steps / pred.loss_prefactor - 1) < 0.15
    assert abs(dist2[-1] * steps / pred.distance2_prefactor - 1) < 0.15
    res = er.critical_power_law(MODEL, _start(0.2), 5_000, P_STAR)
    j = t == 5_000
    assert res.loss_prefactor == pytest.approx(float(loss[j][0] * 5_000), rel=1e-9)
    assert res.distance2_prefactor == pytest.approx(float(dist2[j][0] * 5_000), rel=1e-9)


def test_supercritical_two_cycle_half_width_and_rate_match_the_normal_form():
    lam_star = em.manifold_sharpness(MODEL, P_STAR)
    errs = {}
    for eps, steps in ((0.2, 15_000), (0.1, 30_000)):
        eta = (2 + eps) / lam_star
        pred = er.predict(MODEL, eta, P_STAR)
        ths = _gd(_start(0.2), eta, steps)
        a, b = ths[-1], ths[-2]
        # centred on the flattest point: both points on its normal line, on either side
        assert np.ptp(a) < 1e-9 and np.ptp(b) < 1e-9 and min(a[0], b[0]) < 1 < max(a[0], b[0])
        half = 0.5 * np.linalg.norm(a - b)
        gap = np.linalg.norm(ths[2:] - ths[:-2], axis=1)
        k = np.arange(gap.size)
        sel = (k > np.argmax(gap)) & (gap > 1e-12) & (gap < 1e-3)     # after the growth
        rate = _fit_rate(k[sel], gap[sel])
        errs[eps] = (abs(half / pred.cycle_half_width - 1),
                     abs((1 - rate) / (1 - pred.cycle_rate) - 1))
        assert errs[eps][0] < 0.7 * eps and errs[eps][1] < 0.8 * eps
        if eps == 0.2:
            res = er.supercritical_cycle(MODEL, _start(0.2), eta, steps, P_STAR)
            assert abs(res.half_width - half) < 1e-9 and res.centre_offset < 1e-9
            assert abs(res.rate_measured - rate) < 1e-6
    assert errs[0.1][0] < errs[0.2][0] and errs[0.1][1] < errs[0.2][1]  # leading order in eps


def test_bad_input():
    with pytest.raises(InputError):
        em.project(ScalarFactorization(), [1.0, 1.0])     # no output map
    with pytest.raises(InputError):
        em.decompose(MODEL, np.ones(D), -0.1)
    with pytest.raises(InputError):
        em.project(MODEL, np.ones(D + 1))
    with pytest.raises(InputError):
        er.supercritical_cycle(MODEL, _start(0.2), 0.19, 100, P_STAR)


def test_output_derivatives_against_the_loss_hessian():
    # the loss Hessian (complex step of the gradient) is g g^T + (f - y) H_f
    th = _start(0.3, seed=3) * 1.05
    g = MODEL.output_grad(th)
    assert np.allclose(g, _grad_f(th), rtol=1e-13)
    r = MODEL.output(th) - 1.0
    assert np.allclose(MODEL.hessian(th), np.outer(g, g) + r * MODEL.output_hessian(th),
                       rtol=1e-12, atol=1e-12)


def test_predict_needs_a_point_on_the_manifold():
    with pytest.raises(InputError, match="on the manifold"):
        er.predict(MODEL, 0.2, np.full(D, 1.1))
    with pytest.raises(InputError):
        er.predict(MODEL, -0.2, P_STAR)


class _DiagonalNet(TrainingDynamics):
    """A second, asymmetric model: f(u, v) = sum_i x_i u_i v_i fitted to y = 1 (d = 12).

    Its flattest minimiser puts all weight on the smallest x_i; the sharpness curves
    differently in every direction along M there (unlike the product of factors).
    """

    complex_step = True

    def __init__(self, x):
        self.x = np.asarray(x, dtype=float)
        self.k = self.x.size
        self.y = 1.0

    @property
    def shapes(self):
        return {"u": (self.k,), "v": (self.k,)}

    def output(self, th):
        th = np.asarray(th)
        return (self.x * th[:self.k] * th[self.k:]).sum().item()

    def output_grad(self, th):
        th = np.asarray(th)
        return np.concatenate([self.x * th[self.k:], self.x * th[:self.k]])

    def output_hessian(self, th):
        H = np.zeros((2 * self.k, 2 * self.k))
        H[:self.k, self.k:] = H[self.k:, :self.k] = np.diag(self.x)
        return H

    def _loss(self, th):
        return 0.5 * (self.output(th) - self.y) ** 2

    def _grad(self, th):
        return (self.output(th) - self.y) * self.output_grad(th)


def _gd_diag(x, theta0, eta, steps):
    k = x.size
    th = np.array(theta0, dtype=float)
    out = np.empty((steps + 1, th.size))
    out[0] = th
    for t in range(steps):
        u, v = th[:k], th[k:]
        r = np.sum(x * u * v) - 1.0
        th = th - eta * r * np.concatenate([x * v, x * u])
        out[t + 1] = th
    return out


def test_asymmetric_model_flattest_point_curvatures_and_two_regimes():
    x = np.linspace(1.0, 2.0, 6)
    model = _DiagonalNet(x)
    p0 = em.project(model, 0.5 + 0.2 * np.random.default_rng(0).standard_normal(12))[0]
    p_star = em.flattest_minimiser(model, p0)
    expected = np.zeros(12)
    expected[[0, 6]] = 1.0                       # u_1 = v_1 = 1, the rest 0 (up to sign)
    assert np.allclose(np.abs(p_star), expected, atol=1e-9)
    lam_star = em.manifold_sharpness(model, p_star)
    assert lam_star == pytest.approx(2.0)        # 2 x_min y
    # curvatures of the sharpness along M: 2 x_j (x_j -+ x_1) in each (u_j, v_j) plane and
    # 4 along the hyperbola u_1 v_1 = 1 (the scalar factorisation)
    ev = np.sort(np.linalg.eigvalsh(em.riemannian_hessian(model, p_star)))
    xj = x[1:]
    assert np.allclose(ev, np.sort(np.r_[0.0, 4.0, 2 * xj * (xj - 1), 2 * xj * (xj + 1)]),
                       atol=1e-9)

    # subcritical: a start on M above 2/eta, away from the flattest point
    q = p_star.copy()
    q[[1, 7]], q[[2, 8]] = 0.6, -0.6
    q = em.project(model, q)[0] * 1.0005
    eta = 0.9
    ths = _gd_diag(x, q, eta, 10_000)
    lam_inf = float(np.sum(model.output_grad(ths[-1]) ** 2))
    assert em.manifold_sharpness(model, em.project(model, q)[0]) > 2 / eta > lam_inf > 2.0
    res = er.subcritical_rate(model, q, eta, 10_000)
    assert abs(res.limit_sharpness_predicted - lam_inf) < 2e-5 * lam_inf
    r = np.abs(np.einsum("i,ti,ti->t", x, ths[:, :6], ths[:, 6:]) - 1)
    k = np.arange(r.size)
    sel = (k > res.unstable_steps) & (r > 1e-12) & (r < 1e-4)
    assert abs(_fit_rate(k[sel], r[sel]) - res.rate_predicted) < 1e-5

    # supercritical: the orbit straddles p_star along its normal; half-width and rate
    for eps in (0.1, 0.2):
        pred = er.predict(model, (2 + eps) / lam_star, p_star)
        ths = _gd_diag(x, p_star + 0.01, pred.eta, 4000)
        a, b = ths[-1], ths[-2]
        assert np.abs(np.r_[a[1:6], a[7:]]).max() < 1e-9      # back on the (u_1, v_1) plane
        half = 0.5 * np.linalg.norm(a - b)
        gap = np.linalg.norm(ths[2:] - ths[:-2], axis=1)
        kk = np.arange(gap.size)
        sel = (kk > np.argmax(gap)) & (gap > 1e-12) & (gap < 1e-3)
        rate = _fit_rate(kk[sel], gap[sel])
        assert abs(half / pred.cycle_half_width - 1) < 0.5 * eps
        assert abs((1 - rate) / (1 - pred.cycle_rate) - 1) < 1.2 * eps
