"""Local analysis of training dynamics: linearisation, sharpness, period-2 orbits, fits.

* :func:`linearize` returns the gradient-flow Jacobian ``-H`` or the gradient-descent Jacobian
  ``I - eta H`` at an equilibrium as a :class:`control.StateSpace` (continuous or discrete).
* :func:`local_rate` restricts the Hessian to the normal space of a minimising manifold (the
  zero eigenspace is the tangent space; its dimension is reported).
* :func:`sharpness` is the top Hessian eigenvalue by Lanczos (:func:`scipy.sparse.linalg.eigsh`
  on a :class:`~scipy.sparse.linalg.LinearOperator` of Hessian-vector products); compare with
  :func:`eos_threshold` ``= 2/eta``.
* :func:`periodic_orbit` finds a period-``q`` orbit of the gradient-descent map by Newton's
  method and returns its Floquet multipliers (eigenvalues of the product of step Jacobians).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from netcoh._validation import as_float_array, as_int
from netcoh.exceptions import InputError, SolverError

from .dynamics import TrainingDynamics, readonly

if TYPE_CHECKING:
    import control

__all__ = ["linearize", "local_rate", "LocalRate", "sharpness", "eos_threshold",
           "stability_margin", "periodic_orbit", "PeriodicOrbit", "fit_power_law",
           "fit_exponential_rate", "first_crossing"]


def _positive(value, name):
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise InputError(f"`{name}` must be positive, got {value!r}")
    return v


def _check_equilibrium(dyn, theta, tol):
    g = dyn._grad(theta)
    scale = max(1.0, float(np.linalg.norm(theta)))
    if float(np.linalg.norm(g)) > tol * scale:
        raise InputError(
            f"`theta_star` must be an equilibrium (|grad| <= {tol:g}), got |grad| = "
            f"{float(np.linalg.norm(g)):.3g}")


def linearize(dyn: TrainingDynamics, theta_star, eta: float | None = None, *,
              tol: float = 1e-6) -> control.StateSpace:
    """Linearise gradient flow (``eta=None``) or gradient descent at an equilibrium.

    Returns ``control.ss(A, I, I, 0)`` with ``A = -H`` (continuous time) or ``A = I - eta H``
    (discrete time, ``dt=True``), ``H`` the Hessian at ``theta_star``. States are the
    parameter perturbations; input and output are the identity so the model can be
    interconnected with python-control tools.

    Parameters
    ----------
    dyn : TrainingDynamics
        The model.
    theta_star : array_like, shape (size,)
        An equilibrium (critical point) of the loss.
    eta : float, optional
        Positive GD step size; ``None`` linearises gradient flow instead.
    tol : float, default 1e-6
        Largest accepted ``|grad(theta_star)|`` relative to ``max(1, |theta_star|)``.

    Returns
    -------
    control.StateSpace
        ``size`` states, inputs and outputs; continuous time, or discrete with ``dt=True``.

    Raises
    ------
    InputError
        If ``theta_star`` is not an equilibrium within ``tol``.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import ScalarFactorization
    >>> sys = linearize(ScalarFactorization(y=1.0), [1.0, 1.0])
    >>> sorted(round(float(x), 6) for x in sys.poles().real)
    [-2.0, 0.0]
    """
    import control

    theta = dyn._check_theta(theta_star, "theta_star").astype(float)
    _check_equilibrium(dyn, theta, tol)
    H = dyn.hessian(theta)
    p = dyn.size
    if eta is None:
        return control.ss(-H, np.eye(p), np.eye(p), np.zeros((p, p)))
    eta = _positive(eta, "eta")
    return control.ss(np.eye(p) - eta * H, np.eye(p), np.eye(p), np.zeros((p, p)), True)


@dataclass(frozen=True)
class LocalRate:
    """Local convergence data at a (possibly non-isolated) minimum.

    Attributes
    ----------
    hessian_eigenvalues : ndarray
        All Hessian eigenvalues, ascending.
    null_dim : int
        Number of (numerically) zero eigenvalues = dimension of the minimising manifold.
    rate : float
        Gradient flow: the smallest non-zero Hessian eigenvalue (distance decays like
        ``exp(-rate t)``, loss like ``exp(-2 rate t)``). Gradient descent: the spectral radius
        of ``I - eta H`` on the normal space (distance contracts by ``rate`` per step).
    stable : bool
        True when the normal-space dynamics are asymptotically stable.

    Examples
    --------
    On the minimum ``u = v = 1`` of ``(uv - 1)^2 / 2`` the Hessian has eigenvalues 0 (along
    the hyperbola ``uv = 1``) and 2; GD with ``eta = 0.25`` contracts by ``|1 - 0.25 * 2|``:

    >>> from netcoh.learning import local_rate
    >>> from netcoh.learning.edge_of_stability import ScalarFactorization
    >>> r = local_rate(ScalarFactorization(y=1.0), [1.0, 1.0], eta=0.25)
    >>> r.null_dim, round(r.rate, 9), r.stable
    (1, 0.5, True)
    """

    hessian_eigenvalues: np.ndarray
    null_dim: int
    rate: float
    stable: bool

    def to_frame(self):
        """One-row pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame([{"null_dim": self.null_dim, "rate": self.rate,
                              "stable": self.stable}])


