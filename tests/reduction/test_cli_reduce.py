"""`netcoh reduce CASE -k K --out DIR`."""

import json

import numpy as np
import pytest

import netcoh.cli as cli
from netcoh.reduction.io import load_reduced, load_reduced_partition

pytestmark = pytest.mark.filterwarnings("ignore::netcoh.exceptions.SynthesizedDataWarning")


def test_reduce_kundur_writes_outputs(tmp_path, capsys):
    out = tmp_path / "red"
    rc = cli.main(["reduce", "kundur", "-k", "2", "--all-buses", "--points", "20",
                   "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "area0" in text and "requested" in text
    for name in ("areas.csv", "areas_summary.csv", "areas.png", "bode.png", "reduced.json",
                 "summary.json", "error.csv"):
        assert (out / name).stat().st_size > 0, name
    system = load_reduced(out / "reduced.json")
    assert system.n == 2
    summary = json.loads((out / "summary.json").read_text())
    np.testing.assert_allclose(system.laplacian, summary["reduced_laplacian"])
    part = load_reduced_partition(out / "reduced.json")
    assert part["G1"] == part["G2"] != part["G3"] == part["G4"]


def test_reduce_eigengap_and_bad_input(capsys):
    assert cli.main(["reduce", "kundur"]) == 0
    assert "eigengap" in capsys.readouterr().out
    assert cli.main(["reduce", "kundur", "-k", "9"]) == 2       # 4 machines only
    assert "-k must be at most the number of nodes" in capsys.readouterr().err
    assert cli.main(["reduce", "no-such-case-xyz"]) == 2
