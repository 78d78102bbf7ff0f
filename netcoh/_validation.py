"""Argument checks shared by every netcoh module.

Messages follow one pattern: ``` `name` must be <constraint>, got <value> ```.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .exceptions import CaseFileError, DisconnectedError, InputError, NetcohTypeError

__all__ = [
    "as_float_array",
    "as_real",
    "as_complex_points",
    "as_index_array",
    "as_edge_array",
    "as_norm",
    "as_rng",
    "as_optional_bool",
    "as_output_path",
    "read_text_file",
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
    """Short repr of a value for a message (numpy scalars shown as plain numbers)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        text = f"array of shape {value.shape}" if value.size > 8 else repr(value.tolist())
    else:
        try:
            text = repr(value)
        except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real error
            text = f"<{type(value).__name__}>"
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _at(arr: np.ndarray, flat: int) -> str:
    return "" if arr.ndim == 0 else f" at index {int(flat)}" if arr.ndim == 1 else \
        f" at index {tuple(int(i) for i in np.unravel_index(flat, arr.shape))}"


def as_float_array(value, name: str, *, ndim: int | None = None, finite: bool = True,
                   dtype=float) -> np.ndarray:
    """Convert ``value`` to a numpy array of ``dtype``; raise :class:`InputError` naming ``name``.

    ``None``, strings, booleans, ragged nests and complex values with a non-zero imaginary
    part are refused (numpy would silently read ``True`` as 1 and drop imaginary parts).
    """
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise NetcohTypeError(f"`{name}` must be numeric array-like, got {_show(value)}")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise NetcohTypeError(
            f"`{name}` must be numeric array-like, got {_show(value)}") from exc
    if raw.dtype.kind == "b" and np.dtype(dtype).kind != "b":
        raise NetcohTypeError(f"`{name}` must be numeric, got the boolean {_show(value)}")
    if raw.dtype.kind == "c" and np.dtype(dtype).kind != "c":
        if np.any(raw.imag != 0):
            flat = int(np.flatnonzero(raw.imag.ravel() != 0)[0])
            raise InputError(f"`{name}` must be real, got {_show(raw.ravel()[flat])}"
                             f"{_at(raw, flat)}")
        raw = raw.real
    try:
        if raw.dtype.kind in "OUSV":
            raise TypeError(raw.dtype)
        arr = np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise NetcohTypeError(
            f"`{name}` must be numeric array-like, got {_show(value)}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise InputError(f"`{name}` must be {ndim}-dimensional, got shape {arr.shape}")
    if finite and arr.size and not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr.ravel()))[0])
        raise InputError(
            f"`{name}` must be finite, got {_show(arr.ravel()[bad])}{_at(arr, bad)}")
    return arr


def as_positive(value, name: str, *, ndim: int | None = None) -> np.ndarray:
    """Array of strictly positive finite floats."""
    arr = as_float_array(value, name, ndim=ndim)
    if arr.size and np.any(arr <= 0):
        bad = int(np.flatnonzero(arr.ravel() <= 0)[0])
        raise InputError(f"`{name}` must be positive, got {_show(arr.ravel()[bad])}"
                         f"{_at(arr, bad)}")
    return arr


def as_nonnegative(value, name: str, *, ndim: int | None = None) -> np.ndarray:
    """Array of non-negative finite floats."""
    arr = as_float_array(value, name, ndim=ndim)
    if arr.size and np.any(arr < 0):
        bad = int(np.flatnonzero(arr.ravel() < 0)[0])
        raise InputError(
            f"`{name}` must be non-negative, got {_show(arr.ravel()[bad])}{_at(arr, bad)}")
    return arr


