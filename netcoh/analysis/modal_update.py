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

import numpy as np
import scipy.sparse as sp

from ..exceptions import NetcohError
from ..network.system import NetworkSystem
from .modal_cluster import cluster_of
from .modal_reference import (
    ModalBasis,
    clear,
    decompose,
    dense_basis,
    lookup,
    per_reference,
    pin,
    pinned,
    remember,
)
from .modal_secular import (
    _aberth,
    _as_block,
    _col_sq,
    _dense,
    _duplicates,
    _input_part,
    _newton,
    _pole_gaps,
    _residual_ok,
    _traces,
    _traces_ok,
    _vectors,
    _vectors_real,
    low_rank,
)

__all__ = ["ModalBasis", "decompose", "dense_basis", "update_basis", "update_trip",
           "update_structured", "pin",
           "pinned", "remember", "clear", "lookup", "low_rank"]

#: largest eigenvalue condition number (``||x|| ||y|| / |y^T x|``) accepted
_COND_MAX = 1e8
#: most machines an outage may cut off the reference for its modes to be updated
_MAX_GONE = 8
#: why the last update returned None (for diagnostics)
last_failure = [""]


def _fail(why):
    last_failure[0] = why
    return None


# -- the update --------------------------------------------------------------------------------

def _reference_modes(basis: ModalBasis):
    """The reference's own modes (the network is the reference): pairs once, doubled;
    formed once per reference (read-only: every network equal to it shares them)."""
    return per_reference(_OWN, basis, _own_modes)


def _own_modes(basis: ModalBasis):
    mu = basis.mu
    keep = mu.imag >= 0
    factor = np.where(mu.imag > 0, 2.0, 1.0)
    modes = (mu[keep], basis.P[:, keep], basis.Q[keep] * factor[keep, None])
    for x in modes:
        x.setflags(write=False)
    return modes


#: per reference: (basis, its own modes as _reference_modes returns them)
_OWN: list = []


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
        return _reference_modes(basis)
    return _finish(system, *core)


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
    s, P, alpha, real, _ = core
    P = P[keep]
    sq = _col_sq(P)
    weight = np.abs(alpha) * sq
    live = weight > 1e-13 * float(weight.max())
    s, P, alpha, real, sq = s[live], P[:, live], alpha[live], real[live], sq[live]
    At = sp.csr_matrix(realization.A)
    if 2 * int((~real).sum()) + int(real.sum()) != At.shape[0]:
        return _fail("count")
    if not _traces_ok(s, real, At):
        return _fail("trace")
    return _finish(system, s, P, alpha, real, sq)


# -- updates from the Laplacian, without the realisation -----------------------------------

#: per reference: (basis, layout) with layout as returned by _layout
_LAYOUTS: dict = {}


def _layout(basis: ModalBasis):
    """``(q, C_f, trace(A), trace(A^2))`` when the reference's state matrix depends on the
    Laplacian only through its block ``-B_g L[:, :n-1] kron(C_f, I)`` (the nodes and the
    coupling strictly proper: no feedthrough), else None."""
    hit = _LAYOUTS.get(id(basis))
    if hit is not None and hit[0] is basis:
        return hit[1]
    ref, out = basis.system, None
    if ref is not None and ref.n > 1 and np.all(ref.nodal.relative_degrees >= 1) \
            and np.all(ref.coupling.relative_degrees >= 1):
        A_f, _, C_f, _ = ref.coupling.realization()
        q = A_f.shape[0]
        Cf = np.asarray(C_f.toarray() if sp.issparse(C_f) else C_f, dtype=float).ravel()
        order = int(np.sum(ref.nodal.orders))
        if q >= 1 and Cf.size == q and basis.row0 == order \
                and basis.n_states == order + q * (ref.n - 1):
            out = (q, Cf) + _traces(basis.A)
    _LAYOUTS.clear()                  # one or two references at a time
    _LAYOUTS[id(basis)] = (basis, out)
    return out


