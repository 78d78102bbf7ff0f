"""Every public class and function shows an example, and every Returns entry says what it is.

The companion of ``tests/test_docstrings.py`` (which checks the parameters), over the same
public API: a class or function docstring needs an ``Examples`` section (doctested by
``--doctest-modules``), and each entry of a ``Returns``/``Yields`` section needs words
after its type, not the type alone. Only exception classes are exempt.
"""

from __future__ import annotations

import inspect
import warnings

import pytest

from tests.test_docstrings import _checked_callables, numpydoc


def _problems(obj, kind) -> set[str]:
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = numpydoc.NumpyDocString(inspect.getdoc(obj) or "")
    out = set()
    if kind in ("class", "function") and not doc["Examples"]:
        out.add("no Examples")
    if kind != "class" and any(not "".join(r.desc).strip() for r in doc["Returns"] + doc["Yields"]):
        out.add("Returns without words")
    return out


CASES = _checked_callables()


@pytest.mark.parametrize(("name", "obj", "kind"), CASES, ids=[c[0] for c in CASES])
def test_examples_and_described_returns(name, obj, kind):
    problems = _problems(obj, kind)
    assert not problems, f"{name}: " + "; ".join(sorted(problems))
