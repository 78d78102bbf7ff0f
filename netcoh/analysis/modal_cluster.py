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

__all__ = ["Cluster", "cluster_of", "cluster_sums", "far_rows_product", "local_coefficients",
           "local_sums", "moments", "real_rows_product", "row_kinds"]

#: largest ratio of a cluster's radius to a far point's distance (and of a near point's
#: distance to a far pole's)
RHO = 0.1
#: terms of the expansions: ``RHO ** TERMS / (1 - RHO)`` is below double rounding
TERMS = 16
#: smallest cluster worth the expansions
MIN_SIZE = 64
#: most runs of rows of one kind (far, near, other) taken apart
_MAX_RUNS = 16


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
    """The cluster of ``basis``'s real poles used by :func:`real_rows_product` (None when
    no run of them is tight enough to pay), computed once per reference."""
    for b, cl in _CLUSTERS:
        if b is basis:
            return cl
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
    _CLUSTERS[:] = _CLUSTERS[-1:] + [(basis, cl)]
    return cl


def real_rows_product(basis, XR: np.ndarray, s: np.ndarray, a: np.ndarray,
                      kinds: tuple | None = None) -> np.ndarray:
    """``XR @ basis.PrT`` for real roots ``s`` (J,) whose rows are
    ``XR[j] = [2 Re x_up, -2 Im x_up, x_real]`` with ``x_jk = a_k / (s_j - mu_k)``
    (``a`` (N,), the own pole's entry may hold ``a_k / tau_j``), through the cluster's
    expansions where they apply (the dense product otherwise). ``kinds``: ``(cluster,
    kinds of the rows)`` as :func:`row_kinds` gives them; then only the blocks of ``XR``
    that the kinds use are read (a far row's columns outside the cluster, a near row's
    ``near_cols``).

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
    >>> XR = a[None, :] / (s[:, None] - mu.real[None, :])
    >>> cluster_of(basis) is not None
    True
    >>> bool(np.allclose(real_rows_product(basis, XR, s, a), XR @ basis.PrT, rtol=1e-13))
    True
    """
    PrT = basis.PrT
    cl = cluster_of(basis) if kinds is None else kinds[0]
    if cl is None:
        return XR @ PrT
    if kinds is None:
        d = np.abs(s - cl.c)
        kind = np.where(d >= cl.r / RHO, 1, np.where(d <= 2.0 * cl.r, 2, 0))   # far, near, other
    else:
        kind = kinds[1]
    cuts = np.flatnonzero(np.diff(kind)) + 1
    if kinds is None and (np.count_nonzero(kind) < MIN_SIZE or cuts.size > _MAX_RUNS):
        return XR @ PrT
    h, lo, hi = basis.half, cl.lo, cl.hi
    R = 2.0 * cl.r
    out = np.empty((XR.shape[0], PrT.shape[1]))
    if np.any(kind == 1):
        # the cluster's moments: sum_k t_k^m a_k P_k
        M = (cl.t_pow * a[lo:hi].real[None, :]) @ PrT[lo:hi]
        with np.errstate(all="ignore"):      # only the far rows' (finite) powers are used
            V = _powers(cl.r / (s - cl.c), 1) / cl.r
    if np.any(kind == 2):
        # local coefficients: -(1/R) sum_k w_k^(m+1) [a_k P_k] over the far poles, the
        # upper ones as 2 Re(a_k w^(m+1) P_k) = 2 Re(.) Re P_k - 2 Im(.) Im P_k
        aw = cl.w_pow * a[None, :]
        K = np.empty((TERMS, PrT.shape[0]))
        K[:, :h] = 2.0 * aw[:, :h].real
        K[:, h:2 * h] = -2.0 * aw[:, :h].imag
        K[:, 2 * h:] = aw[:, 2 * h:].real
        Lc = (K @ PrT) / -R
        with np.errstate(all="ignore"):      # only the near rows' powers are used
            Vn = _powers((s - cl.c) / R, 0)
        k0, k1 = cl.near_cols
    for i, j in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [kind.size]])):
        rows = slice(int(i), int(j))
        if kind[i] == 1:            # far from the cluster: its columns by the moments
            np.matmul(XR[rows, :lo], PrT[:lo], out=out[rows])
            out[rows] += XR[rows, hi:] @ PrT[hi:]
            out[rows] += V[rows] @ M
        elif kind[i] == 2:          # in the cluster: the far poles by the local expansion
            np.matmul(XR[rows, k0:k1], PrT[k0:k1], out=out[rows])
            out[rows] += Vn[rows] @ Lc
        else:
            np.matmul(XR[rows], PrT, out=out[rows])
    return out


