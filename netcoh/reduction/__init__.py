"""Coherent areas and structure-preserving reduction.

* :mod:`~netcoh.reduction.clustering` - spectral bisection / k-way clustering of the Laplacian
  (Min & Mallada, ACC 2023 and L4DC 2023), eigengap choice of k, sparse eigensolvers.
* :mod:`~netcoh.reduction.aggregate` - one node per area: aggregate dynamics and the refined
  reduced Laplacian, lifted transfer matrix, error and Theorem 1 bound, JSON round trip.
* :mod:`~netcoh.reduction.fitting` - low-order aggregate machines by frequency-weighted balanced
  truncation (Min, Paganini & Mallada, L-CSS 2021).
"""

from .aggregate import ReducedNetwork, ReductionError, reduce_network
from .clustering import ClusteringResult, laplacian_eigs, spectral_clustering
from .fitting import (
    PAPER_WEIGHTS,
    AggregateMachineFit,
    BalancedTruncation,
    fit_aggregate_machine,
    weighted_balanced_truncation,
)
from .io import load_reduced, load_reduced_partition, save_reduced
from .refinement import refine_partition

__all__ = [
    "ClusteringResult",
    "spectral_clustering",
    "laplacian_eigs",
    "ReducedNetwork",
    "ReductionError",
    "reduce_network",
    "refine_partition",
    "save_reduced",
    "load_reduced",
    "load_reduced_partition",
    "PAPER_WEIGHTS",
    "AggregateMachineFit",
    "BalancedTruncation",
    "fit_aggregate_machine",
    "weighted_balanced_truncation",
]
