"""Worst-case nadir over a finite window by sparse time propagation (no eigenproblem).

The modal search of :mod:`.nadir_search` needs one eigendecomposition of the grounded
realisation, ``O(N^3)`` for ``N`` states: minutes at a few thousand non-proportional
machines, out of memory at ten thousand. Over a finite window the rows of the
step-response matrix

``S(t) = D + C A^{-1}(e^{At} - I) B``

follow from the adjoint system with sparse products only: row ``i`` is
``r_i(t) = D^T e_i + int_0^t B^T z(tau) dtau`` with ``z' = A^T z``, ``z(0) = C^T e_i``.
Blocks of buses are carried together (a dense ``N x b`` block times the sparse ``A^T``)
through truncated Taylor steps whose degree and number follow Al-Mohy and Higham (the
plan of :func:`~netcoh.analysis.time.simulate_lti`), on the realisation that keeps
every node's coupling state (as sparse as the network; its consensus mode is not seen at
the outputs) balanced by a diagonal similarity.

The same Taylor terms bound the derivatives of ``r_i`` on every step: with
``v_k = (delta A^T)^k z / k!``,

``sup_[a, a+delta] ||r_i'||_D <= sum_k ||B^T v_k||_D``,
``sup_[a, a+delta] ||r_i''||_D <= sum_k k ||B^T v_k||_D / delta``,

with the neglected terms bounded through ``||A||_1`` (a geometric tail). These bound
``F_i(t) = sup_u |r_i(t) . u|`` between samples exactly as the modal derivative bounds
do, so the search (grid table, Brent refinement of the best buses, bisection of every
interval that could still beat the best) is certified in continuous time as the modal one.
"""

from __future__ import annotations

import os
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg.blas import daxpy
from scipy.optimize import minimize_scalar

from .._util import readonly
from .._validation import as_int
from ..exceptions import AccuracyWarning, InputError
from ..network.system import check_stable, sparse_lu
from .nadir_modes import proportional_factors
from .nadir_result import NadirResult, SearchTables, bus_summary
from .nadir_search import time_grid
from .nadir_sets import BudgetBox, FixedStep, NormBall, SingleInfeedLoss
from .time import _balance, _taylor_plan, simulate_lti

__all__ = ["AdjointRows", "timedomain_search", "timedomain_nadir", "prefer_timedomain",
           "check_stable_sparse", "AUTO_MIN_STATES", "DENSE_STABILITY_STATES"]

#: largest realisation whose stability :func:`check_stable_sparse` tests by dense
#: eigenvalues when the passivity certificate does not apply (sparse ones above it)
DENSE_STABILITY_STATES = 4000


def _rightmost_eigenvalues(A, k: int = 12):
    """The eigenvalues of sparse ``A`` with the largest Cayley modulus (the rightmost ones).

    The Cayley transform ``C = (A - sigma I)^{-1} (A + sigma I)``, ``sigma > 0``, maps the
    open right half-plane outside the unit circle and the left one inside, and its
    eigenvalues of largest modulus are those of ``A`` that lie furthest right relative
    to their distance from ``sigma``: ARPACK finds them from one sparse LU of
    ``A - sigma I``. Returns the eigenvalues of ``A`` (``lambda = sigma (c + 1) / (c - 1)``)
    and whether ARPACK converged.
    """
    N = A.shape[0]
    A = sp.csc_matrix(A, dtype=float)
    # sigma a fraction of the spectral radius (||A^4||^(1/4) of the balanced matrix): the
    # ordering by Cayley modulus then follows the real parts of the oscillatory modes
    sc = _balance(A)
    Ab = (sp.diags(1.0 / sc) @ A @ sp.diags(sc)).tocsr()
    P = Ab @ Ab
    sigma = 0.4 * float(spla.norm(P @ P, 1)) ** 0.25
    if not sigma > 0:
        sigma = 1.0
    solve = sparse_lu((A - sigma * sp.identity(N, format="csc")).tocsc()).solve

    def cayley(x):
        return x + 2.0 * sigma * solve(x)

    op = spla.LinearOperator((N, N), matvec=cayley, dtype=float)
    k = int(min(k, N - 2))
    try:
        c = spla.eigs(op, k=k, which="LM", tol=1e-10, maxiter=max(20 * N, 1000),
                      return_eigenvectors=False)
        ok = True
    except spla.ArpackNoConvergence as exc:
        c, ok = exc.eigenvalues, False
    c = np.asarray(c, dtype=complex)
    c = c[np.abs(c - 1.0) > 1e-14]            # lambda = infinity cannot be a growing mode
    return sigma * (c + 1.0) / (c - 1.0), ok


