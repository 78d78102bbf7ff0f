"""Contingency screening: rank-one Kron updates == rebuilt grids, islands, executors agree,
incremental results resume, failures are recorded, and the `netcoh screen` command."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import netcoh as nc
import netcoh.grids as grids
from netcoh.analysis.nadir import worst_case_nadir
from netcoh.cli import main
from netcoh.exceptions import InputError, NetcohWarning
from netcoh.screening import (
    Contingency,
    ScreeningContext,
    ScreeningResult,
    contingency_list,
    screen_contingencies,
)
from netcoh.screening.results import COLUMNS


@pytest.fixture(scope="module")
def kundur():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return grids.load("kundur")


@pytest.fixture(scope="module")
def ieee39():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return grids.load("ieee39")


def _rebuilt(grid, c, model):
    g2 = grid.remove_branch(c.id) if c.kind == "branch" else grid.trip_machine(c.id)
    isl = [i for i in g2.islands() if i.machines]
    return [g2.to_system(model=model, island=k if len(g2.islands()) > 1 else None)
            for k in range(len(isl))]


@pytest.mark.parametrize("model", ["swing", "swing_turbine"])
@pytest.mark.parametrize("case", ["ieee39", "kundur"])
def test_rank_one_update_equals_rebuild(case, model, request):
    grid = request.getfixturevalue(case)
    ctx = ScreeningContext.from_grid(grid, model=model)
    n_split = 0
    for c in contingency_list(grid, "n-1"):
        systems, note = ctx.systems(c)
        ref = sorted(_rebuilt(grid, c, model), key=lambda s: s.labels)
        got = sorted((s for s, _ in systems), key=lambda s: s.labels)
        assert [s.labels for s in got] == [s.labels for s in ref]
        n_split += len(got) > 1
        for s, r in zip(got, ref):
            L, R = np.asarray(s.laplacian), np.asarray(r.laplacian)
            assert np.abs(L - R).max() <= 1e-10 * np.abs(R).max() + 1e-12
            assert np.array_equal(s.nodal.den, r.nodal.den)
    assert n_split > 0              # generator transformers are bridges: islands were exercised


def test_contingency_list(ieee39):
    all_ = contingency_list(ieee39, "n-1")
    assert len(all_) == 46 + 10
    assert contingency_list(ieee39, "machines")[0] == Contingency("machine", "G30")
    assert [c.name for c in contingency_list(ieee39, ["G31", "branch:line:0"])] == \
        ["machine:G31", "branch:line:0"]
    with pytest.raises(InputError, match="unknown"):
        contingency_list(ieee39, ["nope"])
    # a contingency listed twice (by name and by id) is screened once, with a warning
    with pytest.warns(NetcohWarning, match="more than once.*machine:G31"):
        twice = contingency_list(ieee39, "machine:G31,G31,branch:line:0,G31")
    assert [c.name for c in twice] == ["machine:G31", "branch:line:0"]


def test_serial_processes_agree_and_rank(kundur, tmp_path):
    kw = dict(rho=0.3, horizon=None, dt=0.02)
    a = screen_contingencies(kundur, "n-1", executor="serial", **kw)
    b = screen_contingencies(kundur, "n-1", executor="processes", n_jobs=2, batch_size=3, **kw)
    assert isinstance(a, ScreeningResult)
    fa, fb = a.to_frame(), b.to_frame()
    assert list(fa.columns) == COLUMNS
    assert list(fa.contingency) == list(fb.contingency)
    assert np.allclose(fa.nadir_hz, fb.nadir_hz, rtol=1e-10)
    assert (fa.nadir_hz.diff().dropna() <= 0).all()          # ranked worst first
    # each row equals a direct worst_case_nadir of the rebuilt grid's main island
    every = screen_contingencies(kundur, "n-1", executor="serial", islands="all", **kw).to_frame()
    every = every.set_index("contingency")
    n_split = 0
    for _, row in fa.iterrows():
        systems = _rebuilt(kundur, Contingency(row.kind, row.element), "swing_turbine")
        values = [worst_case_nadir(s, rho=0.3, dt=0.02, f_hz=kundur.f_hz).value_hz
                  for s in systems]
        main = max(range(len(systems)), key=lambda k: systems[k].n)
        assert np.isclose(row.nadir_hz, values[main], rtol=1e-8)
        assert np.isclose(every.loc[row.contingency, "nadir_hz"], max(values), rtol=1e-8)
        assert np.isclose(row.margin_hz, 0.5 - row.nadir_hz)    # 60 Hz: north_america
        n_split += len(systems) > 1
    split = fa[fa.islands > 1]
    assert len(split) == n_split > 0
    assert split.island_info.str.contains("screened the main island; separated: ").all()


def test_failures_recorded_and_resume(kundur, tmp_path, monkeypatch):
    import netcoh.screening.evaluate as scr

    out = tmp_path / "res.csv"
    real = scr._evaluate

    def flaky(ctx, cont, settings, base_hz):
        if cont.id == "L7-8a":
            row = real(ctx, Contingency("branch", "nope"), settings, base_hz)
            row.update(contingency=cont.name, element=cont.id)
            return row
        return real(ctx, cont, settings, base_hz)

    monkeypatch.setattr(scr, "_evaluate", flaky)
    conts = ["L7-8a", "L7-8b", "G1", "G2"]
    # (L7-8a and L7-8b are parallel circuits: one network; evaluate each here)
    kw = dict(executor="serial", out=out, horizon=None, merge_equivalent=False)
    res = screen_contingencies(kundur, conts, **kw)
    failed = res.failed
    assert list(failed.contingency) == ["branch:L7-8a"]
    assert "unknown branch" in failed.error.iloc[0]
    assert res.to_frame().index[-1] == 4                       # failures ranked last
    monkeypatch.setattr(scr, "_evaluate", real)
    # simulate an interrupted run: keep the header + 2 rows and a torn third line
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:3]) + lines[3][:10])
    calls = []
    monkeypatch.setattr(scr, "_evaluate", lambda *a: calls.append(a[1]) or real(*a))
    res2 = screen_contingencies(kundur, conts, **kw)
    assert len(calls) == 2                                     # only the missing ones ran
    assert len(res2.to_frame()) == 4
    stored = pd.read_csv(out)
    assert sorted(stored.contingency) == sorted(res2.to_frame().contingency)
    with pytest.raises(InputError, match="different settings"):
        screen_contingencies(kundur, conts, executor="serial", out=out, horizon=None, rho=0.1)


def test_parquet_store(kundur, tmp_path):
    out = tmp_path / "res.parquet"
    res = screen_contingencies(kundur, ["G1", "G2"], executor="serial", out=out, horizon=None,
                               batch_size=1)
    df = pd.read_parquet(out)
    assert sorted(df.contingency) == ["machine:G1", "machine:G2"]
    assert np.allclose(np.sort(df.nadir_hz), np.sort(res.to_frame().nadir_hz))


@pytest.mark.dask
def test_dask_local_cluster_matches_serial(kundur):
    import dask.distributed as distributed

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        d = screen_contingencies(kundur, "machines", scheduler=client, horizon=None, batch_size=1)
    s = screen_contingencies(kundur, "machines", executor="serial", horizon=None)
    assert d.settings["executor"] == "dask"
    assert list(d.to_frame().contingency) == list(s.to_frame().contingency)
    assert np.allclose(d.to_frame().nadir_hz, s.to_frame().nadir_hz, rtol=1e-10)


def test_cli_screen(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["screen", "kundur", "--contingencies", "n-1", "--serial", "--top", "50",
               "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "contingencies evaluated" in text and "worst nadir" in text
    for f in ("results.csv", "summary.json", "nadir_per_bus.png", "worst_trajectories.png",
              "contingencies.png"):
        assert (out / f).stat().st_size > 0
    summ = json.loads((out / "summary.json").read_text())
    df = pd.read_csv(out / "results.csv")
    assert summ["contingencies"] == len(df) == len(contingency_list(grids.load("kundur", warn=False)))
    assert summ["worst_contingency"] == df.contingency.iloc[0]
    # split outages name the machines cut off in the printed table's note column
    split = df[df.islands > 1]
    assert len(split) and "note" in text
    for info in split.island_info:
        assert info.rpartition("; ")[2] in text


@pytest.mark.parametrize("argv, msg", [
    (["screen", "nosuchcase"], "shipped case"),
    (["screen", "kundur", "--rho", "-1"], "--rho must be positive"),
    (["screen", "kundur", "--contingencies", "bogus"], "unknown"),
])
def test_cli_bad_input(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and len(err.splitlines()) == 1


def _bridges_brute_force(N, f, t, nm):
    """Remove each edge in turn and look at the components (the definition)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    out = {}
    for k in range(f.size):
        keep = np.arange(f.size) != k
        A = sp.coo_matrix((np.ones(keep.sum()), (f[keep], t[keep])), shape=(N, N))
        ncomp, lab = connected_components(A, directed=False)
        if lab[f[k]] == lab[t[k]]:
            continue
        side = lab == lab[t[k]]
        other = lab == lab[f[k]]
        nm_side, nm_other = int(side[:nm].sum()), int(other[:nm].sum())
        if nm_side == 0:
            out[k] = f"dead:{int(side.sum())}"
        elif nm_other == 0:
            out[k] = f"dead:{int(other.sum())}"
        else:
            out[k] = "split"
    return out


