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
from .modal_reference import ModalBasis, clear, decompose, dense_basis, lookup, pin, pinned, remember
from .modal_secular import (
    _aberth,
    _dense,
    _duplicates,
    _input_part,
    _newton,
    _null_solves,
    _pair_product,
    _quad,
    _residual_ok,
    _traces_ok,
    low_rank,
)

__all__ = ["ModalBasis", "decompose", "dense_basis", "update_basis", "update_trip", "pin",
           "pinned", "remember", "clear", "lookup", "low_rank"]

#: largest eigenvalue condition number (``||x|| ||y|| / |y^T x|``) accepted
_COND_MAX = 1e8
#: why the last update returned None (for diagnostics)
last_failure = [""]


def _fail(why):
    last_failure[0] = why
    return None


# -- the update --------------------------------------------------------------------------------

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



