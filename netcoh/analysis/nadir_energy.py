"""Rows of the step-response matrix from one expansion of the adjoint, certified by energy.

For swing machines, with or without a first-order turbine-governor, on an integrator
coupling (``f(s) = k/s``, the power network) the network has a storage function: with
frequencies ``w``, governor states ``q`` and angles ``theta``,

``V = 1/2 sum_i m_i w_i^2 + 1/2 sum_i (tau_i / droop_i) q_i^2 + 1/2 theta^T L theta``

never grows without input (``V' = -sum_i d_i w_i^2 - sum_i q_i^2 / droop_i + w . u``). In
coordinates where ``V`` is half the squared 2-norm the state matrix is a skew part
``J`` plus a dissipative part ``-R``, so its numerical range lies in the rectangle
``[-h, 0] x i [-j, j]`` with ``h = max(d_i/m_i, 1/tau_i)`` and
``j <= sqrt(lambda_max(m^{-1/2} L m^{-1/2})) + max_i sqrt(droop_i / (tau_i m_i))``
(the largest eigenvalue bounded by Collatz-Wielandt, no eigenproblem); the adjoint
system's range is the same rectangle.

The spectrum of such a network hugs the imaginary axis, where Taylor steps pay about
five sparse products per unit of ``||A||`` while a Chebyshev expansion along the segment
``c + i [-gamma, gamma]`` (``c = -h/2``) pays little more than one: by Jacobi-Anger,

``e^{tau (c + gamma x)} = e^{c tau} (J_0(gamma tau) + 2 sum_k J_k(gamma tau) Q_k(x))``

with the real polynomials ``Q_{k+1} = 2 x Q_k + Q_{k-1}`` (``Q_k(x) = i^k T_k(-i x)``).
One expansion of degree ``K`` covers the whole window: the adjoint vectors
``Q_k(A~) C^T e_i`` (``A~ = (A^T - c)/gamma``, ``K`` sparse products per bus) give every row
``r_i(t) = sum_k a_k(t) B^T Q_k(A~) C^T e_i`` at any time from the coefficients ``a_k(t)``
of ``(e^{t z} - 1)/z``, computed by a discrete cosine transform. The neglected terms are
bounded by the Crouzeix-Palencia theorem (``||p(A)|| <= (1 + sqrt 2) max_W |p|`` in the
energy norm, ``W`` the numerical range) with ``|T_k| <= rho^k`` on the Bernstein ellipse
``rho`` through the rectangle's corners and ``|J_k(x)| <= (x/2)^k / k!``.

The same energy norm bounds the rows' derivatives over the whole window: the adjoint
state's energy norm never grows from ``||C^T e_i||`` = ``m_i^{-1/2}``, so
``||r_i'|| <= ||B^T|| m_i^{-1/2}`` and ``||r_i''|| <= ||B^T A^T|| m_i^{-1/2}`` (operator
norms from the energy norm, bounded without an eigenproblem), which certify the supremum
between samples as the Taylor terms do in :mod:`.nadir_adjoint`. Evaluating a row between
samples (Brent's method, bisection) costs one small product with its stored coefficients
and no sparse products.
"""

from __future__ import annotations

from queue import Empty, SimpleQueue

import numpy as np
import scipy.sparse as sp
from scipy.fft import dct
from scipy.optimize import minimize_scalar
from scipy.special import gammaln

from .._util import threaded_in_order
from ..exceptions import InputError
from .nadir_adjoint import pair_bound
from .nadir_chebyshev import _largest_eigenvalue_bound
from .nadir_sets import BudgetBox, NormBall, SingleInfeedLoss, coordinate_sups

try:    # Y += A X in place: the kernel behind scipy's A @ X, without a temporary per product
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:     # pragma: no cover - a future scipy may move it
    _csr_matvecs = None

__all__ = ["EnergyRows", "energy_form", "energy_search", "set_sup2"]

#: neglected terms of the expansion: at most this times the window times the rows' scale
_TAIL_TOL = 1e-15


