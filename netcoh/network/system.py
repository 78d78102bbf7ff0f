"""The network model: nodal dynamics coupled through a weighted Laplacian.

``y = T(s) u`` with ``T(s) = (diag(1/g_i(s)) + f(s) L)^{-1}``: every node ``i`` has
dynamics ``g_i(s)`` from its net power input to its output (frequency), and the
network returns ``f(s) L y`` (for grids ``f(s) = 1/s``: line flows integrate angle
differences).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._validation import _show, as_bool, as_float_array, as_laplacian, as_optional_bool
from ..exceptions import InputError, NetcohTypeError, UnstableError
from . import laplacian as _lap
from .nodal import NodalDynamics, as_nodal, integrator

__all__ = ["NetworkSystem", "Realization", "sparse_lu", "reduced_system", "check_stable"]


def sparse_lu(M):
    """Sparse LU of a structurally symmetric matrix (such as ``diag(1/g) + f L``).

    SuperLU's default column ordering ignores symmetry and fills in badly on meshed
    graphs; a symmetric minimum-degree ordering with preference for diagonal pivots
    is 10-30x faster on grid topologies and as accurate. Returns ``scipy.sparse.linalg.SuperLU``.
    """
    return spla.splu(sp.csc_matrix(M), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.1,
                     options={"SymmetricMode": True})


class Realization(NamedTuple):
    """Sparse state-space matrices ``x' = A x + B u``, ``y = C x + D u``."""

    A: sp.csr_matrix
    B: sp.csr_matrix
    C: sp.csr_matrix
    D: sp.csr_matrix