def as_real(value, name: str, *, low: float | None = None, high: float | None = None,
            low_open: bool = False, high_open: bool = False, finite: bool = True) -> float:
    """One real number (no bool, string, array or complex) within ``[low, high]``.

    ``low_open``/``high_open`` exclude the end points; ``finite=False`` admits ``inf``
    (never NaN).
    """
    if isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise NetcohTypeError(f"`{name}` must be a real number, got {_show(value)}")
    x = float(value)
    if math.isnan(x) or (finite and math.isinf(x)):
        raise InputError(f"`{name}` must be finite, got {x}")
    below = low is not None and (x <= low if low_open else x < low)
    above = high is not None and (x >= high if high_open else x > high)
    if below or above:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        if high is None and low == 0:
            what = "positive" if low_open else "non-negative"
        elif high is None:
            what = f"{'>' if low_open else '>='} {lo}"
        elif low is None:
            what = f"{'<' if high_open else '<='} {hi}"
        else:
            what = f"in {'(' if low_open else '['}{lo}, {hi}{')' if high_open else ']'}"
        raise InputError(f"`{name}` must be {what}, got {x:g}")
    return x


def as_complex_points(value, name: str = "s") -> np.ndarray:
    """Non-empty 1-D array of finite complex points (a scalar becomes one point)."""
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise NetcohTypeError(f"`{name}` must be complex array-like, got {_show(value)}")
    try:
        raw = np.asarray(value)
        if raw.dtype.kind not in "iufc":
            raise TypeError(raw.dtype)
        arr = np.atleast_1d(raw.astype(complex))
    except (TypeError, ValueError) as exc:
        raise NetcohTypeError(f"`{name}` must be complex array-like, got {_show(value)}") from exc
    if arr.ndim != 1:
        raise InputError(f"`{name}` must be a scalar or 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"`{name}` must hold at least one point, got none")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise InputError(f"`{name}` must be finite, got {arr[bad]} at index {bad}")
    return arr


def as_index_array(value, name: str, n: int, *, allow_empty: bool = False,
                   unique: bool = False) -> np.ndarray:
    """1-D integer node indices in ``0..n-1`` (or a boolean mask of length ``n``)."""
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise NetcohTypeError(f"`{name}` must be node indices or a boolean mask, got "
                              f"{_show(value)}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise NetcohTypeError(f"`{name}` must be node indices, got {_show(value)}") from exc
    if arr.ndim != 1:
        raise InputError(f"`{name}` must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind == "b":
        if arr.size != n:
            raise InputError(f"`{name}` as a boolean mask must have length {n}, got {arr.size}")
        arr = np.flatnonzero(arr)
    elif arr.size and arr.dtype.kind not in "iu":
        raise NetcohTypeError(f"`{name}` must hold integer node indices, got {_show(value)}")
    arr = arr.astype(int)
    if arr.size == 0 and not allow_empty:
        raise InputError(f"`{name}` must select at least one node, got none")
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        bad = int(arr[(arr < 0) | (arr >= n)][0])
        raise InputError(f"`{name}` must hold node indices in 0..{n - 1}, got {bad}")
    if unique and np.unique(arr).size != arr.size:
        vals, cnt = np.unique(arr, return_counts=True)
        raise InputError(f"`{name}` must not repeat nodes, got node {int(vals[cnt > 1][0])} "
                         "more than once")
    return arr


def as_edge_array(edges, name: str, n: int) -> np.ndarray:
    """``(m, 2)`` integer node pairs in ``0..n-1``, no self-loops."""
    if edges is None or isinstance(edges, (str, bytes, dict, set)):
        raise NetcohTypeError(f"`{name}` must be an array of node pairs, got {_show(edges)}")
    try:
        E = np.asarray(edges)
    except (TypeError, ValueError) as exc:
        raise NetcohTypeError(f"`{name}` must be an array of node pairs, got "
                              f"{_show(edges)}") from exc
    if E.size == 0:
        return np.zeros((0, 2), dtype=int)
    if E.dtype.kind not in "iu":
        raise NetcohTypeError(f"`{name}` must hold integer node indices, got {_show(edges)}")
    if E.ndim == 1 and E.size == 2:
        E = E.reshape(1, 2)
    if E.ndim != 2 or E.shape[1] != 2:
        raise InputError(f"`{name}` must have shape (m, 2), got shape {E.shape}")
    E = E.astype(int)
    out = (E < 0) | (E >= n)
    if out.any():
        k = int(np.flatnonzero(out.any(axis=1))[0])
        raise InputError(f"`{name}[{k}]` must refer to nodes 0..{n - 1} (`n` = {n}), "
                         f"got {E[k].tolist()}")
    loops = E[:, 0] == E[:, 1]
    if loops.any():
        k = int(np.flatnonzero(loops)[0])
        raise InputError(f"`{name}[{k}]` must join two different nodes (a self-loop has no "
                         f"place in a Laplacian), got {E[k].tolist()}")
    return E


def as_norm(norm, name: str = "norm"):
    """The norm of a disturbance ball: 1, 2 or ``numpy.inf`` (also ``"1"``, ``"2"``, ``"inf"``)."""
    if isinstance(norm, str):
        key = norm.strip().lower()
        table = {"1": 1, "2": 2, "inf": np.inf}
        if key in table:
            return table[key]
    elif not isinstance(norm, (bool, np.bool_)) and isinstance(norm, numbers.Real):
        x = float(norm)
        if x in (1.0, 2.0):
            return int(x)
        if x == np.inf:
            return np.inf
    raise InputError(f"`{name}` must be 1, 2 or numpy.inf, got {_show(norm)}")


def as_rng(value, name: str = "random_state") -> np.random.Generator:
    """A numpy Generator from ``None``, a non-negative int seed, a Generator or a SeedSequence."""
    if value is None or isinstance(value, (np.random.Generator, np.random.SeedSequence,
                                           np.random.BitGenerator)):
        return np.random.default_rng(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise NetcohTypeError(f"`{name}` must be None, a non-negative integer seed or a "
                              f"numpy.random.Generator, got {_show(value)}")
    if value < 0:
        raise InputError(f"`{name}` must be a non-negative integer seed, got {int(value)}")
    return np.random.default_rng(int(value))


def as_output_path(path, name: str = "path"):
    """A file path to write: path-like, not a folder, in an existing folder (``pathlib.Path``)."""
    from pathlib import Path

    if not isinstance(path, (str, os.PathLike)):
        raise NetcohTypeError(f"`{name}` must be a file path, got {type(path).__name__}")
    p = Path(path)
    if p.is_dir():
        raise InputError(f"`{name}` must name a file, got the folder {str(path)!r}")
    if not p.absolute().parent.is_dir():
        raise InputError(f"`{name}` must be in an existing folder, got {str(path)!r}")
    return p


def read_text_file(path, name: str = "path") -> str:
    """The UTF-8 text of an existing file; :class:`CaseFileError` naming the file otherwise."""
    from pathlib import Path

    if not isinstance(path, (str, os.PathLike)):
        raise NetcohTypeError(f"`{name}` must be a file path, got {type(path).__name__}")
    p = Path(path)
    if not p.is_file():
        raise InputError(f"`{name}` must be an existing file, got {str(path)!r}")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise CaseFileError(f"{path}: must be a readable file, got the error "
                            f"{exc.strerror or type(exc).__name__!r}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaseFileError(f"{path}: must be UTF-8 encoded text, got byte "
                            f"0x{data[exc.start]:02x} at position {exc.start}") from exc


def as_optional_bool(value, name: str) -> bool | None:
    """``None`` or a bool (see :func:`as_bool`)."""
    return None if value is None else as_bool(value, name)


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
    if n is not None:
        n = as_int(n, "n", minimum=1)
    arrays = {k: as_float_array(v, k) for k, v in params.items()}
    for k, a in arrays.items():
        if a.ndim > 1:
            raise InputError(f"`{k}` must be a scalar or 1-D, got shape {a.shape}")
        if a.ndim == 1 and a.size == 0:
            raise InputError(f"`{k}` must hold one value per node, got an empty array")
    lengths = {a.size for a in arrays.values() if a.ndim == 1}
    if n is None:
        if len(lengths) > 1:
            vec = [k for k, a in arrays.items() if a.ndim == 1]
            desc = ", ".join(f"{k}: {arrays[k].size}" for k in vec)
            names = ", ".join(f"`{k}`" for k in vec)
            raise InputError(f"{names} must have equal lengths (one value per node), got {desc}")
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
        if np.iscomplexobj(L.data if hasattr(L, "data") else L):
            C = sp.csr_matrix(L)
            if np.any(C.data.imag != 0):
                raise InputError(f"`{name}` must be real, got a complex entry")
            L = C.real
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