def _same_dynamics(ref, system, keep) -> bool:
    """Whether ``system``'s nodes are the reference's nodes ``keep`` and its coupling the
    reference's."""
    if ref.coupling.kind != system.coupling.kind:
        return False
    pairs = ((np.asarray(ref.nodal.num)[keep], system.nodal.num),
             (np.asarray(ref.nodal.den)[keep], system.nodal.den),
             (ref.coupling.num, system.coupling.num), (ref.coupling.den, system.coupling.den))
    for x, y in pairs:
        x, y = np.asarray(x), np.asarray(y)
        if x.shape != y.shape or not np.array_equal(x, y):
            return False
    return True


def _laplacian_change(basis: ModalBasis, layout, dL, max_rank: int, scale: float):
    """``(Z, Yc, traces)`` of ``A' = A + (B Z) Y^T`` for a change ``dL`` of the reference's
    Laplacian: ``A' - A = -B_g dL[:, :n-1] kron(C_f, I)`` with ``dL = U V^T``, so
    ``Z = -U`` and ``Y = kron(C_f, I)^T V[:n-1]`` on the coupling states; None when ``dL``
    is not of rank ``max_rank`` or less (to rounding: ``1e-11 scale``, ``scale`` the size of
    the Laplacians); ``"same"`` when it is zero."""
    q, Cf, tr1, tr2 = layout
    fac = low_rank(dL, max_rank, scale)
    if fac is None:
        return _fail("rank")
    U, V = fac
    if U.shape[1] == 0:
        return "same"
    n = dL.shape[0]
    Z = -U
    Yc = np.kron(Cf[:, None], V[: n - 1])
    X = np.asarray(basis.B @ Z)
    Y = np.zeros((basis.n_states, Z.shape[1]))
    Y[basis.row0:] = Yc
    YX = Y.T @ X
    traces = (tr1 + float(np.sum(X * Y)),
              tr2 + 2.0 * float(np.sum(Y * np.asarray(basis.A @ X))) + float(np.sum(YX * YX.T)))
    return Z, Yc, traces


def update_structured(system, cond_max: float = 1e10):
    """Modes of ``system`` from a pinned reference, without its realisation.

    Applies when the nodes and the coupling have no feedthrough (the state matrix then
    depends on the Laplacian through one block, so ``A' - A`` follows from ``L' - L``)
    and ``system`` is a pinned reference with its Laplacian changed by rank two or less
    (branch outages) or with one machine tripped (its link opened and its node removed).
    The checks are those of :func:`update_basis` and :func:`update_trip`: the rank, the
    roots, the traces of ``A'`` (from those of ``A`` and the change), the eigenvalue
    condition numbers and the residual of every mode on ``system``'s own network equation;
    for a trip, the modes dropped must be the tripped node's own and the coupling's poles.

    Parameters
    ----------
    system : NetworkSystem
        The network to decompose.
    cond_max : float, default 1e10
        Largest eigenvector condition number of a usable reference.

    Returns
    -------
    (ndarray (K,), ndarray (n, K), ndarray (K, n)), None or str
        As :func:`update_basis`; None when a check failed (decompose densely); ``"n/a"``
        when no pinned reference has that relation to ``system``.

    Examples
    --------
    >>> import numpy as np, scipy.linalg as la, netcoh as nc
    >>> L = 5.0 * nc.laplacian.ring_lattice(6, 2)
    >>> nodal = nc.nodal.swing_turbine(np.arange(1.0, 7.0), 1.0, 2.0, 5.0)
    >>> pin(decompose(nc.NetworkSystem.from_laplacian(L, nodal=nodal)))
    >>> L2 = L.copy(); L2[0, 1] = L2[1, 0] = 0.0; L2[0, 0] = L2[1, 1] = 15.0  # a line out
    >>> out = nc.NetworkSystem.from_laplacian(L2, nodal=nodal)
    >>> s, P, Q = update_structured(out)
    >>> exact = la.eigvals(out.realization().A.toarray())
    >>> bool(np.allclose(np.sort_complex(s), np.sort_complex(exact[exact.imag >= 0])))
    True
    >>> clear()
    """
    for basis in pinned():
        ref = basis.system
        if ref is None or basis.cond > cond_max or not 0 <= ref.n - system.n <= _MAX_GONE:
            continue
        layout = _layout(basis)
        if layout is None:
            continue
        if ref.n == system.n:
            if tuple(ref.labels) == tuple(system.labels) and _same_dynamics(ref, system, slice(None)):
                return _branch_update(basis, layout, system)
            continue
        labels = set(system.labels)
        gone = [i for i, lab in enumerate(ref.labels) if lab not in labels]
        if len(gone) != ref.n - system.n or (len(gone) > 1 and ref.n - 1 in gone):
            continue
        keep = np.delete(np.arange(ref.n), gone)
        if tuple(ref.labels[i] for i in keep) == tuple(system.labels) \
                and _same_dynamics(ref, system, keep):
            if len(gone) == 1:
                return _trip_update(basis, layout, system, gone[0], keep)
            return _split_update(basis, layout, system, np.asarray(gone), keep)
    return "n/a"