@dataclass(frozen=True, eq=False)
class NetworkSystem:
    """Immutable networked system ``(g_i, f, L)`` with node labels.

    Build it with :meth:`from_laplacian` or :meth:`from_graph` (or
    ``netcoh.grids.load(...).to_system()``); make variants with
    :func:`dataclasses.replace`, which re-validates.

    Attributes
    ----------
    laplacian : ndarray or scipy.sparse.csr_matrix, shape (n, n)
        Weighted Laplacian (read-only).
    nodal : NodalDynamics
        ``g_i(s)`` for the ``n`` nodes.
    coupling : NodalDynamics
        The scalar network dynamics ``f(s)`` (default ``1/s``).
    labels : tuple of str
        Node names.
    signed : bool
        Admit a *signed* Laplacian (symmetric, positive semidefinite, zero row sums, some
        positive off-diagonal entries), as produced by the k-area reduction for ``k >= 3``.
    f_hz : float or None
        Nominal frequency of a power system (``Grid.to_system`` sets it), so that results
        in Hz need no separate argument; None for systems that are not grids.

    Examples
    --------
    >>> import netcoh as nc
    >>> L = nc.laplacian.complete(3)
    >>> sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(1.0, 0.5, n=3))
    >>> sys.n, sys.labels
    (3, ('0', '1', '2'))
    >>> round(sys.lambda2, 12)
    3.0
    """

    laplacian: np.ndarray | sp.csr_matrix
    nodal: NodalDynamics
    coupling: NodalDynamics = field(default_factory=integrator)
    labels: tuple = ()
    signed: bool = False
    f_hz: float | None = None

    def __post_init__(self):
        if self.f_hz is not None:
            f = self.f_hz
            if isinstance(f, bool) or not isinstance(f, (int, float, np.floating, np.integer)) \
                    or not np.isfinite(f) or f <= 0:
                raise InputError(f"`f_hz` must be a positive number or None, got {f!r}")
            object.__setattr__(self, "f_hz", float(f))
        L = as_laplacian(self.laplacian, "L", labels=self.labels or None, signed=bool(self.signed))
        if sp.issparse(L):
            L = sp.csr_matrix(L)
            for arr in (L.data, L.indices, L.indptr):
                arr.setflags(write=False)
        object.__setattr__(self, "laplacian", L)
        n = L.shape[0]
        object.__setattr__(self, "nodal", as_nodal(self.nodal, n, "nodal"))
        cpl = self.coupling
        if not isinstance(cpl, NodalDynamics):
            cpl = as_nodal(cpl, 1, "coupling")
        if cpl.n != 1:
            raise InputError(f"`coupling` must be a single (scalar) transfer function, got {cpl.n}")
        object.__setattr__(self, "coupling", cpl)
        labels = tuple(str(x) for x in self.labels) if self.labels else tuple(map(str, range(n)))
        if len(labels) != n:
            raise InputError(f"`labels` must have {n} entries (one per node), got {len(labels)}")
        if len(set(labels)) != n:
            dup = next(x for x in labels if labels.count(x) > 1)
            raise InputError(f"`labels` must be unique, got {dup!r} more than once")
        object.__setattr__(self, "labels", labels)

    def __reduce__(self):
        # pickle the defining fields only (caches are rebuilt), e.g. to ship to Dask workers
        return (type(self), (self.laplacian, self.nodal, self.coupling, self.labels, self.signed,
                             self.f_hz))

    # -- factories ----------------------------------------------------------------
    @classmethod
    def from_laplacian(cls, L, *, nodal, coupling=None, labels=None,
                       signed: bool = False, f_hz: float | None = None) -> NetworkSystem:
        """Build from a Laplacian (dense or sparse) and nodal dynamics.

        Parameters
        ----------
        L : array_like or scipy.sparse matrix, shape (n, n)
        nodal : NodalDynamics or python-control model(s)
            ``n`` nodes; a single python-control model is used for every node.
        coupling : NodalDynamics or control.TransferFunction, optional
            ``f(s)``; default the integrator ``1/s``.
        labels : sequence, optional
            Node names (default ``"0" .. "n-1"``).
        signed : bool
            Admit a signed (PSD, zero-row-sum) Laplacian, see the class docstring.
        f_hz : float, optional
            Nominal frequency of a power system (results in Hz use it).

        Returns
        -------
        NetworkSystem
            The validated system.

        Examples
        --------
        >>> import netcoh as nc
        >>> nc.NetworkSystem.from_laplacian([[1, -1], [-1, 1]], nodal=nc.nodal.swing(1, 1, n=2)).n
        2
        """
        if not (sp.issparse(L) or isinstance(L, np.ndarray)):
            L = as_float_array(L, "L")
        if L.ndim != 2 or L.shape[0] != L.shape[1]:
            raise InputError(f"`L` must be a square matrix, got shape {L.shape}")
        n = L.shape[0]
        if labels is not None and (isinstance(labels, (str, bytes))
                                   or not hasattr(labels, "__iter__")):
            raise NetcohTypeError(f"`labels` must be a sequence of node names, got {_show(labels)}")
        signed = as_bool(signed, "signed")
        return cls(laplacian=L, nodal=as_nodal(nodal, n),
                   coupling=integrator() if coupling is None else coupling,
                   labels=tuple(labels) if labels is not None else (), signed=signed, f_hz=f_hz)

    @classmethod
    def from_graph(cls, G, *, nodal, weight: str | None = "weight", coupling=None,
                   sparse: bool | None = None) -> NetworkSystem:
        """Build from an undirected networkx graph; labels are the graph's nodes.

        Parameters
        ----------
        G : networkx.Graph
            Undirected graph; node order is ``G.nodes`` and labels are ``str(node)``.
        nodal : NodalDynamics or python-control model(s)
            One model per node of ``G`` (in ``G.nodes`` order), as in
            :meth:`from_laplacian`.
        weight : str or None, default "weight"
            Edge attribute with the coupling weight; ``None`` gives unit weights.
        coupling : NodalDynamics or control.TransferFunction, optional
            ``f(s)``; default the integrator ``1/s``.
        sparse : bool, optional
            Store the Laplacian sparse; by default sparse when ``G`` has more than 500
            nodes.

        Returns
        -------
        NetworkSystem
            The network, its nodes in the graph's node order.

        Examples
        --------
        >>> import networkx as nx, netcoh as nc
        >>> sys = nc.NetworkSystem.from_graph(nx.cycle_graph(4), nodal=nc.nodal.swing(1, 1, n=4))
        >>> round(sys.lambda2, 12)
        2.0
        """
        sparse = as_optional_bool(sparse, "sparse")
        if not hasattr(G, "number_of_nodes"):
            raise NetcohTypeError(f"`G` must be a networkx graph, got {_show(G)}")
        if sparse is None:
            sparse = G.number_of_nodes() > 500
        L, nodes = _lap.from_graph(G, weight=weight, sparse=sparse)
        return cls.from_laplacian(L, nodal=nodal, coupling=coupling, labels=[str(v) for v in nodes])

    # -- derived quantities (cached) ----------------------------------------------
    @property
    def n(self) -> int:
        """Number of nodes."""
        return self.laplacian.shape[0]

    @property
    def is_sparse(self) -> bool:
        """Whether the Laplacian is stored sparse."""
        return sp.issparse(self.laplacian)

    @cached_property
    def _eigh(self):
        L = self.laplacian.toarray() if self.is_sparse else self.laplacian
        if self.n > 5000:
            raise InputError(
                f"a dense eigendecomposition of {self.n} nodes is too large; use methods that "
                "keep the network sparse")
        w, V = la.eigh(L)
        w[0] = 0.0
        w.setflags(write=False)
        V.setflags(write=False)
        return w, V

    @property
    def eigenvalues(self) -> np.ndarray:
        """Laplacian eigenvalues in ascending order (``lambda_1 = 0``)."""
        return self._eigh[0]

    @property
    def eigenvectors(self) -> np.ndarray:
        """Orthonormal Laplacian eigenvectors (columns), matching :attr:`eigenvalues`."""
        return self._eigh[1]

    @cached_property
    def lambda2(self) -> float:
        """Algebraic connectivity ``lambda_2(L)``."""
        if self.n == 1:
            return 0.0
        if self.is_sparse and self.n > 400:
            return _lap.algebraic_connectivity(self.laplacian)
        return float(self.eigenvalues[1])

    @cached_property
    def inertia_weights(self) -> np.ndarray:
        """Weights of the centre-of-inertia average: ``m_i / sum m`` where nodes have an
        inertia parameter, otherwise the high-frequency weight ``lim 1/(s g_i(s))``
        (the leading coefficient ratio), falling back to a uniform average."""
        m = self.nodal.params.get("m")
        if m is None:
            num, den = self.nodal.num, self.nodal.den
            rel = self.nodal.relative_degrees
            if np.all(rel == 1):
                lead_den = den[np.arange(self.n), den.shape[1] - 1 - self.nodal.orders]
                nz = num != 0
                lead_num = num[np.arange(self.n), np.where(nz.any(axis=1), nz.argmax(axis=1), 0)]
                m = lead_den / lead_num
            if m is None or np.any(m <= 0):
                m = np.ones(self.n)
        w = np.asarray(m, dtype=float) / np.sum(m)
        w.setflags(write=False)
        return w

    # -- realisation ----------------------------------------------------------------
    @cached_property
    def _realization(self) -> Realization:
        return self._build_realization(grounded=True)

    def _build_realization(self, grounded: bool) -> Realization:
        # grounded=False keeps every node's coupling state (for f = 1/s the angles): A then
        # has the Laplacian's zero mode but stays as sparse as L (no column coupling every
        # angle difference to the reference node), which suits sparse time stepping
        n = self.n
        A_g, B_g, C_g, D_g = self.nodal.realization()
        A_f, B_f, C_f, D_f = self.coupling.realization()
        q = A_f.shape[0]
        d_f = float(D_f[0])
        L = sp.csr_matrix(self.laplacian)
        # Ground the coupling on the last node: L y = L_c (R y), R = [I, -1].
        # For f = 1/s the coupling states are the angle differences to node n-1,
        # which removes the Laplacian's zero mode exactly.
        if q and n > 1 and grounded:
            L_c = L[:, : n - 1]
            R = sp.hstack([sp.identity(n - 1), -sp.csr_matrix(np.ones((n - 1, 1)))]).tocsr()
            A_z = sp.kron(A_f, sp.identity(n - 1)).tocsr()
            B_z = sp.kron(B_f, sp.identity(n - 1)).tocsr() @ R
            C_z = L_c @ sp.kron(C_f, sp.identity(n - 1)).tocsr()       # p_e from z
        elif q and n > 1:
            A_z = sp.kron(A_f, sp.identity(n)).tocsr()
            B_z = sp.kron(B_f, sp.identity(n)).tocsr()
            C_z = L @ sp.kron(C_f, sp.identity(n)).tocsr()
        else:
            A_z = sp.csr_matrix((0, 0))
            B_z = sp.csr_matrix((0, n))
            C_z = sp.csr_matrix((n, 0))
        K = d_f * L                                                     # p_e = C_z z + K y
        Dg = sp.diags(D_g)
        N, Z = A_g.shape[0], A_z.shape[0]
        if d_f != 0 and np.any(D_g != 0):
            M = (sp.identity(n) + Dg @ K).toarray()
            Minv = sp.csr_matrix(la.inv(M))
        else:
            Minv = sp.identity(n, format="csr")
        # y = Minv (C_g x - Dg C_z z + Dg u)
        Cy = Minv @ sp.hstack([C_g, -(Dg @ C_z)])
        Dy = Minv @ Dg
        # v = u - C_z z - K y
        Cv = sp.hstack([sp.csr_matrix((n, N)), -C_z]) - K @ Cy
        Dv = sp.identity(n) - K @ Dy
        top = B_g @ Cv + sp.hstack([A_g, sp.csr_matrix((N, Z))])
        bottom = sp.hstack([sp.csr_matrix((Z, N)), A_z]) + B_z @ Cy
        A = sp.vstack([top, bottom]).tocsr()
        B = sp.vstack([B_g @ Dv, B_z @ Dy]).tocsr()
        C = sp.csr_matrix(Cy)
        D = sp.csr_matrix(Dy)
        for mat in (A, B, C, D):
            mat.eliminate_zeros()
        return Realization(A, B, C, D)

    def realization(self) -> Realization:
        """Sparse state-space realisation ``(A, B, C, D)`` from nodal inputs to nodal outputs.

        States are the nodal states followed by the coupling states. The coupling is
        grounded on the last node (angle differences for ``f = 1/s``), so the
        Laplacian's zero mode is removed exactly and, for stable nodes and a connected
        graph, ``A`` is Hurwitz.

        Examples
        --------
        >>> import netcoh as nc
        >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
        ...                                       nodal=nc.nodal.swing(1, 1, n=3))
        >>> sys.realization().A.shape     # 3 frequencies + 2 angle differences
        (5, 5)
        """
        return self._realization

    def to_statespace(self):
        """The network as a python-control :class:`control.StateSpace` (dense matrices).

        Examples
        --------
        >>> import netcoh as nc
        >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
        ...                                       nodal=nc.nodal.swing(1, 1, n=3))
        >>> ss = sys.to_statespace()
        >>> ss.nstates, ss.ninputs, ss.noutputs
        (5, 3, 3)
        """
        import control

        A, B, C, D = self.realization()
        return control.ss(A.toarray(), B.toarray(), C.toarray(), D.toarray(),
                          inputs=[f"u[{x}]" for x in self.labels],
                          outputs=[f"y[{x}]" for x in self.labels])

    def system_matrix(self, s: complex):
        """``diag(1/g_i(s)) + f(s) L`` at one complex point (sparse if ``L`` is).

        Its inverse is the transfer matrix from nodal power injections to node outputs.

        Parameters
        ----------
        s : complex
            Laplace variable, e.g. ``1j * omega`` with ``omega`` in rad/s.

        Returns
        -------
        ndarray or scipy.sparse.csc_matrix of complex, shape (n, n)
            ``diag(1/g_i(s)) + f(s) L`` at ``s``.

        Examples
        --------
        >>> import netcoh as nc
        >>> sys = nc.NetworkSystem.from_laplacian([[1, -1], [-1, 1]], nodal=nc.nodal.swing(1, 1, n=2))
        >>> sys.system_matrix(1j).tolist()
        [[(1+0j), 1j], [1j, (1+0j)]]
        """
        ginv = self.nodal.inverse(np.array([s]))[0]
        fval = complex(self.coupling(np.array([s]))[0, 0])
        if self.is_sparse:
            return (sp.diags(ginv) + fval * self.laplacian).tocsc()
        return np.diag(ginv) + fval * self.laplacian

    def solver(self, s: complex):
        """Factorise ``diag(1/g(s)) + f(s) L`` once; return ``solve(B) -> X``.

        Parameters
        ----------
        s : complex
            Laplace variable, e.g. ``1j * omega`` with ``omega`` in rad/s.

        Returns
        -------
        callable
            ``solve(B)`` returns ``X`` with ``(diag(1/g(s)) + f(s) L) X = B`` for ``B`` of
            shape ``(n,)`` or ``(n, r)`` (dense LU, or sparse LU when ``L`` is sparse).

        Examples
        --------
        >>> import numpy as np, netcoh as nc
        >>> sys = nc.NetworkSystem.from_laplacian([[1, -1], [-1, 1]], nodal=nc.nodal.swing(1, 1, n=2))
        >>> x = sys.solver(1j)(np.array([1.0, 0.0]))
        >>> bool(np.allclose(sys.system_matrix(1j) @ x, [1.0, 0.0]))
        True
        """
        M = self.system_matrix(s)
        if sp.issparse(M):
            return sparse_lu(M).solve
        lu = la.lu_factor(M, check_finite=False)
        return lambda b: la.lu_solve(lu, b, check_finite=False)

    def __repr__(self) -> str:
        kind = "sparse" if self.is_sparse else "dense"
        return (f"NetworkSystem(n={self.n}, nodal={self.nodal.kind!r}, "
                f"coupling={self.coupling.kind!r}, laplacian={kind})")