def energy_form(system):
    """The energy form of ``system``'s machines, or None where it has none here.

    Returns ``(m, d, droop, tau, L)`` (``droop`` zero for machines without a governor,
    ``L`` the sparse Laplacian times the coupling gain) for swing and swing-turbine
    machines on an integrator coupling ``f(s) = k/s``, ``k > 0``, with a symmetric
    positive semidefinite Laplacian; None otherwise.

    Examples
    --------
    >>> import netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing_turbine(1.0, 1.0, 2.0, 5.0, n=3))
    >>> m, d, droop, tau, L = energy_form(sys)
    >>> droop.tolist(), L.shape
    ([2.0, 2.0, 2.0], (3, 3))
    """
    from ..network import nodal as _nodal

    g, cpl = getattr(system, "nodal", None), getattr(system, "coupling", None)
    if g is None or cpl is None or cpl.kind != "integrator":
        return None
    gain = float(np.asarray(cpl.params.get("gain", [np.nan]))[0])
    if not gain > 0:
        return None
    n = system.n
    p = g.params
    if g.kind == "swing" and {"m", "d"} <= set(p):
        m, d = np.asarray(p["m"], float), np.asarray(p["d"], float)
        droop, tau = np.zeros(n), np.ones(n)
        ref = _nodal.swing(m, d)
    elif g.kind == "swing_turbine" and {"m", "d", "droop", "tau"} <= set(p):
        m, d = np.asarray(p["m"], float), np.asarray(p["d"], float)
        droop, tau = np.asarray(p["droop"], float), np.asarray(p["tau"], float)
        ref = _nodal.swing_turbine(m, d, droop, tau)
    else:
        return None
    # the parameters must be the transfer functions (a node edited by hand keeps its kind)
    if ref.num.shape != g.num.shape or not (np.allclose(ref.num, g.num, rtol=1e-12, atol=0)
                                           and np.allclose(ref.den, g.den, rtol=1e-12, atol=0)):
        return None
    if np.any(m <= 0) or np.any(d < 0) or np.any(droop < 0) or np.any(tau <= 0):
        return None
    L = sp.csr_matrix(system.laplacian, dtype=float) * gain
    if abs(L - L.T).max() > 1e-12 * max(abs(L).max(), 1e-300):
        return None
    return m, d, droop, tau, L


def set_sup2(sset, r: int) -> float:
    """An upper bound of ``sup ||u||_2`` over a disturbance set of ``r`` variables.

    Examples
    --------
    >>> from netcoh.analysis.nadir_sets import NormBall, SingleInfeedLoss
    >>> set_sup2(NormBall(0.5, 2), 4), set_sup2(SingleInfeedLoss([1.0, 3.0]), 2)
    (0.5, 3.0)
    """
    if isinstance(sset, NormBall):
        return float(sset.rho) * (np.sqrt(r) if sset.p == np.inf else 1.0)
    caps = coordinate_sups(sset.value, r)        # |u_j| <= value(e_j): a symmetric support
    if isinstance(sset, SingleInfeedLoss):      # one unit at a time
        return float(caps.max(initial=0.0))
    out = float(np.sqrt(np.sum(caps ** 2)))
    if isinstance(sset, BudgetBox):             # sum p^2 <= max p * sum p
        out = min(out, float(np.sqrt(caps.max(initial=0.0) * sset.budget)))
    return out


def _tail_bounds(rho: float, gamma: float, H: float, most: int = 4000) -> np.ndarray:
    """``(1 + sqrt 2) sum_{k > K} 2 H (rho gamma H / 2)^k / (k + 1)!`` for ``K = 0..most``:
    the neglected terms of a row over ``[0, H]`` when ``K + 1`` terms are kept, per unit of
    ``||B^T|| ||C^T e_i||`` (``|J_k(x)| <= (x/2)^k / k!``, ``|T_k| <= rho^k`` on the
    ellipse, Crouzeix-Palencia's ``1 + sqrt 2``).

    Examples
    --------
    >>> tb = _tail_bounds(1.1, 40.0, 1.0)
    >>> bool(np.all(np.diff(tb) <= 0)), int(np.argmax(tb <= 1e-15))
    (True, 84)
    """
    x = rho * gamma * H / 2.0
    if not x > 0:
        return np.zeros(most + 1)
    k = np.arange(1, most + 400)
    logs = k * np.log(x) - gammaln(k + 2.0) + np.log((1.0 + np.sqrt(2.0)) * 2.0 * H)
    after = np.logaddexp.accumulate(logs[::-1])[::-1]       # sum over k' >= k
    with np.errstate(over="ignore"):                        # beyond float: no bound (inf)
        return np.exp(after[: most + 1])                    # K = k - 1


