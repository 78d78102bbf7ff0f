"""Local PL and smoothness constants for GD on two-layer linear models.

Xu, Min, Tarmoun, Mallada & Vidal, TMLR 2025.

``L(W1, W2) = l(W1 W2^T)`` with ``l(W) = ||Y - X W||_F^2 / 2`` (``X`` square invertible, so
``l`` is ``mu = s_min(X)^2``-strongly convex, ``K = s_max(X)^2``-smooth, ``min l = 0``). The
model is :class:`~netcoh.learning.linear_net.LinearNet` with ``U = W1``, ``V = W2``.

The gradient is ``T(grad l(W))`` with ``T(G) = [G W2; G^T W1]``, whose extreme squared
singular values are ``lambda_min/max(W1 W1^T) + lambda_min/max(W2 W2^T)``
(:func:`operator_bounds`; ``T*T`` is a Sylvester operator). Theorem 3.1
(:func:`theorem31`) gives local PL (``mu_t``) and smoothness (``K_t``) constants and the
contraction ``rho = 1 - 2 mu_t eta + mu_t K_t eta^2``; Theorem 3.2 (:func:`theorem32`) a global
envelope ``L(t) <= L(0) rho_bar^t`` for the adaptive step :func:`adaptive_step`.
"""

from __future__ import annotations

import math

import numpy as np

from netcoh._validation import as_float_array
from netcoh.exceptions import InputError

from .dynamics import TheoremCheck
from .linear_net import LinearNet

__all__ = ["operator_bounds", "assemble_operator", "smoothness_constants", "theorem31",
           "theorem32", "adaptive_step", "eta_max", "local_step", "gd_imbalance_increment"]


def _blocks(dyn: LinearNet, theta):
    return dyn._uv(dyn._check_theta(theta))


def operator_bounds(W1, W2) -> tuple[float, float]:
    """``(s_min(T)^2, s_max(T)^2)`` of ``T(G) = [G W2; G^T W1]`` without forming ``T``.

    Since ``|T(G)|^2 = tr(G (W2 W2^T) G^T) + tr(G^T (W1 W1^T) G)``, the bounds are
    ``lambda_min(W1 W1^T) + lambda_min(W2 W2^T)`` and the same with ``lambda_max``.

    Parameters
    ----------
    W1 : array_like, shape (n, h)
        First factor (the ``U`` block of :class:`LinearNet`).
    W2 : array_like, shape (m, h)
        Second factor (the ``V`` block).

    Returns
    -------
    smin2, smax2 : float
        Lower and upper bounds on the squared singular values of ``T``.

    Examples
    --------
    >>> operator_bounds(np.eye(2), 2 * np.eye(2))
    (5.0, 5.0)
    """
    W1 = as_float_array(W1, "W1", ndim=2)
    W2 = as_float_array(W2, "W2", ndim=2)
    if W1.shape[1] != W2.shape[1]:
        raise InputError(f"`W1` and `W2` must have the same number of columns, got "
                         f"{W1.shape[1]} and {W2.shape[1]}")
    e1 = np.linalg.eigvalsh(W1 @ W1.T)
    e2 = np.linalg.eigvalsh(W2 @ W2.T)
    return float(e1[0] + e2[0]), float(e1[-1] + e2[-1])


def assemble_operator(W1, W2) -> np.ndarray:
    """Dense matrix of ``T`` acting on ``vec(G)`` (row-major), for brute-force checks.

    Parameters
    ----------
    W1 : array_like, shape (n, h)
        First factor.
    W2 : array_like, shape (m, h)
        Second factor.

    Returns
    -------
    ndarray, shape (m * h + n * h, n * m)
        Column ``k`` is ``[vec(G W2); vec(G^T W1)]`` for the ``k``-th unit ``G`` (n x m).

    Examples
    --------
    >>> assemble_operator(np.eye(1), np.eye(1))
    array([[1.],
           [1.]])
    """
    W1 = as_float_array(W1, "W1", ndim=2)
    W2 = as_float_array(W2, "W2", ndim=2)
    n, m = W1.shape[0], W2.shape[0]
    cols = []
    for k in range(n * m):
        G = np.zeros(n * m)
        G[k] = 1.0
        G = G.reshape(n, m)
        cols.append(np.concatenate([(G @ W2).ravel(), (G.T @ W1).ravel()]))
    return np.column_stack(cols)