def reduced_system(L, nodal, labels, rtol: float = 1e-9, f_hz: float | None = None) -> NetworkSystem:
    """System of a Kron-reduced grid, whose Laplacian may couple some machines negatively.

    Negative-reactance (series-compensated) branches can leave a reduced Laplacian with
    positive off-diagonal entries. The linear model stays valid while ``L`` is positive
    semidefinite, so such a matrix is admitted as a signed Laplacian; one that is not
    is an unstable grid and raises :class:`~netcoh.exceptions.UnstableError`.

    Parameters
    ----------
    L : ndarray (n, n)
        Reduced Laplacian (symmetric, zero row sums).
    nodal : NodalDynamics
        The machines.
    labels : sequence of str
        Machine ids.
    rtol : float
        Off-diagonal entries above ``rtol`` times the largest entry count as positive.
    f_hz : float, optional
        Nominal frequency carried by the system.

    Returns
    -------
    NetworkSystem

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.network.system import reduced_system
    >>> L = np.array([[2.0, -2.5, 0.5], [-2.5, 5.0, -2.5], [0.5, -2.5, 2.0]])  # 0-2 negative
    >>> reduced_system(L, nc.nodal.swing(1.0, 1.0, n=3), ["a", "b", "c"]).signed
    True
    """
    L = np.asarray(L, dtype=float)
    off = L - np.diag(np.diag(L))
    signed = bool(off.size and np.any(off > rtol * np.abs(L).max()))
    if not signed:
        return NetworkSystem.from_laplacian(L, nodal=nodal, labels=labels, f_hz=f_hz)
    try:
        return NetworkSystem.from_laplacian(L, nodal=nodal, labels=labels, signed=True, f_hz=f_hz)
    except InputError as exc:
        if "positive semidefinite" not in str(exc):
            raise
        low = float(np.linalg.eigvalsh(L)[0])
        raise UnstableError(
            f"the reduced network couples machines negatively (negative-reactance branches) and "
            f"has a negative eigenvalue {low:.6g}: the linearised grid is unstable") from None


