"""Low-rank updates of a network's state-space modal decomposition.

A branch outage changes the Laplacian by ``-w c c^T`` (rank one, also after Kron
reduction), so the grounded state matrix of the outaged network is ``A' = A + X Y^T``
with ``X, Y`` of a few columns. With the intact (reference) network decomposed once,
``A = W diag(mu) W^{-1}``, the outaged network is ``diag(mu) + a b^T`` in modal
coordinates (``a = W^{-1} X``, ``b = W^T Y``; the change enters through the nodal inputs,
``X = B Z``, so ``a = (W^{-1} B) Z`` needs no factorisation of ``W``). Its eigenvalues are the roots of the
secular equation ``det(I - sum_i b_i a_i^T / (s - mu_i)) = 0`` and its eigenvectors are
Cauchy-like: ``x_j = (s_j - mu)^{-1} o (a z_j)``, ``y_j = (s_j - mu)^{-1} o (b w_j)``.
This costs ``O(N^2 r)`` for the eigenvalues and one product with the reference's output
matrix ``C W`` for the mode shapes, instead of the ``O(N^3)`` dense eigenproblem.

Every update is checked; any failed check returns ``None`` and the caller computes the
dense decomposition instead:

* the rank of ``A' - A`` (at most ``max_rank``, to rounding);
* every root converged (Newton's method on the secular function with the nearest pole
  divided out, started at each reference eigenvalue, in the offset ``s - mu_k`` so that
  small shifts keep their relative accuracy), the roots are distinct, conjugate pairs
  stay in the upper half-plane and real roots stay real;
* the first two power sums of the eigenvalues equal ``trace(A')`` and ``trace(A'^2)``;
* the backward error of every mode on the network equation
  ``(diag(1/g_i(s_j)) + f(s_j) L') p_j = 0`` (``p_j`` the mode's output shape);
* the eigenvalue condition numbers.

The transfer matrix of a network is symmetric, so each residue is ``alpha_j p_j p_j^T``:
only the output shapes ``p_j`` are formed by a matrix product, and the scalars
``alpha_j`` come from the left eigenvectors through a few random probes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from scipy.spatial import cKDTree

from ..exceptions import NetcohError
from ..network.system import NetworkSystem

__all__ = ["ModalBasis", "dense_basis", "update_basis", "update_trip", "pin", "pinned", "remember",
           "clear", "lookup", "low_rank"]

#: relative size of ``A' - A`` beyond its low-rank part that is still taken as rounding
_LOWRANK_RTOL = 1e-11
#: backward error accepted for a mode of the updated network
_RESIDUAL_RTOL = 1e-10
#: relative mismatch accepted in the power sums of the eigenvalues
_TRACE_RTOL = 1e-9
#: largest eigenvalue condition number (``||x|| ||y|| / |y^T x|``) accepted
_COND_MAX = 1e8
_MAX_NEWTON = 40
#: why the last update returned None (for diagnostics)
last_failure = [""]


def _fail(why):
    last_failure[0] = why
    return None


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
    # order the modes as [upper half-plane, their conjugates in the same order, real] so
    # that products over conjugate pairs run in real arithmetic on contiguous blocks
    up = np.flatnonzero(mu.imag > 0)
    lo = np.flatnonzero(mu.imag < 0)
    re = np.flatnonzero(mu.imag == 0)
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


# -- the update --------------------------------------------------------------------------------

def low_rank(delta: sp.spmatrix, max_rank: int, scale: float):
    """``delta = X Y^T`` with at most ``max_rank`` columns, or None (cross approximation).

    Parameters
    ----------
    delta : scipy.sparse matrix (N, N)
        The change of the state matrix.
    max_rank : int
        Largest rank accepted.
    scale : float
        Size of the state matrix: entries below ``1e-11 * scale`` left over are rounding.

    Returns
    -------
    (ndarray (N, r), ndarray (N, r)) or None
        The factors, or None when ``delta`` is not of rank ``max_rank`` or less.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> d = sp.csr_matrix(np.outer([1.0, 0.0, -1.0], [0.0, 2.0, 2.0]))
    >>> X, Y = low_rank(d, 2, 1.0)
    >>> X.shape, bool(np.allclose(X @ Y.T, d.toarray()))
    ((3, 1), True)
    """
    delta = sp.csr_matrix(delta)
    delta.eliminate_zeros()
    N = delta.shape[0]
    rows = np.unique(delta.nonzero()[0])
    cols = np.unique(delta.nonzero()[1])
    if rows.size == 0:
        return np.zeros((N, 0)), np.zeros((N, 0))
    E = delta[rows][:, cols].toarray()
    tol = _LOWRANK_RTOL * scale
    xs, ys = [], []
    for _ in range(max_rank + 1):
        flat = int(np.argmax(np.abs(E)))
        i, j = divmod(flat, E.shape[1])
        piv = E[i, j]
        if abs(piv) <= tol:
            break
        if len(xs) == max_rank:
            return None
        u = E[:, j].copy()
        v = E[i, :] / piv
        E -= np.outer(u, v)
        xs.append(u)
        ys.append(v)
    X = np.zeros((N, len(xs)))
    Y = np.zeros((N, len(ys)))
    if xs:
        X[rows] = np.array(xs).T
        Y[cols] = np.array(ys).T
    return X, Y


def _null_solves(G, rhs):
    """``G^{-1} rhs`` for batches: G (J, r, r), rhs (J, r)."""
    if G.shape[1] == 1:
        return rhs / G[:, :, 0]
    try:
        return np.linalg.solve(G, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:          # an exactly singular G: not a usable point
        return np.full(rhs.shape, np.nan, dtype=complex)


def update_basis(basis: ModalBasis, system, realization, max_rank: int = 2):
    """Eigenvalues and residues of ``system`` from a reference decomposition, or None.

    Parameters
    ----------
    basis : ModalBasis
        Decomposition of a network with the same inputs and outputs (``B, C, D``).
    system : NetworkSystem
        The network to decompose (its Laplacian enters the final check).
    realization : Realization
        ``system.realization()``.
    max_rank : int, default 2
        Largest rank of ``A' - A`` handled.

    Returns
    -------
    (ndarray (K,), ndarray (n, K), ndarray (K, n)) or None
        The eigenvalues ``s_j`` with non-negative imaginary part and the factors ``P, Q`` of
        the residues (``Q`` doubled for complex pairs, so that ``H(s) = Re sum_j P_j Q_j /
        (s - s_j)`` summed over the pairs), or None when a check fails.

    Examples
    --------
    >>> import numpy as np, scipy.linalg as la, netcoh as nc
    >>> L = nc.laplacian.complete(4)
    >>> nodal = nc.nodal.swing_turbine([1.0, 2.0, 3.0, 4.0], 1.0, 2.0, 5.0)
    >>> ref = nc.NetworkSystem.from_laplacian(L, nodal=nodal)
    >>> mu, W = la.eig(ref.realization().A.toarray())
    >>> basis = dense_basis(ref.realization(), mu, W, la.lu_factor(W))
    >>> L2 = L.copy(); L2[0, 1] = L2[1, 0] = 0.0; L2[0, 0] = L2[1, 1] = 2.0   # one line out
    >>> out = nc.NetworkSystem.from_laplacian(L2, nodal=nodal)
    >>> s, P, Q = update_basis(basis, out, out.realization())
    >>> exact = la.eigvals(out.realization().A.toarray())
    >>> bool(np.allclose(np.sort_complex(s), np.sort_complex(exact[exact.imag >= 0])))
    True
    """
    last_failure[0] = ""
    A2 = sp.csr_matrix(realization.A)
    if A2.shape != basis.A.shape:
        return _fail("shape")
    core = _core(basis, A2, max_rank)
    if core is None:
        return None
    if isinstance(core, str):                     # the reference itself
        mu = basis.mu
        keep = mu.imag >= 0
        factor = np.where(mu.imag > 0, 2.0, 1.0)
        return mu[keep], basis.P[:, keep], basis.Q[keep] * factor[keep, None]
    s, P, alpha, real = core
    weight = np.abs(alpha) * np.linalg.norm(P, axis=0) ** 2         # size of each residue
    if not _residual_ok(system, s, P, weight):
        return _fail("residual")
    factor = np.where(real, 1.0, 2.0)
    Q = (alpha * factor)[:, None] * P.T
    return s, P, Q


def update_trip(basis: ModalBasis, system, realization):
    """Modes of the reference network with one machine tripped (its link opened), or None.

    A machine joined to the grid by its own branch leaves, when tripped, the reference
    network with that branch out (a rank-one change: the machine's node is then isolated)
    minus the isolated node. So the rank-one update of the reference gives every mode;
    the isolated node's own modes and the zero mode of its angle have no residue on the
    other nodes and are dropped. Checked against ``system`` (the number of modes, the
    traces of its state matrix, the residual of every mode).

    Parameters
    ----------
    basis : ModalBasis
        Decomposition of the network before the trip (with its ``system``).
    system : NetworkSystem
        The network after the trip: the reference's nodes but one, same nodal dynamics and
        coupling, its Laplacian the reference's with the machine's link removed.
    realization : Realization
        ``system.realization()``.

    Returns
    -------
    (ndarray (K,), ndarray (n, K), ndarray (K, n)) or None
        As :func:`update_basis`, for ``system``.

    Examples
    --------
    >>> import numpy as np, scipy.linalg as la, netcoh as nc
    >>> L = 4.0 * nc.laplacian.ring_lattice(5, 1)
    >>> L = np.pad(L, (0, 1)); L[0, 5] = L[5, 0] = -3.0; L[0, 0] += 3.0; L[5, 5] = 3.0
    >>> nodal = nc.nodal.swing_turbine(np.arange(1.0, 7.0), 1.0, 2.0, 5.0)
    >>> ref = nc.NetworkSystem.from_laplacian(L, nodal=nodal)
    >>> mu, W = la.eig(ref.realization().A.toarray())
    >>> basis = dense_basis(ref.realization(), mu, W, la.lu_factor(W), system=ref,
    ...                     row0=int(ref.nodal.orders.sum()))
    >>> keep = np.arange(5)                                   # machine 5 trips
    >>> Lt = L[:5, :5].copy(); Lt[0, 0] -= 3.0
    >>> trip = nc.NetworkSystem.from_laplacian(Lt, nodal=nodal.subset(keep),
    ...                                        labels=ref.labels[:5])
    >>> s, P, Q = update_trip(basis, trip, trip.realization())
    >>> exact = la.eigvals(trip.realization().A.toarray())
    >>> bool(np.allclose(np.sort_complex(s), np.sort_complex(exact[exact.imag >= 0])))
    True
    """
    last_failure[0] = ""
    ref = basis.system
    if ref is None or ref.n != system.n + 1 or ref.coupling.kind != system.coupling.kind:
        return _fail("trip")
    labels = set(system.labels)
    gone = [i for i, lab in enumerate(ref.labels) if lab not in labels]
    if len(gone) != 1:
        return _fail("trip")
    k = gone[0]
    keep = np.delete(np.arange(ref.n), k)
    if tuple(ref.labels[i] for i in keep) != tuple(system.labels):
        return _fail("trip")
    for x, y in ((ref.nodal.num, system.nodal.num), (ref.nodal.den, system.nodal.den)):
        x, y = np.asarray(x)[keep], np.asarray(y)
        if x.shape != y.shape or not np.array_equal(x, y):
            return _fail("trip")
    for key, val in ref.coupling.params.items():
        if not np.array_equal(np.asarray(val), np.asarray(system.coupling.params.get(key))):
            return _fail("trip")
    Lref = _dense(ref.laplacian)
    Lv = np.zeros_like(Lref)
    Lv[np.ix_(keep, keep)] = _dense(system.laplacian)
    # A is affine in L: A(Lv) = A(Lref) + 2 (A(Lref + (Lv - Lref)/2) - A(Lref)); the
    # half-way network is still connected (the link keeps half its weight)
    try:
        half = NetworkSystem.from_laplacian(0.5 * (Lref + Lv), nodal=ref.nodal,
                                            coupling=ref.coupling, labels=ref.labels)
    except NetcohError:
        return _fail("trip")
    A2 = sp.csr_matrix(basis.A + 2.0 * (sp.csr_matrix(half.realization().A) - basis.A))
    core = _core(basis, A2, 1)
    if core is None or isinstance(core, str):
        return None if core is None else _fail("trip")
    s, P, alpha, real = core
    P = P[keep]
    weight = np.abs(alpha) * np.linalg.norm(P, axis=0) ** 2
    live = weight > 1e-13 * float(weight.max())
    s, P, alpha, real, weight = s[live], P[:, live], alpha[live], real[live], weight[live]
    At = sp.csr_matrix(realization.A)
    if 2 * int((~real).sum()) + int(real.sum()) != At.shape[0]:
        return _fail("count")
    if not _traces_ok(s, real, At):
        return _fail("trace")
    if not _residual_ok(system, s, P, weight):
        return _fail("residual")
    factor = np.where(real, 1.0, 2.0)
    return s, P, (alpha * factor)[:, None] * P.T


def _dense(L):
    return L.toarray() if sp.issparse(L) else np.asarray(L, dtype=float)


def _traces_ok(s, real, A2) -> bool:
    """The first two power sums of the eigenvalues against ``trace(A2)``, ``trace(A2^2)``."""
    tot1 = 2.0 * s[~real].real.sum() + s[real].real.sum()
    tot2 = 2.0 * (s[~real] ** 2).real.sum() + (s[real].real ** 2).sum()
    tr1 = float(A2.diagonal().sum())
    tr2 = float(A2.multiply(A2.T).sum())
    mag = 2.0 * np.abs(s).sum()
    smax = float(np.abs(s).max()) if s.size else 0.0
    return abs(tot1 - tr1) <= _TRACE_RTOL * mag and abs(tot2 - tr2) <= _TRACE_RTOL * mag * smax


def _core(basis: ModalBasis, A2, max_rank: int):
    """``(s, P, alpha, real)`` of the state matrix ``A2`` from ``basis`` (residues
    ``alpha_j P_j P_j^T``), ``"same"`` when ``A2`` is the reference's, or None."""
    scale = float(np.abs(A2.data).max()) if A2.nnz else 1.0
    fac = low_rank(A2 - basis.A, max_rank, scale)
    if fac is None:
        return _fail("rank")
    X, Y = fac
    mu = basis.mu
    N, r = mu.size, X.shape[1]
    if r == 0:
        return "same"
    if np.any(Y[: basis.row0]):
        return _fail("support")
    Z = _input_part(basis.B, X)
    if Z is None:
        return _fail("support")
    a = basis.Q @ Z                                                         # W^{-1} X, (N, r)
    b = basis.W.T @ Y[basis.row0:]                                          # W^T Y, (N, r)
    BA = (b[:, :, None] * a[:, None, :]).reshape(N, r * r)                 # b_i a_i^T

    start = np.flatnonzero(mu.imag >= 0)
    real = mu[start].imag == 0
    tau, conv = _newton(mu, start, np.zeros(start.size, complex), real, a, b, BA)
    s = mu[start] + tau
    # a complex start that ended on (or below) the real axis, or on a root that another
    # start found, is searched for again
    bad = ~conv | (~real & (s.imag <= 1e-9 * np.abs(s)))
    bad |= _duplicates(s, bad, rtol=1e-9)
    if bad.any():
        # Newton from some poles went to a root that another start found (clusters of
        # close poles): find the missing roots with the known ones deflated (Aberth)
        fixed = s[~bad]
        known = np.concatenate([fixed, np.conj(fixed[fixed.imag > 0])])
        found = _aberth(mu, start[bad], real[bad], known, a, b, BA)
        if found is None:
            return _fail("deflation")
        near = np.argmin(np.abs(found[:, None] - mu[None, :]), axis=1)
        freal = found.imag == 0
        t2, c2 = _newton(mu, near, found - mu[near], freal, a, b, BA)
        if not c2.all():
            return _fail("polish")
        start = np.concatenate([start[~bad], near])
        tau = np.concatenate([tau[~bad], t2])
        real = np.concatenate([real[~bad], freal])
        s = mu[start] + tau
        if np.any(_duplicates(s, np.zeros(s.size, bool))) or \
                np.any(s[~real].imag <= 1e-9 * np.abs(s[~real])):
            return _fail("duplicate")
    if 2 * int((~real).sum()) + int(real.sum()) != N:
        return _fail("count")
    J = start.size
    dmu = mu[start][:, None] - mu[None, :]                                   # (J, N)
    dmu[np.arange(J), start] = np.inf                                       # own pole: out
    ak, bk = a[start], b[start]
    eye = np.eye(r)
    # power sums against the traces of A' and A'^2
    if not _traces_ok(s, real, A2):
        return _fail("trace")

    # eigenvectors in modal coordinates (Cauchy-like), with the own pole back in:
    # x_j = Cm_j o (a z_j), y_j = Cm_j o (b w_j); never formed, only their products
    with np.errstate(all="ignore"):
        Cm = np.add(dmu, tau[:, None], out=dmu)
        np.reciprocal(Cm, out=Cm)
        G = eye[None] - (Cm @ BA).reshape(-1, r, r)
        z = _null_solves(G, bk)                                              # (J, r)
        w = _null_solves(np.swapaxes(G, 1, 2), ak)
        Cm[np.arange(J), start] = 1.0 / tau
        nrm = np.einsum("jl,jlm,jm->j", w, ((Cm * Cm) @ BA).reshape(-1, r, r), z)   # y^T x
        absC2 = Cm.real ** 2 + Cm.imag ** 2
        xn2 = _quad(absC2, a, z)                                             # ||x_j||^2
        yn2 = _quad(absC2, b, w)
        cond = np.sqrt(xn2 * yn2) / np.abs(nrm)
    if not (np.all(np.isfinite(cond)) and np.all(cond < _COND_MAX)):
        return _fail("cond")
    P = sum(_pair_product(basis, Cm * a[None, :, l]) * z[None, :, l] for l in range(r))
    # residue alpha_j P_j P_j^T: alpha_j from the left eigenvector through random probes
    rng = np.random.default_rng(0)
    probes = rng.standard_normal((basis.Q.shape[1], 3))
    qp = basis.Q @ probes                                                    # (N, 3)
    qy = np.einsum("jl,jlk->jk", w, (Cm @ (b[:, :, None] * qp[:, None, :]).reshape(N, -1))
                   .reshape(J, r, 3)) / nrm[:, None]                         # (J, 3)
    pw = P.T @ probes                                                        # (J, 3)
    pn = np.linalg.norm(P, axis=0)
    best = np.argmax(np.abs(pw) / pn[:, None], axis=1)
    rows = np.arange(J)
    alpha = qy[rows, best] / pw[rows, best]
    return s, P, alpha, real



def _input_part(B, X):
    """``Z`` with ``B Z = X`` when the columns of ``B`` have disjoint supports (each nodal
    input drives its own node's states) and ``X`` is in their span, else None."""
    B = sp.csc_matrix(B)
    BtB = (B.T @ B).tocsr()
    diag = BtB.diagonal()
    if BtB.nnz != np.count_nonzero(diag) or np.any(diag == 0):
        return None
    Z = np.asarray(B.T @ X) / diag[:, None]
    if np.abs(B @ Z - X).max() > 1e-12 * max(np.abs(X).max(), 1e-300):
        return None
    return Z


def _quad(absC2, a, z):
    """``sum_i |C_ji|^2 |a_i . z_j|^2`` for every j, with real products."""
    N, r = a.shape
    AA = (a[:, :, None] * np.conj(a)[:, None, :]).reshape(N, r * r)
    if r == 1:                                           # |a_i|^2: real
        return (absC2 @ AA.real)[:, 0] * (np.abs(z[:, 0]) ** 2)
    M = (absC2 @ AA.real + 1j * (absC2 @ AA.imag)).reshape(-1, r, r)
    return np.einsum("jl,jlm,jm->j", z, M, np.conj(z)).real


def _pair_product(basis, Y):
    """``(P Y^T)`` for the reference's mode shapes ``P`` (n, N) and ``Y`` (J, N), over the
    conjugate pairs in real arithmetic: ``p y + conj(p) y' = Re p (y + y') + Im p i(y - y')``."""
    h = basis.half
    if h < 0:
        return basis.P @ Y.T
    S = Y[:, :h] + Y[:, h:2 * h]
    Dd = Y[:, :h] - Y[:, h:2 * h]
    R = Y[:, 2 * h:]
    XR = np.concatenate([S.real, -Dd.imag, R.real], axis=1)
    XI = np.concatenate([S.imag, Dd.real, R.imag], axis=1)
    return (XR @ basis.PrT).T + 1j * (XI @ basis.PrT).T


def _newton(mu, start, tau, real, a, b, BA):
    """Newton on the secular function with the pole ``mu[start]`` divided out, in the offset
    ``tau = s - mu[start]``; returns ``(tau, converged)``."""
    J, r = start.size, a.shape[1]
    dmu = mu[start][:, None] - mu[None, :]
    dmu[np.arange(J), start] = np.inf                                       # own pole: out
    ak, bk = a[start], b[start]
    eye = np.eye(r)
    tau = tau.astype(complex)
    tau[real] = tau[real].real
    conv = np.zeros(J, dtype=bool)
    active = np.arange(J)
    with np.errstate(all="ignore"):
        for _ in range(_MAX_NEWTON):
            if active.size == 0:
                break
            Cm = dmu if active.size == J else dmu[active]
            Cm = np.add(Cm, tau[active, None])
            np.reciprocal(Cm, out=Cm)
            G = eye[None] - (Cm @ BA).reshape(-1, r, r)                       # G_{-k}
            np.multiply(Cm, Cm, out=Cm)
            Gp = (Cm @ BA).reshape(-1, r, r)                                  # dG/dtau
            del Cm
            zb = _null_solves(G, bk[active])                                  # G^{-1} b_k
            wa = _null_solves(np.swapaxes(G, 1, 2), ak[active])               # G^{-T} a_k
            phi = tau[active] - np.einsum("jr,jr->j", ak[active], zb)
            dphi = 1.0 + np.einsum("jr,jrs,js->j", wa, Gp, zb)
            step = phi / dphi
            step[real[active]] = step[real[active]].real
            new = tau[active] - step
            fin = np.isfinite(new)
            new[~fin] = tau[active][~fin]
            tau[active] = new
            s_abs = np.abs(mu[start[active]] + new)
            ok = fin & ((np.abs(step) <= 1e-10 * np.abs(new)) | (np.abs(step) <= 8e-16 * s_abs))
            conv[active[ok]] = True
            active = active[~ok & fin]
    return tau, conv


def _duplicates(s, skip, rtol: float = 1e-11):
    """Mask of roots that repeat an earlier one (to ``rtol`` relative), ignoring ``skip``."""
    out = np.zeros(s.size, dtype=bool)
    idx = np.flatnonzero(~skip)
    if idx.size < 2:
        return out
    pts = np.column_stack([s[idx].real, s[idx].imag])
    tol = rtol * max(float(np.abs(s[idx]).max()), 1e-300)
    for i, j in cKDTree(pts).query_pairs(tol):
        out[idx[max(i, j)]] = True
    return out


def _aberth(mu, poles, real, known, a, b, BA, maxit: int = 200):
    """The roots of ``det(I - F(s))`` missing from ``known`` (Aberth-Ehrlich iteration)."""
    N, r = a.shape
    eye = np.eye(r)
    m = N - known.size
    if m <= 0:
        return None
    seeds = []
    gap = 1e-6 * max(float(np.abs(mu).max()), 1e-300)
    for k, isreal in zip(poles, real):
        z = mu[k]
        h = gap + 1e-3 * abs(z - mu[np.argsort(np.abs(mu - z))[1]]) if N > 1 else gap
        seeds += [z + 1j * h, z - 1j * h] if isreal else [z + h * (1 + 1j), np.conj(z) + h * (1 - 1j)]
    z = np.array(seeds[:m] if len(seeds) >= m else seeds + [seeds[-1]] * (m - len(seeds)))
    if z.size != m:
        return None
    z = z.astype(complex)
    if sum(2 - int(x) for x in real) != m:
        return None
    done = np.zeros(m, dtype=bool)
    with np.errstate(all="ignore"):
        for _ in range(maxit):
            Cm = 1.0 / (z[:, None] - mu[None, :])
            G = eye[None] - (Cm @ BA).reshape(-1, r, r)
            Gs = ((Cm * Cm) @ BA).reshape(-1, r, r)
            if r == 1:
                lg = Gs[:, 0, 0] / G[:, 0, 0] + Cm.sum(axis=1)
            else:
                try:
                    lg = np.trace(np.linalg.solve(G, Gs), axis1=1, axis2=2) + Cm.sum(axis=1)
                except np.linalg.LinAlgError:
                    return None
            rep = (1.0 / (z[:, None] - known[None, :])).sum(axis=1)
            dz = z[:, None] - z[None, :]
            np.fill_diagonal(dz, np.inf)
            rep = rep + (1.0 / dz).sum(axis=1)
            w = 1.0 / (lg - rep)
            if not np.all(np.isfinite(w)):
                return None
            z = z - w
            done = np.abs(w) <= np.maximum(1e-13 * np.abs(z), 1e-8 * gap)
            if done.all():
                break
    if not done.all():
        return None
    # one of each conjugate pair; real roots made exactly real
    isreal = np.abs(z.imag) <= np.maximum(1e-9 * np.abs(z), 1e-6 * gap)
    up = z[~isreal & (z.imag > 0)]
    lo = z[~isreal & (z.imag < 0)]
    if up.size != lo.size or (up.size and np.abs(np.sort_complex(up) - np.sort_complex(np.conj(lo))).max()
                              > 1e-8 * float(np.abs(z).max())):
        return None
    return np.concatenate([up, z[isreal].real.astype(complex)])


def _residual_ok(system, s, P, weight, probes: int = 8) -> bool:
    """Backward error of ``(diag(1/g(s_j)) + f(s_j) L) P_j = 0`` for every mode, weighted by
    the size of the mode's residue relative to the largest (a mode that hardly enters the
    response may be less accurate, as in the dense eigenproblem).

    The residual norms are estimated with ``probes`` Gaussian test vectors
    (``||G v|| / sqrt(k)``), which costs ``O(k n J)`` instead of the ``O(n^2 J)`` of the
    products with ``L``; the estimate is compared with a tenth of the tolerance, so that
    a residual above the tolerance passes with probability below about ``1e-7``.
    """
    ginv = system.nodal.inverse(s)                         # (J, n)
    f = np.asarray(system.coupling(s))[:, 0]
    L = system.laplacian
    n = P.shape[0]
    G = np.random.default_rng(1).standard_normal((probes, n))
    GL = np.asarray(L.T @ G.T).T if sp.issparse(L) else G @ np.asarray(L)
    D = ginv.T * P                                         # (n, J)
    GS = (G @ D.real + 1j * (G @ D.imag)) + f[None, :] * (GL @ P.real + 1j * (GL @ P.imag))
    est = np.linalg.norm(GS, axis=0) / np.sqrt(probes)
    Lnorm = float(abs(L).sum(axis=1).max()) if sp.issparse(L) else float(np.abs(L).sum(axis=1).max())
    scale = np.linalg.norm(D, axis=0) + np.abs(f) * Lnorm * np.linalg.norm(P, axis=0)
    with np.errstate(all="ignore"):
        err = 10.0 * est / scale
    rel = weight / max(float(weight.max()), 1e-300)
    return bool(np.all(err <= 1e-6) and np.all(err * rel <= _RESIDUAL_RTOL))