def smoothness_constants(X) -> tuple[float, float]:
    """``(mu, K) = (s_min(X)^2, s_max(X)^2)``; requires ``X`` of full column rank.

    Strong-convexity and smoothness constants of ``l(W) = ||Y - X W||^2 / 2``.

    Parameters
    ----------
    X : array_like, shape (N, n)
        Inputs, with ``N >= n`` and full column rank.

    Returns
    -------
    mu, K : float
        Strong-convexity constant ``s_min(X)^2`` and smoothness constant ``s_max(X)^2``.

    Examples
    --------
    >>> smoothness_constants(np.diag([1.0, 2.0]))
    (1.0, 4.0)
    """
    X = as_float_array(X, "X", ndim=2)
    s = np.linalg.svd(X, compute_uv=False)
    if X.shape[0] < X.shape[1] or s[-1] <= 1e-12 * max(1.0, s[0]):
        raise InputError("`X` must have full column rank for a strongly convex loss")
    return float(s[-1] ** 2), float(s[0] ** 2)


def _realizable(dyn: LinearNet) -> bool:
    return dyn.optimal_loss() <= 1e-20 * max(1.0, float(np.sum(dyn.Y**2)))


def theorem31(dyn: LinearNet, theta, eta: float) -> TheoremCheck:
    """Theorem 3.1: local constants at ``theta`` for a step ``eta``.

    Returns ``bound = {"mu_t", "K_t", "rho"}`` with
    ``mu_t = mu s_min(T)^2`` (so ``|grad L|^2 / 2 >= mu_t L``),
    ``K_t = K s_max(T)^2 + sqrt(2 K L) + 6 K^2 s_max(W) L eta^2 + 3 K s_max(T)^2 sqrt(2 K L) eta``
    (so ``L(t+1) <= L - (eta - K_t eta^2 / 2) |grad L|^2``) and, when ``eta K_t < 2``,
    ``L(t+1) <= rho L`` with ``rho = 1 - 2 mu_t eta + mu_t K_t eta^2``. ``hypotheses_hold``:
    ``X`` has full column rank and ``min l = 0`` (Assumptions 2.1-2.2).

    Parameters
    ----------
    dyn : LinearNet
        The model.
    theta : array_like, shape (size,)
        Current parameters ``[W1, W2]`` (the ``U``, ``V`` blocks).
    eta : float
        Positive step size.

    Returns
    -------
    TheoremCheck
        ``bound`` the dict above (``mu_t = 0``, ``K_t = inf``, ``rho = 1`` and False when
        ``X`` is rank deficient).

    Examples
    --------
    >>> dyn = LinearNet(np.eye(2), np.eye(2), h=4)
    >>> b, ok = theorem31(dyn, dyn.pack(U=np.ones((2, 4)), V=np.ones((2, 4))), 0.01)
    >>> ok, round(b["mu_t"], 6)
    (True, 0.0)
    """
    eta = float(eta)
    if not math.isfinite(eta) or eta <= 0:
        raise InputError(f"`eta` must be positive, got {eta}")
    W1, W2 = _blocks(dyn, theta)
    try:
        mu, K = smoothness_constants(dyn.X)
    except InputError:
        return TheoremCheck({"mu_t": 0.0, "K_t": math.inf, "rho": 1.0}, False)
    smin2, smax2 = operator_bounds(W1, W2)
    L = dyn.loss(dyn._check_theta(theta))
    sW = float(np.linalg.norm(W1 @ W2.T, 2))
    r = math.sqrt(2 * K * L)
    mu_t = mu * smin2
    K_t = K * smax2 + r + 6 * K**2 * sW * L * eta**2 + 3 * K * smax2 * r * eta
    rho = 1 - 2 * mu_t * eta + mu_t * K_t * eta**2
    return TheoremCheck({"mu_t": mu_t, "K_t": K_t, "rho": rho}, _realizable(dyn))


def _alphas(dyn: LinearNet, theta0):
    W1, W2 = _blocks(dyn, theta0)
    mu, K = smoothness_constants(dyn.X)
    Wstar = np.linalg.lstsq(dyn.X, dyn.Y, rcond=None)[0]
    D0 = W1.T @ W1 - W2.T @ W2
    lam = np.linalg.eigvalsh(D0)[::-1]
    lneg = np.sort(-lam)[::-1]
    n, m = W1.shape[0], W2.shape[0]
    pos = lambda x: max(float(x), 0.0)  # noqa: E731
    lp, lm = pos(lam[0]), pos(lneg[0])
    delta = pos(lam[n - 1]) + pos(lneg[m - 1])
    dp, dm = lp - pos(lam[n - 1]), lm - pos(lneg[m - 1])
    sv = np.linalg.svd(Wstar, compute_uv=False)
    dist = float(np.linalg.norm(W1 @ W2.T - Wstar))
    beta1 = max(0.0, float(sv[-1]) - math.sqrt(K / mu) * dist)
    beta2 = float(sv[0]) + math.sqrt(K / mu) * dist
    a1 = 0.5 * (-dp - dm + math.sqrt((dp + delta) ** 2 + 4 * beta1**2)
                + math.sqrt((dm + delta) ** 2 + 4 * beta1**2))
    a2 = 0.5 * (lp + math.sqrt(lp**2 + 4 * beta2**2)) + 0.5 * (lm + math.sqrt(lm**2 + 4 * beta2**2))
    return mu, K, a1, a2, beta2


