"""Cauchy sums of the modal updates through expansions around a tight cluster of real poles.

An updated network's mode shapes are Cauchy products ``sum_k x_jk P_k`` with
``x_jk = a_k / (s_j - mu_k)`` (:mod:`netcoh.analysis.modal_update`), and its secular
equation and eigenvector norms are sums of ``c_k / (s - mu_k)``, ``c_k / (s - mu_k)^2``
and ``c_k |1/(s - mu_k)|^2`` over the reference's poles. Machines with one
common turbine time constant put hundreds of real poles in a narrow band (GB: about 380
within 0.005 of ``-1/tau = -0.2``). Around such a cluster (centre ``c``, radius ``r``) the
Cauchy kernel separates:

* a root far from it (``|s - c| >= r / RHO``) sees the cluster through its moments,
  ``sum_{k in C} a_k P_k / (s - mu_k) = sum_m u^(m+1) / r sum_k t_k^m a_k P_k`` with
  ``u = r / (s - c)`` and ``t_k = (mu_k - c) / r``;
* a root inside it (``|s - c| <= R``, ``R = 2 r``) sees the poles far from it
  (``|mu_k - c| >= R / RHO``) through a local expansion,
  ``1 / (s - mu_k) = -(w_k / R) sum_m (v w_k)^m`` with ``v = (s - c) / R`` and
  ``w_k = R / (mu_k - c)``.

Both series are truncated after ``TERMS`` terms, where each term is ``|t u|^m <= RHO^m``
(or ``|v w|^m``) of the exact one: the truncation error is below ``RHO^TERMS / (1 - RHO)``
(``1.1e-16``) of the sum of the terms' sizes, the rounding of the dense product. The
dense product is kept for the rest, so the result is the dense one to rounding; on GB the
blocks spared (the cluster's roots against the far poles, the far roots against the
cluster) are about two fifths of the products and half of the real roots' sums. The
squared kernels' series have terms ``(m + 1) RHO^m``: their truncation is below ``2e-15``
of the terms' sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .modal_reference import per_reference

__all__ = ["Cluster", "cluster_of", "row_kinds", "real_rows_product", "far_rows_product"]

#: largest ratio of a cluster's radius to a far point's distance (and of a near point's
#: distance to a far pole's)
RHO = 0.1
#: terms of the expansions: ``RHO ** TERMS / (1 - RHO)`` is below double rounding
TERMS = 16
#: smallest cluster worth the expansions
MIN_SIZE = 64


@dataclass(frozen=True, eq=False)
class Cluster:
    """A tight cluster of a reference's real poles (a run of its sorted real block).

    Attributes
    ----------
    lo, hi : int
        The cluster's columns ``lo:hi`` (indices into the reference's modes).
    c, r : float
        Centre and radius of the cluster.
    near_cols : (int, int)
        The columns ``k0:k1`` of the poles less than ``2 r / RHO`` from ``c`` (those a
        root in the cluster takes densely; the others by the local expansion).
    t_pow : ndarray (TERMS, hi - lo)
        ``t_k^m`` of the cluster's poles.
    w_pow : ndarray (TERMS, N), complex
        ``w_k^(m+1)`` of the far poles, zero elsewhere.
    w_pow2 : ndarray (TERMS, N), complex
        ``(m+1) w_k^(m+2)`` of the far poles (the expansion of ``1/(s - mu_k)^2``).
    w_abs : ndarray (TERMS, half)
        ``sum_{l <= m} w_k^(l+1) conj(w_k)^(m-l+1)`` of the far upper poles (the expansion
        of ``|1/(s - mu_k)|^2 = 1/((s - mu_k)(s - conj(mu_k)))`` for real ``s``).
    """

    lo: int
    hi: int
    c: float
    r: float
    near_cols: tuple
    t_pow: np.ndarray
    w_pow: np.ndarray
    w_pow2: np.ndarray
    w_abs: np.ndarray


def _find(mu: np.ndarray, half: int):
    """The run of sorted real poles that saves the most work, or None: for windows of
    ``m`` consecutive real poles (every ``m`` from ``MIN_SIZE`` up), the narrowest; scored
    by the products it spares (its size times the poles far from it)."""
    x = mu[2 * half:].real
    R = x.size
    if R < MIN_SIZE or np.any(np.diff(x) < 0):
        return None
    best, score = None, 0.0
    m = MIN_SIZE
    while m <= R:
        width = x[m - 1:] - x[: R - m + 1]
        i = int(np.argmin(width))
        c, r = 0.5 * (x[i] + x[i + m - 1]), max(0.5 * float(width[i]), 1e-300)
        far_rows = np.count_nonzero(np.abs(x - c) >= r / RHO)
        far_cols = np.count_nonzero(np.abs(mu - c) >= 2.0 * r / RHO)
        gain = m * (far_rows + far_cols) - TERMS * (mu.size + R)
        if gain > score:
            best, score = (2 * half + i, 2 * half + i + m, c, r), gain
        m += 1
    # worth it when it spares a fifth of the dense product (rows ~ the real poles)
    return best if score >= 0.2 * R * mu.size else None


#: the last references' clusters: [(basis, Cluster or None)]
_CLUSTERS: list = []


def cluster_of(basis):
    """The tight cluster of a reference's real poles, or None, computed once per reference.

    Parameters
    ----------
    basis : ModalBasis
        A reference decomposition (:mod:`netcoh.analysis.modal_reference`) ordered
        ``[upper, conjugates, real ascending]`` (``basis.half >= 0``).

    Returns
    -------
    Cluster or None
        The run of real poles whose expansions spare the most work; None when no run of
        at least ``MIN_SIZE`` poles would spare a fifth of the dense products (or the
        poles are not so ordered).

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> rng = np.random.default_rng(0)
    >>> mu = np.sort(np.concatenate([-1.0 + 1e-3 * rng.random(120), -5.0 - rng.random(60)]))
    >>> cl = cluster_of(SimpleNamespace(mu=mu.astype(complex), half=0, PrT=np.zeros((180, 2))))
    >>> cl.hi - cl.lo, bool(abs(cl.c + 1.0) < 1e-3)                 # the 120 close poles
    (120, True)
    """
    return per_reference(_CLUSTERS, basis, _new_cluster)


def _new_cluster(basis):
    cl = None
    if basis.half >= 0 and basis.PrT is not None:
        found = _find(basis.mu, basis.half)
        if found is not None:
            lo, hi, c, r = found
            mu = basis.mu
            t = (mu[lo:hi].real - c) / r
            powers = np.arange(TERMS)[:, None]
            R = 2.0 * r
            far = np.abs(mu - c) >= R / RHO
            with np.errstate(all="ignore"):
                w = np.where(far, R / (mu - c), 0.0)
            keep = np.flatnonzero(~far)
            if keep[-1] - keep[0] + 1 == keep.size:            # a run of the real block
                wp = w[None, :] ** (powers + 1)
                h = basis.half
                wu = w[:h]
                w_abs = np.array([np.sum([wu ** (m + 1) * np.conj(wu) ** (q - m + 1)
                                          for m in range(q + 1)], axis=0).real
                                  for q in range(TERMS)]).reshape(TERMS, h)
                cl = Cluster(lo, hi, c, r, (int(keep[0]), int(keep[-1]) + 1),
                             t[None, :] ** powers, wp, (powers + 1) * wp * w[None, :], w_abs)
    return cl


def real_rows_product(basis, XR: np.ndarray, s: np.ndarray, a: np.ndarray,
                      kinds: np.ndarray) -> np.ndarray:
    """``XR @ basis.PrT`` for real roots, through the cluster's expansions where they apply.

    Parameters
    ----------
    basis : ModalBasis
        The reference (its ``mu``, ``half`` and ``PrT``, and its cluster).
    XR : ndarray (J, N)
        Rows ``[2 Re x_up, -2 Im x_up, x_real]`` with ``x_jk = a_k / (s_j - mu_k)`` (the
        own pole's entry may hold ``a_k / tau_j``). Only the blocks the kinds use are
        read: a far row's columns outside the cluster, a near row's ``near_cols``, an
        other row's all.
    s : ndarray (J,)
        The real roots.
    a : ndarray (N,)
        The coefficients of the rows.
    kinds : ndarray (J,)
        The rows' kinds from :func:`row_kinds` (all 0 without a cluster: dense).

    Returns
    -------
    ndarray (J, n)
        The product, the dense one to rounding.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> rng = np.random.default_rng(0)
    >>> mu = np.concatenate([-1.0 + 1e-3 * rng.random(120), -5.0 - rng.random(60)])
    >>> mu = np.sort(mu).astype(complex)                     # 120 poles within 1e-3
    >>> basis = SimpleNamespace(mu=mu, half=0, PrT=rng.standard_normal((180, 7)))
    >>> a = rng.standard_normal(180)
    >>> s = np.concatenate([mu.real + 1e-6, [-20.0, 3.0]])
    >>> own = np.append(np.arange(180), [0, 0])            # the pole each root started at
    >>> kinds = row_kinds(cluster_of(basis), s, own, 0)
    >>> XR = a[None, :] / (s[:, None] - mu.real[None, :])
    >>> bool(np.allclose(real_rows_product(basis, XR, s, a, kinds), XR @ basis.PrT,
    ...                  rtol=1e-13))
    True
    """
    PrT = basis.PrT
    cl = cluster_of(basis)
    if cl is None or not np.any(kinds):
        return XR @ PrT
    h, lo, hi = basis.half, cl.lo, cl.hi
    k0, k1 = cl.near_cols
    out = np.empty((XR.shape[0], PrT.shape[1]))
    M = Lc = None
    for rows, kind in _runs(kinds):
        if kind == 1:               # far from the cluster: its columns by the moments
            if M is None:           # sum_k t_k^m a_k P_k
                M = _moments(cl, a[lo:hi].real[:, None] * PrT[lo:hi])
            np.matmul(XR[rows, :lo], PrT[:lo], out=out[rows])
            out[rows] += XR[rows, hi:] @ PrT[hi:]
            out[rows] += _cluster_sums(cl, s[rows], M, 1)
        elif kind == 2:             # in the cluster: the far poles by the local expansion
            if Lc is None:          # over a_k P_k, the upper shapes Re P + i Im P
                Lc = _local_coefficients(cl, h, a[:h, None] * (PrT[:h] + 1j * PrT[h:2 * h]),
                                         a[2 * h:].real[:, None] * PrT[2 * h:], "1")
            np.matmul(XR[rows, k0:k1], PrT[k0:k1], out=out[rows])
            out[rows] += _local_sums(cl, s[rows], Lc)
        else:
            np.matmul(XR[rows], PrT, out=out[rows])
    return out


def _runs(kinds: np.ndarray, limit: int | None = None):
    """``[(slice, kind), ...]`` of the runs of equal kinds, or None when there are more
    than ``limit`` runs."""
    cuts = np.flatnonzero(np.diff(kinds)) + 1
    if limit is not None and cuts.size >= limit:
        return None
    edges = np.concatenate([[0], cuts, [kinds.size]])
    return [(slice(int(i), int(j)), int(kinds[i])) for i, j in zip(edges[:-1], edges[1:])]


def _powers(x: np.ndarray, first: int) -> np.ndarray:
    """``x^(first + m)`` for ``m < TERMS``, by rows (J, TERMS)."""
    out = np.empty((x.size, TERMS), dtype=x.dtype)
    out[:, 0] = x ** first
    for m in range(1, TERMS):
        np.multiply(out[:, m - 1], x, out=out[:, m])
    return out


def far_rows_product(basis, X: np.ndarray, s: np.ndarray, a: np.ndarray):
    """The complex mode shapes ``(XR + i XI) @ basis.PrT`` of roots all far from the
    cluster, its columns taken by its moments.

    Parameters
    ----------
    basis : ModalBasis
        The reference (its ``mu``, ``half`` and ``PrT``, and its cluster).
    X : ndarray (2J, N)
        The stacked real and imaginary parts ``[XR; XI]`` of rows ``Y[j] = a / (s_j - mu)``
        over the conjugate pairs, as the modal update builds them (the cluster's columns
        are not read).
    s : ndarray (J,)
        The roots.
    a : ndarray (N,)
        The coefficients of the rows.

    Returns
    -------
    ndarray (J, n) or None
        The product, the dense one to rounding; None when the reference has no cluster or
        a root is not far from it (the caller takes the dense product).

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> rng = np.random.default_rng(1)
    >>> mu = np.concatenate([-1.0 + 1e-3 * rng.random(150), -5.0 - rng.random(60)])
    >>> mu = np.sort(mu).astype(complex)                     # 150 poles within 1e-3
    >>> basis = SimpleNamespace(mu=mu, half=0, PrT=rng.standard_normal((210, 5)))
    >>> a = rng.standard_normal(210).astype(complex)
    >>> s = np.array([-3.0 + 2.0j, -0.5 + 0.1j])
    >>> Y = a[None, :] / (s[:, None] - mu[None, :])
    >>> out = far_rows_product(basis, np.vstack([Y.real, Y.imag]), s, a)
    >>> bool(np.allclose(out, Y @ basis.PrT, rtol=1e-13))
    True
    """
    cl = cluster_of(basis)
    if cl is None or not np.all(np.abs(s - cl.c) >= cl.r / RHO):
        return None
    PrT, lo, hi = basis.PrT, cl.lo, cl.hi
    Z = X[:, :lo] @ PrT[:lo]
    Z += X[:, hi:] @ PrT[hi:]
    J = s.size
    out = np.empty((J, PrT.shape[1]), dtype=complex)
    out.real, out.imag = Z[:J], Z[J:]
    out += _cluster_sums(cl, s, _moments(cl, a[lo:hi, None] * PrT[lo:hi]), 1)
    return out


def row_kinds(cl: Cluster, s: np.ndarray, own: np.ndarray, half: int) -> np.ndarray:
    """Which expansion serves each real root.

    Parameters
    ----------
    cl : Cluster
        The reference's cluster (:func:`cluster_of`).
    s : ndarray (J,)
        Real roots.
    own : ndarray of int (J,)
        The pole each root started from (an index into the reference's modes).
    half : int
        The reference's number of conjugate pairs.

    Returns
    -------
    ndarray of int8 (J,)
        1: far from the cluster, its own pole outside it (the cluster by its moments);
        2: inside it, its own pole among the columns taken densely, all real (the far
        poles by the local expansion); 0: neither (dense).

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> mu = np.sort(np.concatenate([-1.0 + 1e-3 * np.linspace(0, 1, 120),
    ...                              -5.0 - np.linspace(0, 1, 60)])).astype(complex)
    >>> cl = cluster_of(SimpleNamespace(mu=mu, half=0, PrT=np.zeros((180, 2))))
    >>> row_kinds(cl, np.array([-5.5, -0.9995, -0.97]), np.array([30, 100, 100]), 0).tolist()
    [1, 2, 0]
    """
    d = np.abs(s - cl.c)
    k0, k1 = cl.near_cols
    far = (d >= cl.r / RHO) & ((own < cl.lo) | (own >= cl.hi))
    near = (d <= 2.0 * cl.r) & (own >= k0) & (own < k1) & (k0 >= 2 * half)
    return np.where(far, 1, np.where(near, 2, 0)).astype(np.int8)


def _moments(cl: Cluster, coef: np.ndarray) -> np.ndarray:
    """The cluster's moments ``sum_{k in C} t_k^m coef_k`` (TERMS, m) of ``coef`` (|C|, m)."""
    return cl.t_pow @ coef


def _cluster_sums(cl: Cluster, s: np.ndarray, T: np.ndarray, order: int) -> np.ndarray:
    """``sum_{k in C} coef_k / (s - mu_k)^order`` (order 1 or 2) for roots ``s`` (J,) far
    from the cluster, from its moments ``T = _moments(cl, coef)``."""
    u = cl.r / (s - cl.c)
    if order == 1:
        return (_powers(u, 1) / cl.r) @ T
    V = _powers(u, 2) * (np.arange(1, TERMS + 1) / cl.r ** 2)[None, :]
    return V @ T


def _local_coefficients(cl: Cluster, half: int, c_up: np.ndarray, c_re: np.ndarray,
                        kind: str) -> np.ndarray:
    """Coefficients (TERMS, m) of the local expansion (:func:`_local_sums`) of the sums over
    the poles far from the cluster: ``kind`` ``"1"``: ``sum 2 Re(c_up / (s - mu)) + sum
    c_re / (s - mu)``; ``"2"``: the same with ``1/(s - mu)^2``; ``"abs"``: ``sum 2 c_up
    |1/(s - mu)|^2 + sum c_re / (s - mu)^2`` (``c_up`` real). ``c_up`` (half, m) over the
    upper poles, ``c_re`` (N - 2 half, m) over the real ones."""
    h = half
    R = 2.0 * cl.r
    if kind == "1":
        L = 2.0 * (cl.w_pow[:, :h] @ c_up).real + cl.w_pow[:, 2 * h:].real @ c_re
        return L / -R
    L = cl.w_pow2[:, 2 * h:].real @ c_re
    if kind == "2":
        L = L + 2.0 * (cl.w_pow2[:, :h] @ c_up).real
    else:
        L = L + 2.0 * (cl.w_abs @ c_up)
    return L / (R * R)


def _local_sums(cl: Cluster, s: np.ndarray, L: np.ndarray) -> np.ndarray:
    """The sums over the poles far from the cluster for real roots ``s`` (J,) inside it,
    from their local coefficients ``L`` (:func:`_local_coefficients`)."""
    return _powers((s - cl.c) / (2.0 * cl.r), 0) @ L
