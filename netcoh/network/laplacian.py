"""Weighted graph Laplacians: construction, Kron reduction and the papers' graph generators.

A Laplacian here is real, symmetric, with non-positive off-diagonal entries and zero
row sums: ``L = diag(A 1) - A`` for a symmetric non-negative weight matrix ``A``.
Node order is always explicit (the order of rows).

Examples
--------
>>> import numpy as np
>>> L = from_edges(3, [(0, 1), (1, 2)], weights=[2.0, 1.0])
>>> L.tolist()
[[2.0, -2.0, 0.0], [-2.0, 3.0, -1.0], [0.0, -1.0, 1.0]]
>>> kron_reduce(L, [0, 2]).round(6).tolist()
[[0.666667, -0.666667], [-0.666667, 0.666667]]
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._validation import as_float_array, as_int, as_laplacian, as_nonnegative
from ..exceptions import InputError, NetcohTypeError

__all__ = [
    "from_edges",
    "from_adjacency",
    "from_graph",
    "from_power_flow",
    "kron_reduce",
    "ring_lattice",
    "complete",
    "weighted_sbm",
    "algebraic_connectivity",
]


def from_adjacency(A, *, sparse: bool | None = None):
    """Laplacian ``diag(A 1) - A`` of a symmetric non-negative weight matrix.

    Parameters
    ----------
    A : array_like or scipy.sparse matrix, shape (n, n)
        Edge weights ``A_ij = A_ji >= 0``; the diagonal (self-loops) is ignored.
    sparse : bool, optional
        Output format: ``True`` CSR, ``False`` dense ndarray. By default the format
        follows the input (sparse in, sparse out).

    Returns
    -------
    ndarray or scipy.sparse.csr_matrix, shape (n, n)
        The Laplacian ``diag(A 1) - A``.

    Examples
    --------
    >>> from_adjacency([[0, 1], [1, 0]]).tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    if sp.issparse(A):
        A = sp.csr_matrix(A, dtype=float)
        A = A - sp.diags(A.diagonal())
        L = sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A
        return L.tocsr() if sparse in (None, True) else L.toarray()
    A = as_float_array(A, "A", ndim=2)
    if A.shape[0] != A.shape[1]:
        raise InputError(f"`A` must be square, got shape {A.shape}")
    if np.any(A < 0):
        raise InputError(f"`A` must have non-negative weights, got min {A.min():.6g}")
    A = A - np.diag(np.diag(A))
    L = np.diag(A.sum(axis=1)) - A
    return sp.csr_matrix(L) if sparse else L


def from_edges(n: int, edges, weights=None, *, sparse: bool = False):
    """Laplacian of an undirected weighted graph given as an edge list.

    Parameters
    ----------
    n : int
        Number of nodes; edges refer to nodes ``0..n-1``.
    edges : array_like of int, shape (m, 2)
    weights : array_like, shape (m,), optional
        Non-negative edge weights (default 1). Parallel edges add up.
    sparse : bool
        Return ``scipy.sparse.csr_matrix`` instead of a dense array.

    Examples
    --------
    >>> from_edges(2, [(0, 1)], [3.0]).tolist()
    [[3.0, -3.0], [-3.0, 3.0]]
    """
    n = as_int(n, "n", minimum=1)
    E = np.asarray(edges, dtype=int).reshape(-1, 2)
    if E.size and (E.min() < 0 or E.max() >= n):
        bad = int(np.flatnonzero((E < 0).any(axis=1) | (E >= n).any(axis=1))[0])
        raise InputError(f"`edges[{bad}]` must refer to nodes 0..{n - 1}, got {E[bad].tolist()}")
    w = np.ones(len(E)) if weights is None else as_nonnegative(weights, "weights", ndim=1)
    if w.size != len(E):
        raise InputError(f"`weights` must have one entry per edge ({len(E)}), got {w.size}")
    keep = E[:, 0] != E[:, 1]
    E, w = E[keep], w[keep]
    A = sp.coo_matrix((np.concatenate([w, w]), (np.concatenate([E[:, 0], E[:, 1]]),
                                                np.concatenate([E[:, 1], E[:, 0]]))),
                      shape=(n, n)).tocsr()
    L = (sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A).tocsr()
    return L if sparse else L.toarray()