def _powers(x: np.ndarray, first: int) -> np.ndarray:
    """``x^(first + m)`` for ``m < TERMS``, by rows (J, TERMS)."""
    out = np.empty((x.size, TERMS), dtype=x.dtype)
    out[:, 0] = x ** first
    for m in range(1, TERMS):
        np.multiply(out[:, m - 1], x, out=out[:, m])
    return out


def far_rows_product(basis, X: np.ndarray, s: np.ndarray, a: np.ndarray):
    """``X @ basis.PrT`` for the stacked real and imaginary parts ``X = [XR; XI]`` (2J, N)
    of rows ``Y[j] = a / (s_j - mu)`` over the pairs (as built by the modal update), as
    the complex ``(XR + i XI) @ PrT`` (J, n) with the cluster's columns taken by its
    moments, when every root ``s`` (J,) is far from the cluster; None otherwise (the
    caller takes the dense product).

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
    M = (cl.t_pow * a[lo:hi][None, :]) @ PrT[lo:hi]                  # (TERMS, n)
    out += (_powers(cl.r / (s - cl.c), 1) / cl.r) @ M
    return out


def row_kinds(cl: Cluster, s: np.ndarray, own: np.ndarray, half: int) -> np.ndarray:
    """Which expansion serves each real root ``s`` (own pole ``own``, an index into the
    modes): 1 far from the cluster (its own pole outside it), 2 inside it (its own pole
    among the columns taken densely, all real), 0 neither (dense)."""
    d = np.abs(s - cl.c)
    k0, k1 = cl.near_cols
    far = (d >= cl.r / RHO) & ((own < cl.lo) | (own >= cl.hi))
    near = (d <= 2.0 * cl.r) & (own >= k0) & (own < k1) & (k0 >= 2 * half)
    return np.where(far, 1, np.where(near, 2, 0)).astype(np.int8)


def moments(cl: Cluster, coef: np.ndarray) -> np.ndarray:
    """The cluster's moments ``sum_{k in C} t_k^m coef_k`` (TERMS, m) of ``coef`` (|C|, m)."""
    return cl.t_pow @ coef


def cluster_sums(cl: Cluster, s: np.ndarray, T: np.ndarray, order: int) -> np.ndarray:
    """``sum_{k in C} coef_k / (s - mu_k)^order`` (order 1 or 2) for roots ``s`` (J,) far
    from the cluster, from its moments ``T = moments(cl, coef)``."""
    u = cl.r / (s - cl.c)
    if order == 1:
        return (_powers(u, 1) / cl.r) @ T
    V = _powers(u, 2) * (np.arange(1, TERMS + 1) / cl.r ** 2)[None, :]
    return V @ T


def local_coefficients(cl: Cluster, half: int, c_up: np.ndarray, c_re: np.ndarray,
                       kind: str) -> np.ndarray:
    """Coefficients (TERMS, m) of the local expansion (:func:`local_sums`) of the sums over
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


def local_sums(cl: Cluster, s: np.ndarray, L: np.ndarray) -> np.ndarray:
    """The sums over the poles far from the cluster for real roots ``s`` (J,) inside it,
    from their local coefficients ``L`` (:func:`local_coefficients`)."""
    return _powers((s - cl.c) / (2.0 * cl.r), 0) @ L
