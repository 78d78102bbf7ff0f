"""The result store: exact round trip, validation of resumed rows, settings kept with the data,
damage reported in one line, and sweeps killed with SIGKILL that resume bit for bit."""

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import netcoh.screening.evaluate as scr
from netcoh import grids
from netcoh.cli import main
from netcoh.exceptions import InputError, NetcohWarning
from netcoh.screening import screen_contingencies
from netcoh.screening.columns import STORED_COLUMNS
from netcoh.screening.store import ResultStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kundur():
    return grids.load("kundur", warn=False)


def _bits(x):
    return np.asarray(x, dtype=float).view(np.int64)


def test_floats_round_trip_bit_for_bit(tmp_path):
    """Every float (random mantissas, subnormals, extremes, inf) reads back identical."""
    rng = np.random.default_rng(7)
    vals = np.concatenate([rng.random(300) * 10.0 ** rng.integers(-30, 30, 300),
                           [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, np.inf,
                            -np.inf, 0.1 + 0.2, -0.0]])
    rows = [{"contingency": f"machine:G{i}", "kind": "machine", "element": f"G{i}",
             "nadir_hz": v, "coi_nadir_hz": -v, "margin_hz": 0.8 - v, "status": "ok",
             "certified": True, "islands": 1, "_trajectory": {"t_s": [0.0, 1.0],
                                                              "coi_hz": [0.0, v],
                                                              "worst_bus_hz": [0.0, -v]}}
            for i, v in enumerate(vals)]
    for suffix in (".csv", ".parquet"):
        store = ResultStore(tmp_path / f"r{suffix}", {"a": 1})
        store.append(rows[:100])
        store.append(rows[100:])
        df, extras = ResultStore(tmp_path / f"r{suffix}", {"a": 1}).load()
        got = df.set_index("contingency").loc[[r["contingency"] for r in rows]]
        np.testing.assert_array_equal(_bits(got.nadir_hz), _bits(vals))
        np.testing.assert_array_equal(_bits(got.margin_hz), _bits(0.8 - vals))
        assert [extras[r["contingency"]]["_coi_hz"][1] for r in rows[:5]] == list(vals[:5])


