"""Frequency responses of the network: ``T(s) = (diag(1/g_i(s)) + f(s) L)^{-1}``.

The transfer matrix is obtained by solving the (complex symmetric) system matrix at
each frequency, never by inverting ``I + G f L`` (``G`` can be singular at zeros of
``g_i``) nor by polynomial transfer-function algebra. Dense Laplacians are solved in
batches over frequency; sparse ones are factorised once per frequency and only the
requested input columns are formed.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from .._validation import as_float_array
from ..exceptions import InputError
from ..network.system import NetworkSystem, _check_system, sparse_lu

__all__ = ["FrequencyResponse", "transfer_matrix", "evaluate_transfer", "as_omega"]

_DENSE_CHUNK_BYTES = 2**27      # 128 MiB of complex system matrices per batch
_MAX_OUTPUT_BYTES = 8 * 2**30   # refuse a result above 8 GiB
_THREADED_MAX_N = 256           # above this, multithreaded BLAS per matrix is the better split


def as_omega(omega, name: str = "omega") -> np.ndarray:
    """Validate a frequency grid in rad/s: finite, real, non-negative, 1-D.

    Parameters
    ----------
    omega : float or array_like
        Frequencies (rad/s); a scalar is one frequency.
    name : str
        Parameter name used in error messages.

    Returns
    -------
    ndarray (k,)
        The frequencies as a 1-D float array.

    Examples
    --------
    >>> as_omega(2.0).tolist(), as_omega([0, 1, 10]).tolist()
    ([2.0], [0.0, 1.0, 10.0])
    >>> as_omega([1.0, -1.0], "omega_rad_s")
    Traceback (most recent call last):
        ...
    netcoh.exceptions.InputError: `omega_rad_s` must be non-negative (rad/s), got -1.0
    """
    w = np.atleast_1d(as_float_array(omega, name))
    if w.ndim != 1:
        raise InputError(f"`{name}` must be 1-D, got shape {w.shape}")
    if w.size == 0:
        raise InputError(f"`{name}` must hold at least one frequency, got none")
    if np.any(w < 0):
        raise InputError(f"`{name}` must be non-negative (rad/s), got {w[w < 0][0]}")
    return w


def _input_index(system: NetworkSystem, inputs) -> np.ndarray:
    n = system.n
    if inputs is None:
        return np.arange(n)
    idx = []
    pos = {lab: i for i, lab in enumerate(system.labels)}
    for x in np.atleast_1d(np.asarray(inputs, dtype=object)):
        if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
            if not 0 <= int(x) < n:
                raise InputError(f"`inputs` must be node indices in 0..{n - 1} or labels, got {x}")
            idx.append(int(x))
        elif str(x) in pos:
            idx.append(pos[str(x)])
        else:
            raise InputError(f"`inputs` must be node indices or labels of the system, got {x!r}")
    if not idx:
        raise InputError("`inputs` must name at least one node, got none")
    return np.asarray(idx, dtype=int)


def _check_points(system: NetworkSystem, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fvals = system.coupling(s)[:, 0]
    bad = ~np.isfinite(fvals)
    if np.any(bad):
        s0 = s[bad][0]
        hint = (" (for f = 1/s, T(0) = g_hat(0) 1 1^T by continuity: use a small positive "
                "frequency or aggregate_dynamics(system)(0))") if system.coupling.kind == "integrator" else ""
        raise InputError(f"`omega` must avoid poles of the coupling f(s), got s = {s0}{hint}")
    ginv = system.nodal.inverse(s)
    return fvals, ginv


def evaluate_transfer(system: NetworkSystem, s, inputs=None) -> np.ndarray:
    """``T(s)[:, inputs]`` at arbitrary complex points ``s``; shape ``(k, n, m)``.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(2),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=2))
    >>> T = evaluate_transfer(sys, [1.0 + 0j])
    >>> np.allclose(T[0], np.linalg.inv(np.diag([2.0, 2.0]) + 1.0 * sys.laplacian))
    True
    """
    system = _check_system(system)
    s = np.atleast_1d(np.asarray(s, dtype=complex))
    if s.ndim != 1 or not np.all(np.isfinite(s)):
        raise InputError("`s` must be a 1-D array of finite complex points")
    cols = _input_index(system, inputs)
    n, m, k = system.n, cols.size, s.size
    if k * n * m * 16 > _MAX_OUTPUT_BYTES:
        raise InputError(
            f"the requested response ({k} frequencies x {n} x {m}) needs "
            f"{k * n * m * 16 / 2**30:.1f} GiB; select fewer `inputs` or frequencies")
    fvals, ginv = _check_points(system, s)
    out = np.empty((k, n, m), dtype=complex)
    at_zero = ~np.all(np.isfinite(ginv), axis=1)     # a zero of some g_i at this point
    if system.is_sparse:
        L = system.laplacian.tocsc().astype(complex)
        E = np.zeros((n, m), dtype=complex)
        E[cols, np.arange(m)] = 1.0
        for j in range(k):
            if at_zero[j]:
                out[j] = _solve_at_zero(system, s[j], cols)
                continue
            M = (sp.diags(ginv[j]) + fvals[j] * L).tocsc()
            try:
                out[j] = sparse_lu(M).solve(E)
            except RuntimeError as exc:
                raise InputError(f"`omega` hits a pole of the network T(s) at s = {s[j]}") from exc
        return out
    every_input = m == n and np.array_equal(cols, np.arange(n))
    if _modal_pays(system, k):
        modes = _modal_form(system)
        if modes is not None and np.all(
                np.abs(s[:, None] - modes[0][None, :]) > 1e-12 * np.maximum(np.abs(modes[0]), 1)):
            _modal_evaluate(modes, s, cols, every_input, out)
            return out
    L = np.asarray(system.laplacian)
    E = np.zeros((n, m), dtype=complex)
    E[cols, np.arange(m)] = 1.0
    good = np.flatnonzero(~at_zero)

    def solve_chunk(sel):
        M = fvals[sel, None, None] * L[None, :, :]
        M[:, np.arange(n), np.arange(n)] += ginv[sel]
        try:
            # all columns: LU + inversion (2 n^3) is cheaper than LU + n solves (8/3 n^3)
            out[sel] = (np.linalg.inv(M) if every_input
                        else np.linalg.solve(M, np.broadcast_to(E, (sel.size, n, m))))
        except np.linalg.LinAlgError as exc:
            raise InputError("`omega` hits a pole of the network T(s)") from exc

    chunk = max(1, _DENSE_CHUNK_BYTES // (16 * n * n))
    workers = min(os.cpu_count() or 1, 8)
    if workers > 1 and n <= _THREADED_MAX_N and good.size >= 4 * workers:
        # Many small factorisations: one BLAS thread each, frequencies split across threads
        # (numpy releases the GIL) beats multithreaded BLAS on 100x100 matrices by ~1.4x.
        chunk = min(chunk, -(-good.size // workers))
        with threadpool_limits(1), ThreadPoolExecutor(workers) as pool:
            list(pool.map(solve_chunk, [good[i:i + chunk] for i in range(0, good.size, chunk)]))
    else:
        for start in range(0, good.size, chunk):
            solve_chunk(good[start:start + chunk])
    for j in np.flatnonzero(at_zero):
        out[j] = _solve_at_zero(system, s[j], cols)
    return out


#: Largest eigenvector condition number for which the modal form is used (its rounding
#: error is about this factor times the unit roundoff, relative to the response).
_MODAL_COND_MAX = 1e4
_MODAL_MAX_STATES = 3000


def _modal_pays(system: NetworkSystem, k: int) -> bool:
    """One eigendecomposition of the ``N``-state realisation (about ``N^3`` work) against
    ``k`` dense factorisations of ``n x n`` complex matrices: worth it from a few dozen
    frequencies up (dense Laplacians only)."""
    if system.is_sparse:
        return False
    N = int(system.nodal.orders.sum()) + (system.n - 1) * (system.coupling.den.shape[1] - 1)
    return N <= _MODAL_MAX_STATES and k * system.n ** 3 >= 4 * N ** 3


def _modal_form(system: NetworkSystem):
    """``(lam, P, Q, D)`` with ``T(s) = P diag(1/(s - lam)) Q + D`` from ``A = W diag(lam) W^-1``
    of the grounded realisation (``P = C W``, ``Q = W^-1 B``), or None when ``W`` is too
    ill-conditioned for the form to be accurate (nearly defective ``A``)."""
    A, B, C, D = system.realization()
    if A.shape[0] == 0:
        return None
    lam, W = la.eig(A.toarray(), overwrite_a=True, check_finite=False)
    lu, piv = la.lu_factor(W, check_finite=False)
    gecon = la.get_lapack_funcs("gecon", (lu,))
    rcond = gecon(lu, np.abs(W).sum(axis=0).max(), norm="1")[0]
    if not rcond > 1.0 / _MODAL_COND_MAX:
        return None
    Q = la.lu_solve((lu, piv), B.toarray(), check_finite=False)
    P = np.asarray(C @ W)
    return lam, P, Q, D.toarray()


def _modal_evaluate(modes, s, cols, every_input, out, max_bytes=2**26):
    """Fill ``out[j] = T(s_j)[:, cols]`` from the modal form with real matrix products.

    A conjugate pair contributes ``Z/(s - l) + conj(Z)/(s - conj(l))``
    ``= (r1 + r2) Re Z + j (r1 - r2) Im Z`` with ``r1 = 1/(s - l)``, ``r2 = 1/(s - conj l)``,
    so the pairs are kept once and the responses at all points are one real product of
    ``[Re, Im]`` coefficient rows with ``[Re Z; Im Z]``. ``T`` is symmetric, so with every
    input only the upper triangle is formed.
    """
    lam, P, Q, D = modes
    n, k = P.shape[0], s.size
    keep = lam.imag >= 0
    lam, P, Q = lam[keep], P[:, keep], Q[keep][:, cols]
    single = lam.imag == 0
    r1 = 1.0 / (s[:, None] - lam[None, :])
    r2 = 1.0 / (s[:, None] - np.conj(lam)[None, :])
    a = np.where(single[None, :], r1, r1 + r2)
    b = np.where(single[None, :], 1j * r1, 1j * (r1 - r2))
    K = lam.size
    G = np.empty((2 * k, 2 * K))
    G[:k, :K], G[:k, K:], G[k:, :K], G[k:, K:] = a.real, b.real, a.imag, b.imag
    if every_input:
        rows, colidx = np.triu_indices(n)
    else:
        rows, colidx = np.repeat(np.arange(n), cols.size), np.tile(np.arange(cols.size), n)
    Dsel = D[:, cols]
    step = max(1, int(max_bytes // (16 * K)))
    flat = out.reshape(k, -1)
    m = cols.size
    for start in range(0, rows.size, step):
        r, c = rows[start:start + step], colidx[start:start + step]
        Z = P[r].T * Q[:, c]                                     # (K, entries) complex
        R = G @ np.vstack([Z.real, Z.imag])
        vals = R[:k] + 1j * R[k:] + Dsel[r, c][None, :]
        flat[:, r * m + c] = vals
        if every_input:
            flat[:, c * m + r] = vals


def _solve_at_zero(system: NetworkSystem, s0: complex, cols: np.ndarray) -> np.ndarray:
    """At a zero of some g_i use ``T = (I + G f L)^{-1} G`` (G finite there)."""
    g = system.nodal(np.array([s0]))[0]
    if not np.all(np.isfinite(g)):
        raise InputError(f"`omega` hits both a pole and a zero of the nodal dynamics at s = {s0}")
    f = complex(system.coupling(np.array([s0]))[0, 0])
    L = system.laplacian.toarray() if system.is_sparse else system.laplacian
    n = system.n
    M = np.eye(n) + (g[:, None] * f) * L
    rhs = np.zeros((n, cols.size), dtype=complex)
    rhs[cols, np.arange(cols.size)] = g[cols]
    return np.linalg.solve(M, rhs)


@dataclass(frozen=True, eq=False)
class FrequencyResponse:
    """Transfer matrix on a frequency grid.

    Attributes
    ----------
    omega : ndarray, shape (k,)
        Frequencies in rad/s.
    values : ndarray, shape (k, n, m)
        ``T(j omega)[:, inputs]`` (read-only). ``np.asarray(resp)`` returns it.
    inputs : tuple of int
        Column (input node) indices.
    labels : tuple of str
        Node labels of the rows.

    Examples
    --------
    >>> import netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=3))
    >>> T = nc.transfer_matrix(sys, [0.1, 1.0, 10.0])
    >>> T.values.shape                    # (frequencies, outputs, inputs)
    (3, 3, 3)
    """

    omega: np.ndarray
    values: np.ndarray
    inputs: tuple
    labels: tuple

    def __post_init__(self):
        for name in ("omega", "values"):
            getattr(self, name).setflags(write=False)

    def __array__(self, dtype=None, copy=None):
        return np.array(self.values, dtype=dtype, copy=True)

    @property
    def shape(self) -> tuple:
        return self.values.shape

    def __getitem__(self, item):
        return self.values[item]

    @property
    def magnitude(self) -> np.ndarray:
        """``|T(j omega)|``."""
        return np.abs(self.values)

    def to_frame(self):
        """Long table: one row per (frequency, output, input).

        Columns ``omega_rad_s, output, input, real, imag, magnitude, phase_rad``.
        """
        import pandas as pd

        k, n, m = self.values.shape
        w = np.repeat(self.omega, n * m)
        out = np.tile(np.repeat(np.asarray(self.labels, dtype=object), m), k)
        inp = np.tile(np.asarray([self.labels[i] for i in self.inputs], dtype=object), k * n)
        v = self.values.ravel()
        return pd.DataFrame({"omega_rad_s": w, "output": out, "input": inp, "real": v.real,
                             "imag": v.imag, "magnitude": np.abs(v), "phase_rad": np.angle(v)})

    def plot(self, outputs=None, input=0, ax=None):
        """Bode magnitude ``|T_ij(j omega)|`` of the chosen outputs for one input column.

        Parameters
        ----------
        outputs : sequence of int, optional
            Output (row) node positions to draw; default all ``n`` (a legend is added for
            at most 10 curves).
        input : int, default 0
            Position in :attr:`inputs` of the input column (not the node index itself).
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
        >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(6, 1),
        ...                                       nodal=nc.nodal.swing(1.0, 0.5, n=6))
        >>> ax = nc.transfer_matrix(sys, np.logspace(-1, 1, 5), inputs=[2]).plot(outputs=[0, 2])
        >>> len(ax.lines)
        2
        """
        from ..plotting import plot_frequency_response

        return plot_frequency_response(self, outputs=outputs, input=input, ax=ax)


def transfer_matrix(system: NetworkSystem, omega, inputs=None) -> FrequencyResponse:
    """Network transfer matrix ``T(j omega) = (diag(1/g_i) + f L)^{-1}`` on a grid.

    Parameters
    ----------
    system : NetworkSystem
    omega : array_like, shape (k,)
        Frequencies in rad/s (non-negative; must avoid poles of ``f``, e.g. 0 for ``1/s``).
    inputs : sequence of int or labels, optional
        Columns to compute (disturbed nodes). Default: all ``n``. With a sparse
        Laplacian, asking for a few inputs keeps the computation sparse.

    Returns
    -------
    FrequencyResponse
        ``np.asarray(result)`` has shape ``(k, n, n)`` or ``(k, n, len(inputs))``.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(6, 1),
    ...                                       nodal=nc.nodal.swing(1.0, 0.5, n=6))
    >>> T = nc.transfer_matrix(sys, np.logspace(-2, 1, 4))
    >>> np.asarray(T).shape
    (4, 6, 6)
    >>> nc.transfer_matrix(sys, [0.1], inputs=[2]).shape
    (1, 6, 1)
    """
    system = _check_system(system)
    w = as_omega(omega)
    cols = _input_index(system, inputs)
    values = evaluate_transfer(system, 1j * w, cols)
    return FrequencyResponse(omega=w.copy(), values=values, inputs=tuple(int(c) for c in cols),
                             labels=system.labels)