def from_graph(G, *, weight: str | None = "weight", nodelist=None, sparse: bool = False):
    """Laplacian of a networkx graph (node order ``nodelist`` or ``G.nodes``).

    Parameters
    ----------
    G : networkx.Graph
        Undirected graph; parallel edges of a multigraph add up.
    weight : str or None, default "weight"
        Edge attribute holding the (non-negative) weight; ``None`` gives unit weights,
        and edges without the attribute weigh 1.
    nodelist : sequence, optional
        Node order of the rows; defaults to ``list(G.nodes)``.
    sparse : bool, default False
        Return a CSR matrix instead of a dense array.

    Returns
    -------
    L : ndarray or scipy.sparse.csr_matrix, shape (n, n)
        The weighted Laplacian.
    nodes : list
        The node labels in row order.

    Examples
    --------
    >>> import networkx as nx
    >>> L, nodes = from_graph(nx.path_graph(3))
    >>> L.diagonal().tolist(), nodes
    ([1.0, 2.0, 1.0], [0, 1, 2])
    """
    try:
        import networkx as nx
    except ImportError as exc:  # pragma: no cover
        raise NetcohTypeError("`G` needs networkx") from exc
    if not isinstance(G, nx.Graph):
        raise NetcohTypeError(f"`G` must be a networkx graph, got {type(G).__name__}")
    if G.is_directed():
        raise InputError("`G` must be undirected (a Laplacian here is symmetric), got a directed graph")
    nodes = list(G.nodes) if nodelist is None else list(nodelist)
    A = nx.to_scipy_sparse_array(G, nodelist=nodes, weight=weight, format="csr")
    A = sp.csr_matrix(A, dtype=float)
    if A.nnz and A.data.min() < 0:
        raise InputError(f"edge attribute `{weight}` must be non-negative, got {A.data.min():.6g}")
    L = from_adjacency(A, sparse=True)
    return (L if sparse else L.toarray()), nodes


def from_power_flow(n: int, edges, b, v_mag=None, theta_rad=None, *, sparse: bool = True):
    """Laplacian of power-angle sensitivities at an operating point.

    ``L_ij = -|V_i||V_j| b_ij cos(theta_i - theta_j)`` for each branch ``(i, j)`` with
    susceptance ``b_ij`` (> 0, i.e. ``1/x``), and zero row sums. With ``v_mag`` and
    ``theta_rad`` omitted this is the DC approximation ``L_ij = -b_ij``.

    Parameters
    ----------
    n : int
        Number of buses.
    edges : array_like of int, shape (m, 2)
        Bus pairs ``(i, j)`` of the branches; parallel branches add up.
    b : array_like, shape (m,)
        Branch susceptances ``1/x`` in p.u. on the system base (positive).
    v_mag : array_like, shape (n,), optional
        Bus voltage magnitudes in p.u.; all 1 when omitted.
    theta_rad : array_like, shape (n,), optional
        Bus voltage angles in radians; all 0 when omitted.
    sparse : bool, default True
        Return a CSR matrix instead of a dense array.

    Returns
    -------
    ndarray or scipy.sparse.csr_matrix, shape (n, n)
        Synchronising-coefficient Laplacian in p.u. power per radian.

    Raises
    ------
    InputError
        If a branch has a negative sensitivity (angle difference beyond 90 degrees or
        negative susceptance).

    Examples
    --------
    >>> from_power_flow(2, [(0, 1)], [10.0], [1.0, 1.0], [0.0, 0.0], sparse=False).tolist()
    [[10.0, -10.0], [-10.0, 10.0]]
    """
    n = as_int(n, "n", minimum=1)
    E = np.asarray(edges, dtype=int).reshape(-1, 2)
    b = as_float_array(b, "b", ndim=1)
    v = np.ones(n) if v_mag is None else as_float_array(v_mag, "v_mag", ndim=1)
    th = np.zeros(n) if theta_rad is None else as_float_array(theta_rad, "theta_rad", ndim=1)
    if v.size != n or th.size != n:
        raise InputError(f"`v_mag` and `theta_rad` must have length {n}, got {v.size} and {th.size}")
    w = v[E[:, 0]] * v[E[:, 1]] * b * np.cos(th[E[:, 0]] - th[E[:, 1]])
    if np.any(w < 0):
        k = int(np.flatnonzero(w < 0)[0])
        raise InputError(
            f"branch {k} {E[k].tolist()} has a negative angle sensitivity {w[k]:.4g} "
            "(angle difference beyond 90 degrees or negative susceptance)")
    return from_edges(n, E, w, sparse=sparse)