def check_stable_sparse(system) -> None:
    """Raise :class:`~netcoh.exceptions.UnstableError` unless the network is asymptotically stable.

    As :func:`~netcoh.network.system.check_stable` (the passivity certificate for
    passive nodes on a positive semidefinite Laplacian, else the eigenvalues of the
    grounded realisation), but without a dense eigenproblem above
    :data:`DENSE_STABILITY_STATES` states: the rightmost eigenvalues then come from
    ARPACK on the Cayley transform of the sparse state matrix (one sparse LU). If ARPACK
    does not converge an :class:`~netcoh.exceptions.AccuracyWarning` says that the
    stability could not be verified.

    Parameters
    ----------
    system : NetworkSystem
        The network.

    Examples
    --------
    >>> import netcoh as nc
    >>> L = 10 * nc.laplacian.complete(3)
    >>> check_stable_sparse(nc.NetworkSystem.from_laplacian(
    ...     L, nodal=nc.nodal.swing_turbine([1.0, 2.0, 3.0], 1.0, 2.0, 5.0)))
    >>> bad = nc.nodal.from_tf(num=[[5.0, 1.0]] * 3, den=[[10.0, -3.0, 1.0]] * 3)  # d < 0
    >>> try:
    ...     check_stable_sparse(nc.NetworkSystem.from_laplacian(L, nodal=bad))
    ... except nc.UnstableError:
    ...     print("unstable")
    unstable
    """
    try:
        check_stable(system, dense_limit=DENSE_STABILITY_STATES)
        return
    except InputError:                  # not certified and too large for dense eigenvalues
        pass
    mu, ok = _rightmost_eigenvalues(system.realization().A)
    check_stable(system, eigenvalues=mu)
    if not ok:
        warnings.warn("the stability of the network could not be verified (the sparse "
                      "eigenvalue iteration did not converge): the finite-window nadir is "
                      "returned as computed", AccuracyWarning, stacklevel=3)


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


def _interval_bound(Fs, K1, K2, delta):
    """Upper bound of ``F`` on each column's interval from sub-step samples and bounds."""
    Fa, Fb = Fs[:-1], Fs[1:]
    ub = np.minimum(0.5 * (Fa + Fb) + 0.5 * K1 * delta,
                    np.maximum(Fa, Fb) + K2 * delta * delta / 8)
    return ub.max(axis=0) * (1.0 + 1e-12)


def _halves(rows, Z, R, half: float, chunk: int):
    """Bisect intervals of length ``2 half`` from their states ``(Z, R)``: the midpoint
    states and values and the bounds of ``F`` on both halves, ``chunk`` columns at a time
    (sparse products with a few dozen columns run fastest)."""
    out = []
    for a in range(0, Z.shape[1], chunk):
        Zm, Rm, FsL, K1L, K2L, dL = rows.advance(Z[:, a:a + chunk], R[:, a:a + chunk], half,
                                                 bounds=True)
        _, _, FsR, K1R, K2R, dR = rows.advance(Zm, Rm, half, bounds=True)
        out.append((Zm, Rm, FsL[-1], _interval_bound(FsL, K1L, K2L, dL),
                    _interval_bound(FsR, K1R, K2R, dR)))
    if len(out) == 1:
        return out[0]
    return tuple(np.concatenate(parts, axis=-1) for parts in zip(*out))


