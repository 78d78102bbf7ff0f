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
           "ShallowNet"]


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
    subject to ``y F_p(z) <= 0`` (SLSQP from one start per opposite-class centre).

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
        0 if ``x`` is already misclassified; ``inf`` if no SLSQP start converged (``p > 1``).

    Examples
    --------
    >>> round(ideal_radius(np.eye(4)[0], 1.0, 4, 2), 9), round(ideal_radius(np.eye(4)[0], 1.0, 4, 2, p=3), 6)
    (0.5, 0.707107)
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

    def margin(v):
        R = np.maximum(v, 0.0) ** p
        return float(R[own].sum() - R[other].sum())

    best = math.inf
    for l in other:
        z0 = z.copy()
        top = max(float(np.max(np.maximum(z[own], 0))), 0.0)
        z0[l] = top + 1e-3
        z0[own] = np.minimum(z0[own], top)
        res = minimize(lambda v: float(np.sum((v - z) ** 2)), z0, jac=lambda v: 2 * (v - z),
                       constraints=[{"type": "ineq", "fun": lambda v: -margin(v)}],
                       method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
        if res.success and margin(res.x) <= 1e-9:
            best = min(best, float(np.linalg.norm(res.x - z)))
    return best


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