def local_rate(dyn: TrainingDynamics, theta_star, eta: float | None = None, *,
               null_tol: float = 1e-8, tol: float = 1e-6) -> LocalRate:
    """Local rate at a minimum, restricted to the normal space of the minimising manifold.

    Parameters
    ----------
    dyn : TrainingDynamics
        The model.
    theta_star : array_like, shape (size,)
        An equilibrium, typically a point of the minimising manifold.
    eta : float, optional
        Positive GD step size; ``None`` gives the gradient-flow rate.
    null_tol : float, default 1e-8
        Hessian eigenvalues with ``|lambda| <= null_tol * max(1, max |lambda|)`` count as
        zero (tangent to the manifold).
    tol : float, default 1e-6
        Largest accepted ``|grad(theta_star)|`` relative to ``max(1, |theta_star|)``.

    Returns
    -------
    LocalRate
        The Hessian spectrum, the dimension of its null space, the rate on the normal space
        and whether the normal-space dynamics are stable.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import ScalarFactorization
    >>> r = local_rate(ScalarFactorization(y=1.0), [1.0, 1.0])
    >>> r.null_dim, round(r.rate, 9)
    (1, 2.0)
    """
    theta = dyn._check_theta(theta_star, "theta_star").astype(float)
    _check_equilibrium(dyn, theta, tol)
    ev = np.linalg.eigvalsh(dyn.hessian(theta))
    scale = max(1.0, float(np.max(np.abs(ev))))
    null = np.abs(ev) <= null_tol * scale
    normal = ev[~null]
    if eta is None:
        rate = float(np.min(normal)) if normal.size else np.inf
        stable = bool(normal.size == 0 or np.all(normal > 0))
    else:
        eta = _positive(eta, "eta")
        mult = np.abs(1.0 - eta * normal)
        rate = float(np.max(mult)) if normal.size else 0.0
        stable = bool(rate < 1.0)
    return LocalRate(hessian_eigenvalues=readonly(ev), null_dim=int(null.sum()), rate=rate,
                     stable=stable)


def sharpness(dyn: TrainingDynamics, theta, k: int = 1, *, tol: float = 0.0):
    """Top Hessian eigenvalue(s) by Lanczos on Hessian-vector products.

    Uses :func:`scipy.sparse.linalg.eigsh` with a :class:`~scipy.sparse.linalg.LinearOperator`
    whose ``matvec`` is :meth:`TrainingDynamics.hvp`; the Hessian is never formed (except for
    models with at most ``k + 1`` parameters, where Lanczos is undefined and the dense
    eigenvalues are returned). The start vector is fixed, so results are deterministic.

    Parameters
    ----------
    dyn : TrainingDynamics
        The model.
    theta : array_like, shape (size,)
        Point at which the Hessian is taken.
    k : int, default 1
        Number of top eigenvalues, ``1 <= k <= size``.
    tol : float, default 0.0
        Relative accuracy passed to ``eigsh`` (0 means machine precision).

    Returns
    -------
    float or ndarray
        A float for ``k = 1``, else a read-only descending array of ``k`` values.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import ScalarFactorization
    >>> round(sharpness(ScalarFactorization(y=1.0), [2.0, 0.5]), 10)
    4.25
    """
    theta = dyn._check_theta(theta).astype(float)
    k = as_int(k, "k", minimum=1, maximum=dyn.size)
    if dyn.size <= k + 1:
        ev = np.linalg.eigvalsh(dyn.hessian(theta))[::-1][:k]
    else:
        op = LinearOperator((dyn.size, dyn.size), matvec=lambda v: dyn._hvp(theta, np.ravel(v)),
                            dtype=float)
        v0 = np.random.default_rng(0).standard_normal(dyn.size)
        ev = np.sort(eigsh(op, k=k, which="LA", v0=v0, tol=tol, return_eigenvectors=False))[::-1]
    return float(ev[0]) if k == 1 else readonly(ev)


