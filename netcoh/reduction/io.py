"""JSON round trip of reduced networks: ``save_reduced``, ``load_reduced``, ``load_reduced_partition``."""

from __future__ import annotations

import json
import os

import numpy as np

from .._util import atomic_write_text
from .._validation import as_float_array, as_output_path, as_real, read_text_file
from ..exceptions import (
    CaseFileError,
    InputError,
    NetcohError,
    NetcohTypeError,
)
from ..network.nodal import NodalDynamics
from ..network.system import NetworkSystem
from .aggregate import ReducedNetwork, _system

__all__ = ["save_reduced", "load_reduced", "load_reduced_partition"]

_FORMAT = "netcoh.reduced/1"


def _nodal_to_dict(nd: NodalDynamics) -> dict:
    return {"kind": nd.kind, "num": nd.num.tolist(), "den": nd.den.tolist(),
            "params": {k: np.asarray(v).tolist() for k, v in nd.params.items()}}


def _nodal_from_dict(d: dict, where: str) -> NodalDynamics:
    try:
        return NodalDynamics(np.asarray(d["num"], float), np.asarray(d["den"], float),
                             d.get("kind", "rational"),
                             {k: np.asarray(v, float) for k, v in d.get("params", {}).items()})
    except (KeyError, TypeError, ValueError) as exc:
        raise CaseFileError(f"{where}: must be nodal dynamics {{num, den, kind, params}}, got a "
                            f"malformed record ({type(exc).__name__}: {exc})") from exc
    except NetcohError as exc:
        raise CaseFileError(f"{where}: {exc}") from exc


def save_reduced(reduced: ReducedNetwork, path) -> str:
    """Save a reduced network as JSON (atomic write); returns the path.

    The file holds the reduced Laplacian, the area nodal dynamics (coefficients and
    parameters), the coupling ``f(s)`` and the node-to-area map; :func:`load_reduced`
    rebuilds the k-node :class:`NetworkSystem`.

    Parameters
    ----------
    reduced : ReducedNetwork
        Result of :func:`netcoh.reduce_network`; its :attr:`~ReducedNetwork.system` (with
        fitted area machines if ``machine_order`` was given) is what gets stored.
    path : str or path-like
        Destination file, overwritten if it exists; its folder must exist.

    Returns
    -------
    str
        ``path`` as a string.

    Examples
    --------
    >>> import os, tempfile, numpy as np, netcoh as nc
    >>> L, lab = nc.laplacian.weighted_sbm([4, 3], [[1, .3], [.3, 1]], [[5, .1], [.1, 5]], rng=2)
    >>> red = nc.reduce_network(nc.NetworkSystem.from_laplacian(
    ...     L, nodal=nc.nodal.swing(0.1, 0.5, n=7)), lab)
    >>> p = save_reduced(red, os.path.join(tempfile.mkdtemp(), "red.json"))
    >>> back = load_reduced(p)
    >>> back.n, np.allclose(back.laplacian, red.laplacian)
    (2, True)
    """
    if not isinstance(reduced, ReducedNetwork):
        raise NetcohTypeError(f"`reduced` must be a ReducedNetwork, got {type(reduced).__name__}")
    as_output_path(path, "path")
    full = reduced.full
    doc = {
        "format": _FORMAT,
        "areas": list(reduced.area_names),
        "laplacian": np.asarray(reduced.laplacian).tolist(),
        "signed": reduced.signed,
        "nodal": _nodal_to_dict(reduced.system.nodal),
        "coupling": _nodal_to_dict(reduced.system.coupling),
        "exact_aggregates": reduced.exact_aggregates,
        "system_nodal_exact": reduced.system_nodal_exact,
        "eigenvalues": np.asarray(reduced.eigenvalues).tolist(),
        "partition": {lab: reduced.area_names[a] for lab, a in zip(full.labels, reduced.labels)},
        "f_hz": full.f_hz,
    }
    try:
        atomic_write_text(os.path.abspath(path), json.dumps(doc, indent=1))
    except OSError as exc:
        raise InputError(f"`path` must be writable, got {str(path)!r} "
                         f"({exc.strerror or type(exc).__name__})") from exc
    return os.fspath(path)


def _read(path) -> dict:
    text = read_text_file(path, "path")
    path = os.fspath(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseFileError(f"{path}: must be valid JSON, got an error at line {exc.lineno} "
                            f"column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise CaseFileError(f"{path}: must be valid JSON of moderate depth, got nesting too "
                            "deep to parse") from exc
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise CaseFileError(f"{path}: format: must be {_FORMAT!r}, got "
                            f"{doc.get('format') if isinstance(doc, dict) else type(doc)}")
    return doc


def load_reduced(path) -> NetworkSystem:
    """Load a reduced network saved by :func:`save_reduced` as a k-node NetworkSystem.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_reduced`.

    Returns
    -------
    NetworkSystem
        ``k`` nodes labelled by the area names, with the stored area dynamics, coupling
        and (possibly signed) reduced Laplacian.

    Raises
    ------
    CaseFileError
        Not valid JSON, wrong ``format`` or a missing/malformed field.

    Examples
    --------
    >>> import os, tempfile, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(6, 1),
    ...                                       nodal=nc.nodal.swing(1.0, 0.5, n=6))
    >>> p = save_reduced(nc.reduce_network(sys, [0, 0, 0, 1, 1, 1]),
    ...                  os.path.join(tempfile.mkdtemp(), "red.json"))
    >>> load_reduced(p).labels
    ('area0', 'area1')
    """
    doc = _read(path)
    p = os.fspath(path)
    try:
        L = as_float_array(doc["laplacian"], f"{p}: laplacian", ndim=2)
        areas = [str(a) for a in doc["areas"]]
        nodal = _nodal_from_dict(doc["nodal"], f"{p}: nodal")
        coupling = _nodal_from_dict(doc["coupling"], f"{p}: coupling")
        f_hz = doc.get("f_hz")                   # absent in files of earlier versions
        if f_hz is not None:
            f_hz = as_real(f_hz, f"{p}: f_hz", low=0.0, low_open=True)
    except KeyError as exc:
        raise CaseFileError(f"{p}: {exc.args[0]}: must be given (required field), got "
                            "nothing") from exc
    except (InputError, TypeError) as exc:
        raise CaseFileError(f"{p}: {exc}" if not str(exc).startswith(p) else str(exc)) from exc
    try:
        return _system(L, nodal, coupling, areas, f_hz)
    except NetcohError as exc:
        raise CaseFileError(f"{p}: the stored network {exc}") from exc


def load_reduced_partition(path) -> dict:
    """The node-label -> area-name map stored by :func:`save_reduced`.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_reduced`.

    Returns
    -------
    dict of str to str
        Full-network node label to area name.

    Examples
    --------
    >>> import os, tempfile, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(4, 1),
    ...                                       nodal=nc.nodal.swing(1.0, 0.5, n=4))
    >>> p = save_reduced(nc.reduce_network(sys, ["a", "a", "b", "b"]),
    ...                  os.path.join(tempfile.mkdtemp(), "red.json"))
    >>> load_reduced_partition(p)
    {'0': 'a', '1': 'a', '2': 'b', '3': 'b'}
    """
    doc = _read(path)
    part = doc.get("partition")
    if not isinstance(part, dict):
        raise CaseFileError(f"{os.fspath(path)}: partition: must be an object, got "
                            f"{type(part).__name__}")
    return {str(k): str(v) for k, v in part.items()}
