"""`netcoh cases`: lists the shipped cases with sizes and provenance."""

from __future__ import annotations

import argparse

from netcoh.commands import cases


def _run(argv, capsys):
    parser = argparse.ArgumentParser()
    cases.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["cases", *argv])
    status = args.handler(args)
    return status, capsys.readouterr().out


def test_cases_lists_sizes_and_synthesised_fields(capsys):
    status, out = _run([], capsys)
    assert status == 0
    lines = {ln.split()[0]: ln.split() for ln in out.splitlines()[1:] if ln.strip()}
    assert lines["kundur"][1:4] == ["11", "12", "4"]
    assert lines["ieee39"][1:4] == ["39", "46", "10"]
    assert lines["gb"][1:4] == ["2224", "3207", "394"]
    assert lines["case145"][3] == "50"
    assert "inertia_s" in lines["gb"][-1] + " ".join(lines["gb"])


def test_cases_name_shows_provenance(capsys):
    status, out = _run(["kundur"], capsys)
    assert status == 0
    assert "Kundur" in out and "Example 12.6" in out and "damping_pu" in out


def test_cases_quick_reads_files_only(capsys):
    status, out = _run(["--quick"], capsys)
    assert status == 0 and "pandapower.GBnetwork()" in out