def _phi_samples(times, c, gamma, y):
    """``(e^{t z} - 1) / z`` at ``z = c + i gamma y`` for every time (rows)."""
    t = np.asarray(times, dtype=float)[:, None]
    z = c + 1j * gamma * np.asarray(y)[None, :]
    w = t * z
    small = np.abs(w) < 0.5
    out = (np.exp(w) - 1.0) / np.where(small, 1.0, z)
    if small.any():                 # series of (e^w - 1)/w, times t
        ws = w[small]
        acc = np.zeros(ws.shape, dtype=complex)
        term = np.ones(ws.shape, dtype=complex)
        for k in range(1, 24):
            acc += term
            term = term * ws / (k + 1)
        out[small] = acc * np.broadcast_to(t, w.shape)[small]
    return out


class EnergyRows:
    """Rows of ``S(t) M`` over ``[0, horizon]`` from one Chebyshev-Bessel expansion per bus.

    Parameters
    ----------
    system : NetworkSystem
        Swing or swing-turbine machines on an integrator coupling (:func:`energy_form`).
    M : ndarray (n, r), optional
        Input map: rows of ``S(t) M`` (default the identity, ``r = n``).
    horizon : float
        The window (s); the expansion holds on ``[0, horizon]``.
    value : callable
        ``value(rows (k, r)) -> (k,)``, the set's functional ``sup_u |row . u|``.
    sup2 : float
        ``sup ||u||_2`` over the set (:func:`set_sup2`): ``value(x) <= sup2 ||x||_2``.
    ball2 : float, optional
        The radius when the set is a 2-norm ball (the functional is then a scaled norm).

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir_sets import NormBall
    >>> nodal = nc.nodal.swing_turbine([1.0, 2.0, 3.0], 1.0, 2.0, 5.0)
    >>> sys = nc.NetworkSystem.from_laplacian(10 * nc.laplacian.complete(3), nodal=nodal)
    >>> rows = EnergyRows(sys, horizon=1.0, value=NormBall(1.0, 2).value, sup2=1.0)
    >>> Y = rows.expand([0])
    >>> R = rows.rows(Y, [0.5])[0, 0]                       # row 0 of S(0.5)
    >>> S = nc.step_response(sys, np.eye(3)[0], [0.5]).outputs[0]
    >>> bool(np.allclose(R, S, atol=1e-13))                 # S is symmetric here
    True
    """

    def __init__(self, system, M=None, *, horizon: float, value, sup2: float,
                 ball2: float | None = None):
        form = energy_form(system)
        if form is None:
            raise InputError("`system` must be swing or swing-turbine machines on an "
                             "integrator coupling with a symmetric Laplacian (see "
                             f"energy_form), got nodes of kind {system.nodal.kind!r}")
        m, d, droop, tau, L = form
        n = m.size
        gov = np.flatnonzero(droop > 0)
        ng = gov.size
        # state (w, q over governed machines, theta); the adjoint's matrix A^T
        Pg = sp.csr_matrix((np.ones(ng), (gov, np.arange(ng))), shape=(n, ng))
        A = sp.bmat([[sp.diags(-d / m), -sp.diags(1.0 / m) @ Pg, -sp.diags(1.0 / m) @ L],
                     [sp.diags(droop[gov] / tau[gov]) @ Pg.T, sp.diags(-1.0 / tau[gov]), None],
                     [sp.identity(n), None, sp.csr_matrix((n, n))]], format="csr")
        N = A.shape[0]
        # numerical range in the energy norm: [-h, 0] x i[-j, j]
        h = float(max((d / m).max(initial=0.0), (1.0 / tau[gov]).max(initial=0.0)))
        s = sp.diags(1.0 / np.sqrt(m))
        lam = _largest_eigenvalue_bound((s @ L @ s).tocsr())
        kappa = float(np.sqrt(droop[gov] / (tau[gov] * m[gov])).max(initial=0.0))
        j = float(np.sqrt(lam)) + kappa
        H = float(horizon)
        self.c = -0.5 * h
        self.gamma, self.rho, self.degree = self._plan(h, j, H)
        self.op = ((A.T - self.c * sp.identity(N)) * (2.0 / self.gamma)).tocsr()
        self.n, self.N, self.m = n, N, m
        self.M = None if M is None else np.asarray(M, dtype=float)
        self.r = n if M is None else self.M.shape[1]
        self._rho = None if ball2 is None else float(ball2)      # a 2-norm ball's radius
        self.value = value if ball2 is None else \
            (lambda X: self._rho * np.sqrt(np.einsum("...i,...i->...", X, X)))
        mnorm = 1.0 if M is None else float(np.linalg.norm(self.M, 2)) * (1.0 + 1e-12)
        zscale = 1.0 / np.sqrt(m)                     # ||C^T e_i|| in the energy norm
        bt = float(zscale.max())                      # ||B^T|| from the energy norm
        # ||B^T A^T||^2 = lambda_max(diag(d^2/m^3 + droop/(tau m^2)) + m^-1 L m^-1)
        diag = d ** 2 / m ** 3 + np.where(droop > 0, droop / (tau * m ** 2), 0.0)
        mi = sp.diags(1.0 / m)
        bat = float(np.sqrt(_largest_eigenvalue_bound((mi @ L @ mi + sp.diags(diag)).tocsr())))
        scale = float(sup2) * mnorm * zscale              # per bus
        self.K1 = scale * bt
        self.K2 = scale * bat
        self.tail = scale * bt * self._tails[self.degree]
        self._npts = 2 * self.degree + 33                 # cosine-transform samples
        self._im = 1.0 / m

    def _plan(self, h: float, j: float, H: float):
        """Half-length ``gamma >= j`` of the segment, the ellipse ``rho`` through the
        rectangle's corners and the degree: the fewest terms whose tail bound (relative to
        the rows' scale) is below ``_TAIL_TOL H``; keeps that plan's tail bounds."""
        best = None
        for g in np.maximum(j, 1e-12) * np.linspace(1.0, 1.6, 25):
            y = (j - 0.5j * h) / g
            sq = np.sqrt(y * y - 1.0 + 0j)
            rho = max(abs(y + sq), abs(y - sq), 1.0)
            tails = _tail_bounds(rho, g, H)
            ok = tails <= _TAIL_TOL * max(H, 1e-300)
            deg = int(np.argmax(ok)) if ok.any() else tails.size - 1
            if best is None or deg < best[2]:
                best = (float(g), float(rho), max(deg, 1), tails)
        self._tails = best[3]
        return best[:3]

    def coefficients(self, times) -> np.ndarray:
        """``a_k(t)`` (T, degree + 1): ``r_i(t) = sum_k a_k(t) y_k`` (:meth:`expand`)."""
        times = np.atleast_1d(np.asarray(times, dtype=float))
        P = self._npts - 1
        y = np.cos(np.pi * np.arange(P + 1) / P)
        f = _phi_samples(times, self.c, self.gamma, y)
        b = dct(f.real, type=1, axis=1) / P + 1j * dct(f.imag, type=1, axis=1) / P
        b[:, 0] *= 0.5
        b = b[:, : self.degree + 1]
        # f(y) = sum a_k i^k T_k(y): a_k = b_k (-i)^k (real up to rounding)
        return np.real(b * (-1j) ** np.arange(self.degree + 1))

    def expand(self, buses, out=None) -> np.ndarray:
        """``Y`` (degree + 1, n, b): ``B^T Q_k(A~) C^T e_bus`` for each bus (its frequency
        rows over the inertia).

        The rows of ``S(t) M`` are ``M^T sum_k a_k(t) Y[k]`` (:meth:`rows`).
        ``out``: an array of that shape to fill (fresh memory for every block would cost
        a page fault per page, a sizeable part of the time on large networks).
        """
        buses = np.asarray(buses, dtype=int)
        b, n = buses.size, self.n
        K = self.degree
        if out is None or out.shape != (K + 1, n, b):
            out = np.empty((K + 1, n, b))
        Q0 = np.zeros((self.N, b))
        Q0[buses, np.arange(b)] = 1.0
        im = self._im[:, None]
        np.multiply(Q0[:n], im, out=out[0])
        Q1 = np.zeros((self.N, b))
        _accumulate(self.op, Q0, Q1)
        Q1 *= 0.5
        np.multiply(Q1[:n], im, out=out[1])
        for k in range(2, K + 1):
            _accumulate(self.op, Q1, Q0)              # Q_{k+1} = 2 A~ Q_k + Q_{k-1}
            Q0, Q1 = Q1, Q0
            np.multiply(Q1[:n], im, out=out[k])       # B^T Q_k: frequency rows over m
        return out

    def _grid(self, Y, times) -> np.ndarray:
        """``sum_k a_k(t) Y[k]`` (T, n, b): one matrix product."""
        K1, n, b = Y.shape
        a = self.coefficients(times)[:, :K1]              # the terms ``Y`` holds
        return (a @ Y.reshape(K1, n * b)).reshape(a.shape[0], n, b)

    def rows(self, Y, times) -> np.ndarray:
        """Rows (b, T, r) at ``times`` from :meth:`expand`."""
        R = self._grid(Y, times).transpose(2, 0, 1)
        return R if self.M is None else R @ self.M

    def F(self, Y, times) -> np.ndarray:
        """The set's functional of every row at every time (b, T)."""
        if self._rho is not None and self.M is None:       # a 2-norm ball: no transposes
            R = self._grid(Y, times)
            return self._rho * np.sqrt(np.einsum("tnb,tnb->bt", R, R))
        R = self.rows(Y, times)
        b, T, r = R.shape
        return np.asarray(self.value(R.reshape(b * T, r)), dtype=float).reshape(b, T)

    def F_pairs(self, Y, cols, times) -> np.ndarray:
        """The functional of bus column ``cols[k]`` of ``Y`` at ``times[k]`` (k,)."""
        cols = np.asarray(cols, dtype=int)
        a = self.coefficients(times)
        R = np.empty((cols.size, self.n))
        for p in np.unique(cols):
            k = np.flatnonzero(cols == p)
            R[k] = a[k] @ Y[:, :, p]
        R = R if self.M is None else R @ self.M
        return np.asarray(self.value(R), dtype=float)


