"""Areas and the refinement problem of the k-area reduction (L4DC 2023, corrected closed form).

Label checks, the refined basis ``S*`` and the aggregate nodal dynamics of each area; used by
:mod:`netcoh.reduction.aggregate`.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from .._validation import components_of
from ..analysis.aggregate import aggregate_dynamics
from ..exceptions import (
    AccuracyWarning,
    DisconnectedError,
    InputError,
    NetcohWarning,
)
from ..network import nodal as _nodal
from ..network.nodal import NodalDynamics
from .clustering import ClusteringResult

__all__ = ["refine_partition"]

_MAX_POLY_ORDER = 20




# --------------------------------------------------------------------------------------------
# labels and the refinement problem
# --------------------------------------------------------------------------------------------

def _as_area_labels(labels, n: int):
    """``(area index per node, area names)``; checks length and empty areas."""
    if isinstance(labels, ClusteringResult):
        labels = labels.labels
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise InputError(f"`labels` must be 1-D (one area per node), got shape {arr.shape}")
    if arr.size != n:
        raise InputError(f"`labels` must have {n} entries (one per node), got {arr.size}")
    if np.issubdtype(arr.dtype, np.integer) or (np.issubdtype(arr.dtype, np.floating)
                                                 and np.all(arr == np.round(arr))):
        idx = arr.astype(int)
        if idx.size and idx.min() < 0:
            raise InputError(f"`labels` must be non-negative area numbers, got {idx.min()}")
        k = int(idx.max()) + 1 if idx.size else 0
        counts = np.bincount(idx, minlength=k)
        if np.any(counts == 0):
            empty = np.flatnonzero(counts == 0).tolist()
            raise InputError(
                f"`labels` must number areas 0..k-1 without gaps, got empty areas {empty[:10]}"
                f" (k = {k} > number of distinct labels {int(np.sum(counts > 0))})")
        names = tuple(f"area{a}" for a in range(k))
        return idx, names
    names, idx = np.unique(arr.astype(str), return_inverse=True)
    return idx.astype(int), tuple(str(x) for x in names)


def refine_partition(V_k, labels, k: int | None = None) -> np.ndarray:
    r"""Closed-form solution ``S*`` of the L4DC23 refinement problem (8), corrected form.

    ``min_S ||V_k - P S||_F`` subject to ``S e_1 = 1_k/sqrt(n)`` and ``S^T D S = I_k``.

    Parameters
    ----------
    V_k : ndarray (n, k)
        Orthonormal eigenvectors, first column ``1/sqrt(n)``.
    labels : ndarray of int (n,)
        Area ``0..k-1`` of each node.
    k : int, optional
        Number of areas; default the number of columns of ``V_k``.

    Returns
    -------
    S : ndarray (k, k)
        With ``S^T D S = I`` and ``S^{-1} = S^T D``.

    Examples
    --------
    >>> import numpy as np
    >>> V = np.column_stack([np.ones(4) / 2, [0.5, 0.5, -0.5, -0.5]])
    >>> S = refine_partition(V, np.array([0, 0, 1, 1]))
    >>> np.allclose(S.T @ np.diag([2, 2]) @ S, np.eye(2))
    True
    """
    V_k = np.asarray(V_k, dtype=float)
    n, kk = V_k.shape
    labels = np.asarray(labels, dtype=int)
    k = kk if k is None else k
    sizes = np.bincount(labels, minlength=k).astype(float)
    one = np.ones(k) / np.sqrt(n)
    if k == 1:
        return one[:, None]
    u = np.sqrt(sizes) / np.sqrt(n)                    # D^{1/2} 1_k / sqrt(n), unit norm
    # orthonormal basis of u-perp (QR of [u, I] drops u's direction)
    Qfull, _ = np.linalg.qr(np.column_stack([u, np.eye(k)]))
    Q = Qfull[:, 1:k]
    PtV = np.zeros((k, kk - 1))
    np.add.at(PtV, labels, V_k[:, 1:])                 # P^T V~
    M = Q.T @ (PtV / np.sqrt(sizes)[:, None])          # Q^T D^{-1/2} P^T V~
    U, _, Wt = np.linalg.svd(M)
    O = U @ Wt
    return np.column_stack([one, (Q @ O) / np.sqrt(sizes)[:, None]])


def _area_components(L, idx, names):
    """Raise DisconnectedError if some area's induced subgraph is disconnected."""
    k = len(names)
    order = np.argsort(idx, kind="stable")
    bounds = np.searchsorted(idx[order], np.arange(k + 1))
    Ls = sp.csr_matrix(L) if sp.issparse(L) else None
    for a in range(k):
        nodes = order[bounds[a]:bounds[a + 1]]
        if nodes.size < 2:
            continue
        sub = Ls[nodes][:, nodes] if Ls is not None else np.asarray(L)[np.ix_(nodes, nodes)]
        comps = components_of(sub)
        if len(comps) > 1:
            parts = [nodes[c].tolist() for c in comps]
            raise DisconnectedError(
                f"area {names[a]!r} must be connected within itself, got {len(comps)} pieces "
                f"(node index groups {[p[:5] for p in parts[:4]]}); pass "
                "`connected_areas=False` to allow it", components=parts)