def eos_threshold(eta: float) -> float:
    """Edge-of-stability threshold ``2/eta``: GD is linearly unstable where sharpness exceeds it.

    Parameters
    ----------
    eta : float
        Positive GD step size.

    Returns
    -------
    float
        The sharpness ``2/eta`` above which GD is linearly unstable.

    Examples
    --------
    >>> eos_threshold(0.5)
    4.0
    """
    return 2.0 / _positive(eta, "eta")


def stability_margin(dyn: TrainingDynamics, theta, eta: float) -> float:
    """``2/eta - sharpness(theta)``; negative means GD is locally unstable.

    Parameters
    ----------
    dyn : TrainingDynamics
        The model.
    theta : array_like, shape (size,)
        Point at which the sharpness is taken.
    eta : float
        Positive GD step size.

    Returns
    -------
    float
        The threshold ``2/eta`` minus the sharpness at ``theta`` (positive: locally stable).

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import ScalarFactorization
    >>> round(stability_margin(ScalarFactorization(y=1.0), [2.0, 0.5], 0.4), 10)   # 5 - 4.25
    0.75
    """
    return eos_threshold(eta) - sharpness(dyn, theta)


@dataclass(frozen=True)
class PeriodicOrbit:
    """A period-``q`` orbit of the gradient-descent map.

    Attributes
    ----------
    points : ndarray, shape (q, p)
        The orbit, ``points[i+1] = gd_map(points[i])``.
    multipliers : ndarray
        Floquet multipliers: eigenvalues of ``J(points[q-1]) ... J(points[0])`` with
        ``J = I - eta H``, sorted by decreasing modulus.
    residual : float
        ``|gd_map^q(points[0]) - points[0]|``.
    iterations : int
        Newton iterations used.

    Examples
    --------
    GD with ``eta = 1.05`` on ``(uv - 1)^2 / 2`` bounces between two points around the
    minimum ``u = v = 1`` (its sharpness 2 exceeds ``2/eta``):

    >>> from netcoh.learning import periodic_orbit
    >>> from netcoh.learning.edge_of_stability import ScalarFactorization
    >>> orb = periodic_orbit(ScalarFactorization(y=1.0), 1.05, [1.1, 1.1])
    >>> orb.points.shape, orb.stable, orb.residual < 1e-12
    ((2, 2), True, True)
    """

    points: np.ndarray
    multipliers: np.ndarray
    residual: float
    iterations: int

    @property
    def stable(self) -> bool:
        """All multipliers strictly inside the unit circle."""
        return bool(np.all(np.abs(self.multipliers) < 1.0))

    def to_frame(self):
        """One row per orbit point."""
        import pandas as pd

        return pd.DataFrame(self.points, columns=[f"theta_{i}" for i in
                                                  range(self.points.shape[1])])


def periodic_orbit(dyn: TrainingDynamics, eta: float, theta_guess, period: int = 2, *,
                   tol: float = 1e-13, max_iter: int = 100) -> PeriodicOrbit:
    """Newton's method on ``G(theta) = gd_map^period(theta) - theta`` with Floquet multipliers.

    The Newton step solves ``(J - I) d = -G`` in the least-squares sense, so orbits on a
    continuum (multiplier 1) are still found.

    Parameters
    ----------
    dyn : TrainingDynamics
        The model.
    eta : float
        Positive GD step size.
    theta_guess : array_like, shape (size,)
        Starting point of the Newton iteration, near the orbit.
    period : int, default 2
        Orbit period ``q`` (1 finds a fixed point).
    tol : float, default 1e-13
        Stop when ``|G(theta)| <= tol * max(1, |theta|)``.
    max_iter : int, default 100
        Newton iterations before :class:`~netcoh.exceptions.SolverError` is raised (also
        raised when the iteration closes on an orbit of a shorter period, such as a fixed
        point).

    Returns
    -------
    PeriodicOrbit
        The orbit points, their Floquet multipliers, the closing residual and the number of
        Newton iterations.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import ScalarFactorization
    >>> orb = periodic_orbit(ScalarFactorization(y=1.0), 1.05, [1.1, 1.1])
    >>> np.round(np.sort(orb.points[:, 0]), 6)
    array([0.872872, 1.091089])
    """
    eta = _positive(eta, "eta")
    period = as_int(period, "period", minimum=1)
    theta = dyn._check_theta(as_float_array(theta_guess, "theta_guess"), "theta_guess")
    theta = theta.astype(float).copy()
    eye = np.eye(dyn.size)

    def orbit_and_jac(x):
        pts, J = [x], eye.copy()
        for _ in range(period):
            J = (eye - eta * dyn.hessian(pts[-1])) @ J
            pts.append(pts[-1] - eta * dyn._grad(pts[-1]))
        return pts, J

    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - `it` is reported after the loop
        pts, J = orbit_and_jac(theta)
        G = pts[-1] - theta
        res = float(np.linalg.norm(G))
        if not np.isfinite(res):
            raise SolverError("periodic-orbit Newton iteration diverged")
        if res <= tol * max(1.0, float(np.linalg.norm(theta))):
            break
        step = np.linalg.lstsq(J - eye, -G, rcond=None)[0]
        theta = theta + step
    else:
        raise SolverError(f"periodic-orbit Newton did not converge in {max_iter} iterations "
                          f"(residual {res:.3g})")
    pts, J = orbit_and_jac(theta)
    res = float(np.linalg.norm(pts[-1] - theta))
    # Newton may close on an orbit of a shorter period (a fixed point repeated): not the one
    # asked for
    close = 1e-8 * max(1.0, float(np.linalg.norm(theta)))
    short = [d for d in range(1, period) if period % d == 0
             and float(np.linalg.norm(pts[d] - theta)) <= close]
    if short:
        what = "a fixed point" if short[0] == 1 else f"an orbit of period {short[0]}"
        raise SolverError(f"periodic-orbit Newton converged to {what}, not an orbit of period "
                          f"{period}: start nearer the orbit (theta_guess) or ask for "
                          f"period={short[0]}")
    mult = np.linalg.eigvals(J)
    mult = mult[np.argsort(-np.abs(mult))]
    if np.all(np.abs(mult.imag) < 1e-14 * max(1.0, float(np.max(np.abs(mult))))):
        mult = mult.real
    return PeriodicOrbit(points=readonly(np.array(pts[:-1])), multipliers=readonly(mult),
                         residual=res, iterations=it)


