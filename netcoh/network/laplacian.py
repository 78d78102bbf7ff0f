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

import math
import numbers

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._validation import (
    _show,
    as_bool,
    as_edge_array,
    as_float_array,
    as_index_array,
    as_int,
    as_laplacian,
    as_nonnegative,
    as_optional_bool,
    as_positive,
    as_real,
    as_rng,
)
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
    sparse = as_optional_bool(sparse, "sparse")
    if sp.issparse(A):
        if np.iscomplexobj(A.data if hasattr(A, "data") else A):
            raise InputError("`A` must be real, got a complex sparse matrix")
        A = sp.csr_matrix(A, dtype=float)
        _check_weights(A.data, A.shape)
        if A.nnz and abs(A - A.T).max() > 1e-12 * abs(A).max():
            raise InputError(f"`A` must be symmetric, got max |A - A^T| = "
                             f"{float(abs(A - A.T).max()):.3g}")
        A = A - sp.diags(A.diagonal())
        L = sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A
        return L.tocsr() if sparse in (None, True) else L.toarray()
    A = as_float_array(A, "A", ndim=2)
    _check_weights(A, A.shape)
    if not np.allclose(A, A.T, rtol=1e-12, atol=0.0):
        raise InputError(f"`A` must be symmetric, got max |A - A^T| = {np.abs(A - A.T).max():.3g}")
    A = A - np.diag(np.diag(A))
    L = np.diag(A.sum(axis=1)) - A
    return sp.csr_matrix(L) if sparse else L


def _check_weights(data, shape) -> None:
    if len(shape) != 2 or shape[0] != shape[1]:
        raise InputError(f"`A` must be square, got shape {shape}")
    if shape[0] < 1:
        raise InputError(f"`A` must have at least one node, got shape {shape}")
    data = np.asarray(data)
    if data.size and not np.all(np.isfinite(data)):
        raise InputError(f"`A` must be finite, got {data[~np.isfinite(data)].flat[0]}")
    if data.size and data.min() < 0:
        raise InputError(f"`A` must have non-negative weights, got {data.min():.6g}")


def from_edges(n: int, edges, weights=None, *, sparse: bool = False):
    """Laplacian of an undirected weighted graph given as an edge list.

    Parameters
    ----------
    n : int
        Number of nodes; edges refer to nodes ``0..n-1``.
    edges : array_like of int, shape (m, 2)
        Node pairs; self-loops are refused (they have no place in a Laplacian).
    weights : array_like, shape (m,), optional
        Non-negative edge weights (default 1). Parallel edges add up.
    sparse : bool
        Return ``scipy.sparse.csr_matrix`` instead of a dense array.

    Returns
    -------
    ndarray or scipy.sparse.csr_matrix, shape (n, n)
        The weighted Laplacian of the graph (sparse when ``sparse`` is true).

    Examples
    --------
    >>> from_edges(2, [(0, 1)], [3.0]).tolist()
    [[3.0, -3.0], [-3.0, 3.0]]
    """
    n = as_int(n, "n", minimum=1)
    sparse = as_bool(sparse, "sparse")
    E = as_edge_array(edges, "edges", n)
    w = np.ones(len(E)) if weights is None else as_nonnegative(weights, "weights", ndim=1)
    if w.size != len(E):
        raise InputError(f"`weights` must have one entry per edge ({len(E)}), got {w.size}")
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
        Edge attribute holding the (non-negative, finite) weight; ``None`` gives unit
        weights. A graph where no edge has the default ``"weight"`` attribute is taken as
        unweighted; an edge without the attribute while others have it is refused.
    nodelist : sequence, optional
        Node order of the rows (every node of ``G`` once); defaults to ``list(G.nodes)``.
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
    if G.number_of_nodes() == 0:
        raise InputError("`G` must have at least one node, got an empty graph")
    if weight is not None and not isinstance(weight, str):
        raise NetcohTypeError(f"`weight` must be an edge attribute name or None, got {_show(weight)}")
    sparse = as_bool(sparse, "sparse")
    if nodelist is None:
        nodes = list(G.nodes)
    else:
        if isinstance(nodelist, (str, bytes)) or not hasattr(nodelist, "__iter__"):
            raise NetcohTypeError(f"`nodelist` must be a sequence of the nodes of `G`, got "
                                  f"{_show(nodelist)}")
        nodes = list(nodelist)
        if len(nodes) != len(set(nodes)) or set(nodes) != set(G.nodes):
            extra = [v for v in nodes if v not in G]
            missing = [v for v in G.nodes if v not in set(nodes)]
            why = (f"unknown node {extra[0]!r}" if extra else f"node {missing[0]!r} missing"
                   if missing else "a repeated node")
            raise InputError(f"`nodelist` must list every node of `G` once, got {why}")
    if weight is not None:
        have = [d[weight] for _, _, d in G.edges(data=True) if weight in d]
        if G.number_of_edges() and not have and weight != "weight":
            raise InputError(f"`weight` must name an edge attribute of `G`, got {weight!r} "
                             "(no edge has it)")
        if have and len(have) < G.number_of_edges():
            u, v = next((u, v) for u, v, d in G.edges(data=True) if weight not in d)
            raise InputError(f"edge ({u!r}, {v!r}) of `G` must have a `{weight}` attribute like "
                             f"the other edges, got none (pass weight=None for unit weights)")
        for u, v, d in G.edges(data=True):
            if weight in d:
                w = d[weight]
                if (isinstance(w, (bool, np.bool_)) or not isinstance(w, numbers.Real)
                        or not math.isfinite(w) or w < 0):
                    raise InputError(f"edge ({u!r}, {v!r}) of `G`: attribute `{weight}` must be "
                                     f"a finite non-negative number, got {_show(w)}")
    A = nx.to_scipy_sparse_array(G, nodelist=nodes, weight=weight, format="csr")
    A = sp.csr_matrix(A, dtype=float)
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
    E = as_edge_array(edges, "edges", n)
    b = as_float_array(b, "b", ndim=1)
    if b.size != len(E):
        raise InputError(f"`b` must have one entry per edge ({len(E)}), got {b.size}")
    b = as_positive(b, "b", ndim=1)      # a negative b with angles pi apart would pass below
    v = np.ones(n) if v_mag is None else as_positive(v_mag, "v_mag", ndim=1)
    th = np.zeros(n) if theta_rad is None else as_float_array(theta_rad, "theta_rad", ndim=1)
    if v.size != n:
        raise InputError(f"`v_mag` must have length {n} (one per bus), got {v.size}")
    if th.size != n:
        raise InputError(f"`theta_rad` must have length {n} (one per bus), got {th.size}")
    w = v[E[:, 0]] * v[E[:, 1]] * b * np.cos(th[E[:, 0]] - th[E[:, 1]])
    if np.any(w < 0):
        k = int(np.flatnonzero(w < 0)[0])
        raise InputError(
            f"`b` and the angles must give non-negative angle sensitivities, got {w[k]:.4g} "
            f"for branch {k} {E[k].tolist()} (angle difference beyond 90 degrees or negative "
            "susceptance)")
    return from_edges(n, E, w, sparse=sparse)


