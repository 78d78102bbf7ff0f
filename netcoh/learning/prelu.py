"""Implicit bias and adversarial robustness with polynomial ReLU (Min & Vidal, ICML 2024).

pReLU neurons ``sigma_p(w, x) = ReLU(<w, x>)^p / |w|^(p-1)``
(:class:`~netcoh.learning.shallow.ShallowNet` with ``p``), data a balanced mixture of ``K``
Gaussian clusters around orthonormal centres ``e_k`` (the first ``K1`` positive). The paper's
ideal classifiers are

* ``p = 1``: ``F(x) = sqrt(K1) ReLU(<x, mu+>) - sqrt(K2) ReLU(<x, mu->)`` (unit class averages
  ``mu+-``), which is only robust to perturbations of size ``1/sqrt(K)`` at the centres;
* ``p > 2``: ``F_p(x) = sum_{k<=K1} ReLU(x_k)^p - sum_{k>K1} ReLU(x_k)^p``, robust up to
  ``sqrt(2)/2`` (half the distance between centres).

:func:`ideal_radius` computes the exact l2 robustness radius of the ideal classifiers
(analytically for ``p = 1``, by constrained minimisation in the span of the centres for ``p > 1``).
The main PDF was not available; theorem constants are not implemented, only these
structural predictions (tested as trends).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize

from netcoh._validation import as_float_array, as_int
from netcoh.exceptions import InputError

from .shallow import ShallowNet

__all__ = ["gaussian_mixture", "ideal_classifier", "ideal_radius", "neuron_centre_alignment",
           "attack_radius", "ShallowNet"]


def _check_kk(K, K1):
    K = as_int(K, "K", minimum=2)
    K1 = as_int(K1, "K1", minimum=1, maximum=K - 1)
    return K, K1


def gaussian_mixture(D: int, K: int, K1: int, n: int, sigma: float, rng=None):
    """``n`` samples from ``N(e_k, (sigma^2/D) I)``, clusters uniform; labels ``+1`` for ``k < K1``.

    Parameters
    ----------
    D : int
        Input dimension, at least ``K`` (the centres are ``e_0 .. e_{K-1}``).
    K : int
        Number of clusters (at least 2).
    K1 : int
        Number of positive clusters, ``1 <= K1 <= K - 1``.
    n : int
        Number of samples.
    sigma : float
        Non-negative noise level (total variance ``sigma^2``).
    rng : numpy.random.Generator or int, optional
        Random generator or seed.

    Returns
    -------
    X : ndarray, shape (n, D)
        Samples, one per row: a cluster centre ``e_k`` plus Gaussian noise.
    y : ndarray, shape (n,)
        Labels ``+1``/``-1``.
    cluster : ndarray of int, shape (n,)
        Cluster index of each sample.

    Examples
    --------
    >>> X, y, c = gaussian_mixture(8, 4, 2, 6, 0.1, rng=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((6, 8), [-1.0, 1.0])
    """
    D = as_int(D, "D", minimum=1)
    K, K1 = _check_kk(K, K1)
    if K > D:
        raise InputError(f"`K` must be <= `D` (orthonormal centres), got K = {K}, D = {D}")
    n = as_int(n, "n", minimum=1)
    sigma = float(sigma)
    if sigma < 0:
        raise InputError(f"`sigma` must be non-negative, got {sigma}")
    rng = np.random.default_rng(rng)
    c = rng.integers(0, K, n)
    X = sigma / math.sqrt(D) * rng.standard_normal((n, D))
    X[np.arange(n), c] += 1.0
    return X, np.where(c < K1, 1.0, -1.0), c


def ideal_classifier(X, K: int, K1: int, p: float = 1.0) -> np.ndarray:
    """``F`` (``p = 1``) or ``F_p`` (``p > 1``) evaluated on the rows of ``X``.

    ``F(x) = sqrt(K1) ReLU(<mu+, x>) - sqrt(K2) ReLU(<mu-, x>)`` with the unit class-average
    directions ``mu+ = sum_{k < K1} e_k / sqrt(K1)``, ``mu- = sum_{k >= K1} e_k / sqrt(K2)``
    (``K2 = K - K1``); ``F_p(x) = sum_{k < K1} ReLU(x_k)^p - sum_{K1 <= k < K} ReLU(x_k)^p``.

    Parameters
    ----------
    X : array_like, shape (n, D)
        Inputs, one per row (``D >= K``; only the first ``K`` coordinates matter).
    K : int
        Number of clusters.
    K1 : int
        Number of positive clusters.
    p : float, default 1.0
        pReLU exponent.

    Returns
    -------
    ndarray, shape (n,)
        The classifier's output on each row of ``X`` (its sign is the predicted label).

    Examples
    --------
    >>> K = 4
    >>> float(ideal_classifier(np.eye(4)[:1], K, 2)[0]), float(ideal_classifier(np.eye(4)[:1], K, 2, p=3)[0])
    (1.0, 1.0)
    """
    X = as_float_array(X, "X", ndim=2)
    K, K1 = _check_kk(K, K1)
    Z = X[:, :K]
    if p == 1.0:
        a = Z[:, :K1].sum(axis=1) / math.sqrt(K1)
        b = Z[:, K1:].sum(axis=1) / math.sqrt(K - K1)
        return math.sqrt(K1) * np.maximum(a, 0) - math.sqrt(K - K1) * np.maximum(b, 0)
    R = np.maximum(Z, 0.0) ** p
    return R[:, :K1].sum(axis=1) - R[:, K1:].sum(axis=1)


def ideal_radius(x, y: float, K: int, K1: int, p: float = 1.0) -> float:
    """Exact l2 distance from ``x`` to the region where the ideal classifier errs (``yF <= 0``).

    ``p = 1``: in the plane of ``(mu+, mu-)`` coordinates ``(a, b)``, the distance to
    ``{a <= 0}`` or to the line ``sqrt(K1) a = sqrt(K2) b`` (``b >= 0``), for ``y = +1``
    (symmetric for ``y = -1``). ``p > 1``: minimise ``|z - x_K|`` over the centre coordinates
    subject to ``y F_p(z) <= 0``: in closed form when ``p >= 2`` and a single own-class
    coordinate is positive (``min(a, (a - b)/sqrt(2))``, ``a`` that coordinate, ``b`` the
    largest opposite-class one; ``sqrt(2)/2`` at the centres), otherwise by SLSQP from one
    start per opposite-class centre, keeping the smallest feasible stationary point (and, as
    a finite upper bound, the boundary point on the segment to a misclassified point).

    Parameters
    ----------
    x : array_like, shape (D,)
        One input (``D >= K``).
    y : float
        Its label, ``+1`` or ``-1``.
    K : int
        Number of clusters.
    K1 : int
        Number of positive clusters.
    p : float, default 1.0
        pReLU exponent.

    Returns
    -------
    float
        The radius; 0 if ``x`` is already misclassified, always finite.

    Examples
    --------
    >>> round(ideal_radius(np.eye(4)[0], 1.0, 4, 2), 9), round(ideal_radius(np.eye(4)[0], 1.0, 4, 2, p=3), 9)
    (0.5, 0.707106781)
    """
    x = as_float_array(x, "x", ndim=1)
    K, K1 = _check_kk(K, K1)
    if float(y) not in (1.0, -1.0):
        raise InputError(f"`y` must be +1 or -1, got {y}")
    if y * ideal_classifier(x[None, :], K, K1, p)[0] <= 0:
        return 0.0
    z = x[:K]
    if p == 1.0:
        K2 = K - K1
        a = z[:K1].sum() / math.sqrt(K1)
        b = z[K1:].sum() / math.sqrt(K2)
        ka, kb = (K1, K2) if y > 0 else (K2, K1)
        if y < 0:
            a, b = b, a
        cands = [a]                                     # reach a <= 0
        lin = math.sqrt(ka) * a - math.sqrt(kb) * b     # > 0 when correctly classified
        foot_b = b + lin * math.sqrt(kb) / K
        cands.append(lin / math.sqrt(K) if foot_b >= 0 else math.hypot(a, b))
        return float(min(cands))
    own = np.arange(K1) if y > 0 else np.arange(K1, K)
    other = np.arange(K1, K) if y > 0 else np.arange(K1)
    zo, zt = z[own], z[other]
    pos_own = np.flatnonzero(zo > 0)
    if p >= 2 and pos_own.size == 1:
        # closed form: lower the single active own coordinate a to s and raise the largest
        # other coordinate b to s (s = (a + b)/2), or zero a; for p >= 2 spreading over several
        # other coordinates never helps (sum t_l^p <= |t|_2^p)
        a, b = float(zo[pos_own[0]]), float(np.max(zt))
        return float(min(a, (a - b) / math.sqrt(2.0)))
    return _radius_search(z, own, other, p)


def _radius_search(z, own, other, p):
    """Smallest ``|v - z|`` with ``g(v) = sum_own ReLU(v)^p - sum_other ReLU(v)^p <= 0``.

    SLSQP with the analytic constraint gradient from one start per opposite-class coordinate
    and one spreading over all of them; each result, whatever the solver's status flag, is
    polished by Newton's method on the KKT system ``v - z + c grad g(v) = 0, g(v) = 0`` and
    kept if that converges with ``c >= 0``. Every start also gives an upper bound by bisection
    on the segment to a misclassified point, so the result is always finite.
    """
    sgn = np.zeros(z.size)
    sgn[own], sgn[other] = 1.0, -1.0
    scale = max(float(np.max(np.abs(z))), 1.0)

    def g(v):
        return float(sgn @ np.maximum(v, 0.0) ** p)

    def dg(v):
        return sgn * p * np.maximum(v, 0.0) ** (p - 1)

    top = float(np.max(np.maximum(z[own], 0.0)))
    starts = []
    for raise_ in [[l] for l in other] + [list(other)]:
        z0 = z.copy()
        z0[own] = np.minimum(z[own], top)
        z0[raise_] = np.maximum(z[raise_], top * len(raise_) ** (-1.0 / p) + 1e-3 * scale)
        starts.append(z0)
    best = math.inf
    for z0 in starts:
        zf = z0.copy()                       # misclassified: own coordinates zeroed
        zf[own] = np.minimum(z[own], 0.0)
        lo, hi = 0.0, 1.0                    # bisection on z + s (zf - z): g(z) > 0 >= g(zf)
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if g(z + mid * (zf - z)) > 0 else (lo, mid)
        best = min(best, hi * float(np.linalg.norm(zf - z)))
        res = minimize(lambda v: float(np.sum((v - z) ** 2)), z0, jac=lambda v: 2 * (v - z),
                       constraints=[{"type": "ineq", "fun": lambda v: -g(v),
                                     "jac": lambda v: -dg(v)}],
                       method="SLSQP", options={"ftol": 1e-15, "maxiter": 500})
        v = _kkt_polish(res.x, z, sgn, p, g, dg)
        if v is not None:
            best = min(best, float(np.linalg.norm(v - z)))
    return best


def _kkt_polish(v, z, sgn, p, g, dg):
    """Newton on ``[v - z + c dg(v); g(v)] = 0``; the KKT point, or None if it fails."""
    gr = dg(v)
    c = -float((v - z) @ gr) / max(float(gr @ gr), 1e-300)
    tol = 1e-13 * max(1.0, float(np.max(np.abs(z))))
    for _ in range(50):
        gr = dg(v)
        F = np.append(v - z + c * gr, g(v))
        if np.max(np.abs(F)) <= tol:
            return v if c >= 0 else None
        act = v > 0
        hd = np.where(act, sgn * p * (p - 1) * np.where(act, v, 1.0) ** (p - 2), 0.0)
        J = np.zeros((v.size + 1, v.size + 1))
        J[:-1, :-1] = np.diag(1.0 + c * hd)
        J[:-1, -1] = gr
        J[-1, :-1] = gr
        try:
            step = np.linalg.solve(J, -F)
        except np.linalg.LinAlgError:
            return None
        v, c = v + step[:-1], c + step[-1]
    return None


def neuron_centre_alignment(net: ShallowNet, theta, K: int, K1: int) -> dict[str, float]:
    """Mean (over the largest neurons by ``|v_j| |w_j|``) cosine of ``w_j`` with the nearest
    class-average direction ``mu+-`` and with the nearest single centre ``e_k``.

    The largest quarter of the neurons (at least one) is used.

    Parameters
    ----------
    net : ShallowNet
        A binary network trained on :func:`gaussian_mixture` data.
    theta : array_like, shape (net.size,)
        Its parameters.
    K : int
        Number of clusters.
    K1 : int
        Number of positive clusters.

    Returns
    -------
    dict of str to float
        ``"class_average"`` and ``"centre"`` mean cosines (1 = perfectly aligned).

    Examples
    --------
    >>> X, y, _ = gaussian_mixture(4, 4, 2, 8, 0.1, rng=0)
    >>> net = ShallowNet(X, y, h=4)
    >>> theta = net.pack(W=np.eye(4), V=[[1.0, 1.0, -1.0, -1.0]])
    >>> neuron_centre_alignment(net, theta, 4, 2)
    {'class_average': 0.7071067811865475, 'centre': 1.0}
    """
    K, K1 = _check_kk(K, K1)
    b = net.unpack(theta)
    W, v = b["W"], b["V"][0]
    nrm = np.linalg.norm(W, axis=0)
    keep = np.argsort(-np.abs(v) * nrm)[: max(1, W.shape[1] // 4)]
    Wn = W[:, keep] / nrm[keep]
    D = W.shape[0]
    mu = np.zeros((2, D))
    mu[0, :K1] = 1 / math.sqrt(K1)
    mu[1, K1:K] = 1 / math.sqrt(K - K1)
    cos_avg = np.max(mu @ Wn, axis=0)
    cos_centre = np.max(Wn[:K], axis=0)
    return {"class_average": float(np.mean(cos_avg)), "centre": float(np.mean(cos_centre))}


def _margin_and_grad(W, v, p, X, y):
    """``y f(x)`` and its input gradient for every row of ``X`` (binary net, ``V = v``)."""
    Z = X @ W
    R = np.maximum(Z, 0.0)
    nrm = np.maximum(np.linalg.norm(W, axis=0), 1e-300) ** (p - 1)
    f = (R**p / nrm) @ v
    G = (p * R ** (p - 1) * (Z > 0) / nrm * v) @ W.T
    return y * f, y[:, None] * G


def attack_radius(net: ShallowNet, theta, X, y, *, r_max: float = 2.0, steps: int = 80,
                  bisections: int = 20, restarts: int = 4, guides: int = 3,
                  rng=0) -> np.ndarray:
    """Smallest l2 perturbation found that makes a trained binary network err (``y f <= 0``).

    For each radius ``r`` an attack by projected gradient descent on ``y f(x + d)``
    (``|d| <= r``, normalised steps from ``r / 4``, halved eight times over the run,
    started along the steepest direction, towards the ``guides`` nearest training points of
    the other label, and from ``restarts`` random points of the sphere -- the last two reach
    neurons that are inactive at ``x``) either succeeds or not; bisection on ``r`` in
    ``[0, r_max]`` returns the smallest successful radius. An attack gives an upper bound on
    the true robustness radius.

    Parameters
    ----------
    net : ShallowNet
        A binary network (``d_out = 1``), any ``p``.
    theta : array_like, shape (net.size,)
        Its parameters.
    X : array_like, shape (m, D)
        Points to attack, one per row.
    y : array_like, shape (m,)
        Their labels ``+1``/``-1``.
    r_max : float, default 2.0
        Largest radius tried.
    steps : int, default 80
        Gradient steps per attack.
    bisections : int, default 20
        Bisection steps on the radius (resolution ``r_max / 2^bisections``).
    restarts : int, default 4
        Random starting points per attack.
    guides : int, default 3
        Starting directions towards the nearest training points (``net.X``) of the other
        label.
    rng : numpy.random.Generator or int, default 0
        Random generator or seed for the starting points (one draw reused for every radius).

    Returns
    -------
    ndarray, shape (m,)
        Radii; 0 where ``x`` is already misclassified, ``inf`` where no attack of radius
        ``r_max`` succeeded.

    Examples
    --------
    >>> X = np.eye(2)
    >>> net = ShallowNet(X, np.array([1.0, -1.0]), h=2)
    >>> th = net.pack(W=np.eye(2), V=[[1.0, -1.0]])     # f(x) = ReLU(x_0) - ReLU(x_1)
    >>> attack_radius(net, th, X, [1.0, -1.0]).round(3).tolist()   # distance to x_0 = x_1
    [0.707, 0.707]
    """
    b = net.unpack(theta)
    W, V = b["W"], b["V"]
    if V.shape[0] != 1:
        raise InputError(f"`net` must be binary (one output), got {V.shape[0]} outputs")
    X = as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", ndim=1)
    if X.shape != (y.size, W.shape[0]):
        raise InputError(f"`X` must have shape ({y.size}, {W.shape[0]}), got {X.shape}")
    v, p = V[0], float(net.p)

    rng = np.random.default_rng(rng)
    m0, g0 = _margin_and_grad(W, v, p, X, y)
    dirs = [-g0 / np.maximum(np.linalg.norm(g0, axis=1, keepdims=True), 1e-300)]
    Xr, yr = np.asarray(net.X), np.asarray(net.y).ravel()
    dist = np.where(yr[None, :] == y[:, None], np.inf,
                    np.linalg.norm(X[:, None, :] - Xr[None, :, :], axis=2))
    for k in range(min(as_int(guides, "guides", minimum=0), Xr.shape[0])):
        idx = np.argsort(dist, axis=1)[:, k]
        u = Xr[idx] - X
        dirs.append(u / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-300))
    for _ in range(as_int(restarts, "restarts", minimum=0)):
        u = rng.standard_normal(X.shape)
        dirs.append(u / np.linalg.norm(u, axis=1, keepdims=True))

    def unit(g):
        return g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-300)

    def succeeds(r):
        ok = m0 <= 0
        for u in dirs:
            d = r[:, None] * u
            for k in range(steps):
                m, g = _margin_and_grad(W, v, p, X + d, y)
                ok |= m <= 0
                d = d - (0.25 * r * 0.5 ** (8 * k // steps))[:, None] * unit(g)
                d *= np.minimum(1.0, r / np.maximum(np.linalg.norm(d, axis=1), 1e-300))[:, None]
            ok |= _margin_and_grad(W, v, p, X + d, y)[0] <= 0
        return ok

    lo, hi = np.zeros(y.size), np.full(y.size, float(r_max))
    found = succeeds(hi)
    for _ in range(int(bisections)):
        mid = 0.5 * (lo + hi)
        hit = succeeds(mid)
        hi, lo = np.where(hit, mid, hi), np.where(hit, lo, mid)
    out = np.where(found, hi, np.inf)
    return np.where(m0 <= 0, 0.0, out)
