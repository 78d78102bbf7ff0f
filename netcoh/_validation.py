"""Argument checks shared by every netcoh module.

Messages follow one pattern: ``` `name` must be <constraint>, got <value> ```.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .exceptions import DisconnectedError, InputError, NetcohTypeError

__all__ = [
    "as_float_array",
    "as_positive",
    "as_nonnegative",
    "as_int",
    "as_bool",
    "as_laplacian",
    "check_connected",
    "components_of",
    "broadcast_params",
]


def _show(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_float_array(value, name: str, *, ndim: int | None = None, finite: bool = True,
                   dtype=float) -> np.ndarray:
    """Convert ``value`` to a numpy array of ``dtype``; raise :class:`InputError` naming ``name``."""
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise NetcohTypeError(
            f"`{name}` must be numeric array-like, got {_show(value)}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise InputError(f"`{name}` must be {ndim}-dimensional, got shape {arr.shape}")
    if finite and arr.size and not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr.ravel()))[0]
        raise InputError(
            f"`{name}` must be finite, got {arr.ravel()[bad]} at flat index {int(bad)}")
    return arr


def as_positive(value, name: str, *, ndim: int | None = None) -> np.ndarray:
    """Array of strictly positive finite floats."""
    arr = as_float_array(value, name, ndim=ndim)
    if arr.size and np.any(arr <= 0):
        bad = np.flatnonzero(arr.ravel() <= 0)[0]
        raise InputError(f"`{name}` must be positive, got {arr.ravel()[bad]!r} at index {int(bad)}")
    return arr


def as_nonnegative(value, name: str, *, ndim: int | None = None) -> np.ndarray:
    """Array of non-negative finite floats."""
    arr = as_float_array(value, name, ndim=ndim)
    if arr.size and np.any(arr < 0):
        bad = np.flatnonzero(arr.ravel() < 0)[0]
        raise InputError(
            f"`{name}` must be non-negative, got {arr.ravel()[bad]!r} at index {int(bad)}")
    return arr


def as_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A Python int within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise NetcohTypeError(f"`{name}` must be an integer, got {_show(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise InputError(f"`{name}` must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise InputError(f"`{name}` must be <= {maximum}, got {value}")
    return value


def as_bool(value, name: str) -> bool:
    """A Python bool (``True``/``False`` or a numpy bool; no truthy strings or numbers)."""
    if not isinstance(value, (bool, np.bool_)):
        raise NetcohTypeError(f"`{name}` must be True or False, got {_show(value)}")
    return bool(value)


def broadcast_params(n: int | None, **params) -> tuple[int, dict[str, np.ndarray]]:
    """Broadcast scalar/vector parameters to a common length ``n`` (inferred when None)."""
    arrays = {k: as_float_array(v, k) for k, v in params.items()}
    for k, a in arrays.items():
        if a.ndim > 1:
            raise InputError(f"`{k}` must be a scalar or 1-D, got shape {a.shape}")
    lengths = {a.size for a in arrays.values() if a.ndim == 1}
    if n is None:
        if len(lengths) > 1:
            desc = ", ".join(f"{k}: {a.size}" for k, a in arrays.items() if a.ndim == 1)
            raise InputError(f"node parameters must have equal lengths, got {desc}")
        n = lengths.pop() if lengths else 1
    out = {}
    for k, a in arrays.items():
        if a.ndim == 1 and a.size != n:
            raise InputError(f"`{k}` must have length {n} (one value per node), got {a.size}")
        out[k] = np.broadcast_to(a, (n,)).astype(float).copy()
        out[k].setflags(write=False)
    return n, out


def components_of(L) -> list[np.ndarray]:
    """Connected components of the graph of ``L`` (non-zero off-diagonal entries)."""
    if isinstance(L, np.ndarray) and L.ndim == 2 and L.shape[0] <= 4096:
        return _dense_components(L != 0)
    adj = sp.csr_matrix(L, copy=True)
    adj.setdiag(0)
    adj.eliminate_zeros()
    ncomp, lab = connected_components(adj, directed=False)
    return [np.flatnonzero(lab == c) for c in range(ncomp)]


def _dense_components(A: np.ndarray) -> list[np.ndarray]:
    """Components of a dense adjacency pattern by frontier expansion: a few O(n^2) passes
    for the well-connected dense (Kron-reduced) matrices, without a sparse conversion."""
    n = A.shape[0]
    label = np.full(n, -1)
    comps = []
    for start in range(n):
        if label[start] >= 0:
            continue
        seen = np.zeros(n, dtype=bool)
        seen[start] = True
        frontier = seen.copy()
        while frontier.any():
            nxt = A[frontier].any(axis=0) & ~seen
            seen |= nxt
            frontier = nxt
        label[seen] = len(comps)
        comps.append(np.flatnonzero(seen))
    return comps


def check_connected(L, name: str = "L", labels: Sequence | None = None) -> None:
    """Raise :class:`DisconnectedError` listing the components when ``L`` is not connected."""
    comps = components_of(L)
    if len(comps) > 1:
        labs = list(labels) if labels is not None else list(range(L.shape[0]))
        named = [[labs[i] for i in c] for c in comps]
        shown = "; ".join(
            "{" + ", ".join(map(str, c[:8])) + (", ..." if len(c) > 8 else "") + "}"
            for c in named[:6])
        raise DisconnectedError(
            f"`{name}` must describe a connected graph, got {len(comps)} components: {shown}",
            components=named)


def _check_psd(M, name: str, tol: float) -> None:
    dense = M.toarray() if sp.issparse(M) else np.asarray(M)
    if dense.shape[0] > 5000:
        raise InputError(f"`{name}`: a signed Laplacian is limited to 5000 nodes (PSD check is dense)")
    low = float(np.linalg.eigvalsh(dense)[0]) if dense.shape[0] else 0.0
    if low < -tol * max(1, dense.shape[0]):
        raise InputError(f"`{name}` must be positive semidefinite, got eigenvalue {low:.6g}")


def as_laplacian(L, name: str = "L", *, rtol: float = 1e-9, connected: bool = True,
                 labels: Sequence | None = None, signed: bool = False):
    """Validate a weighted graph Laplacian; return a float ndarray or CSR matrix.

    Checks: square, finite, symmetric, non-positive off-diagonal entries
    (non-negative edge weights) and zero row sums, all relative to the largest entry.
    With ``signed=True`` positive off-diagonal entries are allowed but the matrix must be
    positive semidefinite (a signed Laplacian such as a reduced network's ``L_k``).
    """
    if sp.issparse(L):
        M = sp.csr_matrix(L, dtype=float)
        data = M.data
        if data.size and not np.all(np.isfinite(data)):
            raise InputError(f"`{name}` must be finite, got a non-finite entry")
        shape = M.shape
    else:
        M = as_float_array(L, name)
        if M.ndim != 2:
            raise InputError(f"`{name}` must be a square matrix, got shape {M.shape}")
        shape = M.shape
    if shape[0] != shape[1]:
        raise InputError(f"`{name}` must be square, got shape {shape}")
    if shape[0] < 1:
        raise InputError(f"`{name}` must have at least one node, got shape {shape}")
    scale = float(abs(M).max()) if shape[0] else 0.0
    tol = rtol * max(scale, 1.0)
    asym = abs(M - M.T).max()
    if float(asym) > tol:
        raise InputError(f"`{name}` must be symmetric, got max |L - L^T| = {float(asym):.3g}")
    off = M - (sp.diags(M.diagonal()) if sp.issparse(M) else np.diag(np.diag(M)))
    offmax = float(off.max()) if shape[0] > 1 else 0.0
    if signed:
        _check_psd(M, name, tol)
    elif offmax > tol:
        if sp.issparse(off):
            off = off.tocoo()
            k = int(np.argmax(off.data))
            i, j = int(off.row[k]), int(off.col[k])
        else:
            i, j = np.unravel_index(int(np.argmax(off)), off.shape)
        raise InputError(
            f"`{name}` must have non-positive off-diagonal entries (non-negative edge weights), "
            f"got L[{i}, {j}] = {offmax:.6g}")
    rows = np.asarray(M.sum(axis=1)).ravel()
    if np.max(np.abs(rows)) > tol:
        i = int(np.argmax(np.abs(rows)))
        raise InputError(f"`{name}` must have zero row sums, got row {i} summing to {rows[i]:.6g}")
    if connected and shape[0] > 1:
        check_connected(M, name, labels)
    if not sp.issparse(M):
        M = np.array(M, dtype=float)
        M.setflags(write=False)
    return M
