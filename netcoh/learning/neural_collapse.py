"""Neural collapse under gradient flow on shallow ReLU networks (Min, Zhu, Vidal, NeurIPS 2025).

For orthogonally separable data (same-class cosine ``>= mu_s > 0``, different-class cosine
``<= -mu_d < 0``) and a small balanced init, the normalised parameters converge to a direction
with (Theorem 1): intra-class directional collapse of the features, non-negative orthogonal
class-mean features, and a last layer equal to the (scaled simplex-ETF) projected class means.
The class weights ``s_k = sqrt(gamma_k^{-1} / (2 sum_k' gamma_k'^{-1}))`` come from the
class-wise max margins ``gamma_k = max_{|u|<=1} min_{i in I_k} <x_i, u>``.

* :func:`orthogonally_separable_data`: simplex-ETF anchors plus private orthogonal noise
  (exact ``mu_s``, ``mu_d``).
* :func:`class_margin`, :func:`theorem1`, :func:`nc_metrics` (NC1-NC3 style diagnostics).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import nnls

from netcoh._validation import as_float_array, as_int
from netcoh.exceptions import InputError

from .dynamics import TheoremCheck
from .shallow import ShallowNet

__all__ = ["orthogonally_separable_data", "separability", "class_margin", "theorem1",
           "nc_metrics", "balanced_small_init", "ShallowNet"]


def orthogonally_separable_data(K: int, n_per_class: int, tau: float = 0.3):
    """``x_i = a_{y_i} + tau e_{K+i}`` with ``a_k`` the unit simplex-ETF anchors in ``R^K``.

    Same-class cosine ``1/(1 + tau^2) = mu_s``; different-class cosine
    ``-1/((K-1)(1 + tau^2)) = -mu_d``.

    Parameters
    ----------
    K : int
        Number of classes (at least 2).
    n_per_class : int
        Samples per class (at least 1).
    tau : float, default 0.3
        Positive size of each sample's private orthogonal direction.

    Returns
    -------
    X : ndarray, shape (K * n_per_class, K + K * n_per_class)
        Inputs, one per row, sorted by class.
    y : ndarray of int, shape (K * n_per_class,)
        Class indices ``0..K-1``.

    Examples
    --------
    >>> X, y = orthogonally_separable_data(3, 2, 0.3)
    >>> np.round(separability(X, y), 6)
    array([0.917431, 0.458716])
    """
    K = as_int(K, "K", minimum=2)
    npc = as_int(n_per_class, "n_per_class", minimum=1)
    tau = float(tau)
    if not tau > 0:
        raise InputError(f"`tau` must be positive, got {tau}")
    A = math.sqrt(K / (K - 1)) * (np.eye(K) - 1.0 / K)   # columns: unit ETF anchors
    n = K * npc
    y = np.repeat(np.arange(K), npc)
    X = np.zeros((n, K + n))
    X[:, :K] = A[:, y].T
    X[np.arange(n), K + np.arange(n)] = tau
    return X, y


def separability(X, y) -> np.ndarray:
    """``[mu_s, mu_d]``: min same-class cosine and minus the max different-class cosine.

    The data are orthogonally separable when both are positive.

    Parameters
    ----------
    X : array_like, shape (n, D)
        Non-zero inputs, one per row.
    y : array_like, shape (n,)
        Class labels (any comparable values).

    Returns
    -------
    ndarray, shape (2,)
        ``[mu_s, mu_d]``; both positive means orthogonally separable.

    Examples
    --------
    >>> separability(np.array([[1.0, 0.0], [1.0, 0.1], [-1.0, 0.0]]), [0, 0, 1]).round(4).tolist()
    [0.995, 0.995]
    """
    X = as_float_array(X, "X", ndim=2)
    y = np.asarray(y)
    Z = X / np.linalg.norm(X, axis=1, keepdims=True)
    C = Z @ Z.T
    same = y[:, None] == y[None, :]
    return np.array([float(np.min(C[same])), float(-np.max(C[~same]))])


def class_margin(Xk) -> tuple[float, np.ndarray]:
    """``gamma = max_{|u|<=1} min_i <x_i, u>`` and its maximiser ``u``.

    Solved as the least-distance problem ``min |w|`` subject to ``X w >= 1`` (then
    ``gamma = 1/|w|``, ``u = w/|w|``) by non-negative least squares (Lawson & Hanson's
    reduction, an active-set method that terminates exactly); ``gamma`` is then evaluated as
    ``min_i <x_i, u>`` for the returned ``u``.

    Parameters
    ----------
    Xk : array_like, shape (m, D)
        The samples of one class, one per row; they must be linearly separable from the
        origin.

    Returns
    -------
    gamma : float
        Positive margin.
    u : ndarray, shape (D,)
        Unit-norm maximiser.

    Examples
    --------
    >>> g, u = class_margin(np.array([[1.0, 1.0], [1.0, -1.0]]))
    >>> round(g, 6), np.round(u, 6) + 0.0
    (1.0, array([1., 0.]))
    """
    Xk = as_float_array(Xk, "Xk", ndim=2)
    m, D = Xk.shape
    E = np.vstack([Xk.T, np.ones((1, m))])
    f = np.zeros(D + 1)
    f[-1] = 1.0
    mu = nnls(E, f, maxiter=50 * (m + D + 1))[0]
    r = E @ mu - f
    if r[-1] >= -1e-12:
        raise InputError("the class is not linearly separable from the origin (gamma <= 0)")
    w = -r[:D] / r[-1]
    u = w / np.linalg.norm(w)
    g = float(np.min(Xk @ u))
    if g <= 1e-12:
        raise InputError("the class is not linearly separable from the origin (gamma <= 0)")
    return g, u


def theorem1(X, y) -> TheoremCheck:
    """Theorem 1: predicted limit quantities ``gamma_k``, ``u_k``, ``s_k``.

    ``hypotheses_hold``: orthogonal separability (``mu_s > 0``, ``mu_d > 0``) and, for
    ``K > 2``, ``X_max^2 mu_d / (X_min^2 mu_s^2) < 2K - 3``. The small-init and
    non-degeneracy assumptions concern the initialisation and are not checked here.

    Parameters
    ----------
    X : array_like, shape (n, D)
        Inputs, one per row.
    y : array_like of int, shape (n,)
        Class indices ``0..K-1``.

    Returns
    -------
    TheoremCheck
        ``bound``: ``{"gamma": (K,), "u": (K, D), "s": (K,)}`` -- class margins, margin
        directions and output-weight scales ``s_k = sqrt((1/gamma_k) / (2 sum_j 1/gamma_j))``.

    Examples
    --------
    >>> X, y = orthogonally_separable_data(2, 3)
    >>> b, ok = theorem1(X, y)
    >>> ok, np.round(b["s"], 6)
    (True, array([0.5, 0.5]))
    """
    X = as_float_array(X, "X", ndim=2)
    y = np.asarray(y).astype(int)
    K = int(y.max()) + 1
    mu_s, mu_d = separability(X, y)
    norms = np.linalg.norm(X, axis=1)
    ok = mu_s > 0 and mu_d > 0
    if K > 2:
        ok = ok and norms.max() ** 2 * mu_d / (norms.min() ** 2 * mu_s**2) < 2 * K - 3
    gam, us = [], []
    for k in range(K):
        g, u = class_margin(X[y == k])
        gam.append(g)
        us.append(u)
    gam = np.array(gam)
    s = np.sqrt((1 / gam) / (2 * np.sum(1 / gam)))
    return TheoremCheck({"gamma": gam, "u": np.array(us), "s": s}, bool(ok))


def balanced_small_init(net: ShallowNet, eps: float, rng=None) -> np.ndarray:
    """Assumption 2: ``w_j = eps w_j0``, ``v_j = eps v_j0`` with ``|w_j0| = |v_j0|``.

    ``W0`` and ``V0`` are standard normal, then each column of ``V0`` is rescaled to the
    norm of the matching column of ``W0``.

    Parameters
    ----------
    net : ShallowNet
        The network (gives the block shapes).
    eps : float
        Positive initialisation scale.
    rng : numpy.random.Generator or int, optional
        Random generator or seed.

    Returns
    -------
    ndarray, shape (net.size,)
        Flat initial parameters of ``net``, each neuron balanced (``|w_j| = |v_j|``).

    Examples
    --------
    >>> X, y = orthogonally_separable_data(2, 2)
    >>> net = ShallowNet(X, 2.0 * y - 1.0, h=4)
    >>> float(np.abs(net.invariants(balanced_small_init(net, 1e-3, rng=0))["balance"]).max()) < 1e-18
    True
    """
    rng = np.random.default_rng(rng)
    eps = float(eps)
    if not eps > 0:
        raise InputError(f"`eps` must be positive, got {eps}")
    sh = net.shapes
    W = rng.standard_normal(sh["W"])
    V = rng.standard_normal(sh["V"])
    V *= np.linalg.norm(W, axis=0) / np.linalg.norm(V, axis=0)
    return net.pack(W=eps * W, V=eps * V)


def nc_metrics(net: ShallowNet, theta) -> dict[str, float]:
    """Collapse diagnostics at ``theta`` (binary or multi-class ``ShallowNet``).

    ``nc1``: 1 - smallest within-class cosine of features; ``nc2``: largest ``|cosine|`` between
    class-mean features; ``nc3``: 1 - cosine between ``V`` and Theorem 1's prediction built
    from the normalised class means; ``min_mean_feature``: most negative class-mean entry
    relative to its norm (non-negativity).

    Parameters
    ----------
    net : ShallowNet
        A binary (``loss_name`` ``"exp"``/``"logistic"``) or cross-entropy network.
    theta : array_like, shape (net.size,)
        Parameters, typically at the end of training.

    Returns
    -------
    dict of str to float
        ``"nc1"``, ``"nc2"``, ``"nc3"`` (all 0 at perfect collapse) and
        ``"min_mean_feature"``.

    Examples
    --------
    >>> X, y = orthogonally_separable_data(2, 2)
    >>> net = ShallowNet(X, 2.0 * y - 1.0, h=4)
    >>> sorted(nc_metrics(net, balanced_small_init(net, 1e-3, rng=0)))
    ['min_mean_feature', 'nc1', 'nc2', 'nc3']
    """
    th = net._check_theta(theta)
    Phi = net.features(th)
    y = net.y
    labels = (y > 0).astype(int) if net.loss_name != "ce" else y.astype(int)
    classes = np.unique(labels)
    nc1, means = 0.0, []
    for k in classes:
        F = Phi[labels == k]
        Fn = F / np.maximum(np.linalg.norm(F, axis=1, keepdims=True), 1e-300)
        nc1 = max(nc1, 1 - float(np.min(Fn @ Fn.T)))
        mk = F.mean(axis=0)
        means.append(mk / max(np.linalg.norm(mk), 1e-300))
    M = np.array(means)
    C = M @ M.T
    nc2 = float(np.max(np.abs(C[~np.eye(len(classes), dtype=bool)])))
    Xc = np.asarray(net.X)
    s = theorem1(Xc, labels).bound["s"]
    V = net.unpack(th)["V"]
    if net.loss_name == "ce":
        K = len(classes)
        pred = (np.eye(K) - 1.0 / K) @ (s[:, None] * M)
    else:  # classes sorted [-1 -> 0, +1 -> 1]: V = s+ phi+ - s- phi-
        pred = (s[1] * M[1] - s[0] * M[0])[None, :]
    nc3 = 1 - float(np.sum(V * pred) / (np.linalg.norm(V) * np.linalg.norm(pred)))
    return {"nc1": nc1, "nc2": nc2, "nc3": nc3, "min_mean_feature": float(np.min(M))}