def _check_system(system, name: str = "system") -> NetworkSystem:
    if not isinstance(system, NetworkSystem):
        raise NetcohTypeError(f"`{name}` must be a NetworkSystem, got {type(system).__name__}")
    return system


def _row_groups(c: np.ndarray):
    """Yield ``(rows, coef)``: rows of ``c`` grouped by degree, leading zeros (to 1e-14 of
    each row's largest entry) removed, so that ``coef[:, 0] != 0``; all-zero rows are skipped."""
    big = np.abs(c) > 1e-14 * np.abs(c).max(axis=1, keepdims=True)
    has = big.any(axis=1)
    lead = np.where(has, big.argmax(axis=1), -1)
    for ld in np.unique(lead[has]):
        rows = np.flatnonzero(lead == ld)
        yield rows, c[rows, ld:]


def _roots(c: np.ndarray) -> np.ndarray:
    """Roots of every row of ``c`` (``c[:, 0] != 0``), shape ``(k, degree)``."""
    k, d = c.shape[0], c.shape[1] - 1
    if d == 0:
        return np.zeros((k, 0), dtype=complex)
    comp = np.zeros((k, d, d))
    comp[:, 0, :] = -c[:, 1:] / c[:, :1]
    comp[:, np.arange(1, d), np.arange(d - 1)] = 1.0
    return np.linalg.eigvals(comp)


