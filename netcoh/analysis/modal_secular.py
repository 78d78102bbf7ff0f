"""Root finding and products behind :mod:`netcoh.analysis.modal_update`.

The eigenvalues of ``diag(mu) + a b^T`` (``a, b`` with ``r`` columns) are the roots of
``det(I - sum_i b_i a_i^T / (s - mu_i))``: Newton's method from every pole with the pole
divided out (``_newton``), Aberth-Ehrlich iteration with the roots already found
deflated for those it missed (``_aberth``). The eigenvectors are Cauchy-like, so the
products with them are matrix products with ``1 / (s_j - mu_i)``.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from .modal_cluster import (
    _cluster_sums,
    _local_coefficients,
    _local_sums,
    _moments,
    _runs,
    cluster_of,
    far_rows_product,
    real_rows_product,
    row_kinds,
)

__all__ = ["low_rank"]

#: relative size of ``A' - A`` beyond its low-rank part that is still taken as rounding
_LOWRANK_RTOL = 1e-11
_MAX_NEWTON = 40
#: fewest rows of a Newton step worth a cluster's expansions (below: dense sums)
_CLUSTER_ROWS = 64
#: most runs of rows of one kind (far from a cluster, inside it, neither) taken as views of
#: the gaps; beyond, the rows are grouped by kind
_RUNS_MAX = 12
#: backward error accepted for a mode of the updated network
_RESIDUAL_RTOL = 1e-10
#: relative mismatch accepted in the power sums of the eigenvalues
_TRACE_RTOL = 1e-9


def low_rank(delta: sp.spmatrix, max_rank: int, scale: float):
    """``delta = X Y^T`` with at most ``max_rank`` columns, or None (cross approximation).

    Parameters
    ----------
    delta : scipy.sparse matrix or ndarray (N, N)
        The change of the state matrix (or of the Laplacian).
    max_rank : int
        Largest rank accepted.
    scale : float
        Size of the state matrix: entries below ``1e-11 * scale`` left over are rounding.

    Returns
    -------
    (ndarray (N, r), ndarray (N, r)) or None
        The factors, or None when ``delta`` is not of rank ``max_rank`` or less.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> d = sp.csr_matrix(np.outer([1.0, 0.0, -1.0], [0.0, 2.0, 2.0]))
    >>> X, Y = low_rank(d, 2, 1.0)
    >>> X.shape, bool(np.allclose(X @ Y.T, d.toarray()))
    ((3, 1), True)
    """
    if sp.issparse(delta):
        delta = sp.csr_matrix(delta)
        delta.eliminate_zeros()
        rows = np.unique(delta.nonzero()[0])
        cols = np.unique(delta.nonzero()[1])
        E = delta[rows][:, cols].toarray()
    else:                              # dense: the rows and columns that are not zero
        delta = np.asarray(delta, dtype=float)
        nz = delta != 0
        rows = np.flatnonzero(nz.any(axis=1))
        cols = np.flatnonzero(nz.any(axis=0))
        E = delta.copy() if rows.size == delta.shape[0] and cols.size == delta.shape[1] \
            else delta[np.ix_(rows, cols)]                 # (a plain copy when all are)
    N = delta.shape[0]
    if rows.size == 0:
        return np.zeros((N, 0)), np.zeros((N, 0))
    tol = _LOWRANK_RTOL * scale
    xs, ys = [], []
    for _ in range(max_rank + 1):
        flat = int(np.argmax(np.abs(E)))
        i, j = divmod(flat, E.shape[1])
        piv = E[i, j]
        if abs(piv) <= tol:
            break
        if len(xs) == max_rank:
            return None
        u = E[:, j].copy()
        v = E[i, :] / piv
        E -= np.outer(u, v)
        xs.append(u)
        ys.append(v)
    X = np.zeros((N, len(xs)))
    Y = np.zeros((N, len(ys)))
    if xs:
        X[rows] = np.array(xs).T
        Y[cols] = np.array(ys).T
    return X, Y


def _null_solves(G, rhs):
    """``G^{-1} rhs`` for batches: G (J, r, r), rhs (J, r)."""
    if G.shape[1] == 1:
        return rhs / G[:, :, 0]
    try:
        return np.linalg.solve(G, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:          # an exactly singular G: not a usable point
        return np.full(rhs.shape, np.nan, dtype=complex)


def _input_part(B, X):
    """``Z`` with ``B Z = X`` when the columns of ``B`` have disjoint supports (each nodal
    input drives its own node's states) and ``X`` is in their span, else None."""
    B = sp.csc_matrix(B)
    BtB = (B.T @ B).tocsr()
    diag = BtB.diagonal()
    if BtB.nnz != np.count_nonzero(diag) or np.any(diag == 0):
        return None
    Z = np.asarray(B.T @ X) / diag[:, None]
    if np.abs(B @ Z - X).max() > 1e-12 * max(np.abs(X).max(), 1e-300):
        return None
    return Z


def _quad(absC2, a, z):
    """``sum_i |C_ji|^2 |a_i . z_j|^2`` for every j, with real products."""
    N, r = a.shape
    AA = (a[:, :, None] * np.conj(a)[:, None, :]).reshape(N, r * r)
    if r == 1:                                           # |a_i|^2: real
        return (absC2 @ AA.real)[:, 0] * (np.abs(z[:, 0]) ** 2)
    M = (absC2 @ AA.real + 1j * (absC2 @ AA.imag)).reshape(-1, r, r)
    return np.einsum("jl,jlm,jm->j", z, M, np.conj(z)).real


def _pair_product(basis, Y, real=None, roots=None):
    """``(Y P^T)`` (J, n) for the reference's mode shapes ``P`` (n, N) and ``Y`` (J, N), over the
    conjugate pairs in real arithmetic: ``p y + conj(p) y' = Re p (y + y') + Im p i(y - y')``.
    ``roots``: ``(s, a)`` when ``Y = a / (s - mu)`` by rows, for the expansion around a
    cluster of the reference's real poles (:func:`.modal_cluster.far_rows_product`).

    Rows ``real`` of ``Y`` (a real eigenvalue of a real matrix: ``y' = conj(y)`` and ``y``
    real on the real modes, to rounding) give a real product: their imaginary part is
    computed only if the part that would be dropped exceeds ``1e-13`` of the real one.
    """
    h = basis.half
    if h < 0:
        return Y @ basis.P.T
    J = Y.shape[0]
    X = np.empty((2 * J, Y.shape[1]))                  # [XR; XI], filled in place
    XR, XI = X[:J], X[J:]
    up, lo = Y[:, :h], Y[:, h:2 * h]
    np.add(up.real, lo.real, out=XR[:, :h])
    np.subtract(lo.imag, up.imag, out=XR[:, h:2 * h])
    XR[:, 2 * h:] = Y[:, 2 * h:].real
    np.add(up.imag, lo.imag, out=XI[:, :h])
    np.subtract(up.real, lo.real, out=XI[:, h:2 * h])
    XI[:, 2 * h:] = Y[:, 2 * h:].imag
    if real is None or not real.any():
        if roots is not None:
            out = far_rows_product(basis, X, *roots)
            if out is not None:
                return out
        Z = X @ basis.PrT                              # both parts by one product
        out = np.empty((J, Z.shape[1]), dtype=complex)
        out.real = Z[:J]
        out.imag = Z[J:]
        return out
    out = (XR @ basis.PrT).astype(complex)
    cplx = np.ones(Y.shape[0], dtype=bool)
    if real is not None and real.any():
        # ||PrT^T xi|| <= ||PrT||_F ||xi||: rounding below 1e-13 of the real part is dropped
        xi = np.linalg.norm(XI[real], axis=1) * float(np.linalg.norm(basis.PrT))
        xr = np.linalg.norm(out[real], axis=1)
        cplx[np.flatnonzero(real)[xi <= 1e-13 * xr]] = False
    if cplx.any():
        out[cplx] += 1j * (XI[cplx] @ basis.PrT)
    return out


def _col_sq(P):
    """Squared 2-norms of the columns of ``P`` (real or complex): one pass over the real
    and imaginary parts, without the complex conjugate product (over contiguous rows of
    ``P^T`` when ``P`` is the transpose of a C-ordered array, as the updated shapes are)."""
    if P.T.flags.c_contiguous and P.ndim == 2:
        V = P.T.view(np.float64) if np.iscomplexobj(P) else P.T
        return np.einsum("ij,ij->i", V, V)
    if not np.iscomplexobj(P):
        return np.einsum("ij,ij->j", P, P)
    return np.einsum("ij,ij->j", P.real, P.real) + np.einsum("ij,ij->j", P.imag, P.imag)


def _pole_gaps(mu, start):
    """``(dmu, 1/dmu, 1/dmu^2)`` with ``dmu[j, i] = mu[start[j]] - mu[i]`` and the own pole
    out (``inf``): the first Newton step from ``tau = 0`` needs only these, which depend on
    the reference alone (kept with it by the caller)."""
    J = start.size
    dmu = mu[start][:, None] - mu[None, :]
    dmu[np.arange(J), start] = np.inf
    with np.errstate(all="ignore"):
        inv = np.reciprocal(dmu)
    return dmu, inv, inv * inv


def _as_block(idx: np.ndarray):
    """Indices ``idx`` as a slice when they are a run of consecutive integers in order
    (views instead of fancy copies), else unchanged."""
    if idx.size and idx[-1] - idx[0] + 1 == idx.size and np.all(np.diff(idx) == 1):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


def _newton(mu, start, tau, real, a, b, BA, gaps=None, half: int = -1, cluster=None):
    """Newton on the secular function with the pole ``mu[start]`` divided out, in the offset
    ``tau = s - mu[start]``; returns ``(tau, converged)``. ``gaps``: ``_pole_gaps(mu, start)``
    when already known (used while ``tau`` is zero). ``half``: the number of conjugate
    pairs when ``mu`` is ordered ``[upper, conjugates, real]``; then a rank-one change's
    real roots from real poles are found in real arithmetic (:func:`_newton_real`)."""
    J, r = start.size, a.shape[1]
    if half >= 0 and r == 1:
        fold = real & (start >= 2 * half)
        rows = np.flatnonzero(fold)
        if rows.size:
            tau = tau.astype(complex)
            conv = np.zeros(J, dtype=bool)
            tau[rows], conv[rows] = _newton_real(mu, start[rows], tau[rows].real, a[:, 0],
                                                 b[:, 0], half, cluster)
            rest = np.flatnonzero(~fold)
            if rest.size:
                rest = _as_block(rest)
                sub = None if gaps is None else tuple(g[rest] for g in gaps[:3])
                tau[rest], conv[rest] = _newton(mu, start[rest], tau[rest], real[rest], a, b,
                                                BA, sub)
            return tau, conv
    if gaps is None:
        dmu = mu[start][:, None] - mu[None, :]
        dmu[np.arange(J), start] = np.inf                                   # own pole: out
        zero = False
    else:
        dmu = gaps[0]
        zero = not np.any(tau)
    ak, bk = a[start], b[start]
    eye = np.eye(r)
    tau = tau.astype(complex)
    tau[real] = tau[real].real
    conv = np.zeros(J, dtype=bool)
    active = np.arange(J)
    with np.errstate(all="ignore"):
        for _ in range(_MAX_NEWTON):
            if active.size == 0:
                break
            if zero:                  # tau = 0 everywhere: the reference's own gaps
                G = eye[None] - (gaps[1] @ BA).reshape(-1, r, r)
                Gp = (gaps[2] @ BA).reshape(-1, r, r)
                zero = False
            else:
                Cm = dmu if active.size == J else dmu[active]
                Cm = np.add(Cm, tau[active, None])
                np.reciprocal(Cm, out=Cm)
                G = eye[None] - (Cm @ BA).reshape(-1, r, r)                   # G_{-k}
                np.multiply(Cm, Cm, out=Cm)
                Gp = (Cm @ BA).reshape(-1, r, r)                              # dG/dtau
                del Cm
            zb = _null_solves(G, bk[active])                                  # G^{-1} b_k
            wa = _null_solves(np.swapaxes(G, 1, 2), ak[active])               # G^{-T} a_k
            phi = tau[active] - np.einsum("jr,jr->j", ak[active], zb)
            dphi = 1.0 + np.einsum("jr,jrs,js->j", wa, Gp, zb)
            step = phi / dphi
            step[real[active]] = step[real[active]].real
            new = tau[active] - step
            fin = np.isfinite(new)
            new[~fin] = tau[active][~fin]
            tau[active] = new
            s_abs = np.abs(mu[start[active]] + new)
            ok = fin & ((np.abs(step) <= 1e-10 * np.abs(new)) | (np.abs(step) <= 8e-16 * s_abs))
            conv[active[ok]] = True
            active = active[~ok & fin]
    return tau, conv


def _newton_real(mu, ks, tau, a, b, h: int, cluster=None):
    """:func:`_newton` for real poles ``mu[ks]`` (in the real block, ``ks >= 2 h``) and a
    rank-one change, in real arithmetic: on the real axis a conjugate pair of poles adds
    ``2 Re(a_i b_i / (s - mu_i))`` and a real pole a real term (``a_i b_i`` real to
    rounding), so the secular function and its derivative need no complex division.
    ``cluster``: the reference's tight cluster of real poles (:func:`.modal_cluster.cluster_of`)
    whose expansions replace part of the sums, or None."""
    J = ks.size
    mk = mu[ks].real
    xr0, yi, yi2, d_re, first = _real_gaps(mu, ks, h)
    ba = a[:h] * b[:h]
    BAr, BAi = 2.0 * ba.real, 2.0 * ba.imag
    BAre = (a[2 * h:] * b[2 * h:]).real
    ab = (a[ks] * b[ks]).real
    tau = np.asarray(tau, dtype=float).copy()
    conv = np.zeros(J, dtype=bool)
    active = np.arange(J)
    expansions = None
    with np.errstate(all="ignore"):
        for it in range(_MAX_NEWTON):
            if active.size == 0:
                break
            if it == 0 and first is not None and not np.any(tau):   # the reference's gaps
                cr, ci, cre, sr, si, sre = first
                G = 1.0 - (cr @ BAr - ci @ BAi + cre @ BAre)
                Gp = sr @ BAr - si @ BAi + sre @ BAre
            elif cluster is not None and active.size >= _CLUSTER_ROWS:
                if expansions is None:
                    C = BAre[cluster.lo - 2 * h:cluster.hi - 2 * h, None]
                    expansions = (_moments(cluster, C),
                                  _local_coefficients(cluster, h, ba[:, None], BAre[:, None], "1"),
                                  _local_coefficients(cluster, h, ba[:, None], BAre[:, None], "2"))
                G, Gp = _secular_clustered(cluster, tau[active], active, ks, mk, h,
                                           (xr0, yi, yi2, d_re), BAr, BAi, BAre, expansions)
            else:
                G, Gp = _secular_real(tau[active], _as_block(active), xr0, yi, yi2, d_re,
                                      BAr, BAi, BAre)
            phi = tau[active] - ab[active] / G
            dphi = 1.0 + ab[active] * Gp / (G * G)
            step = phi / dphi
            new = tau[active] - step
            fin = np.isfinite(new)
            new[~fin] = tau[active][~fin]
            tau[active] = new
            s_abs = np.abs(mk[active] + new)
            ok = fin & ((np.abs(step) <= 1e-10 * np.abs(new)) | (np.abs(step) <= 8e-16 * s_abs))
            conv[active[ok]] = True
            active = active[~ok & fin]
    return tau, conv


def _secular_real(tau, rows, xr0, yi, yi2, d_re, BAr, BAi, BAre, up=True, re=slice(None)):
    """``(G, G')`` of :func:`_newton_real` at offsets ``tau`` of the poles ``rows`` (a slice
    or indices into the gaps): ``1 - sum_i a_i b_i / (s - mu_i)`` and its derivative's
    negative, with ``1/(s - mu_up) = (x - i y) / (x^2 + y^2)`` split into real and
    imaginary parts. Written with few passes over the ``(J, N)`` blocks (in place where a
    block is not needed again). ``up`` and ``re`` (slices of the real poles) limit the
    sums to those poles (the rest taken by a cluster's expansions)."""
    t = tau[:, None]
    G = np.ones(tau.size)
    Gp = np.zeros(tau.size)
    if up:
        x = np.add(xr0[rows], t)                              # Re(s - mu_up)
        q = np.multiply(x, x)
        q += yi2[rows]
        np.reciprocal(q, out=q)                               # 1 / |s - mu_up|^2
        cr = np.multiply(x, q, out=x)                         # Re 1/(s - mu_up)
        ci = np.multiply(yi[rows], q, out=q)                  # -Im 1/(s - mu_up)
        G -= cr @ BAr + ci @ BAi
        crci = cr * ci
        np.multiply(cr, cr, out=cr)
        np.multiply(ci, ci, out=ci)
        # 1/(s - mu_up)^2 = (cr^2 - ci^2) + 2 i cr ci in these parts
        Gp += np.subtract(cr, ci, out=cr) @ BAr + 2.0 * (crci @ BAi)
    for sl in (re if isinstance(re, tuple) else (re,)):
        cre = np.add(d_re[rows, sl], t)
        np.reciprocal(cre, out=cre)                           # 1/(s - mu_re)
        G -= cre @ BAre[sl]
        np.multiply(cre, cre, out=cre)
        Gp += cre @ BAre[sl]
    return G, Gp


def _secular_clustered(cl, tau, rows, ks, mk, h, gaps, BAr, BAi, BAre, expansions):
    """:func:`_secular_real` with the poles of a tight cluster (:mod:`.modal_cluster`)
    taken by its moments for the roots far from it, and the poles far from it by the
    local expansion for the roots inside it (the other roots densely); ``expansions``:
    ``(moments, local "1" and "2" coefficients)`` of ``a_i b_i``."""
    xr0, yi, yi2, d_re = gaps
    T, L1, L2 = expansions
    s = mk[rows] + tau
    kinds = row_kinds(cl, s, ks[rows], h)
    G, Gp = np.empty(tau.size), np.empty(tau.size)
    lo, hi = cl.lo - 2 * h, cl.hi - 2 * h
    k0, k1 = cl.near_cols[0] - 2 * h, cl.near_cols[1] - 2 * h
    # runs of one kind take views of the gaps where the rows are contiguous
    groups = _runs(kinds, _RUNS_MAX) or [(np.flatnonzero(kinds == k), k) for k in (0, 1, 2)]
    for sel, kind in groups:
        r, t = _as_block(rows[sel]), tau[sel]
        if t.size == 0:
            continue
        if kind == 0:
            G[sel], Gp[sel] = _secular_real(t, r, *gaps, BAr, BAi, BAre)
        elif kind == 1:
            g, gp = _secular_real(t, r, *gaps, BAr, BAi, BAre,
                                  re=(slice(0, lo), slice(hi, d_re.shape[1])))
            G[sel] = g - _cluster_sums(cl, s[sel], T, 1)[:, 0]
            Gp[sel] = gp + _cluster_sums(cl, s[sel], T, 2)[:, 0]
        else:
            g, gp = _secular_real(t, r, *gaps, BAr, BAi, BAre, up=False, re=slice(k0, k1))
            G[sel] = g - _local_sums(cl, s[sel], L1)[:, 0]
            Gp[sel] = gp + _local_sums(cl, s[sel], L2)[:, 0]
    return G, Gp


#: the last reference's gaps for _newton_real: [(mu, arrays)]
_REAL_GAPS: list = []


def _real_gaps(mu, ks, h: int):
    """Gaps of the real poles ``mu[ks]`` (``ks >= 2 h``) to the upper poles (real and
    imaginary parts and its square) and to the real poles (own pole ``inf``), and, when
    ``ks`` are all the real poles in order, the first step's ``1/(mu_k - mu_i)`` and its
    square split the same way (else None). Computed once per ``mu`` for all real poles;
    views of those when ``ks`` are consecutive."""
    full = None
    for m0, out in _REAL_GAPS:
        if m0 is mu:
            full = out
    if full is None:
        N = mu.size
        mk = mu[2 * h:].real
        d_up = mk[:, None] - mu[None, :h]
        xr0, yi = np.ascontiguousarray(d_up.real), np.ascontiguousarray(d_up.imag)
        yi2 = yi * yi
        d_re = mk[:, None] - mk[None, :]
        np.fill_diagonal(d_re, np.inf)                                      # own pole: out
        with np.errstate(all="ignore"):
            den = xr0 * xr0 + yi2
            cr, ci, cre = xr0 / den, -yi / den, 1.0 / d_re
        first = (cr, ci, cre, cr * cr - ci * ci, 2.0 * cr * ci, cre * cre)
        full = (xr0, yi, yi2, d_re, first, N)
        _REAL_GAPS[:] = [(mu, full)]
    xr0, yi, yi2, d_re, first, N = full
    idx = _as_block(ks - 2 * h)                   # a run of poles: views, not copies
    if isinstance(idx, slice) and idx.stop - idx.start == N - 2 * h:
        return xr0, yi, yi2, d_re, first
    return xr0[idx], yi[idx], yi2[idx], d_re[idx], None


def _duplicates(s, skip, rtol: float = 1e-11, local: bool = False):
    """Mask of roots that repeat an earlier one (to ``rtol`` relative), ignoring ``skip``.

    The distance is relative to the largest root, or with ``local`` to the larger of the
    two (at least ``1e-6`` of the largest): close roots of a slow cluster stay apart when
    each is known to its own relative accuracy (Newton's method in the offset from a pole).
    """
    out = np.zeros(s.size, dtype=bool)
    idx = np.flatnonzero(~skip)
    if idx.size < 2:
        return out
    pts = np.column_stack([s[idx].real, s[idx].imag])
    big = max(float(np.abs(s[idx]).max()), 1e-300)
    tol = rtol * big
    for i, j in cKDTree(pts).query_pairs(tol):
        a, b = s[idx[i]], s[idx[j]]
        if local and abs(a - b) > rtol * max(abs(a), abs(b), 1e-6 * big):
            continue
        out[idx[max(i, j)]] = True
    return out


#: most poles in a cluster solved for Aberth's seeds (its small eigenproblem costs O(size^3))
_CLUSTER_MAX = 128


def _cluster_seeds(mu, poles, known, a, b, m: int):
    """Starting points for the ``m`` roots that Newton's method missed near the ``poles``
    (in clusters of close poles, Newton from one pole can end on its neighbour's root), or
    None.

    The poles within ten times a missed pole's distance to its nearest other pole form its
    cluster (overlapping clusters merge). Each cluster is solved as its own rank-one
    eigenproblem ``diag(mu_C) + a_C b_C^T / (1 - g(c))``, the other poles' terms ``g``
    frozen at the cluster's centre ``c``; as many of its eigenvalues as the cluster has
    missed poles, those farthest from the roots already known, are the seeds (with their
    conjugates for a cluster off the real axis). Only starting points: Aberth's iteration
    finds the roots themselves. A cluster of more than ``_CLUSTER_MAX`` poles (a missed
    pole far from all others reaches most of the spectrum) would cost a dense eigenproblem
    of that size: then None.
    """
    if a.shape[1] != 1 or poles.size == 0:
        return None
    ab = a[:, 0] * b[:, 0]
    d = np.abs(mu[poles][:, None] - mu[None, :])
    d[np.arange(poles.size), poles] = np.inf
    reach = d <= 10.0 * d.min(axis=1, keepdims=True)
    reach[np.arange(poles.size), poles] = True
    groups = []                         # (member mask, missed poles), merged when they overlap
    for k, row in zip(poles, reach):
        row, miss = row.copy(), [k]
        for g in [g for g in groups if np.any(g[0] & row)]:
            row |= g[0]
            miss += g[1]
            groups = [h for h in groups if h is not g]
        groups.append((row, miss))
    if any(int(row.sum()) > _CLUSTER_MAX for row, _ in groups):
        return None
    seeds = []
    for row, miss in groups:
        C = np.flatnonzero(row)
        c = mu[C].mean()
        with np.errstate(all="ignore"):
            far = 1.0 - np.sum(np.delete(ab, C) / (c - np.delete(mu, C)))
            loc = np.diag(mu[C]) + np.outer(a[C, 0], b[C, 0]) / far
        if not np.all(np.isfinite(loc)):
            return None
        ev = np.linalg.eigvals(loc)
        off = bool(np.all(mu[C].imag > 0))        # an upper cluster: its mirror is missed too
        radius = 2.0 * (float(np.abs(mu[C] - c).max()) + float(np.abs(ev - c).max()))
        inside = known[np.abs(known - c) <= radius]
        dist = np.abs(ev[:, None] - inside[None, :]).min(axis=1) if inside.size else \
            np.full(ev.size, np.inf)
        want = sum(1 if mu[k].imag == 0 else (1 if off else 2) for k in miss)
        pick = ev[np.argsort(-dist, kind="stable")[:want]]
        seeds.append(np.concatenate([pick, np.conj(pick)]) if off else pick)
    seeds = np.concatenate(seeds)
    return seeds if seeds.size == m else None


def _aberth(mu, poles, real, known, a, b, BA, maxit: int = 200):
    """The roots of ``det(I - F(s))`` missing from ``known`` (Aberth-Ehrlich iteration),
    started from :func:`_cluster_seeds` where they apply (fewer iterations), else, or if
    that fails, from points beside the ``poles`` (:func:`_pole_seeds`)."""
    N, r = a.shape
    m = N - known.size
    if m <= 0 or sum(2 - int(x) for x in real) != m:
        return None
    gap = 1e-6 * max(float(np.abs(mu).max()), 1e-300)
    seeds = _cluster_seeds(mu, poles, known, a, b, m)
    if seeds is not None:
        out = _aberth_from(seeds, mu, known, BA, r, gap, maxit)
        if out is not None:
            return out
    return _aberth_from(_pole_seeds(mu, poles, real, m, gap), mu, known, BA, r, gap, maxit)


def _pole_seeds(mu, poles, real, m: int, gap: float) -> np.ndarray:
    """``m`` starting points beside the ``poles``: above and below a real one, beside a
    complex one and its conjugate."""
    seeds = []
    for k, isreal in zip(poles, real):
        p = mu[k]
        h = gap + 1e-3 * abs(p - mu[np.argsort(np.abs(mu - p))[1]]) if mu.size > 1 else gap
        seeds += [p + 1j * h, p - 1j * h] if isreal else [p + h * (1 + 1j), np.conj(p) + h * (1 - 1j)]
    seeds = seeds[:m] if len(seeds) >= m else seeds + [seeds[-1]] * (m - len(seeds))
    return np.array(seeds, dtype=complex)


def _aberth_from(z, mu, known, BA, r: int, gap: float, maxit: int):
    """Aberth-Ehrlich iteration from the points ``z`` (see :func:`_aberth`) for a change of
    rank ``r``, or None."""
    z = np.asarray(z, dtype=complex).copy()
    # a seed on a pole or a known root (a cluster's decoupled pole is its own eigenvalue)
    # is moved off it by a thousandth of its distance to the next point, across the axis
    pts = np.concatenate([mu, known])
    d = np.abs(z[:, None] - pts[None, :])
    d = np.partition(d, 1, axis=1) if d.shape[1] > 1 else np.sort(d, axis=1)     # two nearest
    on = d[:, 0] <= 1e-13 * np.maximum(np.abs(z), gap)
    if on.any():
        z[on] += 1j * 1e-3 * np.where(d[on, 1] > 0, d[on, 1], gap)
    eye = np.eye(r)
    m = z.size
    done = np.zeros(m, dtype=bool)
    with np.errstate(all="ignore"):
        for _ in range(maxit):
            Cm = 1.0 / (z[:, None] - mu[None, :])
            G = eye[None] - (Cm @ BA).reshape(-1, r, r)
            Gs = ((Cm * Cm) @ BA).reshape(-1, r, r)
            if r == 1:
                lg = Gs[:, 0, 0] / G[:, 0, 0] + Cm.sum(axis=1)
            else:
                try:
                    lg = np.trace(np.linalg.solve(G, Gs), axis1=1, axis2=2) + Cm.sum(axis=1)
                except np.linalg.LinAlgError:
                    return None
            rep = (1.0 / (z[:, None] - known[None, :])).sum(axis=1)
            dz = z[:, None] - z[None, :]
            np.fill_diagonal(dz, np.inf)
            rep = rep + (1.0 / dz).sum(axis=1)
            w = 1.0 / (lg - rep)
            if not np.all(np.isfinite(w)):
                return None
            z = z - w
            done = np.abs(w) <= np.maximum(1e-13 * np.abs(z), 1e-8 * gap)
            if done.all():
                break
    if not done.all():
        return None
    # one of each conjugate pair; real roots made exactly real
    isreal = np.abs(z.imag) <= np.maximum(1e-9 * np.abs(z), 1e-6 * gap)
    up = z[~isreal & (z.imag > 0)]
    lo = z[~isreal & (z.imag < 0)]
    if up.size != lo.size or (up.size and np.abs(np.sort_complex(up) - np.sort_complex(np.conj(lo))).max()
                              > 1e-8 * float(np.abs(z).max())):
        return None
    return np.concatenate([up, z[isreal].real.astype(complex)])


def _dense(L):
    return L.toarray() if sp.issparse(L) else np.asarray(L, dtype=float)


def _traces(A2) -> tuple:
    """``(trace(A2), trace(A2^2))`` of a sparse matrix."""
    return float(A2.diagonal().sum()), float(A2.multiply(A2.T).sum())


def _power_sums(s, real) -> tuple:
    """First two power sums of the eigenvalues (``s`` one of each conjugate pair)."""
    return (2.0 * s[~real].real.sum() + s[real].real.sum(),
            2.0 * (s[~real] ** 2).real.sum() + (s[real].real ** 2).sum())


def _traces_ok(s, real, traces, scale=None) -> bool:
    """The first two power sums of the eigenvalues against ``traces`` (``trace(A2)``,
    ``trace(A2^2)``; a sparse ``A2`` is accepted), to ``_TRACE_RTOL`` of ``scale`` (the
    eigenvalues' own sizes ``(sum |s|, max |s|)`` by default)."""
    if sp.issparse(traces):
        traces = _traces(traces)
    tot1, tot2 = _power_sums(s, real)
    tr1, tr2 = traces
    if scale is None:
        scale = (float(np.abs(s).sum()), float(np.abs(s).max()) if s.size else 0.0)
    mag, smax = 2.0 * scale[0], scale[1]
    return abs(tot1 - tr1) <= _TRACE_RTOL * mag and abs(tot2 - tr2) <= _TRACE_RTOL * mag * smax


def _residual_ok(system, s, P, weight, probes: int = 8) -> bool:
    """Backward error of ``(diag(1/g(s_j)) + f(s_j) L) P_j = 0`` for every mode, weighted by
    the size of the mode's residue relative to the largest (a mode that hardly enters the
    response may be less accurate, as in the dense eigenproblem).

    The residual norms are estimated with ``probes`` Gaussian test vectors
    (``||G v|| / sqrt(k)``), which costs ``O(k n J)`` instead of the ``O(n^2 J)`` of the
    products with ``L``; the estimate is compared with a tenth of the tolerance, so that
    a residual above the tolerance passes with probability below about ``1e-7``. When
    every node's ``1/g_i`` has the same denominator (one turbine time constant), the
    products factor through the numerators' coefficients (:func:`_factored_errors`);
    otherwise ``1/g_i(s_j)`` is formed for every node and mode, and modes with a real
    eigenvalue and a real shape are checked in real arithmetic.
    """
    L = system.laplacian
    n = P.shape[0]
    G = _residual_probes(probes, n)
    GL = np.asarray(L.T @ G.T).T if sp.issparse(L) else G @ np.asarray(L)
    Lnorm = float(abs(L).sum(axis=1).max()) if sp.issparse(L) else float(np.abs(L).sum(axis=1).max())
    num, den = np.asarray(system.nodal.num), np.asarray(system.nodal.den)
    common = _common_numerator(num, den)
    real = s.imag == 0
    if np.iscomplexobj(num) or np.iscomplexobj(den):
        real[:] = False
    PT = P.T                                          # modes by rows (J, n)
    if real.any() and np.iscomplexobj(P):
        rows = _as_block(np.flatnonzero(real))
        real[rows] &= ~np.any(PT.imag[rows] != 0, axis=1)
    err = np.empty(s.size)
    f_all = np.asarray(system.coupling(s))[:, 0]
    for cols, is_real in ((np.flatnonzero(real), True), (np.flatnonzero(~real), False)):
        if cols.size == 0:
            continue
        cols = _as_block(cols)
        sc, f = (s[cols].real, f_all[cols].real) if is_real else (s[cols], f_all[cols])
        if common is not None:
            R = np.ascontiguousarray(PT.real[cols] if is_real else PT[cols])
            err[cols], unsure = _factored_errors(common, sc, R, f, G, GL, Lnorm)
            if not unsure.any():
                continue
            cols = np.arange(s.size)[cols][unsure]
            sc, f = sc[unsure], f[unsure]
        Pc = P.real[:, cols] if is_real else P[:, cols]
        err[cols] = _direct_errors(system.nodal, num, den, sc, Pc, f, G, GL, Lnorm)
    rel = weight / max(float(weight.max()), 1e-300)
    return bool(np.all(err <= 1e-6) and np.all(err * rel <= _RESIDUAL_RTOL))


def _residual_probes(k: int, n: int) -> np.ndarray:
    """The ``k`` Gaussian probes of the residual check for ``n`` nodes (fixed: the same
    on every run; kept for the last size asked)."""
    hit = _PROBES.get((k, n))
    if hit is None:
        hit = np.random.default_rng(1).standard_normal((k, n))
        hit.flags.writeable = False
        _PROBES.clear()
        _PROBES[(k, n)] = hit
    return hit


_PROBES: dict = {}


def _direct_errors(nodal, num, den, sc, Pc, f, G, GL, Lnorm):
    """Estimated relative residuals (ten times ``||G r|| / sqrt(k)`` over the equation's
    scale) of the modes ``Pc`` (n, J) at ``sc``, with ``1/g_i(s_j)`` formed for every node
    and mode (real arithmetic for real ``sc`` and ``Pc``)."""
    if not np.iscomplexobj(sc) and not np.iscomplexobj(Pc):
        with np.errstate(divide="ignore", invalid="ignore"):
            ginv = _horner_real(den, sc) / _horner_real(num, sc)            # (J, n)
        D = ginv.T * Pc                                                      # (n, J)
        GS = G @ D + f[None, :] * (GL @ Pc)
    else:
        ginv = nodal.inverse(sc)
        D = ginv.T * Pc
        GS = (G @ D.real + 1j * (G @ D.imag)) + f[None, :] * (GL @ Pc.real + 1j * (GL @ Pc.imag))
    est = np.sqrt(_col_sq(GS)) / np.sqrt(G.shape[0])
    scale = np.sqrt(_col_sq(D)) + np.abs(f) * Lnorm * np.sqrt(_col_sq(Pc))
    with np.errstate(all="ignore"):
        return 10.0 * est / scale


def _common_numerator(num, den):
    """``(D, c)`` when ``1/g_i = den_i / num_i`` has ``num_i = k_i c`` for one polynomial
    ``c`` (every node the same up to a factor): ``D = den / k`` (n, p), so that
    ``1/g_i(s) = D_i(s) / c(s)``; None otherwise (or for complex coefficients)."""
    if np.iscomplexobj(num) or np.iscomplexobj(den) or num.shape[0] == 0:
        return None
    c = num[0]
    lead = int(np.argmax(np.abs(c)))
    if c[lead] == 0:
        return None
    k = num[:, lead] / c[lead]
    if not np.array_equal(num, k[:, None] * c[None, :]) or not np.all(k != 0):
        return None
    return den / k[:, None], c


def _factored_errors(common, sc, R, f, G, GL, Lnorm):
    """:func:`_direct_errors` when ``1/g_i(s) = D_i(s) / c(s)`` (``common = (D, c)``), for
    the modes by rows ``R`` (J, n), C-ordered:

    ``G diag(1/g(s_j)) P_j = sum_m s_j^m / c(s_j) (G diag(D_m)) P_j``, so one product of
    the modes with ``p + 1`` stacked probe matrices gives every residual, and
    ``||diag(1/g(s_j)) P_j||^2 = sum_{m,l} Re(s_j^m conj(s_j)^l) (D_m D_l) . |P_j|^2`` one
    product with the ``p (p + 1) / 2`` coefficient products. A complex ``R`` is read as
    its real and imaginary parts side by side (no copies). Returns ``(errors, unsure)``:
    ``unsure`` marks modes where that sum cancels to below ``1e-6`` of its terms' size (a
    mode close to a zero of ``1/g_i`` at its own nodes), whose scale is not accurate here.
    """
    D, c = common
    p, k = D.shape[1], G.shape[0]
    m, l = _pairs(p)
    E = D[:, m] * D[:, l]                                                    # (n, p(p+1)/2)
    E = np.column_stack([E, np.abs(E), np.ones(E.shape[0])])
    W = np.vstack([G * D[:, i] for i in range(p)] + [GL])                    # ((p+1) k, n)
    if np.iscomplexobj(R):
        Rv = R.view(np.float64)                        # (J, 2n): re, im, re, im, ...
        Wv = np.zeros((2 * W.shape[0], 2 * W.shape[1]))
        Wv[:W.shape[0], 0::2], Wv[W.shape[0]:, 1::2] = W, W
        Hv = Rv @ Wv.T
        H = Hv[:, :W.shape[0]] + 1j * Hv[:, W.shape[0]:]
        A = (Rv * Rv) @ np.repeat(E, 2, axis=0)
    else:
        H = R @ W.T
        A = (R * R) @ E
    H = H.reshape(-1, p + 1, k)
    V = np.empty((sc.size, p), dtype=sc.dtype)                              # (J, p)
    V[:, p - 1] = 1.0
    for i in range(p - 2, -1, -1):                                           # s^(p-1), ..., 1
        np.multiply(V[:, i + 1], sc, out=V[:, i])
    both = np.where(m == l, 1.0, 2.0)
    with np.errstate(all="ignore"):
        cs = np.polyval(c, sc)
        GS = np.einsum("jm,jmq->jq", V / cs[:, None], H[:, :p]) + f[:, None] * H[:, p]
        est = np.sqrt(_col_sq(GS.T)) / np.sqrt(k)
        c2 = np.abs(cs) ** 2
        npair = m.size
        d2 = np.einsum("jm,jm->j", both * (V[:, m] * np.conj(V[:, l])).real, A[:, :npair]) / c2
        size = np.einsum("jm,jm->j", both * np.abs(V[:, m]) * np.abs(V[:, l]),
                         A[:, npair:2 * npair]) / c2
        scale = np.sqrt(np.maximum(d2, 0.0)) + np.abs(f) * Lnorm * np.sqrt(A[:, -1])
        unsure = ~(d2 >= 1e-6 * size)
        return 10.0 * est / scale, unsure


@functools.lru_cache(maxsize=8)
def _pairs(p: int) -> tuple:
    """``np.triu_indices(p)``, kept per size (read-only)."""
    m, l = np.triu_indices(p)
    m.flags.writeable = l.flags.writeable = False
    return m, l


def _horner_real(coef, x):
    """Real polynomials ``coef`` (n, p), highest power first, at real points ``x`` (k,):
    (k, n)."""
    out = np.zeros((x.size, coef.shape[0]))
    for j in range(coef.shape[1]):
        out *= x[:, None]
        out += coef[None, :, j]
    return out


# -- products with the updated eigenvectors ------------------------------------------------

def _vectors(basis, start, tau, real, a, b, BA, qp, dmu):
    """Eigenvector products of the roots ``mu[start] + tau``: ``(z, w, y^T x, ||x||^2,
    ||y||^2, P, y^T Q probes / y^T x)`` with ``x_j = Cm_j o (a z_j)``, ``y_j = Cm_j o (b w_j)``
    (Cauchy-like, with the own pole back in; never formed, only their products); the
    output shapes ``P`` by rows, (J, n). ``dmu``: the gaps ``mu[start] - mu`` with the own
    pole ``inf`` (overwritten)."""
    J, r, N = start.size, a.shape[1], a.shape[0]
    eye = np.eye(r)
    with np.errstate(all="ignore"):
        Cm = np.add(dmu, tau[:, None], out=dmu)
        np.reciprocal(Cm, out=Cm)
        # the secular matrix and the probes' sums by one product
        CB = Cm @ np.hstack([BA, (b[:, :, None] * qp[:, None, :]).reshape(N, -1)])
        G = eye[None] - CB[:, :r * r].reshape(-1, r, r)
        z = _null_solves(G, b[start])                                       # (J, r)
        w = _null_solves(np.swapaxes(G, 1, 2), a[start])
        Cm[np.arange(J), start] = 1.0 / tau
        nrm = np.einsum("jl,jlm,jm->j", w, ((Cm * Cm) @ BA).reshape(-1, r, r), z)   # y^T x
        absC2 = Cm.real ** 2 + Cm.imag ** 2
        xn2 = _quad(absC2, a, z)                                             # ||x_j||^2
        yn2 = _quad(absC2, b, w)
    s = basis.mu[start] + tau
    P = sum(_pair_product(basis, Cm * a[None, :, l], real, (s, a[:, l])) * z[:, l, None]
            for l in range(r))
    # the probes' sums with the own pole back in
    Cq = CB[:, r * r:].reshape(J, r, 3) + (b[start][:, :, None] * qp[start][:, None, :]) \
        / tau[:, None, None]
    qy = np.einsum("jl,jlk->jk", w, Cq) / nrm[:, None]                       # (J, 3)
    return z, w, nrm, xn2, yn2, P, qy


def _vectors_real(basis, ks, tau, a, b, qp):
    """:func:`_vectors` for real roots from real poles ``mu[ks]`` of a rank-one change, in
    real arithmetic: on the real axis the conjugate of an upper pole contributes the
    conjugate term, so each pair adds twice the real part of its upper pole's term.

    With a tight cluster of the reference's real poles (:mod:`.modal_cluster`), a root far
    from it takes the cluster's poles by their moments and a root inside it the poles far
    from it by the local expansion: their blocks of the Cauchy matrix are not formed."""
    h, mu = basis.half, basis.mu
    J, N = ks.size, mu.size
    xr0, yi, yi2, d_re, _ = _real_gaps(mu, ks, h)
    mk = mu[ks].real
    s = mk + tau
    a1, b1 = a[:, 0], b[:, 0]
    aup, bup = a1[:h], b1[:h]
    ba = aup * bup
    BAre = (a1[2 * h:] * b1[2 * h:]).real
    are, bre = a1[2 * h:].real, b1[2 * h:].real
    M = b1[:, None] * qp                                                     # (N, 3)
    Mu, Mre = M[:h], M[2 * h:].real
    # the sums: S1 of [a b, M] over 1/(s - mu), S2 of a b over 1/(s - mu)^2, Sa of
    # [|a|^2, |b|^2] over |1/(s - mu)|^2 (pairs as twice the upper pole's real part; the
    # own pole out: its gap is inf)
    c1u, c1r = np.column_stack([ba, Mu]), np.column_stack([BAre, Mre])
    c2u, c2r = ba[:, None], BAre[:, None]
    cau, car = np.column_stack([np.abs(aup) ** 2, np.abs(bup) ** 2]), \
        np.column_stack([are * are, bre * bre])
    S1, S2, Sa = np.empty((J, 4)), np.empty((J, 1)), np.empty((J, 2))
    XR = np.empty((J, N))
    cl = cluster_of(basis)
    kinds = row_kinds(cl, s, ks, h) if cl is not None and J >= _CLUSTER_ROWS \
        else np.zeros(J, dtype=np.int8)
    runs = _runs(kinds, _RUNS_MAX)
    if runs is None:                # scattered kinds: all dense
        kinds[:] = 0
        runs = _runs(kinds)
    R = d_re.shape[1]
    far = near = None               # the expansions' coefficients, once per call
    for sel, kind in runs:
        if kind == 0:
            up, res = True, (slice(0, R),)
        elif kind == 1:
            lo, hi = cl.lo - 2 * h, cl.hi - 2 * h
            up, res = True, (slice(0, lo), slice(hi, R))
        else:
            up, res = False, (slice(cl.near_cols[0] - 2 * h, cl.near_cols[1] - 2 * h),)
        t = tau[sel, None]
        S1[sel], S2[sel], Sa[sel] = 0.0, 0.0, 0.0
        with np.errstate(all="ignore"):
            if up:
                x = xr0[sel] + t
                den = x * x + yi2[sel]
                cr, ci = x / den, -yi[sel] / den                            # 1/(s - mu_up)
                S1[sel] += 2.0 * (cr @ c1u.real - ci @ c1u.imag)
                cr2, ci2 = cr * cr, ci * ci
                S2[sel] += 2.0 * ((cr2 - ci2) @ c2u.real - (2.0 * cr * ci) @ c2u.imag)
                Sa[sel] += 2.0 * ((cr2 + ci2) @ cau)
                # mode shapes: Y = C o a, [2 Re Y_up, -2 Im Y_up] against [Re P_up, Im P_up]
                upx, lox = XR[sel, :h], XR[sel, h:2 * h]
                np.multiply(cr, 2.0 * aup.real, out=upx)
                upx -= np.multiply(ci, 2.0 * aup.imag, out=cr2)
                np.multiply(cr, -2.0 * aup.imag, out=lox)
                lox -= np.multiply(ci, 2.0 * aup.real, out=cr2)
            for sl in res:
                cre = np.add(d_re[sel, sl], t)
                np.reciprocal(cre, out=cre)                                # own pole: 0
                S1[sel] += cre @ c1r[sl]
                np.multiply(cre, are[sl], out=XR[sel, 2 * h + sl.start:2 * h + sl.stop])
                np.multiply(cre, cre, out=cre)
                S2[sel] += cre @ c2r[sl]
                Sa[sel] += cre @ car[sl]
            if kind == 1:
                if far is None:
                    Cs = slice(cl.lo - 2 * h, cl.hi - 2 * h)
                    far = (_moments(cl, c1r[Cs]),
                           _moments(cl, np.column_stack([c2r[Cs], car[Cs]])))
                S1[sel] += _cluster_sums(cl, s[sel], far[0], 1)
                sq = _cluster_sums(cl, s[sel], far[1], 2)
                S2[sel] += sq[:, :1]
                Sa[sel] += sq[:, 1:]
            elif kind == 2:
                if near is None:
                    near = (_local_coefficients(cl, h, c1u, c1r, "1"),
                            _local_coefficients(cl, h, c2u, c2r, "2"),
                            _local_coefficients(cl, h, cau, car, "abs"))
                S1[sel] += _local_sums(cl, s[sel], near[0])
                S2[sel] += _local_sums(cl, s[sel], near[1])
                Sa[sel] += _local_sums(cl, s[sel], near[2])
    own = ks - 2 * h
    rows = np.arange(J)
    with np.errstate(all="ignore"):       # a root on its pole: caught by the caller's checks
        G = 1.0 - S1[:, 0]
        z = b1[ks].real / G
        w = a1[ks].real / G
        inv = 1.0 / tau                                                     # own pole back
        XR[rows, ks] = are[own] * inv
        inv2 = inv * inv
        nrm = w * z * (S2[:, 0] + BAre[own] * inv2)
        xn2 = z * z * (Sa[:, 0] + are[own] ** 2 * inv2)
        yn2 = w * w * (Sa[:, 1] + bre[own] ** 2 * inv2)
        qy = (S1[:, 1:] + Mre[own] * inv[:, None]) * (w / nrm)[:, None]
    P = real_rows_product(basis, XR, s, a1, kinds)                        # (J, n)
    with np.errstate(all="ignore"):       # a mode the change leaves decoupled: the checks
        P *= z[:, None]
    return z[:, None], w[:, None], nrm, xn2, yn2, P, qy
