"""Hypothesis fuzzing of the command line: any bad option value gives one line and exit 2.

Each example puts one invalid value (negative, zero, NaN, infinite, non-numeric, empty, a
file where a folder is wanted, a missing case) into one option of one sub-command, among
otherwise valid arguments; the command must stop before doing any work, print one line on
stderr naming the option, nothing on stdout, write nothing, and never show a traceback.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netcoh.cli import main

#: (sub-command, option, values that option must refuse)
OPTIONS = [
    ("screen", "--rho", ["-1", "0", "nan", "inf", "abc", ""]),
    ("screen", "--top", ["-1", "nan", "abc", "1.5", ""]),
    ("screen", "--threshold", ["-1", "0", "nan", "abc", ""]),
    ("screen", "--horizon", ["-1", "0", "nan", "abc"]),
    ("screen", "--jobs", ["-1", "0", "abc", "1.5"]),
    ("screen", "--incident-mw", ["-1", "0", "nan", "inf", "abc"]),
    ("screen", "--norm", ["3", "0", "abc", ""]),
    ("screen", "--contingencies", ["nonsense-element", ""]),
    ("screen", "--model", ["governor", "abc", ""]),
    ("screen", "--disturbance", ["abc", ""]),
    ("coherence", "--wmin", ["-1", "0", "nan", "abc"]),
    ("coherence", "--wmax", ["-1", "0", "nan", "abc"]),
    ("coherence", "--points", ["-1", "0", "abc", "1.5"]),
    ("coherence", "--tol", ["-1", "0", "nan", "abc"]),
    ("reduce", "-k", ["-1", "0", "abc", "1.5"]),
]

CASES = {"screen": ["kundur"], "reduce": ["kundur"], "coherence": []}


def _run(capsys, argv):
    try:
        code = main(argv)
    except SystemExit as exc:                      # argparse's own exits
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choice=st.sampled_from(OPTIONS), data=st.data())
def test_one_bad_option_value_is_one_line_and_exit_2(choice, data, capsys, tmp_path):
    command, option, values = choice
    value = data.draw(st.sampled_from(values), label="value")
    out = tmp_path / data.draw(st.text("abcdef", min_size=1, max_size=6), label="folder")
    argv = [command, *CASES[command], f"{option}={value}", "--out", str(out)]
    code, stdout, stderr = _run(capsys, argv)
    assert code == 2, (argv, code, stderr)
    assert "Traceback" not in stderr and stdout == "", (argv, stdout, stderr)
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, (argv, stderr)
    assert option.lstrip("-").split("-")[0] in lines[0] or option in lines[0], (argv, stderr)
    assert not out.exists(), argv                  # nothing written


class _Ran(BaseException):
    """Raised where a command would start its real work: its arguments were accepted."""


def _no_work(*args, **kwargs):
    raise _Ran


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tokens=st.lists(st.one_of(st.sampled_from(["screen", "reduce", "coherence", "cases",
                                                  "--top", "--rho", "-k", "--out", "--wmin",
                                                  "--model", "--serial", "ieee39", "-1", "nan"]),
                                 st.text(min_size=0, max_size=8)), min_size=1, max_size=5))
def test_random_argument_lists_never_trace_back(tokens, capsys, tmp_path, monkeypatch):
    """Random token lists: accepted (the command reaches its work, stubbed out here), or exit
    1/2 with one line on stderr; never a traceback."""
    import netcoh.commands.coherence as coh
    import netcoh.commands.reduce as red
    import netcoh.screening as screening

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(screening, "screen_contingencies", _no_work)
    monkeypatch.setattr(coh, "load_case_system", _no_work)
    monkeypatch.setattr(red, "load_case_system", _no_work)
    try:
        code, stdout, stderr = _run(capsys, tokens)
    except _Ran:
        return
    assert "Traceback" not in stderr, (tokens, stderr)
    if code != 0:
        assert code in (1, 2), (tokens, code)
        assert len([ln for ln in stderr.splitlines() if ln.strip()]) == 1, (tokens, stderr)