#: coefficient rows ``(num_i, den_i)`` that passed the test of _strictly_passive_nodes
_PASSIVE_ROWS: set = set()
_PASSIVE_LOCK = threading.Lock()


def _strictly_passive_nodes(nodal: NodalDynamics) -> bool:
    """Whether every ``1/g_i`` is analytic with positive real part on the closed right half-plane.

    Sufficient, per node: the zeros of ``num_i`` in the open left half-plane,
    ``q_i(w^2) = Re(den_i(jw) conj(num_i(jw))) > 0`` for every finite ``w``, and ``1/g_i`` of
    relative degree at most one with a positive leading coefficient (the harmonic minimum
    principle then extends the positivity into the open half-plane). Every condition is
    one node's, so the nodes that passed are remembered (a contingency screen tests the
    same machines, or a subset of them after a trip, over and over).
    """
    both = np.ascontiguousarray(np.hstack([nodal.num, nodal.den]), dtype=float)
    keys = {row.tobytes() for row in both}
    if keys <= _PASSIVE_ROWS:
        return True
    ok = _passive_test(nodal)
    if ok:
        with _PASSIVE_LOCK:                   # screening threads share the set
            if len(_PASSIVE_ROWS) > 100_000:
                _PASSIVE_ROWS.clear()
            _PASSIVE_ROWS.update(keys)
    return ok


