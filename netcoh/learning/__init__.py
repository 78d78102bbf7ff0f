"""Training dynamics of small neural networks as dynamical systems.

One module per paper (``symmetric_mf``, ``relu_alignment``, ``lora``, ``linear_net``,
``linear_net_gd``, ``edge_of_stability``, ``neural_collapse``, ``prelu``) on top of a common
abstraction (:class:`TrainingDynamics`), simulators (:func:`simulate_gf`, :func:`simulate_gd`)
and local analysis (:func:`linearize`, :func:`sharpness`, :func:`periodic_orbit`).
Theorems are functions returning ``(bound, hypotheses_hold)`` (:class:`TheoremCheck`).
"""

from . import edge_of_stability
from .analysis import (
    LocalRate,
    PeriodicOrbit,
    eos_threshold,
    first_crossing,
    fit_exponential_rate,
    fit_power_law,
    linearize,
    local_rate,
    periodic_orbit,
    sharpness,
    stability_margin,
)
from .dynamics import TheoremCheck, TrainingDynamics
from .simulate import Trajectory, simulate_gd, simulate_gf

__all__ = [
    "TrainingDynamics", "TheoremCheck", "Trajectory", "simulate_gf", "simulate_gd",
    "linearize", "local_rate", "LocalRate", "sharpness", "eos_threshold", "stability_margin",
    "periodic_orbit", "PeriodicOrbit", "fit_power_law", "fit_exponential_rate", "first_crossing",
    "edge_of_stability",
]
