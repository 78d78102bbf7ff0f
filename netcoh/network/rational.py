"""The :class:`NodalDynamics` container: ``n`` rational transfer functions as coefficient arrays.

Users build it with the factories of :mod:`netcoh.network.nodal` (``netcoh.nodal.swing`` etc.),
which also re-exports this class.

Examples
--------
>>> import numpy as np
>>> g = NodalDynamics(num=[[0.0, 1.0]], den=[[2.0, 1.0]])     # 1/(2 s + 1)
>>> g(np.array([0.0])).shape
(1, 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp

from .._util import readonly
from .._validation import _show, as_float_array, as_index_array
from ..exceptions import InputError, NetcohTypeError

__all__ = ["NodalDynamics"]


def _trim(c: np.ndarray) -> np.ndarray:
    nz = np.flatnonzero(c)
    return c[nz[0]:] if nz.size else c[-1:]


def _points(s) -> np.ndarray:
    """Evaluation points as a 1-D complex array (a scalar is one point)."""
    try:
        arr = np.asarray(s)
        if arr.dtype.kind not in "iufc":
            raise TypeError(arr.dtype)
        arr = arr.astype(complex, copy=False)
    except (TypeError, ValueError) as exc:
        raise NetcohTypeError(f"`s` must be complex array-like, got {_show(s)}") from exc
    if arr.ndim > 1:
        raise InputError(f"`s` must be a scalar or 1-D, got shape {arr.shape}")
    return np.atleast_1d(arr)


def _horner(coef: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Evaluate ``coef`` (n, p) at points ``s`` (k,) -> (k, n)."""
    out = np.zeros((s.shape[0], coef.shape[0]), dtype=complex)
    for j in range(coef.shape[1]):
        out *= s[:, None]
        out += coef[None, :, j]
    return out