def _passive_test(nodal: NodalDynamics) -> bool:
    p = nodal.num.shape[1]
    both = np.unique(np.hstack([nodal.num, nodal.den]), axis=0)
    num, den = both[:, :p], both[:, p:]
    nz_n, nz_d = num != 0, den != 0
    if not (nz_n.any(axis=1).all() and nz_d.any(axis=1).all()):
        return False
    deg_n = p - 1 - nz_n.argmax(axis=1)
    deg_d = p - 1 - nz_d.argmax(axis=1)
    rows = np.arange(num.shape[0])
    rel = deg_d - deg_n
    ratio = den[rows, p - 1 - deg_d] / num[rows, p - 1 - deg_n]
    if np.any(rel > 1) or np.any((rel == 1) & (ratio <= 0)):
        return False
    for _, c in _row_groups(num):
        if c.shape[1] > 1 and np.max(_roots(c).real) >= 0:
            return False
    # coefficients in w of den(jw) conj(num(jw)); the real part is even in w
    jpow = 1j ** np.arange(p - 1, -1, -1)
    jd, jn = den * jpow, np.conj(num * jpow)
    prod = np.zeros((num.shape[0], 2 * p - 1), dtype=complex)
    for i in range(p):
        prod[:, i:i + p] += jd[:, i:i + 1] * jn
    q = np.real(prod[:, ::2])                  # coefficients of x = w^2, highest first
    if np.any(q[:, -1] <= 1e-14 * np.abs(q).max(axis=1)):
        return False                           # q(0) must be positive
    for _, c in _row_groups(q):
        if c.shape[1] == 1:
            continue
        if np.any(c[:, 0] < 0):                # negative for large w
            return False
        r = _roots(c)
        if np.any((r.real > 0) & (np.abs(r.imag) <= 1e-6 * np.abs(r))):
            return False
    return True