def _accumulate(op, X, Y):
    """``Y += op @ X`` for C-contiguous dense ``X``, ``Y`` (in place when scipy's kernel
    is at hand: a temporary per product would cost as much as the product)."""
    if _csr_matvecs is not None and op.indptr.dtype == op.indices.dtype:
        _csr_matvecs(op.shape[0], op.shape[1], X.shape[1], op.indptr, op.indices, op.data,
                     X.ravel(), Y.ravel())
    else:
        Y += op @ X


def _bound(Fa, Fb, K1, K2, tail, delta):
    """Upper bound of ``F`` on intervals of length ``delta`` from its truncated values at
    the ends (:func:`~netcoh.analysis.nadir_adjoint.pair_bound`, the neglected terms
    added)."""
    return pair_bound(Fa + tail, Fb + tail, K1, K2, delta)


def _bisect(rows, Y, K, p, a, Fa, Fb, width, lim, max_rounds, on_mid=None, chunk=64):
    """Halve the intervals ``[a, a + width]`` of bus columns ``p`` of ``Y`` (values ``Fa``,
    ``Fb`` at their ends; ``K = (K1, K2, tail)`` per column) while their bound passes
    ``lim`` (a float, or a callable returning the current one); ``on_mid(p, t, F)`` sees
    every midpoint value. Returns the columns and bounds of the intervals still open after
    ``max_rounds`` halvings (empty when all closed)."""
    K1, K2, tail = K
    limit = lim if callable(lim) else (lambda: lim)
    for _ in range(max_rounds):
        if p.size == 0:
            break
        half = 0.5 * width
        tm = a + half
        Fm = np.empty(p.size)
        for s in range(0, p.size, chunk):
            Fm[s:s + chunk] = rows.F_pairs(Y, p[s:s + chunk], tm[s:s + chunk])
        if on_mid is not None:
            on_mid(p, tm, Fm)
        L = limit()
        uL = _bound(Fa, Fm, K1[p], K2[p], tail[p], half)
        uR = _bound(Fm, Fb, K1[p], K2[p], tail[p], half)
        kL, kR = uL > L, uR > L
        p = np.concatenate([p[kL], p[kR]])
        a = np.concatenate([a[kL], tm[kR]])
        Fa, Fb = np.concatenate([Fa[kL], Fm[kR]]), np.concatenate([Fm[kL], Fb[kR]])
        width = half
    return p, _bound(Fa, Fb, K1[p], K2[p], tail[p], width)


