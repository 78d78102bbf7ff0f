r"""Structure-preserving network reduction: one node per coherent area.

Given a partition of the nodes into areas :math:`I_1, \dots, I_k` (indicator matrix
:math:`P`, sizes :math:`D = \mathrm{diag}(|I_a|)`), Min & Mallada (L4DC 2023, Algorithm 1)
replace the network by a :math:`k`-node network with

* aggregate nodal dynamics :math:`\hat g_a(s) = (\sum_{i \in I_a} g_i(s)^{-1})^{-1}`;
* a reduced Laplacian :math:`L_k = D S^* \Lambda_k S^{*T} D` from the refinement problem
  :math:`\min_S \|V_k - P S\|_F` s.t. :math:`S e_1 = 1_k/\sqrt n`, :math:`S^T D S = I_k`,
  whose closed-form solution (corrected for unequal area sizes, see ``specs/power.md`` 5.2) is
  :math:`S^* = [1_k/\sqrt n,\ D^{-1/2} Q O^*]` with :math:`Q` an orthonormal basis of
  :math:`(D^{1/2} 1_k)^\perp`, :math:`Q^T D^{-1/2} P^T V_{2:k} = U \Sigma W^T`, :math:`O^* = U W^T`.

For two areas this is :math:`L_2 = \lambda_2 \frac{n_a n_b}{n} [[1, -1], [-1, 1]]` (ACC 2023);
for a k-block-ideal Laplacian (:math:`V_k = P S`) the lifted model
:math:`P (\mathrm{diag}(1/\hat g_a) + f L_k)^{-1} P^T` equals the rank-k approximation
:math:`T_k` exactly. For ``k >= 3`` the off-diagonal entries of :math:`L_k` need not be
non-positive: the reduced coupling is then a signed (but symmetric, positive semidefinite,
zero-row-sum) Laplacian.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .._util import readonly as _readonly
from .._validation import as_bool, as_int, as_rng
from ..analysis.frequency import FrequencyResponse, as_omega
from ..exceptions import (
    InputError,
    NetcohWarning,
)
from ..network.system import NetworkSystem, _check_system
from .clustering import ClusteringResult, laplacian_eigs
from .evaluation import ReductionError, input_columns, plot_bode, reduction_error, structured_statespace
from .refinement import _area_components, _area_nodal, _as_area_labels, refine_partition

__all__ = [
    "ReducedNetwork",
    "ReductionError",
    "reduce_network",
]



# --------------------------------------------------------------------------------------------
# building the reduced system
# --------------------------------------------------------------------------------------------

def _system(L, nodal, coupling, labels, f_hz=None) -> NetworkSystem:
    """NetworkSystem, admitting a signed (PSD, zero-row-sum) reduced Laplacian; ``f_hz``:
    the nominal frequency of the full network (results in Hz need it).

    The L4DC23 refinement may give positive off-diagonal entries for k >= 3.
    """
    L = np.array(L, dtype=float)
    off = L - np.diag(np.diag(L))
    signed = bool(L.shape[0] > 1 and off.max() > 1e-10 * max(np.abs(L).max(), 1e-300))
    return NetworkSystem.from_laplacian(L, nodal=nodal, coupling=coupling, labels=labels,
                                        signed=signed, f_hz=f_hz)


@dataclass(frozen=True, eq=False)
class ReducedNetwork:
    """A k-node network approximating a larger one (result of :func:`reduce_network`).

    Attributes
    ----------
    system : NetworkSystem
        The reduced network: one node per area (aggregate dynamics), reduced Laplacian ``L_k``
        (a property, built on first access).
    full : NetworkSystem
        The original network.
    labels : ndarray of int (n,)
        Area of each original node.
    area_names : tuple of str
    S : ndarray (k, k)
        Solution of the refinement problem (``V̂_k = P S``).
    laplacian : ndarray (k, k)
        The reduced Laplacian ``L_k = D S Λ_k S^T D``.
    eigenvalues : ndarray
        ``λ_1 .. λ_{k+1}`` of the full Laplacian (``λ_{k+1}`` absent when ``k = n``).
    eigenvectors : ndarray (n, k)
        ``V_k``.
    exact_aggregates : bool
        Whether :meth:`transfer_matrix`, :meth:`error` and :meth:`to_statespace` use the exact
        area aggregates (``False`` when ``machine_order`` was given).
    system_nodal_exact : bool
        Whether ``system.nodal`` holds the exact aggregates; areas whose aggregate order exceeds
        20 are represented there by fitted order-3 machines (a warning says so).
    signed : bool
        Whether ``L_k`` has positive off-diagonal entries.
    machine_order : int or None
        Order of the fitted area machines, or ``None`` for the exact aggregates (the
        ``machine_order`` argument of :func:`reduce_network`).
    _system, _system_exact : NetworkSystem or None, bool or None
        Internal cache of :attr:`system` and :attr:`system_nodal_exact`; leave at ``None``.

    Examples
    --------
    >>> import netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(6, 1),
    ...                                       nodal=nc.nodal.swing(1.0, 0.5, n=6))
    >>> red = reduce_network(sys, [0, 0, 0, 1, 1, 1])
    >>> red.k, red.system.nodal.params["m"].tolist()
    (2, [3.0, 3.0])
    """

    full: NetworkSystem = field(repr=False)
    labels: np.ndarray = field(repr=False)
    area_names: tuple
    S: np.ndarray = field(repr=False)
    laplacian: np.ndarray = field(repr=False)
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray = field(repr=False)
    exact_aggregates: bool
    signed: bool
    machine_order: int | None = None
    _system: NetworkSystem | None = field(default=None, repr=False)
    _system_exact: bool | None = field(default=None, repr=False)

    @property
    def system(self) -> NetworkSystem:
        """The reduced k-node :class:`NetworkSystem` (built on first access)."""
        if self._system is None:
            nodal, exact = _area_nodal(self.full.nodal, np.asarray(self.labels), self.k,
                                       self.machine_order)
            red = _system(np.array(self.laplacian), nodal, self.full.coupling,
                          self.area_names, self.full.f_hz)
            object.__setattr__(self, "_system", red)
            object.__setattr__(self, "_system_exact", exact and self.machine_order is None)
        return self._system

    @property
    def system_nodal_exact(self) -> bool:
        """Whether ``system.nodal`` holds the exact area aggregates (see class notes)."""
        _ = self.system
        return bool(self._system_exact)

    @property
    def k(self) -> int:
        """Number of areas."""
        return len(self.area_names)

    @property
    def partition(self) -> tuple:
        """Node indices (into the full system) of each area."""
        return tuple(np.flatnonzero(self.labels == a) for a in range(self.k))

    @property
    def sizes(self) -> np.ndarray:
        """Nodes per area."""
        return np.bincount(self.labels, minlength=self.k)


    def indicator(self) -> sp.csr_matrix:
        """The ``(n, k)`` indicator matrix ``P``."""
        n = self.labels.size
        return sp.csr_matrix((np.ones(n), (np.arange(n), self.labels)), shape=(n, self.k))

    def _area_inverse(self, s):
        if self.exact_aggregates:
            ginv = self.full.nodal.inverse(s)                       # (nf, n)
            return np.asarray((self.indicator().T @ ginv.T).T)      # Σ_{i in a} 1/g_i
        return self.system.nodal.inverse(s)

    def reduced_transfer_matrix(self, omega) -> np.ndarray:
        """``T̂_k(jω) = (diag(1/ĝ_a) + f L_k)^{-1}``, shape ``(nf, k, k)``.

        Parameters
        ----------
        omega : array_like, shape (nf,)
            Frequencies in rad/s, avoiding poles of the coupling ``f`` (0 for ``1/s``).

        Returns
        -------
        ndarray of complex, shape (nf, k, k)
            From area power injections to area outputs (areas in :attr:`area_names`
            order); uses the exact aggregates unless :attr:`exact_aggregates` is False.

        Examples
        --------
        >>> import netcoh as nc
        >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(6, 1),
        ...                                       nodal=nc.nodal.swing(1.0, 0.5, n=6))
        >>> reduce_network(sys, [0, 0, 0, 1, 1, 1]).reduced_transfer_matrix([0.1, 1.0]).shape
        (2, 2, 2)
        """
        w = as_omega(omega)
        s = 1j * w
        f = self.full.coupling(s)[:, 0]
        if not np.all(np.isfinite(f)):
            raise InputError(f"`omega` must avoid poles of the coupling f(s) (e.g. 0 for 1/s), "
                             f"got {w[~np.isfinite(f)][0]:g}")
        M = f[:, None, None] * np.asarray(self.laplacian)[None]
        M[:, np.arange(self.k), np.arange(self.k)] += self._area_inverse(s)
        return np.linalg.inv(M)

    def transfer_matrix(self, omega, inputs=None) -> FrequencyResponse:
        """The lifted approximation ``P T̂_k(jω) P^T`` of the full transfer matrix.

        Every node of an area gets that area's row/column of ``T̂_k``.

        Parameters
        ----------
        omega : array_like, shape (nf,)
            Frequencies in rad/s, avoiding poles of the coupling ``f`` (0 for ``1/s``).
        inputs : sequence of int or str, optional
            Input (disturbed) nodes of the full network, as indices or labels; default all.

        Returns
        -------
        FrequencyResponse
            Over the full network's nodes: values of shape ``(nf, n, len(inputs))``.

        Examples
        --------
        >>> import numpy as np, netcoh as nc
        >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(6, 1),
        ...                                       nodal=nc.nodal.swing(1.0, 0.5, n=6))
        >>> resp = reduce_network(sys, [0, 0, 0, 1, 1, 1]).transfer_matrix([0.1], inputs=[0])
        >>> resp.shape, bool(np.allclose(resp.values[0, 1, 0], resp.values[0, 2, 0]))
        ((1, 6, 1), True)
        """
        w = as_omega(omega)
        Th = self.reduced_transfer_matrix(w)
        n = self.labels.size
        cols = np.arange(n) if inputs is None else input_columns(self.full, inputs, "inputs")
        vals = Th[:, self.labels][:, :, self.labels[cols]]
        return FrequencyResponse(omega=w.copy(), values=vals, inputs=tuple(int(c) for c in cols),
                                 labels=self.full.labels)

    def error(self, omega, *, chunk: int = 8) -> ReductionError:
        """Spectral-norm error against the full model and the L4DC23 Theorem 1 bound.

        Forms the full ``n x n`` transfer matrix, so it suits networks of up to a few
        thousand nodes.

        Parameters
        ----------
        omega : array_like, shape (nf,)
            Frequencies in rad/s, avoiding poles of the coupling ``f`` (0 for ``1/s``).
        chunk : int, default 8
            Frequencies evaluated together (memory about ``3 * chunk * n**2`` complex
            values).

        Returns
        -------
        ReductionError
            The spectral-norm error of the reduced model against the full one at each
            frequency, with the theoretical bound where it applies.

        Examples
        --------
        >>> import numpy as np, netcoh as nc
        >>> L, lab = nc.laplacian.weighted_sbm([6, 4], [[1, .3], [.3, 1]], [[5, .1], [.1, 5]],
        ...                                    rng=1)
        >>> sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(0.1, 0.5, n=10))
        >>> err = reduce_network(sys, lab).error(np.logspace(-2, 1, 5))
        >>> bool(err.error[0] < err.error[-1])
        True
        """
        return reduction_error(self, omega, chunk)

    def to_statespace(self, *, lifted: bool = False):
        """The reduced network as a :class:`control.StateSpace`.

        Inputs are the area power disturbances and outputs the area frequencies; with
        ``lifted=True`` inputs and outputs are the full network's nodes (``B P^T``, ``P C``).

        Parameters
        ----------
        lifted : bool, default False
            Lift inputs and outputs to the ``n`` nodes of the full network.

        Returns
        -------
        control.StateSpace
            For exact swing(-turbine) aggregates with ``f = 1/s``: states are the area
            frequencies, one turbine state per (area, distinct time constant) and the
            ``k - 1`` angle differences to the last area. Otherwise the realisation of
            :meth:`NetworkSystem.to_statespace <netcoh.NetworkSystem.to_statespace>`.

        Examples
        --------
        >>> import netcoh as nc
        >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(6, 1),
        ...                                       nodal=nc.nodal.swing(1.0, 0.5, n=6))
        >>> red = reduce_network(sys, [0, 0, 0, 1, 1, 1])
        >>> ss = red.to_statespace(lifted=True)
        >>> ss.nstates, ss.ninputs, ss.noutputs
        (3, 6, 6)
        """
        lifted = as_bool(lifted, "lifted")
        ss = self._structured_statespace()
        if ss is None:
            ss = self.system.to_statespace()
        if not lifted:
            return ss
        import control

        P = self.indicator().toarray()
        return control.ss(ss.A, ss.B @ P.T, P @ ss.C, P @ ss.D @ P.T,
                          inputs=[f"u[{x}]" for x in self.full.labels],
                          outputs=[f"y[{x}]" for x in self.full.labels])

    def _structured_statespace(self):
        """Well-conditioned realisation for exact swing(+turbine) aggregates and f = 1/s
        (``None`` otherwise); see :func:`netcoh.reduction.evaluation.structured_statespace`."""
        return structured_statespace(self)

    def to_frame(self):
        """Areas table: size, summed inertia/damping/droop where defined, member nodes."""
        import pandas as pd

        data = {"n_nodes": self.sizes}
        P = self.indicator()
        for key in ("m", "d", "droop"):
            if key in self.full.nodal.params:
                data[f"{key}_total"] = P.T @ np.asarray(self.full.nodal.params[key])
        data["order"] = self.system.nodal.orders
        labs = np.asarray(self.full.labels, dtype=object)
        data["nodes"] = [" ".join(labs[idx][:50]) + (" ..." if idx.size > 50 else "")
                         for idx in self.partition]
        return pd.DataFrame(data, index=pd.Index(list(self.area_names), name="area"))

    def plot_bode(self, omega, nodes=None, ax=None):
        """Bode magnitude of the full and the lifted reduced model at chosen nodes.

        Plots ``|T_ii(jω)|`` of the full model (solid) and of the lifted reduced model
        (dashed) for each chosen node ``i``.

        Parameters
        ----------
        omega : array_like, shape (nf,)
            Frequencies in rad/s, avoiding poles of the coupling ``f``.
        nodes : sequence of int or str, optional
            Indices or labels of the disturbed-and-observed nodes; default the first node
            of each area, at most 4.
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
        >>> import numpy as np, netcoh as nc
        >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(6, 1),
        ...                                       nodal=nc.nodal.swing(1.0, 0.5, n=6))
        >>> ax = reduce_network(sys, [0, 0, 0, 1, 1, 1]).plot_bode(np.logspace(-1, 1, 5))
        >>> len(ax.lines)                 # full and reduced for the first node of 2 areas
        4
        """
        return plot_bode(self, omega, nodes, ax)


def reduce_network(system: NetworkSystem, labels, *, machine_order: int | None = None,
                   connected_areas: bool = True, random_state=0) -> ReducedNetwork:
    r"""Structure-preserving reduction to one node per area (L4DC23 Algorithm 1).

    Parameters
    ----------
    system : NetworkSystem
        The full network (connected).
    labels : array_like (n,) or ClusteringResult
        Area of each node: integers ``0..k-1`` (no empty area) or any hashable names.
    machine_order : int, optional
        Replace each area's exact aggregate by an order-``machine_order`` machine fitted by
        frequency-weighted balanced truncation (swing / swing_turbine nodes). Default: exact.
    connected_areas : bool
        Require every area to be connected within itself (raise otherwise).
    random_state : int
        Seeds the iterative eigensolver for large sparse Laplacians.

    Returns
    -------
    ReducedNetwork
        The reduced network (one aggregate node per area), the partition and the
        aggregates; ``.system`` is a :class:`NetworkSystem` again.

    Raises
    ------
    InputError
        Labels of the wrong length or with empty areas.
    DisconnectedError
        An area is not connected (``connected_areas=True``).

    See Also
    --------
    netcoh.spectral_clustering : Coherent areas to reduce.
    netcoh.fit_aggregate_machine : A low-order machine for one area's aggregate.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> L, truth = nc.laplacian.weighted_sbm([6, 4], [[1, .3], [.3, 1]], [[5, .1], [.1, 5]],
    ...                                      rng=1)
    >>> sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(0.1, 0.5, n=10))
    >>> red = reduce_network(sys, truth)
    >>> red.system.n, red.sizes.tolist()
    (2, [6, 4])
    >>> lam2 = sys.lambda2
    >>> np.allclose(red.laplacian, lam2 * 6 * 4 / 10 * np.array([[1, -1], [-1, 1]]))
    True
    """
    system = _check_system(system)
    n = system.n
    if machine_order is not None:
        machine_order = as_int(machine_order, "machine_order", minimum=1)
    connected_areas = as_bool(connected_areas, "connected_areas")
    as_rng(random_state, "random_state")
    idx, names = _as_area_labels(labels, n)
    k = len(names)
    if k > n:  # pragma: no cover - impossible without empty areas
        raise InputError(f"number of areas must be <= {n}, got {k}")
    if connected_areas:
        _area_components(system.laplacian, idx, names)
    # eigenpairs λ_1..λ_{k+1}, reusing a clustering's when they are of L itself
    need = min(n, k + 1)
    reuse = (isinstance(labels, ClusteringResult) and labels.weighting is None
             and labels.eigenvalues.size >= need and labels.eigenvectors.shape == (n, k)
             and labels.n_clusters == k)
    if reuse:
        lam = np.array(labels.eigenvalues[:need])
        V = np.array(labels.eigenvectors)
    else:
        lam, Vall, _ = laplacian_eigs(system.laplacian, need, random_state=random_state)
        V = Vall[:, :k]
    lam[0] = 0.0
    S = refine_partition(V, idx, k)
    Dv = np.bincount(idx, minlength=k).astype(float)
    DS = Dv[:, None] * S
    L_k = DS @ np.diag(lam[:k]) @ DS.T
    L_k = 0.5 * (L_k + L_k.T)
    L_k -= np.diag(L_k.sum(axis=1))                  # exact zero row sums (round-off only)
    off = L_k - np.diag(np.diag(L_k))
    signed = bool(k > 1 and off.max() > 1e-10 * max(np.abs(L_k).max(), 1e-300))
    if signed:
        warnings.warn("the reduced Laplacian L_k has positive off-diagonal entries (possible for "
                      "k >= 3): the reduced network is a signed network", NetcohWarning,
                      stacklevel=2)
    red = ReducedNetwork(full=system, labels=_readonly(idx, int), area_names=names,
                         S=_readonly(S), laplacian=_readonly(L_k), eigenvalues=_readonly(lam),
                         eigenvectors=_readonly(V), exact_aggregates=machine_order is None,
                         signed=signed, machine_order=machine_order)
    if machine_order is not None:
        _ = red.system  # fitted area machines are needed by every method: build them now
    return red