def timedomain_search(rows: AdjointRows, n: int, t: np.ndarray, rtol: float, n_refine: int,
                      block: int | None = None, max_rounds: int = 60,
                      max_open: int | None = None, workers: int | None = None):
    """Supremum of ``F`` over buses and ``[t[0], t[-1]]``, certified, by propagation.

    Parameters
    ----------
    rows : AdjointRows
        The propagator of the rows of ``S(t)`` and the disturbance set's functional.
    n : int
        Number of buses.
    t : ndarray (T,)
        Grid, ``t[0] = 0``, uniform.
    rtol : float
        Relative tolerance of the refinement and the certificate.
    n_refine : int
        Best buses of each block whose grid maximum is refined by Brent's method.
    block : int, optional
        Buses propagated together (default 64, fewer when the grid states of a block
        would pass about 640 MB): sparse products with a few dozen columns run fastest.
    max_rounds, max_open : int
        Limits of the interval bisection (rounds, and intervals open at once: default
        what keeps their states within about 1.6 GB); beyond them the result is reported
        uncertified with the bound reached.
    workers : int, optional
        Threads propagating blocks concurrently (the sparse products release the GIL);
        default the number of CPUs, at most 8. The refinement and the certificate run
        block after block in a fixed order, so the result does not depend on it.

    Returns
    -------
    tuple
        ``(F, grid_value, value, bus, time, upper)``: the whole grid table (n, T), its
        maximum, the refined supremum with its bus and time, and the certified upper bound.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir_sets import NormBall
    >>> nodal = nc.nodal.swing_turbine([1.0, 2.0, 3.0], 1.0, 2.0, 5.0)
    >>> sys = nc.NetworkSystem.from_laplacian(10 * nc.laplacian.complete(3), nodal=nodal)
    >>> rows = AdjointRows(sys, value=NormBall(0.5, 2).value, unit_sup=0.5)
    >>> F, grid, value, bus, time, upper = timedomain_search(
    ...     rows, 3, np.linspace(0.0, 1.0, 11), 1e-6, 2)
    >>> bool(grid <= value <= upper <= value * (1 + 1e-6)), bus
    (True, 2)
    """
    n_refine = as_int(n_refine, "n_refine", minimum=1)
    T = t.size
    if T < 2:
        raise InputError(f"`t` must hold at least two times, got {T}")
    h = float(t[1] - t[0])
    N = max(rows.N, 1)
    if block is None:
        block = int(np.clip(8e7 // (N * (T + 4)), 8, 64))
    if max_open is None:
        max_open = int(max(1000, 2e8 // N))
    # likely worst buses first (largest initial slope ||r_i'(0)||: the lightest machines),
    # so that the best value is known early and later blocks close their intervals fast
    slope = np.empty(n)
    for a in range(0, n, 512):
        cols = np.arange(a, min(n, a + 512))
        slope[cols] = rows.termvalue(sp.csr_matrix(rows.Bt @ rows.Z0[:, cols]).toarray())
    order = np.argsort(-slope, kind="stable")
    F = np.empty((n, T))
    best = [-np.inf, 0, 0.0]            # value, bus, time
    open_ub = []

    def brent(i, z, r, a, b):
        """Best ``(time, F)`` of bus ``i`` on ``[a, b]`` from its state ``(z, r)`` at ``a``:
        Brent's method on the row's piecewise Taylor polynomials (no sparse products)."""
        fa = float(rows.F(r[:, None])[0])
        if b <= a:
            return a, fa
        pcs = rows.pieces(z, r, b - a)

        def evaluate(x):
            return float(rows.F(rows.at(pcs, x - a)[:, None])[0])

        res = minimize_scalar(lambda x: -evaluate(x), bounds=(a, b), method="bounded",
                              options={"xatol": 1e-10 * max(1.0, b)})
        tt, v = float(res.x), float(-res.fun)
        for x, vx in ((a, fa), (b, evaluate(b))):
            if vx > v:
                tt, v = x, vx
        return tt, v

    def offer(v, i, tt):
        if v > best[0]:
            best[:] = [v, int(i), float(tt)]

    def grid_pass(bus):
        """Grid values, interval bounds and grid states of one block (independent of the
        best value, so blocks run concurrently and the answer does not depend on it)."""
        Z, R = rows.start(bus)
        Zs, Rs = [Z], [R]
        Fb = np.empty((bus.size, T))
        Fb[:, 0] = rows.F(R)
        ub = np.empty((bus.size, T - 1))
        for k in range(T - 1):
            Z, R, Fs, K1, K2, d = rows.advance(Z, R, h, bounds=True)
            Fb[:, k + 1] = Fs[-1]
            ub[:, k] = _interval_bound(Fs, K1, K2, d)
            Zs.append(Z)
            Rs.append(R)
        return bus, Fb, ub, Zs, Rs

    blocks = [order[a0:a0 + block] for a0 in range(0, n, block)]
    workers = int(min(len(blocks), workers if workers else min(8, os.cpu_count() or 1)))
    pool = ThreadPoolExecutor(workers) if workers > 1 else None
    pending = deque()

    def submit(j):
        if j < len(blocks):
            pending.append(pool.submit(grid_pass, blocks[j]) if pool else blocks[j])

    try:
        for j in range(max(workers, 1)):
            submit(j)
        nxt = max(workers, 1)
        # the refinement runs block after block in a fixed order, so the answer is the same
        # for any number of workers
        while pending:
            item = pending.popleft()
            bus, Fb, ub, Zs, Rs = item.result() if pool else grid_pass(item)
            submit(nxt)
            nxt += 1
            F[bus] = Fb
            jmax = np.argmax(Fb, axis=1)
            gmax = Fb[np.arange(bus.size), jmax]
            top = np.argsort(-gmax, kind="stable")[:n_refine]
            if gmax[top[0]] > best[0]:
                offer(gmax[top[0]], bus[top[0]], t[jmax[top[0]]])
            for p in top:
                if ub[p].max() <= best[0] * (1 + rtol):
                    continue
                j = jmax[p]
                lo, hi = max(j - 1, 0), min(j + 1, T - 1)
                tt, v = brent(bus[p], Zs[lo][:, p], Rs[lo][:, p], t[lo], t[hi])
                offer(v, bus[p], tt)
            # certification: bisect every interval that could still beat the best
            pi, pk = np.nonzero(ub > best[0] + rtol * abs(best[0]))
            if pi.size == 0:
                continue
            Zo = np.stack([Zs[k][:, p] for p, k in zip(pi, pk)], axis=1)
            Ro = np.stack([Rs[k][:, p] for p, k in zip(pi, pk)], axis=1)
            del Zs, Rs
            ob, oa = bus[pi], t[pk]
            ouo = ub[pi, pk]
            width = h
            rounds = 0
            while ob.size and rounds < max_rounds and ob.size <= max_open:
                rounds += 1
                half = 0.5 * width
                Zm, Rm, Fm, uL, uR = _halves(rows, Zo, Ro, half, block)
                k = int(np.argmax(Fm))
                if Fm[k] > best[0]:
                    tt, v = brent(ob[k], Zo[:, k], Ro[:, k], oa[k], oa[k] + width)
                    if Fm[k] > v:
                        tt, v = oa[k] + half, float(Fm[k])
                    offer(v, ob[k], tt)
                lim = best[0] + rtol * abs(best[0])
                kL, kR = uL > lim, uR > lim
                ob = np.concatenate([ob[kL], ob[kR]])
                ouo = np.concatenate([uL[kL], uR[kR]])
                Zo = np.concatenate([Zo[:, kL], Zm[:, kR]], axis=1)
                Ro = np.concatenate([Ro[:, kL], Rm[:, kR]], axis=1)
                oa = np.concatenate([oa[kL], oa[kR] + half])
                width = half
            if ob.size:
                open_ub.append(float(ouo.max()))
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    grid_value = float(F.max())
    value, bus_i, time = best
    if grid_value > value:              # cannot happen (the grid is searched), kept honest
        i, j = np.unravel_index(int(np.argmax(F)), F.shape)
        value, bus_i, time = grid_value, int(i), float(t[j])
    upper = max([value] + open_ub)
    return F, grid_value, float(value), int(bus_i), float(time), float(upper)


#: ``method="auto"`` takes the time-domain search from this many states (with a horizon)
AUTO_MIN_STATES = 1500

_METHODS = ("auto", "modal", "chebyshev", "statespace", "timedomain")


def prefer_timedomain(system, method: str, horizon, dset=None) -> bool:
    """Whether :func:`~netcoh.analysis.nadir.worst_case_nadir` takes the time-domain search.

    ``method="timedomain"`` forces it (a finite ``horizon`` is required). ``"auto"`` takes
    it for networks that are not proportional (no closed form) with a finite ``horizon``,
    at least :data:`AUTO_MIN_STATES` states and ``n >= 2 ||A||_1 horizon`` (``A`` the
    balanced sparse realisation): propagating ``n`` rows costs about ``n^2 ||A|| H``
    sparse operations against ``(3n)^3`` for the eigenproblem, and measured on
    swing-turbine networks the propagation is the faster from ``n ~ 2 ||A||_1 H``
    (about 150 machines for a 1 s window). A given step (one input direction) stays on
    the modal search, whose single column of ``S(t)`` costs no more than its bounds.

    Parameters
    ----------
    system : NetworkSystem
        The network.
    method : {"auto", "modal", "chebyshev", "statespace", "timedomain"}
        The ``method`` argument of ``worst_case_nadir``.
    horizon : float or None
        The window (s).
    dset : optional
        The disturbance set: ``"auto"`` takes norm balls and loss sets only (a given
        step is one column of the modal model; general polytopes solve a linear program
        per table entry, which the modal search's pruning keeps few).

    Returns
    -------
    bool

    Examples
    --------
    >>> import netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=3))
    >>> prefer_timedomain(sys, "auto", 1.0), prefer_timedomain(sys, "timedomain", 1.0)
    (False, True)
    """
    if not isinstance(method, str) or method not in _METHODS:
        raise InputError(f"`method` must be one of {', '.join(map(repr, _METHODS))}, "
                         f"got {method!r}")
    if not hasattr(system, "nodal"):            # a general state-space model
        if method == "timedomain":
            raise InputError("`method='timedomain'` needs a NetworkSystem, got a state-space "
                             "model (use method='auto' or 'statespace')")
        return False
    if method == "timedomain":
        if horizon is None:
            raise InputError("`method='timedomain'` searches a finite window: give `horizon` "
                             "(s), got horizon=None")
        return True
    if method != "auto" or horizon is None:
        return False
    if dset is not None and not isinstance(dset, (NormBall, BudgetBox, SingleInfeedLoss)):
        return False                # given steps: one column; linear programs: per entry
    spec = dset.inputs() if callable(getattr(dset, "inputs", None)) else None
    if spec is not None and spec[0] == "matrix":
        return False
    if system.realization().A.shape[0] < AUTO_MIN_STATES:
        return False
    if proportional_factors(system) is not None:
        return False
    A = sp.csr_matrix(system._build_realization(grounded=False).A, dtype=float)
    sc = _balance(A)
    norm1 = float(spla.norm(sp.diags(1.0 / sc) @ A @ sp.diags(sc), 1))
    return system.n >= 2.0 * norm1 * float(horizon)


def _unit_sup(value, r: int) -> float:
    """``sup_u ||u||_inf`` over a set from its functional: ``max_j value(e_j)``."""
    out = 0.0
    for a in range(0, r, 512):
        E = np.zeros((min(r, a + 512) - a, r))
        E[np.arange(E.shape[0]), a + np.arange(E.shape[0])] = 1.0
        out = max(out, float(np.max(value(E))))
    return out


def timedomain_nadir(system, dset, *, dt: float, horizon: float, rtol: float, n_refine: int,
                     f_hz, scale_hz: float, threshold_hz):
    """Worst-case nadir over ``[0, horizon]`` by :func:`timedomain_search`, as a NadirResult.

    Parameters
    ----------
    system : NetworkSystem
        The network.
    dset : set
        A disturbance set of :mod:`netcoh.analysis.nadir_sets` (not unit trips, which
        :func:`~netcoh.analysis.nadir.worst_case_nadir` splits into given steps).
    dt, horizon : float
        Grid step and window (s).
    rtol : float
        Relative tolerance of the certificate.
    n_refine : int
        Best buses of each block refined by Brent's method.
    f_hz : float or None
        Nominal frequency.
    scale_hz : float
        Hz per unit of the output.
    threshold_hz : float or None
        Flagging threshold (Hz).

    Returns
    -------
    NadirResult
        As :func:`~netcoh.analysis.nadir.worst_case_nadir`, ``method="timedomain"``.

    Examples
    --------
    >>> import netcoh as nc
    >>> from netcoh.analysis.nadir_sets import NormBall
    >>> nodal = nc.nodal.swing_turbine([1.0, 2.0, 3.0], 1.0, 2.0, 5.0)
    >>> sys = nc.NetworkSystem.from_laplacian(10 * nc.laplacian.complete(3), nodal=nodal)
    >>> res = timedomain_nadir(sys, NormBall(0.5, 2), dt=0.1, horizon=1.0, rtol=1e-6,
    ...                        n_refine=2, f_hz=None, scale_hz=float("nan"), threshold_hz=None)
    >>> res.method, res.bus, res.certified
    ('timedomain', '2', True)
    """

    check_stable_sparse(system)
    n = system.n
    spec = dset.inputs() if callable(getattr(dset, "inputs", None)) else None
    M, sset = None, dset
    if spec is not None:
        kind, Mi, sset = spec
        if kind == "cols":
            M = np.zeros((n, len(Mi)))
            M[np.asarray(Mi, dtype=int), np.arange(len(Mi))] = 1.0
        else:
            M = np.asarray(Mi, dtype=float)
    r = n if M is None else M.shape[1]
    ball2 = sset.rho if isinstance(sset, NormBall) and sset.p == 2 else None
    cheap = isinstance(sset, (NormBall, BudgetBox, SingleInfeedLoss, FixedStep))
    rows = AdjointRows(system, M, value=sset.value, unit_sup=_unit_sup(sset.value, r),
                       ball2=ball2, cheap=cheap)
    t = time_grid(dt, horizon, False)
    H = float(t[-1])
    # sets solved by linear programs stay on one thread (the solver is not shared safely)
    F, grid_value, best_v, best_i, best_t, upper = timedomain_search(
        rows, n, t, rtol, n_refine, workers=None if cheap else 1)
    certified = bool(upper <= best_v * (1 + rtol) * (1 + 1e-12))
    if not certified:
        warnings.warn(f"the worst-case nadir could not be certified: value {best_v:.6g}, upper "
                      f"bound {upper:.6g}", AccuracyWarning, stacklevel=3)
    if best_t >= H - 0.5 * dt:
        warnings.warn(
            f"the worst nadir is at the end of the window (t = {best_t:g} s = horizon): the true "
            "nadir may be later; increase `horizon` or use horizon=None", AccuracyWarning,
            stacklevel=3)
    z, rr = rows.start([best_i])
    _, rr = rows.advance(z, rr, best_t)
    s = rr[:, 0]
    zu = np.asarray(sset.maximiser(s), dtype=float)
    u = zu if M is None else M @ zu
    A, B, C, D = system._build_realization(grounded=False)
    traj = simulate_lti(A, B, C, D, u, t)
    per_bus, per_bus_time = bus_summary(F, t, None, best_i, best_v)
    tables = SearchTables(None, None, t, None, best_i, best_v, np.ones(F.shape, dtype=bool),
                          (per_bus, per_bus_time), full_table=F)
    flagged = () if threshold_hz is None else tuple(
        system.labels[i] for i in np.flatnonzero(per_bus * scale_hz > threshold_hz))
    return NadirResult(
        value=float(best_v), value_hz=float(best_v * scale_hz), bus=system.labels[best_i],
        bus_index=int(best_i), time=float(best_t), disturbance=readonly(u), times=readonly(t),
        trajectory=readonly(traj), upper_bound=float(upper), certified=certified, horizon=H,
        grid_value=grid_value, labels=system.labels, disturbance_set=dset.description,
        method="timedomain", f_hz=float("nan") if f_hz is None else float(f_hz),
        hz_per_unit=scale_hz, threshold_hz=threshold_hz, flagged=flagged, _tables=tables)
