"""Coherence: incoherence from the harmonic-mean aggregate ``g_hat(s)``, and its bound.

For a connected network the transfer matrix approaches the rank-one matrix
``g_hat(s) 1 1^T`` with ``g_hat(s) = (sum_i 1/g_i(s))^{-1}`` when the *effective
algebraic connectivity* ``|f(s)| lambda_2(L)`` is large (Min, Pates & Mallada,
Automatica 2025, Lemma 1):

``||T(s) - g_hat(s) 1 1^T|| <= (M1 M2 + 1)^2 / (|f(s)| lambda_2 - M2 - M1 M2^2)``

whenever the denominator exceeds zero, with ``M1 = n |g_hat(s)|`` and
``M2 = max_i |1/g_i(s)|``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from .._validation import as_complex_points, as_real
from ..exceptions import InputError, SolverError
from ..network.system import NetworkSystem, _check_system, sparse_lu
from .frequency import _check_points, as_omega, evaluate_transfer

__all__ = [
    "CoherenceResult",
    "coherence",
    "incoherence",
    "incoherent_part",
    "lemma_bound",
]


# -- incoherence ------------------------------------------------------------------------

def _as_points(system: NetworkSystem, s) -> np.ndarray:
    """Finite complex points ``s``, away from the poles of the coupling ``f``."""
    s = as_complex_points(s, "s")
    with np.errstate(all="ignore"):
        bad = ~np.isfinite(system.coupling(s)[:, 0])
    if np.any(bad):
        raise InputError(f"`s` must avoid the poles of the coupling f(s), got s = {s[bad][0]}"
                         + (" (for f = 1/s use a small positive frequency)"
                            if system.coupling.kind == "integrator" else ""))
    return s


def _aggregate_at(ginv: np.ndarray) -> np.ndarray:
    """``g_hat = 1 / sum_i 1/g_i`` at each point (rows of ``ginv``).

    Where some ``g_i`` has a zero its inverse is infinite (complex infinities may sum to NaN),
    and the harmonic mean is exactly 0 there.
    """
    zero = ~np.all(np.isfinite(ginv), axis=1)
    total = np.where(zero[:, None], 1.0, ginv).sum(axis=1)
    return np.where(zero, 0.0, 1.0 / total)


def lemma_bound(system: NetworkSystem, s) -> tuple[np.ndarray, np.ndarray]:
    """Lemma bound on ``||T(s) - g_hat(s) 1 1^T||`` at points ``s``.

    With ``M1 = n |g_hat(s)|`` and ``M2 = max_i |1/g_i(s)|`` the bound is
    ``(M1 M2 + 1)^2 / (|f(s)| lambda_2 - M2 - M1 M2^2)``.

    Parameters
    ----------
    system : NetworkSystem
    s : complex or array_like of complex, shape (k,)
        Laplace variable(s), e.g. ``1j * omega`` with ``omega`` in rad/s.

    Returns
    -------
    bound : ndarray, shape (k,)
        The bound on the spectral norm; NaN where the hypothesis
        ``|f(s)| lambda_2 >= M2 + M1 M2^2`` fails, ``inf`` where it holds with equality.
    holds : ndarray of bool, shape (k,)
        Whether the hypothesis holds.

    Examples
    --------
    >>> import netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(100 * nc.laplacian.complete(4),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=4))
    >>> bound, holds = lemma_bound(sys, [0.1j])
    >>> bool(holds[0]), bool(bound[0] < 1)
    (True, True)
    """
    system = _check_system(system)
    s = _as_points(system, s)
    fvals, ginv = _check_points(system, s)
    n = system.n
    gh = _aggregate_at(ginv)
    M1 = n * np.abs(gh)
    M2 = np.abs(ginv).max(axis=1)
    ec = np.abs(fvals) * system.lambda2
    with np.errstate(invalid="ignore"):            # M2 = inf at a zero of some g_i
        holds = np.isfinite(M2) & (ec >= M2 + M1 * M2**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(holds, (M1 * M2 + 1) ** 2 / (ec - M2 - M1 * M2**2), np.nan)
    bound = np.where(holds & ~np.isfinite(bound), np.inf, bound)
    return bound, holds


def incoherent_part(system: NetworkSystem, s) -> np.ndarray:
    """``E(s) = T(s) - g_hat(s) 1 1^T`` at complex points ``s``, dense, shape ``(k, n, n)``.

    ``T`` and ``g_hat 1 1^T`` agree to ``O(|f(s)| lambda_2)^-1`` where the network is
    coherent (at low frequency for ``f = 1/s``), so forming ``T`` and subtracting would
    lose ``E`` to rounding (the factorisation of ``diag(1/g) + f L`` has condition number
    about ``|f| lambda_n n |g_hat|``). Instead ``E`` comes from the block inverse in an
    orthonormal basis ``[1/sqrt(n), U]`` (one Householder reflection): with ``d = 1/g`` and
    ``L 1 = 0``, ``a = 1^T d / n``, ``b = U^T d / sqrt(n)`` and the Schur complement
    ``S = U^T (diag d + f L) U - b b^T / a``, ``E = Q Z Q^T`` with the blocks
    ``Z_11 = b^T S^{-1} b / a^2``, ``Z_21 = Z_12^T = -S^{-1} b / a`` and ``Z_22 = S^{-1}``,
    where ``S`` is well conditioned when ``f L`` dominates. Points at a zero of some
    ``g_i`` or where ``sum_i 1/g_i = 0`` are taken from ``T`` itself.

    Parameters
    ----------
    system : NetworkSystem
    s : array_like of complex, shape (k,)

    Returns
    -------
    ndarray of complex, shape (k, n, n)

    Examples
    --------
    At ``omega = 1e-9`` rad/s the incoherent part of a swing network is ``O(omega)``:

    >>> import numpy as np, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(6, 1),
    ...                                       nodal=nc.nodal.swing(np.arange(1, 7) / 4, 0.5))
    >>> E = incoherent_part(sys, [1e-9j, 1e-6j])
    >>> ratio = np.linalg.norm(E[1], 2) / np.linalg.norm(E[0], 2)
    >>> bool(abs(ratio - 1e3) < 1e-6 * 1e3)
    True
    """
    system = _check_system(system)
    s = as_complex_points(s, "s")
    return _incoherent(system, s, *_check_points(system, s), _dense_laplacian(system))


def _dense_laplacian(system: NetworkSystem) -> np.ndarray:
    L = system.laplacian
    return np.asarray(L.toarray() if sp.issparse(L) else L, dtype=float)


def _incoherent(system, s, fvals, ginv, L) -> np.ndarray:
    """:func:`incoherent_part` at checked points ``s`` with their ``fvals, ginv`` (from
    ``_check_points``) and the dense Laplacian ``L``."""
    n, k = system.n, s.size
    total = ginv.sum(axis=1) if n else np.zeros(k)
    ok = np.all(np.isfinite(ginv), axis=1) & (total != 0) & np.isfinite(total)
    out = np.empty((k, n, n), dtype=complex)
    if not ok.all():
        bad = np.flatnonzero(~ok)
        out[bad] = evaluate_transfer(system, s[bad]) - _aggregate_at(ginv[bad])[:, None, None]
    if not ok.any():
        return out
    idx = np.flatnonzero(ok)
    out[idx] = _incoherent_core(L, fvals[idx], ginv[idx])
    return out


def _incoherent_core(L: np.ndarray, fvals: np.ndarray, ginv: np.ndarray) -> np.ndarray:
    """:func:`incoherent_part` from a dense Laplacian ``L`` (zero row sums), the coupling
    ``fvals`` (k,) and the nodes' inverses ``ginv`` (k, n) at the points, all finite with
    ``sum_i ginv != 0``; shape ``(k, n, n)``.

    Examples
    --------
    >>> import numpy as np
    >>> L = np.array([[1.0, -1.0], [-1.0, 1.0]])
    >>> E = _incoherent_core(L, np.array([1.0 + 0j]), np.array([[1.0 + 0j, 3.0 + 0j]]))
    >>> T = np.linalg.inv(np.diag([1.0, 3.0]) + L)
    >>> bool(np.allclose(E[0], T - 1 / 4.0))
    True
    """
    k, n = ginv.shape
    if n == 1:
        return np.zeros((k, 1, 1), dtype=complex)
    fv, gi = fvals, ginv
    # Householder reflection H = I - 2 w w^T with H e_1 = 1/sqrt(n): Q = H
    w = np.full(n, -1.0 / np.sqrt(n))
    w[0] += 1.0
    w /= np.linalg.norm(w)

    def reflect(X):                          # H X H for symmetric X, batched (k, n, n)
        Xw = X @ w
        wXw = Xw @ w
        return X - 2.0 * (w[None, :, None] * Xw[:, None, :] + Xw[:, :, None] * w[None, None, :]) \
            + 4.0 * wXw[:, None, None] * np.outer(w, w)[None]

    K = fv[:, None, None] * L[None]
    K[:, np.arange(n), np.arange(n)] += gi
    C = reflect(K)[:, 1:, 1:]
    d = gi / np.sqrt(n)                      # H K H e_1 = H d / sqrt(n), using L 1 = 0 exactly
    col = d - 2.0 * (d @ w)[:, None] * w[None, :]
    a, b = col[:, 0], col[:, 1:]
    Si = np.linalg.inv(C - b[:, :, None] * b[:, None, :] / a[:, None, None])
    Sb = (Si @ b[:, :, None])[:, :, 0]
    Z = np.empty((k, n, n), dtype=complex)
    Z[:, 0, 0] = np.einsum("ki,ki->k", b, Sb) / a ** 2
    Z[:, 1:, 0] = -Sb / a[:, None]
    Z[:, 0, 1:] = Z[:, 1:, 0]
    Z[:, 1:, 1:] = Si
    return reflect(Z)


def _largest_sv(apply_x, apply_xh, V0: np.ndarray, tol: float = 1e-10,
                maxit: int = 200) -> tuple[float, np.ndarray]:
    """Largest singular value of ``X`` by block Krylov iteration on ``X^H X``.

    The Krylov blocks ``V0, (X^H X) V0, ...`` are orthonormalised and the largest Ritz value
    ``theta`` of ``X^H X`` on their span is taken once its residual ``r`` satisfies
    ``min(||r||, ||r||^2 / gap) <= tol * theta``, with ``gap`` the distance from ``theta`` to
    the next Ritz value: an eigenvalue lies within ``||r||`` of ``theta``, and within
    ``||r||^2 / gap`` by the Kato-Temple bound when ``gap`` is the distance to the rest of
    the spectrum (here estimated by the Ritz values, which is what makes the error of the
    Ritz value quadratic in the residual); the singular value is then accurate to half of
    that relative distance. Blocks of a few vectors cost little more than
    one solve each (the factors are read once), which makes this several times cheaper than
    single-vector Lanczos here. Returns ``sigma`` and the top Ritz vectors (a warm start for
    a neighbouring frequency).
    """
    n, b = V0.shape
    Q = la.qr(V0, mode="economic")[0]
    blocks, prods = [], []
    for _ in range(maxit):
        W = apply_xh(apply_x(Q))
        blocks.append(Q)
        prods.append(W)
        B, AB = np.hstack(blocks), np.hstack(prods)
        H = B.conj().T @ AB
        theta_all, Z = la.eigh(0.5 * (H + H.conj().T))
        theta, z = theta_all[-1], Z[:, -1]
        res = np.linalg.norm(AB @ z - theta * (B @ z))
        gap = theta - theta_all[-2] if theta_all.size > 1 else theta
        if min(res, res * res / max(gap, 1e-300)) <= tol * theta or B.shape[1] >= n:
            return float(np.sqrt(max(theta, 0.0))), B @ Z[:, ::-1][:, :b]
        N = W
        for _ in range(2):                     # orthogonalise against the basis, twice
            N = N - B @ (B.conj().T @ N)
        Q, R = la.qr(N, mode="economic")
        d = np.abs(np.diag(R))
        Q = Q[:, d > 1e-13 * max(d.max(), 1e-300)]
        if Q.shape[1] == 0:                    # the space is invariant: Ritz values are exact
            return float(np.sqrt(max(theta, 0.0))), B @ Z[:, ::-1][:, :b]
    raise SolverError("the iterative norm of T - g_hat 1 1^T did not converge")


#: A dense Laplacian with at most this fraction of non-zero entries is tried as a sparse one.
_SPARSE_TRY_DENSITY = 0.05
#: ... and kept sparse when its complex LU factors have at most this fraction of n^2 entries.
_SPARSE_KEEP_FILL = 0.1


def _factorable_laplacian(L, fvals, ginv):
    """``L`` in the form whose factorisations at the points are cheapest: complex CSC when it
    is sparse, or stored densely but mostly zero with factors that stay sparse (a network
    given as a dense array of a sparse graph: a sparse LU is then many times cheaper than a
    dense one); otherwise the dense array."""
    n = L.shape[0]
    if sp.issparse(L):
        return sp.csc_matrix(L, dtype=complex)
    if n < 64 or np.count_nonzero(L) > _SPARSE_TRY_DENSITY * n * n:
        return L
    good = np.flatnonzero(np.all(np.isfinite(ginv), axis=1))
    if good.size == 0:
        return L
    Ls = sp.csc_matrix(L, dtype=complex)
    j = good[0]
    try:
        lu = sparse_lu(sp.diags(ginv[j]) + fvals[j] * Ls)
    except RuntimeError:                      # singular at that point: let the dense path say
        return L
    return Ls if lu.L.nnz + lu.U.nnz <= _SPARSE_KEEP_FILL * n * n else L


def incoherence(system: NetworkSystem, s, *, method: str = "auto") -> np.ndarray:
    """``||T(s) - g_hat(s) 1 1^T||_2`` at complex points ``s`` (shape ``(k,)``).

    ``method="dense"`` forms ``T`` and takes a batched SVD; ``"iterative"`` factorises
    ``diag(1/g) + f L`` once per point (a sparse LU when ``L`` is sparse, or stored densely
    but mostly zero with sparse factors; a complex-symmetric LDL^T otherwise) and finds the
    largest singular value by block Krylov iteration on solves (relative accuracy about
    5e-11), never forming ``T``; ``"auto"`` picks dense up to 300 nodes.

    Parameters
    ----------
    system : NetworkSystem
    s : complex or array_like of complex, shape (k,)
        Laplace variable(s), e.g. ``1j * omega`` with ``omega`` in rad/s.
    method : {"auto", "dense", "iterative"}, default "auto"
        How the spectral norm is computed (see above).

    Returns
    -------
    ndarray, shape (k,)
        The spectral norm at each point.

    Examples
    --------
    >>> import netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(5),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=5))
    >>> float(incoherence(sys, [1j])[0]) < 1
    True
    """
    system = _check_system(system)
    s = _as_points(system, s)
    if method not in ("auto", "dense", "iterative"):
        raise InputError(f"`method` must be 'auto', 'dense' or 'iterative', got {method!r}")
    n = system.n
    if method == "auto":
        method = "dense" if n <= 300 else "iterative"
    fvals, ginv = _check_points(system, s)
    gh = _aggregate_at(ginv)
    out = np.empty(s.size)
    if method == "dense":
        chunk = max(1, 2**26 // (16 * n * n))
        Ld = _dense_laplacian(system)
        for start in range(0, s.size, chunk):
            sl = slice(start, start + chunk)
            E = _incoherent(system, s[sl], fvals[sl], ginv[sl], Ld)
            out[sl] = np.linalg.norm(E, ord=2, axis=(1, 2))
        return out
    L = _factorable_laplacian(system.laplacian, fvals, ginv)
    ones = np.ones(n)
    if not sp.issparse(L):
        sytrf, sytrs, sytrf_lwork = la.get_lapack_funcs(
            ("sytrf", "sytrs", "sytrf_lwork"), (np.zeros((1, 1), complex),))
        lwork = max(int(sytrf_lwork(n)[0].real), n)

    def factor(j):
        """A solver for ``diag(1/g(s_j)) + f(s_j) L``, or None at a zero of some ``g_i``."""
        if not np.all(np.isfinite(ginv[j])):
            return None
        if sp.issparse(L):
            return sparse_lu(sp.diags(ginv[j]) + fvals[j] * L).solve
        M = fvals[j] * L
        M[np.diag_indices(n)] += ginv[j]
        # M is complex symmetric (not Hermitian): a blocked Bunch-Kaufman LDL^T factorisation
        # does half the work of an LU
        ldl, ipiv, info = sytrf(M.T, lwork=lwork, overwrite_a=True)   # M.T is M, in F order
        if info == 0:
            return lambda b: sytrs(ldl, ipiv, b)[0]
        M = fvals[j] * L                      # singular: an LU, as for any other matrix
        M[np.diag_indices(n)] += ginv[j]
        fac = la.lu_factor(M, overwrite_a=True, check_finite=False)
        return lambda b: la.lu_solve(fac, b, check_finite=False)

    # each point's iteration starts from the previous point's top vectors, which for
    # neighbouring frequencies is close to the answer; the next point's factorisation runs
    # in a second thread meanwhile (LAPACK releases the GIL; the solves of the iteration
    # are memory-bound and leave a core free)
    V0 = np.random.default_rng(0).standard_normal((n, min(4, n))).astype(complex)
    workers = 2 if (os.cpu_count() or 1) > 1 and s.size > 1 else 1
    with ThreadPoolExecutor(workers) as pool, threadpool_limits(1 if workers > 1 else None):
        nxt = pool.submit(factor, 0)
        for j in range(s.size):
            solve = nxt.result()
            if j + 1 < s.size:
                nxt = pool.submit(factor, j + 1)
            if solve is None:
                T = evaluate_transfer(system, s[j:j + 1])[0] - gh[j]
                out[j] = np.linalg.norm(T, 2)
                continue
            g, d = gh[j], ginv[j]

            # E = T - g 1 1^T = P^T T P with P = I - g d 1^T (T d = 1, so d^T E = 0): the
            # projections keep the solve's error along 1, which the ill-conditioning of
            # diag(d) + f L amplifies where the network is coherent, out of E V (forming
            # T V - g 1 1^T V lost E to rounding there). E is complex symmetric, so
            # E^H V = conj(E conj(V)).
            def mv(V, solve=solve, g=g, d=d):
                X = solve(V - g * np.outer(d, V.sum(axis=0)))
                return X - g * np.outer(ones, d @ X)

            def rmv(V, mv=mv):
                return np.conj(mv(np.conj(V)))

            out[j], V0 = _largest_sv(mv, rmv, V0)
    return out


@dataclass(frozen=True, eq=False)
class CoherenceResult:
    """Frequency-dependent coherence of a network.

    Attributes
    ----------
    omega : ndarray (k,)
        Frequencies, rad/s.
    incoherence : ndarray (k,)
        ``||T(j omega) - g_hat(j omega) 1 1^T||_2``.
    relative_incoherence : ndarray (k,)
        ``incoherence / ||g_hat 1 1^T||_2 = incoherence / (n |g_hat|)``.
        Infinite where some ``g_i`` has a zero but not all (``g_hat = 0`` there while
        ``T`` is not), NaN at a zero common to every ``g_i`` (both vanish).
    effective_connectivity : ndarray (k,)
        ``|f(j omega)| lambda_2(L)``.
    bound : ndarray (k,)
        Lemma bound where its hypothesis holds, NaN elsewhere.
    bound_holds : ndarray of bool (k,)
        Whether the lemma's hypothesis holds at each frequency, so that ``bound`` applies
        there (False where ``bound`` is NaN; not a violation of the bound).
    aggregate : ndarray (k,) complex
        ``g_hat(j omega)``.
    tol : float
        Tolerance on the relative incoherence that defines the bandwidth.
    bandwidth_rad_s : float
        Largest grid frequency below which the relative incoherence stays <= ``tol``
        (0 if even the lowest frequency exceeds it).

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(10 * nc.laplacian.ring_lattice(8, 2),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=8))
    >>> res = nc.coherence(sys, np.logspace(-2, 2, 9))
    >>> res.omega.shape, res.incoherence.shape
    ((9,), (9,))
    >>> list(res.to_frame().columns)[:2]
    ['omega_rad_s', 'incoherence']
    """

    omega: np.ndarray
    incoherence: np.ndarray
    relative_incoherence: np.ndarray
    effective_connectivity: np.ndarray
    bound: np.ndarray
    bound_holds: np.ndarray
    aggregate: np.ndarray
    tol: float
    bandwidth_rad_s: float

    def __post_init__(self):
        for name in ("omega", "incoherence", "relative_incoherence", "effective_connectivity",
                     "bound", "bound_holds", "aggregate"):
            getattr(self, name).setflags(write=False)

    def to_frame(self):
        """One row per frequency."""
        import pandas as pd

        return pd.DataFrame({
            "omega_rad_s": self.omega,
            "incoherence": self.incoherence,
            "relative_incoherence": self.relative_incoherence,
            "effective_connectivity": self.effective_connectivity,
            "bound": self.bound,
            "bound_holds": self.bound_holds,
            "aggregate_magnitude": np.abs(self.aggregate),
        })

    def plot(self, ax=None):
        """Incoherence, bound and relative incoherence against frequency (log-log).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is created when omitted.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np, netcoh as nc
        >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
        ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=3))
        >>> ax = nc.coherence(sys, np.logspace(-1, 1, 5)).plot()
        >>> ax.get_xlabel()
        'frequency (rad/s)'
        """
        from ..plotting import plot_coherence

        return plot_coherence(self, ax=ax)


def coherence(system: NetworkSystem, omega, *, tol: float = 0.1,
              method: str = "auto") -> CoherenceResult:
    """Frequency-dependent coherence of ``system`` on the grid ``omega`` (rad/s).

    Parameters
    ----------
    system : NetworkSystem
    omega : array_like (k,)
        Frequencies in rad/s, positive for ``f = 1/s``.
    tol : float
        Relative-incoherence tolerance defining the coherence bandwidth.
    method : {"auto", "dense", "iterative"}
        How the spectral norm is computed (see :func:`incoherence`).

    Returns
    -------
    CoherenceResult
        The incoherence and relative incoherence at each frequency, the lemma's bound where
        it holds, the effective connectivity and the coherence bandwidth.

    See Also
    --------
    netcoh.aggregate_dynamics : The coherent dynamics the network approaches.
    netcoh.incoherence : The incoherence alone, at chosen points.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(10 * nc.laplacian.ring_lattice(8, 2),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=8))
    >>> res = nc.coherence(sys, np.logspace(-2, 2, 9))
    >>> bool(res.incoherence[0] < res.incoherence[-1])
    True
    >>> 0 < res.bandwidth_rad_s < 100
    True
    """
    system = _check_system(system)
    w = as_omega(omega)
    tol_f = as_real(tol, "tol", low=0.0, low_open=True)
    order = np.argsort(w)
    w = w[order]
    s = 1j * w
    inc = incoherence(system, s, method=method)
    fvals, ginv = _check_points(system, s)
    gh = _aggregate_at(ginv)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = inc / (system.n * np.abs(gh))
    ec = np.abs(fvals) * system.lambda2
    bound, holds = lemma_bound(system, s)
    above = np.flatnonzero(rel > tol_f)
    if above.size == 0:
        bw = float(w[-1])
    elif above[0] == 0:
        bw = 0.0
    else:
        bw = float(w[above[0] - 1])
    return CoherenceResult(omega=w, incoherence=inc, relative_incoherence=rel,
                           effective_connectivity=ec, bound=bound, bound_holds=holds,
                           aggregate=gh, tol=tol_f, bandwidth_rad_s=bw)
