"""Worst-case nadir of large networks of proportional swing machines without their modes.

For proportional swing machines (``m_i = r_i m``, ``d_i = r_i d``, coupling ``gain/s``)
the step-response matrix from injections to speeds is

``S(t) = R^{-1/2} h_t(L_s) R^{-1/2}``,  ``L_s = gain R^{-1/2} L R^{-1/2}``,

with ``h_t(lam)`` the impulse response at time ``t`` of ``1/(m s^2 + d s + lam)``. ``S(t)``
is symmetric, so the worst deviation at bus ``i`` over the ball ``||u||_2 <= rho`` is
``F[i, t] = rho ||S(t) e_i||_2``: a matrix function times a vector. This module evaluates it
with a Chebyshev expansion of ``h_t`` on ``[0, lam_max]`` (``lam_max`` a certified bound),
one set of sparse products serving every time of the grid and a block of buses at once; the
common mode (``lam = 0``, the centre of inertia) is split off and treated exactly. The
truncation error is bounded on a Bernstein ellipse and added to the certificate. Nothing of
size ``n x n`` is formed.

Buses are ruled out before any of this by two certified bounds of ``sup_{t <= H} F[i, t]``
(:mod:`.nadir_chebyshev_bounds`): a cheap one for every bus from six moments of its
spectral measure, and for the buses it leaves a sharp one from all the Chebyshev moments
that the recurrence gives. Buses are then evaluated exactly, largest bound first, until no
bound left can beat the best value found.

Between grid points the supremum is certified as in :mod:`.nadir_search`, with the
derivative bound ``||S''(t) e_i|| <= s_max s_i sup |h''|``: the exact values are taken on a
grid fine enough for that bound to be small, and intervals that could still hide a deeper
nadir are bisected.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.sparse as sp
from scipy.optimize import minimize_scalar

from .._util import readonly as _readonly
from ..exceptions import InputError
from .nadir_chebyshev_bounds import moment_bound, window_bound
from .nadir_modes import SwingModes
from .nadir_result import NadirResult, _Tables, bus_summary
from .nadir_sets import NormBall

__all__ = ["ChebyshevSwing", "chebyshev_nadir", "MIN_NODES"]

#: smallest network (sparse Laplacian) for which ``worst_case_nadir`` takes this path by itself
MIN_NODES = 1500


class ChebyshevSwing:
    """``S(t) = R^{-1/2} h_t(L_s) R^{-1/2}`` applied to blocks of vectors by Chebyshev expansion.

    Parameters
    ----------
    L : sparse or dense array (n, n)
        The network Laplacian.
    r : array_like (n,)
        Machine ratios ``g_i = g_o / r_i`` (scaled so that ``mean(r) = 1``).
    m, d : float
        Inertia and damping of the representative machine ``g_o = 1/(m s + d)``.
    gain : float
        Coupling gain (``f(s) = gain/s``).
    horizon : float
        Largest time (s) the expansion must serve.
    tol : float
        Bound on ``max |h_t - p_t|`` over ``[0, lam_max]`` and ``t <= horizon``, relative to
        ``horizon / m`` (the largest value of ``|h_t|``).

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> L = 10.0 * nc.laplacian.ring_lattice(6, 1)
    >>> op = ChebyshevSwing(L, np.array([1.0, 1.0, 1.0, 0.5, 1.5, 1.0]), 2.0, 1.0, 1.0, 2.0)
    >>> S = op.columns(np.arange(6), [0.5, 1.0])            # S(t) e_i for every bus, (T, n, n)
    >>> bool(np.allclose(S[1], S[1].T, atol=1e-12))      # S(t) is symmetric
    True
    >>> bool(op.degree > 0 and op.error < 1e-9)
    True
    """

    def __init__(self, L, r, m: float, d: float, gain: float, horizon: float,
                 tol: float = 1e-10):
        r = np.asarray(r, dtype=float)
        self.n = r.size
        self.r = r
        self.s = 1.0 / np.sqrt(r)
        L = sp.csr_matrix(L, dtype=float)
        S = sp.diags(self.s)
        self.Ls = (gain * (S @ L @ S)).tocsr()
        self.Ls.sort_indices()
        self.lam_max = _largest_eigenvalue_bound(self.Ls)
        if not self.lam_max > 0:
            raise InputError(f"`L` must couple the machines, got a zero Laplacian ({self.n} nodes)")
        self.m, self.d, self.H = float(m), float(d), float(horizon)
        self.sigma = self.d / (2.0 * self.m)
        self.v1 = np.sqrt(r / r.sum())
        self.degree, trunc = self._degree(tol * self.H / self.m)
        #: bound of ``|h_t - p_t|`` on ``[0, lam_max]``: truncation plus rounding of the recurrence
        self.error = trunc + 64 * np.finfo(float).eps * self.degree * self.H / self.m
        self.A = ((2.0 / self.lam_max) * self.Ls - sp.identity(self.n, format="csr")).tocsr()

    # -- the scalar functions ------------------------------------------------------------
    def h(self, t, lam, deriv: int = 0) -> np.ndarray:
        """``d^j/dt^j h_t(lam)`` (closed form), shape (len(t), len(lam))."""
        lam = np.atleast_1d(np.asarray(lam, dtype=float))
        sm = SwingModes(np.zeros((1, lam.size)), lam, self.m, self.d)
        return sm.phi(np.atleast_1d(np.asarray(t, dtype=float)), deriv=deriv)

    def _degree(self, tol: float):
        """Smallest degree whose Chebyshev interpolant of ``h_t`` errs by at most ``tol``.

        Bernstein ellipse ``E_rho`` around ``[0, lam_max]``: with ``zeta = sqrt(z/m - sigma^2)``,
        ``|h_t(z)| = e^{-sigma t} |sin(t zeta)/zeta| / m <= (t/m) cosh(t |Im zeta|)``, so the
        interpolant of degree ``K - 1`` errs by at most ``4 M rho^{-K} / (rho - 1)`` (Trefethen,
        ATAP Thm 8.2) with ``M = (H/m) cosh(H max|Im zeta|)`` on the ellipse.
        """
        H, m, s2 = self.H, self.m, self.sigma ** 2
        theta = np.linspace(0.0, np.pi, 4097)
        logs = []
        for rho in 1.0 + np.geomspace(1e-4, 4.0, 80):
            a = 0.5 * (rho + 1.0 / rho)
            b = 0.5 * (rho - 1.0 / rho)
            z = 0.5 * self.lam_max * (1.0 + a * np.cos(theta) + 1j * b * np.sin(theta))
            w = z / m - s2
            im = np.sqrt(np.maximum((np.abs(w) - w.real) / 2.0, 0.0))
            # |d/dtheta (|w| - Re w)| <= 2 |dw/dtheta|: slack for the sampling in theta
            slack = 2.0 * (0.5 * self.lam_max * a / m) * (theta[1] - theta[0])
            ymax = float(np.sqrt(im.max() ** 2 + slack))
            # log of 4 M / (rho - 1) with M = (H/m) cosh(H ymax) <= (H/m) e^{H ymax}
            logs.append((np.log(4.0 * H / m) + H * ymax - np.log(rho - 1.0), np.log(rho)))
        logs = np.array(logs)
        Ks = np.arange(4, 8193)
        e = np.exp(np.min(logs[:, 0][None, :] - Ks[:, None] * logs[:, 1][None, :], axis=1))
        ok = np.flatnonzero(e <= tol)
        k = int(ok[0]) if ok.size else Ks.size - 1
        return int(Ks[k]), float(e[k])

    def coefficients(self, t, deriv: int = 0) -> np.ndarray:
        """Chebyshev coefficients of ``h_t^{(deriv)}`` on ``[0, lam_max]``, shape (T, K)."""
        K = self.degree
        x = np.cos(np.pi * (np.arange(K) + 0.5) / K)
        lam = 0.5 * self.lam_max * (x + 1.0)
        f = self.h(t, lam, deriv)
        c = scipy.fft.dct(f, type=2, axis=1) / K
        c[:, 0] *= 0.5
        return c

    # -- S(t) times blocks -----------------------------------------------------------------
    def apply(self, X, t) -> np.ndarray:
        """``h_t(L_s) X`` for every ``t``, shape (T, n, b); the common mode is exact."""
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        t = np.atleast_1d(np.asarray(t, dtype=float))
        C = self.coefficients(t)                                   # (T, K)
        a = self.v1 @ X                                            # common-mode content
        X = X - np.outer(self.v1, a)
        h0 = self.h(t, [0.0])[:, 0]                                # h_t(0)
        n, b = X.shape
        acc = np.zeros((t.size, n * b))
        chunk = max(1, min(32, int(2.5e7 // max(n * b, 1))))
        buf = []
        k0 = 0
        for k, Tk in enumerate(self._basis(X)):
            buf.append(Tk.reshape(-1))
            if len(buf) == chunk or k == self.degree - 1:
                acc += C[:, k0:k + 1] @ np.stack(buf)
                k0, buf = k + 1, []
        out = acc.reshape(t.size, n, b)
        out += h0[:, None, None] * np.outer(self.v1, a)[None]
        return out

    def _basis(self, X):
        """Yield ``T_k(A) X`` for ``k < degree`` (three-term recurrence)."""
        prev = X
        yield prev
        if self.degree == 1:
            return
        cur = self.A @ X
        yield cur
        for _ in range(2, self.degree):
            prev, cur = cur, 2.0 * (self.A @ cur) - prev
            yield cur

    def columns(self, buses, t) -> np.ndarray:
        """``S(t) e_i`` for the given buses, shape (T, n, len(buses))."""
        buses = np.asarray(buses, dtype=int)
        X = np.zeros((self.n, buses.size))
        X[buses, np.arange(buses.size)] = self.s[buses]
        return self.s[None, :, None] * self.apply(X, t)

    def response(self, u, t) -> np.ndarray:
        """``S(t) u`` for every time, shape (T, n)."""
        return self.s[None, :] * self.apply(self.s * np.asarray(u, dtype=float), t)[:, :, 0]

    def value_error(self, bus) -> np.ndarray:
        """Bound of ``| ||S(t) e_i|| - computed |`` from the truncation (and rounding)."""
        s = self.s[np.asarray(bus, dtype=int)]
        return s * self.s.max() * self.error

    def extended_coefficients(self, t) -> np.ndarray:
        """``[h_t(0), c_t]`` for every time: the weights of :meth:`gram`'s basis, (T, K + 1)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        return np.concatenate([self.h(t, [0.0]), self.coefficients(t)], axis=1)

    def gram(self, buses) -> np.ndarray:
        """Gram matrices ``W_i^T W_i`` of ``W_i = R^{-1/2} [v1 a_i, T_0(A) y_i, ...]``.

        ``S(t) e_i = W_i c~_t`` with ``c~_t`` from :meth:`extended_coefficients`, so
        ``||S(t) e_i||^2 = c~_t^T G_i c~_t`` at any time for ``O(K^2)``. Shape (b, K+1, K+1).
        """
        buses = np.asarray(buses, dtype=int)
        b, K, n = buses.size, self.degree, self.n
        X = np.zeros((n, b))
        X[buses, np.arange(b)] = self.s[buses]
        a = self.v1 @ X
        X = X - np.outer(self.v1, a)
        W = np.empty((b, K + 1, n))
        W[:, 0, :] = a[:, None] * (self.s * self.v1)[None, :]
        for k, Tk in enumerate(self._basis(X)):
            W[:, k + 1, :] = (Tk * self.s[:, None]).T        # piecewise: cache friendly
        return np.matmul(W, W.transpose(0, 2, 1))

    # -- derivative bounds -------------------------------------------------------------------
    def second_derivative_bound(self, b: float) -> float:
        """``sup |h''_tau(lam)|`` over ``tau <= b`` and ``lam`` in ``[0, lam_max]``.

        ``m h'' = -d h' - lam h`` with ``|h'| <= (1 + sigma b)/m`` and
        ``lam |h| <= max(w_max + sigma, 2 sigma^2 b)`` (``|h| <= min(tau, 1/w)/m``).
        """
        m, sig = self.m, self.sigma
        wmax = np.sqrt(self.lam_max / m)
        return ((self.d / m) * (1.0 + sig * b) + max(wmax + sig, 2.0 * sig * sig * b)) / m

    def first_derivative_bound(self, b: float) -> float:
        """``sup |h'_tau(lam)|`` over ``tau <= b``: ``(1 + sigma b)/m``."""
        return (1.0 + self.sigma * b) / self.m


