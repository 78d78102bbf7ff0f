"""The harmonic-mean aggregate ``g_hat(s) = (sum_i 1/g_i(s))^{-1}`` in a well-conditioned form.

Nodes whose numerators agree up to scale are summed first, so that

``1/g_hat(s) = Pi(s) + sum_j R_j(s) / q_j(s)``

with a polynomial part ``Pi`` (``M s + D`` for machines: total inertia and damping) and one
strictly proper term per distinct numerator ``q_j`` (for swing-turbine nodes ``q_j = tau_j s + 1``,
one per distinct turbine time constant, with ``R_j`` the summed droop gains). The strictly
proper terms form a block-diagonal (for first-order ``q_j``: diagonal) state-space model ``H``
closed around the polynomial part:

``M y' = u - D y - H(y)``,

a realisation of order ``deg Pi + sum_j deg q_j``. Its poles, zeros, DC gain, time responses and
python-control export never multiply polynomials; the single polynomial fraction of
:attr:`AggregateDynamics.num` / :attr:`AggregateDynamics.den` is built only on request, with an
:class:`~netcoh.exceptions.AccuracyWarning` where it no longer reproduces ``g_hat``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from .._util import readonly
from .._validation import as_complex_points
from ..exceptions import AccuracyWarning, InputError, NetcohTypeError, SolverError
from ..network.nodal import NodalDynamics
from ..network.system import NetworkSystem

__all__ = ["AggregateDynamics", "aggregate_dynamics"]

#: relative error above which the polynomial fraction of the aggregate is reported as inaccurate
POLY_RTOL = 1e-8


def _trim(c):
    nz = np.flatnonzero(np.abs(c) > 0)
    return c[nz[0]:] if nz.size else np.zeros(1)


@dataclass(frozen=True, eq=False)
class AggregateDynamics:
    """The harmonic-mean aggregate ``g_hat(s) = (sum_i 1/g_i(s))^{-1}`` of a set of nodes.

    Held as ``1/g_hat(s) = Pi(s) + C_H (s I - A_H)^{-1} B_H``: a polynomial part ``Pi``
    (coefficients ``poly``, highest power first) and the strictly proper part ``H`` of the
    nodes' inverse dynamics in block-diagonal form, one block per distinct numerator (for
    swing-turbine nodes one first-order block per distinct turbine time constant). Callable on
    complex points (evaluated from the nodes directly, shape ``(k,)``).

    Build it with :func:`aggregate_dynamics`; the constructor does not check that the parts
    match ``nodal``.

    Parameters
    ----------
    nodal : NodalDynamics
        The nodes being aggregated; :meth:`__call__` evaluates from them directly.
    poly : ndarray, shape (k + 1,)
        Coefficients of ``Pi(s)``, highest power first, leading coefficient non-zero.
    a_h : scipy.sparse.csr_matrix, shape (p, p)
        Block-diagonal state matrix of ``H``.
    b_h, c_h : ndarray, shape (p,)
        Input and output vectors of ``H``.

    Examples
    --------
    >>> import netcoh as nc
    >>> gh = nc.aggregate_dynamics(nc.nodal.swing([1.0, 2.0], [0.25, 0.5]))
    >>> gh.poly.tolist(), gh.order          # 1/g_hat = 3 s + 0.75: the centre of inertia
    ([3.0, 0.75], 1)
    >>> gh.num.tolist(), gh.den.tolist()    # as one fraction, monic denominator
    ([0.3333333333333333], [1.0, 0.25])
    """

    nodal: NodalDynamics
    poly: np.ndarray
    a_h: sp.csr_matrix
    b_h: np.ndarray
    c_h: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "poly", readonly(self.poly, float))
        object.__setattr__(self, "b_h", readonly(self.b_h, float))
        object.__setattr__(self, "c_h", readonly(self.c_h, float))

    def __call__(self, s) -> np.ndarray:
        """``g_hat(s) = 1 / sum_i (1/g_i(s))`` at complex points.

        Parameters
        ----------
        s : complex or array_like of complex, shape (k,)
            Laplace variable(s), e.g. ``1j * omega`` with ``omega`` in rad/s.

        Returns
        -------
        ndarray of complex, shape (k,)
            The aggregate at each point.

        Examples
        --------
        >>> import netcoh as nc
        >>> gh = nc.aggregate_dynamics(nc.nodal.swing([1.0, 2.0], [0.25, 0.5]))
        >>> gh([0.0, 1j]).round(4).tolist()       # 1/(3 s + 0.75)
        [(1.3333+0j), (0.0784-0.3137j)]
        """
        s = as_complex_points(s, "s")
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1.0 / np.sum(self.nodal.inverse(s), axis=1)

    # -- structure ----------------------------------------------------------------------
    @property
    def order(self) -> int:
        """Order of the aggregate: ``deg Pi`` plus the number of states of ``H``."""
        return int(self.poly.size - 1 + self.b_h.size)

    @cached_property
    def _first_order(self) -> bool:
        """``H`` is diagonal with real poles (every block first order)."""
        A = self.a_h
        return sp.triu(A, 1).nnz + sp.tril(A, -1).nnz == 0

    def inverse(self, s) -> np.ndarray:
        """``1/g_hat(s) = Pi(s) + H(s)`` evaluated from the structured model.

        Parameters
        ----------
        s : complex or array_like of complex, shape (k,)
            Laplace variable(s).

        Returns
        -------
        ndarray of complex, shape (k,)
            ``1/g_hat`` at each point (``inf`` at a pole of ``H``).

        Examples
        --------
        >>> import numpy as np, netcoh as nc
        >>> g = nc.nodal.swing_turbine(m=[1.0, 2.0], d=0.1, droop=[1.0, 2.0], tau=[2.0, 5.0])
        >>> gh = nc.aggregate_dynamics(g)
        >>> bool(np.allclose(gh.inverse([0.3j]), g.inverse(np.array([0.3j])).sum()))
        True
        """
        s = np.atleast_1d(np.asarray(s, dtype=complex))
        out = np.polyval(self.poly, s)
        if self.b_h.size == 0:
            return out
        if self._first_order:
            p = self.a_h.diagonal()
            w = self.c_h * self.b_h
            with np.errstate(divide="ignore", invalid="ignore"):
                for lo in range(0, s.size, 64):
                    blk = s[lo:lo + 64, None] - p[None, :]
                    out[lo:lo + 64] += (w[None, :] / blk).sum(axis=1)
            return out
        eye = sp.identity(self.b_h.size, dtype=complex, format="csc")
        A = self.a_h.tocsc().astype(complex)
        for k, sk in enumerate(s):
            out[k] += self.c_h @ sp.linalg.spsolve(sk * eye - A, self.b_h.astype(complex))
        return out

    @property
    def zeros(self) -> np.ndarray:
        """Zeros of ``g_hat`` (the poles of ``H``), ascending real part."""
        if self._first_order:
            z = np.array(self.a_h.diagonal(), dtype=complex)
        else:
            z = la.eigvals(self.a_h.toarray())
        return np.sort_complex(z)

    @property
    def dc_gain(self) -> float:
        """``g_hat(0)`` (``inf`` for an integrating aggregate, 0 where a node blocks DC)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            v = self(np.zeros(1))[0]
        return float(np.inf) if not np.isfinite(v) else float(np.real(v))

    # -- realisation ----------------------------------------------------------------------
    def realization(self, sparse: bool = False):
        """State-space ``(A, B, C, D)`` of ``g_hat``: ``H`` in feedback around ``Pi``.

        The first ``deg Pi`` states are the output and its derivatives, the rest are the
        states of ``H``; no polynomial is multiplied out.

        Parameters
        ----------
        sparse : bool, optional
            Return ``A`` as a :class:`scipy.sparse.csr_matrix` (order ``n`` aggregates of
            swing-turbine nodes have ``O(n)`` non-zeros) instead of a dense array.

        Returns
        -------
        A : ndarray or scipy.sparse.csr_matrix, shape (r, r)
            State matrix, ``r =`` :attr:`order`.
        B : ndarray, shape (r, 1)
            Input matrix (the aggregate's power input).
        C : ndarray, shape (1, r)
            Output matrix (the aggregate's frequency).
        D : ndarray, shape (1, 1)
            Feed-through (non-zero only for a static polynomial part).

        Examples
        --------
        >>> import numpy as np, netcoh as nc
        >>> gh = nc.aggregate_dynamics(nc.nodal.swing_turbine(m=[1.0, 2.0], d=0.1, droop=1.0,
        ...                                                   tau=[2.0, 5.0]))
        >>> A, B, C, D = gh.realization()
        >>> A.shape, bool(np.all(np.linalg.eigvals(A).real < 0))
        ((3, 3), True)
        """
        pi = self.poly[::-1]                   # pi[i] multiplies s**i
        k = pi.size - 1
        p = self.b_h.size
        a_h = self.a_h.tocsr()
        bh = sp.csr_matrix(self.b_h.reshape(-1, 1))
        ch = sp.csr_matrix(self.c_h.reshape(1, -1))
        if k == 0:                             # g_hat = (D + H)^{-1}: invert the feed-through
            d0 = pi[0]
            A = a_h - (bh @ ch) / d0
            B = self.b_h.reshape(-1, 1) / d0
            C = -self.c_h.reshape(1, -1) / d0
            D = np.array([[1.0 / d0]])
        else:
            top = sp.lil_matrix((k, k + p))
            for i in range(k - 1):
                top[i, i + 1] = 1.0
            top[k - 1, :k] = -pi[:k] / pi[k]
            top = top.tocsr()
            if p:
                top = top + sp.hstack([sp.csr_matrix((k, k)), sp.vstack(
                    [sp.csr_matrix((k - 1, p)), -ch / pi[k]])]).tocsr()
                low = sp.hstack([sp.csr_matrix((p, k)), a_h]).tolil()
                low[:, 0] = self.b_h.reshape(-1, 1)
                A = sp.vstack([top, low.tocsr()]).tocsr()
            else:
                A = top
            B = np.zeros((k + p, 1))
            B[k - 1, 0] = 1.0 / pi[k]
            C = np.zeros((1, k + p))
            C[0, 0] = 1.0
            D = np.zeros((1, 1))
        A = sp.csr_matrix(A)
        return (A if sparse else A.toarray()), np.asarray(B, float), np.asarray(C, float), D

    def to_ss(self):
        """The aggregate as a python-control :class:`control.StateSpace` (no polynomials).

        Returns
        -------
        control.StateSpace
            Single-input single-output model of :meth:`realization`.

        Examples
        --------
        >>> import netcoh as nc
        >>> g = nc.nodal.swing_turbine(m=[1.0, 2.0], d=0.1, droop=1.0, tau=[2.0, 5.0])
        >>> nc.aggregate_dynamics(g).to_ss().nstates
        3
        """
        import control

        return control.ss(*self.realization())

    # -- poles ----------------------------------------------------------------------------
    @cached_property
    def poles(self) -> np.ndarray:
        """Poles of ``g_hat`` (the zeros of ``Pi + H``), ascending real part.

        For machines with first-order turbines (positive gains, real negative turbine poles)
        ``Pi + H`` is a secular function whose roots interlace the turbine poles: they are found
        one per interval by safeguarded Newton iteration in ``O(order^2)`` work, the remaining
        pair from the trace and determinant and polished on ``Pi + H`` itself. Otherwise the
        eigenvalues of the (well-conditioned) realisation.
        """
        poles = self._secular_poles()
        if poles is None:
            poles = la.eigvals(self.realization()[0])
        return np.sort_complex(poles)

    def _secular_poles(self):
        if not self._first_order or self.poly.size != 2 or self.b_h.size < 2:
            return None
        m, d = self.poly
        w = self.c_h * self.b_h
        p = np.asarray(self.a_h.diagonal(), float)
        if m <= 0 or np.any(w <= 0) or np.any(p >= 0) or np.unique(p).size != p.size:
            return None
        order = np.argsort(p)
        p, w = p[order], w[order] / m
        c = d / m                                  # h(x) = x + c + sum w / (x - p)
        x = _interlaced_roots(p, w, c)
        if x is None:
            return None
        # the remaining two roots: trace and determinant of the arrow matrix, then Newton
        tr = -c + p.sum()
        s_rem = tr - x.sum()
        # det(A) = prod(p) (sum(w/p) - c); divided by the known roots it leaves their product
        q_rem = np.prod(p[:-1] / x) * p[-1] * (np.sum(w / p) - c)
        rest = np.roots([1.0, -s_rem, q_rem]).astype(complex)
        for _ in range(100):
            h, dh = _secular_eval(rest, p, w, c)
            step = h / dh
            rest = rest - step
            if np.all(np.abs(step) <= 8 * np.finfo(float).eps * np.maximum(np.abs(rest), 1.0)):
                break
        # the interlaced roots are certified by their brackets; the pair by its residual
        h, _ = _secular_eval(rest, p, w, c)
        scale = np.abs(rest) + abs(c) + _secular_scale(rest, p, w)
        if not np.all(np.abs(h) <= 1e-8 * scale) or np.min(np.abs(rest[:, None] - x[None, :]),
                                                           initial=np.inf) == 0:
            return None
        return np.concatenate([x.astype(complex), rest])

    # -- the polynomial fraction (on request) ------------------------------------------------
    @cached_property
    def _fraction(self):
        num, den = _polynomial_fraction(self.nodal)
        s = 1j * np.logspace(-3, 3, 25) * max(1.0, float(np.max(np.abs(self.zeros), initial=1.0)))
        with np.errstate(all="ignore"):
            exact = self(s)
            poly = np.polyval(num, s) / np.polyval(den, s)
            err = float(np.max(np.abs(poly - exact) / np.maximum(np.abs(exact), 1e-300)))
        return readonly(num, float), readonly(den, float), err

    def _warn_fraction(self):
        err = self._fraction[2]
        if not err <= POLY_RTOL:
            warnings.warn(
                f"the order-{self.order} aggregate as one polynomial fraction is inaccurate "
                f"(relative error {err:.1e} on the imaginary axis); use `realization()`, "
                "`to_ss()` or `poles`, which never multiply polynomials", AccuracyWarning,
                stacklevel=3)

    @property
    def num(self) -> np.ndarray:
        """Numerator of ``g_hat`` as one polynomial fraction (highest power first).

        Multiplies out the distinct numerators: warns with
        :class:`~netcoh.exceptions.AccuracyWarning` where that no longer reproduces ``g_hat``.
        """
        self._warn_fraction()
        return self._fraction[0]

    @property
    def den(self) -> np.ndarray:
        """Monic denominator of ``g_hat`` as one polynomial fraction (see :attr:`num`)."""
        self._warn_fraction()
        return self._fraction[1]

    def to_tf(self):
        """The aggregate as a python-control :class:`control.TransferFunction`.

        Built from :attr:`num` / :attr:`den` (warns where that fraction is inaccurate; prefer
        :meth:`to_ss` for aggregates of many distinct nodes).

        Returns
        -------
        control.TransferFunction
            ``num(s) / den(s)``.

        Examples
        --------
        >>> import netcoh as nc
        >>> tf = nc.aggregate_dynamics(nc.nodal.swing([1.0, 1.0], 0.5)).to_tf()
        >>> tf.num[0][0].tolist(), tf.den[0][0].tolist()      # 0.5 / (s + 0.5)
        ([0.5], [1.0, 0.5])
        """
        import control

        self._warn_fraction()
        return control.tf(self._fraction[0], self._fraction[1])


