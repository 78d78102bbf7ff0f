r"""Evaluating a reduced network against the full one.

The error result :class:`ReductionError` (spectral-norm error over frequency and the L4DC23
Theorem 1 bound) and the computations behind :meth:`ReducedNetwork.error
<netcoh.reduction.ReducedNetwork.error>`, :meth:`~netcoh.reduction.ReducedNetwork.to_statespace`
and :meth:`~netcoh.reduction.ReducedNetwork.plot_bode`. The functions take the
:class:`~netcoh.reduction.ReducedNetwork` as their first argument; users call its methods.

Examples
--------
>>> import numpy as np, netcoh as nc
>>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(6, 1),
...                                       nodal=nc.nodal.swing(1.0, 0.5, n=6))
>>> red = nc.reduce_network(sys, [0, 0, 0, 1, 1, 1])
>>> reduction_error(red, np.logspace(-1, 1, 3)).error.shape
(3,)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._util import readonly as _readonly
from .._validation import as_int
from ..analysis.coherence import _aggregate_at, _dense_laplacian, _incoherent, _incoherent_core
from ..analysis.frequency import _check_points, as_omega, evaluate_transfer
from ..exceptions import InputError

__all__ = ["ReductionError", "reduction_error", "structured_statespace", "plot_bode",
           "input_columns"]


@dataclass(frozen=True, eq=False)
class ReductionError:
    """Approximation error of a reduced network over frequency.

    Attributes
    ----------
    omega_rad_s : ndarray
    error : ndarray
        ``||T(jω) - P T̂_k(jω) P^T||_2`` (full model against the lifted reduced model).
    rank_k_error : ndarray
        ``||T(jω) - T_k(jω)||_2`` with the rank-k approximation
        ``T_k = V_k (V_k^T G^{-1} V_k + f Λ_k)^{-1} V_k^T``.
    bound : ndarray
        L4DC23 Theorem 1 bound on ``rank_k_error``; NaN where its hypothesis
        ``|f| λ_{k+1} > M2 + M1 M2²`` fails.
    lift_gap : ndarray
        ``||T_k - P T̂_k P^T||_2`` (zero for a k-block-ideal Laplacian), so that
        ``error <= bound + lift_gap`` wherever the bound holds.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(
    ...     nc.laplacian.from_edges(4, [(0, 1), (1, 2), (2, 3)], [10.0, 0.1, 10.0]),
    ...     nodal=nc.nodal.swing(1.0, 1.0, n=4))
    >>> red = nc.reduce_network(sys, nc.spectral_clustering(sys, n_clusters=2))
    >>> err = red.error(np.logspace(-2, 0, 3))
    >>> err.error.shape
    (3,)
    >>> bool(np.all(np.diff(err.error) > 0))      # coherent areas: small at low frequency
    True
    >>> bool(np.all(err.rank_k_error <= err.bound))  # the L4DC23 Theorem 1 bound holds
    True
    """

    omega_rad_s: np.ndarray
    error: np.ndarray
    rank_k_error: np.ndarray
    bound: np.ndarray
    lift_gap: np.ndarray

    @property
    def hypothesis_holds(self) -> np.ndarray:
        """Where the Theorem 1 hypothesis holds (bound finite)."""
        return np.isfinite(self.bound)

    def max_error(self, band_rad_s: float | None = None) -> float:
        """``sup`` of :attr:`error` over ``omega <= band_rad_s`` (all frequencies if None).

        Parameters
        ----------
        band_rad_s : float, optional
            Upper end of the frequency band in rad/s; it must include at least one grid
            frequency. Default: the whole grid.

        Returns
        -------
        float
            Largest spectral-norm error on the grid points in the band.

        Examples
        --------
        >>> import numpy as np, netcoh as nc
        >>> L, lab = nc.laplacian.weighted_sbm([6, 4], [[1, .3], [.3, 1]], [[5, .1], [.1, 5]],
        ...                                    rng=1)
        >>> sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(0.1, 0.5, n=10))
        >>> err = nc.reduce_network(sys, lab).error(np.logspace(-2, 1, 5))
        >>> err.max_error(0.1) <= err.max_error()
        True
        """
        sel = (np.ones(self.error.size, bool) if band_rad_s is None
               else self.omega_rad_s <= band_rad_s)
        if not np.any(sel):
            raise InputError(f"`band_rad_s` must include a grid frequency, got {band_rad_s}")
        return float(np.max(self.error[sel]))

    def to_frame(self):
        """One row per frequency."""
        import pandas as pd

        return pd.DataFrame({"omega_rad_s": self.omega_rad_s, "error": self.error,
                             "rank_k_error": self.rank_k_error, "bound": self.bound,
                             "lift_gap": self.lift_gap})

    def plot(self, ax=None):
        """Log-log plot of the errors and the bound.

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
        >>> import numpy as np, netcoh as nc
        >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.ring_lattice(6, 1),
        ...                                       nodal=nc.nodal.swing(1.0, 0.5, n=6))
        >>> err = nc.reduce_network(sys, [0, 0, 0, 1, 1, 1]).error(np.logspace(-1, 1, 4))
        >>> err.plot().get_ylabel()
        'spectral-norm error'
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        ax.loglog(self.omega_rad_s, self.error, label=r"$\|T - P\hat T_k P^T\|$")
        ax.loglog(self.omega_rad_s, self.rank_k_error, ":", label=r"$\|T - T_k\|$")
        if np.any(self.hypothesis_holds):
            ax.loglog(self.omega_rad_s, self.bound, "--", label="Theorem 1 bound")
        ax.set_xlabel("frequency (rad/s)")
        ax.set_ylabel("spectral-norm error")
        ax.legend(fontsize="small")
        return ax