def _largest_eigenvalue_bound(Ls, steps: int = 20) -> float:
    """Certified upper bound of the largest eigenvalue of the symmetric matrix ``Ls``.

    ``lam_max(Ls) <= rho(|Ls|) <= max_i (|Ls| v)_i / v_i`` for any ``v > 0`` (Collatz-Wielandt);
    a few power steps from ``v = 1`` (whose bound is Gershgorin's) bring ``v`` near the Perron
    vector: on the benchmark networks the bound drops from 1.27 to 1.01 times the largest
    eigenvalue, and the Chebyshev degree with it.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> L = sp.csr_matrix(np.array([[1.0, -1.0, 0.0], [-1.0, 3.0, -2.0], [0.0, -2.0, 2.0]]))
    >>> lam = np.linalg.eigvalsh(L.toarray())[-1]
    >>> bool(lam <= _largest_eigenvalue_bound(L) <= 1.001 * lam), float(abs(L).sum(axis=1).max())
    (True, 6.0)
    """
    B = abs(Ls).tocsr()
    v = np.ones(B.shape[0])
    best = np.inf
    for _ in range(steps + 1):
        w = B @ v
        best = min(best, float(np.max(w / v)))
        top = float(w.max())
        if not top > 0:
            break
        v = np.maximum(w / top, 1e-150)
    # rounding of the products: rows of r entries err by at most r eps relative
    r = int(np.diff(B.indptr).max()) if B.nnz else 1
    return best * (1.0 + 4.0 * (r + 2) * np.finfo(float).eps)