def _sweep(kundur, out, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return screen_contingencies(kundur, "n-1", executor="serial", out=out, **kw)


def _sweep_warned(kundur, out, match, **kw):
    with pytest.warns(NetcohWarning, match=match):
        return screen_contingencies(kundur, "n-1", executor="serial", out=out, **kw)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_resuming_a_finished_run_rewrites_the_same_bytes(kundur, tmp_path, monkeypatch, suffix):
    out = tmp_path / f"r{suffix}"
    first = _sweep(kundur, out)
    before = out.read_bytes(), (tmp_path / f"r{suffix}.extra.parquet").read_bytes()
    calls = []
    real = scr._evaluate
    monkeypatch.setattr(scr, "_evaluate", lambda *a: calls.append(a[1]) or real(*a))
    again = _sweep(kundur, out)
    assert calls == []
    assert (out.read_bytes(), (tmp_path / f"r{suffix}.extra.parquet").read_bytes()) == before
    cols = [c for c in STORED_COLUMNS]
    pd.testing.assert_frame_equal(again.table[cols], first.table[cols])
    pd.testing.assert_frame_equal(again.trajectories, first.trajectories)


def test_damaged_rows_are_recomputed(kundur, tmp_path, monkeypatch):
    """A non-numeric cell, a duplicated row, an unknown status and a row with too few cells are
    recomputed; the final file equals an undamaged run's."""
    clean = tmp_path / "clean.csv"
    _sweep(kundur, clean)
    out = tmp_path / "r.csv"
    _sweep(kundur, out)
    lines = out.read_text().splitlines(keepends=True)
    head, body = lines[0], lines[1:]
    cells = body[0].split(",")
    cells[STORED_COLUMNS.index("nadir_hz")] = "abc"
    body[0] = ",".join(cells)
    cells = body[1].split(",")
    cells[STORED_COLUMNS.index("status")] = "fine"
    body[1] = ",".join(cells)
    body[2] = body[2].split(",", 3)[0] + ",x\n"
    body.append(body[3])                                  # a duplicate
    out.write_text(head + "".join(body))
    names = [ln.split(",")[0] for ln in (body[0], body[1], body[2], body[3])]
    calls = []
    real = scr._evaluate
    monkeypatch.setattr(scr, "_evaluate", lambda *a: calls.append(a[1].name) or real(*a))
    res = _sweep_warned(kundur, out, "1 row.s. with a wrong number of cells; 2 row.s. with an "
                        "invalid cell; 2 duplicated row")
    # a damaged row is evaluated again, or copied from the stored row of its equivalent outage
    assert calls and set(calls) <= set(names)
    assert len(res.table) == res.table.contingency.nunique() == len(body) - 1
    assert out.read_bytes() == clean.read_bytes()


def test_settings_live_with_the_data(kundur, tmp_path):
    out = tmp_path / "r.csv"
    _sweep(kundur, out)
    meta = tmp_path / "r.csv.meta.json"
    text = meta.read_text()
    with pytest.raises(InputError, match=r"different settings \([^)]*incident_mw"):
        _sweep(kundur, out, incident_mw=300.0)
    meta.write_text(text[: len(text) // 2])               # torn settings file
    with pytest.raises(InputError, match="settings file r.csv.meta.json is damaged"):
        _sweep(kundur, out, incident_mw=300.0)
    meta.unlink()
    with pytest.raises(InputError, match="settings file r.csv.meta.json is missing") as e:
        _sweep(kundur, out, incident_mw=300.0)
    assert "\n" not in str(e.value)
    res = _sweep(kundur, out, incident_mw=300.0, resume=False)    # starting over is allowed
    assert json.loads(meta.read_text())["incident_mw"] == 300.0
    assert len(pd.read_csv(out)) == len(res.table)


def test_damaged_files_are_reported_in_one_line(kundur, tmp_path):
    rng = np.random.default_rng(3)
    out = tmp_path / "r.csv"
    _sweep(kundur, out)
    out.write_bytes(rng.bytes(2000) + b"\xff\xfe")
    with pytest.raises(InputError, match="not a netcoh results file") as e:
        _sweep(kundur, out)
    assert "\n" not in str(e.value)
    out.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(InputError, match="header is not that of a netcoh results file"):
        _sweep(kundur, out)
    pq = tmp_path / "r.parquet"
    _sweep(kundur, pq)
    pq.write_bytes(pq.read_bytes()[:-100])                # truncated final file
    with pytest.raises(InputError, match="not a readable Parquet file"):
        _sweep(kundur, pq)


def test_truncated_parquet_part_is_recomputed(kundur, tmp_path, monkeypatch):
    clean = tmp_path / "clean.parquet"
    _sweep(kundur, clean, batch_size=1)
    out = tmp_path / "r.parquet"
    stop = {"n": 0}
    real = scr._evaluate

    def dies(*a):
        stop["n"] += 1
        if stop["n"] > 5:
            raise KeyboardInterrupt
        return real(*a)

    monkeypatch.setattr(scr, "_evaluate", dies)
    with pytest.raises(KeyboardInterrupt):
        _sweep(kundur, out, batch_size=1)
    monkeypatch.setattr(scr, "_evaluate", real)
    parts = sorted((tmp_path / "r.parquet.parts").glob("part-*.parquet"))
    assert len(parts) >= 3
    parts[1].write_bytes(parts[1].read_bytes()[:50])
    _sweep_warned(kundur, out, "part part-000002.parquet is damaged", batch_size=1)
    assert out.read_bytes() == clean.read_bytes()


def test_cli_reports_a_damaged_store_in_one_line(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (run / "results.csv.meta.json").write_text("{")
    assert main(["screen", "kundur", "--serial", "--out", str(run)]) == 2
    cap = capsys.readouterr()
    err = cap.err.strip().splitlines()
    assert err[-1].startswith("netcoh screen: error: cannot resume")
    assert "Traceback" not in "\n".join(err)
    assert cap.out == ""                          # nothing printed before the error


def test_cli_refuses_a_store_of_other_settings_before_printing(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["screen", "kundur", "--serial", "--contingencies", "G1", "--out", str(run)]) == 0
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    assert main(["screen", "kundur", "--serial", "--contingencies", "G1", "--dt", "0.02",
                 "--out", str(run)]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and "cannot resume" in cap.err.strip().splitlines()[-1]
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


# -- killed with SIGKILL at random points, resumed: the same bytes -----------------------------

_SCRIPT = """
import sys, warnings
warnings.simplefilter("ignore")
from netcoh.screening import screen_contingencies
if __name__ == "__main__":
    screen_contingencies("kundur", "n-1", executor=sys.argv[1], n_jobs=2, batch_size=1,
                         out=sys.argv[2])
"""


def _start(tmp_path, executor, out):
    script = tmp_path / "sweep.py"
    script.write_text(_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1",
               PYTHONWARNINGS="ignore")
    return subprocess.Popen([sys.executable, str(script), executor, str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _stored(out: Path) -> int:
    """Rows stored so far (CSV lines, or Parquet part files with batch_size=1)."""
    if out.suffix == ".parquet":
        parts = out.with_name(out.name + ".parts")
        return len(list(parts.glob("part-*.parquet"))) if parts.exists() else 0
    return max(out.read_bytes().count(b"\n") - 1, 0) if out.exists() else 0


def _run(tmp_path, executor, out, timeout=300):
    proc = _start(tmp_path, executor, out)
    assert proc.wait(timeout=timeout) == 0


def _kill_at(tmp_path, executor, out, rows: int, extra_s: float, timeout=300) -> bool:
    """Start a sweep, SIGKILL it (all its processes) once ``rows`` rows are stored plus
    ``extra_s`` seconds; True if it was killed before finishing."""
    proc = _start(tmp_path, executor, out)
    t0 = time.monotonic()
    try:
        while proc.poll() is None and _stored(out) < rows:
            if time.monotonic() - t0 > timeout:
                raise AssertionError("the sweep stored no rows in time")
            time.sleep(0.005)
        time.sleep(extra_s)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    return proc.returncode == -signal.SIGKILL


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted sweep of each format (worker processes)."""
    d = tmp_path_factory.mktemp("ref")
    for suffix in (".csv", ".parquet"):
        _run(d, "processes", d / f"results{suffix}")
    return d


def _trials(executor, suffix, seeds, reference, tmp_path):
    killed = 0
    n = len(pd.read_csv(reference / "results.csv"))
    for seed in seeds:
        rng = np.random.default_rng(seed)
        out = tmp_path / f"{executor}-{seed}" / f"results{suffix}"
        out.parent.mkdir()
        killed += _kill_at(tmp_path, executor, out, int(rng.integers(1, n - 2)),
                           float(rng.uniform(0, 0.05)))
        _run(tmp_path, executor, out)
        assert out.read_bytes() == (reference / f"results{suffix}").read_bytes(), seed
        extra = f"results{suffix}.extra.parquet"
        assert (out.parent / extra).read_bytes() == (reference / extra).read_bytes(), seed
        assert not out.with_name(out.name + ".parts").exists()
    assert killed >= 1                    # at least one trial was really interrupted


@pytest.mark.parametrize("suffix, seeds", [(".csv", [1, 2, 3]), (".parquet", [4, 5])])
def test_killed_process_sweep_resumes_bit_for_bit(reference, tmp_path, suffix, seeds):
    _trials("processes", suffix, seeds, reference, tmp_path)


@pytest.mark.dask
@pytest.mark.parametrize("suffix, seeds", [(".csv", [6]), (".parquet", [7])])
def test_killed_dask_sweep_resumes_bit_for_bit(reference, tmp_path, suffix, seeds):
    _trials("dask", suffix, seeds, reference, tmp_path)


def test_reference_is_the_serial_result(reference, kundur, tmp_path):
    """The subprocess reference equals an in-process serial sweep (same bytes)."""
    out = tmp_path / "results.csv"
    _sweep(kundur, out)
    assert out.read_bytes() == (reference / "results.csv").read_bytes()


def test_bad_out_paths_are_one_line_errors(kundur, tmp_path):
    afile = tmp_path / "a_file"
    afile.write_text("x")
    with pytest.raises(InputError, match="under a regular file") as e:
        _sweep(kundur, afile / "r.csv")
    assert "\n" not in str(e.value) and afile.read_text() == "x"
    with pytest.raises(InputError, match="must be a file path .* got the directory"):
        _sweep(kundur, tmp_path)


def test_files_get_the_ordinary_mode(kundur, tmp_path):
    """Results are written through temporary files, yet readable as any file written by
    open() (mkstemp alone would make them private to the owner)."""
    out = tmp_path / "r.csv"
    _sweep(kundur, out)
    mask = os.umask(0o022)
    os.umask(mask)
    for p in (out, tmp_path / "r.csv.extra.parquet", tmp_path / "r.csv.meta.json"):
        assert p.stat().st_mode & 0o777 == 0o666 & ~mask, p


def test_a_worker_killed_mid_task_is_reported_and_the_sweep_resumes(kundur, tmp_path,
                                                                    monkeypatch):
    """A worker process that dies is reported (never a silently dropped row); running the
    same call again resumes to the rows of an uninterrupted run."""
    from netcoh.exceptions import SolverError

    conts = "machines"
    kw = dict(executor="processes", n_jobs=2, batch_size=1, horizon=None)
    ref = screen_contingencies(kundur, conts, executor="serial", horizon=None).to_frame()
    victim = ref.contingency.iloc[-1]
    evaluate = scr._evaluate

    def dying(ctx, cont, settings, base_hz):          # forked workers inherit this patch
        if cont.name == victim:
            os.kill(os.getpid(), signal.SIGKILL)
        return evaluate(ctx, cont, settings, base_hz)

    out = tmp_path / "res.csv"
    monkeypatch.setattr(scr, "_evaluate", dying)
    with pytest.raises(SolverError, match="worker process died"):
        screen_contingencies(kundur, conts, out=out, **kw)
    monkeypatch.setattr(scr, "_evaluate", evaluate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NetcohWarning)
        again = screen_contingencies(kundur, conts, out=out, **kw).to_frame()
    cols = ["contingency", "nadir_hz", "coi_nadir_hz", "status"]
    pd.testing.assert_frame_equal(again[cols].reset_index(drop=True),
                                  ref[cols].reset_index(drop=True))
