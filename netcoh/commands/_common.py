"""Helpers shared by the sub-commands: atomic writes and case loading."""

from __future__ import annotations

from .. import grids
from .._util import atomic_write_bytes, atomic_write_text

__all__ = ["atomic_write_text", "atomic_write_bytes", "load_case_system"]


def load_case_system(case: str, **to_system):
    """``netcoh.grids.load(case).to_system(**to_system)``."""
    return grids.load(case).to_system(**to_system)
