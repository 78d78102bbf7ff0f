"""Helpers shared by the sub-commands: argument checks, output folders, case loading.

Every check runs before anything is printed or written; an output folder is created only
once all arguments are valid, and removed again if the command fails before writing into it.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .. import grids
from .._util import atomic_write_bytes, atomic_write_text
from ..exceptions import InputError

__all__ = ["atomic_write_text", "atomic_write_bytes", "load_case_system", "load_grid", "check_case",
           "check_out_dir", "output_dir", "check_positive", "check_int", "held_warnings"]


@contextmanager
def held_warnings():
    """Hold the warnings raised in the block and show them only if it succeeds (so that a
    bad argument found after loading a case gives its one line, not the case's notes first).

    Yields
    ------
    list
        The caught :class:`warnings.WarningMessage` objects.

    Examples
    --------
    >>> import warnings
    >>> with held_warnings() as caught:
    ...     pass
    >>> caught
    []
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        yield caught
    for w in caught:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def load_case_system(case: str, **to_system):
    """``netcoh.grids.load(case).to_system(**to_system)``.

    Parameters
    ----------
    case : str
        Shipped case name or case file.
    **to_system
        Passed to :meth:`netcoh.grids.Grid.to_system`.

    Returns
    -------
    NetworkSystem
        The case's network model.

    Examples
    --------
    >>> load_case_system("kundur").n
    4
    """
    check_case(case)
    return load_grid(case).to_system(**to_system)


#: prefix of a case argument read by ANDES (its xlsx/json/PSS/E files or shipped case names)
ANDES_PREFIX = "andes:"


def load_grid(case: str):
    """The grid a case argument names: a shipped case, a netcoh case file, or ``andes:CASE``.

    Parameters
    ----------
    case : str
        Shipped case name, netcoh JSON case file, or ``andes:`` followed by a case ANDES reads
        (a file, or a name under ANDES's shipped cases such as ``andes:ieee39/ieee39_full.xlsx``;
        needs the ``validate`` extra). Such a case carries its machines' own dynamic data, so
        its default model is ``"case"``.

    Returns
    -------
    netcoh.grids.Grid
        The case.

    Examples
    --------
    >>> load_grid("kundur").n_machines
    4
    """
    if case.startswith(ANDES_PREFIX):
        from ..grids.andes import from_andes

        return from_andes(case[len(ANDES_PREFIX):])
    return grids.load(case)


def check_case(case: str, option: str = "CASE") -> None:
    """A shipped case name or a readable UTF-8 file; raise :class:`InputError` otherwise.

    Parameters
    ----------
    case : str
        The argument.
    option : str
        Its name in messages.

    Returns
    -------
    None

    Examples
    --------
    >>> check_case("ieee39")
    """
    if case in grids.available():
        return
    if case.startswith(ANDES_PREFIX):
        if not case[len(ANDES_PREFIX):].strip():
            raise InputError(f"{option} must name a case after {ANDES_PREFIX!r}, got {case!r}")
        return
    path = Path(case)
    if not path.is_file():
        raise InputError(f"{option} must be a shipped case {grids.available()} or a case file, "
                         f"got {case!r}")
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{option} must be a UTF-8 JSON case file, got {case!r} (byte "
                         f"{exc.start} is not UTF-8)") from None
    except OSError as exc:
        raise InputError(f"{option} must be a readable case file, got {case!r} "
                         f"({exc.strerror})") from None


def check_positive(value, option: str, *, allow_none: bool = False) -> None:
    """A finite positive number (the option's own spelling in the message).

    Parameters
    ----------
    value : float or None
        The parsed value.
    option : str
        The option, e.g. ``"--rho"``.
    allow_none : bool
        Accept None (an option left out).

    Returns
    -------
    None

    Examples
    --------
    >>> check_positive(0.5, "--rho")
    """
    if value is None and allow_none:
        return
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise InputError(f"{option} must be positive, got {value}")


def check_int(value, option: str, minimum: int) -> None:
    """An integer at least ``minimum`` (None accepted: the option was left out).

    Parameters
    ----------
    value : int or None
        The parsed value.
    option : str
        The option, e.g. ``"--top"``.
    minimum : int
        Smallest allowed value.

    Returns
    -------
    None

    Examples
    --------
    >>> check_int(3, "--top", 0)
    """
    if value is not None and value < minimum:
        raise InputError(f"{option} must be >= {minimum}, got {value}")


def check_out_dir(path, option: str = "--out") -> None:
    """An output folder that exists or can be created; nothing is created here.

    Parameters
    ----------
    path : str or os.PathLike
        The folder.
    option : str
        Its option name in messages.

    Returns
    -------
    None

    Examples
    --------
    >>> import tempfile
    >>> check_out_dir(tempfile.mkdtemp() + "/new/run")
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"{option} must be a folder, got {str(path)!r} (an existing file)")
    probe = p
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise InputError(f"{option} must be a folder, got {str(path)!r} (under the file "
                         f"{str(probe)!r})")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{option} must be a writable folder, got {str(path)!r} (no write "
                         f"permission on {str(probe)!r})")
    try:                      # permissions may not tell (read-only mounts, root): try it
        os.rmdir(tempfile.mkdtemp(prefix=".netcoh-probe-", dir=probe))
    except OSError as exc:
        raise InputError(f"{option} must be a writable folder, got {str(path)!r} (cannot "
                         f"write in {str(probe)!r}: {exc.strerror or type(exc).__name__})") from None


@contextmanager
def output_dir(path, option: str = "--out", keep=None):
    """Create the folder on entry; if the block fails, remove what was created, unless
    ``keep(folder)`` says that something worth keeping (a partial result) is in it.

    Parameters
    ----------
    path : str or os.PathLike
        The folder (checked with :func:`check_out_dir` first).
    option : str
        Its option name in messages.
    keep : callable, optional
        ``keep(folder) -> bool``; True keeps a created folder after a failure.

    Yields
    ------
    pathlib.Path
        The folder.

    Examples
    --------
    >>> import tempfile
    >>> with output_dir(tempfile.mkdtemp() + "/a/b") as d:
    ...     d.is_dir()
    True
    """
    p = Path(path)
    top = p
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    created = None if p.exists() else top
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if created is not None and created.exists():
            shutil.rmtree(created, ignore_errors=True)
        raise InputError(f"{option} must be a writable folder, got {str(path)!r} "
                         f"({exc.strerror or type(exc).__name__})") from None
    try:
        yield p
    except BaseException as exc:
        worth = keep is not None and keep(p)
        if created is not None and not worth and not isinstance(exc, KeyboardInterrupt):
            shutil.rmtree(created, ignore_errors=True)
        raise