def reduction_error(red, omega, chunk: int = 8) -> ReductionError:
    """Spectral-norm error of ``red`` against its full model, with the Theorem 1 bound.

    The computation of :meth:`ReducedNetwork.error <netcoh.reduction.ReducedNetwork.error>`
    (see there for the parameters).
    """
    chunk = as_int(chunk, "chunk", minimum=1)
    w = as_omega(omega)
    s = 1j * w
    full = red.full
    k = red.k
    f, ginv = _check_points(full, s)           # a pole of f (omega = 0 for 1/s): InputError
    n = full.n
    V = np.array(red.eigenvectors, dtype=float)
    V[:, 0] = np.copysign(1.0 / np.sqrt(n), V[:, 0].sum())    # the zero mode, exactly 1/sqrt(n)
    lam = red.eigenvalues
    lam_next = lam[k] if lam.size > k else np.inf
    # rank-k approximation T_k = V H^{-1} V^T, H = V^T G^{-1} V + f Λ_k
    H = np.einsum("ia,fi,ib->fab", V, ginv, V)
    H[:, np.arange(k), np.arange(k)] += f[:, None] * lam[None, :k]
    Hinv = np.linalg.inv(H)
    M1 = np.linalg.norm(Hinv, 2, axis=(1, 2))
    M2 = np.max(np.abs(ginv), axis=1)
    denom = np.abs(f) * lam_next - M2 - M1 * M2**2
    with np.errstate(invalid="ignore", divide="ignore"):
        bound = np.where(denom > 0, (M1 * M2 + 1) ** 2 / denom, np.nan)
    # Every model is g_hat 1 1^T plus its incoherent part, and the differences are taken
    # between those parts (and the aggregates): where the network is coherent the models
    # agree with g_hat 1 1^T to far below rounding of it. T_k's part is V Z V^T with Z the
    # block inverse of H without its 1/H_00 corner (V_0 = 1/sqrt(n), lambda_0 = 0)
    a, b = H[:, 0, 0], H[:, 1:, 0]
    Z = np.zeros_like(H)
    if k > 1:
        Si = np.linalg.inv(H[:, 1:, 1:] - b[:, :, None] * b[:, None, :] / a[:, None, None])
        Sb = (Si @ b[:, :, None])[:, :, 0]
        Z[:, 0, 0] = np.einsum("fi,fi->f", b, Sb) / a ** 2
        Z[:, 1:, 0] = Z[:, 0, 1:] = -Sb / a[:, None]
        Z[:, 1:, 1:] = Si
    g_full = _aggregate_at(ginv)
    g_rank = 1.0 / (n * a)                  # T_k's aggregate (g_hat to rounding)
    ginv_red = red._area_inverse(s)          # the reduced model's areas, as it evaluates them
    g_red = _aggregate_at(ginv_red)
    Lk = np.asarray(red.laplacian, dtype=float)
    L_full = _dense_laplacian(full)
    err = np.empty(w.size)
    rk = np.empty(w.size)
    gap = np.empty(w.size)
    lab = red.labels
    one = np.ones((n, n))
    for start in range(0, w.size, chunk):
        sl = slice(start, start + chunk)
        E = _incoherent(full, s[sl], f[sl], ginv[sl], L_full)
        Ek = np.einsum("ia,fab,jb->fij", V, Z[sl], V)
        El = _incoherent_core(Lk, f[sl], ginv_red[sl])[:, lab][:, :, lab]
        err[sl] = np.linalg.norm(E - El + (g_full[sl] - g_red[sl])[:, None, None] * one,
                                 2, axis=(1, 2))
        rk[sl] = np.linalg.norm(E - Ek + (g_full[sl] - g_rank[sl])[:, None, None] * one,
                                2, axis=(1, 2))
        gap[sl] = np.linalg.norm(Ek - El + (g_rank[sl] - g_red[sl])[:, None, None] * one,
                                 2, axis=(1, 2))
    return ReductionError(omega_rad_s=_readonly(w), error=_readonly(err),
                          rank_k_error=_readonly(rk), bound=_readonly(bound),
                          lift_gap=_readonly(gap))