@pytest.mark.parametrize("seed", range(6))
def test_bridge_status_matches_edge_removal(seed):
    from netcoh.screening.bridges import bridge_status

    rng = np.random.default_rng(seed)
    N, nm = 40, 6
    # a random tree (all bridges) plus a few chords and one doubled edge
    f = np.array([rng.integers(0, i) for i in range(1, N)])
    t = np.arange(1, N)
    extra = rng.integers(0, N, size=(4, 2))
    extra = extra[extra[:, 0] != extra[:, 1]]
    f = np.concatenate([f, extra[:, 0], f[:1]])
    t = np.concatenate([t, extra[:, 1], t[:1]])
    perm = rng.permutation(N)                 # machines anywhere in the tree
    f, t = perm[f], perm[t]
    got = bridge_status(N, f, t, nm)
    assert got == _bridges_brute_force(N, f, t, nm)
    assert any(v == "split" for v in got.values()) and any(v.startswith("dead") for v in got.values())


def test_screening_rows_equal_full_table_nadir():
    """Screening rules out buses by a bound; the rows equal the full-table search."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = grids.load("case145")
    conts = contingency_list(grid, "n-1")[::9]
    kw = dict(rho=0.5, dt=0.05, horizon=1.0, model="swing")
    res = screen_contingencies(grid, conts, executor="serial", threshold_hz=0.3, **kw)
    ctx = ScreeningContext.from_grid(grid, model="swing")
    df = res.to_frame().set_index("contingency")
    checked = 0
    for c in conts:
        row = df.loc[c.name]
        if row.error:
            continue
        systems, _ = ctx.systems(c)
        ref = max((worst_case_nadir(s, rho=0.5, dt=0.05, horizon=1.0, f_hz=grid.f_hz)
                   for s, _ in systems),
                  key=lambda r: r.value)
        assert row.worst_bus == ref.bus
        assert row.nadir_hz == pytest.approx(ref.value_hz, rel=1e-12)
        assert row.margin_hz == pytest.approx(0.3 - ref.value_hz, rel=1e-12)
        checked += 1
    assert checked >= 20


def test_worker_tuning_runs_once_and_limits_blas():
    import subprocess
    import sys

    code = ("from threadpoolctl import threadpool_info\n"
            "from netcoh.screening import executors as s\n"
            "s._tune_worker(); s._tune_worker()\n"
            "assert s._TUNED == [True]\n"
            "blas = [p for p in threadpool_info() if p['user_api'] == 'blas']\n"
            "assert blas and all(p['num_threads'] == 1 for p in blas), blas\n")
    env = {"MALLOC_TRIM_THRESHOLD_": "65536", "PATH": ""}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)


def test_step_up_transformer_outage_is_screened_like_the_unit_trip(ieee39):
    """Losing a generator's transformer cuts the unit off: the main island is the grid
    without it, which is what the unit trip screens (islands="main")."""
    conts = contingency_list(ieee39, "n-1")
    kw = dict(rho=0.5, dt=0.05, horizon=5.0, executor="serial")
    ctx = ScreeningContext.from_grid(ieee39)
    pairs = []
    for c in conts:
        if c.kind != "branch":
            continue
        systems, _ = ctx.systems(c)
        if len(systems) == 2 and len(systems[1][1]) == 1:
            pairs.append((c, Contingency("machine", systems[1][1][0])))
    assert len(pairs) >= 5
    listed = list(dict.fromkeys(x for p in pairs for x in p))   # two outages cut G34 off
    main = screen_contingencies(ieee39, listed, **kw).to_frame()
    main = main.set_index("contingency")
    every = screen_contingencies(ieee39, [p[0] for p in pairs], islands="all", **kw).to_frame()
    every = every.set_index("contingency")
    for branch, trip in pairs:
        assert main.loc[branch.name, "nadir_hz"] == pytest.approx(main.loc[trip.name, "nadir_hz"],
                                                                  rel=1e-8)
        assert trip.id in main.loc[branch.name, "island_info"]
        # the lone machine, carrying the whole disturbance set, is far worse
        assert every.loc[branch.name, "nadir_hz"] > main.loc[branch.name, "nadir_hz"]
    with pytest.raises(InputError, match="`islands`"):
        screen_contingencies(ieee39, [pairs[0][0]], islands="largest", executor="serial")
    with pytest.raises(nc.NetcohTypeError, match="`merge_equivalent` must be True or False, got 1"):
        screen_contingencies(ieee39, [pairs[0][0]], merge_equivalent=1, executor="serial")
    systems, note = ctx.systems(pairs[0][0])
    kept, note2 = ctx.select_islands(systems, note, "main")
    assert len(kept) == 1 and kept[0][1] == systems[0][1]
    assert note2.endswith(f"separated: {pairs[0][1].id}")
    assert ctx.select_islands(systems, note, "all") == (systems, note)


def test_negative_couplings_are_screened_while_stable(tmp_path):
    """case145 has negative-reactance branches: two outages leave machines coupled
    negatively. A positive semidefinite result is screened (and equals the rebuilt grid);
    an indefinite one is an artefact of Kron reduction through negative reactances:
    model-invalid, no nadir, not a violation, ranked after the valid rows."""
    from netcoh.exceptions import SolverError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = grids.load("case145")
    kw = dict(model="swing", dt=0.05, horizon=2.0, rho=0.5)
    out = screen_contingencies(grid, ["branch:trafo:32", "branch:trafo:3"], executor="serial",
                               out=tmp_path / "r.csv", **kw)
    res = out.to_frame().set_index("contingency")
    assert out.summary()["failed"] == 0 and out.summary()["unstable"] == 0
    assert out.summary()["violations"] == 0          # a model artefact is no violation
    import matplotlib

    matplotlib.use("Agg")
    assert out.plot() is not None
    rebuilt = grid.remove_branch("trafo:32").to_system(model="swing")
    assert rebuilt.signed
    ref = worst_case_nadir(rebuilt, rho=0.5, dt=0.05, horizon=2.0)
    assert res.loc["branch:trafo:32", "error"] == ""
    assert res.loc["branch:trafo:32", "nadir_hz"] == pytest.approx(ref.value_hz, rel=1e-9)
    invalid = res.loc["branch:trafo:3"]
    assert invalid.error == "" and invalid.method == "model-invalid"
    assert np.isnan(invalid.nadir_hz) and np.isnan(invalid.margin_hz)
    assert invalid.warning.startswith("model-invalid: the reduced network couples machines "
                                      "negatively")
    assert list(res.index) == ["branch:trafo:32", "branch:trafo:3"]
    with pytest.raises(SolverError, match="unstable"):
        grid.remove_branch("trafo:3").to_system(model="swing")
    with pytest.raises(nc.UnstableError):
        grid.remove_branch("trafo:3").to_system(model="swing")


def test_cli_runs_past_a_model_invalid_contingency(tmp_path, capsys):
    rc = main(["screen", "case145", "--serial", "--model", "swing", "--horizon", "2", "--dt", "0.05",
               "--contingencies", "trafo:3,line:5", "--out", str(tmp_path)])
    assert rc == 0
    summ = json.loads((tmp_path / "summary.json").read_text())
    assert summ["worst_contingency"] == "branch:line:5" and summ["unstable"] == 0
    for f in ("nadir_per_bus.png", "worst_trajectories.png", "contingencies.png"):
        assert (tmp_path / f).stat().st_size > 0


def test_cli_says_when_the_window_is_too_short(capsys):
    assert main(["screen", "kundur", "--serial", "--horizon", "0.1", "--contingencies", "G1"]) == 0
    text = capsys.readouterr().out
    assert "1 contingencies have their worst dip at the end of the window" in text


@pytest.mark.parametrize("case, model", [("kundur", "swing_turbine"), ("ieee39", "swing"),
                                         ("case145", "swing")])
def test_equivalent_outages_are_evaluated_once(case, model):
    """Series and parallel elements leave one network: merged rows equal separate ones."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = grids.load(case)
    kw = dict(executor="serial", model=model, dt=0.05, horizon=None)
    merged = screen_contingencies(grid, "n-1", **kw)
    apart = screen_contingencies(grid, "n-1", merge_equivalent=False, **kw)
    assert merged.settings["networks_evaluated"] < apart.settings["networks_evaluated"]
    a = merged.to_frame().set_index("contingency").sort_index()
    b = apart.to_frame().set_index("contingency").sort_index()
    assert list(a.index) == list(b.index)
    ok = b.error == ""
    assert (a.error == b.error).all()
    assert np.allclose(a.nadir_hz[ok], b.nadir_hz[ok], rtol=1e-8, equal_nan=True)
    # (a settled worst case, t = inf, is shared by every bus: any of them is the worst)
    dip = ok & np.isfinite(b.time_s)
    assert dip.sum() and (a.worst_bus[dip] == b.worst_bus[dip]).all()
    copies = a[a.island_info.str.contains("same network as")]
    assert len(copies) == len(a) - merged.settings["networks_evaluated"]
    assert (copies.elapsed_s == 0.0).all()
    for _, row in copies.iterrows():
        rep = row.island_info.rpartition("same network as ")[2]
        assert rep in a.index and (a.loc[rep, "nadir_hz"] == row.nadir_hz
                                   or np.isnan(row.nadir_hz) and np.isnan(a.loc[rep, "nadir_hz"]))


def test_context_pins_its_reference_again_after_other_pins(kundur, ieee39):
    """The intact network's decomposition serves the outages of a sweep; pins are few (two
    at a time), so a context whose reference was evicted by other networks' pins, or by
    ``clear()``, pins it again instead of sending every outage to the dense path."""
    from netcoh.analysis import modal_update
    from netcoh.analysis.modal_statespace import pin_reference, statespace_modes

    modal_update.clear()
    ctx = ScreeningContext.from_grid(kundur, model="swing_turbine")
    assert len(modal_update.pinned()) == 1
    ref = modal_update.pinned()[0]
    modal_update.clear()
    assert pin_reference(ieee39.to_system(model="swing_turbine"))    # another network
    assert not any(b is ref for b in modal_update.pinned())
    c = next(c for c in contingency_list(kundur, "n-1") if c.kind == "branch"
             and len(ctx.systems(c)[0]) == 1)
    system = ctx.systems(c)[0][0][0]        # the context's cache: its reference is back
    assert modal_update.pinned()[0] is ref
    statespace_modes(system)
    assert modal_update.last_failure[0] == ""
    assert isinstance(modal_update.update_structured(system), tuple)       # updated
    modal_update.clear()
