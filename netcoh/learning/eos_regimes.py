"""The three gradient-descent regimes at the edge of stability, measured against theory.

Least squares ``L = (f(theta) - y)^2/2`` with one scalar output (MacDonald, Min, Palma,
Tarmoun, Xu & Vidal, NeurIPS 2025): the minimisers form a manifold, and GD with step
``eta`` splits into Riemannian gradient descent on the sharpness along it and a bifurcating
normal part (:mod:`netcoh.learning.eos_manifold`). With ``lambda*`` the smallest sharpness
on the manifold (at the flattest minimiser ``p*``), ``kappa`` the smallest curvature of the
sharpness along the manifold there and ``beta`` the flip coefficient of the normal part
(:func:`~netcoh.learning.eos_manifold.normal_form`), the decomposition predicts (derived
here; the paper's own statements were not available):

* ``eta < 2/lambda*`` (subcritical): from a point where ``lambda > 2/eta`` the normal part
  grows, which drives the foot point down the sharpness until ``lambda < 2/eta``; then the
  residual contracts linearly at ``|1 - eta lambda_inf|`` per step, to a minimum flatter
  than ``2/eta`` but not the flattest (``lambda_inf`` predicted by
  :func:`~netcoh.learning.eos_manifold.reduced_dynamics`);
* ``eta = 2/lambda*`` (critical): power laws to ``p*``, ``L t -> 1/(eta^2 kappa)`` and,
  when ``beta > eta kappa``, ``|theta - p*|^2 t -> beta/(eta kappa)^2`` (exponents -1 and
  -1/2; otherwise ``|theta - p*| ~ t^(-eta kappa/(2 beta))``);
* ``eta > 2/lambda*`` (supercritical, ``eps = eta lambda* - 2``): linear convergence to a
  period-2 orbit centred on ``p*``, of half-width ``A = sqrt(((1+eps)^2 - 1)/beta)``, at the
  per-step rate ``sqrt(max(|3 - 2(1+eps)^2|, 1 - eta kappa A^2))`` (normal and tangent
  two-step multipliers). Both are leading order in ``eps``.

The critical power laws follow from the two-step reduced system
``z+ = z (1 + 2 eta kappa w - 2 beta z)``, ``w+ = w (1 - 2 eta kappa z)`` for the squared
normal offset ``z`` and squared tangent distance ``w``, whose solutions decay like ``1/t``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from netcoh._validation import as_int
from netcoh.exceptions import InputError, SolverError

from .analysis import fit_exponential_rate, fit_power_law
from .eos_manifold import (
    _eta,
    _model,
    _retract,
    _vec,
    manifold_sharpness,
    normal_form,
    project,
    reduced_dynamics,
    riemannian_hessian,
)
from .simulate import simulate_gd

__all__ = ["EoSPrediction", "predict", "SubcriticalRate", "subcritical_rate",
           "CriticalPowerLaw", "critical_power_law", "SupercriticalCycle", "supercritical_cycle"]


@dataclass(frozen=True)
class EoSPrediction:
    """What the decomposition predicts for GD with step ``eta`` near the flattest minimiser.

    Attributes
    ----------
    eta : float
        The step size.
    flattest_sharpness : float
        ``lambda*`` at the flattest minimiser ``p*``.
    critical_eta : float
        ``2/lambda*``.
    regime : str
        ``"subcritical"``, ``"critical"`` or ``"supercritical"`` (``eta lambda*`` vs 2,
        relative tolerance 1e-9).
    epsilon : float
        ``eta lambda* - 2``.
    kappa : float
        Smallest curvature of the sharpness along the manifold at ``p*`` (smallest nonzero
        eigenvalue of :func:`riemannian_hessian`).
    beta : float
        Flip coefficient of :func:`~netcoh.learning.eos_manifold.normal_form` at ``p*`` and
        the critical step (positive: supercritical flip; the critical and supercritical
        predictions below are ``nan`` otherwise).
    loss_exponent, distance_exponent : float
        Critical regime: ``L ~ t^-1`` and ``|theta - p*| ~ t^(-min(1/2, eta kappa/(2 beta)))``
        (the critical-regime quantities are evaluated at ``eta = 2/lambda*`` whatever ``eta``).
    loss_prefactor : float
        Critical regime: ``L t -> 1/(eta^2 kappa)``.
    distance2_prefactor : float
        Critical regime: ``|theta - p*|^2 t -> beta/(eta kappa)^2`` (``nan`` if
        ``beta <= eta kappa``, where the distance decays faster than ``t^(-1/2)``).
    cycle_half_width : float
        Supercritical: ``sqrt(((1 + eps)^2 - 1)/beta_eta)``, half the distance between the
        two points of the orbit, with ``beta_eta`` the flip coefficient at ``eta``
        (``nan`` otherwise).
    cycle_rate : float
        Supercritical: per-step rate of linear convergence to the orbit,
        ``sqrt(max(|3 - 2(1 + eps)^2|, 1 - eta kappa A^2))`` (``nan`` otherwise).

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> pr = predict(DeepScalarFactorization(d=10), 0.22, np.ones(10))
    >>> pr.regime, round(pr.epsilon, 12), round(pr.cycle_half_width, 4)
    ('supercritical', 0.2, 0.0533)
    """

    eta: float
    flattest_sharpness: float
    critical_eta: float
    regime: str
    epsilon: float
    kappa: float
    beta: float
    loss_exponent: float
    distance_exponent: float
    loss_prefactor: float
    distance2_prefactor: float
    cycle_half_width: float
    cycle_rate: float


def predict(model, eta: float, p_star) -> EoSPrediction:
    """The decomposition's predictions for the three regimes (formulas in the module notes).

    Parameters
    ----------
    model : scalar least-squares model
        Provides ``y``, ``output``, ``output_grad``, ``output_hessian``.
    eta : float
        Positive step size.
    p_star : array_like, shape (d,)
        The flattest minimiser (:func:`flattest_minimiser`).

    Returns
    -------
    EoSPrediction
        Regime, normal-form and curvature coefficients, and the predicted exponents,
        prefactors, 2-cycle half-width and rate.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> pr = predict(DeepScalarFactorization(d=10), 0.2, np.ones(10))
    >>> pr.regime, round(pr.kappa, 8), round(pr.loss_prefactor, 8), round(pr.distance2_prefactor, 4)
    ('critical', 4.0, 6.25, 172.5)
    """
    model = _model(model)
    p = _vec(model, p_star, "p_star")
    eta = _eta(eta)
    lam = manifold_sharpness(model, p)
    off = float(model.output(p)) - model.y
    if abs(off) > 1e-8 * max(1.0, abs(model.y)):
        raise InputError(f"`p_star` must lie on the manifold f = y, got f - y = {off:.3g}")
    eps = eta * lam - 2.0
    regime = ("critical" if abs(eps) <= 2e-9 else
              "subcritical" if eps < 0 else "supercritical")
    ev = np.linalg.eigvalsh(riemannian_hessian(model, p))
    ev = ev[np.argsort(np.abs(ev))][1:]           # drop the normal direction's zero
    kappa = float(ev.min())
    if not kappa > 1e-10 * lam:
        raise InputError("`p_star` must be a strict local minimum of the sharpness along the "
                         f"manifold (smallest curvature > 0), got {kappa:.3g}")
    eta_c = 2.0 / lam
    beta = normal_form(model, p, eta_c).beta
    ek = eta_c * kappa
    nan = math.nan
    loss_pref = 1.0 / (eta_c * ek) if beta > 0 else nan
    dist_exp = nan if beta <= 0 else (-0.5 if beta >= ek else -ek / (2.0 * beta))
    d2 = beta / ek**2 if beta > ek else nan
    half = rate = nan
    beta_eta = normal_form(model, p, eta).beta
    if regime == "supercritical" and beta_eta > 0:
        half = math.sqrt(((1.0 + eps) ** 2 - 1.0) / beta_eta)
        rate = math.sqrt(max(abs(3.0 - 2.0 * (1.0 + eps) ** 2),
                             1.0 - eta * kappa * half * half))
    return EoSPrediction(eta=eta, flattest_sharpness=lam, critical_eta=2.0 / lam, regime=regime,
                         epsilon=eps, kappa=kappa, beta=beta, loss_exponent=-1.0,
                         distance_exponent=dist_exp, loss_prefactor=loss_pref,
                         distance2_prefactor=d2, cycle_half_width=half, cycle_rate=rate)


@dataclass(frozen=True)
class SubcriticalRate:
    """Subcritical regime: linear convergence to a suboptimally flat minimum.

    Attributes
    ----------
    eta : float
        Step size.
    threshold_sharpness : float
        ``2/eta``.
    initial_sharpness : float
        ``lambda`` on the manifold below the start (above ``2/eta`` for a transient
        instability); points are brought to the manifold by Newton steps along ``grad f``.
    limit_sharpness : float
        ``lambda`` at the minimum GD converged to (measured).
    limit_sharpness_predicted : float
        The same from :func:`reduced_dynamics`.
    unstable_steps : int
        Last step at which the sharpness on the manifold below the iterate exceeded
        ``2/eta`` (finite: the instability is overcome).
    rate_measured : float
        Per-step contraction of the residual ``|f - y|`` in the linear phase (fitted).
    rate_predicted : float
        ``|1 - eta limit_sharpness|``.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> res = subcritical_rate(DeepScalarFactorization(d=2), [1.3, 1 / 1.3 + 0.01], 0.9, 400)
    >>> round(res.limit_sharpness, 3), bool(abs(res.rate_measured - res.rate_predicted) < 1e-4)
    (2.184, True)
    """

    eta: float
    threshold_sharpness: float
    initial_sharpness: float
    limit_sharpness: float
    limit_sharpness_predicted: float
    unstable_steps: int
    rate_measured: float
    rate_predicted: float


def subcritical_rate(model, theta0, eta: float, steps: int) -> SubcriticalRate:
    """Run GD below the critical step and compare its rate and limit with the decomposition.

    Parameters
    ----------
    model : scalar least-squares model
        Provides ``y``, ``output``, ``output_grad``, ``output_hessian``.
    theta0 : array_like, shape (d,)
        Start near the manifold.
    eta : float
        Positive step size below ``2/lambda*``.
    steps : int
        GD steps (enough for the residual to reach rounding level).

    Returns
    -------
    SubcriticalRate
        Measured and predicted limit sharpness and linear rate.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> res = subcritical_rate(DeepScalarFactorization(d=2), [1.3, 1 / 1.3 + 0.01], 0.9, 400)
    >>> bool(2.0 < res.limit_sharpness < res.threshold_sharpness < res.initial_sharpness)
    True
    """
    model = _model(model)
    eta = _eta(eta)
    steps = as_int(steps, "steps", minimum=10)
    ths = simulate_gd(model, _vec(model, theta0, "theta0"), eta, steps).theta
    r = np.abs(np.array([float(model.output(t)) for t in ths]) - model.y)
    scale = max(1.0, abs(model.y))
    # the sharpness on M below each iterate, up to the linear phase (it stays put after)
    late = np.nonzero(r >= 1e-6 * scale)[0]
    lam_t = np.array([manifold_sharpness(model, _retract(model, t))
                      for t in ths[:(int(late[-1]) if late.size else 0) + 1]])
    above = np.nonzero(lam_t > 2.0 / eta)[0]
    unstable = int(above[-1]) if above.size else 0
    lam_inf = manifold_sharpness(model, project(model, ths[-1])[0])
    k = np.arange(steps + 1)
    sel = (k > unstable) & (r > 1e-12 * scale) & (r < 1e-4 * scale)
    if sel.sum() < 5:
        raise SolverError("no linear phase found; run more steps or start closer to the "
                          "manifold")
    rate = math.exp(-fit_exponential_rate(k[sel], r[sel]))
    red = reduced_dynamics(model, theta0, eta, steps, tol=1e-8)
    return SubcriticalRate(eta=eta, threshold_sharpness=2.0 / eta,
                           initial_sharpness=float(lam_t[0]), limit_sharpness=lam_inf,
                           limit_sharpness_predicted=float(red.sharpness[-1]),
                           unstable_steps=unstable, rate_measured=rate,
                           rate_predicted=abs(1.0 - eta * lam_inf))


@dataclass(frozen=True)
class CriticalPowerLaw:
    """Critical regime ``eta = 2/lambda*``: power laws towards the flattest minimiser.

    Attributes
    ----------
    eta : float
        ``2/lambda*``.
    loss_exponent, loss_exponent_predicted : float
        Log-log slope of the loss (averaged over consecutive steps) on the last 90% of the
        run, and -1.
    distance_exponent, distance_exponent_predicted : float
        The same for ``|theta - p*|`` (theory: -1/2 when ``beta > eta kappa``).
    loss_prefactor, loss_prefactor_predicted : float
        ``L t`` at the last step (averaged with the one before), and ``1/(eta^2 kappa)``.
    distance2_prefactor, distance2_prefactor_predicted : float
        ``|theta - p*|^2 t`` at the last step, and ``beta/(eta kappa)^2``.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> res = critical_power_law(DeepScalarFactorization(d=2), [1.1, 0.9], 2000, [1.0, 1.0])
    >>> res.distance_exponent_predicted, res.loss_prefactor_predicted
    (-0.5, 0.25)
    """

    eta: float
    loss_exponent: float
    loss_exponent_predicted: float
    distance_exponent: float
    distance_exponent_predicted: float
    loss_prefactor: float
    loss_prefactor_predicted: float
    distance2_prefactor: float
    distance2_prefactor_predicted: float


def critical_power_law(model, theta0, steps: int, p_star) -> CriticalPowerLaw:
    """Run GD at the critical step ``2/lambda*`` and fit its power laws.

    Parameters
    ----------
    model : scalar least-squares model
        Provides ``y``, ``output``, ``output_grad``, ``output_hessian``.
    theta0 : array_like, shape (d,)
        Start near the manifold.
    steps : int
        GD steps (at least 100; the asymptotic prefactors need ``1e5`` or more).
    p_star : array_like, shape (d,)
        The flattest minimiser.

    Returns
    -------
    CriticalPowerLaw
        Measured and predicted exponents and prefactors.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> res = critical_power_law(DeepScalarFactorization(d=2), [1.3, 1 / 1.3 + 0.01], 20000,
    ...                          [1.0, 1.0])
    >>> round(res.loss_exponent, 1), res.loss_exponent_predicted
    (-1.0, -1.0)
    """
    model = _model(model)
    steps = as_int(steps, "steps", minimum=100)
    p = _vec(model, p_star, "p_star")
    pr = predict(model, 2.0 / manifold_sharpness(model, p), p)
    traj = simulate_gd(model, _vec(model, theta0, "theta0"), pr.eta, steps)
    # average consecutive iterates: the orbit alternates sides of the manifold, and the
    # even/odd asymmetry (relative size t^-1/2) would bias the fitted exponents
    t = traj.t[1:]
    loss = 0.5 * (traj.loss[1:] + traj.loss[:-1])
    dist2 = np.sum((traj.theta - p) ** 2, axis=1)
    dist = np.sqrt(0.5 * (dist2[1:] + dist2[:-1]))
    k = t >= steps / 10
    t, loss, dist = t[k], loss[k], dist[k]
    return CriticalPowerLaw(eta=pr.eta, loss_exponent=fit_power_law(t, loss)[0],
                            loss_exponent_predicted=pr.loss_exponent,
                            distance_exponent=fit_power_law(t, dist)[0],
                            distance_exponent_predicted=pr.distance_exponent,
                            loss_prefactor=float(loss[-1] * steps),
                            loss_prefactor_predicted=pr.loss_prefactor,
                            distance2_prefactor=float(dist[-1] ** 2 * steps),
                            distance2_prefactor_predicted=pr.distance2_prefactor)


@dataclass(frozen=True)
class SupercriticalCycle:
    """Supercritical regime: linear convergence to a 2-cycle centred on the flattest minimum.

    Attributes
    ----------
    eta, epsilon : float
        Step size and ``eta lambda* - 2``.
    half_width, half_width_predicted : float
        Half the distance between the last two iterates, and the normal-form prediction.
    centre_offset : float
        Distance from the foot point of the midpoint of the last two iterates to ``p*``.
    rate_measured, rate_predicted : float
        Per-step rate of ``|theta_{t+2} - theta_t| -> 0`` (fitted), and the prediction.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> res = supercritical_cycle(DeepScalarFactorization(d=2), [1.1, 0.9], 1.05, 2000,
    ...                           [1.0, 1.0])
    >>> round(res.epsilon, 12), bool(res.centre_offset < 1e-9)
    (0.1, True)
    """

    eta: float
    epsilon: float
    half_width: float
    half_width_predicted: float
    centre_offset: float
    rate_measured: float
    rate_predicted: float


def supercritical_cycle(model, theta0, eta: float, steps: int, p_star) -> SupercriticalCycle:
    """Run GD above the critical step and compare the 2-cycle with the normal form.

    Parameters
    ----------
    model : scalar least-squares model
        Provides ``y``, ``output``, ``output_grad``, ``output_hessian``.
    theta0 : array_like, shape (d,)
        Start near the manifold.
    eta : float
        Step size above ``2/lambda*``.
    steps : int
        GD steps (enough to reach the orbit to rounding level).
    p_star : array_like, shape (d,)
        The flattest minimiser.

    Returns
    -------
    SupercriticalCycle
        Measured and predicted half-width and linear rate, and the centre's offset.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> res = supercritical_cycle(DeepScalarFactorization(d=2), [1.3, 1 / 1.3 + 0.01], 1.02,
    ...                           3000, [1.0, 1.0])
    >>> bool(abs(res.half_width / res.half_width_predicted - 1) < 0.05)
    True
    """
    model = _model(model)
    p = _vec(model, p_star, "p_star")
    pr = predict(model, eta, p)
    if pr.regime != "supercritical":
        raise InputError(f"`eta` must exceed the critical step {pr.critical_eta:.6g}, got {eta}")
    steps = as_int(steps, "steps", minimum=10)
    ths = simulate_gd(model, _vec(model, theta0, "theta0"), pr.eta, steps).theta
    gap = np.linalg.norm(ths[2:] - ths[:-2], axis=1)
    k = np.arange(gap.size)
    sel = (k > int(np.argmax(gap))) & (gap > 1e-12) & (gap < 1e-3)   # after the growth
    if sel.sum() < 5:
        raise SolverError("no linear phase found; run more steps")
    foot = project(model, 0.5 * (ths[-1] + ths[-2]))[0]
    return SupercriticalCycle(eta=pr.eta, epsilon=pr.epsilon,
                              half_width=0.5 * float(np.linalg.norm(ths[-1] - ths[-2])),
                              half_width_predicted=pr.cycle_half_width,
                              centre_offset=float(np.linalg.norm(foot - p)),
                              rate_measured=math.exp(-fit_exponential_rate(k[sel], gap[sel])),
                              rate_predicted=pr.cycle_rate)