#: per reference: (basis, _pole_gaps of its starts, the starts)
_GAPS: list = []


def _gaps(basis: ModalBasis, start):
    """The reference's pole gaps (:func:`_pole_gaps`), the starts, the left eigenvectors'
    products with the residue probes (``Q probes``) and the probes, computed once per
    reference."""
    def make(basis):
        probes = _probes(basis.Q.shape[1])
        return _pole_gaps(basis.mu, start) + (start, basis.Q @ probes, probes)

    return per_reference(_GAPS, basis, make)


def _probes(n: int) -> np.ndarray:
    """The three random probes that give the residue scalars (fixed: same digits on every
    run)."""
    return np.random.default_rng(0).standard_normal((n, 3))


def _finish(system, s, P, alpha, real, sq=None):
    """The modes' residue factors, or None when a mode's residual fails; ``sq``: the
    squared norms of the shapes ``P`` when known."""
    weight = np.abs(alpha) * (_col_sq(P) if sq is None else sq)        # size of each residue
    if not _residual_ok(system, s, P, weight):
        return _fail("residual")
    factor = np.where(real, 1.0, 2.0)
    return s, P, (alpha * factor)[:, None] * P.T


def _branch_update(basis, layout, system):
    last_failure[0] = ""
    L2 = _dense(system.laplacian)
    change = _laplacian_change(basis, layout, L2 - _dense(basis.system.laplacian), 2,
                               float(np.abs(L2).max()))
    if change is None:
        return None
    if isinstance(change, str):                   # the reference itself
        return _reference_modes(basis)
    core = _solve(basis, *change)
    return None if core is None else _finish(system, *core)


def _trip_update(basis, layout, system, k, keep):
    last_failure[0] = ""
    ref = basis.system
    Lref = _dense(ref.laplacian)
    Lv = np.zeros_like(Lref)
    Lv[np.ix_(keep, keep)] = _dense(system.laplacian)
    change = _laplacian_change(basis, layout, Lv - Lref, 1, float(np.abs(Lref).max()))
    if change is None or isinstance(change, str):
        return None if change is None else _fail("trip")
    # the modes without residue on the other nodes are the tripped node's own (the poles
    # of g_k, its states evolving alone) and its coupling state's (the poles of f)
    own = np.concatenate([np.roots(np.trim_zeros(np.asarray(ref.nodal.den[k], float), "f")),
                          np.roots(np.trim_zeros(np.asarray(ref.coupling.den[0], float), "f"))])
    core = _solve(basis, *change, own=own)
    if core is None:
        return None
    return _without_own(system, core, keep, own)


