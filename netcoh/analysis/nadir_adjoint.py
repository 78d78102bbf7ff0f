"""Rows of the step-response matrix by sparse Taylor propagation of the adjoint system.

Row ``i`` of ``S(t) = D + C A^{-1}(e^{At} - I) B`` is
``r_i(t) = D^T e_i + int_0^t B^T z(tau) dtau`` with ``z' = A^T z``, ``z(0) = C^T e_i``:
:class:`AdjointRows` carries blocks of buses together (a dense ``N x b`` block times the
sparse ``A^T``) through truncated Taylor steps, and bounds the derivatives of the rows'
values on every step from the same Taylor terms (:func:`interval_bound`). Used by
:mod:`.nadir_timedomain`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg.blas import daxpy

from .time import _balance, _taylor_plan

__all__ = ["AdjointRows", "interval_bound", "pair_bound"]

class AdjointRows:
    """Rows of the step-response matrix ``S(t) M`` by sparse propagation of the adjoint.

    Parameters
    ----------
    system : NetworkSystem
        The network.
    M : ndarray (n, r), optional
        Input map: rows of ``S(t) M`` (default the identity, ``r = n``).
    value : callable
        ``value(rows) -> (k,)``: the sublinear functional ``sup_u |row . u|`` of the
        disturbance set (``dset.value``), used for ``F`` and its derivative bounds.
    unit_sup : float
        ``sup_u ||u||_inf`` over the set, so that ``value(x) <= unit_sup ||x||_1`` (bounds
        the neglected Taylor terms).
    colvalue : callable, optional
        ``colvalue(X)`` = ``value(X.T)`` for rows stored as columns (r, b), when a faster
        form exists (a 2-norm ball: ``rho`` times the column norms).
    cheap : bool
        Whether ``value`` is cheap enough for every Taylor term's derivative bound (False
        for sets solved by linear programs: the bounds then use ``unit_sup ||x||_1``).
    ball2 : float, optional
        The radius ``rho`` when the set is a 2-norm ball (``value`` is then ``rho`` times
        the 2-norm): ``F`` and the Taylor-term bounds use weighted column norms of the
        propagated block directly, without scaled copies.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir_sets import NormBall
    >>> nodal = nc.nodal.swing_turbine([1.0, 2.0, 3.0], 1.0, 2.0, 5.0)
    >>> sys = nc.NetworkSystem.from_laplacian(10 * nc.laplacian.complete(3), nodal=nodal)
    >>> rows = AdjointRows(sys, value=NormBall(1.0, 2).value, unit_sup=1.0)
    >>> Z, R = rows.start([0, 2])
    >>> Z, R = rows.advance(Z, R, 0.5)
    >>> S = nc.step_response(sys, np.eye(3)[0], [0.5]).outputs[0]  # column 0 of S(0.5)
    >>> bool(np.allclose(R[:, 0], S, atol=1e-12))     # row 0 = column 0: S is symmetric here
    True
    """

    def __init__(self, system, M=None, *, value, unit_sup: float, colvalue=None,
                 cheap: bool = True, ball2: float | None = None):
        A, B, C, D = system._build_realization(grounded=False)
        At = sp.csr_matrix(A.T, dtype=float)
        sc = _balance(At) if At.shape[0] else np.ones(0)
        At = (sp.diags(1.0 / sc) @ At @ sp.diags(sc)).tocsr()
        Bt = sp.csr_matrix(B.T, dtype=float)
        Dm = D.toarray()
        if M is not None:
            M = np.asarray(M, dtype=float)
            Bt = sp.csr_matrix(M.T @ Bt)
            Dm = Dm @ M
        Bt = (Bt @ sp.diags(sc)).tocsr()                     # (r, N)
        Z0 = (sp.diags(1.0 / sc) @ sp.csr_matrix(C.T, dtype=float)).tocsr()   # (N, n)
        # B^T usually picks one state per input (the swing equation): order those states
        # first, so that B^T v is a scaled leading block of v (no product, no copy)
        N, r = At.shape[0], Bt.shape[0]
        cols = Bt.indices
        self._coef = None
        if r and np.all(np.diff(Bt.indptr) == 1) and np.unique(cols).size == r:
            perm = np.concatenate([cols, np.setdiff1d(np.arange(N), cols)])
            At = At[perm][:, perm].tocsr()
            Z0 = Z0[perm]
            self._coef = Bt.data[:, None].copy()
            Bt = Bt[:, perm].tocsr()
        self.A, self.Bt, self.Z0 = At, Bt, Z0.tocsc()
        self.D = Dm                                           # (n, r): rows of S(0)
        self.value = value
        usup = float(unit_sup)
        if ball2 is not None:
            rho = float(ball2)

            def colvalue(X):
                return rho * np.sqrt(np.einsum("ij,ij->j", X, X))

        self.colvalue = colvalue if colvalue is not None else (lambda X: value(X.T))
        # the derivative bounds only need upper bounds of the functional: a set whose
        # functional is costly (linear programs) uses value(x) <= sup ||u||_inf ||x||_1
        self.termvalue = self.colvalue if cheap else (lambda X: usup * np.abs(X).sum(axis=0))
        # the value of a Taylor term from its leading rows (B^T v up to coef)
        if ball2 is not None and self._coef is not None:
            w = self._coef[:, 0] ** 2

            def leadvalue(o):
                return rho * np.sqrt(w @ (o * o))
            self._leadvalue = leadvalue
        else:
            self._leadvalue = lambda o: self.termvalue(self._true(o))
        self.N, self.r = N, r
        self.norm1 = float(spla.norm(self.A, 1)) if N else 0.0
        self.alpha = self.norm1
        if N:
            P, d = self.A, []
            for p in range(2, 6):               # d_4 and d_5 from exact sparse powers
                P = (P @ self.A).tocsr()
                if p >= 4:
                    d.append(float(spla.norm(P, 1)) ** (1.0 / p))
            self.alpha = min(self.norm1, max(d))
        bcol = np.asarray(abs(self.Bt).sum(axis=0)).ravel()
        self.tail_gain = float(unit_sup) * (float(bcol.max()) if bcol.size else 0.0)
        self._scaled_cache: dict[float, sp.csr_matrix] = {}

    def _scaled(self, delta: float):
        """``delta A`` (cached: the grid and the bisection use a few step lengths)."""
        out = self._scaled_cache.get(delta)
        if out is None:
            if len(self._scaled_cache) > 16:
                self._scaled_cache.clear()
            out = self._scaled_cache[delta] = (self.A * delta).tocsr()
        return out

    def _lead(self, v):
        """``B^T v`` up to the row scaling ``coef`` (a view of ``v`` when B^T picks states)."""
        return v[: self.r] if self._coef is not None else self.Bt @ v

    def _true(self, o):
        return o * self._coef if self._coef is not None else o

    def start(self, buses):
        """``(Z, R)`` at ``t = 0`` for ``buses``: adjoint states (N, b) and rows (r, b)."""
        buses = np.asarray(buses, dtype=int)
        return self.Z0[:, buses].toarray(), np.ascontiguousarray(self.D[buses].T)

    def F(self, R):
        """``F`` of rows stored as columns (r, b)."""
        return self.colvalue(R)

    def _plan(self, h: float):
        """Degree and sub-steps of the Taylor steps covering ``h``.

        Al-Mohy and Higham (2011, Theorem 4.2) allow ``alpha_4 = max(d_4, d_5)``,
        ``d_p = ||A^p||_1^(1/p)``, in place of ``||A||_1`` for degrees ``m >= 11``: the
        plan then follows the spectral radius more closely (about two thirds of the norm
        for swing networks), with the same backward error.
        """
        m, s = _taylor_plan(self.alpha * h)
        if m < 11:
            m, s = _taylor_plan(self.norm1 * h)
        return m, s

    def advance(self, Z, R, h: float, bounds: bool = False):
        """``(Z, R)`` advanced by ``h``; with ``bounds`` also the derivative bounds.

        With ``bounds`` returns ``(Z, R, Fs, K1, K2, delta)``: ``Fs`` (s+1, b) the values
        at the ``s`` sub-step ends (first row: the start), ``K1``, ``K2`` (s, b) bounds of
        ``||r'||_D`` and ``||r''||_D`` on each sub-step, ``delta`` its length.
        """
        b = Z.shape[1]
        if h <= 0:
            return (Z, R) if not bounds else (Z, R, self.F(R)[None], np.zeros((0, b)),
                                              np.zeros((0, b)), 0.0)
        m, s = self._plan(h)
        delta = h / s
        Ad = self._scaled(delta)
        if bounds:
            Fs = [self.F(R)]
            K1s, K2s = [], []
        q = self.norm1 * delta / (m + 1)
        lead = self._coef is not None
        for _ in range(s):
            # u_k = (delta A)^k z; the Taylor terms are v_k = u_k / k!
            u = np.ascontiguousarray(Z)
            acc = u.copy()
            o = self._lead(u)
            W = o * delta                        # int_0^delta B^T e^{tau A} z dtau, lead rows
            if bounds:
                k1 = self._leadvalue(o)
                k2 = np.zeros_like(k1)
            fact = 1.0
            for k in range(1, m + 1):
                u = Ad @ u
                fact /= k
                daxpy(u.ravel(), acc.ravel(), a=fact)
                o = self._lead(u)
                c = delta * fact / (k + 1)
                if lead:
                    daxpy(o.ravel(), W.ravel(), a=c)
                else:
                    W += c * o
                if bounds:
                    vk = self._leadvalue(o) * fact
                    k1 += vk
                    k2 += vk * (k / delta)
            Z = acc
            R = R + self._true(W)
            if bounds:
                # neglected terms j > m: ||v_j||_1 <= ||v_m||_1 q^(j-m), value <= tail_gain ||.||_1
                t = self.tail_gain * np.abs(u).sum(axis=0) * fact
                g = q / (1.0 - q) if q < 1 else np.inf
                k1 += t * g
                k2 += t * (m * g + g / (1.0 - q)) / delta
                Fs.append(self.F(R))
                K1s.append(k1)
                K2s.append(k2)
        if not bounds:
            return Z, R
        return Z, R, np.array(Fs), np.array(K1s), np.array(K2s), delta


    def pieces(self, z, r, h: float):
        """Piecewise Taylor polynomials of one row on ``[0, h]`` from its state ``(z, r)``.

        Returns ``(delta, R0, C)``: on the ``j``-th sub-step ``[j delta, (j+1) delta]`` the
        row is ``R0[j] + sum_k C[j, k] theta^(k+1)``, ``theta = (tau - j delta) / delta``:
        the same truncated series as :meth:`advance` (at ``theta = 1`` it is the sub-step
        end), so evaluating a row anywhere in the interval costs no sparse products.
        """
        m, s = self._plan(h)
        delta = h / s
        Ad = self._scaled(delta)
        R0 = np.empty((s, self.r))
        C = np.empty((s, m + 1, self.r))
        z = np.asarray(z, dtype=float)
        r = np.asarray(r, dtype=float)
        for j in range(s):
            u = z
            acc = u.copy()
            R0[j] = r
            C[j, 0] = self._true(self._lead(u[:, None]))[:, 0] * delta
            fact = 1.0
            for k in range(1, m + 1):
                u = Ad @ u
                fact /= k
                acc += fact * u
                C[j, k] = self._true(self._lead(u[:, None]))[:, 0] * (delta * fact / (k + 1))
            z = acc
            r = r + C[j].sum(axis=0)
        return delta, R0, C

    @staticmethod
    def at(pieces, tau: float):
        """The row at ``tau`` from :meth:`pieces` (Horner's rule on its sub-step)."""
        delta, R0, C = pieces
        j = int(min(max(tau, 0.0) // delta, R0.shape[0] - 1)) if delta > 0 else 0
        theta = (tau - j * delta) / delta if delta > 0 else 0.0
        acc = np.zeros(R0.shape[1])
        for ck in C[j][::-1]:
            acc = (acc + ck) * theta
        return R0[j] + acc


def interval_bound(Fs, K1, K2, delta):
    """Upper bound of ``F`` on each column's interval from sub-step samples and bounds.

    ``Fs`` (s+1, b) are the values at the sub-step ends, ``K1``, ``K2`` (s, b) bounds of
    ``|F'|`` and ``|F''|`` on each sub-step of length ``delta`` (as returned by
    :meth:`AdjointRows.advance`); the bound per sub-step is the smaller of the
    first-order (slope) and second-order (curvature) bounds between its two samples.

    Examples
    --------
    >>> import numpy as np
    >>> ub = interval_bound(np.array([[1.0], [1.0]]), np.array([[2.0]]), np.array([[8.0]]), 0.5)
    >>> bool(np.isclose(ub[0], 1.25))
    True
    """
    return pair_bound(Fs[:-1], Fs[1:], K1, K2, delta).max(axis=0)


def pair_bound(Fa, Fb, K1, K2, delta):
    """Upper bound of ``F`` on intervals of length ``delta``, element by element, from its
    values ``Fa``, ``Fb`` at the ends and bounds ``K1`` of ``|F'|`` and ``K2`` of the
    rows' second derivative: the smaller of the slope bound ``(Fa + Fb)/2 + K1 delta/2``
    and the curvature bound ``max(Fa, Fb) + K2 delta^2/8`` (``F`` a norm of the rows).

    Examples
    --------
    >>> float(pair_bound(1.0, 1.0, 2.0, 8.0, 0.5)) == 1.25 * (1 + 1e-12)
    True
    """
    return np.minimum(0.5 * (Fa + Fb) + 0.5 * K1 * delta,
                      np.maximum(Fa, Fb) + K2 * delta * delta / 8) * (1.0 + 1e-12)
