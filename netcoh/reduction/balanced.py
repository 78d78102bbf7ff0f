r"""Frequency-weighted balanced truncation of stable state-space models.

Enns' output frequency-weighted balanced truncation (square-root method) of a stable model
``(A, B, C, D)``, with an optional stable proper SISO output weight ``W(s)`` applied to every
output; ``weight=None`` is ordinary balanced truncation. :mod:`netcoh.reduction.fitting` uses
it to fit low-order aggregate machines (Min, Paganini & Mallada, L-CSS 2021).

Needs only numpy/scipy; python-control is imported when a result is converted to a
:class:`control.StateSpace` / :class:`control.TransferFunction` or a weight is given as one.

Examples
--------
>>> import numpy as np
>>> A = np.diag([-1.0, -10.0]); B = np.array([[1.0], [1.0]]); C = np.array([[1.0, 0.01]])
>>> weighted_balanced_truncation(A, B, C, order=1, weight=((1.0, 0.1), (1.0, 1e-3))).order
1
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg as sla

from .._util import readonly as _readonly
from .._validation import as_float_array, as_int
from ..exceptions import InputError, NetcohTypeError, SolverError

if TYPE_CHECKING:
    import control

__all__ = [
    "BalancedTruncation",
    "weighted_balanced_truncation",
]




def _weight_realization(weight, p: int):
    """State-space ``(Aw, Bw, Cw, Dw)`` of ``weight`` applied to each of ``p`` outputs."""
    if weight is None:
        return np.zeros((0, 0)), np.zeros((0, p)), np.zeros((p, 0)), np.eye(p)
    import control
    import scipy.signal as ssig

    if isinstance(weight, control.TransferFunction):
        if weight.ninputs != 1 or weight.noutputs != 1:
            raise InputError(f"`weight` must be a SISO transfer function, got {weight.noutputs}"
                             f"x{weight.ninputs}")
        num, den = np.asarray(weight.num[0][0], float), np.asarray(weight.den[0][0], float)
    else:
        try:
            num, den = weight
        except (TypeError, ValueError) as exc:
            raise NetcohTypeError(
                f"`weight` must be None, a (num, den) pair or a control.TransferFunction, "
                f"got {weight!r}") from exc
        num = as_float_array(num, "weight numerator", ndim=1)
        den = as_float_array(den, "weight denominator", ndim=1)
    num, den = np.trim_zeros(num, "f"), np.trim_zeros(den, "f")
    if den.size == 0 or num.size == 0:
        raise InputError("`weight` must have non-zero numerator and denominator")
    if num.size > den.size:
        raise InputError(f"`weight` must be proper (deg num <= deg den), got degrees "
                         f"{num.size - 1} > {den.size - 1}")
    if np.any(np.roots(den).real >= 0):
        raise InputError(f"`weight` must be stable, got poles {np.roots(den)}")
    aw, bw, cw, dw = ssig.tf2ss(num, den)
    eye = np.eye(p)
    return (np.kron(eye, aw), np.kron(eye, bw), np.kron(eye, cw), np.kron(eye, dw))


def _psd_factor(X: np.ndarray) -> np.ndarray:
    """``F`` with ``F F^T = X`` for a symmetric PSD ``X`` (robust to rank deficiency)."""
    w, Q = np.linalg.eigh(0.5 * (X + X.T))
    return Q * np.sqrt(np.clip(w, 0.0, None))


@dataclass(frozen=True)
class BalancedTruncation:
    """Result of :func:`weighted_balanced_truncation`.

    Attributes
    ----------
    a, b, c, d : ndarray
        Reduced realization (read-only).
    hankel_singular_values : ndarray
        The (weighted) Hankel singular values of the full model, largest first.
    order : int
        Number of states kept.
    weighted : bool
        Whether an output weight was used.

    Examples
    --------
    >>> import numpy as np
    >>> from netcoh.reduction import weighted_balanced_truncation
    >>> bt = weighted_balanced_truncation(np.diag([-1.0, -10.0]), np.ones((2, 1)),
    ...                                   np.ones((1, 2)), order=1)
    >>> bt.order, bt.a.shape
    (1, (1, 1))
    >>> bool(bt.hankel_singular_values[0] > bt.hankel_singular_values[1])
    True
    """

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    d: np.ndarray
    hankel_singular_values: np.ndarray
    order: int
    weighted: bool

    def to_statespace(self) -> control.StateSpace:
        """The reduced model as a :class:`control.StateSpace`."""
        import control

        return control.ss(self.a, self.b, self.c, self.d)

    def to_tf(self) -> control.TransferFunction:
        """The reduced model as a SISO :class:`control.TransferFunction` (monic denominator)."""
        import control

        num, den = _ss_to_poly(self.a, self.b, self.c, self.d)
        return control.tf(num, den)

    def to_frame(self):
        """Hankel singular values as a :class:`pandas.DataFrame` (one row per state)."""
        import pandas as pd

        hsv = np.asarray(self.hankel_singular_values)
        return pd.DataFrame({"hankel_singular_value": hsv,
                             "kept": np.arange(hsv.size) < self.order},
                            index=pd.RangeIndex(1, hsv.size + 1, name="state"))


def _ss_to_poly(a, b, c, d):
    """SISO ``(num, den)`` of ``c (sI - a)^-1 b + d`` (den monic; length-n num if d = 0)."""
    a, b, c = np.atleast_2d(a), np.atleast_2d(b), np.atleast_2d(c)
    if b.shape[1] != 1 or c.shape[0] != 1:
        raise InputError(f"a SISO system is required here, got {c.shape[0]} outputs and "
                         f"{b.shape[1]} inputs")
    dd = float(np.asarray(d).ravel()[0]) if np.size(d) else 0.0
    den = np.real(np.poly(a))
    # c adj(sI - a) b = det(sI - a + b c) - det(sI - a); the leading 1s cancel exactly
    num = np.real(np.poly(a - b @ c) - den)[1:]
    if dd != 0.0:
        num = np.concatenate([[0.0], num]) + dd * den
    return num, den


def weighted_balanced_truncation(A, B, C, D=None, order: int = 1, weight=None
                                 ) -> BalancedTruncation:
    r"""Output frequency-weighted balanced truncation (Enns' method).

    With the output weight :math:`W(s) = (A_W, B_W, C_W, D_W)` the extended system
    :math:`\bar A = [[A, 0], [B_W C, A_W]]`, :math:`\bar B = [B; 0]`, :math:`\bar C = [D_W C, C_W]`
    is formed; its Gramians' leading blocks :math:`X_c, Y_o` are balanced (square-root method:
    :math:`X_c = F F^T`, :math:`Y_o = G G^T`, :math:`G^T F = U \Sigma V^T`) and the
    leading ``order`` states kept. ``weight=None`` is ordinary balanced truncation.

    Parameters
    ----------
    A, B, C : array_like
        Realization of a stable model, shapes ``(n, n)``, ``(n, m)``, ``(p, n)``.
    D : array_like, optional
        Feed-through ``(p, m)``; kept unchanged. Zero by default.
    order : int
        Number of states to keep, ``1 <= order <= n``.
    weight : None, (num, den) or control.TransferFunction
        Stable proper SISO output weight applied to every output, coefficients highest power first.

    Returns
    -------
    BalancedTruncation
        The reduced matrices ``(a, b, c, d)`` and the (weighted) Hankel singular values.

    Raises
    ------
    InputError
        If ``A`` is not Hurwitz (a marginal mode such as the Laplacian zero mode must be removed
        first; :meth:`NetworkSystem.realization` does that), or ``order`` exceeds the numerical
        minimal order.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.diag([-1.0, -10.0]); B = np.array([[1.0], [1.0]]); C = np.array([[1.0, 0.01]])
    >>> red = weighted_balanced_truncation(A, B, C, order=1)
    >>> red.order, red.a.shape
    (1, (1, 1))
    >>> bool(abs(red.a[0, 0] + 1.0) < 1e-2)
    True
    """
    A = as_float_array(A, "A", ndim=2)
    n = A.shape[0]
    if A.shape != (n, n):
        raise InputError(f"`A` must be square, got shape {A.shape}")
    B = as_float_array(B, "B")
    B = B.reshape(n, -1) if B.ndim < 2 else B
    C = as_float_array(C, "C")
    C = C.reshape(-1, n) if C.ndim < 2 else C
    if B.shape[0] != n:
        raise InputError(f"`B` must have {n} rows, got shape {B.shape}")
    if C.shape[1] != n:
        raise InputError(f"`C` must have {n} columns, got shape {C.shape}")
    p, m = C.shape[0], B.shape[1]
    D = np.zeros((p, m)) if D is None else as_float_array(D, "D").reshape(p, m)
    order = as_int(order, "order", minimum=1, maximum=n)
    eig = np.linalg.eigvals(A)
    if n and np.max(eig.real) >= 0:
        raise InputError(
            "`A` must be Hurwitz (all eigenvalues in the open left half-plane), got an eigenvalue "
            f"{eig[np.argmax(eig.real)]:.3g}; remove marginal modes (e.g. the Laplacian zero mode) "
            "first, as NetworkSystem.realization() does")
    return _balanced_truncation(A, B, C, D, order, weight)


def _balanced_truncation(A, B, C, D, order, weight) -> BalancedTruncation:
    """Square-root (weighted) balanced truncation; inputs already validated."""
    n = A.shape[0]
    p, m = C.shape[0], B.shape[1]
    aw, bw, cw, dw = _weight_realization(weight, p)
    nw = aw.shape[0]
    Abar = np.block([[A, np.zeros((n, nw))], [bw @ C, aw]])
    Bbar = np.vstack([B, np.zeros((nw, m))])
    Cbar = np.hstack([dw @ C, cw])
    try:
        Xbar = sla.solve_continuous_lyapunov(Abar, -Bbar @ Bbar.T)
        Ybar = sla.solve_continuous_lyapunov(Abar.T, -Cbar.T @ Cbar)
    except (np.linalg.LinAlgError, ValueError) as exc:  # pragma: no cover - scipy failure
        raise SolverError(f"Lyapunov solve failed in balanced truncation: {exc}") from exc
    F = _psd_factor(Xbar[:n, :n])
    G = _psd_factor(Ybar[:n, :n])
    U, sv, Vt = np.linalg.svd(G.T @ F)
    tol = max(n, 1) * np.finfo(float).eps * (sv[0] if sv.size else 0.0)
    if sv[order - 1] <= tol:
        rank = int(np.sum(sv > tol))
        raise InputError(
            f"`order` must be <= the numerical minimal order {rank} of the model, got {order}")
    sinv = 1.0 / np.sqrt(sv[:order])
    T = (sinv[:, None] * U[:, :order].T) @ G.T
    Ti = (F @ Vt[:order].T) * sinv
    return BalancedTruncation(
        a=_readonly(T @ A @ Ti), b=_readonly(T @ B), c=_readonly(C @ Ti), d=_readonly(D),
        hankel_singular_values=_readonly(sv), order=order, weighted=weight is not None)


def _weight_tuple(weight):
    """``weight`` as ``(num, den)`` coefficient tuples."""
    import control

    if isinstance(weight, control.TransferFunction):
        return (tuple(np.asarray(weight.num[0][0], float)), tuple(np.asarray(weight.den[0][0],
                                                                              float)))
    num, den = weight
    return tuple(np.asarray(num, float).ravel()), tuple(np.asarray(den, float).ravel())
