import json
import subprocess
import sys

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
