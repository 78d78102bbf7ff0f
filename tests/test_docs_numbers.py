"""Every number the user guide quotes is computed when the site is built, or asserted by a test.

The rule, for the hand-written pages ``docs/*.rst``:

1. **Generated numbers are always fine.** Output of code run while the site builds --
   ``.. netcoh-command::`` (a ``netcoh`` command), ``.. netcoh-exec::`` (Python code), the
   generated CLI reference and case catalogue, and the executed gallery -- is not part of
   the page's source, so it never goes stale.
2. **Numbers in prose must be backed.** A numeral in the prose of a page (outside
   directives and their content, literal blocks, ``inline literals``, roles such as
   ``:math:`...```, and links) is *quoted* unless it is one of the exempt forms below. Every
   quoted number is listed in :data:`BACKED` with the page it appears on and either a test
   (``"tests/path.py::test_name"``: that test's source must contain the same literal, so
   the test asserts it) or a source file that sets it as an input
   (``"netcoh/..."``, ``"examples/..."``, ``"benchmarks/..."``: the file must contain it);
   a number quoted for several statements on one page lists one backing per statement.
3. **Exempt forms** (they state no result): integers 0 to 12 (counts, orders, exit codes),
   years 1900-2099, numbers after a numbering word (``Fig. 2``, ``Table II``, ``Theorem 1``,
   ``Example 12.6``, ``vol.``, ``pp.``, ``arXiv``, ``Python 3.10``), and a number joined to a
   word by a hyphen (``39-bus``, ``50-machine``, ``2-norm``).

``changelog.rst`` and ``citing.rst`` are release notes and bibliography, not user guide.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

NOT_USER_GUIDE = {"changelog.rst", "citing.rst"}

#: (page, number) -> what backs it: a test ("path::name") or a source file that sets it,
#: or a tuple of them when the page quotes the number for several statements.
BACKED: dict[tuple[str, str], str | tuple[str, ...]] = {
    ("conventions.rst", "100"): "netcoh/grids/data/ieee39.json",
    ("conventions.rst", "50"): "netcoh/grids/data/gb.json",
    ("conventions.rst", "60"): "netcoh/grids/data/ieee39.json",
    ("learning.rst", "1e-8"): (
        "tests/learning/test_symmetric_mf.py::test_closed_form_tiny_init_matches_factor_ode",
        "tests/learning/test_linear_net.py::test_local_step_beats_certified_constant_and_classical_steps",
        "tests/learning/test_linear_net.py::test_min_norm_limit_on_invariant_set",
    ),
    ("learning.rst", "1e-9"): (
        "tests/learning/test_symmetric_mf.py::test_closed_form_matches_riccati_ode_and_gf_on_U",
        "tests/learning/test_lora.py::test_spectral_init_matrix_flow_equals_per_mode_odes",
        "tests/learning/test_linear_net.py::test_local_rate_matches_tarmoun_formula",
        "tests/learning/test_neural_collapse.py::test_binary_collapse_under_gradient_flow",
        "tests/learning/test_prelu.py::test_balance_conserved_for_p3",
        "tests/learning/test_prelu.py::test_ideal_classifier_radii",
    ),
    ("learning.rst", "1e-10"): (
        "tests/learning/test_symmetric_mf.py::test_equilibrium_linearisation_matches_prediction",
        "tests/learning/test_lora.py::test_early_phase_is_the_lti_closed_form",
        "tests/learning/test_linear_net.py::test_operator_singular_values_match_brute_force",
        "tests/learning/test_edge_of_stability.py::test_two_cycle_newton_matches_closed_form",
        "tests/learning/test_relu_alignment.py::test_balance_invariant_and_signs_conserved",
        "tests/learning/test_symmetric_mf.py::test_closed_form_matches_hamiltonian_expm",
    ),
    ("learning.rst", "1e-12"):
        "tests/learning/test_lora.py::test_spectral_init_matrix_flow_equals_per_mode_odes",
    ("learning.rst", "0.05"): (
        "tests/learning/test_lora.py::test_misalignment_slows_small_init_and_blocks_spectral_init",
        "tests/learning/test_edge_of_stability.py::test_deep_factorisation_critical_power_laws",
    ),
    ("learning.rst", "1e4"):
        "tests/learning/test_lora.py::test_misalignment_slows_small_init_and_blocks_spectral_init",
    ("learning.rst", "1e-20"):
        "tests/learning/test_lora.py::test_misalignment_slows_small_init_and_blocks_spectral_init",
    ("learning.rst", "1e-3"): (
        "tests/learning/test_linear_net.py::test_gd_local_contraction_matches_linearisation",
        "tests/learning/test_edge_of_stability.py::test_deep_factorisation_subcritical_linear_rate",
        "tests/learning/test_edge_of_stability.py::test_reduced_predictor_is_first_order_not_exact",
    ),
    ("learning.rst", "300"):
        "tests/learning/test_linear_net.py::test_local_step_beats_certified_constant_and_classical_steps",
    ("learning.rst", "19"): "tests/learning/test_linear_net.py::test_theorem32_envelope_with_adaptive_step",
    ("learning.rst", "0.03"): (
        "tests/learning/test_edge_of_stability.py::test_deep_factorisation_critical_power_laws",
        "tests/learning/test_prelu.py::test_trained_prelu_is_robust_where_relu_is_not",
    ),
    ("learning.rst", "2e-4"):
        "tests/learning/test_edge_of_stability.py::test_deep_factorisation_supercritical_two_cycle",
    ("learning.rst", "0.5"): "tests/learning/test_relu_alignment.py::test_alignment_time_scaling_bounded",
    ("learning.rst", "1e-44"):
        "tests/learning/test_relu_alignment.py::test_theorem1_where_its_hypotheses_hold",
    ("learning.rst", "1e-13"):
        "tests/learning/test_symmetric_mf.py::test_closed_form_matches_hamiltonian_expm",
    ("learning.rst", "1e-6"):
        "tests/learning/test_neural_collapse.py::test_binary_collapse_under_gradient_flow",
    ("learning.rst", "0.99"):
        "tests/learning/test_prelu.py::test_neurons_learn_class_averages_for_p1_and_centres_for_p3",
    ("learning.rst", "2e-8"):
        "tests/learning/test_symmetric_mf.py::test_closed_form_matches_hamiltonian_expm",
    ("learning.rst", "42"):
        "tests/learning/test_edge_of_stability.py::test_reduced_predictor_is_first_order_not_exact",
    ("nadir.rst", "0.8"): "netcoh/analysis/nadir.py",
    ("nadir.rst", "0.5"): "netcoh/analysis/nadir.py",
    ("nadir.rst", "59.5"): "netcoh/screening/limits.py",
    ("nadir.rst", "60"): ("netcoh/screening/limits.py", "netcoh/grids/data/ieee39.json"),
    ("nadir.rst", "50"): "tests/screening/test_operator.py::test_limits_presets_and_overrides",
    ("getting_started.rst", "60"): ("netcoh/grids/data/ieee39.json",
                                    "tests/screening/test_operator.py::test_unit_trip_loses_its_dispatch_ieee39"),
    ("getting_started.rst", "59.5"): "netcoh/screening/limits.py",
    ("nadir.rst", "5,000"): "benchmarks/nadir_large.py",
    ("nadir.rst", "32"): "netcoh/screening/executors.py",
    ("nadir.rst", "128"): "netcoh/screening/executors.py",
    ("validation.rst", "2,224"): "benchmarks/validate_andes.py",
    ("validation.rst", "20"): "netcoh/validate.py",
}

NUMBERING = re.compile(
    r"(?:Fig(?:ure)?s?\.?|Tables?|Theorems?|Thm\.?|Lemmas?|Examples?|Sections?|Sec\.|§|"
    r"Eqs?\.|Equations?|Propositions?|Prop\.|Corollary|Assumptions?|Algorithms?|Remarks?|"
    r"Claims?|Appendix|vol\.|pp\.|arXiv:?|Python|version|Tier|checks?|step)\s*$",
    re.IGNORECASE)
INLINE = [re.compile(p) for p in (r"``.+?``", r":[\w:.-]+:`[^`]*`", r"`[^`]*`__?",
                                 r"`[^`]*`", r"https?://\S+", r"\|[^|\s][^|]*\|")]
NUMBER = re.compile(r"(?<![\w.\-/+:])\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?(?![\w]|-[A-Za-z]|\.\d)")
DIRECTIVE = re.compile(r"^(\s*)\.\. ")


def prose(text: str):
    """(line number, text) of the prose lines of an rst page, without literal content."""
    skip = None
    for i, line in enumerate(text.splitlines(), 1):
        indent = len(line) - len(line.lstrip())
        if skip is not None:
            if not line.strip() or indent > skip:
                continue
            skip = None
        m = DIRECTIVE.match(line)
        if m:
            skip = len(m.group(1))
            continue
        if re.fullmatch(r"\s*([=\-~^\"'`#*+])\1+\s*", line):
            continue                                  # section underline
        if line.rstrip().endswith("::"):
            skip = indent                             # a literal block follows
            line = line.rstrip()[:-2]
        yield i, line


def quoted_numbers(text: str):
    """(line number, number) of every quoted (non-exempt) number of a page."""
    out = []
    for i, line in prose(text):
        for pattern in INLINE:
            line = pattern.sub(lambda m: " " * len(m.group()), line)
        for m in NUMBER.finditer(line):
            num = m.group().rstrip(",")
            value = float(num.replace(",", ""))
            if value.is_integer() and (value <= 12 or 1900 <= value <= 2099):
                continue
            if NUMBERING.search(line[:m.start()]):
                continue
            out.append((i, num))
    return out


def _pages():
    return sorted(p for p in DOCS.glob("*.rst") if p.name not in NOT_USER_GUIDE)


def _function_source(path: Path, name: str) -> str | None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return ast.get_source_segment(path.read_text(encoding="utf-8"), node)
    return None


def test_rule_finds_quoted_numbers():
    page = ("Title\n=====\n\nThe nadir is 0.2336 Hz (Fig. 2, 2019), on the 39-bus case with\n"
            "3 areas and ``0.5`` p.u.; a 1,250 MW trip, :math:`4/\\ln 5 = 2.485`.\n\n"
            ".. code-block:: python\n\n   x = 17.5\n\nText::\n\n   99.9\n")
    assert quoted_numbers(page) == [(4, "0.2336"), (5, "1,250")]


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_numbers_in_prose_are_backed(page):
    found = quoted_numbers(page.read_text(encoding="utf-8"))
    unbacked = [(i, n) for i, n in found if (page.name, n) not in BACKED]
    assert not unbacked, (
        f"{page.name}: numbers quoted in prose without a backing (produce them at build time "
        f"with `.. netcoh-exec::`/`.. netcoh-command::`, or list them in BACKED with the test "
        f"that asserts them): " + ", ".join(f"line {i}: {n}" for i, n in unbacked))


_BACKINGS = sorted((key, b) for key, bs in BACKED.items()
                   for b in ((bs,) if isinstance(bs, str) else bs))


@pytest.mark.parametrize(("key", "backing"), _BACKINGS, ids=lambda v: str(v))
def test_backings_exist_and_hold_the_number(key, backing):
    page, number = key
    assert (page, number) in {(p.name, n) for p in _pages()
                              for _, n in quoted_numbers(p.read_text(encoding="utf-8"))}, \
        f"{page} no longer quotes {number}: remove it from BACKED"
    path, _, test = backing.partition("::")
    file = ROOT / path
    assert file.is_file(), f"{backing}: no such file"
    source = _function_source(file, test) if test else file.read_text(encoding="utf-8")
    assert source is not None, f"{backing}: no such test"
    literal = re.compile(rf"(?<![\d.]){re.escape(number.replace(',', ''))}(?![\d])")
    assert literal.search(re.sub(r"(?<=\d)[,_](?=\d{3})", "", source)), \
        f"{backing} does not contain {number}"
