"""Every public class and function shows an example, and every Returns entry says what it is.

The companion of ``tests/test_docstrings.py`` (which checks the parameters), over the same
public API: a class or function docstring needs an ``Examples`` section (doctested by
``--doctest-modules``), and each entry of a ``Returns``/``Yields`` section needs words
after its type, not the type alone. :data:`GAPS` lists today's exceptions and only shrinks:
an entry that no longer applies fails until it is removed.
"""

from __future__ import annotations

import inspect
import warnings

import pytest

from tests.test_docstrings import _checked_callables, numpydoc

#: (object, problem) pairs not yet fixed; shrink-only.
GAPS = {
    ("netcoh.learning.TrainingDynamics", "no Examples"),
    ("netcoh.learning.TheoremCheck", "no Examples"),
    ("netcoh.learning.LocalRate", "no Examples"),
    ("netcoh.learning.PeriodicOrbit", "no Examples"),
    ("netcoh.learning.TrainingDynamics.pack", "Returns without words"),
    ("netcoh.learning.TrainingDynamics.loss", "Returns without words"),
    ("netcoh.learning.TrainingDynamics.grad", "Returns without words"),
    ("netcoh.learning.TrainingDynamics.hvp", "Returns without words"),
    ("netcoh.learning.TrainingDynamics.vector_field", "Returns without words"),
    ("netcoh.learning.TrainingDynamics.gd_map", "Returns without words"),
    ("netcoh.learning.TrainingDynamics.switching_surfaces", "Returns without words"),
    ("netcoh.learning.Trajectory.plot", "Returns without words"),
    ("netcoh.learning.ShallowNet.outputs", "Returns without words"),
    ("netcoh.learning.simulate_gf", "Returns without words"),
    ("netcoh.learning.local_rate", "Returns without words"),
    ("netcoh.learning.eos_threshold", "Returns without words"),
    ("netcoh.learning.stability_margin", "Returns without words"),
    ("netcoh.learning.periodic_orbit", "Returns without words"),
    ("netcoh.learning.symmetric_mf.closed_form", "Returns without words"),
    ("netcoh.learning.symmetric_mf.best_rank_k", "Returns without words"),
    ("netcoh.learning.symmetric_mf.equilibrium_spectrum", "Returns without words"),
    ("netcoh.learning.relu_alignment.cone_labels", "Returns without words"),
    ("netcoh.learning.relu_alignment.is_aligned", "Returns without words"),
    ("netcoh.learning.relu_alignment.alignment_time", "Returns without words"),
    ("netcoh.learning.lora.aligned_pretrained", "Returns without words"),
    ("netcoh.learning.lora.spectral_init", "Returns without words"),
    ("netcoh.learning.lora.gaussian_init", "Returns without words"),
    ("netcoh.learning.linear_net.min_norm_solution", "Returns without words"),
    ("netcoh.learning.linear_net.imbalance_quantities", "Returns without words"),
    ("netcoh.learning.linear_net.balanced_factors", "Returns without words"),
    ("netcoh.learning.linear_net_gd.operator_bounds", "Returns without words"),
    ("netcoh.learning.linear_net_gd.smoothness_constants", "Returns without words"),
    ("netcoh.learning.linear_net_gd.gd_imbalance_increment", "Returns without words"),
    ("netcoh.learning.edge_of_stability.ScalarFactorization.hessian", "Returns without words"),
    ("netcoh.learning.edge_of_stability.regime", "Returns without words"),
    ("netcoh.learning.neural_collapse.separability", "Returns without words"),
    ("netcoh.learning.neural_collapse.balanced_small_init", "Returns without words"),
    ("netcoh.learning.prelu.gaussian_mixture", "Returns without words"),
    ("netcoh.learning.prelu.ideal_classifier", "Returns without words"),
    ("netcoh.learning.data.load_digits_subset", "Returns without words"),
}


def _problems(name, obj, kind) -> set[str]:
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
    new = {p for p in _problems(name, obj, kind) if (name, p) not in GAPS}
    assert not new, f"{name}: " + "; ".join(sorted(new))


def test_gaps_only_shrink():
    current = {(name, p) for name, obj, kind in CASES for p in _problems(name, obj, kind)}
    stale = sorted(GAPS - current)
    assert not stale, f"fixed, remove from GAPS: {stale}"
