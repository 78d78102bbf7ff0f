"""netcoh: coherence, reduction and worst-case frequency nadir of networked dynamical systems.

Nodal transfer functions ``g_i(s)`` coupled through a weighted Laplacian ``L`` and
network dynamics ``f(s)``: ``T(s) = (diag(1/g_i(s)) + f(s) L)^{-1}``.

Examples
--------
>>> import numpy as np, netcoh as nc
>>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(4),
...                                       nodal=nc.nodal.swing([1.0, 2.0, 3.0, 4.0], 0.5))
>>> gh = nc.aggregate_dynamics(sys)
>>> gh.den.tolist()          # 1 / (10 s + 2): the centre-of-inertia machine
[1.0, 0.2]
"""

from . import grids, reduction, screening
from .analysis import (
    AggregateDynamics,
    CoherenceResult,
    ConcentrationResult,
    FrequencyResponse,
    TimeResponse,
    aggregate_dynamics,
    coherence,
    concentration,
    harmonic_expectation,
    harmonic_mean,
    impulse_response,
    incoherence,
    lemma_bound,
    sine_response,
    step_response,
    transfer_matrix,
)
from .analysis.nadir import THRESHOLDS_HZ, NadirResult, worst_case_nadir
from .exceptions import (
    AccuracyWarning,
    CaseFileError,
    DisconnectedError,
    InputError,
    NetcohError,
    NetcohTypeError,
    NetcohWarning,
    SolverError,
    SynthesizedDataWarning,
    UnstableError,
)
from .network import NetworkSystem, NodalDynamics, laplacian, nodal
from .reduction import (
    AggregateMachineFit,
    ClusteringResult,
    ReducedNetwork,
    ReductionError,
    fit_aggregate_machine,
    reduce_network,
    spectral_clustering,
)
from .screening import Contingency, ScreeningResult, contingency_list, screen_contingencies

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # model and data
    "NetworkSystem", "NodalDynamics", "laplacian", "nodal", "grids",
    # analyses
    "transfer_matrix", "aggregate_dynamics", "coherence", "incoherence", "lemma_bound",
    "step_response", "impulse_response", "sine_response",
    "concentration", "harmonic_mean", "harmonic_expectation",
    # worst-case nadir and screening
    "worst_case_nadir", "THRESHOLDS_HZ", "screening", "screen_contingencies", "contingency_list",
    "Contingency",
    # reduction
    "reduction", "spectral_clustering", "reduce_network", "fit_aggregate_machine",
    # results
    "AggregateDynamics", "CoherenceResult", "ConcentrationResult", "FrequencyResponse",
    "TimeResponse", "ClusteringResult", "ReducedNetwork", "ReductionError", "AggregateMachineFit",
    "NadirResult", "ScreeningResult",
    # errors and warnings
    "NetcohError", "InputError", "NetcohTypeError", "DisconnectedError", "CaseFileError",
    "SolverError", "UnstableError", "NetcohWarning", "SynthesizedDataWarning", "AccuracyWarning",
]