def _split_update(basis, layout, system, gone, keep):
    """Modes of the main island left when an outage cuts the machines ``gone`` (two or
    more, without the reference's last node) off the reference.

    The cut changes the reference's Laplacian by ``sigma c c^T`` (rank one) into one of two
    islands: the main one is ``system``'s Laplacian, and the change's rows on it give the
    change on the cut-off island (``c`` restricted to it). The updated network then has the
    main island's modes and the cut-off island's, found densely on its few machines (with
    the poles of the coupling: its states' drift against the main island's last node);
    those must be the modes without residue on the main island, in number and power sums.
    """
    last_failure[0] = ""
    ref = basis.system
    Lref = _dense(ref.laplacian)
    Lk = _dense(system.laplacian)
    known = np.hstack([Lk - Lref[np.ix_(keep, keep)], -Lref[np.ix_(keep, gone)]])
    scale = float(np.abs(Lref).max())
    i, j = divmod(int(np.argmax(np.abs(known))), known.shape[1])
    if abs(known[i, j]) <= 1e-11 * scale:
        return _fail("rank")
    X, Y = known[:, j], known[i] / known[i, j]           # known = X Y^T (checked below)
    yk, yg = Y[: keep.size], Y[keep.size:]
    kappa = float(X @ yk) / float(yk @ yk)             # X = kappa yk for a symmetric change
    Lv = Lref.copy()
    Lv[np.ix_(keep, keep)] = Lk
    Lv[np.ix_(keep, gone)] = 0.0
    Lv[np.ix_(gone, keep)] = 0.0
    Lv[np.ix_(gone, gone)] += kappa * np.outer(yg, yg)
    change = _laplacian_change(basis, layout, Lv - Lref, 1, scale)
    if change is None or isinstance(change, str):
        return None if change is None else _fail("split")
    Li = Lv[np.ix_(gone, gone)]
    try:
        island = NetworkSystem.from_laplacian(0.5 * (Li + Li.T), nodal=ref.nodal.subset(gone),
                                              coupling=ref.coupling)
    except NetcohError:
        return _fail("split")
    own = np.concatenate([np.linalg.eigvals(_dense(island.realization().A)),
                          np.roots(np.trim_zeros(np.asarray(ref.coupling.den[0], float), "f"))])
    core = _solve(basis, *change, own=own)
    if core is None:
        return None
    return _without_own(system, core, keep, own)


def _without_own(system, core, keep, own):
    """The updated modes seen on the nodes ``keep``, after checking that those without
    residue there are, in number and power sums, the poles ``own`` of what left."""
    s, P, alpha, real, _ = core
    PT = P.T[:, keep]                       # modes by rows, C-ordered: P stays a transpose
    weight = np.abs(alpha) * _col_sq(PT.T)
    live = weight > 1e-13 * float(weight.max())
    gone = ~live
    if 2 * int((~real[gone]).sum()) + int(real[gone].sum()) != own.size:
        return _fail("count")
    sums = (float(own.sum().real), float((own ** 2).sum().real))
    scale = (float(np.abs(s).sum()), float(np.abs(s).max()))
    if not _traces_ok(s[gone], real[gone], sums, scale):
        return _fail("trace")
    if not live.all():
        PT = PT[live]
    return _finish(system, s[live], PT.T, alpha[live], real[live])


def _core(basis: ModalBasis, A2, max_rank: int):
    """``(s, P, alpha, real, sq)`` of the state matrix ``A2`` from ``basis`` (residues
    ``alpha_j P_j P_j^T``, ``sq`` the squared norms of the shapes), ``"same"`` when ``A2``
    is the reference's, or None."""
    scale = float(np.abs(A2.data).max()) if A2.nnz else 1.0
    fac = low_rank(A2 - basis.A, max_rank, scale)
    if fac is None:
        return _fail("rank")
    X, Y = fac
    if X.shape[1] == 0:
        return "same"
    if np.any(Y[: basis.row0]):
        return _fail("support")
    Z = _input_part(basis.B, X)
    if Z is None:
        return _fail("support")
    return _solve(basis, Z, Y[basis.row0:], _traces(A2))


