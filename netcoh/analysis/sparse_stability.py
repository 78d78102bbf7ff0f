"""Stability of a large network without a dense eigenproblem.

:func:`~netcoh.network.system.check_stable` decides by the passivity certificate (no
eigenvalues) or by the dense eigenvalues of the grounded realisation; above a few
thousand states the dense eigenproblem costs minutes and gigabytes. Here the rightmost
eigenvalues then come from ARPACK on the Cayley transform of the sparse state matrix.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..exceptions import AccuracyWarning, InputError
from ..network.system import check_stable, sparse_lu
from .time import _balance

__all__ = ["check_stable_sparse", "DENSE_STABILITY_STATES"]

#: largest realisation whose stability :func:`check_stable_sparse` tests by dense
#: eigenvalues when the passivity certificate does not apply (sparse ones above it)
DENSE_STABILITY_STATES = 4000


def _rightmost_eigenvalues(A, k: int = 12):
    """The eigenvalues of sparse ``A`` with the largest Cayley modulus (the rightmost ones).

    The Cayley transform ``C = (A - sigma I)^{-1} (A + sigma I)``, ``sigma > 0``, maps the
    open right half-plane outside the unit circle and the left one inside, and its
    eigenvalues of largest modulus are those of ``A`` that lie furthest right relative
    to their distance from ``sigma``: ARPACK finds them from one sparse LU of
    ``A - sigma I``. Returns the eigenvalues of ``A`` (``lambda = sigma (c + 1) / (c - 1)``)
    and whether ARPACK converged.
    """
    N = A.shape[0]
    A = sp.csc_matrix(A, dtype=float)
    # sigma a fraction of the spectral radius (||A^4||^(1/4) of the balanced matrix): the
    # ordering by Cayley modulus then follows the real parts of the oscillatory modes
    sc = _balance(A)
    Ab = (sp.diags(1.0 / sc) @ A @ sp.diags(sc)).tocsr()
    P = Ab @ Ab
    sigma = 0.4 * float(spla.norm(P @ P, 1)) ** 0.25
    if not sigma > 0:
        sigma = 1.0
    solve = sparse_lu((A - sigma * sp.identity(N, format="csc")).tocsc()).solve

    def cayley(x):
        return x + 2.0 * sigma * solve(x)

    op = spla.LinearOperator((N, N), matvec=cayley, dtype=float)
    k = int(min(k, N - 2))
    try:
        c = spla.eigs(op, k=k, which="LM", tol=1e-10, maxiter=max(20 * N, 1000),
                      return_eigenvectors=False)
        ok = True
    except spla.ArpackNoConvergence as exc:
        c, ok = exc.eigenvalues, False
    c = np.asarray(c, dtype=complex)
    c = c[np.abs(c - 1.0) > 1e-14]            # lambda = infinity cannot be a growing mode
    return sigma * (c + 1.0) / (c - 1.0), ok


def check_stable_sparse(system) -> None:
    """Raise :class:`~netcoh.exceptions.UnstableError` unless the network is asymptotically stable.

    As :func:`~netcoh.network.system.check_stable` (the passivity certificate for
    passive nodes on a positive semidefinite Laplacian, else the eigenvalues of the
    grounded realisation), but without a dense eigenproblem above
    :data:`DENSE_STABILITY_STATES` states: the rightmost eigenvalues then come from
    ARPACK on the Cayley transform of the sparse state matrix (one sparse LU). If ARPACK
    does not converge an :class:`~netcoh.exceptions.AccuracyWarning` says that the
    stability could not be verified.

    Parameters
    ----------
    system : NetworkSystem
        The network.

    Examples
    --------
    >>> import netcoh as nc
    >>> L = 10 * nc.laplacian.complete(3)
    >>> check_stable_sparse(nc.NetworkSystem.from_laplacian(
    ...     L, nodal=nc.nodal.swing_turbine([1.0, 2.0, 3.0], 1.0, 2.0, 5.0)))
    >>> bad = nc.nodal.from_tf(num=[[5.0, 1.0]] * 3, den=[[10.0, -3.0, 1.0]] * 3)  # d < 0
    >>> try:
    ...     check_stable_sparse(nc.NetworkSystem.from_laplacian(L, nodal=bad))
    ... except nc.UnstableError:
    ...     print("unstable")
    unstable
    """
    try:
        check_stable(system, dense_limit=DENSE_STABILITY_STATES)
        return
    except InputError:                  # not certified and too large for dense eigenvalues
        pass
    mu, ok = _rightmost_eigenvalues(system.realization().A)
    check_stable(system, eigenvalues=mu)
    if not ok:
        warnings.warn("the stability of the network could not be verified (the sparse "
                      "eigenvalue iteration did not converge): the finite-window nadir is "
                      "returned as computed", AccuracyWarning, stacklevel=3)