def theorem32(dyn: LinearNet, theta0, eta0: float) -> TheoremCheck:
    """Theorem 3.2: envelope ``L(t) <= L(0) rho_bar^t`` for the adaptive step.

    ``mu_bar = mu (alpha1 + 2 alpha2 (1 - exp(sqrt(eta0))))``,
    ``K_bar_0 = sqrt(2 K L0) + 6 K^2 beta2 L0 eta0^2 + K exp(sqrt(eta0)) alpha2 (1 + 3 sqrt(2 K L0) eta0)``,
    ``rho_bar = 1 - 2 mu_bar eta0 + mu_bar K_bar_0 eta0^2``. ``hypotheses_hold``: Assumptions
    2.1-2.2, ``alpha1 > 0``, ``mu_bar > 0`` and ``0 < rho_bar < 1`` (our reading of
    ``eta0 < eta_max``; the paper's eqs. (101)-(102) were not available).

    Parameters
    ----------
    dyn : LinearNet
        The model.
    theta0 : array_like, shape (size,)
        Initial parameters.
    eta0 : float
        Positive initial step of :func:`adaptive_step`.

    Returns
    -------
    TheoremCheck
        ``bound = {"rho_bar", "alpha1", "alpha2", "mu_bar", "K_bar0"}`` (empty, False when
        ``X`` is rank deficient).

    Examples
    --------
    >>> dyn = LinearNet(np.eye(2), np.eye(2), h=2)
    >>> b, ok = theorem32(dyn, dyn.pack(U=np.eye(2), V=0.9 * np.eye(2)), 1e-4)
    >>> ok, 0 < b["rho_bar"] < 1
    (True, True)
    """
    eta0 = float(eta0)
    if not math.isfinite(eta0) or eta0 <= 0:
        raise InputError(f"`eta0` must be positive, got {eta0}")
    try:
        mu, K, a1, a2, beta2 = _alphas(dyn, theta0)
    except InputError:
        return TheoremCheck({}, False)
    L0 = dyn.loss(dyn._check_theta(theta0))
    e = math.exp(math.sqrt(eta0))
    mu_bar = mu * (a1 + 2 * a2 * (1 - e))
    r = math.sqrt(2 * K * L0)
    K_bar0 = r + 6 * K**2 * beta2 * L0 * eta0**2 + K * e * a2 * (1 + 3 * r * eta0)
    rho_bar = 1 - 2 * mu_bar * eta0 + mu_bar * K_bar0 * eta0**2
    ok = _realizable(dyn) and a1 > 0 and mu_bar > 0 and 0 < rho_bar < 1
    return TheoremCheck({"rho_bar": rho_bar, "alpha1": a1, "alpha2": a2, "mu_bar": mu_bar,
                         "K_bar0": K_bar0}, bool(ok))


def eta_max(dyn: LinearNet, theta0, *, iters: int = 60) -> float:
    """Largest ``eta0`` for which :func:`theorem32`'s hypotheses hold (bisection; [R]).

    Assumes the hypotheses hold on an interval ``(0, eta_max)``; the bracket doubles from
    1 up to 1e6.

    Parameters
    ----------
    dyn : LinearNet
        The model.
    theta0 : array_like, shape (size,)
        Initial parameters.
    iters : int, default 60
        Bisection steps.

    Returns
    -------
    float
        0 if the hypotheses fail for every tried step.

    Examples
    --------
    >>> dyn = LinearNet(np.eye(2), np.eye(2), h=2)
    >>> 0 < eta_max(dyn, dyn.pack(U=np.eye(2), V=0.9 * np.eye(2))) < 1
    True
    """
    lo, hi = 0.0, 1.0
    while theorem32(dyn, theta0, hi).hypotheses_hold and hi < 1e6:
        lo, hi = hi, 2 * hi
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if theorem32(dyn, theta0, mid).hypotheses_hold:
            lo = mid
        else:
            hi = mid
    return lo


