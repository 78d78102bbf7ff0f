"""Analyses of a NetworkSystem: frequency and time responses, coherence, concentration."""

from .aggregate import AggregateDynamics, aggregate_dynamics
from .coherence import CoherenceResult, coherence, incoherence, lemma_bound
from .concentration import ConcentrationResult, concentration, harmonic_expectation, harmonic_mean
from .frequency import FrequencyResponse, evaluate_transfer, transfer_matrix
from .time import TimeResponse, impulse_response, simulate_lti, sine_response, step_response

__all__ = [
    "AggregateDynamics", "CoherenceResult", "aggregate_dynamics", "coherence", "incoherence",
    "lemma_bound", "ConcentrationResult", "concentration", "harmonic_expectation",
    "harmonic_mean", "FrequencyResponse", "evaluate_transfer", "transfer_matrix",
    "TimeResponse", "impulse_response", "simulate_lti", "sine_response", "step_response",
]
