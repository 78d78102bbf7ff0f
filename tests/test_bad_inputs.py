"""Catalogue of bad inputs to every public entry point: each must raise a clear NetcohError.

Every case calls one public function with one bad argument (wrong type, wrong shape, NaN or
infinity, out of range, empty) and is run under a time limit. Its outcome is classified:

* ``clear``: a :class:`~netcoh.NetcohError` whose message names the parameter (or the file,
  record and field), states the constraint ("must ...") and shows the value ("got ...");
* ``unclear``: a NetcohError that does not;
* ``traceback``: any other exception (a raw numpy/scipy/Python error);
* ``hang``: no answer within the time limit;
* ``silent``: the call returned, accepting the bad input.

The module prints ``clear / unclear / traceback / hang / silent = N / 0 / 0 / 0 / 0`` and
fails unless the last four counts are zero.
"""

from __future__ import annotations

import json
import signal
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import netcoh as nc
from netcoh import laplacian, nodal
from netcoh.analysis.nadir import build_modal_model, worst_case_nadir
from netcoh.reduction import (
    refine_partition,
    weighted_balanced_truncation,
)

TIME_LIMIT_S = 10.0
NAN, INF = float("nan"), float("inf")


# ---------------------------------------------------------------------------------------------
# the harness
# ---------------------------------------------------------------------------------------------

class _Hang(BaseException):
    """Raised by the alarm inside a call that overran its time limit (not an Exception, so
    no ``except Exception`` in the library can swallow it)."""


@dataclass(frozen=True)
class Case:
    """One bad input: ``call()`` must raise a NetcohError naming every one of ``names``."""

    id: str
    call: Callable[[], object]
    names: tuple

    def __repr__(self) -> str:
        return self.id