def adaptive_step(dyn: LinearNet, eta0: float):
    """Step schedule (19): ``eta_t = min((1 + eta0^2)^(t/2) eta0, 1/K_t)``; use with
    :func:`~netcoh.learning.simulate.simulate_gd` ``schedule=``.

    Parameters
    ----------
    dyn : LinearNet
        The model; ``K_t`` comes from :func:`theorem31` at the current parameters.
    eta0 : float
        Positive initial step.

    Returns
    -------
    callable
        ``schedule(t, theta) -> float`` for iteration ``t``.

    Examples
    --------
    >>> dyn = LinearNet(np.eye(2), np.eye(2), h=2)
    >>> sched = adaptive_step(dyn, 1e-3)
    >>> sched(0, dyn.pack(U=np.eye(2), V=np.eye(2)))
    0.001
    """
    eta0 = float(eta0)
    if not math.isfinite(eta0) or eta0 <= 0:
        raise InputError(f"`eta0` must be positive, got {eta0}")

    def schedule(t, theta):
        cap = (1 + eta0**2) ** (t / 2) * eta0
        K_t = theorem31(dyn, theta, cap).bound["K_t"]
        return min(cap, 1.0 / K_t)

    return schedule


def local_step(dyn: LinearNet, theta) -> float:
    """The step that minimises Theorem 3.1's contraction: ``eta K_t(eta) = 1``.

    ``K_t`` grows with ``eta`` (``K_t = a + b eta + c eta^2``), so the step is the positive
    root of the cubic ``c eta^3 + b eta^2 + a eta - 1``; with it Theorem 3.1 certifies
    ``L(t+1) <= (1 - mu_t / K_t) L(t)`` at every iteration, using only the current weights.
    Use it as ``schedule=lambda t, theta: local_step(dyn, theta)`` in
    :func:`~netcoh.learning.simulate.simulate_gd`.

    Parameters
    ----------
    dyn : LinearNet
        The model.
    theta : array_like, shape (size,)
        Current parameters ``[W1, W2]``.

    Returns
    -------
    float
        The step ``eta_t > 0``.

    Examples
    --------
    >>> dyn = LinearNet(np.eye(1), np.eye(1), h=1)
    >>> eta = local_step(dyn, [1.0, 1.0])       # at a minimum: K_t = K s_max(T)^2 = 2
    >>> eta, theorem31(dyn, [1.0, 1.0], eta).bound["K_t"] * eta
    (0.5, 1.0)
    """
    W1, W2 = _blocks(dyn, theta)
    _, K = smoothness_constants(dyn.X)
    _, smax2 = operator_bounds(W1, W2)
    L = dyn.loss(dyn._check_theta(theta))
    sW = float(np.linalg.norm(W1 @ W2.T, 2))
    r = math.sqrt(2 * K * L)
    a, b, c = K * smax2 + r, 3 * K * smax2 * r, 6 * K**2 * sW * L
    roots = np.roots([c, b, a, -1.0]) if c > 0 else np.roots([b, a, -1.0]) if b > 0 \
        else np.array([1.0 / a])
    eta = min(float(z.real) for z in roots if abs(z.imag) <= 1e-12 * abs(z) and z.real > 0)
    # one Newton step polishes the root of the monotone cubic to rounding
    f, df = eta * (a + b * eta + c * eta**2) - 1.0, a + 2 * b * eta + 3 * c * eta**2
    return float(eta - f / df)


def gd_imbalance_increment(dyn: LinearNet, theta, eta: float) -> np.ndarray:
    """Exact one-step change of ``D = W1^T W1 - W2^T W2`` under GD.

    ``D+ - D = eta^2 (W2^T G^T G W2 - W1^T G G^T W1)`` with ``G = grad l(W1 W2^T)``
    (derived here; the first-order terms cancel, hence the O(eta^2) drift).

    Parameters
    ----------
    dyn : LinearNet
        The model.
    theta : array_like, shape (size,)
        Current parameters ``[W1, W2]``.
    eta : float
        Step size.

    Returns
    -------
    ndarray, shape (h, h)
        The symmetric increment ``D+ - D`` of the imbalance after one GD step.

    Examples
    --------
    >>> dyn = LinearNet(np.eye(1), np.eye(1), h=1)
    >>> gd_imbalance_increment(dyn, [1.0, 0.0], 0.1)
    array([[-0.01]])
    """
    W1, W2 = _blocks(dyn, theta)
    G = -dyn.X.T @ (dyn.Y - dyn.X @ W1 @ W2.T)
    A, B = G @ W2, G.T @ W1
    return float(eta) ** 2 * (A.T @ A - B.T @ B)
