"""Exceptions and warnings raised by netcoh.

Every error netcoh raises derives from :class:`NetcohError`; each subclass also
inherits the matching builtin, so ``except ValueError`` keeps working for users
who do not know netcoh's hierarchy.

Examples
--------
>>> import netcoh as nc
>>> issubclass(nc.InputError, ValueError) and issubclass(nc.InputError, nc.NetcohError)
True
"""

from __future__ import annotations

__all__ = [
    "NetcohError",
    "InputError",
    "NetcohTypeError",
    "DisconnectedError",
    "CaseFileError",
    "SolverError",
    "UnstableError",
    "NetcohWarning",
    "SynthesizedDataWarning",
    "AccuracyWarning",
]


class NetcohError(Exception):
    """Root of every error raised by netcoh."""


class InputError(NetcohError, ValueError):
    """An argument has the right type but an invalid value (shape, sign, range...)."""


class NetcohTypeError(NetcohError, TypeError):
    """An argument has a type netcoh cannot use."""


class DisconnectedError(InputError):
    """The network graph is not connected.

    Attributes
    ----------
    components : list of list
        The connected components, each a sorted list of node labels.
    """

    def __init__(self, message: str, components: list | None = None):
        super().__init__(message)
        self.components = components or []


class CaseFileError(InputError):
    """A grid case file is malformed; the message names the file, the record and the field."""


class SolverError(NetcohError, RuntimeError):
    """A numerical routine failed (singular system, no convergence)."""


class UnstableError(SolverError):
    """The network is not asymptotically stable: its frequency response to a step is unbounded."""


class NetcohWarning(UserWarning):
    """Root of the warnings netcoh emits."""


class SynthesizedDataWarning(NetcohWarning):
    """Some data were not in the source and were synthesised by a stated rule."""


class AccuracyWarning(NetcohWarning):
    """A result may be less accurate than requested (e.g. a horizon too short for the nadir)."""
