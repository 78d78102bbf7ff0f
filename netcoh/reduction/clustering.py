r"""Spectral clustering of network Laplacians into coherent areas.

Nodes that are tightly connected among themselves and weakly connected to the rest respond
coherently at low frequency. Min & Mallada (ACC 2023, arXiv:2209.13701; L4DC 2023,
arXiv:2211.15301) find such areas from the first eigenvectors of :math:`L`: two areas by the
sign of the Fiedler vector (spectral bisection), :math:`k` areas by k-means on the rows of
:math:`[v_2, \dots, v_k]`. With ``weighting="inertia"`` the eigenvectors are those of
:math:`M^{-1/2} L M^{-1/2}` mapped back by :math:`M^{-1/2}`, i.e. the slow modes of
:math:`M \ddot\theta = -L\theta` (slow coherency).

Large sparse Laplacians use shift-invert Lanczos at a small negative shift (so the factorised
matrix is non-singular even for disconnected graphs), with LOBPCG as a fallback; the computed
subspace is always refined by Rayleigh-Ritz with the exact null vector.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._util import readonly as _readonly
from .._validation import as_float_array, as_int, as_laplacian, as_positive, as_rng, components_of
from ..exceptions import DisconnectedError, InputError, NetcohWarning, SolverError
from ..network.system import NetworkSystem, sparse_lu
from ._kmeans import _canonical, _kmeans

__all__ = ["ClusteringResult", "spectral_clustering", "laplacian_eigs", "DENSE_LIMIT"]

#: Largest number of nodes for which a dense eigendecomposition is used.
DENSE_LIMIT = 1500




# --------------------------------------------------------------------------------------------
# eigenvectors
# --------------------------------------------------------------------------------------------

def _rayleigh_ritz(L, V, null):
    """Diagonalise ``L`` on ``span(null) + span(V)``, eigenvalues ascending.

    ``V`` (orthonormal columns) is projected onto the complement of the exact ``null``
    vector; directions that were (nearly) the null vector itself vanish and are dropped.
    """
    R = V - null[:, None] * (null @ V)[None, :]
    U, sv, _ = np.linalg.svd(R, full_matrices=False)
    B = U[:, sv > 0.5 * sv[0]]
    H = B.T @ (L @ B)
    H = 0.5 * (H + H.T)
    w, Z = la.eigh(H)
    Vout = np.column_stack([null, B @ Z])
    return np.concatenate([[0.0], np.clip(w, 0.0, None)]), Vout


def laplacian_eigs(L, k: int, *, inertia=None, random_state=0, solver: str = "auto"):
    r"""The ``k`` smallest eigenpairs of ``L`` (or of ``M^{-1/2} L M^{-1/2}``).

    Parameters
    ----------
    L : ndarray or scipy.sparse matrix
        Laplacian (not checked here; see :func:`spectral_clustering`).
    k : int
        Number of eigenpairs, ``1 <= k <= n``.
    inertia : array_like, optional
        Positive node weights ``m``; eigenpairs of ``M^{-1/2} L M^{-1/2}`` are returned.
    random_state : int or numpy.random.Generator
        Seeds the iterative solvers' start vectors.
    solver : {"auto", "dense", "shift-invert", "lobpcg"}

    Returns
    -------
    eigenvalues : ndarray (k,)
        Ascending; the first is exactly 0.
    eigenvectors : ndarray (n, k)
        Orthonormal; the first is the exact null vector (``1/sqrt(n)``, or
        ``sqrt(m)/||sqrt(m)||`` when weighted).
    solver : str
        The solver that produced them.

    Examples
    --------
    >>> import numpy as np
    >>> from netcoh.network import laplacian
    >>> w, V, how = laplacian_eigs(laplacian.complete(4), 2)
    >>> np.round(w, 12).tolist(), how
    ([0.0, 4.0], 'dense')
    """
    n = L.shape[0]
    k = as_int(k, "k", minimum=1, maximum=n)
    if solver not in ("auto", "dense", "shift-invert", "lobpcg"):
        raise InputError(
            f"`solver` must be 'auto', 'dense', 'shift-invert' or 'lobpcg', got {solver!r}")
    if inertia is not None:
        scale = 1.0 / np.sqrt(as_positive(inertia, "inertia", ndim=1))
        if scale.size != n:
            raise InputError(f"`inertia` must have {n} entries, got {scale.size}")
        null = 1.0 / scale
    else:
        scale = None
        null = np.ones(n)
    null = null / np.linalg.norm(null)
    if sp.issparse(L):
        Lw = sp.csr_matrix(L, dtype=float)
        if scale is not None:
            Lw = (sp.diags(scale) @ Lw @ sp.diags(scale)).tocsr()
    else:
        Lw = np.asarray(L, dtype=float)
        if scale is not None:
            Lw = scale[:, None] * Lw * scale[None, :]
    if solver == "auto":
        solver = "dense" if (n <= DENSE_LIMIT or k >= n // 3 or not sp.issparse(Lw)) \
            else "shift-invert"
    if solver == "dense" or k >= n - 1:
        dense = Lw.toarray() if sp.issparse(Lw) else Lw
        _, V = la.eigh(dense, subset_by_index=[0, k - 1])
        w, V = _rayleigh_ritz(dense, V, null)
        return w, V, "dense"
    rng = np.random.default_rng(random_state)
    Ls = sp.csc_matrix(Lw)
    diag = Ls.diagonal()
    shift = 1e-8 * max(float(diag.max()), np.finfo(float).tiny)
    # a few extra vectors help convergence and the Rayleigh-Ritz refinement
    kk = min(n - 2, k + max(2, k // 2))
    V = None
    if solver == "shift-invert":
        try:
            lu = sparse_lu(Ls + shift * sp.identity(n, format="csc"))
            op = spla.LinearOperator((n, n), matvec=lu.solve, dtype=float)
            _, V = spla.eigsh(Ls, k=kk, sigma=-shift, which="LM", OPinv=op,
                              v0=rng.standard_normal(n), tol=1e-8)
        except (spla.ArpackNoConvergence, spla.ArpackError, RuntimeError) as exc:
            warnings.warn(f"shift-invert Lanczos failed ({exc}); falling back to LOBPCG",
                          NetcohWarning, stacklevel=2)
            solver = "lobpcg"
    if V is None:
        precond = sp.diags(1.0 / (diag + shift))
        X0 = rng.standard_normal((n, kk))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            w_l, V = spla.lobpcg(Ls, X0, M=precond, Y=null[:, None], largest=False,
                                 tol=1e-9, maxiter=2000)
        res = np.linalg.norm(Ls @ V - V * w_l[None, :], axis=0)
        if not np.all(np.isfinite(res)) or np.max(res[: k - 1]) > 1e-5 * max(diag.max(), 1):
            raise SolverError(
                f"LOBPCG did not converge for the {k} smallest Laplacian eigenpairs "
                f"(residual {np.nanmax(res):.2e}); try solver='dense'")
        solver = "lobpcg"
    w, V = _rayleigh_ritz(Ls, V, null)
    return w[:k], V[:, :k], solver


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ClusteringResult:
    """Coherent areas found by :func:`spectral_clustering`.

    ``np.asarray(result)`` gives :attr:`labels`, so a result can be passed wherever an
    array of area labels is expected (e.g. :func:`netcoh.reduce_network`).

    Attributes
    ----------
    labels : ndarray of int, shape (n,)
        Area of each node, ``0 .. n_clusters-1`` numbered in order of first node.
    n_clusters : int
    eigenvalues : ndarray
        Smallest eigenvalues computed (ascending; ``eigenvalues[0] = 0``).
    eigenvectors : ndarray, shape (n, n_clusters)
        The corresponding orthonormal eigenvectors (of the weighted Laplacian if weighted).
    method : str
        ``"bisection"`` (sign of the Fiedler vector), ``"kmeans"`` or ``"trivial"`` (k = 1).
    weighting : str or None
    chosen_by : str
        ``"user"``, ``"eigengap"`` or ``"components"``.
    reason : str
        Why this number of clusters (human-readable).
    eigengaps : ndarray
        Relative gaps ``lambda_{j+1}/lambda_j`` for ``j = 2 .. len(eigenvalues)-1``
        (``inf`` where ``lambda_j = 0``).
    components : tuple of ndarray
        Connected components of the graph (one entry if connected).
    node_labels : tuple of str
    solver : str
        Eigensolver used.

    Examples
    --------
    >>> import netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(
    ...     nc.laplacian.from_edges(4, [(0, 1), (1, 2), (2, 3)], [10.0, 0.1, 10.0]),
    ...     nodal=nc.nodal.swing(1.0, 1.0, n=4))
    >>> res = nc.spectral_clustering(sys, n_clusters=2)
    >>> res.labels.tolist(), res.n_clusters
    ([0, 0, 1, 1], 2)
    """

    labels: np.ndarray
    n_clusters: int
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    method: str
    weighting: str | None
    chosen_by: str
    reason: str
    eigengaps: np.ndarray
    components: tuple
    node_labels: tuple
    solver: str

    def __array__(self, dtype=None, copy=None):
        return np.array(self.labels, dtype=dtype, copy=True)

    def __len__(self) -> int:
        return self.labels.size

    @property
    def sizes(self) -> np.ndarray:
        """Number of nodes per area."""
        return np.bincount(self.labels, minlength=self.n_clusters)

    @property
    def partition(self) -> tuple:
        """Node indices of each area."""
        return tuple(np.flatnonzero(self.labels == a) for a in range(self.n_clusters))

    def to_frame(self):
        """One row per node: its label and area."""
        import pandas as pd

        return pd.DataFrame({"area": self.labels},
                            index=pd.Index(list(self.node_labels), name="node"))

    def plot(self, ax=None):
        """Plot the computed eigenvalues, marking the chosen ``k``.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is created when omitted.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import netcoh as nc
        >>> L, _ = nc.laplacian.weighted_sbm([5, 5], [[1, .2], [.2, 1]], [[5, .1], [.1, 5]],
        ...                                  rng=0)
        >>> ax = nc.reduction.spectral_clustering(L, 2).plot()
        >>> ax.get_xlabel()
        'index j'
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        idx = np.arange(1, self.eigenvalues.size + 1)
        ax.plot(idx, self.eigenvalues, "o-")
        ax.axvline(self.n_clusters + 0.5, color="k", ls="--", lw=1)
        ax.set_xlabel("index j")
        ax.set_ylabel("eigenvalue λ_j")
        ax.set_title(f"k = {self.n_clusters} ({self.chosen_by})")
        return ax