def kron_reduce(L, keep):
    """Kron reduction (Schur complement) of ``L`` onto the nodes ``keep``.

    ``L_red = L_kk - L_ke L_ee^{-1} L_ek`` where ``e`` are the eliminated nodes. The
    result is dense (Kron reduction fills in); sparse input is factorised sparsely.

    Parameters
    ----------
    L : ndarray or sparse matrix, shape (n, n)
    keep : array_like of int or bool mask
        Nodes kept, in the order given.

    Examples
    --------
    >>> import numpy as np
    >>> L = from_edges(3, [(0, 1), (1, 2)])
    >>> kron_reduce(L, [0, 2]).tolist()
    [[0.5, -0.5], [-0.5, 0.5]]
    """
    n = L.shape[0]
    keep = np.arange(n)[np.asarray(keep)]
    if keep.size == 0:
        raise InputError("`keep` must select at least one node, got none")
    if np.unique(keep).size != keep.size:
        raise InputError("`keep` must not repeat nodes")
    elim = np.setdiff1d(np.arange(n), keep)
    if elim.size == 0:
        return (L.toarray() if sp.issparse(L) else np.array(L, dtype=float))[np.ix_(keep, keep)]
    if sp.issparse(L):
        L = sp.csr_matrix(L, dtype=float)
        Lkk = L[keep][:, keep].toarray()
        Lke = L[keep][:, elim]
        Lee = L[elim][:, elim].tocsc()
        try:
            lu = spla.splu(Lee)
        except RuntimeError as exc:
            raise InputError(
                "cannot Kron-reduce: the eliminated nodes include a component with no kept node "
                "(singular L_ee)") from exc
        X = lu.solve(Lke.T.toarray())
        red = Lkk - Lke @ X
    else:
        L = np.asarray(L, dtype=float)
        Lee = L[np.ix_(elim, elim)]
        try:
            X = la.solve(Lee, L[np.ix_(elim, keep)], assume_a="sym")
        except la.LinAlgError as exc:
            raise InputError(
                "cannot Kron-reduce: the eliminated nodes include a component with no kept node "
                "(singular L_ee)") from exc
        red = L[np.ix_(keep, keep)] - L[np.ix_(keep, elim)] @ X
    red = 0.5 * (red + red.T)
    # restore exact zero row sums lost to round-off
    red -= np.diag(red.sum(axis=1))
    return red


