"""Reference decompositions for :mod:`netcoh.analysis.modal_update`.

A reference is the dense modal decomposition of a network's grounded realisation
(:func:`decompose`), kept in the process (:func:`pin` on purpose, :func:`remember` for
the last ones) so that networks a few branch outages away are updated from it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from ..exceptions import SolverError
from ..network.system import check_stable

__all__ = ["ModalBasis", "decompose", "dense_basis", "pin", "pinned", "remember", "clear",
           "lookup"]


@dataclass(frozen=True, eq=False)
class ModalBasis:
    """Dense modal decomposition of a network's grounded realisation (a reference for updates).

    Attributes
    ----------
    A, B, C, D : scipy.sparse.csr_matrix
        The realisation ``(A, B, C, D)``.
    mu : ndarray (N,)
        Eigenvalues of ``A``.
    W : ndarray (N - row0, N)
        Rows ``row0:`` of the right eigenvectors (the coupling states, where a change of
        the Laplacian enters).
    row0 : int
        First state row kept in ``W``.
    P : ndarray (n, N)
        ``C W``.
    Q : ndarray (N, n)
        ``W^{-1} B``.
    cond : float
        Condition number estimate of ``W`` (inf if unknown).
    half : int
        Number of conjugate pairs when the modes are ordered ``[upper, conjugates, real]``
        (else -1).
    PrT : ndarray (N, n) or None
        ``[Re P_upper, Im P_upper, P_real]^T`` for real products over the pairs.
    system : NetworkSystem or None
        The network decomposed (needed to update a unit trip from it).
    """

    A: sp.csr_matrix
    B: sp.csr_matrix
    C: sp.csr_matrix
    D: sp.csr_matrix
    mu: np.ndarray
    W: np.ndarray
    row0: int
    P: np.ndarray
    Q: np.ndarray
    cond: float = np.inf
    half: int = -1
    PrT: np.ndarray | None = None
    system: object = None

    @property
    def n_states(self) -> int:
        """Number of states ``N``."""
        return self.mu.size


def dense_basis(realization, mu, W, lu, cond: float = np.inf, row0: int = 0,
                system=None) -> ModalBasis:
    """Bundle a dense decomposition ``A = W diag(mu) W^{-1}`` as a reference for updates.

    Parameters
    ----------
    realization : Realization
        ``(A, B, C, D)`` of the network (sparse).
    mu : ndarray (N,)
        Eigenvalues of ``A``.
    W : ndarray (N, N)
        Right eigenvectors of ``A``.
    lu : tuple
        ``scipy.linalg.lu_factor(W)``.
    cond : float, default inf
        Condition number estimate of ``W``, kept with the reference.
    row0 : int, default 0
        Keep only the rows ``row0:`` of ``W`` (the states a change of ``A`` reaches
        through its columns; the nodal states come first, the coupling states after).
    system : NetworkSystem, optional
        The network decomposed, kept with the reference for :func:`update_trip`.

    Returns
    -------
    ModalBasis
        The reference, with ``C W`` and ``W^{-1} B`` precomputed.

    Examples
    --------
    >>> import numpy as np, scipy.linalg as la, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing([1.0, 2.0, 3.0], 1.0))
    >>> real = sys.realization()
    >>> mu, W = la.eig(real.A.toarray())
    >>> basis = dense_basis(real, mu, W, la.lu_factor(W))
    >>> basis.n_states, basis.P.shape
    (5, (3, 5))
    """
    A, B, C, D = (sp.csr_matrix(x) for x in realization)
    P = np.asarray(C @ W)
    Q = la.lu_solve(lu, B.toarray(), check_finite=False)
    # order the modes as [upper half-plane, their conjugates in the same order, real
    # ascending] so that products over conjugate pairs run in real arithmetic on
    # contiguous blocks
    up = np.flatnonzero(mu.imag > 0)
    lo = np.flatnonzero(mu.imag < 0)
    re = np.flatnonzero(mu.imag == 0)
    re = re[np.argsort(mu[re].real, kind="stable")]     # sorted: clusters are runs
    up = up[np.lexsort((mu[up].imag, mu[up].real))]
    lo = lo[np.lexsort((-mu[lo].imag, mu[lo].real))]
    half, PrT = -1, None
    if up.size == lo.size and (up.size == 0 or np.abs(mu[up] - np.conj(mu[lo])).max()
                               <= 1e-12 * np.abs(mu).max()):
        order = np.concatenate([up, lo, re])
        mu, W, P, Q = mu[order], W[:, order], P[:, order], Q[order]
        half = up.size
        PrT = np.ascontiguousarray(np.vstack([P[:, :half].real.T, P[:, :half].imag.T,
                                              P[:, 2 * half:].real.T]))
    return ModalBasis(A, B, C, D, mu, np.array(W[row0:]), int(row0), P, Q, float(cond),
                      half, PrT, system)


def conditioned_lu(W: np.ndarray, cond_max: float, hint: str = ""):
    """LU factors of the eigenvector matrix ``W`` and its 1-norm condition estimate.

    One LU gives both ``W^{-1} B`` and the estimate (LAPACK ``gecon``), instead of an SVD
    for the 2-norm condition number (0.9 s of 2 s on a GB swing-turbine network).
    Raises :class:`~netcoh.exceptions.SolverError` (with ``hint`` appended) above ``cond_max``.
    """
    lu, piv = la.lu_factor(W, check_finite=False)
    gecon = la.get_lapack_funcs("gecon", (lu,))
    rcond, _ = gecon(lu, np.abs(W).sum(axis=0).max(), norm="1")
    cond = 1.0 / rcond if rcond > 0 else np.inf
    if not np.isfinite(cond) or cond > cond_max:
        raise SolverError(f"the state matrix is (nearly) defective (eigenvector condition "
                          f"{cond:.3g}), so its modal form is inaccurate{hint}")
    return lu, piv, cond


def decompose(system, cond_max: float = 1e10) -> ModalBasis:
    """The dense eigendecomposition of a network's grounded realisation, checked.

    Parameters
    ----------
    system : NetworkSystem
        The network.
    cond_max : float, default 1e10
        Largest eigenvector condition number accepted.

    Returns
    -------
    ModalBasis
        The decomposition, usable as a reference (:func:`pin`).

    Raises
    ------
    UnstableError
        The network is not asymptotically stable.
    SolverError
        The eigenvectors are too ill-conditioned (a nearly defective state matrix).

    Examples
    --------
    >>> import netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing([1.0, 2.0, 3.0], 1.0))
    >>> decompose(sys).n_states
    5
    """
    real = system.realization()
    mu, W = la.eig(real.A.toarray(), overwrite_a=True, check_finite=False)
    check_stable(system, eigenvalues=mu)
    if np.any(mu.real >= 0):      # certified stable, but the computed modes are not
        raise SolverError("the modal form of the state matrix is inaccurate: an eigenvalue has "
                          f"real part {mu.real.max():.3g} >= 0 in a network that is stable")
    if system.nodal.kind == "rational":
        # high-order nodes in polynomial (companion) form, such as a reduced network's exact
        # area aggregates of many turbines
        hint = ("; nodes of high order in polynomial form (such as a reduced network's exact "
                "area aggregates) can cause this: for a ReducedNetwork pass "
                "red.to_statespace(), a well-conditioned realisation, or use "
                "method='timedomain' with a horizon")
    else:
        hint = ("; machines with identical parameters can cause this: perturb them slightly "
                "(e.g. by 1e-6 relative)")
    lu, piv, cond = conditioned_lu(W, cond_max, hint=hint)
    return dense_basis(real, mu, W, (lu, piv), cond,
                       row0=int(np.sum(system.nodal.orders)), system=system)



# -- the references kept per process -----------------------------------------------------------

_LOCK = threading.Lock()
_PINNED: list = []              # [(key, ModalBasis)] set on purpose (e.g. the intact network)
_RECENT: list = []              # [(key, ModalBasis)] the last dense decompositions (opt-in)
_KEEP = 2


def _key(realization) -> tuple:
    A, B, C, D = realization
    return (A.shape, B.shape, C.shape, D.shape)


def _same_io(basis: ModalBasis, realization) -> bool:
    _, B, C, D = realization
    for x, y in ((basis.B, B), (basis.C, C), (basis.D, D)):
        if x.shape != y.shape or (sp.csr_matrix(x) != sp.csr_matrix(y)).nnz:
            return False
    return True


def _store(store: list, basis: ModalBasis) -> None:
    key = _key((basis.A, basis.B, basis.C, basis.D))
    with _LOCK:
        store[:] = [(k, b) for k, b in store if k != key][: _KEEP - 1]
        store.insert(0, (key, basis))


def per_reference(store: list, basis, make):
    """``make(basis)``, computed once per reference.

    Parameters
    ----------
    store : list
        A module's list of ``(basis, value)``; it keeps the last two references, as the
        references themselves are kept.
    basis : ModalBasis
        The reference (compared by identity).
    make : callable
        ``make(basis)`` gives the value.

    Returns
    -------
    object
        The value kept for ``basis``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> store, calls = [], []
    >>> b = SimpleNamespace()
    >>> make = lambda basis: calls.append(basis) or len(calls)
    >>> per_reference(store, b, make), per_reference(store, b, make), len(calls)
    (1, 1, 1)
    """
    for b, value in store:
        if b is basis:
            return value
    value = make(basis)
    store[:] = store[-(_KEEP - 1):] + [(basis, value)]
    return value


def pin(basis: ModalBasis) -> None:
    """Keep ``basis`` as a reference for later updates (one per state dimension, at most two).

    Updates from a pinned reference depend only on it and on the network updated, so they
    are the same in every process that pins the same network.

    Parameters
    ----------
    basis : ModalBasis
        A dense decomposition.

    Returns
    -------
    None
        The reference is stored for :func:`lookup`.

    Examples
    --------
    >>> import numpy as np, scipy.linalg as la, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing([1.0, 2.0, 3.0], 1.0))
    >>> real = sys.realization()
    >>> mu, W = la.eig(real.A.toarray())
    >>> pin(dense_basis(real, mu, W, la.lu_factor(W)))
    >>> lookup(real) is not None
    True
    >>> clear()
    """
    _store(_PINNED, basis)


def remember(basis: ModalBasis) -> None:
    """Keep ``basis`` among the recent decompositions (used by ``lookup(..., recent=True)``).

    Parameters
    ----------
    basis : ModalBasis
        A dense decomposition.

    Returns
    -------
    None
        The decomposition is stored, replacing an older one of the same state dimension.

    Examples
    --------
    >>> import numpy as np, scipy.linalg as la, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing([1.0, 2.0, 3.0], 1.0))
    >>> real = sys.realization()
    >>> mu, W = la.eig(real.A.toarray())
    >>> remember(dense_basis(real, mu, W, la.lu_factor(W)))
    >>> lookup(real) is None, lookup(real, recent=True) is not None
    (True, True)
    >>> clear()
    """
    _store(_RECENT, basis)


def clear() -> None:
    """Forget every reference (pinned and recent).

    Returns
    -------
    None
        Later networks are decomposed densely until a reference is kept again.

    Examples
    --------
    >>> clear()
    """
    with _LOCK:
        _PINNED.clear()
        _RECENT.clear()


def pinned() -> list:
    """The pinned references, most recent first.

    Returns
    -------
    list of ModalBasis
        The references kept by :func:`pin`.

    Examples
    --------
    >>> clear(); pinned()
    []
    """
    with _LOCK:
        return [b for _, b in _PINNED]


def lookup(realization, recent: bool = False):
    """The reference with the same inputs and outputs as ``realization``, or None.

    Parameters
    ----------
    realization : Realization
        ``(A, B, C, D)`` of the network to decompose.
    recent : bool, default False
        Also consider the recent decompositions (:func:`remember`), after the pinned ones.

    Returns
    -------
    ModalBasis or None
        A reference with equal ``B, C, D`` (only ``A`` may differ), else None.

    Examples
    --------
    >>> import numpy as np, scipy.linalg as la, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(4),
    ...                                       nodal=nc.nodal.swing([1.0, 2.0, 3.0, 4.0], 1.0))
    >>> real = sys.realization()
    >>> mu, W = la.eig(real.A.toarray())
    >>> basis = dense_basis(real, mu, W, la.lu_factor(W))
    >>> pin(basis)
    >>> lookup(real) is basis
    True
    >>> clear()
    """
    key = _key(realization)
    with _LOCK:
        found = [b for k, b in _PINNED if k == key]
        if recent:
            found += [b for k, b in _RECENT if k == key]
    for b in found:
        if _same_io(b, realization):
            return b
    return None