def fit_power_law(t, y) -> tuple[float, float]:
    """Least-squares slope and intercept of ``log y`` against ``log t``.

    Parameters
    ----------
    t, y : array_like, shape (k,)
        Positive samples, ``k >= 2``.

    Returns
    -------
    slope, intercept : float
        ``y ~ exp(intercept) * t**slope``.

    Examples
    --------
    >>> t = np.array([1.0, 10.0, 100.0])
    >>> round(fit_power_law(t, 3 * t**-0.5)[0], 12)
    -0.5
    """
    t = as_float_array(t, "t", ndim=1)
    y = as_float_array(y, "y", ndim=1)
    if t.shape != y.shape or t.size < 2:
        raise InputError(f"`t` and `y` must have equal length >= 2, got {t.size}, {y.size}")
    if np.any(t <= 0) or np.any(y <= 0):
        raise InputError("`t` and `y` must be positive for a log-log fit")
    slope, icpt = np.polyfit(np.log(t), np.log(y), 1)
    return float(slope), float(icpt)


def fit_exponential_rate(t, y) -> float:
    """Rate ``r`` of the least-squares fit ``y ~ C exp(-r t)`` (semi-log slope, negated).

    Parameters
    ----------
    t : array_like, shape (k,)
        Times (or iterations), ``k >= 2``.
    y : array_like, shape (k,)
        Positive values.

    Returns
    -------
    float
        ``r`` in inverse units of ``t``.

    Examples
    --------
    >>> t = np.arange(5.0)
    >>> round(fit_exponential_rate(t, 2 * np.exp(-0.3 * t)), 12)
    0.3
    """
    t = as_float_array(t, "t", ndim=1)
    y = as_float_array(y, "y", ndim=1)
    if t.shape != y.shape or t.size < 2:
        raise InputError(f"`t` and `y` must have equal length >= 2, got {t.size}, {y.size}")
    if np.any(y <= 0):
        raise InputError("`y` must be positive for a semi-log fit")
    return float(-np.polyfit(t, np.log(y), 1)[0])


def first_crossing(t, values, level: float) -> float:
    """First time ``values`` reaches ``level`` (linear interpolation); ``nan`` if never.

    Parameters
    ----------
    t : array_like, shape (k,)
        Sample times.
    values : array_like, shape (k,)
        Samples; the first with ``values >= level`` is searched.
    level : float
        Threshold.

    Returns
    -------
    float
        ``t[0]`` if already reached at the start, ``nan`` if never reached.

    Examples
    --------
    >>> first_crossing([0, 1, 2], [0.0, 0.4, 0.8], 0.6)
    1.5
    """
    t = as_float_array(t, "t", ndim=1)
    v = as_float_array(values, "values", ndim=1)
    if t.shape != v.shape:
        raise InputError(f"`t` and `values` must have equal length, got {t.size}, {v.size}")
    above = np.flatnonzero(v >= level)
    if above.size == 0:
        return float("nan")
    k = int(above[0])
    if k == 0:
        return float(t[0])
    frac = (level - v[k - 1]) / (v[k] - v[k - 1])
    return float(t[k - 1] + frac * (t[k] - t[k - 1]))