def _missed_roots(own, fixed, mu, real, start, bad, a, b, BA):
    """The roots Newton's method missed from the starts ``bad`` (one of each conjugate
    pair), the roots ``fixed`` deflated: the known eigenvalues ``own`` it missed
    (:func:`_missed_own`), and Aberth's iteration for the rest with them deflated too;
    when that fails, Aberth's iteration for all of them. None when it fails."""
    known = np.concatenate([fixed, np.conj(fixed[fixed.imag > 0])])
    given, taken = _missed_own(own, fixed, mu, real, start, np.flatnonzero(bad))
    if given.size:
        todo = np.setdiff1d(np.flatnonzero(bad), taken)
        if todo.size == 0:
            return given
        rest = _aberth(mu, start[todo], real[todo], np.concatenate(
            [known, given, np.conj(given[given.imag > 0])]), a, b, BA)
        if rest is not None:
            return np.concatenate([given, rest])
    return _aberth(mu, start[bad], real[bad], known, a, b, BA)


def _missed_own(own, fixed, mu, real, start, todo):
    """The known eigenvalues ``own`` (one of each conjugate pair) that the roots ``fixed``
    do not include, each with the start of the same kind (real or complex) among ``todo``
    nearest to it: ``(roots, starts)``."""
    if own is None or own.size == 0 or todo.size == 0:
        return np.empty(0, complex), np.empty(0, int)
    big = float(np.abs(mu).max())
    own = np.asarray(own, dtype=complex)
    own = np.where(np.abs(own.imag) <= 1e-12 * np.maximum(np.abs(own), big), own.real, own)
    roots, starts, free = [], [], list(todo)
    for o in own[own.imag >= 0]:
        if fixed.size and np.min(np.abs(fixed - o)) <= 1e-9 * max(abs(o), 1e-6 * big):
            continue                                     # Newton found it
        same = [k for k in free if bool(real[k]) == (o.imag == 0)]
        if not same:
            continue
        k = min(same, key=lambda k: abs(mu[start[k]] - o))
        free.remove(k)
        roots.append(o)
        starts.append(k)
    return np.array(roots, dtype=complex), np.array(starts, dtype=int)


def _on_axis(s, mu):
    """Which roots ``s`` lie on (or below) the real axis: an imaginary part at most
    ``1e-9`` of the root's size, or of rounding size against the poles ``mu`` (a root at
    the origin, such as the coupling's pole of a tripped machine, has no size of its own)."""
    return s.imag <= 1e-9 * np.abs(s) + 1e-13 * float(np.abs(mu).max())