# --------------------------------------------------------------------------------------------
# main entry point
# --------------------------------------------------------------------------------------------

def _gaps(w):
    """Relative gaps ``lambda_{j+1}/lambda_j`` for ``j = 2 .. len(w)-1`` (inf where 0)."""
    lo, hi = w[1:-1], w[2:]
    tiny = 1e-12 * max(float(w[-1]) if w.size else 0.0, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(lo > tiny, hi / np.where(lo > tiny, lo, 1.0), np.inf)


def _choose_k(w, n_comp, kmax):
    gaps = _gaps(w)
    if n_comp > 1:
        return n_comp, "components", (
            f"k = {n_comp}: the graph has {n_comp} connected components"), gaps
    if gaps.size == 0:
        return min(2, kmax), "eigengap", "k = 2: too few eigenvalues for an eigengap choice", gaps
    j = int(np.argmax(gaps[: kmax - 1]))
    k = j + 2
    ranked = np.argsort(gaps[: kmax - 1])[::-1]
    second = (f"; next best k = {ranked[1] + 2} with {gaps[ranked[1]]:.3g}"
              if ranked.size > 1 else "")
    reason = (f"k = {k}: largest relative eigengap λ{k + 1}/λ{k} = {gaps[j]:.3g} "
              f"(λ{k} = {w[k - 1]:.4g}, λ{k + 1} = {w[k]:.4g}) among k = 2..{kmax}{second}")
    return k, "eigengap", reason, gaps


def spectral_clustering(system_or_L, n_clusters: int | None = None, *, random_state=0,
                        weighting: str | None = None, inertia=None, max_clusters: int = 10,
                        solver: str = "auto", n_init: int = 10) -> ClusteringResult:
    r"""Coherent areas by spectral clustering of the Laplacian.

    ``n_clusters = 2`` bisects by the sign of the Fiedler vector (ACC23 Algorithm 1:
    :math:`I_a = \{i : [v_2]_i \ge 0\}`); larger ``k`` runs k-means on the rows of
    :math:`[v_2, \dots, v_k]`; ``None`` picks ``k`` by the largest relative eigengap
    :math:`\lambda_{k+1}/\lambda_k` over ``k = 2 .. max_clusters`` (or the number of connected
    components when the graph is disconnected) and records why in ``result.reason``.

    Parameters
    ----------
    system_or_L : NetworkSystem or array_like or scipy.sparse matrix
        The network or its Laplacian.
    n_clusters : int, optional
        Number of areas, ``1 <= n_clusters <= n``.
    random_state : int or numpy.random.Generator
        Seeds k-means and the iterative eigensolvers; results are reproducible.
    weighting : {None, "inertia"}
        ``"inertia"``: cluster the slow modes of ``M^{-1/2} L M^{-1/2}`` (needs a system with
        inertia parameters or ``inertia=``).
    inertia : array_like, optional
        Node inertias for ``weighting="inertia"`` when a bare Laplacian is given.
    max_clusters : int
        Largest ``k`` considered by the eigengap rule.
    solver : {"auto", "dense", "shift-invert", "lobpcg"}
        Eigensolver; ``"auto"`` is dense up to ``netcoh.reduction.clustering.DENSE_LIMIT``
        nodes, shift-invert beyond.
    n_init : int
        k-means restarts.

    Returns
    -------
    ClusteringResult
        The area of every node (``labels``), the Laplacian eigenpairs used, the eigengaps
        and how the number of areas was chosen.

    Raises
    ------
    InputError
        Bad Laplacian, ``n_clusters`` larger than ``n``.
    DisconnectedError
        Fewer clusters requested than the graph has connected components.

    See Also
    --------
    netcoh.reduce_network : One aggregate node per area found here.

    Examples
    --------
    >>> import numpy as np
    >>> from netcoh.network import laplacian
    >>> L, truth = laplacian.weighted_sbm([6, 4], [[1, 0.2], [0.2, 1]], [[5, 0.1], [0.1, 5]],
    ...                                   rng=1)
    >>> res = spectral_clustering(L)
    >>> res.n_clusters, res.labels.tolist() == truth.tolist()
    (2, True)
    """
    if isinstance(system_or_L, NetworkSystem):
        L = system_or_L.laplacian
        node_labels = system_or_L.labels
        if weighting == "inertia" and inertia is None:
            m = system_or_L.nodal.params.get("m")
            inertia = m if m is not None else system_or_L.inertia_weights
    else:
        L = as_laplacian(system_or_L, "L", connected=False)
        node_labels = tuple(map(str, range(L.shape[0])))
    n = L.shape[0]
    if weighting not in (None, "inertia"):
        raise InputError(f"`weighting` must be None or 'inertia', got {weighting!r}")
    if weighting == "inertia" and inertia is None:
        raise InputError("`weighting='inertia'` needs node inertias: pass a system with an "
                         "'m' parameter or `inertia=`")
    if weighting is None and inertia is not None:
        raise InputError("`inertia` is only used with weighting='inertia'")
    if inertia is not None:
        inertia = as_float_array(inertia, "inertia", ndim=1)
    if n_clusters is not None:
        n_clusters = as_int(n_clusters, "n_clusters", minimum=1)
        if n_clusters > n:
            raise InputError(
                f"`n_clusters` must be <= the number of nodes {n}, got {n_clusters}")
    max_clusters = as_int(max_clusters, "max_clusters", minimum=2)
    n_init = as_int(n_init, "n_init", minimum=1)
    rng = as_rng(random_state, "random_state")
    comps = components_of(L)
    n_comp = len(comps)
    if n_clusters is not None and n_clusters < n_comp:
        raise DisconnectedError(
            f"`n_clusters` must be at least the number of connected components {n_comp}, "
            f"got {n_clusters}", components=[[node_labels[i] for i in c] for c in comps])
    if n_clusters is None:
        kmax = min(max(max_clusters, n_comp), n - 1) if n > 2 else 1
        n_eig = min(n, kmax + 1)
    else:
        kmax = n_clusters
        n_eig = min(n, n_clusters + 1)
    if n == 1:
        w, V, used = np.zeros(1), np.ones((1, 1)), "dense"
    else:
        w, V, used = laplacian_eigs(L, n_eig, inertia=inertia, random_state=rng, solver=solver)
    if n_clusters is None:
        if n <= 2:
            k, chosen_by, reason, gaps = n, "eigengap", f"k = {n}: only {n} nodes", np.zeros(0)
        else:
            k, chosen_by, reason, gaps = _choose_k(w, n_comp, kmax)
    else:
        k, chosen_by = n_clusters, "user"
        gaps = _gaps(w)
        reason = f"k = {k}: requested"
        if n_comp > 1:
            reason += f" (graph has {n_comp} connected components)"
    if n_comp > 1:
        warnings.warn(f"the graph has {n_comp} connected components; they are reported in "
                      "`result.components` and no area spans two of them", NetcohWarning,
                      stacklevel=2)
    emb = V[:, 1:k]
    if inertia is not None:
        emb = emb / np.sqrt(inertia)[:, None]
    if k == 1:
        labels, method = np.zeros(n, dtype=int), "trivial"
    elif k == 2 and n_comp == 1:
        labels, method = np.where(emb[:, 0] >= 0, 0, 1), "bisection"
    elif k == n:
        labels, method = np.arange(n), "kmeans"
    else:
        labels, _ = _kmeans(emb, k, rng, L, None if inertia is None else inertia,
                            n_init=n_init)
        method = "kmeans"
    if n_comp > 1:  # split any area that spans components
        comp_id = np.empty(n, dtype=int)
        for c, idx in enumerate(comps):
            comp_id[idx] = c
        labels = labels * n_comp + comp_id
    labels = _canonical(labels)
    k_final = int(labels.max()) + 1
    if k_final != k:
        reason += f"; areas spanning components were split, giving {k_final}"
    return ClusteringResult(
        labels=_readonly(labels, int), n_clusters=k_final, eigenvalues=_readonly(w),
        eigenvectors=_readonly(V[:, :k_final] if V.shape[1] >= k_final else V),
        method=method, weighting=weighting, chosen_by=chosen_by, reason=reason,
        eigengaps=_readonly(gaps), components=tuple(_readonly(c) for c in comps),
        node_labels=tuple(node_labels), solver=used)
