"""The README's two set-up commands are what CI runs and what users type."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands():
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", quick)


def test_readme_has_exactly_two_setup_commands():
    cmds = _commands()
    assert len(cmds) == 2
    assert "pip install ." in cmds[0] and "netcoh" in cmds[0]
    assert 'pip install ".[test,validate]"' in cmds[1] and "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command_verbatim():
    assert _commands()[1] in (ROOT / ".ci" / "run").read_text()


def test_readme_python_example_runs(recwarn):
    """The 'In Python' block runs as printed (against the package as it is)."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## In Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    assert scope["report"].to_frame().shape[0] > 0
    assert scope["nadir"].value > 0
