"""Training dynamics of small neural networks as dynamical systems.

One module per paper on top of a common abstraction:

======================  ==========================================================================
``symmetric_mf``        incremental learning, Riccati closed form (Min & Vidal, CDC 2025)
``relu_alignment``      early neuron alignment with small init (Min, Mallada & Vidal, ICLR 2024)
``lora``                LoRA gradient flow, spectral init (Xu et al., AISTATS 2025)
``linear_net``          convergence and implicit bias of linear networks (Min et al., 2021/23)
``linear_net_gd``       local PL / smoothness constants and step sizes (Xu et al., TMLR 2025)
``edge_of_stability``   the three GD regimes (MacDonald et al., NeurIPS 2025; reconstructed)
``eos_manifold``        the same in general dimension: GD split into Riemannian GD on the sharpness
                        along the minimiser manifold and a bifurcating normal part
``eos_regimes``         the three regimes' rates, exponents and 2-cycle measured against theory
``neural_collapse``     collapse on orthogonally separable data (Min, Zhu & Vidal, NeurIPS 2025)
``prelu``               polynomial ReLU robustness (Min & Vidal, ICML 2024)
======================  ==========================================================================

Common pieces: :class:`TrainingDynamics` (loss, gradient, Hessian-vector product, invariants,
observables), :func:`simulate_gf` / :func:`simulate_gd`, :func:`linearize` (a
``control.StateSpace``), :func:`sharpness` (Lanczos) against :func:`eos_threshold`,
:func:`periodic_orbit` (Floquet multipliers). Theorems are functions returning
``(bound, hypotheses_hold)`` (:class:`TheoremCheck`).
"""

from . import (
    data,
    edge_of_stability,
    eos_manifold,
    eos_regimes,
    linear_net,
    linear_net_gd,
    lora,
    neural_collapse,
    prelu,
    relu_alignment,
    symmetric_mf,
)
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
from .shallow import ShallowNet, stable_rank
from .simulate import Trajectory, simulate_gd, simulate_gf

__all__ = [
    "TrainingDynamics", "TheoremCheck", "Trajectory", "ShallowNet", "stable_rank",
    "simulate_gf", "simulate_gd", "linearize", "local_rate", "LocalRate", "sharpness",
    "eos_threshold", "stability_margin", "periodic_orbit", "PeriodicOrbit", "fit_power_law",
    "fit_exponential_rate", "first_crossing",
    "symmetric_mf", "relu_alignment", "lora", "linear_net", "linear_net_gd",
    "edge_of_stability", "eos_manifold", "eos_regimes", "neural_collapse", "prelu", "data",
]