class ChebyshevTables(_Tables):
    """Tables of a Chebyshev search: the whole table is computed column block by block.

    The search evaluates only the buses its bounds cannot rule out; the whole table
    ``F[bus, t]`` is computed on first use of :attr:`table`, 64 buses per block of sparse
    products.

    Parameters
    ----------
    op : ChebyshevSwing
        The operator of the search.
    rho : float
        Radius of the 2-norm ball.
    t : ndarray (T,)
        The time grid of the table.
    best_i, best_v : int, float
        Bus index and value of the worst nadir found.
    evaluated : ndarray of bool (n, T)
        The table entries the search evaluated exactly.
    partial : tuple of ndarray
        ``(per_bus, per_bus_time)`` as far as the evaluated entries decide them (NaN
        elsewhere).

    Examples
    --------
    A table nothing was evaluated in (``partial`` all NaN) is computed whole on first use;
    it equals the one of the modal closed form (``g_i = 1/(r_i m s + r_i d)``):

    >>> import numpy as np, netcoh as nc
    >>> L = 10.0 * nc.laplacian.ring_lattice(6, 1)
    >>> r = np.array([1.0, 1.0, 1.0, 0.5, 1.5, 1.0])
    >>> op = ChebyshevSwing(L, r, 2.0, 4.0, 1.0, 2.0)
    >>> t = np.linspace(0.0, 2.0, 11)
    >>> nan = np.full(6, np.nan)
    >>> tables = ChebyshevTables(op, 0.5, t, 0, 0.0, np.zeros((6, 11), bool), (nan, nan))
    >>> sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(2.0 * r, 4.0 * r))
    >>> ref = nc.worst_case_nadir(sys, rho=0.5, dt=0.2, horizon=2.0, method="modal",
    ...                           full_table=True)
    >>> tables.table.shape, bool(np.allclose(tables.table, ref.table, rtol=0, atol=1e-12))
    ((6, 11), True)
    """

    def __init__(self, op, rho, t, best_i, best_v, evaluated, partial):
        super().__init__(evaluated, partial)
        self._op, self._rho, self._t = op, rho, t
        self._best = (int(best_i), float(best_v))

    def compute_table(self):
        op = self._op
        F = np.empty((op.n, self._t.size))
        step = 64
        for a in range(0, op.n, step):
            cols = np.arange(a, min(op.n, a + step))
            Y = op.columns(cols, self._t)
            F[cols] = self._rho * np.linalg.norm(Y, axis=1).T
        return F

    def summary(self):
        return bus_summary(self.table, self._t, None, *self._best)