def structured_statespace(red):
    """Well-conditioned realisation for exact swing(+turbine) aggregates and f = 1/s.

    States: area frequencies, one turbine state per (area, distinct time constant),
    and the ``k - 1`` angle differences to the last area (the zero mode is removed).
    ``None`` when ``red`` does not have that structure.
    """
    nd = red.full.nodal
    cpl = red.full.coupling
    if (not red.exact_aggregates or nd.kind not in ("swing", "swing_turbine")
            or cpl.kind != "integrator"):
        return None
    import control

    k = red.k
    gain = float(cpl.params["gain"][0])
    P = red.indicator()
    m = P.T @ np.asarray(nd.params["m"])
    d = P.T @ np.asarray(nd.params["d"])
    turb_area, turb_tau, turb_rho = [], [], []
    if nd.kind == "swing_turbine":
        droop, tau = np.asarray(nd.params["droop"]), np.asarray(nd.params["tau"])
        keys, inv = np.unique(np.column_stack([red.labels, tau]), axis=0,
                              return_inverse=True)
        rho = np.bincount(inv.ravel(), weights=droop, minlength=len(keys))
        keep = rho > 0
        turb_area = keys[keep, 0].astype(int)
        turb_tau, turb_rho = keys[keep, 1], rho[keep]
    J = len(turb_tau)
    Lk = np.asarray(red.laplacian)
    nz = k - 1
    N = k + J + nz
    A = np.zeros((N, N))
    A[np.arange(k), np.arange(k)] = -d / m
    if J:
        A[turb_area, k + np.arange(J)] = -1.0 / m[turb_area]
        A[k + np.arange(J), turb_area] = turb_rho / turb_tau
        A[k + np.arange(J), k + np.arange(J)] = -1.0 / turb_tau
    if nz:
        A[:k, k + J:] = -gain * Lk[:, :nz] / m[:, None]
        A[k + J:, :nz] = np.eye(nz)
        A[k + J:, nz] = -1.0
    B = np.zeros((N, k))
    B[np.arange(k), np.arange(k)] = 1.0 / m
    C = np.zeros((k, N))
    C[np.arange(k), np.arange(k)] = 1.0
    return control.ss(A, B, C, np.zeros((k, k)),
                      inputs=[f"u[{x}]" for x in red.area_names],
                      outputs=[f"y[{x}]" for x in red.area_names])


def plot_bode(red, omega, nodes=None, ax=None):
    """Bode magnitudes of the full and the lifted reduced model at chosen nodes.

    The drawing of :meth:`ReducedNetwork.plot_bode
    <netcoh.reduction.ReducedNetwork.plot_bode>` (see there for the parameters).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0))
    w = as_omega(omega)
    if nodes is None:
        cols = np.array([p[0] for p in red.partition[:4]])
    else:
        cols = input_columns(red.full, nodes)
    T = evaluate_transfer(red.full, 1j * w, cols)
    Tl = np.asarray(red.transfer_matrix(w, inputs=cols))
    for j, c in enumerate(cols):
        line, = ax.loglog(w, np.abs(T[:, c, j]), lw=1.2,
                          label=f"{red.full.labels[c]} full")
        ax.loglog(w, np.abs(Tl[:, c, j]), "--", color=line.get_color(), lw=1.2,
                  label=f"{red.full.labels[c]} reduced")
    ax.set_xlabel("frequency (rad/s)")
    ax.set_ylabel(r"$|T_{ii}(j\omega)|$")
    ax.legend(fontsize="small")
    return ax


def input_columns(system, inputs, name: str = "nodes"):
    """Column indices of ``inputs`` (node indices or labels of ``system``) as an int array."""
    pos = {lab: i for i, lab in enumerate(system.labels)}
    cols = []
    for x in np.atleast_1d(np.asarray(inputs, dtype=object)):
        if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
            if not 0 <= int(x) < system.n:
                raise InputError(f"`{name}` must be node indices in 0..{system.n - 1} or labels, "
                                 f"got {x}")
            cols.append(int(x))
        elif str(x) in pos:
            cols.append(pos[str(x)])
        else:
            raise InputError(f"`{name}` must be node indices or labels of the system, got {x!r}")
    if not cols:
        raise InputError(f"`{name}` must name at least one node, got none")
    return np.asarray(cols, dtype=int)