def _solve(basis: ModalBasis, Z, Yc, traces, own=None):
    """``(s, P, alpha, real, sq)`` of ``A + (B Z) Y^T`` (``Y`` zero on the nodal states, ``Yc``
    its rows on the coupling states) checked against ``traces`` (its trace and the
    trace of its square), or None. ``own``: eigenvalues the change is known to have (the
    modes of what it cuts off), taken for roots Newton's method missed before Aberth's
    iteration searches for the rest."""
    mu = basis.mu
    N, r = mu.size, Z.shape[1]
    a = basis.Q @ Z                                                         # W^{-1} X, (N, r)
    b = basis.W.T @ Yc                                                      # W^T Y, (N, r)
    BA = (b[:, :, None] * a[:, None, :]).reshape(N, r * r)                 # b_i a_i^T

    start = np.flatnonzero(mu.imag >= 0)
    real = mu[start].imag == 0
    gaps = _gaps(basis, start)
    tau, conv = _newton(mu, start, np.zeros(start.size, complex), real, a, b, BA, gaps,
                        basis.half, cluster_of(basis))
    s = mu[start] + tau
    # a complex start that ended on (or below) the real axis, or on a root that another
    # start found, is searched for again
    bad = ~conv | (~real & _on_axis(s, mu))
    bad |= _duplicates(s, bad, rtol=1e-9, local=True)
    if bad.any():
        # Newton from some poles went to a root that another start found (clusters of
        # close poles): find the missing roots with the known ones deflated (Aberth)
        found = _missed_roots(own, s[~bad], mu, real, start, bad, a, b, BA)
        if found is None:
            return _fail("deflation")
        near = np.argmin(np.abs(found[:, None] - mu[None, :]), axis=1)
        freal = found.imag == 0
        # a real root (e.g. of a complex pair that met on the real axis) is polished from
        # the nearest real pole: the offset from a complex one could not stay real
        rpoles = np.flatnonzero(mu.imag == 0)
        if freal.any() and rpoles.size:
            near[freal] = rpoles[np.argmin(np.abs(found[freal, None] - mu[None, rpoles]), axis=1)]
        t_ab = found - mu[near]
        t2, c2 = _newton(mu, near, t_ab, freal, a, b, BA)
        start = np.concatenate([start[~bad], near])
        tau = np.concatenate([tau[~bad], t2])
        real = np.concatenate([real[~bad], freal])
        s = mu[start] + tau
        # Newton from the nearest pole can jump to a close root that is already known (or
        # not settle): such a root keeps Aberth's value, found with the others deflated
        # (the checks below, traces, conditioning and the residual of every mode, apply
        # to it as to the others)
        redo = np.concatenate([np.zeros(tau.size - t2.size, bool), ~c2])
        redo |= _duplicates(s, np.zeros(s.size, bool))
        if redo.any():
            tau[redo] = np.concatenate([tau[: tau.size - t2.size], t_ab])[redo]
            s = mu[start] + tau
        if np.any(_duplicates(s, np.zeros(s.size, bool), local=True)) or \
                np.any(_on_axis(s[~real], mu)):
            return _fail("duplicate")
    if 2 * int((~real).sum()) + int(real.sum()) != N:
        return _fail("count")
    J = start.size
    # power sums against the traces of A' and A'^2
    if not _traces_ok(s, real, traces):
        return _fail("trace")
    # the left eigenvectors meet three random probes (for the residue scalars below)
    qp, probes = gaps[4], gaps[5]                                            # (N, 3), (n, 3)
    n = basis.P.shape[0]
    z, w = np.empty((J, r), complex), np.empty((J, r), complex)
    nrm, qy = np.empty(J, complex), np.empty((J, 3), complex)
    # the shapes by rows (each mode's block is written whole; P is its transpose, a view)
    xn2, yn2, PT = np.empty(J), np.empty(J), np.empty((J, n), complex)
    pw, sq = np.empty((J, 3), complex), np.empty(J)     # the shapes' probes and squared norms
    h = basis.half
    fold = real & (start >= 2 * h) if h >= 0 and r == 1 else np.zeros(J, dtype=bool)
    folded = np.flatnonzero(fold)
    folded = folded[np.argsort(start[folded], kind="stable")]     # in the poles' order
    for rows, fn in ((folded, _vectors_real), (np.flatnonzero(~fold), _vectors)):
        if rows.size == 0:
            continue
        if fn is _vectors:
            if J == gaps[0].shape[0] and np.array_equal(start, gaps[3]):
                dmu = gaps[0][rows]                                          # (J, N)
            else:
                dmu = mu[start[rows]][:, None] - mu[None, :]
                dmu[np.arange(rows.size), start[rows]] = np.inf             # own pole: out
            out = _vectors(basis, start[rows], tau[rows], real[rows], a, b, BA, qp, dmu)
        else:
            out = _vectors_real(basis, start[rows], tau[rows].real, a, b, qp)
        rows = _as_block(rows)
        z[rows], w[rows], nrm[rows], xn2[rows], yn2[rows], PT[rows], qy[rows] = out
        # while the block is at hand (real for the real rows: real products)
        pw[rows], sq[rows] = out[5] @ probes, _col_sq(out[5].T)
    P = PT.T
    with np.errstate(all="ignore"):
        cond = np.sqrt(xn2 * yn2) / np.abs(nrm)
    if not (np.all(np.isfinite(cond)) and np.all(cond < _COND_MAX)):
        return _fail("cond")
    best = np.argmax(np.abs(pw) / np.sqrt(sq)[:, None], axis=1)
    rows = np.arange(J)
    alpha = qy[rows, best] / pw[rows, best]
    return s, P, alpha, real, sq



