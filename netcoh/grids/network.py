"""From grid tables to the power-angle-sensitivity Laplacian (bus level, then Kron-reduced).

Node layout of the full network: the ``nb`` buses first, then one *internal* node per machine
that has a transient reactance ``x'_d`` (its EMF behind ``x'_d``); a machine without ``x'_d``
sits directly on its terminal bus. Branch weights (per unit power per radian, case base):

* AC, at the operating point: ``w = |V_f||V_t| b / t * cos(theta_f - theta_t - phi)`` with
  ``b = x/(r^2 + x^2)`` (imaginary part of the series admittance; conductances are dropped,
  the usual lossless linearisation that keeps ``L`` symmetric), tap ``t``, phase shift ``phi``.
* DC: ``|V| = 1``, ``theta = 0``: ``w = 1/(x t)``, i.e. ``L_ij = -b_ij``.
* machine to terminal bus: ``|E||V| cos(delta - theta) / x'_d`` (AC) or ``1/x'_d`` (DC), with
  ``E = V + j x'_d conj(S/V)`` from the machine's output ``S = P + jQ``.

Examples
--------
>>> import numpy as np
>>> branch_weights(np.array([0.0]), np.array([0.1]), np.ones(1), np.zeros(1),
...                np.ones(2), np.zeros(2), np.array([0]), np.array([1]), dc=True).tolist()
[10.0]
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import connected_components

from ..exceptions import InputError

__all__ = ["branch_weights", "machine_emf", "bus_laplacian", "schur", "components"]


def branch_weights(r, x, tap, shift_deg, vm, va_rad, f, t, *, dc: bool):
    """Angle-sensitivity weight of each branch (p.u. power per rad)."""
    if dc:
        return 1.0 / (x * tap)
    b = x / (r * r + x * x) / tap
    return vm[f] * vm[t] * b * np.cos(va_rad[f] - va_rad[t] - np.radians(shift_deg))


def machine_emf(vm, va_rad, p_pu, q_pu, xd_pu):
    """Internal EMF ``E = V + j x'_d conj(S / V)`` of machines (complex, p.u.)."""
    v = vm * np.exp(1j * va_rad)
    return v + 1j * xd_pu * np.conj((p_pu + 1j * q_pu) / v)


def bus_laplacian(n, f, t, w):
    """Sparse Laplacian (CSR) of the weighted edges ``(f, t, w)`` on ``n`` nodes."""
    A = sp.coo_matrix((np.concatenate([w, w]), (np.concatenate([f, t]), np.concatenate([t, f]))),
                      shape=(n, n)).tocsr()
    A.sum_duplicates()
    return (sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A).tocsr()


def components(n, f, t):
    """Connected-component label of each of ``n`` nodes for the edges ``(f, t)``."""
    A = sp.coo_matrix((np.ones(len(f)), (f, t)), shape=(n, n))
    return connected_components(A, directed=False)[1]


def schur(L, keep, *, dense: bool):
    """Schur complement of ``L`` onto ``keep`` (order kept), plus the map of eliminated injections.

    Returns ``(L_red, D)`` with ``D = -L_ke L_ee^{-1}`` (sparse-LU based), so that a vector of
    injections ``u`` on all nodes maps to ``u_keep + D @ u_elim`` on the kept nodes: the
    steady algebraic elimination of the dropped (zero-dynamics) nodes.
    """
    L = sp.csr_matrix(L)
    n = L.shape[0]
    keep = np.asarray(keep, dtype=int)
    elim = np.setdiff1d(np.arange(n), keep)
    Lkk = L[keep][:, keep]
    if elim.size == 0:
        return (Lkk.toarray() if dense else Lkk), sp.csr_matrix((keep.size, 0))
    Lke = L[keep][:, elim]
    Lee = L[elim][:, elim].tocsc()
    try:
        lu = spla.splu(Lee)
    except RuntimeError as exc:
        raise InputError("cannot Kron-reduce: some buses are not connected to any machine "
                         "(singular L_ee); see Grid.islands()") from exc
    if dense:
        X = lu.solve(Lke.T.toarray())          # L_ee^{-1} L_ek
        red = Lkk.toarray() - Lke @ X
        red = 0.5 * (red + red.T)
        off = red - np.diag(np.diag(red))
        red = off - np.diag(off.sum(axis=1))   # exact zero row sums
        return red, sp.csr_matrix(-X.T)
    # few eliminated nodes (local elimination): only their neighbours get fill-in
    nbr = np.unique(Lke.tocoo().row)                    # kept nodes touching eliminated ones
    Xs = lu.solve(Lke[nbr].T.toarray())                 # L_ee^{-1} L_e,nbr  (ne x c)
    upd = (Lke[nbr] @ Xs)                               # (c x c) dense
    upd = 0.5 * (upd + upd.T)
    r, c = np.meshgrid(nbr, nbr, indexing="ij")
    red = Lkk - sp.csr_matrix((upd.ravel(), (r.ravel(), c.ravel())), shape=Lkk.shape)
    red = sp.csr_matrix(red)
    red.data[np.abs(red.data) < 1e-13 * max(abs(red).max(), 1.0)] = 0.0
    red.eliminate_zeros()
    off = red - sp.diags(red.diagonal())
    red = (off - sp.diags(np.asarray(off.sum(axis=1)).ravel())).tocsr()
    rows = np.repeat(nbr, elim.size)
    cols = np.tile(np.arange(elim.size), nbr.size)
    D = sp.csr_matrix((-Xs.T.ravel(), (rows, cols)), shape=(keep.size, elim.size))
    return red, D
