"""Gradient descent at the edge of stability (MacDonald, Min, Palma, Tarmoun, Xu, Vidal 2025).

The paper's body and code were not available; the spec (``learning.md`` section 6) reconstructs
the simplest codimension-1 model, the scalar factorisation

.. math:: L(u, v) = \\tfrac12 (uv - y)^2, \\qquad y > 0,

whose minimisers ``uv = y`` form a curve with sharpness ``u^2 + v^2 >= 2y`` (optimally flat at
``u = v = sqrt(y)``). With step ``eta`` the regimes are set by ``eta*y`` (critical value 1):

* subcritical ``eta*y < 1``: linear convergence to a minimum with ``2y <= lambda < 2/eta``;
* critical ``eta*y = 1``: power law, ``|u - v| ~ t^(-1/2)``, loss ``~ t^(-1)``;
* supercritical ``eta*y > 1``: linear convergence to the period-2 orbit on ``u = v`` with
  ``ab = 1/eta`` and ``a + b = sqrt(y + 3/eta)`` (:func:`two_cycle_closed_form`).

:class:`DeepScalarFactorization` is the same problem in any dimension ``d``,
``L = (prod_i theta_i - y)^2 / 2``: the minimisers form a ``(d-1)``-dimensional manifold
on which the sharpness is ``sum_i (y/theta_i)^2``, smallest (``d y^(2-2/d)``) at the balanced
point ``theta_i = y^(1/d)``; the regimes are set by ``eta`` against ``2/(d y^(2-2/d))``.

Also the survey's toy valley ``L = exp(-theta1) theta2^2`` (:class:`ExpValley`, Theorem 8 and
Lemma 7 of Min, MacDonald & Vidal, IEEE SPM).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from netcoh._validation import as_int
from netcoh.exceptions import InputError

from .dynamics import TheoremCheck, TrainingDynamics

__all__ = ["ScalarFactorization", "DeepScalarFactorization", "ExpValley", "two_cycle_closed_form", "regime",
           "two_cycle_multipliers", "TWO_CYCLE_STABLE_LIMIT", "theorem8_stabilisation",
           "lemma7_sharpness_decay", "reduced_predictor"]


def _pos(value, name):
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise InputError(f"`{name}` must be positive, got {value!r}")
    return v


@dataclass(frozen=True)
class ScalarFactorization(TrainingDynamics):
    """``L(u, v) = (uv - y)^2 / 2``; parameters ``theta = [u, v]``.

    Parameters
    ----------
    y : float, default 1.0
        Positive target; the minimisers are the hyperbola ``uv = y``.

    Examples
    --------
    >>> dyn = ScalarFactorization(y=2.0)
    >>> dyn.loss([1.0, 1.0])
    0.5
    """

    y: float = 1.0
    complex_step = True

    def __post_init__(self):
        object.__setattr__(self, "y", _pos(self.y, "y"))

    @property
    def shapes(self):
        return {"u": (), "v": ()}

    def _loss(self, th):
        return 0.5 * (th[0] * th[1] - self.y) ** 2

    def _grad(self, th):
        r = th[0] * th[1] - self.y
        return np.array([r * th[1], r * th[0]])

    def hessian(self, theta):
        """Exact Hessian ``[[v^2, 2uv - y], [2uv - y, u^2]]``.

        Parameters
        ----------
        theta : array_like, shape (2,)
            ``[u, v]``.

        Returns
        -------
        ndarray, shape (2, 2)
            The symmetric Hessian of the loss at ``[u, v]``, in closed form.

        Examples
        --------
        >>> ScalarFactorization(y=1.0).hessian([1.0, 1.0]).tolist()   # sharpness 2y at u = v
        [[1.0, 1.0], [1.0, 1.0]]
        """
        u, v = self._check_theta(theta)
        off = 2 * u * v - self.y
        return np.array([[v * v, off], [off, u * u]])

    def invariants(self, theta):
        """The imbalance ``u^2 - v^2``, conserved by gradient flow.

        Gradient descent multiplies it by ``1 - eta^2 r^2`` with ``r = uv - y``.

        Parameters
        ----------
        theta : array_like, shape (2,)
            ``[u, v]``.

        Returns
        -------
        dict
            ``{"imbalance": u^2 - v^2}`` (0-d array).

        Examples
        --------
        >>> float(ScalarFactorization().invariants([2.0, 1.0])["imbalance"])
        3.0
        """
        u, v = self._check_theta(theta)
        return {"imbalance": np.array(u * u - v * v)}

    def observables(self, theta):
        """Sharpness proxy and distance from the diagonal.

        Parameters
        ----------
        theta : array_like, shape (2,)
            ``[u, v]``.

        Returns
        -------
        dict
            ``"sharpness_on_manifold"``: ``u^2 + v^2`` (the top Hessian eigenvalue at a
            minimiser ``uv = y``); ``"gap"``: ``|u - v|``.

        Examples
        --------
        >>> {k: float(v) for k, v in ScalarFactorization().observables([2.0, 1.0]).items()}
        {'sharpness_on_manifold': 5.0, 'gap': 1.0}
        """
        u, v = self._check_theta(theta)
        return {"sharpness_on_manifold": np.array(u * u + v * v), "gap": np.array(abs(u - v))}


@dataclass(frozen=True)
class DeepScalarFactorization(TrainingDynamics):
    """Least squares with ``d`` factors and one datum, ``L = (prod_i theta_i - y)^2 / 2``.

    Its minimisers form a manifold of codimension 1.

    On the manifold the Hessian is ``g g^T`` (``g`` the gradient of the product), so the
    sharpness is ``|g|^2 = sum_i (y/theta_i)^2``; its minimum over the manifold (positive
    orthant) is ``d y^(2 - 2/d)`` at ``theta_i = y^(1/d)`` (:meth:`flattest`).

    Parameters
    ----------
    d : int, default 10
        Number of factors (at least 2).
    y : float, default 1.0
        Positive target.

    Examples
    --------
    >>> dyn = DeepScalarFactorization(d=2, y=4.0)
    >>> dyn.loss([2.0, 2.0]), dyn.flattest()
    (0.0, (2.0, 8.0))
    """

    d: int = 10
    y: float = 1.0
    complex_step = True

    def __post_init__(self):
        object.__setattr__(self, "d", as_int(self.d, "d", minimum=2))
        object.__setattr__(self, "y", _pos(self.y, "y"))

    @property
    def shapes(self):
        return {"theta": (self.d,)}

    @staticmethod
    def _partials(th):
        """Products of all factors but one, without division."""
        pre = np.concatenate([[1.0], np.cumprod(th[:-1])])
        suf = np.concatenate([np.cumprod(th[::-1][:-1])[::-1], [1.0]])
        return pre * suf

    def _loss(self, th):
        return 0.5 * (np.prod(th) - self.y) ** 2

    def _grad(self, th):
        return (np.prod(th) - self.y) * self._partials(th)

    def output(self, theta):
        """The product ``f(theta) = prod_i theta_i`` fitted to ``y`` (complex-step safe).

        Parameters
        ----------
        theta : array_like, shape (d,)
            The factors.

        Returns
        -------
        float or complex
            The product of the factors; the loss is ``(f - y)^2 / 2``.

        Examples
        --------
        >>> DeepScalarFactorization(d=3).output([1.0, 2.0, 3.0])
        6.0
        """
        th = np.asarray(theta)
        return np.prod(th).item()

    def output_grad(self, theta) -> np.ndarray:
        """Gradient of the product: entry ``i`` is the product of all factors but ``i``.

        Parameters
        ----------
        theta : array_like, shape (d,)
            The factors (complex values allowed, for complex-step derivatives).

        Returns
        -------
        ndarray, shape (d,)
            ``df/dtheta_i``, computed without division.

        Examples
        --------
        >>> DeepScalarFactorization(d=3).output_grad([1.0, 2.0, 3.0]).tolist()
        [6.0, 3.0, 2.0]
        """
        return self._partials(np.asarray(theta))

    def output_hessian(self, theta) -> np.ndarray:
        """Hessian of the product: entry ``(i, j)``, ``i != j``, omits factors ``i`` and ``j``.

        Parameters
        ----------
        theta : array_like, shape (d,)
            The factors (complex values allowed).

        Returns
        -------
        ndarray, shape (d, d)
            Symmetric, zero diagonal.

        Examples
        --------
        >>> DeepScalarFactorization(d=3).output_hessian([1.0, 2.0, 3.0]).tolist()
        [[0.0, 3.0, 2.0], [3.0, 0.0, 1.0], [2.0, 1.0, 0.0]]
        """
        th = np.asarray(theta)
        rows = []
        for i in range(th.size):
            t1 = th.copy()
            t1[i] = 1.0
            row = self._partials(t1)
            row[i] = 0.0
            rows.append(row)
        return np.array(rows)

    def flattest(self) -> tuple[float, float]:
        """The optimally flat minimiser's common factor ``y^(1/d)`` and its sharpness.

        Returns
        -------
        tuple of float
            ``(y^(1/d), d y^(2 - 2/d))``; the critical step is ``2`` over the second.

        Examples
        --------
        >>> DeepScalarFactorization(d=10).flattest()
        (1.0, 10.0)
        """
        return self.y ** (1.0 / self.d), self.d * self.y ** (2.0 - 2.0 / self.d)


def regime(y: float, eta: float, *, rtol: float = 1e-12) -> str:
    """``"subcritical"``, ``"critical"`` or ``"supercritical"`` according to ``eta*y`` vs 1.

    Parameters
    ----------
    y : float
        Positive target of :class:`ScalarFactorization`.
    eta : float
        Positive GD step size.
    rtol : float, default 1e-12
        ``eta*y`` within ``rtol`` of 1 counts as critical.

    Returns
    -------
    str
        The regime name: ``eta*y`` below, at or above 1 gives ``"subcritical"``,
        ``"critical"`` or ``"supercritical"``.

    Examples
    --------
    >>> regime(1.0, 0.9), regime(1.0, 1.0), regime(1.0, 1.1)
    ('subcritical', 'critical', 'supercritical')
    """
    x = _pos(eta, "eta") * _pos(y, "y")
    if abs(x - 1.0) <= rtol:
        return "critical"
    return "subcritical" if x < 1 else "supercritical"


def two_cycle_closed_form(y: float, eta: float) -> tuple[float, float]:
    """The period-2 orbit ``{a, b}`` (``a >= b``) of GD on the diagonal ``u = v``.

    On ``u = v = x`` the map is ``g(x) = x - eta x (x^2 - y)``; a 2-cycle satisfies
    ``ab = 1/eta`` and ``a^2 - ab + b^2 = y``, so ``a + b = sqrt(y + 3/eta)``. Real iff
    ``eta*y >= 1``.

    Parameters
    ----------
    y : float
        Positive target of :class:`ScalarFactorization`.
    eta : float
        Positive GD step size with ``eta*y >= 1``.

    Returns
    -------
    a, b : float
        The two diagonal values ``u = v`` visited alternately, ``a >= b``.

    Examples
    --------
    >>> a, b = two_cycle_closed_form(1.0, 1.05)
    >>> round(a, 6), round(b, 6)
    (1.091089, 0.872872)
    """
    y, eta = _pos(y, "y"), _pos(eta, "eta")
    if eta * y < 1.0:
        raise InputError(f"a real 2-cycle needs `eta*y >= 1`, got eta*y = {eta * y:.6g}")
    s = math.sqrt(y + 3.0 / eta)
    disc = math.sqrt(max(s * s - 4.0 / eta, 0.0))
    return 0.5 * (s + disc), 0.5 * (s - disc)


TWO_CYCLE_STABLE_LIMIT = math.sqrt(5.0) - 1.0
"""Upper end of ``eta*y`` for which the diagonal 2-cycle is stable (period doubling beyond)."""


def two_cycle_multipliers(y: float, eta: float) -> np.ndarray:
    """Floquet multipliers of the diagonal 2-cycle in the full ``(u, v)`` plane (closed form).

    At ``u = v = x`` the GD Jacobian is ``I - eta [[x^2, 2x^2 - y], [2x^2 - y, x^2]]``,
    with eigenvectors ``(1, 1)`` (along the diagonal) and ``(1, -1)`` (transverse) shared by
    both points. Using ``ab = 1/eta`` and ``a^2 + b^2 = y + 1/eta`` the products simplify to
    ``along = 9 - 2 (1 + eta y)^2`` and ``transverse = 3 - 2 eta y``, so the cycle is stable
    exactly for ``1 < eta y < sqrt(5) - 1`` (derived here; checked against Newton/Floquet in the
    tests).

    Parameters
    ----------
    y : float
        Positive target of :class:`ScalarFactorization`.
    eta : float
        Positive GD step size with ``eta*y >= 1``.

    Returns
    -------
    ndarray, shape (2,)
        ``[along, transverse]`` multipliers of the two-step map.

    Examples
    --------
    >>> np.round(two_cycle_multipliers(1.0, 1.05), 6)
    array([0.595, 0.9  ])
    """
    a, b = two_cycle_closed_form(y, eta)
    along = (1 - eta * (3 * a * a - y)) * (1 - eta * (3 * b * b - y))
    trans = (1 - eta * (y - a * a)) * (1 - eta * (y - b * b))
    return np.array([along, trans])


@dataclass(frozen=True)
class ExpValley(TrainingDynamics):
    """The survey's toy valley ``L(theta) = exp(-theta1) theta2^2``.

    The minimisers are the ``theta1`` axis; the sharpness there is ``lambda = 2 exp(-theta1)``.

    Examples
    --------
    >>> ExpValley().loss([0.0, 1.0])
    1.0
    """

    complex_step = True

    @property
    def shapes(self):
        return {"theta1": (), "theta2": ()}

    def _loss(self, th):
        return np.exp(-th[0]) * th[1] ** 2

    def _grad(self, th):
        e = np.exp(-th[0])
        return np.array([-e * th[1] ** 2, 2 * e * th[1]])

    def observables(self, theta):
        """Sharpness of the valley floor below ``theta``.

        Parameters
        ----------
        theta : array_like, shape (2,)
            ``[theta1, theta2]``.

        Returns
        -------
        dict
            ``{"sharpness_on_manifold": 2 exp(-theta1)}`` (0-d array).

        Examples
        --------
        >>> float(ExpValley().observables([0.0, 3.0])["sharpness_on_manifold"])
        2.0
        """
        th = self._check_theta(theta)
        return {"sharpness_on_manifold": np.array(2 * np.exp(-th[0]))}


def theorem8_stabilisation(theta0, eta: float) -> TheoremCheck:
    """Theorem 8 (SPM survey) for :class:`ExpValley`: time after which GD is stable.

    If ``eta > 2/lambda0`` (``lambda0 = 2 exp(-theta1(0))``) then for every
    ``s >= t* = ceil((eta lambda0 - 2)/(eta lambda0 theta2(0)^2)) + 1`` one has
    ``eta < 2/lambda(theta1_s)``. The bracket placement is reconstructed from a garbled PDF
    [R]; the tests check it on GD runs.

    Parameters
    ----------
    theta0 : array_like, shape (2,)
        Initial ``[theta1, theta2]`` of GD on :class:`ExpValley`.
    eta : float
        Positive GD step size.

    Returns
    -------
    TheoremCheck
        ``(t*, hypotheses_hold)``: ``t*`` an int number of GD steps (``inf`` with the
        hypotheses failing when ``theta2(0) = 0``).

    Examples
    --------
    >>> theorem8_stabilisation([0.0, 0.5], 1.5)
    TheoremCheck(bound=3, hypotheses_hold=True)
    """
    th = np.asarray(theta0, dtype=float)
    if th.shape != (2,):
        raise InputError(f"`theta0` must have shape (2,), got {th.shape}")
    eta = _pos(eta, "eta")
    lam0 = 2 * math.exp(-th[0])
    ok = bool(eta * lam0 > 2 and th[1] != 0)
    if th[1] == 0:
        return TheoremCheck(math.inf, False)
    tstar = math.ceil((eta * lam0 - 2) / (eta * lam0 * th[1] ** 2)) + 1
    return TheoremCheck(int(tstar), ok)


def lemma7_sharpness_decay(lambda0: float, eta: float, t) -> TheoremCheck:
    """Lemma 7: GD on ``lambda(x) = 2 exp(-x)`` gives ``lambda_t <= lambda0 / (1 + lambda0 eta t)``.

    Parameters
    ----------
    lambda0 : float
        Positive initial sharpness.
    eta : float
        Positive GD step size.
    t : float or array_like
        Non-negative step counts.

    Returns
    -------
    TheoremCheck
        ``(bound, True)``: the bound on ``lambda_t`` (float, or array shaped like ``t``).

    Examples
    --------
    >>> lemma7_sharpness_decay(2.0, 0.5, 2).bound
    0.6666666666666666
    """
    lam0, eta = _pos(lambda0, "lambda0"), _pos(eta, "eta")
    t = np.asarray(t, dtype=float)
    if np.any(t < 0):
        raise InputError("`t` must be non-negative")
    b = lam0 / (1 + lam0 * eta * t)
    return TheoremCheck(float(b) if b.ndim == 0 else b, True)


def reduced_predictor(theta0, eta: float, steps: int) -> dict[str, np.ndarray]:
    """The survey's reduced EoS predictor (42) for :class:`ExpValley`.

    ``alpha_{t+1} = (1 - eta lambda_t) alpha_t``,
    ``lambda_{t+1} = lambda_t - eta alpha_t^2 |grad lambda_t|^2 / 2`` (``grad lambda = -lambda``
    here, and ``L = 0`` on the valley floor), loss ``alpha_t^2 lambda_t / 2``.

    Parameters
    ----------
    theta0 : array_like, shape (2,)
        Initial ``[theta1, theta2]``: ``alpha_0 = theta2``, ``lambda_0 = 2 exp(-theta1)``.
    eta : float
        Positive GD step size.
    steps : int
        Number of steps (at least 1).

    Returns
    -------
    dict of str to ndarray
        ``"alpha"``, ``"sharpness"`` and ``"loss"``, each of shape ``(steps + 1,)``.

    Examples
    --------
    >>> p = reduced_predictor([0.0, 0.1], 0.5, 3)
    >>> p["alpha"].shape
    (4,)
    """
    th = np.asarray(theta0, dtype=float)
    if th.shape != (2,):
        raise InputError(f"`theta0` must have shape (2,), got {th.shape}")
    eta = _pos(eta, "eta")
    if int(steps) < 1:
        raise InputError(f"`steps` must be >= 1, got {steps}")
    alpha = np.empty(int(steps) + 1)
    lam = np.empty(int(steps) + 1)
    alpha[0], lam[0] = th[1], 2 * math.exp(-th[0])
    for k in range(int(steps)):
        alpha[k + 1] = (1 - eta * lam[k]) * alpha[k]
        lam[k + 1] = lam[k] - eta * 0.5 * alpha[k] ** 2 * lam[k] ** 2
    return {"alpha": alpha, "sharpness": lam, "loss": 0.5 * alpha**2 * lam}
