"""Symmetric positive semidefinite matrices: validation and ordered eigendecomposition."""

from __future__ import annotations

import numpy as np

from netcoh._validation import as_float_array
from netcoh.exceptions import InputError

__all__ = ["check_psd", "eig_desc"]


def check_psd(Y, name: str = "Y", rtol: float = 1e-10) -> np.ndarray:
    """Validate a symmetric positive semidefinite matrix; return a float copy.

    Parameters
    ----------
    Y : array_like, shape (n, n)
        Candidate matrix (non-empty, square).
    name : str, default "Y"
        Argument name used in error messages.
    rtol : float, default 1e-10
        Tolerance, relative to ``max(1, max |Y|)``, on the asymmetry and on negative
        eigenvalues.

    Returns
    -------
    ndarray, shape (n, n)
        The symmetrised copy ``(Y + Y^T) / 2``.

    Raises
    ------
    InputError
        Not square, not symmetric, or with an eigenvalue below ``-rtol * scale``.

    Examples
    --------
    >>> check_psd([[1.0, 0.0], [0.0, -1.0]])
    Traceback (most recent call last):
    ...
    netcoh.exceptions.InputError: `Y` must be positive semidefinite, got eigenvalue -1
    """
    Y = as_float_array(Y, name, ndim=2)
    if Y.shape[0] != Y.shape[1] or Y.shape[0] == 0:
        raise InputError(f"`{name}` must be a non-empty square matrix, got shape {Y.shape}")
    scale = max(1.0, float(np.max(np.abs(Y))))
    if float(np.max(np.abs(Y - Y.T))) > rtol * scale:
        raise InputError(f"`{name}` must be symmetric, got max |Y - Y^T| = "
                         f"{float(np.max(np.abs(Y - Y.T))):.3g}")
    ev = np.linalg.eigvalsh(0.5 * (Y + Y.T))
    if ev[0] < -rtol * scale:
        raise InputError(f"`{name}` must be positive semidefinite, got eigenvalue {ev[0]:.6g}")
    return 0.5 * (Y + Y.T)


def eig_desc(Y, rtol=1e-10):
    """Eigenvalues in descending order (those below ``rtol`` relative set to 0) and vectors."""
    ev, Phi = np.linalg.eigh(Y)
    ev, Phi = ev[::-1], Phi[:, ::-1]
    ev = np.where(np.abs(ev) <= rtol * max(1.0, float(np.max(np.abs(ev)))), 0.0, ev)
    return ev, Phi
