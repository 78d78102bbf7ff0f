"""Edge of stability on the manifold of minimisers (MacDonald, Min, Palma, Tarmoun, Xu, Vidal 2025).

Least squares with one scalar output ``f`` fitted to ``y``,

.. math:: L(\\theta) = \\tfrac12 (f(\\theta) - y)^2, \\qquad \\theta \\in \\mathbb R^d,

is overparametrised: its minimisers form the manifold ``M = {f = y}`` of dimension ``d - 1``.
At ``p`` in ``M`` the Hessian is ``g g^T`` (``g = grad f(p)``), so the sharpness is
``lambda(p) = |g|^2`` and the only curved direction is the unit normal ``n = g/|g|``.
Writing ``theta = p + s n(p)`` (``p`` the closest point of ``M``, ``s`` the normal offset),
one gradient-descent step with step ``eta`` is, to leading order,

* **normal part**: ``s -> (1 - eta lambda(p)) s + a s^2 + b s^3``, a one-dimensional map
  that loses stability by a flip (period-doubling) bifurcation when ``eta lambda(p)``
  crosses 2; there the two-step map is ``s -> s - beta s^3 + ...`` with
  ``beta = 2(a^2 + b)`` (:func:`normal_form`), positive when the bifurcation is
  supercritical (a stable 2-cycle is born);
* **parallel part**: ``p -> p - eta (s^2/2) grad_M lambda(p)``, one step of Riemannian
  gradient descent on the sharpness with the step ``eta s^2 / 2``
  (:func:`decompose`, :func:`reduced_dynamics`).

The three regimes this decomposition predicts (linear convergence to a suboptimally flat
minimum, a power law to the flattest one, a period-2 orbit around it) are in
:mod:`netcoh.learning.eos_regimes`.

The model is a :class:`~netcoh.learning.TrainingDynamics` with loss ``(f - y)^2/2``, the
attribute ``y`` and the methods ``output``, ``output_grad`` and ``output_hessian``
(evaluable at complex points, for complex-step third derivatives), e.g.
:class:`~netcoh.learning.edge_of_stability.DeepScalarFactorization`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from netcoh._validation import as_float_array, as_int
from netcoh.exceptions import InputError, SolverError

from .dynamics import TrainingDynamics, readonly

__all__ = ["project", "manifold_sharpness", "riemannian_gradient", "riemannian_hessian",
           "flattest_minimiser", "StepDecomposition", "decompose", "NormalForm", "normal_form",
           "ReducedTrajectory", "reduced_dynamics"]

_CSTEP = 1e-30


def _model(model):
    if not (isinstance(model, TrainingDynamics) and all(
            hasattr(model, a) for a in ("y", "output", "output_grad", "output_hessian"))):
        raise InputError("`model` must be a scalar least-squares model with `y`, `output`, "
                         f"`output_grad` and `output_hessian`, got {type(model).__name__}")
    return model


def _vec(model, theta, name):
    th = as_float_array(theta, name, ndim=1)
    size = getattr(model, "size", th.size)
    if th.size != size:
        raise InputError(f"`{name}` must have length {size}, got {th.size}")
    return th


def _eta(eta):
    e = float(eta)
    if not np.isfinite(e) or e <= 0:
        raise InputError(f"`eta` must be positive, got {eta!r}")
    return e


def _geometry(model, p):
    g = np.asarray(model.output_grad(p), dtype=float)
    lam = float(g @ g)
    if lam == 0.0:
        raise InputError("`p` must be a regular point of the manifold (grad f != 0)")
    return g, lam, g / math.sqrt(lam)


def _hess_vec(model, p, v):
    """``H v`` for the Hessian ``H`` of ``f``, by complex step on ``output_grad``."""
    return np.imag(np.asarray(model.output_grad(p + 1j * _CSTEP * v))) / _CSTEP


def _third(model, p, v):
    """The third-derivative contraction ``T[v]`` (a matrix), by complex step."""
    return np.imag(np.asarray(model.output_hessian(p + 1j * _CSTEP * v))) / _CSTEP


def project(model, theta, *, tol: float = 1e-14, max_iter: int = 50) -> tuple[np.ndarray, float]:
    """Closest point ``p`` of the manifold ``f = y`` and the normal offset ``s``.

    Newton's method on the optimality conditions ``theta = p + mu grad f(p)``, ``f(p) = y``.

    Parameters
    ----------
    model : scalar least-squares model
        Provides ``y``, ``output``, ``output_grad``, ``output_hessian``.
    theta : array_like, shape (d,)
        The point to project.
    tol : float, default 1e-14
        Stop when the optimality residual is below ``tol * max(1, |theta|)``.
    max_iter : int, default 50
        Newton iterations before :class:`~netcoh.exceptions.SolverError` is raised.

    Returns
    -------
    p : ndarray, shape (d,)
        The foot point on the manifold.
    s : float
        Signed normal offset: ``theta = p + s n(p)`` with ``n = grad f/|grad f|``.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> p, s = project(DeepScalarFactorization(d=2), [1.1, 1.1])
    >>> np.round(p, 12).tolist(), round(s, 6)
    ([1.0, 1.0], 0.141421)
    """
    model = _model(model)
    th = _vec(model, theta, "theta")
    d = th.size
    g = np.asarray(model.output_grad(th), dtype=float)
    mu = (float(model.output(th)) - model.y) / float(g @ g)
    p = th - mu * g
    scale = tol * max(1.0, float(np.linalg.norm(th)))
    for _ in range(max_iter):
        g = np.asarray(model.output_grad(p), dtype=float)
        r1 = p + mu * g - th
        r2 = float(model.output(p)) - model.y
        if math.hypot(float(np.linalg.norm(r1)), r2) <= scale:
            break
        J = np.zeros((d + 1, d + 1))
        J[:d, :d] = np.eye(d) + mu * np.asarray(model.output_hessian(p), dtype=float)
        J[:d, d] = g
        J[d, :d] = g
        step = np.linalg.solve(J, -np.concatenate([r1, [r2]]))
        p, mu = p + step[:d], mu + step[d]
    else:
        raise SolverError(f"projection onto the manifold did not converge in {max_iter} steps")
    return p, float(mu * np.linalg.norm(g))


def manifold_sharpness(model, p) -> float:
    """Sharpness ``lambda(p) = |grad f(p)|^2`` (the top Hessian eigenvalue at a minimiser).

    Parameters
    ----------
    model : scalar least-squares model
        Provides ``output_grad``.
    p : array_like, shape (d,)
        A point of the manifold ``f = y`` (off it, the sharpness of the nearby minimiser).

    Returns
    -------
    float
        ``|grad f(p)|^2``.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> manifold_sharpness(DeepScalarFactorization(d=10), np.ones(10))
    10.0
    """
    return _geometry(_model(model), _vec(model, p, "p"))[1]


def riemannian_gradient(model, p) -> np.ndarray:
    """Riemannian gradient of the sharpness along the manifold: ``P grad |grad f|^2``.

    Parameters
    ----------
    model : scalar least-squares model
        Provides ``output_grad`` and ``output_hessian``.
    p : array_like, shape (d,)
        A point of the manifold.

    Returns
    -------
    ndarray, shape (d,)
        ``2 P H g`` with ``P = I - n n^T`` the tangent projector and ``H`` the Hessian of f.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> float(np.abs(riemannian_gradient(DeepScalarFactorization(d=10), np.ones(10))).max())
    0.0
    """
    model = _model(model)
    p = _vec(model, p, "p")
    g, _, n = _geometry(model, p)
    grad_lam = 2.0 * _hess_vec(model, p, g)
    return grad_lam - n * (n @ grad_lam)


def riemannian_hessian(model, p) -> np.ndarray:
    """Riemannian Hessian of the sharpness on the manifold, as a ``d x d`` matrix.

    ``P (hess lambda - mu H) P`` with ``hess lambda = 2 (H^2 + T[g])``, ``mu`` the Lagrange
    multiplier ``<grad lambda, g>/|g|^2`` and ``T`` the third derivative of ``f``.

    Parameters
    ----------
    model : scalar least-squares model
        Provides ``output_grad`` and ``output_hessian`` (complex-step safe).
    p : array_like, shape (d,)
        A point of the manifold.

    Returns
    -------
    ndarray, shape (d, d)
        Symmetric; the normal ``n`` is in its null space, its other eigenvalues are the
        curvatures of the sharpness along the manifold.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> ev = np.linalg.eigvalsh(riemannian_hessian(DeepScalarFactorization(d=4), np.ones(4)))
    >>> np.round(ev, 10).tolist()
    [0.0, 4.0, 4.0, 4.0]
    """
    model = _model(model)
    p = _vec(model, p, "p")
    g, lam, n = _geometry(model, p)
    H = np.asarray(model.output_hessian(p), dtype=float)
    hess_lam = 2.0 * (H @ H + _third(model, p, g))
    mu = float(2.0 * g @ H @ g) / lam
    P = np.eye(p.size) - np.outer(n, n)
    R = P @ (hess_lam - mu * H) @ P
    return 0.5 * (R + R.T)


def flattest_minimiser(model, p0, *, tol: float = 1e-14) -> np.ndarray:
    """The optimally flat minimiser: smallest ``|grad f|^2`` subject to ``f = y`` near ``p0``.

    Sequential quadratic programming (SciPy's SLSQP) with analytic gradients, polished by
    Newton's method on the optimality conditions and put back on the manifold by
    :func:`project`; :class:`~netcoh.exceptions.SolverError` if the Riemannian gradient of
    the sharpness is not zero (to 1e-8 relative) at the end.

    Parameters
    ----------
    model : scalar least-squares model
        Provides ``y``, ``output``, ``output_grad``, ``output_hessian``.
    p0 : array_like, shape (d,)
        Starting point (a local minimum of the sharpness near it is returned).
    tol : float, default 1e-14
        SLSQP tolerance.

    Returns
    -------
    ndarray, shape (d,)
        The flattest minimiser ``p*``; the critical step is ``2/manifold_sharpness(p*)``.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> p = flattest_minimiser(DeepScalarFactorization(d=3, y=8.0), [1.0, 2.0, 5.0])
    >>> np.round(p, 6).tolist()
    [2.0, 2.0, 2.0]
    """
    model = _model(model)
    x0 = _vec(model, p0, "p0")

    def fun(x):
        g = np.asarray(model.output_grad(x), dtype=float)
        return float(g @ g), 2.0 * np.asarray(model.output_hessian(x), dtype=float) @ g

    cons = {"type": "eq", "fun": lambda x: float(model.output(x)) - model.y,
            "jac": lambda x: np.asarray(model.output_grad(x), dtype=float)}
    res = minimize(fun, x0, jac=True, constraints=[cons], method="SLSQP",
                   options={"ftol": tol, "maxiter": 500})
    # SLSQP often stops just short of its own tolerance; polish by Newton's method on the
    # optimality conditions grad lambda = mu grad f, f = y, and check the result
    p = project(model, res.x)[0]
    d = p.size
    g = np.asarray(model.output_grad(p), dtype=float)
    mu = float(2.0 * _hess_vec(model, p, g) @ g) / float(g @ g)
    for _ in range(30):
        g = np.asarray(model.output_grad(p), dtype=float)
        H = np.asarray(model.output_hessian(p), dtype=float)
        F = np.concatenate([2.0 * H @ g - mu * g, [float(model.output(p)) - model.y]])
        if np.linalg.norm(F) <= 1e-13 * max(1.0, float(g @ g)):
            break
        J = np.zeros((d + 1, d + 1))
        J[:d, :d] = 2.0 * (H @ H + _third(model, p, g)) - mu * H
        J[:d, d] = -g
        J[d, :d] = g
        step = np.linalg.lstsq(J, -F, rcond=None)[0]
        p, mu = p + step[:d], mu + step[d]
    p = project(model, p)[0]
    rg = riemannian_gradient(model, p)
    if not np.linalg.norm(rg) <= 1e-8 * max(1.0, manifold_sharpness(model, p)):
        raise SolverError("flattest minimiser search failed: Riemannian gradient "
                          f"{np.linalg.norm(rg):.3g} at the end ({res.message})")
    return p


@dataclass(frozen=True)
class StepDecomposition:
    """One GD step split into its normal and tangent parts, beside the reduced prediction.

    Attributes
    ----------
    foot : ndarray
        Closest point ``p`` of the manifold.
    normal : ndarray
        Unit normal ``n(p)``.
    normal_offset : float
        ``s`` with ``theta = p + s n``.
    sharpness : float
        ``lambda(p)``.
    riemannian_gradient : ndarray
        Riemannian gradient of the sharpness at ``p``.
    step_normal, step_tangent : float, ndarray
        Normal component and tangent part of the actual step ``-eta grad L(theta)``.
    predicted_normal, predicted_tangent : float, ndarray
        ``-eta lambda s`` and ``-eta (s^2/2) grad_M lambda``; they differ from the actual parts
        by ``O(s^2)`` and ``O(s^3)``.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> dec = decompose(DeepScalarFactorization(d=2), [1.1, 1.1], 0.5)
    >>> round(dec.normal_offset, 6), round(dec.sharpness, 12)
    (0.141421, 2.0)
    """

    foot: np.ndarray
    normal: np.ndarray
    normal_offset: float
    sharpness: float
    riemannian_gradient: np.ndarray
    step_normal: float
    step_tangent: np.ndarray
    predicted_normal: float
    predicted_tangent: np.ndarray


def decompose(model, theta, eta: float) -> StepDecomposition:
    """Split the GD step at ``theta`` into normal and tangent parts (see the module notes).

    Parameters
    ----------
    model : scalar least-squares model
        Provides ``y``, ``output``, ``output_grad``, ``output_hessian``.
    theta : array_like, shape (d,)
        A point near the manifold.
    eta : float
        Positive step size.

    Returns
    -------
    StepDecomposition
        The actual step's parts in the frame of the foot point and their leading-order
        predictions (normal: linear map; tangent: Riemannian GD on the sharpness).

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> dec = decompose(DeepScalarFactorization(d=2), [1.21, 0.84], 0.9)
    >>> bool(abs(dec.step_normal - dec.predicted_normal) < 5 * dec.normal_offset**2)
    True
    """
    model = _model(model)
    th = _vec(model, theta, "theta")
    eta = _eta(eta)
    p, s = project(model, th)
    _, lam, n = _geometry(model, p)
    rg = riemannian_gradient(model, p)
    step = -eta * (float(model.output(th)) - model.y) * np.asarray(model.output_grad(th), float)
    sn = float(n @ step)
    return StepDecomposition(foot=readonly(p), normal=readonly(n), normal_offset=s,
                             sharpness=lam, riemannian_gradient=readonly(rg),
                             step_normal=sn, step_tangent=readonly(step - sn * n),
                             predicted_normal=-eta * lam * s,
                             predicted_tangent=readonly(-eta * 0.5 * s * s * rg))


@dataclass(frozen=True)
class NormalForm:
    """The normal part of GD at ``p``: ``s -> m s + a s^2 + b s^3``.

    Attributes
    ----------
    sharpness : float
        ``lambda(p)``.
    multiplier : float
        ``m = 1 - eta lambda``.
    quadratic, cubic : float
        ``a = -3 eta c1 c2`` and ``b = -eta (4 c1 c3 + 2 c2^2)`` where
        ``f(p + s n) - y = c1 s + c2 s^2 + c3 s^3 + ...``.
    beta : float
        Cubic coefficient of the two-step map, negated: ``s -> m^2 s + ... - beta s^3``;
        ``2 (a^2 + b)`` at ``m = -1``. Positive: supercritical flip.
    cycle_half_width : float
        ``sqrt((m^2 - 1)/beta)``, the normal half-width of the 2-cycle, or ``nan`` when
        ``m >= -1`` or ``beta <= 0``.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> nf = normal_form(DeepScalarFactorization(d=10), np.ones(10), 0.21)
    >>> round(nf.multiplier, 12), round(nf.cycle_half_width, 4)
    (-1.1, 0.0399)
    """

    sharpness: float
    multiplier: float
    quadratic: float
    cubic: float
    beta: float
    cycle_half_width: float


def normal_form(model, p, eta: float) -> NormalForm:
    """Coefficients of the normal (bifurcating) part of GD at a minimiser ``p``.

    Parameters
    ----------
    model : scalar least-squares model
        Provides ``output_grad`` and ``output_hessian`` (complex-step safe).
    p : array_like, shape (d,)
        A point of the manifold.
    eta : float
        Positive step size.

    Returns
    -------
    NormalForm
        Multiplier, quadratic and cubic coefficients, the flip coefficient ``beta`` and the
        predicted half-width of the 2-cycle.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> nf = normal_form(DeepScalarFactorization(d=2), [1.0, 1.0], 1.0)   # critical step
    >>> nf.multiplier, round(nf.beta, 10)
    (-1.0, 8.0)
    """
    model = _model(model)
    p = _vec(model, p, "p")
    eta = _eta(eta)
    _, lam, n = _geometry(model, p)
    c1 = math.sqrt(lam)
    c2 = 0.5 * float(n @ np.asarray(model.output_hessian(p), dtype=float) @ n)
    c3 = float(n @ _third(model, p, n) @ n) / 6.0
    m = 1.0 - eta * lam
    a = -3.0 * eta * c1 * c2
    b = -eta * (4.0 * c1 * c3 + 2.0 * c2 * c2)
    beta = -m * (b * (1.0 + m * m) + 2.0 * a * a)
    half = math.sqrt((m * m - 1.0) / beta) if (m < -1.0 and beta > 0) else math.nan
    return NormalForm(sharpness=lam, multiplier=m, quadratic=a, cubic=b, beta=beta,
                      cycle_half_width=half)


@dataclass(frozen=True)
class ReducedTrajectory:
    """The reduced dynamics: foot points, normal offsets and sharpness per step.

    Attributes
    ----------
    foot : ndarray, shape (k, d)
        Points on the manifold (``k = steps + 1`` unless stopped early).
    normal_offset : ndarray, shape (k,)
        ``s_t``.
    sharpness : ndarray, shape (k,)
        ``lambda(p_t)``.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> red = reduced_dynamics(DeepScalarFactorization(d=2), [1.1, 1.1], 0.5, 3)
    >>> red.foot.shape, red.normal_offset.shape
    ((4, 2), (4,))
    """

    foot: np.ndarray
    normal_offset: np.ndarray
    sharpness: np.ndarray


def _retract(model, q, max_iter=50):
    """Newton steps along the gradient onto ``f = y`` (a retraction; cheaper than project)."""
    tol = 1e-15 * max(1.0, abs(model.y))
    for _ in range(max_iter):
        r = float(model.output(q)) - model.y
        if abs(r) <= tol:
            return q
        g = np.asarray(model.output_grad(q), dtype=float)
        q = q - r * g / float(g @ g)
    raise SolverError(f"retraction onto the manifold did not converge in {max_iter} steps")


def reduced_dynamics(model, theta0, eta: float, steps: int, *,
                     tol: float = 0.0) -> ReducedTrajectory:
    """Iterate the decomposition: Riemannian GD on the sharpness plus the normal map.

    ``p+ = R(p - eta (s^2/2) grad_M lambda(p))`` and ``s+ = s - eta phi(s) phi'(s)``
    with ``phi(s) = f(p + s n(p)) - y`` (GD restricted to the normal line, which carries the
    flip bifurcation); ``R`` returns to the manifold by Newton steps along ``grad f``.

    Parameters
    ----------
    model : scalar least-squares model
        Provides ``y``, ``output``, ``output_grad``, ``output_hessian``.
    theta0 : array_like, shape (d,)
        Starting point near the manifold, decomposed by :func:`project`.
    eta : float
        Positive step size.
    steps : int
        Largest number of steps (at least 1).
    tol : float, default 0.0
        Stop early once ``|s| < tol`` after ``lambda(p) < 2/eta`` (the foot point then has
        stopped moving to rounding level for ``tol`` near 1e-9).

    Returns
    -------
    ReducedTrajectory
        Foot points, normal offsets and sharpness along the reduced iteration.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import DeepScalarFactorization
    >>> red = reduced_dynamics(DeepScalarFactorization(d=2), [1.3, 1 / 1.3 + 0.01], 0.9, 300)
    >>> round(float(red.sharpness[-1]), 3)
    2.184
    """
    model = _model(model)
    eta = _eta(eta)
    steps = as_int(steps, "steps", minimum=1)
    tol = float(tol)
    p, s = project(model, _vec(model, theta0, "theta0"))
    g, lam, n = _geometry(model, p)
    feet, offs, lams = [p], [s], [lam]
    for _ in range(steps):
        q = p + s * n
        phi = float(model.output(q)) - model.y
        dphi = float(np.asarray(model.output_grad(q), dtype=float) @ n)
        s_new = s - eta * phi * dphi
        grad_lam = 2.0 * _hess_vec(model, p, g)
        try:
            p = _retract(model, p - eta * 0.5 * s * s * (grad_lam - n * (n @ grad_lam)))
        except SolverError:
            p = np.full_like(p, np.nan)
        s = s_new
        if not (np.isfinite(s) and np.all(np.isfinite(p))):
            raise SolverError(f"reduced dynamics left the neighbourhood of the manifold at step "
                              f"{len(offs)} (normal offset {offs[-1]:.3g}); the decomposition "
                              "holds for small offsets")
        g, lam, n = _geometry(model, p)
        feet.append(p)
        offs.append(s)
        lams.append(lam)
        if abs(s) < tol and eta * lam < 2.0:
            break
    return ReducedTrajectory(foot=readonly(np.array(feet)), normal_offset=readonly(offs),
                             sharpness=readonly(lams))