class _Grams:
    """Gram matrices of the evaluated buses: ``F`` at any bus and time for ``O(K^2)``."""

    def __init__(self, op, rho):
        self.op, self.rho = op, rho
        self.G = {}

    def add(self, buses, block):
        buses = np.asarray(buses, dtype=int)
        for q in range(0, buses.size, block):
            cols = buses[q:q + block]
            for i, g in zip(cols.tolist(), self.op.gram(cols)):
                self.G[i] = g

    def values(self, buses, t):
        """``F`` of each bus at every time, shape (len(buses), T)."""
        C = self.op.extended_coefficients(t)                   # (T, K+1)
        G = np.stack([self.G[int(i)] for i in buses])          # (b, K+1, K+1)
        q = np.einsum("bkl,tl->btk", G, C)
        return self.rho * np.sqrt(np.maximum(np.einsum("btk,tk->bt", q, C), 0.0))

    def pairs(self, buses, t):
        """``F`` at pairs ``(bus_p, t_p)``."""
        C = self.op.extended_coefficients(t)
        G = np.stack([self.G[int(i)] for i in buses])
        v = np.einsum("pk,pkl,pl->p", C, G, C)
        return self.rho * np.sqrt(np.maximum(v, 0.0))


def chebyshev_nadir(system, factors, rho: float, t: np.ndarray, rtol: float, n_refine: int,
                    *, floor: float = np.inf, block: int = 64, max_rounds: int = 40):
    """Search of :func:`~netcoh.worst_case_nadir` on the Chebyshev path (2-norm ball).

    Parameters
    ----------
    system : NetworkSystem
        Proportional swing machines (``factors`` from
        :func:`~netcoh.analysis.nadir_modes.proportional_factors`).
    factors : tuple
        ``(r, num_o, den_o, gain)``.
    rho : float
        Radius of the 2-norm ball.
    t : ndarray (T,)
        The seed time grid on ``[0, H]``.
    rtol : float
        Relative tolerance of the refinement and the certificate.
    n_refine : int
        Buses whose best grid point is refined by Brent's method.
    floor : float
        Buses whose bound exceeds ``floor`` are always evaluated (threshold flags).
    block : int
        Buses evaluated per block of sparse products.
    max_rounds : int
        Limit of the interval bisection.

    Returns
    -------
    dict
        ``value, bus, time, upper, grid_value, disturbance, trajectory, tables, per_bus``.

    Examples
    --------
    >>> import numpy as np, networkx as nx, netcoh as nc
    >>> from netcoh.analysis.nadir_modes import proportional_factors
    >>> G = nx.connected_watts_strogatz_graph(40, 4, 0.2, seed=1)
    >>> m = np.linspace(1.0, 4.0, 40)
    >>> sys = nc.NetworkSystem.from_graph(G, nodal=nc.nodal.swing(m, 2.0 * m), sparse=True)
    >>> out = chebyshev_nadir(sys, proportional_factors(sys), 0.5, np.linspace(0, 2, 21), 1e-6, 4)
    >>> ref = nc.worst_case_nadir(sys, rho=0.5, dt=0.1, horizon=2.0, method="modal")
    >>> bool(abs(out["value"] - ref.value) <= 1e-6 * ref.value), out["bus"] == ref.bus_index
    (True, True)
    """
    r, num_o, den_o, gain = factors
    numt, dent = np.trim_zeros(num_o, "f"), np.trim_zeros(den_o, "f")
    if not (numt.size == 1 and dent.size == 2 and dent[1] > 0):
        raise InputError("the Chebyshev path needs proportional swing machines g_i = 1/(m_i s + "
                         "d_i) with d_i > 0, got another representative machine")
    m, d = dent[0] / numt[0], dent[1] / numt[0]
    t = np.asarray(t, dtype=float)
    H = float(t[-1])
    op = ChebyshevSwing(system.laplacian, r, m, d, gain, H)
    n, T = op.n, t.size
    smax = float(op.s.max())
    # more bounding polynomials (a linear program each, ~10 ms) pay off where the sharper
    # bound costs more per bus: at 20,000 machines 160 of them leave 5,386 buses instead of
    # 6,337 with 48, for 1.2 s more
    U = rho * window_bound(op, n_poly=int(np.clip(n // 100, 48, 160)))
    order = np.argsort(-U, kind="stable")
    # exact values on a refined grid, fine enough for the derivative bound to be small
    G2 = op.second_derivative_bound(H)
    block = int(max(1, min(block, 1.5e8 // (8 * (op.degree + 1) * n))))
    grams = _Grams(op, rho)
    first = order[:min(8, n)]                     # a first best value and the scale of F
    grams.add(first, block)
    est = float(grams.values(first, t).max())
    dt = float(np.max(np.diff(t))) if T > 1 else H
    dfine = np.sqrt(8.0 * 0.01 * est / max(rho * smax * smax * G2, 1e-300)) if est > 0 else dt
    split = int(np.clip(np.ceil(dt / dfine), 1, 64)) if T > 1 else 1
    if T > 1:
        tf = np.concatenate([np.linspace(t[j], t[j + 1], split + 1)[:-1] for j in range(T - 1)]
                            + [t[-1:]])
    else:
        tf = t.copy()
    coarse = np.searchsorted(tf, t)
    rows = {}
    evaluated = np.zeros(n, dtype=bool)
    bound = U.copy()                               # the sharpest certified bound of each bus
    best_grid = -np.inf

    def evaluate(cols):
        nonlocal best_grid
        grams.add([c for c in cols.tolist() if c not in grams.G], block)
        Ff = grams.values(cols, tf)
        for c, row in zip(cols.tolist(), Ff):
            rows[c] = row
        evaluated[cols] = True
        # any exact value is a lower bound of the supremum: the fine grid's best prunes
        best_grid = max(best_grid, float(Ff.max()))

    evaluate(first)
    # buses in decreasing order of the cheap bound; the survivors get the moment bound
    # (:mod:`.nadir_chebyshev_bounds`), and those it cannot rule out are evaluated exactly,
    # largest bound first
    pos, mblock = 0, 64
    while pos < n:
        level = min(best_grid, floor)
        if U[order[pos]] <= level:
            break
        cols = order[pos:pos + mblock]
        cols = cols[(U[cols] > level) & ~evaluated[cols]]
        V = rho * moment_bound(op, cols, tf, level=level / rho, block=mblock)
        bound[cols] = np.minimum(U[cols], V)
        cand = cols[np.argsort(-bound[cols], kind="stable")]
        for q in range(0, cand.size, 8):
            sub = cand[q:q + 8]
            sub = sub[bound[sub] > min(best_grid, floor)]
            if sub.size:
                evaluate(sub)
        pos += mblock
    ev = np.flatnonzero(evaluated)
    Fe = np.array([rows[i] for i in ev])                           # (E, Tf)
    err = op.value_error(ev)
    # Brent on the best buses around their best fine-grid point
    per = Fe.max(axis=1)
    top = np.argsort(-per)[:n_refine]
    best_v, best_i, best_t = -np.inf, 0, 0.0
    for k in top:
        i = int(ev[k])
        j = int(np.argmax(Fe[k]))
        a, b = tf[max(j - 1, 0)], tf[min(j + 1, tf.size - 1)]
        tt, v = _brent(grams, i, a, b)
        if v > best_v:
            best_v, best_i, best_t = v, i, tt
    # certificate: every interval of every evaluated bus, then bisection of the open ones
    if tf.size > 1:
        dd = np.diff(tf)
        k2 = rho * smax * op.s[ev][:, None] * G2
        k1 = rho * smax * op.s[ev][:, None] * op.first_derivative_bound(H)
        Fa, Fb = Fe[:, :-1], Fe[:, 1:]
        ub = np.minimum(np.maximum(Fa, Fb) + k2 * dd ** 2 / 8, 0.5 * (Fa + Fb) + 0.5 * k1 * dd)
        ub = ub + err[:, None]
        tol = rtol * best_v
        bi, bj = np.nonzero(ub > best_v + tol)
        a, b = tf[bj], tf[bj + 1]
        Fa, Fb = Fe[bi, bj], Fe[bi, bj + 1]
        bus = ev[bi]
        open_ub = ub[bi, bj]
        rounds = 0
        while bus.size and rounds < max_rounds and bus.size <= 200_000:
            rounds += 1
            mid = 0.5 * (a + b)
            Fm = np.concatenate([grams.pairs(bus[q:q + 4096], mid[q:q + 4096])
                                 for q in range(0, bus.size, 4096)])
            k = int(np.argmax(Fm))
            if Fm[k] > best_v:
                tt, v = _brent(grams, int(bus[k]), a[k], b[k])
                if v > best_v:
                    best_v, best_i, best_t = v, int(bus[k]), tt
                tol = rtol * best_v
            bus2 = np.concatenate([bus, bus])
            a2, b2 = np.concatenate([a, mid]), np.concatenate([mid, b])
            Fa2, Fb2 = np.concatenate([Fa, Fm]), np.concatenate([Fm, Fb])
            d2 = b2 - a2
            sb = rho * smax * op.s[bus2]
            u2 = np.minimum(np.maximum(Fa2, Fb2) + sb * G2 * d2 ** 2 / 8,
                            0.5 * (Fa2 + Fb2) + 0.5 * sb * op.first_derivative_bound(H) * d2)
            u2 = u2 + op.value_error(bus2)
            keep = u2 > best_v + tol
            bus, a, b, Fa, Fb, open_ub = (bus2[keep], a2[keep], b2[keep], Fa2[keep], Fb2[keep],
                                          u2[keep])
        upper = max(best_v, float(open_ub.max())) if bus.size else best_v
    else:
        upper = best_v + float(err.max())
    rest = ~evaluated
    if rest.any():
        upper = max(upper, float(bound[rest].max()))
    # the worst disturbance and its trajectory
    col = op.columns([best_i], [best_t])[0, :, 0]
    u = NormBall(rho, 2).maximiser(col)
    traj = op.response(u, t)
    # tables: the evaluated buses' coarse rows; the rest computed on request
    E = np.zeros((n, T), dtype=bool)
    E[ev] = True
    per_bus = np.full(n, np.nan)
    per_bus_time = np.full(n, np.nan)
    Fcoarse = Fe[:, coarse]
    jmax = np.argmax(Fcoarse, axis=1)
    per_bus[ev] = Fcoarse[np.arange(ev.size), jmax]
    per_bus_time[ev] = t[jmax]
    per_bus[best_i] = max(per_bus[best_i], best_v)
    if best_v >= per_bus[best_i]:
        per_bus_time[best_i] = best_t
    tables = ChebyshevTables(op, rho, t, best_i, best_v, E, (per_bus, per_bus_time))
    # the worst value each evaluated bus reaches anywhere on the fine grid (threshold flags)
    fine_max = np.full(n, -np.inf)
    fine_max[ev] = Fe.max(axis=1)
    fine_max[best_i] = max(fine_max[best_i], best_v)
    grid_value = float(Fcoarse.max()) if ev.size else -np.inf
    return dict(value=float(best_v), bus=int(best_i), time=float(best_t), upper=float(upper),
                grid_value=grid_value, disturbance=_readonly(u), trajectory=_readonly(traj),
                tables=tables, fine_max=fine_max, evaluated=int(ev.size),
                operator=op)


def _brent(grams, i, a, b):
    """Best ``(t, F)`` of bus ``i`` on ``[a, b]`` (bounded Brent, end points included)."""
    if b <= a:
        return a, float(grams.values([i], [a])[0, 0])
    res = minimize_scalar(lambda x: -grams.values([i], [x])[0, 0], bounds=(a, b),
                          method="bounded", options={"xatol": 1e-10 * max(1.0, b)})
    t, v = float(res.x), float(-res.fun)
    ends = grams.values([i], [a, b])[0]
    for x, vx in zip((a, b), ends):
        if vx > v:
            t, v = x, float(vx)
    return t, v


def result(system, out, t, rtol, dset_description, f_hz, scale_hz, thr):
    """The :class:`NadirResult` of a Chebyshev search (see :func:`chebyshev_nadir`).

    Parameters
    ----------
    system : NetworkSystem
        The searched system.
    out : dict
        What :func:`chebyshev_nadir` returned.
    t : ndarray (T,)
        The time grid of the search.
    rtol : float
        Relative tolerance of the search: the result is certified when its upper bound is
        within it of the value.
    dset_description : str
        Description of the disturbance set.
    f_hz : float or None
        Nominal frequency.
    scale_hz : float
        Hz per unit of the system's output.
    thr : float or None
        Flagging threshold (Hz): buses whose worst deviation exceeds it are flagged.

    Returns
    -------
    NadirResult
        The worst nadir, its bus, time and disturbance, with ``method="chebyshev"``.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir_modes import proportional_factors
    >>> r = np.array([1.0, 1.0, 1.0, 0.5, 1.5, 1.0])
    >>> sys = nc.NetworkSystem.from_laplacian(10.0 * nc.laplacian.ring_lattice(6, 1),
    ...                                       nodal=nc.nodal.swing(2.0 * r, 4.0 * r))
    >>> t = np.linspace(0.0, 2.0, 11)
    >>> out = chebyshev_nadir(sys, proportional_factors(sys), 0.5, t, 1e-6, 4, floor=0.06)
    >>> res = result(sys, out, t, 1e-6, "2-norm ball", 50.0, 1.0, thr=0.06)
    >>> res.method, res.certified, res.bus, res.flagged
    ('chebyshev', True, '3', ('2', '3'))
    >>> ref = nc.worst_case_nadir(sys, rho=0.5, dt=0.2, horizon=2.0, method="modal")
    >>> ref.bus, bool(abs(res.value - ref.value) <= 1e-6 * ref.value)
    ('3', True)
    """
    certified = bool(out["upper"] <= out["value"] * (1 + rtol) * (1 + 1e-12))
    flagged = () if thr is None else tuple(
        system.labels[i] for i in np.flatnonzero(out["fine_max"] * scale_hz > thr))
    i = out["bus"]
    return NadirResult(
        value=out["value"], value_hz=out["value"] * scale_hz, bus=system.labels[i],
        bus_index=i, time=out["time"], disturbance=out["disturbance"], times=_readonly(t),
        trajectory=out["trajectory"], upper_bound=out["upper"], certified=certified,
        horizon=float(t[-1]), grid_value=out["grid_value"], labels=system.labels,
        disturbance_set=dset_description, method="chebyshev",
        f_hz=float("nan") if f_hz is None else float(f_hz), hz_per_unit=scale_hz,
        threshold_hz=thr, flagged=flagged, _tables=out["tables"])
