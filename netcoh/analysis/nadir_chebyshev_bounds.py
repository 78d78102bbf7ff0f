"""Certified per-bus bounds of the worst nadir on the Chebyshev path (:mod:`.nadir_chebyshev`).

The worst deviation at bus ``i`` is ``F_i(t) = rho ||S(t) e_i||`` with
``S(t) e_i = h_t(0)/n 1 + R^{-1/2} h_t(L_s) y_i`` and ``y_i = s_i (e_i - v1 v1_i)``. Two bounds
of ``sup_{t <= H} ||S(t) e_i||`` rule buses out before any exact evaluation.

:func:`window_bound`, for every bus: the non-common part has squared norm at most
``s_max^2 s_i^2 int f dmu_i`` where ``f(lam) = sup_{t <= H} h_t(lam)^2`` (a decreasing
function, shown below) and ``mu_i`` is the spectral measure of ``L_s`` at bus ``i``. Its first
six moments are diagonals of products of ``L_s``, ``L_s^2`` and ``L_s^3`` (sparse), and any
polynomial ``g >= f`` on ``[0, lam_max]`` gives ``int f dmu_i <= sum_j g_j mu_ij``; a few such
polynomials, fitted by small linear programs, are tried for every bus.

:func:`moment_bound`, for the buses the first leaves: with ``p_t`` the Chebyshev expansion of
``h_t`` on ``[0, lam_max]`` (``A = 2 L_s / lam_max - I``),

``||p_t(L_s) y_i||^2 = sum_m w_{t,m} tau_{i,m}``,  ``tau_{i,m} = y_i^T T_m(A) y_i``,

where ``w_t`` are the Chebyshev coefficients of ``p_t^2`` (``T_j T_k = (T_{j+k} + T_{|j-k|})/2``)
and the moments come from the same three-term recurrence as the exact evaluation, but cost
two inner products per step instead of a Gram matrix: ``tau_{2k} = 2 <T_k y, T_k y> - tau_0``
and ``tau_{2k+1} = 2 <T_{k+1} y, T_k y> - tau_1``. Since ``|T_m| <= 1`` on the spectrum,
after ``k`` steps the moments not yet known are bounded by ``tau_0``: the bound

``q_t <= sum_{m <= 2k} w_{t,m} tau_{i,m} + tau_{i,0} sum_{m > 2k} |w_{t,m}|``

is certified at every step, and a bus whose bound falls below the best value found is dropped
from the recurrence early. Then ``sup_t ||S(t) e_i|| <= h_H(0)/sqrt(n) + s_max sup_t ||h_t(L_s) y_i||``,
the supremum over each grid interval taken with the derivative bound of ``h_t`` and the
truncation error of the expansion added. It uses all ``2K - 1`` moments and keeps the time:
on the 2,000-machine benchmark network the search then evaluates 17 buses exactly instead of
262 with the first bound alone (``benchmarks/nadir_proportional.py``).

Why ``f`` decreases: ``|h_t(lam)|`` is largest at its first peak ``t*(lam)`` (the later
extrema shrink by ``e^{-sigma t}``), ``t*`` decreases with ``lam``, and for ``t`` before the
first zero ``dh_t/dlam = -int_0^t h_{t-u} h_u du < 0``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from .nadir_modes import SwingModes

__all__ = ["envelope", "window_bound", "square_weights", "moment_bound"]


def envelope(op, lam) -> np.ndarray:
    """``sup_{0 <= t <= H} h_t(lam)^2`` (the first peak, or ``t = H`` before it).

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir_chebyshev import ChebyshevSwing
    >>> op = ChebyshevSwing(10.0 * nc.laplacian.ring_lattice(6, 1), np.ones(6), 2.0, 1.0, 1.0, 2.0)
    >>> lam = np.array([0.0, 5.0, 40.0])
    >>> t = np.linspace(0.0, 2.0, 2001)
    >>> bool(np.allclose(envelope(op, lam), (op.h(t, lam) ** 2).max(axis=0), rtol=1e-5))
    True
    """
    lam = np.asarray(lam, dtype=float)
    q = lam / op.m - op.sigma ** 2
    w = np.sqrt(np.abs(q))
    with np.errstate(all="ignore"):
        under = np.arctan2(w, op.sigma) / np.where(w > 0, w, 1.0)
        over = np.arctanh(np.minimum(w / op.sigma, 1.0 - 1e-16)) / np.where(w > 0, w, 1.0)
        tstar = np.where(q > 0, under, np.where(w > 0, over, 1.0 / op.sigma))
    tstar = np.where(lam <= 0, np.inf, tstar)
    tau = np.minimum(tstar, op.H)
    sm = SwingModes(np.zeros((1, lam.size)), lam, op.m, op.d)
    return sm._h(tau[None, :])[0] ** 2


def window_bound(op, n_poly: int = 48) -> np.ndarray:
    """Certified bound of ``sup_{t <= H} ||S(t) e_i||_2`` for every bus, shape (n,).

    ``S(t) e_i = h_t(0)/n 1 + R^{-1/2} h_t(L_s) y_i`` with ``y_i = s_i (e_i - v1 v1_i)``;
    the second term is at most ``s_max s_i sqrt(int f dmu_i)`` and the integral at most
    ``sum_j g_j mu_ij`` for polynomials ``g >= f`` (degree 6 in ``x = lam/lam_max``; the
    moments ``mu_ij`` are diagonals of products of ``L_s``, ``L_s^2``, ``L_s^3``) fitted by
    linear programs at buses of graded local stiffness.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir_chebyshev import ChebyshevSwing
    >>> op = ChebyshevSwing(50.0 * nc.laplacian.ring_lattice(30, 2), np.linspace(0.5, 1.5, 30),
    ...                     2.0, 4.0, 1.0, 1.0)
    >>> t = np.linspace(0.0, 1.0, 201)
    >>> F = np.linalg.norm(op.columns(np.arange(30), t), axis=1).max(axis=0)
    >>> bool(np.all(F <= window_bound(op)))
    True
    """
    n, lm = op.n, op.lam_max
    Ls = op.Ls
    L2 = (Ls @ Ls).tocsr()
    L3 = (L2 @ Ls).tocsr()
    mu = np.empty((n, 7))                     # moments of mu_i without its atom at 0
    mu[:, 0] = 1.0 - op.r / op.r.sum()
    mu[:, 1] = Ls.diagonal() / lm
    for j, (P1, P2) in enumerate(((Ls, Ls), (Ls, L2), (L2, L2), (L2, L3), (L3, L3)), 2):
        mu[:, j] = np.asarray(P1.multiply(P2).sum(axis=1)).ravel() / lm ** j
    deg = 6
    # cells of [0, 1] (x = lam / lam_max): f decreases, so f(left end) bounds each cell
    x = np.unique(np.concatenate([[0.0], np.geomspace(1e-9, 1.0, 6000),
                                  np.linspace(0.0, 1.0, 20001)]))
    f = envelope(op, x * lm)
    scale = f[0]
    fa = f[:-1] / scale
    xa, xb = x[:-1], x[1:]
    xm = 0.5 * (xa + xb)
    # polynomials in the Chebyshev basis of [0, 1] (small coefficients); their moments
    # sum_k B_jk mu_k with B the monomial coefficients of T_j(2x - 1)
    B = np.zeros((deg + 1, deg + 1))
    for j in range(deg + 1):
        c = np.polynomial.Chebyshev.basis(j, domain=[0.0, 1.0]).convert(
            kind=np.polynomial.Polynomial).coef
        B[j, :c.size] = c
    nu = mu @ B.T                                              # (n, deg+1)
    Tm = np.polynomial.chebyshev.chebvander(2.0 * xm - 1.0, deg)
    Ta = np.polynomial.chebyshev.chebvander(2.0 * xa - 1.0, deg)
    polys = [np.eye(deg + 1)[0] * fa[0]]                     # the constant sup
    stiff = mu[:, 1] / mu[:, 0]
    picks = np.argsort(stiff)[np.unique(np.linspace(0, n - 1, n_poly).astype(int))]
    sub = np.unique(np.concatenate([np.searchsorted(xa, np.geomspace(1e-9, 1.0, 300)),
                                    np.searchsorted(xa, np.linspace(0.0, 1.0, 200))]))
    sub = sub[sub < xa.size]
    for i in picks:
        res = linprog(nu[i], A_ub=-Ta[sub], b_ub=-fa[sub], bounds=[(None, None)] * (deg + 1),
                      method="highs")
        if res.status == 0:
            polys.append(res.x)
    G = np.array(polys)                                        # (P, deg+1)
    # certify g >= f on every cell (half-width w): Taylor at the midpoint,
    # g(x) >= g(xm) - |g'(xm)| w - |g''(xm)| w^2/2 - M3 w^3/6, with the Markov bound
    # M3 = max_[0,1] |g^(3)| <= 8 sum_j |g_j| j^2 (j^2-1)(j^2-4)/15; lift the constant
    w = 0.5 * (xb - xa)
    ym = 2.0 * xm - 1.0
    cheb = np.polynomial.chebyshev
    gm = Tm @ G.T
    d1 = np.stack([2.0 * cheb.chebval(ym, cheb.chebder(g)) for g in G], axis=1)
    d2 = np.stack([4.0 * cheb.chebval(ym, cheb.chebder(g, 2)) for g in G], axis=1)
    j = np.arange(deg + 1, dtype=float)
    m3 = 8.0 * np.abs(G) @ (j ** 2 * (j ** 2 - 1) * (j ** 2 - 4) / 15.0)
    viol = (fa[:, None] - gm + np.abs(d1) * w[:, None] + np.abs(d2) * (w ** 2 / 2)[:, None]
            + np.outer(w ** 3 / 6, m3))
    G[:, 0] += np.maximum(viol.max(axis=0), 0.0)
    # rounding of the moments and of their change of basis (large coefficients cancel)
    nu_err = 1e-13 * (np.abs(mu) @ np.abs(B).T + np.abs(nu))
    Q = np.maximum((nu @ G.T + nu_err @ np.abs(G).T).min(axis=1), 0.0) * scale
    h0 = float(op.h([op.H], [0.0])[0, 0])
    return (h0 / np.sqrt(n) + op.s.max() * op.s * np.sqrt(Q)) * (1.0 + 1e-9)


def square_weights(C: np.ndarray) -> np.ndarray:
    """Chebyshev coefficients of ``p^2`` for each row of Chebyshev coefficients ``C``.

    Parameters
    ----------
    C : ndarray (T, K)
        Coefficients of ``p_t = sum_k C[t, k] T_k``.

    Returns
    -------
    ndarray (T, 2K - 1)
        ``W`` with ``p_t^2 = sum_m W[t, m] T_m``.

    Examples
    --------
    >>> import numpy as np
    >>> C = np.array([[0.5, -1.0, 0.25]])
    >>> x = np.linspace(-1.0, 1.0, 7)
    >>> p = np.polynomial.chebyshev.chebval(x, C[0])
    >>> bool(np.allclose(np.polynomial.chebyshev.chebval(x, square_weights(C)[0]), p ** 2))
    True
    """
    C = np.atleast_2d(np.asarray(C, dtype=float))
    T, K = C.shape
    W = np.empty((T, 2 * K - 1))
    for a, c in enumerate(C):
        w = np.convolve(c, c)                         # sum_{j+k=m} c_j c_k
        corr = np.correlate(c, c, "full")             # lags -(K-1) .. K-1
        w[0] += corr[K - 1]
        w[1:K] += corr[K:] + corr[K - 2::-1]          # sum_{|j-k|=m} c_j c_k
        W[a] = 0.5 * w
    return W


def _steps(K: int):
    """Steps of the recurrence after which the running bound is checked.

    Before about ten steps the unknown moments dominate the bound on the networks measured
    (almost no bus drops); after that every other step, and at the end.
    """
    return set(range(10, K, 2)) | {K - 1}


def moment_bound(op, buses, t, level: float = -np.inf, block: int = 64) -> np.ndarray:
    """Certified bound of ``sup_{0 <= tau <= H} ||S(tau) e_i||_2`` for the given buses.

    Parameters
    ----------
    op : ChebyshevSwing
        The operator (:class:`~netcoh.analysis.nadir_chebyshev.ChebyshevSwing`).
    buses : array_like of int
        The buses.
    t : ndarray (T,)
        Increasing grid covering ``[0, H]`` (``t[0] = 0``, ``t[-1] = H``); finer is sharper.
    level : float
        A bus is dropped from the recurrence as soon as its bound is at most ``level``; the
        bound returned for it is then that one (at most ``level``, still certified).
    block : int
        Buses per block of sparse products.

    Returns
    -------
    ndarray (len(buses),)

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir_chebyshev import ChebyshevSwing
    >>> L = 50.0 * nc.laplacian.ring_lattice(30, 2)
    >>> op = ChebyshevSwing(L, np.linspace(0.5, 1.5, 30), 2.0, 4.0, 1.0, 1.0)
    >>> t = np.linspace(0.0, 1.0, 101)
    >>> B = moment_bound(op, np.arange(30), t)
    >>> F = np.linalg.norm(op.columns(np.arange(30), t), axis=1).max(axis=0)
    >>> bool(np.all(F <= B)), bool(np.all(B < window_bound(op)))   # sharper than six moments
    (True, True)
    """
    buses = np.asarray(buses, dtype=int)
    t = np.asarray(t, dtype=float)
    n, K = op.n, op.degree
    out = np.empty(buses.size)
    if buses.size == 0:
        return out
    W = square_weights(op.coefficients(t))                       # (T, 2K - 1)
    absW = np.abs(W)
    tail = np.cumsum(absW[:, ::-1], axis=1)[:, ::-1]             # tail[:, m] = sum_{m' >= m}
    tail = np.concatenate([tail, np.zeros((t.size, 1))], axis=1)
    # rounding of the moments: the computed T_k y err by at most ~ k^2 eps (r + 3) ||y||
    # (three-term recurrence, rows of r entries, |A| row sums <= 3); generous constant
    rows = int(np.diff(op.A.indptr).max()) if op.A.nnz else 1
    mm = np.arange(2 * K - 1, dtype=float)
    rnd = absW @ (16.0 * (rows + 3) * np.finfo(float).eps * (mm + 1.0) ** 2)   # (T,)
    H = float(t[-1])
    dd = np.diff(t)
    g2, g1 = op.second_derivative_bound(H), op.first_derivative_bound(H)
    common = float(op.h([H], [0.0])[0, 0]) / np.sqrt(n)          # sup_t ||h_t(0)/n 1||
    smax = float(op.s.max())
    checks = _steps(K)

    def bound(tau, m_known):
        """Bound of sup ||S e_i|| from the first ``m_known`` moments, shape (b,)."""
        t0 = tau[0]
        q = W[:, :m_known] @ tau[:m_known] + np.outer(tail[:, m_known] + rnd, t0)
        phi = np.sqrt(np.maximum(q, 0.0))                        # (T, b)
        ny = np.sqrt(t0)
        if t.size > 1:
            pa, pb = phi[:-1], phi[1:]
            cell = np.minimum(np.maximum(pa, pb) + np.outer(g2 * dd ** 2 / 8, ny),
                              0.5 * (pa + pb) + np.outer(0.5 * g1 * dd, ny))
            sup = cell.max(axis=0)
        else:
            sup = phi[0]
        sup = sup + op.error * ny
        return (common + smax * sup) * (1.0 + 1e-9)

    for q0 in range(0, buses.size, block):
        cols = buses[q0:q0 + block]
        b = cols.size
        X = np.zeros((n, b))
        X[cols, np.arange(b)] = op.s[cols]
        X -= np.outer(op.v1, op.v1 @ X)
        idx = np.arange(b)                                       # columns still running
        tau = np.zeros((2 * K - 1, b))
        res = np.full(b, np.inf)
        prev = X
        tau[0] = np.einsum("ij,ij->j", prev, prev)
        if K == 1:
            res[:] = bound(tau, 1)
            out[q0:q0 + b] = res
            continue
        cur = op.A @ prev
        tau[1] = np.einsum("ij,ij->j", prev, cur)
        tau[2] = 2.0 * np.einsum("ij,ij->j", cur, cur) - tau[0]
        known = 3
        for k in range(1, K):
            if k >= 2:
                nxt = op.A @ cur
                nxt *= 2.0
                nxt -= prev
                prev, cur = cur, nxt
                tau[2 * k - 1, idx] = 2.0 * np.einsum("ij,ij->j", cur, prev) - tau[1, idx]
                tau[2 * k, idx] = 2.0 * np.einsum("ij,ij->j", cur, cur) - tau[0, idx]
                known = 2 * k + 1
            if k in checks:
                v = bound(tau[:, idx], min(known, 2 * K - 1))
                res[idx] = np.minimum(res[idx], v)
                live = res[idx] > level
                if not live.any():
                    break
                # drop finished columns once a quarter of the block is done (copying the
                # block costs about one step)
                if live.sum() <= 0.75 * idx.size:
                    idx, prev, cur = idx[live], prev[:, live], cur[:, live]
        out[q0:q0 + b] = res
    return out