@dataclass(frozen=True, eq=False)
class NodalDynamics:
    """Rational transfer functions ``g_i(s) = num_i(s) / den_i(s)`` of ``n`` nodes.

    Build it with a factory (:func:`swing`, :func:`swing_turbine`, :func:`inverter`,
    :func:`from_tf`); the constructor takes raw coefficient arrays.

    Parameters
    ----------
    num, den : array_like, shape (n, p)
        Coefficients, highest power first; rows padded with leading zeros.
    kind : str
        ``"swing"``, ``"swing_turbine"``, ``"inverter"`` or ``"rational"``.
    params : mapping of str to ndarray
        Physical parameters of the factory that built it (e.g. ``m``, ``d``).

    Examples
    --------
    >>> import numpy as np
    >>> g = NodalDynamics(num=[[0, 1.0]], den=[[2.0, 1.0]])   # 1/(2s + 1)
    >>> complex(g(np.array([0.0]))[0, 0])
    (1+0j)
    """

    num: np.ndarray
    den: np.ndarray
    kind: str = "rational"
    params: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        num = as_float_array(self.num, "num")
        den = as_float_array(self.den, "den")
        if num.ndim == 1:
            num = num[None, :]
        if den.ndim == 1:
            den = den[None, :]
        if num.ndim != 2 or den.ndim != 2 or num.shape[0] != den.shape[0]:
            raise InputError(
                f"`num` and `den` must be (n, p) arrays with equal n, got {num.shape} and {den.shape}")
        p = max(num.shape[1], den.shape[1])
        num = np.pad(num, ((0, 0), (p - num.shape[1], 0)))
        den = np.pad(den, ((0, 0), (p - den.shape[1], 0)))
        # drop common all-zero leading columns
        lead = 0
        while lead < p - 1 and not num[:, lead].any() and not den[:, lead].any():
            lead += 1
        num, den = num[:, lead:], den[:, lead:]
        if not np.all(den.any(axis=1)):
            i = int(np.flatnonzero(~den.any(axis=1))[0])
            raise InputError(f"`den` must be a non-zero polynomial for every node, got zero at node {i}")
        dnum, dden = self._degrees(num), self._degrees(den)
        if np.any(dnum > dden):
            i = int(np.flatnonzero(dnum > dden)[0])
            raise InputError(
                f"nodal dynamics must be proper (deg num <= deg den), got node {i} with "
                f"deg num = {dnum[i]} > deg den = {dden[i]}")
        object.__setattr__(self, "num", readonly(num, float))
        object.__setattr__(self, "den", readonly(den, float))
        object.__setattr__(self, "params", MappingProxyType(
            {k: readonly(v, float) for k, v in dict(self.params).items()}))

    @staticmethod
    def _degrees(c: np.ndarray) -> np.ndarray:
        nz = c != 0
        first = np.where(nz.any(axis=1), nz.argmax(axis=1), c.shape[1] - 1)
        return c.shape[1] - 1 - first

    def __reduce__(self):
        # the read-only params mapping is not picklable; rebuild through the constructor
        return (type(self), (np.array(self.num), np.array(self.den), self.kind,
                             {k: np.array(v) for k, v in self.params.items()}))

    # -- evaluation ---------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of nodes."""
        return self.num.shape[0]

    def __len__(self) -> int:
        return self.n

    def __call__(self, s) -> np.ndarray:
        """``g_i(s)`` for all points and nodes (also available as ``evaluate``).

        Parameters
        ----------
        s : complex or array_like of complex, shape (k,)
            Laplace variable(s), e.g. ``1j * omega`` with ``omega`` in rad/s; a scalar
            counts as one point.

        Returns
        -------
        ndarray of complex, shape (k, n)
            ``g_i(s_j)`` in row ``j``, column ``i`` (``inf``/``nan`` at poles).

        Examples
        --------
        >>> from netcoh import nodal
        >>> g = nodal.swing([1.0, 2.0], 0.5)
        >>> g.evaluate([0.0, 1j]).round(3).tolist()
        [[(2+0j), (2+0j)], [(0.4-0.8j), (0.118-0.471j)]]
        """
        s = _points(s)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _horner(self.num, s) / _horner(self.den, s)

    evaluate = __call__

    def inverse(self, s) -> np.ndarray:
        """``1/g_i(s)`` for all points and nodes, evaluated as ``den_i(s) / num_i(s)``.

        Parameters
        ----------
        s : complex or array_like of complex, shape (k,)
            Laplace variable(s), e.g. ``1j * omega`` with ``omega`` in rad/s.

        Returns
        -------
        ndarray of complex, shape (k, n)
            ``1/g_i(s_j)`` in row ``j``, column ``i`` (``inf`` at zeros of ``g_i``).

        Examples
        --------
        >>> from netcoh import nodal
        >>> nodal.swing([1.0, 2.0], 0.5).inverse(1j).tolist()
        [[(0.5+1j), (0.5+2j)]]
        """
        s = _points(s)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _horner(self.den, s) / _horner(self.num, s)

    @property
    def orders(self) -> np.ndarray:
        """State dimension of each node (degree of its denominator)."""
        return self._degrees(self.den)

    @property
    def relative_degrees(self) -> np.ndarray:
        """``deg den - deg num`` per node (0 = biproper, with feedthrough)."""
        return self._degrees(self.den) - self._degrees(np.where(self.num == 0, 0, self.num))

    # -- structure ----------------------------------------------------------------
    def subset(self, index) -> NodalDynamics:
        """The nodes ``index``, in that order, with their ``params``.

        Parameters
        ----------
        index : array_like of int, or array_like of bool, shape (n,)
            Node positions (repeats allowed) or a boolean mask over the ``n`` nodes.

        Returns
        -------
        NodalDynamics
            Same ``kind``, one row per selected node.

        Examples
        --------
        >>> from netcoh import nodal
        >>> nodal.swing([1.0, 2.0, 3.0], 0.5).subset([2, 0]).params["m"].tolist()
        [3.0, 1.0]
        """
        idx = as_index_array(index, "index", self.n, allow_empty=True)
        return NodalDynamics(self.num[idx], self.den[idx], self.kind,
                             {k: v[idx] for k, v in self.params.items()})

    def node_coefficients(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients of node ``i`` without the zero padding.

        Parameters
        ----------
        i : int
            Node position, ``0 <= i < n``.

        Returns
        -------
        num, den : ndarray
            Numerator and denominator coefficients, highest power first, leading zeros
            removed.

        Examples
        --------
        >>> from netcoh import nodal
        >>> [c.tolist() for c in nodal.swing([1.0, 2.0], 0.5).node_coefficients(1)]
        [[1.0], [2.0, 0.5]]
        """
        return _trim(self.num[i]), _trim(self.den[i])

    def to_tf(self, i: int):
        """Node ``i`` as a python-control :class:`control.TransferFunction`.

        Parameters
        ----------
        i : int
            Node position, ``0 <= i < n``.

        Returns
        -------
        control.TransferFunction
            SISO continuous-time ``g_i(s)``.

        Examples
        --------
        >>> from netcoh import nodal
        >>> g = nodal.swing([1.0, 2.0], 0.5).to_tf(1)
        >>> g.den[0][0].tolist()
        [2.0, 0.5]
        """
        import control

        num, den = self.node_coefficients(i)
        return control.tf(num, den)

    def to_ss(self, i: int):
        """State-space realisation of node ``i`` as a python-control :class:`control.StateSpace`.

        Parameters
        ----------
        i : int
            Node position, ``0 <= i < n``.

        Returns
        -------
        control.StateSpace
            SISO realisation in the controllable canonical form of :meth:`realization`
            (a swing node has its frequency deviation as state).

        Examples
        --------
        >>> from netcoh import nodal
        >>> nodal.swing([1.0, 2.0], 0.5).to_ss(1).A.tolist()
        [[-0.25]]
        """
        import control

        A, B, C, D = self.subset([i]).realization()
        return control.ss(A.toarray(), B.toarray(), C.toarray(), D.reshape(1, 1))

    def realization(self):
        """Block-diagonal state-space realisation of all nodes, ``(A, B, C, D)``.

        ``A`` is sparse ``(N, N)`` with ``N = sum(orders)``, ``B`` ``(N, n)``, ``C`` ``(n, N)``
        sparse; ``D`` is the ``(n,)`` vector of feedthroughs. Each node is in
        controllable canonical form scaled so that swing nodes have the frequency as state.
        """
        num, den = self.num, self.den
        orders = self.orders
        n, p = num.shape
        offsets = np.concatenate([[0], np.cumsum(orders)])
        N = int(offsets[-1])
        rows_a, cols_a, vals_a = [], [], []
        rows_b, vals_b, rows_c, cols_c, vals_c = [], [], [], [], []
        Dvec = np.zeros(n)
        for q in np.unique(orders):
            nodes = np.flatnonzero(orders == q)
            dq = den[nodes][:, p - q - 1:]            # (m, q+1), leading coefficient non-zero
            nq = num[nodes][:, p - q - 1:]
            lead = dq[:, 0]
            a = dq[:, 1:] / lead[:, None]             # monic coefficients a_1..a_q
            b = nq / lead[:, None]
            D = b[:, 0]
            Dvec[nodes] = D
            if q == 0:
                continue
            c = b[:, 1:] - D[:, None] * a             # strictly proper remainder
            base = offsets[nodes]
            # controllable canonical form: x1' = -a.x + u, x_{j+1}' = x_j ; y = c.x
            for j in range(q):
                rows_a.append(base)
                cols_a.append(base + j)
                vals_a.append(-a[:, j])
            for j in range(1, q):
                rows_a.append(base + j)
                cols_a.append(base + j - 1)
                vals_a.append(np.ones(nodes.size))
            rows_b.append(base)
            vals_b.append(nodes)
            for j in range(q):
                rows_c.append(nodes)
                cols_c.append(base + j)
                vals_c.append(c[:, j])
        def cat(xs, dt=float):
            return np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)

        A = sp.csr_matrix((cat(vals_a), (cat(rows_a, int), cat(cols_a, int))), shape=(N, N))
        B = sp.csr_matrix((np.ones(len(cat(rows_b, int))), (cat(rows_b, int), cat(vals_b, int))),
                          shape=(N, n))
        C = sp.csr_matrix((cat(vals_c), (cat(rows_c, int), cat(cols_c, int))), shape=(n, N))
        C.eliminate_zeros()
        return A, B, C, Dvec

    def __repr__(self) -> str:
        return f"NodalDynamics(kind={self.kind!r}, n={self.n}, max order={int(self.orders.max())})"
