"""The step-response matrix restricted to the inputs a disturbance set can use.

Every disturbance of a set may lie in a small subspace: a given step ``u`` (a unit's lost
infeed, an island's imbalance) spans one direction; losses bounded by the dispatch never
touch a node without one. With ``u = M z`` the nadir search only needs the columns
``S(t) M = S0 M + Re(P diag(phi(t)) (Q M))`` and the set of ``z``: for a given step a row
costs ``K`` operations instead of ``K n``, and the mode bounds use ``|Q_k . u|`` instead of
``|Q_k| . |u|`` (tighter, so fewer candidates survive the pruning).

:func:`restrict` returns the restricted model, the set of ``z`` and the map back to ``u``;
a set offers a restriction through its ``inputs()`` method (``FixedStep``,
``BudgetBox``, ``LinearSet``); the others are searched as they are.

Examples
--------
>>> import numpy as np, netcoh as nc
>>> from netcoh.analysis.nadir import build_modal_model
>>> from netcoh.analysis.nadir_sets import FixedStep
>>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
...                                       nodal=nc.nodal.swing([1.0, 2.0, 3.0], 1.0))
>>> model, _ = build_modal_model(sys)
>>> u = np.array([-1.0, 0.0, 0.5])
>>> small, zset, lift = restrict(model, FixedStep(u))
>>> small.rows([0, 2], [0.5, 1.0]).shape                       # one column: S(t) u
(2, 1)
>>> bool(np.allclose(small.rows([0], [0.5])[0, 0], model.rows([0], [0.5])[0] @ u))
True
"""

from __future__ import annotations

import numpy as np

from .nadir_modes import ModalModel

__all__ = ["InputMap", "restrict"]


