"""The ``netcoh`` command: ``screen``, ``reduce``, ``coherence``, ``cases``.

Every sub-command lives in :mod:`netcoh.commands` and registers its own parser.
Exit status: 0 on success, 2 with a one-line reason on bad input, 1 on other failures.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import warnings
from collections.abc import Sequence

from . import __version__
from .commands import coherence as _coherence
from .exceptions import NetcohError

__all__ = ["main", "build_parser"]

_COMMANDS = [_coherence]


def _optional_commands():
    import importlib

    mods = []
    for name in ("screen", "reduce", "cases"):
        try:
            mods.append(importlib.import_module(f"netcoh.commands.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"netcoh.commands.{name}":
                raise
    return mods


def _note(message, category, filename, lineno, file=None, line=None):
    """Show netcoh warnings as one-line notes on stderr (no source location)."""
    print(f"netcoh: note ({category.__name__}): {message}", file=sys.stderr)


class _Stdout(io.TextIOBase):
    """Standard output that stops writing when its reader has gone (``netcoh screen | head``)
    instead of raising: the command goes on and writes its files."""

    def __init__(self, stream):
        self.stream, self.gone = stream, False

    def write(self, text):
        if not self.gone:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self._lose()
        return len(text)

    def flush(self):
        if not self.gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._lose()

    def _lose(self):
        self.gone = True
        with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
            # what is still buffered goes nowhere, also at exit
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self.stream.fileno())
            os.close(null)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: ``netcoh CMD: error: reason``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered.

    Returns
    -------
    argparse.ArgumentParser
        The ``netcoh`` parser; bad arguments exit with status 2 and a one-line reason.

    Examples
    --------
    >>> build_parser().parse_args(["cases"]).command
    'cases'
    """
    parser = _Parser(
        prog="netcoh",
        description="Coherence, reduction and worst-case frequency nadir of networked systems.")
    parser.add_argument("--version", action="version", version=f"netcoh {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for mod in _optional_commands() + _COMMANDS:
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 success, 2 bad input (one line on stderr, nothing written), 3 a
        screening limit broken with ``--fail-on-violation``, 1 other failures, 130 interrupted.

    Examples
    --------
    >>> main(["screen", "kundur", "--top", "-1"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:          # --help, --version, or a one-line usage error
        return int(exc.code or 0)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    out = _Stdout(sys.stdout)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(out):
            warnings.simplefilter("default")
            warnings.showwarning = _note
            code = int(args.handler(args) or 0)
            out.flush()
            return code
    except NetcohError as exc:
        print(f"netcoh {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, PermissionError, NotADirectoryError, IsADirectoryError) as exc:
        print(f"netcoh {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"netcoh {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
