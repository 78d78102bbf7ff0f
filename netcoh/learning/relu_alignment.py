"""Early neuron alignment in two-layer ReLU networks with small init.

Min, Mallada & Vidal, ICLR 2024.

Network ``f(x) = sum_j v_j ReLU(<w_j, x>)`` (:class:`~netcoh.learning.shallow.ShallowNet`,
``p = 1``, summed exponential or logistic loss), balanced init ``W(0) = eps W0``,
``v_j(0) = +-||w_j(0)||``. Under Assumption 1 (``mu > 0``: same-label samples positively
correlated, different-label samples negatively) every ``v_j > 0`` neuron ends in the cone
``S+`` or the dead cone by ``t1 = O(log n / sqrt(mu))`` (Theorem 1), after which the loss
decays like ``O(1/t)`` and ``W`` has stable rank ``<= 2``.

* :func:`exact_mu_data`: ``x_i = y_i (sqrt(mu) e0 + sqrt(1-mu) e_i)`` (every pair has
  normalised correlation ``mu`` exactly).
* :func:`balanced_init`, :func:`cone_labels`, :func:`is_aligned`, :func:`alignment_time`.
* :func:`theorem1`: ``(log(n)/sqrt(mu), hypotheses_hold)``, the alignment-time scale (the
  paper's constants are not explicit, so it is tested as a trend).
"""

from __future__ import annotations

import math

import numpy as np

from netcoh._validation import as_float_array, as_int
from netcoh.exceptions import InputError

from .dynamics import TheoremCheck
from .shallow import ShallowNet, stable_rank

__all__ = ["exact_mu_data", "data_mu", "balanced_init", "cone_labels", "is_aligned",
           "alignment_time", "theorem1", "stable_rank", "ShallowNet"]


def exact_mu_data(n: int, mu: float):
    """``n`` samples in ``D = n + 1`` dimensions with pairwise correlation exactly ``mu``.

    Labels alternate ``+1, -1, ...``; ``x_i y_i = sqrt(mu) e_0 + sqrt(1 - mu) e_i``.

    Parameters
    ----------
    n : int
        Number of samples (at least 2).
    mu : float
        Target correlation in ``(0, 1]`` (:func:`data_mu` of the result).

    Returns
    -------
    X : ndarray, shape (n, n + 1)
        Unit-norm inputs, one per row.
    y : ndarray, shape (n,)
        Labels ``+1, -1, +1, ...``.

    Examples
    --------
    >>> X, y = exact_mu_data(4, 0.25)
    >>> round(data_mu(X, y), 12)
    0.25
    """
    n = as_int(n, "n", minimum=2)
    mu = float(mu)
    if not 0 < mu <= 1:
        raise InputError(f"`mu` must be in (0, 1], got {mu}")
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    X = np.zeros((n, n + 1))
    X[:, 0] = math.sqrt(mu)
    X[np.arange(n), np.arange(1, n + 1)] = math.sqrt(1 - mu)
    return X * y[:, None], y


def data_mu(X, y) -> float:
    """``mu = min_{i,j} <x_i y_i, x_j y_j> / (||x_i|| ||x_j||)`` (Assumption 1 needs ``mu > 0``).

    Parameters
    ----------
    X : array_like, shape (n, D)
        Non-zero inputs, one per row.
    y : array_like, shape (n,)
        Labels ``+1``/``-1``.

    Returns
    -------
    float
        In ``[-1, 1]``.

    Examples
    --------
    >>> round(data_mu(np.array([[1.0, 0.0], [-1.0, 0.1]]), np.array([1.0, -1.0])), 9)
    0.99503719
    """
    X = as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", ndim=1)
    Z = X * y[:, None]
    Z = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    return float(np.min(Z @ Z.T))


def balanced_init(D: int, h: int, eps: float, rng, signs=None) -> np.ndarray:
    """Balanced small init: ``W = eps W0`` (``W0 ~ N(0, 1/D)``), ``v_j = s_j ||w_j||``.

    Every neuron then has zero balance ``v_j^2 - ||w_j||^2``.

    Parameters
    ----------
    D : int
        Input dimension.
    h : int
        Width (number of neurons).
    eps : float
        Positive initialisation scale.
    rng : numpy.random.Generator or int
        Random generator or seed for ``W0``.
    signs : array_like, shape (h,), optional
        Output-weight signs ``s_j`` (only their sign is used); default alternating
        ``+1, -1``.

    Returns
    -------
    ndarray, shape (D * h + h,)
        ``theta`` of a binary :class:`ShallowNet` (``W`` then ``V``).

    Examples
    --------
    >>> th = balanced_init(3, 4, 1e-3, np.random.default_rng(0))
    >>> th.shape
    (16,)
    """
    D, h = as_int(D, "D", minimum=1), as_int(h, "h", minimum=1)
    eps = float(eps)
    if not eps > 0:
        raise InputError(f"`eps` must be positive, got {eps}")
    rng = np.random.default_rng(rng)
    W = eps * rng.standard_normal((D, h)) / math.sqrt(D)
    s = np.where(np.arange(h) % 2 == 0, 1.0, -1.0) if signs is None else np.sign(signs)
    v = s * np.linalg.norm(W, axis=0)
    return np.concatenate([W.ravel(), v])


