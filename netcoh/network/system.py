"""The network model: nodal dynamics coupled through a weighted Laplacian.

``y = T(s) u`` with ``T(s) = (diag(1/g_i(s)) + f(s) L)^{-1}``: every node ``i`` has
dynamics ``g_i(s)`` from its net power input to its output (frequency), and the
network returns ``f(s) L y`` (for grids ``f(s) = 1/s``: line flows integrate angle
differences).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._validation import as_laplacian
from ..exceptions import InputError, NetcohTypeError, UnstableError
from . import laplacian as _lap
from .nodal import NodalDynamics, as_nodal, integrator

__all__ = ["NetworkSystem", "Realization", "sparse_lu", "reduced_system"]


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

    def __post_init__(self):
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
            raise InputError("`labels` must be unique")
        object.__setattr__(self, "labels", labels)

    def __reduce__(self):
        # pickle the defining fields only (caches are rebuilt), e.g. to ship to Dask workers
        return (type(self), (self.laplacian, self.nodal, self.coupling, self.labels, self.signed))

    # -- factories ----------------------------------------------------------------
    @classmethod
    def from_laplacian(cls, L, *, nodal, coupling=None, labels=None,
                       signed: bool = False) -> NetworkSystem:
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

        Examples
        --------
        >>> import netcoh as nc
        >>> nc.NetworkSystem.from_laplacian([[1, -1], [-1, 1]], nodal=nc.nodal.swing(1, 1, n=2)).n
        2
        """
        n = L.shape[0] if hasattr(L, "shape") else len(L)
        return cls(laplacian=L, nodal=as_nodal(nodal, n),
                   coupling=integrator() if coupling is None else coupling,
                   labels=tuple(labels) if labels is not None else (), signed=signed)

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
        n = self.n
        A_g, B_g, C_g, D_g = self.nodal.realization()
        A_f, B_f, C_f, D_f = self.coupling.realization()
        q = A_f.shape[0]
        d_f = float(D_f[0])
        L = sp.csr_matrix(self.laplacian)
        # Ground the coupling on the last node: L y = L_c (R y), R = [I, -1].
        # For f = 1/s the coupling states are the angle differences to node n-1,
        # which removes the Laplacian's zero mode exactly.
        if q and n > 1:
            L_c = L[:, : n - 1]
            R = sp.hstack([sp.identity(n - 1), -sp.csr_matrix(np.ones((n - 1, 1)))]).tocsr()
            A_z = sp.kron(A_f, sp.identity(n - 1)).tocsr()
            B_z = sp.kron(B_f, sp.identity(n - 1)).tocsr() @ R
            C_z = L_c @ sp.kron(C_f, sp.identity(n - 1)).tocsr()       # p_e from z
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


def reduced_system(L, nodal, labels, rtol: float = 1e-9) -> NetworkSystem:
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
        return NetworkSystem.from_laplacian(L, nodal=nodal, labels=labels)
    try:
        return NetworkSystem.from_laplacian(L, nodal=nodal, labels=labels, signed=True)
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