def _interlaced_roots(p, w, c, max_iter: int = 100):
    """The root of ``h(x) = x + c + sum_j w_j/(x - p_j)`` in each ``(p_j, p_j+1)``.

    ``w > 0`` and ``p`` ascending make ``h`` run from ``+inf`` to ``-inf`` on each interval.
    Each step keeps a bracket and solves the two-pole model
    ``alpha + w_j/(x - p_j) + w_j+1/(x - p_j+1)`` matched to ``h`` at the current point (exact
    when the other poles are far), with bisection as the fallback; the unknown is the offset
    ``t = x - p_j`` so roots close to a pole keep their relative accuracy.
    """
    eps = np.finfo(float).eps
    a, delta = p[:-1], np.diff(p)
    wa, wb = w[:-1], w[1:]
    lo, hi = np.zeros(a.size), delta.copy()
    t = delta * wa / (wa + wb)                    # the two-pole model's root with alpha = 0
    active = np.arange(a.size)
    for _ in range(max_iter):
        if active.size == 0:
            return a + t
        j = active
        h, s_lo, s_hi = _secular_offset(j, t[j], p, w, c)
        pos = h > 0
        lo[j[pos]] = t[j[pos]]
        hi[j[~pos]] = t[j[~pos]]
        # poles at or below p_j as one pole at p_j, the others as one at p_j+1, each matched in
        # value and slope (quadratic convergence; the linear term is taken as constant)
        sa = s_lo * t[j] ** 2
        sb = s_hi * (delta[j] - t[j]) ** 2
        alpha = h - sa / t[j] + sb / (delta[j] - t[j])
        B = sa + sb - alpha * delta[j]
        D = np.maximum(B * B + 4.0 * alpha * sa * delta[j], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = 2.0 * sa * delta[j] / (B + np.sqrt(D))
        bad = ~np.isfinite(new) | (new < lo[j]) | (new > hi[j])
        new[bad] = 0.5 * (lo[j][bad] + hi[j][bad])
        tol = 4 * eps * (np.abs(a[j]) + np.abs(new))
        done = (np.abs(new - t[j]) <= tol) | (hi[j] - lo[j] <= tol) | (h == 0)
        t[j] = new
        active = j[~done]
    return None


def _secular_offset(j, t, p, w, c, chunk: int = 32):
    """``h(p_j + t_j)`` and the slopes of its poles at or below ``p_j`` and above it.

    The differences ``p_j - p_i`` are formed before ``t`` is added (accuracy near a pole).
    Returns ``h``, ``sum_{i <= j} w_i / (x - p_i)^2`` and ``sum_{i > j} w_i / (x - p_i)^2``.
    Small chunks keep the work in cache.
    """
    h = np.empty(t.shape)
    s_lo = np.empty(t.shape)
    s_hi = np.empty(t.shape)
    for lo in range(0, t.size, chunk):
        jj, tt = j[lo:lo + chunk], t[lo:lo + chunk]
        inv = np.subtract.outer(p[jj], p)
        inv += tt[:, None]
        np.reciprocal(inv, out=inv)
        term = inv * w
        h[lo:lo + chunk] = p[jj] + tt + c + term.sum(axis=1)
        term *= inv
        np.cumsum(term, axis=1, out=term)
        s_lo[lo:lo + chunk] = term[np.arange(jj.size), jj]
        s_hi[lo:lo + chunk] = term[:, -1] - s_lo[lo:lo + chunk]
    return h, s_lo, s_hi


def _secular_eval(x, p, w, c, chunk: int = 2048):
    """``h(x) = x + c + sum_j w_j/(x - p_j)`` and ``h'(x)`` for many ``x`` (chunked)."""
    x = np.asarray(x)
    h = np.empty(x.shape, dtype=x.dtype)
    dh = np.empty(x.shape, dtype=x.dtype)
    for lo in range(0, x.size, chunk):
        inv = 1.0 / (x[lo:lo + chunk, None] - p[None, :])
        t = inv * w[None, :]
        h[lo:lo + chunk] = x[lo:lo + chunk] + c + t.sum(axis=1)
        dh[lo:lo + chunk] = 1.0 - (t * inv).sum(axis=1)
    return h, dh


def _secular_scale(x, p, w, chunk: int = 2048):
    out = np.empty(x.shape)
    for lo in range(0, x.size, chunk):
        out[lo:lo + chunk] = np.abs(w[None, :] / (x[lo:lo + chunk, None] - p[None, :])).sum(axis=1)
    return out


def _groups(nd: NodalDynamics):
    """Nodes grouped by numerator up to scale: ``1/g_hat = sum_j P_j / q_j``."""
    num, den = nd.num, nd.den
    nz = num != 0
    if not np.all(nz.any(axis=1)):
        i = int(np.flatnonzero(~nz.any(axis=1))[0])
        raise InputError(f"node {i} has g_i = 0 identically; the aggregate is undefined")
    c = num[np.arange(nd.n), nz.argmax(axis=1)]          # leading coefficient of each numerator
    q = num / c[:, None]
    # equal numerators up to ~12 significant digits share a group
    with np.errstate(divide="ignore"):
        mag = 10.0 ** np.floor(np.log10(np.where(q != 0, np.abs(q), 1.0)))
    _, first, group = np.unique(np.round(q / mag, 11) * mag, axis=0, return_index=True,
                                return_inverse=True)
    P = np.zeros((first.size, den.shape[1]))
    np.add.at(P, group.ravel(), den / c[:, None])
    return [(_trim(q[i]), _trim(P[j])) for j, i in enumerate(first)]


def _polynomial_fraction(nd: NodalDynamics):
    """``g_hat = prod q_j / sum_j P_j prod_{l != j} q_l`` (ill-conditioned for many groups)."""
    groups = _groups(nd)
    num_total = np.ones(1)
    for _q, _ in groups:
        num_total = np.polymul(num_total, _q)
    den_total = np.zeros(1)
    for j, (_, pj) in enumerate(groups):
        term = pj
        for l, (ql, _) in enumerate(groups):
            if l != j:
                term = np.polymul(term, ql)
        den_total = np.polyadd(den_total, term)
    num_total, den_total = _trim(num_total), _trim(den_total)
    scale = den_total[0]
    return num_total / scale, den_total / scale


def aggregate_dynamics(system) -> AggregateDynamics:
    """Harmonic-mean aggregate ``g_hat(s) = (sum_i 1/g_i(s))^{-1}``.

    For swing nodes this is the centre-of-inertia model ``1/(sum(m) s + sum(d))``; swing-turbine
    nodes give order ``1 +`` the number of distinct turbine time constants, held in a
    well-conditioned feedback form (see :class:`AggregateDynamics`) for any number of them.

    Parameters
    ----------
    system : NetworkSystem or NodalDynamics
        The network (its nodal dynamics are aggregated) or the nodes themselves.

    Returns
    -------
    AggregateDynamics
        The aggregate: callable on complex points, with poles, zeros, DC gain, a state-space
        realisation and python-control export.

    Examples
    --------
    >>> import netcoh as nc
    >>> g = nc.nodal.swing_turbine(m=[1.0, 1.0, 2.0], d=0.1, droop=1.0, tau=[5.0, 5.0, 2.0])
    >>> nc.aggregate_dynamics(g).order          # 1 + two distinct time constants
    3
    """
    if isinstance(system, NetworkSystem):
        nd = system.nodal
    elif isinstance(system, NodalDynamics):
        nd = system
    else:
        raise NetcohTypeError(
            f"`system` must be a NetworkSystem or NodalDynamics, got {type(system).__name__}")
    poly = np.zeros(1)
    blocks = []                                    # (A, b, c) of each strictly proper part
    for q, P in _groups(nd):
        q = q / q[0]                               # monic
        quo, rem = np.polydiv(P, q) if q.size > 1 else (P / q[0], np.zeros(1))
        poly = np.polyadd(poly, quo)
        rem = _trim(rem)
        if q.size > 1 and np.any(rem != 0):
            r = q.size - 1                         # controllable canonical form of rem / q
            A = np.zeros((r, r))
            A[0, :] = -q[1:]
            A[1:, :-1] += np.eye(r - 1)
            b = np.zeros(r)
            b[0] = 1.0
            cvec = np.zeros(r)
            cvec[r - rem.size:] = rem
            blocks.append((A, b, cvec))
    poly = _trim(poly)
    if poly.size == 1 and poly[0] == 0:
        raise InputError("the aggregate is improper: every 1/g_i(s) is strictly proper, so "
                         "g_hat(s) grows without bound; give proper nodes with a direct "
                         "(static or inertial) part")
    if blocks:
        a_h = sp.block_diag([b[0] for b in blocks], format="csr")
        b_h = np.concatenate([b[1] for b in blocks])
        c_h = np.concatenate([b[2] for b in blocks])
    else:
        a_h, b_h, c_h = sp.csr_matrix((0, 0)), np.zeros(0), np.zeros(0)
    if not np.all(np.isfinite(poly)) or not np.all(np.isfinite(c_h)):
        raise SolverError("the aggregate has non-finite coefficients")
    return AggregateDynamics(nd, poly, a_h, b_h, c_h)