def energy_search(rows: EnergyRows, n: int, t: np.ndarray, rtol: float, n_refine: int,
                  block: int | None = None, max_rounds: int = 60, workers: int | None = None,
                  level: float | None = None):
    """Supremum of ``F`` over buses and ``[t[0], t[-1]]``, certified, from the expansion.

    As :func:`~netcoh.analysis.nadir_timedomain.timedomain_search` (same arguments and
    returns), with :class:`EnergyRows`: each block of buses is expanded once (the only
    sparse products) and evaluated on the grid ``t``; the buses whose grid bounds pass the
    best value found are evaluated again on the grid refined to steps of at most
    ``2 / gamma`` (where the energy bounds of the derivatives become tight), then refined
    (Brent) and certified (bisection) from their stored terms.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir_sets import NormBall
    >>> nodal = nc.nodal.swing_turbine([1.0, 2.0, 3.0], 1.0, 2.0, 5.0)
    >>> sys = nc.NetworkSystem.from_laplacian(10 * nc.laplacian.complete(3), nodal=nodal)
    >>> rows = EnergyRows(sys, horizon=1.0, value=NormBall(0.5, 2).value, sup2=0.5, ball2=0.5)
    >>> F, grid, value, bus, time, upper = energy_search(
    ...     rows, 3, np.linspace(0.0, 1.0, 11), 1e-6, 2)
    >>> bool(grid <= value <= upper <= value * (1 + 1e-6)), bus
    (True, 2)
    """
    T = t.size
    if T < 2:
        raise InputError(f"`t` must hold at least two times, got {T}")
    h = float(t[1] - t[0])
    q = max(1, int(np.ceil(h * rows.gamma / 2.0)))      # fine steps per grid step
    tf = t[0] + (h / q) * np.arange((T - 1) * q + 1)
    tf[-1] = t[-1]
    d = h / q
    if block is None:
        # a block of adjoint states near 4 MB (the sparse products stream it from cache),
        # its coefficients within about 256 MB
        block = int(np.clip(min(4e6 // (8 * rows.N),
                                2.56e8 // (8 * (rows.degree + 1) * max(rows.n, 1))), 1, 64))
    # likely worst buses first: the lightest machines (largest initial slope)
    order = np.argsort(rows.m, kind="stable")
    F = np.empty((n, T))
    above = np.zeros(n, dtype=bool)
    best = [-np.inf, 0, 0.0]
    open_ub = []

    def offer(v, i, tt):
        if v > best[0]:
            best[:] = [float(v), int(i), float(tt)]

    spare = SimpleQueue()                 # coefficient arrays of finished blocks, reused

    def grid_pass(bus):
        try:
            buf = spare.get_nowait()
        except Empty:
            buf = None
        Y = rows.expand(bus, out=buf)
        return bus, Y, rows.F(Y, t)

    def fine(Y, cols, K):
        """Values on the fine grid and the bounds of its intervals, for columns ``cols``."""
        Ff = rows.F(Y[:, :, cols] if cols.size < Y.shape[2] else Y, tf)
        Kc = tuple(k[cols] for k in K)
        return Ff, _bound(Ff[:, :-1], Ff[:, 1:], Kc[0][:, None], Kc[1][:, None],
                          Kc[2][:, None], d)

    def _block(bus, Y, Fc):
        """Refine and certify one block from its grid values (in block order)."""
        F[bus] = Fc
        K = (rows.K1[bus], rows.K2[bus], rows.tail[bus])
        b = bus.size
        jc = np.argmax(Fc, axis=1)
        gc = Fc[np.arange(b), jc]
        k0 = int(np.argmax(gc))
        offer(gc[k0], bus[k0], t[jc[k0]])
        # the grid's own bounds rule most buses out; the others get the fine grid
        ubc = _bound(Fc[:, :-1], Fc[:, 1:], K[0][:, None], K[1][:, None], K[2][:, None], h)
        lim = best[0] + rtol * abs(best[0])
        cand = np.flatnonzero(ubc.max(axis=1) > lim)
        if level is not None:
            hit = Fc.max(axis=1) > level
            cand = np.union1d(cand, np.flatnonzero(
                (ubc.max(axis=1) > level * (1 + rtol)) & ~hit))
        if cand.size == 0:
            if level is not None:
                above[bus] = hit
            return
        Ff, ub = fine(Y, cand, K)
        jmax = np.argmax(Ff, axis=1)
        gmax = Ff[np.arange(cand.size), jmax]
        for i in np.argsort(-gmax, kind="stable")[:n_refine]:
            p = cand[i]
            if ub[i].max() <= best[0] * (1 + rtol):
                continue
            lo, hi = tf[max(jmax[i] - 1, 0)], tf[min(jmax[i] + 1, tf.size - 1)]
            res = minimize_scalar(
                lambda x, p=p, Y=Y: -float(rows.F_pairs(Y, [p], [x])[0]), bounds=(lo, hi),
                method="bounded", options={"xatol": 1e-10 * max(1.0, hi)})
            offer(max(-float(res.fun), gmax[i]), bus[p],
                  float(res.x) if -res.fun >= gmax[i] else tf[jmax[i]])
        if level is not None:
            hit[cand[Ff.max(axis=1) > level]] = True
            pi, pk = np.nonzero((ub > level * (1 + rtol)) & ~hit[cand][:, None])

            def mark(pp, tm, Fm, hit=hit):
                hit[pp[Fm > level]] = True

            left, _ = _bisect(rows, Y, K, cand[pi], tf[pk], Ff[pi, pk], Ff[pi, pk + 1], d,
                              level * (1 + rtol), max_rounds, on_mid=mark)
            hit[left] = True        # undecided: its supremum could not be shown below
            above[bus] = hit
        # certification: bisect every interval that could still beat the best
        pi, pk = np.nonzero(ub > best[0] + rtol * abs(best[0]))
        if pi.size == 0:
            return

        def seen(pp, tm, Fm, bus=bus):
            k = int(np.argmax(Fm))
            offer(Fm[k], bus[pp[k]], tm[k])

        _, left = _bisect(rows, Y, K, cand[pi], tf[pk], Ff[pi, pk], Ff[pi, pk + 1], d,
                          lambda: best[0] + rtol * abs(best[0]), max_rounds, on_mid=seen)
        if left.size:
            open_ub.append(float(left.max()))

    blocks = [order[a0:a0 + block] for a0 in range(0, n, block)]
    # the refinement runs block after block in a fixed order, so the answer is the same
    # for any number of workers
    for bus, Y, Fc in threaded_in_order(grid_pass, blocks, workers):
        _block(bus, Y, Fc)
        spare.put(Y)
    grid_value = float(F.max())
    value, bus_i, time = best
    upper = max([value] + open_ub)
    out = (F, grid_value, float(value), int(bus_i), float(time), float(upper))
    return out if level is None else (*out, above)