class InputMap(ModalModel):
    """``S(t) M`` for a modal model ``S(t)`` and an input map ``M`` (n, r).

    Parameters
    ----------
    base : ModalModel
        The model of the full step-response matrix.
    M : ndarray (n, r), optional
        The input map (a given step: ``u[:, None]``).
    cols : array_like of int, optional
        Instead of ``M``: the input nodes kept (``M`` = those columns of the identity).

    Notes
    -----
    The mode functions and their bounds are the base model's. Rows are computed with
    ``phi`` evaluated once per distinct time (a pruned search asks for many buses at the
    same grid time) and the real part formed by one real product, not a complex one.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir import build_modal_model
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing(1.0, [1.0, 2.0, 3.0]))
    >>> model, _ = build_modal_model(sys)
    >>> sub = InputMap(model, cols=[0, 2])
    >>> bool(np.allclose(sub.rows([1], [0.3]), model.rows([1], [0.3])[:, [0, 2]]))
    True
    """

    def __init__(self, base: ModalModel, M=None, cols=None):
        self.base = base
        self.P = base.P
        self._cols, self._M = None, None
        if cols is not None:
            self._cols = np.asarray(cols, dtype=int)
            cols = np.asarray(cols, dtype=int)
            self.Q = base.Q[:, cols]
            self.S0 = None if base.S0 is None else base.S0[:, cols]
        else:
            M = self._M = np.asarray(M, dtype=float)
            self.Q = base.Q @ M
            self.S0 = None if base.S0 is None else base.S0 @ M
        self.scale = None
        if np.iscomplexobj(self.P) or np.iscomplexobj(self.Q):
            # Re((P diag(phi)) Q) = [Re A, Im A] @ [Re Q; -Im Q] with A = P diag(phi); the
            # modes whose row of Q is real (real modes) need no imaginary part
            Q = self.Q.astype(complex, copy=False)
            self._cplx = np.flatnonzero(np.any(Q.imag != 0, axis=1))
            self._Qri = np.concatenate([Q.real, -Q.imag[self._cplx]], axis=0)
        else:
            self._Qri = None

    def phi(self, t, deriv: int = 0):
        return self.base.phi(t, deriv)

    def phi_inf(self):
        return self.base.phi_inf()

    def bound(self, a, b, deriv):
        return self.base.bound(a, b, deriv)

    def tail(self, H):
        return self.base.tail(H)

    @property
    def decay(self):
        return self.base.decay

    def rows_at_inf(self):
        """``S(inf) M``; from the base model's steady state when it carries one."""
        known = self.base.__dict__.get("_rows_at_inf")
        if known is None or "_rows_at_inf" in self.__dict__:
            return super().rows_at_inf()
        out = known[:, self._cols] if self._cols is not None else known @ self._M
        out.setflags(write=False)
        self._rows_at_inf = out
        return out

    def rows(self, bus, t):
        """Rows ``S(t_p)[bus_p, :] M`` for pairs ``(bus_p, t_p)``, shape (len(bus), r)."""
        bus = np.asarray(bus, dtype=int)
        t = np.asarray(t, dtype=float)
        tu, inv = np.unique(t, return_inverse=True)
        inv = inv.ravel()
        ph = self.phi(tu)
        n = self.P.shape[0]
        if self.Q.shape[1] == 1 and 8 * bus.size >= n * tu.size:
            # many buses per time: every bus at once by one matrix product per time block
            Y = np.real(self.P @ (ph * self.Q[:, 0][None, :]).T)          # (n, U)
            out = Y[bus, inv][:, None]
            if self.S0 is not None:
                out = out + self.S0[bus]
            return out
        A = self.P[bus] * ph[inv]
        if self._Qri is None:
            out = np.real(A @ self.Q)
        else:
            A = A.astype(complex, copy=False)
            out = np.concatenate([A.real, A.imag[:, self._cplx]], axis=1) @ self._Qri
        if self.S0 is not None:
            out = out + self.S0[bus]
        return out

    def table_chunks(self, t, max_bytes: float = 1.5e8):
        """Yield ``(slice, S)`` with ``S`` of shape (len(slice), n, r) = ``S(t[slice]) M``."""
        n, K = self.P.shape
        r = self.Q.shape[1]
        step = max(1, int(max_bytes // (16 * n * max(K, r) * 2)))
        bus = np.arange(n)
        for s in range(0, t.size, step):
            sl = slice(s, min(t.size, s + step))
            tt = np.repeat(t[sl], n)
            yield sl, self.rows(np.tile(bus, tt.size // n), tt).reshape(-1, n, r)

    def shapes_product(self, X):
        """``Re(X @ P^T)`` by the base model (which keeps the real split of ``P``).

        Parameters
        ----------
        X : ndarray (T, K)
            Mode coefficients.

        Returns
        -------
        ndarray (T, n)
        """
        return self.base.shapes_product(X)


def restrict(model: ModalModel, dset):
    """The model and set restricted to the inputs the set can use.

    Parameters
    ----------
    model : ModalModel
        The network's modal model.
    dset : set
        A disturbance set of :mod:`netcoh.analysis.nadir_sets` (or
        :class:`~netcoh.analysis.nadir_polytope.LinearSet`).

    Returns
    -------
    (ModalModel, set, callable)
        The model of ``S(t) M``, the set of ``z``, and the map ``z -> u = M z``. A set
        without an ``inputs`` method (norm balls, unit trips), or one that uses every
        input, comes back unchanged with the identity map.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir import build_modal_model
    >>> from netcoh.analysis.nadir_sets import BudgetBox
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=3))
    >>> model, _ = build_modal_model(sys)
    >>> small, box, lift = restrict(model, BudgetBox([0.0, 0.2, 0.3], 0.4))
    >>> small.Q.shape[1], lift(np.array([-0.1, -0.3])).tolist()    # node 0 cannot lose
    (2, [0.0, -0.1, -0.3])
    """
    inputs = getattr(dset, "inputs", None)
    n = model.Q.shape[1]                # inputs (the nodes of a network)
    spec = inputs() if callable(inputs) else None
    if spec is None:
        return model, dset, lambda z: z
    kind, M, zset = spec
    if kind == "cols":
        cols = np.asarray(M, dtype=int)
        if cols.size == n and np.array_equal(cols, np.arange(n)):
            return InputMap(model, cols=cols), dset, lambda z: np.asarray(z, dtype=float)

        def lift(z):
            u = np.zeros(n)
            u[cols] = z
            return u

        return InputMap(model, cols=cols), zset, lift
    M = np.asarray(M, dtype=float)
    return InputMap(model, M=M), zset, lambda z: M @ np.asarray(z, dtype=float)
