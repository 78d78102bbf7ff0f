"""Fuzzing the case loader with mutated shipped case files: no raw traceback, no hang.

Each example takes the JSON document of a shipped case, mutates it (a field set to a hostile
value, a field or record removed, an unknown field added, a table replaced, or the file's
bytes truncated or corrupted), writes it and loads it. The load must either give a grid whose
network model can be built, or raise a :class:`~netcoh.NetcohError` whose message names the
file; it must never raise another exception or run past the time limit.
"""

from __future__ import annotations

import json
import math
import tempfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netcoh as nc
from tests.test_bad_inputs import run_bounded

CASES = ("kundur", "ieee39")         # an inline and a pandapower topology
TIME_LIMIT_S = 20.0
FILE = "fuzzed.json"

NASTY = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0.0, -0.0, -1.0, 1e-300, -1e-300, 1e300, -1e300, 1e308, 5e-324,
                     math.nan, math.inf, -math.inf, 1e7, 1e-7]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.sampled_from(["", "1", "0.1", "NaN", "inf", "true", "G1", "1"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                         max_size=2),
)
TABLES = ("buses", "branches", "machines", "loads", "shunts")


@cache
def _text(case: str) -> str:
    return nc.grids.case_path(case).read_text()


def _doc(case: str) -> dict:
    return json.loads(_text(case))


@st.composite
def mutated_documents(draw):
    """``(case, bytes)``: a shipped case document with one to three mutations."""
    case = draw(st.sampled_from(CASES))
    doc = _doc(case)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["field", "field", "field", "drop_field", "extra_field",
                                     "drop_record", "dup_record", "table", "top"]))
        tables = [t for t in TABLES if isinstance(doc.get(t), list) and doc[t]]
        if kind in ("field", "drop_field", "extra_field", "drop_record", "dup_record") and tables:
            table = draw(st.sampled_from(tables))
            rows = doc[table]
            k = draw(st.integers(0, len(rows) - 1))
            rec = rows[k]
            if not isinstance(rec, dict):
                continue
            if kind == "drop_record":
                del rows[k]
            elif kind == "dup_record":
                rows.append(json.loads(json.dumps(rec)))
            elif kind == "extra_field":
                rec[draw(st.text(min_size=1, max_size=6))] = draw(NASTY)
            elif rec:
                key = draw(st.sampled_from(sorted(rec)))
                if kind == "drop_field":
                    del rec[key]
                else:
                    rec[key] = draw(NASTY)
        elif kind == "table":
            doc[draw(st.sampled_from(TABLES))] = draw(NASTY)
        else:
            key = draw(st.sampled_from(sorted(doc)))
            if draw(st.booleans()):
                doc[key] = draw(NASTY)
            else:
                del doc[key]
    data = json.dumps(doc).encode()
    how = draw(st.sampled_from(["json", "json", "json", "truncate", "flip", "insert"]))
    if how == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif how == "flip":
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        data = data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1:]
    elif how == "insert":
        i = draw(st.integers(0, len(data)))
        data = data[:i] + draw(st.binary(min_size=1, max_size=4)) + data[i:]
    return case, data


def _load_and_build(path: Path):
    grid = nc.grids.load(path, warn=False)
    for flow in ("ac", "dc"):
        try:
            grid.to_system(flow=flow)
        except nc.DisconnectedError:
            # a split grid is legal once loaded: each island gives its own model
            for k in range(len(grid.islands())):
                if grid.islands()[k].machines:
                    grid.to_system(flow=flow, island=k)
    return grid


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_documents())
def test_mutated_case_files_load_or_raise_a_clear_error(sample):
    case, data = sample
    folder = Path(tempfile.mkdtemp(prefix="netcoh-fuzz-"))
    path = folder / FILE
    path.write_bytes(data)
    kind, value = run_bounded(lambda: _load_and_build(path), TIME_LIMIT_S)
    assert kind != "hang", f"{case}: loading a mutated file ran past {TIME_LIMIT_S} s"
    if kind == "raised":
        assert isinstance(value, nc.NetcohError), \
            f"{case}: raw {type(value).__name__}: {value}"
        msg = str(value)
        assert FILE in msg or msg.startswith("`"), f"{case}: message names no file: {msg}"
        assert "must" in msg and "got" in msg, f"{case}: unclear message: {msg}"


@pytest.mark.parametrize("case", CASES)
def test_unmutated_cases_pass_the_same_harness(case, tmp_path):
    """The harness itself: the shipped files, re-written, load and build a model."""
    p = tmp_path / FILE
    p.write_text(_text(case))
    kind, value = run_bounded(lambda: _load_and_build(p), TIME_LIMIT_S)
    assert kind == "ok", value
    assert value.n_machines == len(_doc(case)["machines"])
