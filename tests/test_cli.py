import json
import subprocess
import sys

import pytest

from netcoh.cli import main


def test_coherence_command_writes_outputs(tmp_path, capsys):
    assert main(["coherence", "--points", "6", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "coherence bandwidth" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["n"] == 30 and summary["bandwidth_rad_s"] > 0
    assert (tmp_path / "coherence.png").stat().st_size > 1000
    assert len((tmp_path / "coherence.csv").read_text().splitlines()) == 7


def test_bad_arguments_exit_nonzero_with_one_line_reason():
    proc = subprocess.run([sys.executable, "-m", "netcoh.cli", "coherence", "--wmin", "-1"],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "--wmin must be positive" in proc.stderr.strip().splitlines()[-1]


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


# -- bad input: one line naming the option and value, exit 2, nothing printed or written -----

def _bad_cases(tmp_path):
    afile = tmp_path / "a_file.txt"
    afile.write_text("keep me")
    latin = tmp_path / "latin1.json"
    latin.write_bytes('{"name": "caf\xe9"}'.encode("latin-1"))
    return [
        (["screen", "kundur", "--out", str(afile)], "--out must be a folder", afile),
        (["screen", "kundur", "--out", str(afile / "sub")], "under the file", afile / "sub"),
        (["screen", "kundur", "--out", "/sys/netcoh-cli-test/run"], "--out must be a writable",
         Path("/sys/netcoh-cli-test")),
        (["screen", "kundur", "--top", "-1"], "--top must be >= 0, got -1", None),
        (["screen", str(latin)], "must be a UTF-8 JSON case file", None),
        (["screen", "kundur", "--threshold", "-1"], "--threshold must be a positive number of "
                                                    "Hz, auto or one of", None),
        (["screen", "kundur", "--threshold", "nordic"], "got 'nordic'", None),
        (["screen", "kundur", "--scheduler", "notanaddress"], "`scheduler` must be a Dask "
                                                              "scheduler address", None),
        (["cases", "nosuch"], "NAME must be a shipped case", None),
        (["screen", "kundur", "--rho", "0.3"], "--rho and --norm size the norm ball", None),
        (["screen", "kundur", "--disturbance", "ball", "--incident-mw", "100"],
         "--incident-mw sizes the reference incident", None),
        (["screen", "kundur", "--incident-mw", "nan"], "--incident-mw must be positive, got nan", None),
        (["screen", "kundur", "--top", "x"], "argument --top: invalid int value: 'x'", None),
        (["screen", "kundur", "--jobs", "0"], "--jobs must be >= 1, got 0", None),
        (["screen", "nosuchcase"], "CASE must be a shipped case", None),
        (["coherence", "--wmin", "-1"], "--wmin must be positive and below --wmax", None),
        (["coherence", "--out", str(afile)], "--out must be a folder", None),
        (["reduce", "kundur", "--nodes", "NOPE"], "--nodes must be node labels of kundur", None),
        (["reduce", "kundur", "--out", str(afile / "x")], "under the file", None),
    ]


from pathlib import Path  # noqa: E402


def test_bad_input_is_one_line_exit_2_and_leaves_nothing(tmp_path, capsys):
    for argv, msg, path in _bad_cases(tmp_path):
        before = sorted(p.name for p in tmp_path.iterdir())
        assert main(argv) == 2, argv
        cap = capsys.readouterr()
        err = cap.err.strip().splitlines()
        assert cap.out == "", argv                           # nothing printed before the check
        assert len(err) == 1 and err[0].startswith(f"netcoh {argv[0]}: error: "), (argv, err)
        assert msg in err[0], (argv, err[0])
        assert "np.float64" not in err[0] and "Traceback" not in err[0]
        assert sorted(p.name for p in tmp_path.iterdir()) == before, argv
        if path is not None and path.name != "a_file.txt":
            assert not path.exists(), argv
    assert (tmp_path / "a_file.txt").read_text() == "keep me"


def test_contingency_error_after_loading_leaves_no_folder(tmp_path, capsys):
    out = tmp_path / "new" / "run"
    assert main(["screen", "kundur", "--contingencies", "bogus", "--out", str(out)]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and "unknown" in cap.err.strip().splitlines()[-1]
    assert not (tmp_path / "new").exists()


def test_coherence_bad_argument_subprocess_exit_2():
    proc = subprocess.run([sys.executable, "-m", "netcoh.cli", "coherence", "--wmin", "-1"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "netcoh coherence: error: --wmin must be positive and below --wmax, got -1.0 and 100.0"]


def test_a_closed_pipe_loses_no_file(tmp_path):
    """`netcoh screen --out DIR | head -1`: the reader has gone before the table is
    printed (here before anything is); the command still writes every file and exits 0
    without a traceback."""
    from netcoh.screening.report import OUTPUT_FILES

    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "netcoh.cli", "screen", "kundur", "--serial",
                             "--top", "16", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    for f in OUTPUT_FILES:
        assert (out / f).stat().st_size > 0, f


def test_resumed_run_writes_the_same_summary(tmp_path):
    """Run again on its own folder, the screen resumes every row and writes the same
    summary (the number of networks evaluated is the sweep's, not this call's)."""
    out = tmp_path / "run"
    assert main(["screen", "kundur", "--serial", "--out", str(out)]) == 0
    first = (out / "summary.json").read_bytes()
    assert json.loads(first)["settings"]["networks_evaluated"] > 0
    assert main(["screen", "kundur", "--serial", "--out", str(out)]) == 0
    assert (out / "summary.json").read_bytes() == first


def test_table_names_the_limit_a_violation_breaks(capsys):
    """Under the ENTSO-E preset ieee39's smaller trips break the 0.2 Hz quasi-steady limit
    with their nadir within 0.8 Hz: the table says so."""
    rc = main(["screen", "ieee39", "--serial", "--contingencies", "G35,G30",
               "--threshold", "continental_europe"])
    assert rc == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(line for line in lines if line.split()[:3] == ["contingency", "status", "breaks"])
    g35 = next(line for line in lines if "machine:G35" in line)
    g30 = next(line for line in lines if "machine:G30" in line)
    assert g35.split()[2:4] == ["violation", "quasi-steady"]
    margin = float(g35.split()[head.split().index("margin_hz") + 1])
    assert margin > 0                              # the nadir is within its limit
    assert g30.split()[2] == "ok" and "quasi-steady" not in g30
    assert lines[-1].endswith("(limits continental_europe: nadir 0.8 Hz, quasi-steady 0.2 Hz)")


def test_a_surplus_is_called_a_rise(capsys):
    """Transformer 5 cuts off a bus whose load then drops out: the main island has a
    surplus, its deviations are rises, and the note says so (a trip's row has no such note)."""
    assert main(["screen", "ieee39", "--serial", "--contingencies", "branch:trafo:5,G30"]) == 0
    lines = capsys.readouterr().out.splitlines()
    cut = next(line for line in lines if "branch:trafo:5" in line)
    trip = next(line for line in lines if "machine:G30" in line)
    lost = float(cut.split()[3])
    assert lost < 0 and f"frequency rises (surplus of {-lost:.4g} MW)" in cut
    assert "rises" not in trip


# -- exit status and progress ------------------------------------------------------------------

def test_exit_status_0_by_default_3_on_violation(tmp_path, capsys):
    args = ["screen", "kundur", "--serial", "--contingencies", "G1,L7-8a", "--threshold", "0.01"]
    assert main(args) == 0
    cap = capsys.readouterr()
    assert "2 violation" in cap.out and cap.err == ""        # stderr is no terminal here
    assert main(args + ["--fail-on-violation"]) == 3
    assert "exit status 3" in capsys.readouterr().err
    assert main(["screen", "kundur", "--serial", "--contingencies", "G1", "--threshold", "5",
                 "--fail-on-violation"]) == 0


def test_stages_and_a_bar_per_contingency(capsys):
    assert main(["screen", "kundur", "--serial", "--contingencies", "G1,G2,L7-8a", "--top",
                 "0", "--progress"]) == 0
    err = capsys.readouterr().err
    stages = [ln.split(": ", 1)[1] for ln in err.splitlines() if ln.startswith("netcoh screen: ")]
    assert stages[:4] == ["loading kundur", "power flow and network model of kundur",
                          "intact network", "3 contingencies (3 to evaluate)"]
    assert "3/3" in err


class _Recorder:
    def __init__(self):
        self.calls, self.stages = [], []

    def __call__(self, done, total):
        self.calls.append((done, total))

    def stage(self, text):
        self.stages.append(text)


def test_progress_advances_per_contingency(monkeypatch):
    """Serial: one call per contingency. Worker processes: the bar also moves while a batch
    is being evaluated (it counts the contingencies the workers have finished). Each
    contingency is made to take at least 50 ms, so that a batch spans several of the
    progress loop's 0.25 s heartbeats however fast the machine (the workers are forked
    and inherit the slower evaluation)."""
    import time
    import warnings

    from netcoh.screening import evaluate, screen_contingencies

    real = evaluate._evaluate

    def slow(*args, **kw):
        time.sleep(0.05)
        return real(*args, **kw)

    rec = _Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        screen_contingencies("kundur", ["G1", "G2", "G3", "L7-8a"], executor="serial",
                             merge_equivalent=False, progress=rec)
        assert rec.calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
        assert rec.stages[-1] == "4 contingencies (4 to evaluate)"
        rec = _Recorder()
        monkeypatch.setattr(evaluate, "_evaluate", slow)
        res = screen_contingencies("ieee39", "n-1", executor="processes", n_jobs=2,
                                   batch_size=28, merge_equivalent=False, progress=rec)
    n = len(res.table)
    done = [d for d, _ in rec.calls]
    assert done == sorted(done) and done[-1] == n and all(t == n for _, t in rec.calls)
    # two batches of 28, yet the bar stopped at counts that are not batch boundaries
    assert len(set(done) - {28, 56}) >= 2


def test_screen_model_choices_are_the_grid_models():
    """`netcoh screen --model` offers exactly what Grid.to_system builds, and the full model
    of ANDES cases."""
    import argparse

    from netcoh.commands import screen as screen_cmd
    from netcoh.grids.grid import MODELS
    from netcoh.screening.full_model import FULL

    parser = argparse.ArgumentParser()
    screen_cmd.register(parser.add_subparsers())
    action = next(a for a in parser._subparsers._group_actions[0].choices["screen"]._actions
                  if a.dest == "model")
    assert tuple(action.choices) == (*MODELS, FULL)


@pytest.mark.andes
def test_screen_reads_an_andes_case_on_its_own_model(tmp_path):
    """`netcoh screen andes:CASE` screens an ANDES case on the case's own machine dynamics."""
    import json

    from netcoh.cli import main

    out = tmp_path / "kundur"
    assert main(["screen", "andes:kundur/kundur_full.xlsx", "--contingencies", "machines",
                 "--serial", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["model"] == "case"
    assert summary["contingencies"] == 4
    assert main(["screen", "andes:", "--serial"]) == 2