def kron_reduce(L, keep):
    """Kron reduction (Schur complement) of ``L`` onto the nodes ``keep``.

    ``L_red = L_kk - L_ke L_ee^{-1} L_ek`` where ``e`` are the eliminated nodes. The
    result is dense (Kron reduction fills in); sparse input is factorised sparsely.

    Parameters
    ----------
    L : ndarray or sparse matrix, shape (n, n)
        A weighted Laplacian (checked; it need not be connected).
    keep : array_like of int or bool mask
        Nodes kept, in the order given (at least one, none repeated).

    Returns
    -------
    ndarray, shape (len(keep), len(keep))
        The reduced Laplacian (dense).

    Examples
    --------
    >>> import numpy as np
    >>> L = from_edges(3, [(0, 1), (1, 2)])
    >>> kron_reduce(L, [0, 2]).tolist()
    [[0.5, -0.5], [-0.5, 0.5]]
    """
    L = as_laplacian(L, "L", connected=False)
    n = L.shape[0]
    keep = as_index_array(keep, "keep", n, unique=True)
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
                "`keep` must include a node of every connected component, got a component with "
                "no kept node (singular L_ee)") from exc
        X = lu.solve(Lke.T.toarray())
        red = Lkk - Lke @ X
    else:
        L = np.asarray(L, dtype=float)
        Lee = L[np.ix_(elim, elim)]
        try:
            X = la.solve(Lee, L[np.ix_(elim, keep)], assume_a="sym")
        except la.LinAlgError as exc:
            raise InputError(
                "`keep` must include a node of every connected component, got a component with "
                "no kept node (singular L_ee)") from exc
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
    weight = as_real(weight, "weight", low=0.0, low_open=True)
    i = np.arange(n)
    edges = np.concatenate([np.column_stack([i, (i + j) % n]) for j in range(1, k + 1)])
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    return from_edges(n, edges, np.full(len(edges), weight), sparse=sparse)


def complete(n: int, weight: float = 1.0):
    """Complete graph on ``n`` nodes with equal weights (``lambda_2 = n * weight``).

    Parameters
    ----------
    n : int
        Number of nodes (at least 1).
    weight : float, default 1.0
        Weight of every edge (positive, finite).

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
    w = as_real(weight, "weight", low=0.0, low_open=True)
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
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise NetcohTypeError(f"`sizes` must be a sequence of block sizes, got {_show(sizes)}")
    sizes = np.array([as_int(x, "sizes", minimum=1) for x in sizes], dtype=int)
    if sizes.size == 0:
        raise InputError("`sizes` must hold at least one block size, got none")
    k = sizes.size
    Q = as_float_array(Q, "Q", ndim=2)
    W = as_nonnegative(W, "W", ndim=2)
    if Q.shape != (k, k):
        raise InputError(f"`Q` must have shape ({k}, {k}) (one row per block), got {Q.shape}")
    if W.shape != (k, k):
        raise InputError(f"`W` must have shape ({k}, {k}) (one row per block), got {W.shape}")
    if np.any((Q < 0) | (Q > 1)):
        raise InputError(f"`Q` must hold probabilities in [0, 1], got {Q[(Q < 0) | (Q > 1)][0]:g}")
    if not np.allclose(Q, Q.T):
        raise InputError(f"`Q` must be symmetric, got max |Q - Q^T| = {np.abs(Q - Q.T).max():.3g}")
    if not np.allclose(W, W.T):
        raise InputError(f"`W` must be symmetric, got max |W - W^T| = {np.abs(W - W.T).max():.3g}")
    rng = as_rng(rng, "rng")
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