def run_bounded(call: Callable[[], object], limit_s: float = TIME_LIMIT_S):
    """Run ``call()`` with a wall-clock limit; return ``("ok", value)``, ``("raised", exc)`` or
    ``("hang", None)``. Uses ``SIGALRM`` (main thread, POSIX) and otherwise a watchdog thread."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        def on_alarm(signum, frame):
            raise _Hang()

        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, limit_s)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return "ok", call()
        except _Hang:
            return "hang", None
        except Exception as exc:  # noqa: BLE001 - classification needs every exception
            return "raised", exc
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    box: dict = {}

    def target():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                box["out"] = ("ok", call())
        except Exception as exc:  # noqa: BLE001
            box["out"] = ("raised", exc)

    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(limit_s)
    return box.get("out", ("hang", None))


def classify(outcome, names: Sequence[str]) -> str:
    """``clear``, ``unclear``, ``traceback``, ``hang`` or ``silent`` (see the module doc)."""
    kind, value = outcome
    if kind == "hang":
        return "hang"
    if kind == "ok":
        return "silent"
    if not isinstance(value, nc.NetcohError):
        return "traceback"
    msg = str(value)
    if all(n in msg for n in names) and "must" in msg and "got" in msg and "\n" not in msg:
        return "clear"
    return "unclear"


# ---------------------------------------------------------------------------------------------
# fixtures (built once, lazily)
# ---------------------------------------------------------------------------------------------

@cache
def S4():
    """The network of the audit: complete graph on 4 swing machines (m = 1..4, d = 0.5)."""
    return nc.NetworkSystem.from_laplacian(laplacian.complete(4),
                                           nodal=nodal.swing([1.0, 2.0, 3.0, 4.0], 0.5))


@cache
def RING():
    return nc.NetworkSystem.from_laplacian(laplacian.ring_lattice(6, 1),
                                           nodal=nodal.swing_turbine(0.2, 0.3, 0.1, 5.0, n=6))


@cache
def KUNDUR():
    return nc.grids.load("kundur", warn=False)


@cache
def KUNDUR_DOC():
    return json.loads(nc.grids.case_path("kundur").read_text())


@cache
def REDUCED():
    return nc.reduce_network(RING(), [0, 0, 0, 1, 1, 1])


def _tmpdir() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="netcoh-bad-"))


def _write(name: str, data) -> Path:
    p = _tmpdir() / name
    if isinstance(data, bytes):
        p.write_bytes(data)
    else:
        p.write_text(data if isinstance(data, str) else json.dumps(data))
    return p


def _swing_sampler(n, rng):
    return nodal.swing(rng.uniform(1, 2, n), 0.5)


# ---------------------------------------------------------------------------------------------
# the cases
# ---------------------------------------------------------------------------------------------

CASES: list[Case] = []


def case(id: str, call: Callable[[], object], *names: str) -> None:
    CASES.append(Case(id, call, names))


def values(id: str, name: str, fn: Callable[[object], object], bad: dict, token: str | None = None):
    """One case per bad value: ``fn(value)`` must name ``token`` (default `` `name` ``)."""
    for label, v in bad.items():
        case(f"{id}:{name}={label}", (lambda v=v: fn(v)), token or f"`{name}`")


# bad values by the constraint of the parameter
POSITIVE = {"zero": 0.0, "neg": -1.0, "nan": NAN, "inf": INF, "str": "x", "list": [1.0, 2.0],
            "complex": 1 + 1j, "none": None}
POSITIVE_OPT = {k: v for k, v in POSITIVE.items() if k != "none"}
NONNEG = {"neg": -1.0, "nan": NAN, "inf": INF, "str": "x", "complex": 1j}
INTEGER_POS = {"zero": 0, "neg": -1, "float": 2.5, "bool": True, "str": "2", "nan": NAN,
               "none": None}
BOOLEAN = {"str": "yes", "int": 2, "none": None, "list": [True]}
STRINGS = {"unknown": "nope", "int": 3, "none": None}
STRINGS_OPT = {"unknown": "nope", "int": 3}


def _catalogue_network():
    L4 = laplacian.complete(4)
    # -- laplacian.from_adjacency -------------------------------------------------------------
    values("from_adjacency", "A", laplacian.from_adjacency, {
        "str": "abc", "ragged": [[0, 1], [1]], "3d": np.zeros((2, 2, 2)), "nonsquare": np.ones((2, 3)),
        "negative": [[0, -1], [-1, 0]], "nan": [[0, NAN], [NAN, 0]], "inf": [[0, INF], [INF, 0]],
        "complex": [[0, 1j], [1j, 0]], "empty": np.zeros((0, 0)), "asym": [[0, 1], [2, 0]],
        "none": None})
    values("from_adjacency", "sparse", lambda v: laplacian.from_adjacency([[0, 1], [1, 0]], sparse=v),
           {"str": "yes", "int": 2})
    # -- laplacian.from_edges -----------------------------------------------------------------
    values("from_edges", "n", lambda v: laplacian.from_edges(v, [(0, 1)]),
           {**INTEGER_POS, "too_small": 1})
    values("from_edges", "edges", lambda v: laplacian.from_edges(3, v), {
        "str": "ab", "out_of_range": [(0, 5)], "negative": [(0, -1)], "self_loop": [(0, 0)],
        "three_cols": [(0, 1, 2)], "float": [(0.5, 1)], "nan": [(NAN, 1)], "none": None,
        "bool": [(True, False)]}, token="`edges")
    values("from_edges", "weights", lambda v: laplacian.from_edges(3, [(0, 1), (1, 2)], v), {
        "nan": [NAN, 1.0], "inf": [INF, 1.0], "neg": [-1.0, 1.0], "str": ["a", "b"],
        "length": [1.0], "2d": [[1.0, 1.0]], "complex": [1j, 1.0], "empty": []})
    values("from_edges", "sparse", lambda v: laplacian.from_edges(2, [(0, 1)], sparse=v), BOOLEAN)
    # -- laplacian.from_graph -----------------------------------------------------------------
    G = nx.path_graph(3)
    Gs = nx.path_graph(3)
    nx.set_edge_attributes(Gs, "heavy", "weight")
    Gm = nx.Graph()
    Gm.add_edge(0, 1, weight=2.0)
    Gm.add_edge(1, 2)
    Gn = nx.Graph()
    Gn.add_edge(0, 1, weight=NAN)
    Gneg = nx.Graph()
    Gneg.add_edge(0, 1, weight=-2.0)
    values("from_graph", "G", laplacian.from_graph, {
        "empty": nx.Graph(), "none": None, "str": "graph", "directed": nx.DiGraph([(0, 1)]),
        "string_weight": Gs, "missing_weight": Gm, "nan_weight": Gn, "negative_weight": Gneg})
    values("from_graph", "weight", lambda v: laplacian.from_graph(G, weight=v),
           {"int": 3, "list": ["weight"], "unknown": "nope"})
    values("from_graph", "nodelist", lambda v: laplacian.from_graph(G, nodelist=v), {
        "missing": [0, 1], "unknown": [0, 1, 2, 9], "repeated": [0, 1, 1], "empty": [],
        "str": "abc"})
    values("from_graph", "sparse", lambda v: laplacian.from_graph(G, sparse=v), BOOLEAN)
    # -- laplacian.from_power_flow ------------------------------------------------------------
    values("from_power_flow", "n", lambda v: laplacian.from_power_flow(v, [(0, 1)], [1.0]),
           {"zero": 0, "float": 2.5, "str": "2"})
    values("from_power_flow", "edges", lambda v: laplacian.from_power_flow(2, v, [1.0]),
           {"out_of_range": [(0, 4)], "str": "ab", "self_loop": [(1, 1)]}, token="`edges")
    values("from_power_flow", "b", lambda v: laplacian.from_power_flow(2, [(0, 1)], v), {
        "nan": [NAN], "neg": [-1.0], "length": [1.0, 2.0], "str": ["x"], "inf": [INF],
        "zero": [0.0]})
    case("from_power_flow:b<0, angles pi apart",
         lambda: laplacian.from_power_flow(2, [(0, 1)], [-1.0], None, [0.0, np.pi]), "`b`")
    values("from_power_flow", "v_mag", lambda v: laplacian.from_power_flow(2, [(0, 1)], [1.0], v),
           {"nan": [NAN, 1.0], "length": [1.0], "neg": [-1.0, 1.0], "zero": [0.0, 1.0]})
    values("from_power_flow", "theta_rad",
           lambda v: laplacian.from_power_flow(2, [(0, 1)], [1.0], None, v),
           {"nan": [NAN, 0.0], "length": [0.0], "inf": [INF, 0.0]})
    # -- laplacian.kron_reduce ----------------------------------------------------------------
    values("kron_reduce", "keep", lambda v: laplacian.kron_reduce(L4, v), {
        "out_of_range": [0, 9], "empty": [], "repeated": [0, 0], "float": [0.5, 1],
        "str": "ab", "mask_length": [True, False], "negative": [-9], "none": None,
        "nan": [NAN]})
    values("kron_reduce", "L", lambda v: laplacian.kron_reduce(v, [0]), {
        "str": "abc", "nonsquare": np.ones((2, 3)), "nan": [[1, NAN], [NAN, 1]],
        "asym": [[1, -1], [-2, 2]], "rowsum": [[1, 0], [0, 1]], "none": None})
    # -- generators ---------------------------------------------------------------------------
    values("ring_lattice", "n", lambda v: laplacian.ring_lattice(v, 1),
           {"one": 1, "float": 5.5, "str": "5", "bool": True})
    values("ring_lattice", "k", lambda v: laplacian.ring_lattice(6, v),
           {"zero": 0, "too_big": 3, "float": 1.5})
    values("ring_lattice", "weight", lambda v: laplacian.ring_lattice(6, 1, weight=v),
           {"nan": NAN, "neg": -1.0, "str": "x", "inf": INF})
    values("complete", "n", laplacian.complete, {"zero": 0, "float": 2.5, "bool": True, "str": "3"})
    values("complete", "weight", lambda v: laplacian.complete(3, weight=v), {
        "nan": NAN, "neg": -1.0, "inf": INF, "str": "x", "list": [1.0, 2.0], "complex": 1j})
    values("weighted_sbm", "sizes", lambda v: laplacian.weighted_sbm(v, [[1]], [[1]]), {
        "empty": [], "zero": [0], "float": [2.5], "str": "ab", "nested": [[3]]})
    values("weighted_sbm", "Q", lambda v: laplacian.weighted_sbm([2, 2], v, [[1, 1], [1, 1]]), {
        "shape": [[1]], "above_one": [[2, 0], [0, 1]], "nan": [[NAN, 0], [0, 1]],
        "asym": [[1, 0.2], [0.5, 1]], "str": "Q"})
    values("weighted_sbm", "W", lambda v: laplacian.weighted_sbm([2, 2], [[1, 0], [0, 1]], v), {
        "neg": [[-1, 0], [0, 1]], "shape": [[1, 1, 1]], "nan": [[NAN, 0], [0, 1]]})
    values("weighted_sbm", "rng", lambda v: laplacian.weighted_sbm([2], [[1]], [[1]], rng=v),
           {"str": "seed", "float": 1.5, "neg": -1})
    values("algebraic_connectivity", "L", laplacian.algebraic_connectivity, {
        "str": "abc", "nonsquare": np.ones((2, 3)), "nan": [[1, NAN], [NAN, 1]],
        "asym": [[1, -1], [-2, 2]], "complex": [[1j, -1j], [-1j, 1j]]})

    # -- nodal --------------------------------------------------------------------------------
    values("swing", "m", lambda v: nodal.swing(v, 1.0, n=3), {**POSITIVE, "2d": [[1.0]]})
    values("swing", "m_vector", lambda v: nodal.swing(v, 1.0),
           {"empty": [], "nan": [1.0, NAN], "zero": [1.0, 0.0]}, token="`m`")
    values("swing", "d", lambda v: nodal.swing(1.0, v, n=2), {**NONNEG, "none": None,
                                                              "bool": True})
    case("swing:m=bool", lambda: nodal.swing(True, 1, n=2), "`m`")
    case("swing:m=bool_array", lambda: nodal.swing([True, False], 1), "`m`")
    values("swing", "n", lambda v: nodal.swing(1, 1, n=v), {
        "bool": True, "zero": 0, "neg": -3, "float": 2.5, "str": "2", "nan": NAN})
    case("swing:lengths", lambda: nodal.swing([1.0, 2.0], [1.0, 2.0, 3.0]), "`m`", "`d`")
    case("swing:n_vs_length", lambda: nodal.swing([1.0, 2.0], 1.0, n=3), "`m`")
    values("swing_turbine", "droop", lambda v: nodal.swing_turbine(1, 1, v, 1, n=2), NONNEG)
    values("swing_turbine", "tau", lambda v: nodal.swing_turbine(1, 1, 1, v, n=3), POSITIVE_OPT)
    values("swing_turbine", "m", lambda v: nodal.swing_turbine(v, 1, 1, 1, n=2),
           {"zero": 0.0, "nan": NAN})
    values("swing_turbine", "n", lambda v: nodal.swing_turbine(1, 1, 1, 1, n=v),
           {"zero": 0, "bool": False, "float": 1.5})
    values("inverter", "k_p", lambda v: nodal.inverter(v, 0.1, n=3), POSITIVE_OPT)
    values("inverter", "tau_p", lambda v: nodal.inverter(1.0, v, n=2), NONNEG)
    values("integrator", "gain", nodal.integrator, POSITIVE)
    values("static_gain", "gain", nodal.static_gain, POSITIVE)
    values("from_tf", "tfs", nodal.from_tf, {
        "str": "x", "numbers": [1, 2], "empty": [], "dict": {"a": 1}}, token="`tfs")
    import control
    values("from_tf", "tfs[0]", nodal.from_tf, {
        "mimo": [control.tf([[[1]], [[1]]], [[[1, 1]], [[1, 2]]])],
        "discrete": [control.tf([1], [1, 0.5], dt=0.1)],
        "improper": [control.tf([1, 0, 0], [1, 1])]})
    case("from_tf:both", lambda: nodal.from_tf([control.tf([1], [1, 1])], num=[[1]], den=[[1, 1]]),
         "`tfs`", "`num`")
    case("from_tf:none", lambda: nodal.from_tf(), "`tfs`", "`num`")
    values("from_tf", "den", lambda v: nodal.from_tf(num=[[1.0]], den=v), {
        "zeros": [[0.0, 0.0]], "nan": [[1.0, NAN]], "length": [[1.0], [1.0]], "str": [["a"]],
        "empty": [[]], "not_list": 3.0}, token="`den")
    values("from_tf", "num", lambda v: nodal.from_tf(num=v, den=[[1.0, 1.0]]), {
        "nan": [[NAN]], "improper": [[1.0, 0.0, 0.0]], "str": [["a"]], "not_list": 3.0},
           token="`num")
    values("NodalDynamics", "num", lambda v: nc.NodalDynamics(v, [[1.0, 1.0]]), {
        "nan": [[NAN, 1.0]], "str": "a", "shape": [[1.0], [2.0]], "3d": np.ones((1, 1, 2)),
        "complex": [[1j, 1.0]]})
    values("NodalDynamics", "den", lambda v: nc.NodalDynamics([[1.0]], v), {
        "zero": [[0.0]], "inf": [[INF]], "none": None})
    g2 = nodal.swing([1.0, 2.0], 0.5)
    values("NodalDynamics.__call__", "s", g2, {"str": "x", "2d": [[1j]], "dict": {1: 2}},
           token="`s`")
    values("NodalDynamics.inverse", "s", g2.inverse, {"str": "x", "none_list": [None]},
           token="`s`")
    values("NodalDynamics.subset", "index", g2.subset, {
        "out_of_range": [5], "str": "a", "float": [0.5], "mask_length": [True],
        "neg": [-3]})
    values("concat", "parts", nodal.concat, {"empty": [], "numbers": [1, 2], "str": "ab",
                                            "none": None})

    # -- NetworkSystem ------------------------------------------------------------------------
    sw4 = nodal.swing(1.0, 1.0, n=4)
    values("from_laplacian", "L", lambda v: nc.NetworkSystem.from_laplacian(v, nodal=sw4), {
        "str": "abc", "complex": L4 + 1j * np.eye(4) * 0 + 1j * (np.ones((4, 4)) - 4 * np.eye(4)),
        "nan": np.where(np.eye(4) > 0, NAN, L4), "asym": L4 + np.triu(np.full((4, 4), 0.5), 1),
        "positive_off": -L4, "nonsquare": np.ones((4, 3)), "none": None,
        "disconnected": np.diag([1.0, 1.0, 1.0, 1.0]) @ laplacian.from_edges(4, [(0, 1), (2, 3)]),
        "rowsum": np.eye(4), "3d": np.zeros((4, 4, 1)), "int_scalar": 4})
    values("from_laplacian", "nodal", lambda v: nc.NetworkSystem.from_laplacian(L4, nodal=v), {
        "wrong_n": nodal.swing(1, 1, n=3), "str": "swing", "none": None, "number": 1.0})
    values("from_laplacian", "coupling",
           lambda v: nc.NetworkSystem.from_laplacian(L4, nodal=sw4, coupling=v),
           {"two_nodes": nodal.swing(1, 1, n=2), "str": "1/s", "number": 2.0})
    values("from_laplacian", "labels",
           lambda v: nc.NetworkSystem.from_laplacian(L4, nodal=sw4, labels=v),
           {"short": ["a", "b"], "duplicate": ["a", "a", "b", "c"], "int": 3})
    values("from_laplacian", "signed",
           lambda v: nc.NetworkSystem.from_laplacian(L4, nodal=sw4, signed=v), BOOLEAN)
    values("NetworkSystem.from_graph", "G",
           lambda v: nc.NetworkSystem.from_graph(v, nodal=sw4), {"str": "g", "none": None,
                                                                 "empty": nx.Graph()})
    values("NetworkSystem.from_graph", "nodal",
           lambda v: nc.NetworkSystem.from_graph(nx.cycle_graph(4), nodal=v),
           {"wrong_n": nodal.swing(1, 1, n=3), "str": "x"})
    values("NetworkSystem.from_graph", "sparse",
           lambda v: nc.NetworkSystem.from_graph(nx.cycle_graph(4), nodal=sw4, sparse=v),
           {"str": "yes", "int": 2})


def _catalogue_analysis():
    S = S4
    # -- frequency responses ------------------------------------------------------------------
    values("transfer_matrix", "system", lambda v: nc.transfer_matrix(v, [1.0]),
           {"str": "sys", "none": None, "laplacian": laplacian.complete(3)})
    values("transfer_matrix", "omega", lambda v: nc.transfer_matrix(S(), v), {
        "nan": [NAN], "inf": [INF], "neg": [-1.0], "empty": [], "2d": [[1.0]], "str": "abc",
        "complex": [1j], "pole": [0.0]})
    values("transfer_matrix", "inputs", lambda v: nc.transfer_matrix(S(), [1.0], inputs=v), {
        "out_of_range": [99], "unknown": ["nope"], "empty": [], "neg": [-1], "bool": [True]})
    # -- coherence ----------------------------------------------------------------------------
    values("aggregate_dynamics", "system", nc.aggregate_dynamics, {"str": "x", "none": None})
    values("coherence", "omega", lambda v: nc.coherence(S(), v),
           {"nan": [1.0, NAN], "neg": [-1.0], "empty": [], "str": "w", "inf": [INF]})
    values("coherence", "tol", lambda v: nc.coherence(S(), [1.0], tol=v), POSITIVE)
    values("coherence", "method", lambda v: nc.coherence(S(), [1.0], method=v), STRINGS)
    values("coherence", "system", lambda v: nc.coherence(v, [1.0]), {"str": "x", "none": None})
    values("incoherence", "s", lambda v: nc.incoherence(S(), v), {
        "nan": [1j, NAN], "inf": [INF * 1j], "empty": [], "str": "x", "2d": [[1j]],
        "none": None})
    values("incoherence", "method", lambda v: nc.incoherence(S(), [1j], method=v), STRINGS)
    values("incoherence", "system", lambda v: nc.incoherence(v, [1j]), {"str": "x"})
    values("lemma_bound", "s", lambda v: nc.lemma_bound(S(), v), {
        "str": "x", "nan": [NAN], "inf": [complex(0, INF)], "empty": [], "2d": [[1j]],
        "pole": [0.0], "none": None})
    values("lemma_bound", "system", lambda v: nc.lemma_bound(v, [1j]), {"str": "x", "none": None})
    # -- concentration ------------------------------------------------------------------------
    sw = nodal.swing([1.0, 2.0], 0.5)
    values("harmonic_mean", "s", lambda v: nc.harmonic_mean(sw, v), {
        "nan": [NAN], "inf": [INF], "str": "x", "empty": [], "2d": [[1j]], "none": None})
    values("harmonic_mean", "nodal", lambda v: nc.harmonic_mean(v, [1j]),
           {"str": "x", "system": S(), "none": None})
    values("harmonic_expectation", "n_samples",
           lambda v: nc.harmonic_expectation(_swing_sampler, [1j], n_samples=v), INTEGER_POS)
    values("harmonic_expectation", "batch",
           lambda v: nc.harmonic_expectation(_swing_sampler, [1j], n_samples=10, batch=v),
           INTEGER_POS)
    values("harmonic_expectation", "s",
           lambda v: nc.harmonic_expectation(_swing_sampler, v, n_samples=10),
           {"nan": [NAN], "empty": [], "str": "x"})
    values("harmonic_expectation", "rng",
           lambda v: nc.harmonic_expectation(_swing_sampler, [1j], n_samples=10, rng=v),
           {"str": "seed", "float": 0.5, "neg": -1})
    values("harmonic_expectation", "sampler",
           lambda v: nc.harmonic_expectation(v, [1j], n_samples=10), {
               "str": "x", "wrong_type": lambda n, rng: 1.0,
               "wrong_n": lambda n, rng: nodal.swing(1.0, 1.0, n=n + 1)}, token="`sampler")
    values("concentration", "sizes", lambda v: nc.concentration(_swing_sampler, v, [1j]), {
        "empty": [], "zero": [0], "float": [2.5], "str": ["a"], "none": None, "nan": [NAN],
        "scalar": 5})
    values("concentration", "n_repeats",
           lambda v: nc.concentration(_swing_sampler, [2], [1j], n_repeats=v), INTEGER_POS)
    values("concentration", "n_reference",
           lambda v: nc.concentration(_swing_sampler, [2], [1j], n_reference=v),
           {"zero": 0, "float": 2.5, "neg": -5})
    values("concentration", "rng",
           lambda v: nc.concentration(_swing_sampler, [2], [1j], n_reference=10, rng=v),
           {"str": "seed"})
    values("concentration", "s",
           lambda v: nc.concentration(_swing_sampler, [2], v, n_reference=10),
           {"nan": [NAN], "empty": []})

    # -- worst-case nadir ---------------------------------------------------------------------
    def nadir(**kw):
        kw.setdefault("rho", 0.5)
        return worst_case_nadir(S(), **kw)

    values("worst_case_nadir", "rho", lambda v: nadir(rho=v), POSITIVE)
    values("worst_case_nadir", "norm", lambda v: nadir(norm=v), {
        "three": 3, "two_and_half": 2.5, "zero": 0, "neg": -1, "str": "fro", "none": None,
        "nan": NAN, "bool": True, "list": [2]})
    values("worst_case_nadir", "dt", lambda v: nadir(dt=v), POSITIVE)
    case("worst_case_nadir:dt>horizon", lambda: nadir(dt=100.0, horizon=1.0), "`dt`", "`horizon`")
    values("worst_case_nadir", "horizon", lambda v: nadir(horizon=v), POSITIVE_OPT)
    values("worst_case_nadir", "rtol", lambda v: nadir(rtol=v), {
        "neg": -0.1, "tiny_neg": -1e-6, "nan": NAN, "ten": 10.0, "one": 1.0, "zero": 0.0,
        "inf": INF, "str": "x", "none": None})
    values("worst_case_nadir", "n_refine", lambda v: nadir(n_refine=v), INTEGER_POS)
    values("worst_case_nadir", "f_hz", lambda v: nadir(f_hz=v), POSITIVE_OPT)
    values("worst_case_nadir", "output", lambda v: nadir(output=v), STRINGS)
    values("worst_case_nadir", "method", lambda v: nadir(method=v), STRINGS)
    values("worst_case_nadir", "threshold_hz", lambda v: nadir(threshold_hz=v),
           {"neg": -1.0, "zero": 0.0, "nan": NAN, "unknown": "mars", "list": [0.5, 0.8]})
    values("worst_case_nadir", "full_table", lambda v: nadir(full_table=v), BOOLEAN)
    values("worst_case_nadir", "bounds", lambda v: nadir(bounds=v), {
        "length": [1.0, 1.0], "neg": [-1.0, 1.0, 1.0, 1.0], "nan": [NAN, 1.0, 1.0, 1.0],
        "str": "x", "2d": [[1.0] * 4]})
    values("worst_case_nadir", "trips", lambda v: nadir(rho=None, trips=v), {
        "unknown_bus": {"nope": 1.0}, "neg": {"0": -1.0}, "nan": {"0": NAN},
        "length": [1.0, 2.0], "str": "x", "empty": {}}, token="`trips")
    case("worst_case_nadir:bounds+trips",
         lambda: nadir(bounds=[1.0] * 4, trips={"0": 1.0}), "`bounds`", "`trips`")
    # a ball's radius with a set that carries its own size would be ignored: refused
    case("worst_case_nadir:rho+trips", lambda: nadir(trips={"0": 0.3}), "`rho`", "trip")
    case("worst_case_nadir:rho+disturbance_set",
         lambda: nadir(disturbance_set=[1.0, 0.0, 0.0, 0.0]), "`rho`", "`disturbance_set`")
    values("worst_case_nadir", "system", lambda v: worst_case_nadir(v, 0.5),
           {"str": "x", "none": None, "laplacian": laplacian.complete(3)})
    values("worst_case_nadir", "model", lambda v: nadir(model=v), {"str": "x", "int": 3})
    values("worst_case_nadir", "disturbance_set", lambda v: nadir(rho=None, disturbance_set=v),
           {"str": "x", "length": [1.0, 2.0], "nan": [NAN, 0.0, 0.0, 0.0]})
    # -- time responses -----------------------------------------------------------------------
    t = np.linspace(0.0, 1.0, 5)
    values("step_response", "disturbance", lambda v: nc.step_response(S(), v, t), {
        "length": [1.0, 2.0], "nan": [NAN, 0, 0, 0], "str": "x", "2d": [[1.0] * 4],
        "none": None, "inf": [INF, 0, 0, 0]})
    values("step_response", "t", lambda v: nc.step_response(S(), [1.0, 0, 0, 0], v), {
        "nan": [0.0, NAN], "neg": [-1.0, 0.0], "decreasing": [1.0, 0.5], "empty": [],
        "str": "t", "2d": [[0.0, 1.0]]})
    values("impulse_response", "t", lambda v: nc.impulse_response(S(), [1.0, 0, 0, 0], v),
           {"nan": [0.0, NAN], "empty": []})
    values("sine_response", "omega_rad_s",
           lambda v: nc.sine_response(S(), [1.0, 0, 0, 0], t, v),
           {"nan": NAN, "neg": -1.0, "str": "x", "inf": INF})
    values("build_modal_model", "method", lambda v: build_modal_model(S(), v), STRINGS)
    values("build_modal_model", "system", lambda v: build_modal_model(v), {"str": "x"})


def _catalogue_reduction():
    R = RING

    def red(**kw):
        return nc.reduce_network(R(), kw.pop("labels", [0, 0, 0, 1, 1, 1]), **kw)

    values("reduce_network", "labels", lambda v: red(labels=v), {
        "nan": [0, NAN, 1, 1, 1, 1], "length": [0, 1], "empty": [], "2d": [[0, 0, 0, 1, 1, 1]],
        "str": "abcdef", "none": None, "none_entry": [0, 0, None, 1, 1, 1],
        "inf": [0, 0, 0, 1, 1, INF], "unhashable": [[0], [0], [0], [1], [1], [1]]})
    values("reduce_network", "machine_order", lambda v: red(machine_order=v), {
        "zero": 0, "neg": -1, "float": 2.5, "str": "x", "bool": True})
    values("reduce_network", "connected_areas", lambda v: red(connected_areas=v), BOOLEAN)
    values("reduce_network", "random_state", lambda v: red(random_state=v),
           {"str": "seed", "float": 0.5})
    values("reduce_network", "system", lambda v: nc.reduce_network(v, [0, 1]),
           {"str": "x", "none": None})
    case("reduce_network:disconnected_area", lambda: red(labels=[0, 1, 0, 1, 0, 1]), "area")
    values("ReducedNetwork.reduced_transfer_matrix", "omega",
           lambda v: REDUCED().reduced_transfer_matrix(v),
           {"nan": [NAN], "neg": [-1.0], "empty": [], "str": "x", "pole": [0.0]})
    values("ReducedNetwork.transfer_matrix", "inputs",
           lambda v: REDUCED().transfer_matrix([1.0], inputs=v),
           {"unknown": ["nope"], "out_of_range": [99]})
    values("ReducedNetwork.error", "omega", lambda v: REDUCED().error(v),
           {"nan": [NAN], "neg": [-1.0], "empty": []})
    values("ReducedNetwork.error", "chunk", lambda v: REDUCED().error([1.0], chunk=v), {
        "zero": 0, "neg": -1, "float": 1.5, "str": "8"})
    values("ReducedNetwork.to_statespace", "lifted",
           lambda v: REDUCED().to_statespace(lifted=v), {"str": "yes", "int": 2})
    values("save_reduced", "path", lambda v: nc.reduction.save_reduced(REDUCED(), v), {
        "int": 3, "missing_dir": str(_tmpdir() / "missing" / "r.json"), "folder": _tmpdir()})
    values("save_reduced", "reduced", lambda v: nc.reduction.save_reduced(v, _tmpdir() / "r.json"),
           {"str": "x", "system": RING()})
    case("load_reduced:bad_json",
         lambda: nc.reduction.load_reduced(_write("red.json", "{")), "red.json")
    case("load_reduced:not_reduced",
         lambda: nc.reduction.load_reduced(_write("red.json", KUNDUR_DOC())), "red.json")
    case("load_reduced:missing", lambda: nc.reduction.load_reduced(_tmpdir() / "none.json"),
         "none.json")
    values("load_reduced", "path", nc.reduction.load_reduced, {"int": 3, "none": None})
    values("laplacian_eigs", "k", lambda v: nc.reduction.laplacian_eigs(laplacian.complete(4), v),
           {"zero": 0, "too_big": 5, "float": 1.5, "str": "2"})
    # -- spectral clustering ------------------------------------------------------------------
    values("spectral_clustering", "n_clusters", lambda v: nc.spectral_clustering(R(), v), {
        "zero": 0, "too_many": 7, "float": 2.5, "str": "2", "bool": True})
    values("spectral_clustering", "system_or_L", lambda v: nc.spectral_clustering(v, 2), {
        "str": "abc", "nan": [[1, NAN], [NAN, 1]], "nonsquare": np.ones((2, 3))}, token="`L`")
    values("spectral_clustering", "random_state",
           lambda v: nc.spectral_clustering(R(), 2, random_state=v),
           {"str": "seed", "float": 0.5, "neg": -1, "bool": True})
    values("spectral_clustering", "max_clusters",
           lambda v: nc.spectral_clustering(R(), max_clusters=v), {"one": 1, "str": "3"})
    values("spectral_clustering", "solver", lambda v: nc.spectral_clustering(R(), 2, solver=v),
           STRINGS)
    values("spectral_clustering", "n_init", lambda v: nc.spectral_clustering(R(), 3, n_init=v),
           {"zero": 0, "float": 1.5})
    values("spectral_clustering", "inertia",
           lambda v: nc.spectral_clustering(laplacian.ring_lattice(6, 1), 2, weighting="inertia",
                                            inertia=v),
           {"nan": [NAN] * 6, "neg": [-1.0] * 6, "length": [1.0, 2.0], "zero": [0.0] * 6})
    values("spectral_clustering", "weighting",
           lambda v: nc.spectral_clustering(R(), 2, weighting=v), {"unknown": "mass", "int": 1})
    # -- aggregate machine fit ----------------------------------------------------------------
    base = {"m": [0.03, 0.04], "d": [0.005, 0.006], "droop": [0.05, 0.06], "tau": [2.0, 8.0]}

    def fit(**kw):
        return nc.fit_aggregate_machine(**{**base, **kw})

    values("fit_aggregate_machine", "m", lambda v: fit(m=v), {
        "zero": [0.0, 1.0], "nan": [NAN, 1.0], "str": "x", "empty": [], "2d": [[1.0, 1.0]]})
    values("fit_aggregate_machine", "d", lambda v: fit(d=v), {"neg": [-1.0, 1.0], "inf": [INF, 1]})
    values("fit_aggregate_machine", "droop", lambda v: fit(droop=v), {"neg": [-1.0, 1.0]})
    values("fit_aggregate_machine", "tau", lambda v: fit(tau=v), {"zero": [0.0, 1.0],
                                                                  "length": [1.0, 2.0, 3.0]})
    values("fit_aggregate_machine", "order", lambda v: fit(order=v), {
        "zero": 0, "neg": -1, "float": 2.5, "str": "2", "bool": True, "too_big": 9})
    values("fit_aggregate_machine", "method", lambda v: fit(method=v), STRINGS)
    values("fit_aggregate_machine", "step_pu", lambda v: fit(step_pu=v),
           {"nan": NAN, "zero": 0.0, "str": "x"})
    values("fit_aggregate_machine", "t_final_s", lambda v: fit(t_final_s=v), POSITIVE_OPT)
    values("fit_aggregate_machine", "omega_rad_s", lambda v: fit(omega_rad_s=v),
           {"nan": [NAN], "neg": [-1.0], "empty": [], "2d": [[1.0]]})
    values("fit_aggregate_machine", "match_dc", lambda v: fit(match_dc=v), {"str": "yes"})
    values("fit_aggregate_machine", "weight", lambda v: fit(weight=v),
           {"str": "x", "number": 3.0})
    case("fit_aggregate_machine:source+m", lambda: nc.fit_aggregate_machine(RING(), m=[1.0]),
         "`source`", "`m`")
    values("fit_aggregate_machine", "source", lambda v: nc.fit_aggregate_machine(v),
           {"str": "x", "inverter": nodal.inverter(1.0, 0.1, n=2)})
    A, B, C = -np.eye(2), np.ones((2, 1)), np.ones((1, 2))
    values("weighted_balanced_truncation", "order",
           lambda v: weighted_balanced_truncation(A, B, C, order=v),
           {"zero": 0, "too_big": 3, "float": 1.5, "str": "1"})
    values("weighted_balanced_truncation", "A",
           lambda v: weighted_balanced_truncation(v, B, C),
           {"nan": np.full((2, 2), NAN), "shape": np.ones((2, 3)), "unstable": np.eye(2),
            "str": "A"})
    values("weighted_balanced_truncation", "B",
           lambda v: weighted_balanced_truncation(A, v, C), {"shape": np.ones((3, 1))})
    V = np.linalg.eigh(laplacian.ring_lattice(6, 1))[1][:, :2]
    values("refine_partition", "labels", lambda v: refine_partition(V, v), {
        "length": [0, 1], "nan": [0, 0, 0, 1, 1, NAN], "empty_area": [0, 0, 0, 2, 2, 2],
        "neg": [0, 0, 0, -1, -1, -1], "float": [0, 0, 0, 1.5, 1, 1]})
    values("refine_partition", "V_k", lambda v: refine_partition(v, [0, 0, 0, 1, 1, 1]), {
        "nan": np.full((6, 2), NAN), "shape": np.ones((5, 2)), "str": "V"})
    values("refine_partition", "k", lambda v: refine_partition(V, [0, 0, 0, 1, 1, 1], v),
           {"zero": 0, "float": 2.5, "mismatch": 3})


def _case_doc(**edit):
    """The kundur case document with ``edit`` applied: ``table=(index, field, value)``."""
    doc = json.loads(json.dumps(KUNDUR_DOC()))
    for table, (k, field, value) in edit.items():
        if field is None:
            del doc[table][k]
        else:
            doc[table][k][field] = value
    return doc


def _load_doc(doc, name="case.json"):
    return nc.grids.load(_write(name, doc), warn=False)


def _split_doc():
    """Kundur with the 7-8 tie lines out of service: two areas with a machine pair each."""
    doc = json.loads(json.dumps(KUNDUR_DOC()))
    for br in doc["branches"]:
        if {br["from_bus"], br["to_bus"]} == {"7", "8"}:
            br["in_service"] = False
    return doc


def _isolated_doc():
    doc = json.loads(json.dumps(KUNDUR_DOC()))
    doc["buses"].append({"id": "99", "base_kv": 230.0})
    return doc


def _catalogue_grids():
    # -- load ---------------------------------------------------------------------------------
    values("grids.load", "source", lambda v: nc.grids.load(v, warn=False), {
        "int": 3, "none": None, "unknown": "nope", "missing_file": "/nonexistent/x.json",
        "list": ["kundur"]})
    case("grids.load:directory", lambda: nc.grids.load(_tmpdir(), warn=False), "netcoh-bad-")
    # a trip in one island, its disturbance asked of the other (an IndexError before)
    def _split_trip():
        return KUNDUR().remove_branch("L7-8a").remove_branch("L7-8b").trip_machine("G1")

    for red in ("kron", None):
        case(f"grid.disturbance:other island, reduce={red}",
             lambda red=red: _split_trip().disturbance(island=0, reduce=red), "island 0", "'1'")
    case("grids.load:non_utf8", lambda: nc.grids.load(_write("bin.json", b"\xff\xfe\x00{"),
                                                      warn=False), "bin.json")
    case("grids.load:bad_json", lambda: nc.grids.load(_write("bad.json", "{"), warn=False),
         "bad.json")
    case("grids.load:list_json", lambda: nc.grids.load(_write("list.json", "[1, 2]"), warn=False),
         "list.json")
    case("grids.load:empty_file", lambda: nc.grids.load(_write("empty.json", ""), warn=False),
         "empty.json")
    values("grids.load", "warn", lambda v: nc.grids.load("kundur", warn=v), {"str": "no",
                                                                            "int": 2})
    values("grids.load", "name", lambda v: nc.grids.load("kundur", name=v, warn=False),
           {"int": 3})
    values("grids.load", "machines", lambda v: nc.grids.load("kundur", machines=v, warn=False),
           {"list": [{"id": "G1"}]})
    values("grids.case_path", "name", nc.grids.case_path, {"unknown": "nope", "int": 3})
    values("grids.save", "grid", lambda v: nc.grids.save(v, _tmpdir() / "x.json"),
           {"str": "kundur", "none": None})
    values("grids.save", "path", lambda v: nc.grids.save(KUNDUR(), v), {
        "missing_dir": str(_tmpdir() / "missing" / "x.json"), "int": 3})

    def under_file():
        f = _write("plain.txt", "x")
        return nc.grids.save(KUNDUR(), f / "x.json")

    case("grids.save:path=under_file", under_file, "`path`")

    # -- case files: one bad field each -------------------------------------------------------
    def field(table, k, name, v, label):
        case(f"casefile:{table}[{k}].{name}={label}",
             lambda: _load_doc(_case_doc(**{table: (k, name, v)})),
             "case.json", f"{table}[{k}].{name}")

    for label, v in {"huge": 1e300, "tiny": 1e-300, "zero": 0, "str": "0.1", "nan": "NaN",
                     "bool": True, "null_required": None}.items():
        field("branches", 0, "x_pu", v, label)
    for label, v in {"huge": 1e200, "str": "x"}.items():
        field("loads", 0, "p_mw", v, label)
    for label, v in {"huge": 1e308, "zero": 0, "neg": -1.0, "str": "6.5"}.items():
        field("machines", 0, "inertia_h_s", v, label)
    for label, v in {"huge": 1e308, "neg": -0.1}.items():
        field("machines", 0, "damping_pu", v, label)
    for label, v in {"huge": 1e300, "zero": 0.0}.items():
        field("machines", 0, "transient_reactance_pu", v, label)
        field("machines", 0, "base_mva", v, label)
    for label, v in {"huge": 1e200, "list": [1]}.items():
        field("machines", 1, "p_mw", v, label)
    for label, v in {"huge": 1e300, "neg": -1.0}.items():
        field("branches", 1, "tap_ratio", v, label)
    field("branches", 0, "r_pu", 1e300, "huge")
    field("branches", 0, "b_pu", -1e300, "huge")
    field("branches", 0, "shift_deg", 1e10, "huge")
    field("branches", 0, "from_bus", "nope", "unknown")
    field("branches", 0, "in_service", "yes", "str")
    field("buses", 0, "vm_pu", 1e300, "huge")
    field("shunts", 0, "b_mvar", 1e300, "huge")
    field("machines", 0, "droop_r_pu", 1e-300, "tiny")
    field("machines", 0, "turbine_tau_s", 1e300, "huge")
    field("machines", 0, "unknown_field", 1.0, "extra")
    case("casefile:split", lambda: _load_doc(_split_doc()), "case.json", "components")
    case("casefile:isolated_bus", lambda: _load_doc(_isolated_doc()), "case.json", "'99'")
    doc = json.loads(json.dumps(KUNDUR_DOC()))
    doc["machines"][0]["inertia_s"] = 1e308
    del doc["machines"][0]["inertia_h_s"]
    case("casefile:machines[0].inertia_s=huge", lambda d=doc: _load_doc(d),
         "case.json", "machines[0].inertia_s")
    misspelt = json.loads(json.dumps(KUNDUR_DOC()))
    misspelt["load"] = misspelt.pop("loads")          # dropped without a word, before
    case("casefile:top-level load (for loads)", lambda d=misspelt: _load_doc(d), "case.json",
         "load")
    for key, v in {"base_mva": 1e300, "f_hz": 1e300, "format_version": 2, "name": ["x"],
                   "topology": "nope", "machines": []}.items():
        d = json.loads(json.dumps(KUNDUR_DOC()))
        d[key] = v
        case(f"casefile:{key}={v!r}"[:60], lambda d=d: _load_doc(d), "case.json", key)
    d = json.loads(json.dumps(KUNDUR_DOC()))
    d["provenance"] = "none"
    case("casefile:provenance=str", lambda d=d: _load_doc(d), "case.json", "provenance")

    # -- Grid methods -------------------------------------------------------------------------
    g = KUNDUR
    values("Grid.remove_branch", "branch_id", lambda v: g().remove_branch(v),
           {"unknown": "nope", "none": None})
    values("Grid.trip_machine", "machine_id", lambda v: g().trip_machine(v),
           {"unknown": "nope", "none": None})
    values("Grid.scale_inertia", "factor", lambda v: g().scale_inertia(v), {
        "zero": 0.0, "neg": -1.0, "nan": NAN, "inf": INF, "str": "x"})
    values("Grid.to_system", "model", lambda v: g().to_system(model=v), STRINGS_OPT)
    values("Grid.to_system", "reduce", lambda v: g().to_system(reduce=v), {"unknown": "nope"})
    values("Grid.to_system", "flow", lambda v: g().to_system(flow=v), STRINGS)
    values("Grid.to_system", "island", lambda v: g().to_system(island=v), {"five": 5, "neg": -1})
    values("Grid.injection_vector", "bus_p_pu", lambda v: g().injection_vector(v), {
        "unknown_bus": {"nope": 1.0}, "nan": {"7": NAN}, "str_value": {"7": "x"},
        "list": [1.0], "none": None, "inf": {"7": INF}})
    values("Grid.injection_vector", "bus_p_pu_unreduced",
           lambda v: g().injection_vector(v, reduce=None),
           {"unknown_bus": {"nope": 1.0}, "nan": {"7": NAN}}, token="`bus_p_pu`")
    values("Grid.injection_vector", "reduce", lambda v: g().injection_vector({"7": 1.0}, reduce=v),
           {"unknown": "nope"})
    values("Grid.disturbance", "reduce", lambda v: g().trip_machine("G4").disturbance(reduce=v),
           {"unknown": "nope"})
    values("Grid.scale_inertia", "machines", lambda v: g().scale_inertia(2.0, v), {
        "unknown": ["nope"], "str": "G1", "empty": [], "int": 3})
    values("Grid.bus_network", "flow", lambda v: g().bus_network(v), STRINGS)
    values("grids.from_pandapower", "net", nc.grids.from_pandapower, {"str": "case9",
                                                                     "none": None})
    values("Grid.to_system", "load_damping",
           lambda v: g().to_system(reduce=None, load_damping=v), {"neg": -1.0, "nan": NAN})
    values("Grid.to_system", "min_bus_damping_pu",
           lambda v: g().to_system(reduce=None, min_bus_damping_pu=v), {"zero": 0.0,
                                                                        "nan": NAN})


def _catalogue_screening():
    g = KUNDUR

    def scr(**kw):
        kw.setdefault("contingencies", ["G4"])
        kw.setdefault("executor", "serial")
        return nc.screen_contingencies(g(), **kw)

    values("screen_contingencies", "norm", lambda v: scr(norm=v), {
        "three": 3, "two_and_half": 2.5, "zero": 0, "str": "fro", "none": None, "nan": NAN})
    values("screen_contingencies", "rho", lambda v: scr(rho=v),
           {"zero": 0.0, "neg": -1.0, "nan": NAN, "str": "x"})
    values("screen_contingencies", "contingencies", lambda v: scr(contingencies=v), {
        "unknown": ["branch:NOPE"], "empty": [], "int": 3, "unknown_preset": "n-2",
        "empty_str": ""})
    values("screen_contingencies", "executor", lambda v: scr(executor=v), STRINGS)
    values("screen_contingencies", "n_jobs", lambda v: scr(n_jobs=v),
           {"zero": 0, "neg": -2, "float": 1.5})
    values("screen_contingencies", "islands", lambda v: scr(islands=v), STRINGS)
    values("screen_contingencies", "grid", lambda v: nc.screen_contingencies(v), {
        "int": 3, "none": None, "unknown": "nope"})
    values("screen_contingencies", "threshold_hz", lambda v: scr(threshold_hz=v),
           {"neg": -1.0, "unknown": "mars"})
    values("screen_contingencies", "model", lambda v: scr(model=v), STRINGS_OPT)
    values("screen_contingencies", "flow", lambda v: scr(flow=v), STRINGS)
    values("screen_contingencies", "dt", lambda v: scr(dt=v), POSITIVE)
    values("screen_contingencies", "horizon", lambda v: scr(horizon=v), POSITIVE_OPT)
    values("screen_contingencies", "rtol", lambda v: scr(rtol=v),
           {"neg": -0.1, "zero": 0.0, "ten": 10.0, "nan": NAN, "str": "x"})
    values("screen_contingencies", "batch_size", lambda v: scr(batch_size=v),
           {"zero": 0, "neg": -1, "float": 2.5, "str": "8"})
    values("screen_contingencies", "merge_equivalent", lambda v: scr(merge_equivalent=v),
           {"str": "yes", "int": 2})
    values("screen_contingencies", "resume", lambda v: scr(resume=v), {"str": "yes", "int": 2})
    values("screen_contingencies", "progress", lambda v: scr(progress=v), {"str": "yes", "int": 3})
    values("screen_contingencies", "out", lambda v: scr(out=v), {
        "int": 3, "folder": _tmpdir(), "list": ["r.csv"]})
    case("screen_contingencies:out=under_file",
         lambda: scr(out=_write("plain.txt", "x") / "r.csv"), "`out`")
    values("screen_contingencies", "disturbance", lambda v: scr(disturbance=v), STRINGS_OPT)
    case("screen_contingencies:rho_without_ball",
         lambda: scr(disturbance="operator", rho=0.5), "`rho`")
    values("screen_contingencies", "incident_mw", lambda v: scr(incident_mw=v),
           {"neg": -1.0, "nan": NAN, "str": "x", "zero": 0.0})
    values("screen_contingencies", "rocof_window_s", lambda v: scr(rocof_window_s=v),
           {"neg": -1.0, "nan": NAN, "str": "x", "zero": 0.0})
    values("screen_contingencies", "limits", lambda v: scr(limits=v), {"str": "x", "int": 3})
    values("contingency_list", "spec", lambda v: nc.contingency_list(g(), v), {
        "unknown": ["nope"], "empty": [], "int": 3, "bad_kind": ["bus:7"]},
           token="`contingencies`")


_catalogue_network()
_catalogue_analysis()
_catalogue_reduction()
_catalogue_grids()
_catalogue_screening()


# ---------------------------------------------------------------------------------------------
# the test
# ---------------------------------------------------------------------------------------------

def run_catalogue(cases: Sequence[Case] = CASES) -> tuple[Counter, list]:
    """Classify every case; return the counts and the ``(id, kind, message)`` of failures."""
    counts: Counter = Counter({k: 0 for k in ("clear", "unclear", "traceback", "hang",
                                              "silent")})
    bad = []
    for c in cases:
        outcome = run_bounded(c.call)
        kind = classify(outcome, c.names)
        counts[kind] += 1
        if kind != "clear":
            detail = outcome[1]
            text = (f"{type(detail).__name__}: {detail}" if isinstance(detail, BaseException)
                    else f"returned {type(detail).__name__}")
            bad.append((c.id, kind, text))
    return counts, bad


def summary_line(counts: Counter) -> str:
    return ("clear / unclear / traceback / hang / silent = "
            f"{counts['clear']} / {counts['unclear']} / {counts['traceback']} / "
            f"{counts['hang']} / {counts['silent']}")


def test_catalogue_size_and_ids():
    ids = [c.id for c in CASES]
    assert len(ids) >= 300
    assert len(set(ids)) == len(ids), [i for i, n in Counter(ids).items() if n > 1]


def test_every_bad_input_raises_a_clear_error(capsys):
    counts, bad = run_catalogue()
    with capsys.disabled():
        print(f"\nbad-input catalogue ({len(CASES)} cases): {summary_line(counts)}")
        for row in bad:
            print("  ", *row)
    assert [r for r in bad] == []
    assert (counts["unclear"], counts["traceback"], counts["hang"], counts["silent"]) == (0, 0, 0, 0)


def test_harness_classifies_each_outcome():
    """The classifier itself: one known case of each kind."""
    def slow():
        import time

        time.sleep(5)

    assert classify(run_bounded(slow, 0.2), ["x"]) == "hang"
    assert classify(run_bounded(lambda: 1), ["x"]) == "silent"
    assert classify(run_bounded(lambda: [][1]), ["x"]) == "traceback"
    assert classify(run_bounded(lambda: (_ for _ in ()).throw(nc.InputError("bad"))),
                    ["`x`"]) == "unclear"
    assert classify(("raised", nc.InputError("`x` must be positive, got -1")), ["`x`"]) == "clear"


@pytest.mark.parametrize("rtol", [-0.1, -1e-6, NAN])
def test_nadir_rtol_cannot_hang_or_pass(rtol):
    with pytest.raises(nc.InputError, match="`rtol`"):
        worst_case_nadir(S4(), 0.5, rtol=rtol)


def test_split_case_file_names_its_components(tmp_path):
    """Kundur without its two 7-8 tie lines: the areas {1, 2, 5, 6, 7} and the rest."""
    p = tmp_path / "split.json"
    p.write_text(json.dumps(_split_doc()))
    with pytest.raises(nc.DisconnectedError, match=r"split\.json: branches: must connect") as info:
        nc.grids.load(p, warn=False)
    assert sorted(map(sorted, info.value.components)) == [
        ["1", "2", "5", "6", "7"], ["10", "11", "3", "4", "8", "9"]]


def test_isolated_bus_is_a_component_of_its_own(tmp_path):
    p = tmp_path / "iso.json"
    p.write_text(json.dumps(_isolated_doc()))
    with pytest.raises(nc.DisconnectedError, match=r"buses\[11\] '99'") as info:
        nc.grids.load(p, warn=False)
    assert ["99"] in info.value.components


def test_split_file_with_an_operating_point_still_loads(tmp_path):
    """Islands are legal in a grid that carries its operating point (a saved outage)."""
    g = KUNDUR()
    for br in ("L7-8a", "L7-8b"):
        g = g.remove_branch(br)
    p = nc.grids.save(g, tmp_path / "saved.json")
    assert len(nc.grids.load(p, warn=False).islands()) == 2


def test_accepted_spellings_of_a_norm_give_the_same_nadir():
    ref = worst_case_nadir(S4(), 0.5, norm=np.inf).value
    for norm in ("inf", float("inf"), np.float64(np.inf)):
        assert worst_case_nadir(S4(), 0.5, norm=norm).value == ref
    assert worst_case_nadir(S4(), 0.5, norm=2.0).value == worst_case_nadir(S4(), 0.5).value


def test_unweighted_graph_keeps_unit_weights_but_a_partly_weighted_one_is_refused():
    L, _ = laplacian.from_graph(nx.path_graph(3))
    assert L.tolist() == laplacian.from_edges(3, [(0, 1), (1, 2)]).tolist()
    G = nx.path_graph(3)
    G.edges[0, 1]["weight"] = 2.0
    with pytest.raises(nc.InputError, match=r"edge \(1, 2\) of `G` must have a `weight`"):
        laplacian.from_graph(G)


def test_real_valued_complex_laplacian_is_accepted_as_real():
    L = laplacian.complete(4)
    sys_c = nc.NetworkSystem.from_laplacian(L.astype(complex), nodal=nodal.swing(1.0, 1.0, n=4))
    assert sys_c.laplacian.dtype == float and np.array_equal(sys_c.laplacian, L)


if __name__ == "__main__":
    counts, bad = run_catalogue()
    for row in bad:
        print(*row)
    print(summary_line(counts))
    raise SystemExit(int(bool(bad)))