def _area_nodal(nd: NodalDynamics, idx, k, machine_order):
    """Aggregate nodal dynamics of each area (exact, or a fitted low-order machine)."""
    members = [np.flatnonzero(idx == a) for a in range(k)]
    P = sp.csr_matrix((np.ones(idx.size), (np.arange(idx.size), idx)), shape=(idx.size, k))
    params = nd.params
    if machine_order is not None:
        if nd.kind not in ("swing", "swing_turbine"):
            raise InputError(f"`machine_order` needs swing or swing_turbine nodes, got kind "
                             f"{nd.kind!r}")
        from .fitting import PAPER_WEIGHTS, fit_aggregate_machine

        nums, dens = [], []
        for a, mem in enumerate(members):
            sub = nd.subset(mem)
            agg = aggregate_dynamics(sub)
            if agg.order <= machine_order:
                nums.append(agg.num)
                dens.append(agg.den)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NetcohWarning)
                fit = fit_aggregate_machine(sub, order=machine_order, method="closed_loop",
                                            weight=PAPER_WEIGHTS["closed_loop"], match_dc=True)
            if not fit.interpretable:
                warnings.warn(f"area {a}: the fitted order-{machine_order} machine has "
                              "non-physical parameters", NetcohWarning, stacklevel=3)
            nums.append(np.asarray(fit.model.num[0][0], float))
            dens.append(np.asarray(fit.model.den[0][0], float))
        return _nodal.from_tf(num=nums, den=dens), False
    if nd.kind == "swing":
        m = P.T @ params["m"]
        d = P.T @ params["d"]
        return _nodal.swing(m, d), True
    if nd.kind == "swing_turbine":
        droop, tau = params["droop"], params["tau"]
        single = True
        tau_a = np.ones(k)
        for a, mem in enumerate(members):
            t = np.unique(tau[mem][droop[mem] > 0])
            if t.size > 1:
                single = False
                break
            tau_a[a] = t[0] if t.size else 1.0
        if single:
            return _nodal.swing_turbine(P.T @ params["m"], P.T @ params["d"], P.T @ droop,
                                        tau_a), True
    nums, dens = [], []
    approximated = []
    for a, mem in enumerate(members):
        sub = nd.subset(mem)
        if nd.kind == "swing_turbine":
            n_tau = np.unique(sub.params["tau"][sub.params["droop"] > 0]).size
            if 1 + n_tau > _MAX_POLY_ORDER:
                from .fitting import PAPER_WEIGHTS, _fit_polynomials, _group_turbines

                pr = sub.params
                taus, rho = _group_turbines(np.asarray(pr["droop"]), np.asarray(pr["tau"]))
                num, den = _fit_polynomials(float(np.sum(pr["m"])), float(np.sum(pr["d"])),
                                            taus, rho, 3, "closed_loop",
                                            PAPER_WEIGHTS["closed_loop"], True)[:2]
                nums.append(num)
                dens.append(den)
                approximated.append(a)
                continue
        agg = aggregate_dynamics(sub)
        nums.append(agg.num)
        dens.append(agg.den)
    if approximated:
        warnings.warn(
            f"{len(approximated)} area aggregate(s) have order > {_MAX_POLY_ORDER} (many distinct "
            "turbine time constants); `.system` holds fitted order-3 machines (BT3-cl) for them "
            "because a high-degree polynomial is ill-conditioned. `transfer_matrix`, `error` and "
            "`to_statespace` remain exact", AccuracyWarning, stacklevel=3)
    order = max(d.size - 1 for d in dens)
    if order > _MAX_POLY_ORDER:
        warnings.warn(
            f"an area aggregate has order {order}; its polynomial form in `.system` is "
            "ill-conditioned (`transfer_matrix` and `error` stay exact)", AccuracyWarning,
            stacklevel=3)
    return _nodal.from_tf(num=nums, den=dens), not approximated