def cone_labels(X, y, W) -> np.ndarray:
    """Per neuron: ``1`` in ``S+``, ``-1`` in ``S-``, ``0`` dead, ``2`` elsewhere.

    ``S+`` (``S-``): the neuron is active on exactly the positive (negative) samples;
    dead: active on none.

    Parameters
    ----------
    X : array_like, shape (n, D)
        Inputs, one per row.
    y : array_like, shape (n,)
        Labels ``+1``/``-1``.
    W : array_like, shape (D, h)
        First-layer weights, one neuron per column.

    Returns
    -------
    ndarray of int, shape (h,)
        One label per neuron (column of ``W``): ``1``, ``-1``, ``0`` or ``2`` as above.

    Examples
    --------
    >>> cone_labels(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1.0, -1.0]),
    ...             np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]))
    array([ 1, -1,  0])
    """
    X = as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", ndim=1)
    W = as_float_array(W, "W", ndim=2)
    act = (X @ W) > 0                               # (n, h)
    pos = (y > 0)[:, None]
    lab = np.full(W.shape[1], 2)
    lab[np.all(act == pos, axis=0)] = 1
    lab[np.all(act == ~pos, axis=0)] = -1
    lab[~np.any(act, axis=0)] = 0
    return lab


def is_aligned(net: ShallowNet, theta) -> bool:
    """Every ``v_j > 0`` neuron in ``S+`` or dead and every ``v_j < 0`` in ``S-`` or dead.

    Parameters
    ----------
    net : ShallowNet
        A binary network (``d_out = 1``).
    theta : array_like, shape (size,)
        Its flat parameters.

    Returns
    -------
    bool
        True when every neuron sits in the cone matching the sign of its output weight
        (or is dead).

    Examples
    --------
    >>> X, y = np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1.0, -1.0])
    >>> net = ShallowNet(X, y, h=2)
    >>> is_aligned(net, net.pack(W=[[1.0, -1.0], [0.0, 0.0]], V=[[1.0, -1.0]]))
    True
    """
    b = net.unpack(theta)
    lab = cone_labels(net.X, net.y, b["W"])
    s = np.sign(b["V"][0])
    return bool(np.all(np.where(s > 0, (lab == 1) | (lab == 0), (lab == -1) | (lab == 0))))


def alignment_time(traj) -> float:
    """First sampled time at which :func:`is_aligned` holds (``nan`` if never).

    Parameters
    ----------
    traj : Trajectory
        A trajectory of a binary :class:`ShallowNet` (``traj.dynamics``).

    Returns
    -------
    float
        The first time (iteration number for gradient descent) in ``traj.t`` at which the
        network is aligned; ``nan`` if it never is.

    Examples
    --------
    >>> from netcoh.learning import simulate_gd
    >>> X, y = np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1.0, -1.0])
    >>> net = ShallowNet(X, y, h=2)
    >>> th0 = net.pack(W=[[1.0, -1.0], [0.0, 0.0]], V=[[1.0, -1.0]])
    >>> alignment_time(simulate_gd(net, th0, 0.1, 2))
    0.0
    """
    for t, th in zip(traj.t, traj.theta):
        if is_aligned(traj.dynamics, th):
            return float(t)
    return float("nan")


def theorem1(X, y, h: int, eps: float) -> TheoremCheck:
    """Theorem 1 (alignment): scale ``log(n)/sqrt(mu)`` of the alignment time ``t1``.

    ``hypotheses_hold``: ``mu > 0`` (Assumption 1) and
    ``eps <= exp(-(n/sqrt(mu)) log n) / sqrt(h)`` (the paper's ``eps = O(...)`` with unit
    constant). That scale is tiny but representable in float64 while
    ``(n/sqrt(mu)) log n`` stays below about 700 (``n = 32, mu = 0.5`` needs
    ``eps ~ 1e-69``), and gradient flow from it is integrated like any other. The theorem's
    constant is not explicit; the returned scale is the bound with unit constant.

    Parameters
    ----------
    X : array_like, shape (n, D)
        Inputs, one per row.
    y : array_like, shape (n,)
        Labels ``+1``/``-1``.
    h : int
        Network width.
    eps : float
        Initialisation scale of :func:`balanced_init`.

    Returns
    -------
    TheoremCheck
        ``(log(n) / sqrt(mu), hypotheses_hold)``; ``(inf, False)`` when ``mu <= 0``.

    Examples
    --------
    >>> X, y = exact_mu_data(4, 0.5)
    >>> b, ok = theorem1(X, y, 10, 1e-3)
    >>> round(b, 6), ok, theorem1(X, y, 10, 1e-12).hypotheses_hold
    (1.960516, False, True)
    """
    X = as_float_array(X, "X", ndim=2)
    mu = data_mu(X, y)
    n = X.shape[0]
    h = as_int(h, "h", minimum=1)
    if mu <= 0:
        return TheoremCheck(math.inf, False)
    log_eps_max = -(n / math.sqrt(mu)) * math.log(n) - 0.5 * math.log(h)
    ok = float(eps) > 0 and math.log(float(eps)) <= log_eps_max
    return TheoremCheck(math.log(n) / math.sqrt(mu), bool(ok))