def check_stable(system: NetworkSystem, *, strict: bool = True, dense_limit: int = 4000,
                 eigenvalues=None) -> None:
    """Raise :class:`~netcoh.exceptions.UnstableError` unless the network is stable.

    Two tests, the first that applies decides:

    1. a passivity certificate (no eigenvalues, cheap for any size): every node's
       ``1/g_i`` is analytic with positive real part on the closed right half-plane
       (swing, swing-turbine and inverter nodes with positive damping), the coupling is
       ``c/s`` or a positive constant and ``L`` is positive semidefinite, so
       ``diag(1/g_i(s)) + f(s) L`` is non-singular there and the grounded realisation is
       asymptotically stable;
    2. otherwise the eigenvalues of the grounded realisation's state matrix (dense, up to
       ``dense_limit`` states), or ``eigenvalues`` when the caller has them already.

    Parameters
    ----------
    system : NetworkSystem
        The network to test.
    strict : bool, default True
        Require asymptotic stability (every eigenvalue with negative real part). With
        ``False`` marginal modes (eigenvalues on the imaginary axis, such as the consensus
        mode of integrating nodes under a static coupling) are admitted and only growing
        modes raise: eigenvalues whose real part exceeds ``1e-9`` times the largest
        eigenvalue magnitude.
    dense_limit : int, default 4000
        Largest state dimension for the eigenvalue test; a larger network that the
        certificate does not cover raises :class:`~netcoh.exceptions.InputError`.
    eigenvalues : array_like of complex, optional
        The state matrix's eigenvalues, if already computed (one of each conjugate pair
        is enough); then no eigenvalue problem is solved and ``dense_limit`` is not used.

    Returns
    -------
    None
        Returns only when the network is stable.

    Raises
    ------
    UnstableError
        The network has an eigenvalue in the right half-plane (or on the axis when
        ``strict``).

    Examples
    --------
    >>> import netcoh as nc
    >>> from netcoh.network.system import check_stable
    >>> L = 10 * nc.laplacian.complete(3)
    >>> check_stable(nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(1.0, 0.5, n=3)))
    >>> lag3 = nc.nodal.from_tf(num=[[1.0]] * 3, den=[[1.0, 3.0, 3.0, 1.0]] * 3)  # 1/(s+1)^3
    >>> try:
    ...     check_stable(nc.NetworkSystem.from_laplacian(L, nodal=lag3))
    ... except nc.UnstableError:
    ...     print("unstable")
    unstable
    """
    if (system.coupling.kind in ("integrator", "static")
            and _strictly_passive_nodes(system.nodal)):
        return
    if eigenvalues is not None:
        mu = np.asarray(eigenvalues, dtype=complex).ravel()
        if mu.size:
            _raise_unstable(mu, strict)
        return
    A = system.realization().A
    if A.shape[0] == 0:
        return
    if A.shape[0] > dense_limit:
        raise InputError(
            f"the stability of this network ({A.shape[0]} states, nodes that are not strictly "
            f"passive) needs a dense eigenvalue computation above `dense_limit` = {dense_limit}")
    mu = la.eigvals(A.toarray(), overwrite_a=True, check_finite=False)
    _raise_unstable(mu, strict)


def _raise_unstable(mu: np.ndarray, strict: bool) -> None:
    top = float(mu.real.max())
    tol = 0.0 if strict else 1e-9 * float(np.abs(mu).max())
    if top > tol or (strict and top >= 0):
        kind = "not asymptotically stable" if top <= 1e-9 * float(np.abs(mu).max()) \
            else "unstable"
        i = int(np.argmax(mu.real))
        raise UnstableError(
            f"the network is {kind}: its state matrix has the eigenvalue {mu[i]:.6g} "
            f"(real part {top:.3g} {'>=' if strict else '>'} 0), so its response grows")
