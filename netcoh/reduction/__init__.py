"""Coherent areas and structure-preserving reduction.

* :mod:`~netcoh.reduction.fitting` - low-order aggregate machines by frequency-weighted balanced
  truncation (Min, Paganini & Mallada, L-CSS 2021).
"""

from .fitting import (
    PAPER_WEIGHTS,
    AggregateMachineFit,
    BalancedTruncation,
    fit_aggregate_machine,
    weighted_balanced_truncation,
)

__all__ = [
    "PAPER_WEIGHTS",
    "AggregateMachineFit",
    "BalancedTruncation",
    "fit_aggregate_machine",
    "weighted_balanced_truncation",
]