def ring_lattice(n: int, k: int, *, weight: float = 1.0, sparse: bool = False):
    """Ring lattice: each node linked to its ``k`` nearest neighbours on each side.

    Parameters
    ----------
    n : int
        Number of nodes (at least 2).
    k : int
        Neighbours per side, ``1 <= k <= (n - 1) // 2`` (degree ``2k``).
    weight : float, default 1.0
        Weight of every edge.
    sparse : bool, default False
        Return a CSR matrix instead of a dense array.

    Returns
    -------
    ndarray or scipy.sparse.csr_matrix, shape (n, n)
        The Laplacian of the ring lattice.

    Examples
    --------
    >>> ring_lattice(5, 1).diagonal().tolist()
    [2.0, 2.0, 2.0, 2.0, 2.0]
    """
    n = as_int(n, "n", minimum=2)
    k = as_int(k, "k", minimum=1, maximum=max(1, (n - 1) // 2) if n > 2 else 1)
    i = np.arange(n)
    edges = np.concatenate([np.column_stack([i, (i + j) % n]) for j in range(1, k + 1)])
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    return from_edges(n, edges, np.full(len(edges), float(weight)), sparse=sparse)


def complete(n: int, weight: float = 1.0):
    """Complete graph on ``n`` nodes with equal weights (``lambda_2 = n * weight``).

    Parameters
    ----------
    n : int
        Number of nodes (at least 1).
    weight : float, default 1.0
        Weight of every edge.

    Returns
    -------
    ndarray, shape (n, n)
        Dense Laplacian ``weight * (n I - 1 1^T)``.

    Examples
    --------
    >>> complete(3).tolist()
    [[2.0, -1.0, -1.0], [-1.0, 2.0, -1.0], [-1.0, -1.0, 2.0]]
    """
    n = as_int(n, "n", minimum=1)
    w = float(weight)
    return w * (n * np.eye(n) - np.ones((n, n)))


def weighted_sbm(sizes, Q, W, rng=None, *, sparse: bool = False):
    """Weighted stochastic block model.

    ``A_ij = W[a, b]`` with probability ``Q[a, b]`` (``a, b`` the blocks of ``i, j``),
    independently for ``i > j``; symmetric. Returns ``(L, labels)``.

    Parameters
    ----------
    sizes : sequence of int
        Block sizes.
    Q : array_like (k, k)
        Edge probabilities in [0, 1], symmetric.
    W : array_like (k, k)
        Edge weights, non-negative, symmetric.
    rng : numpy.random.Generator or int, optional
        Random generator or seed (``numpy.random.default_rng(rng)``).
    sparse : bool, default False
        Return ``L`` as a CSR matrix instead of a dense array.

    Returns
    -------
    L : ndarray or scipy.sparse.csr_matrix, shape (n, n)
        Laplacian of the sampled graph, ``n = sum(sizes)``.
    labels : ndarray of int, shape (n,)
        Block index of each node (nodes sorted by block).

    Examples
    --------
    >>> L, labels = weighted_sbm([3, 2], [[1, 0], [0, 1]], [[1, 1], [1, 1]], rng=0)
    >>> labels.tolist()
    [0, 0, 0, 1, 1]
    """
    sizes = np.asarray(sizes, dtype=int)
    if sizes.ndim != 1 or sizes.size == 0 or np.any(sizes < 1):
        raise InputError(f"`sizes` must be positive block sizes, got {sizes.tolist()}")
    k = sizes.size
    Q = as_float_array(Q, "Q", ndim=2)
    W = as_nonnegative(W, "W", ndim=2)
    if Q.shape != (k, k) or W.shape != (k, k):
        raise InputError(f"`Q` and `W` must be ({k}, {k}), got {Q.shape} and {W.shape}")
    if np.any((Q < 0) | (Q > 1)):
        raise InputError("`Q` must hold probabilities in [0, 1]")
    if not (np.allclose(Q, Q.T) and np.allclose(W, W.T)):
        raise InputError("`Q` and `W` must be symmetric")
    rng = np.random.default_rng(rng)
    labels = np.repeat(np.arange(k), sizes)
    n = labels.size
    iu, ju = np.triu_indices(n, 1)
    a, b = labels[iu], labels[ju]
    on = rng.random(iu.size) < Q[a, b]
    w = W[a, b][on]
    L = from_edges(n, np.column_stack([iu[on], ju[on]]), w, sparse=sparse)
    return L, labels


def algebraic_connectivity(L) -> float:
    """Second-smallest eigenvalue ``lambda_2`` of a Laplacian (sparse-aware).

    Parameters
    ----------
    L : array_like or scipy.sparse matrix, shape (n, n)
        Laplacian (checked: symmetric, zero row sums); it need not be connected, in
        which case the result is 0 up to round-off. Dense ``eigvalsh`` up to 400 nodes,
        shift-invert ``eigsh`` for larger sparse input.

    Returns
    -------
    float
        ``lambda_2`` (0 for a single node).

    Examples
    --------
    >>> round(algebraic_connectivity(complete(4)), 12)
    4.0
    """
    L = as_laplacian(L, connected=False)
    n = L.shape[0]
    if n == 1:
        return 0.0
    if not sp.issparse(L) or n <= 400:
        dense = L.toarray() if sp.issparse(L) else L
        return float(la.eigvalsh(dense, subset_by_index=[1, 1])[0])
    scale = float(abs(L).max())
    vals = spla.eigsh(L.tocsc(), k=2, sigma=-1e-6 * scale, which="LM",
                      return_eigenvectors=False)
    return float(np.sort(vals)[1])
