"""Convergence and implicit bias of overparametrised linear networks (Min, Tarmoun, Vidal, Mallada).

Loss ``L(U, V) = ||Y - X U V^T||_F^2 / 2`` with ``X`` (N x n), ``Y`` (N x m), ``U`` (n x h),
``V`` (m x h). With the compact SVD ``X = W Sigma_x^{1/2} Phi1^T`` and ``U1 = Phi1^T U``,
``U2 = Phi2^T U``, gradient flow keeps ``U2`` fixed and conserves the **imbalance**
``D = U1^T U1 - V^T V``; ``L - L* = ||E||^2/2`` with ``E = W^T Y - Sigma_x^{1/2} U1 V^T``.

* :func:`scalar_rate`: exact rate ``-L'/L = 2 sqrt(d^2 + 4 (uv)^2)`` of the scalar model.
* :func:`prop1_rate_bound`: Proposition 1, a lower bound on ``-dL~/dt / L~`` at any point.
* :func:`theorem3`: ``L(t) - L* <= exp(-lambda_r(Sigma_x) c(0) t) (L(0) - L*)``.
* :func:`min_norm_theorem`: Proposition 10, ``U V^T -> pinv(X) Y`` if ``V U2^T = U1 U2^T = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netcoh._validation import as_float_array, as_int
from netcoh.exceptions import InputError

from .dynamics import TheoremCheck, TrainingDynamics, readonly

__all__ = ["LinearNet", "compact_svd", "scalar_rate", "prop1_rate_bound", "theorem3",
           "min_norm_solution", "min_norm_theorem", "imbalance_quantities",
           "balanced_factors"]


def compact_svd(X, rtol: float = 1e-12):
    """``X = W diag(s) Phi1^T`` (compact SVD) and the complement ``Phi2`` of ``Phi1``.

    Parameters
    ----------
    X : array_like, shape (N, n)
        Data matrix.
    rtol : float, default 1e-12
        Singular values at most ``rtol * max(1, s_max)`` count as zero.

    Returns
    -------
    W : ndarray, shape (N, r)
        Left singular vectors of the ``r`` non-zero singular values.
    s : ndarray, shape (r,)
        Non-zero singular values, descending (``Sigma_x = diag(s^2)``).
    Phi1 : ndarray, shape (n, r)
        Right singular vectors (row space of ``X``).
    Phi2 : ndarray, shape (n, n - r)
        Orthonormal basis of the null space of ``X``.

    Examples
    --------
    >>> W, s, P1, P2 = compact_svd(np.array([[2.0, 0.0]]))
    >>> s, P2.shape
    (array([2.]), (2, 1))
    """
    X = as_float_array(X, "X", ndim=2)
    Wf, s, Vt = np.linalg.svd(X, full_matrices=True)
    r = int(np.sum(s > rtol * max(1.0, s[0] if s.size else 1.0)))
    return Wf[:, :r], s[:r], Vt[:r].T, Vt[r:].T


@dataclass(frozen=True)
class LinearNet(TrainingDynamics):
    """Two-layer linear network ``x -> V U^T x`` with squared loss.

    Parameters
    ----------
    X : (N, n) array
        Inputs (rows are samples).
    Y : (N, m) array
        Targets.
    h : int
        Hidden width.

    Examples
    --------
    >>> dyn = LinearNet(np.eye(2), np.eye(2), h=3)
    >>> dyn.size
    12
    """

    X: np.ndarray
    Y: np.ndarray
    h: int
    complex_step = True

    def __post_init__(self):
        X = as_float_array(self.X, "X", ndim=2)
        Y = as_float_array(self.Y, "Y", ndim=2)
        if X.shape[0] != Y.shape[0]:
            raise InputError(f"`X` and `Y` must have the same number of rows, got "
                             f"{X.shape[0]} and {Y.shape[0]}")
        object.__setattr__(self, "X", readonly(X))
        object.__setattr__(self, "Y", readonly(Y))
        object.__setattr__(self, "h", as_int(self.h, "h", minimum=1))

    @property
    def n(self) -> int:
        return self.X.shape[1]

    @property
    def m(self) -> int:
        return self.Y.shape[1]

    @property
    def shapes(self):
        return {"U": (self.n, self.h), "V": (self.m, self.h)}

    def _uv(self, th):
        k = self.n * self.h
        return th[:k].reshape(self.n, self.h), th[k:].reshape(self.m, self.h)

    def _loss(self, th):
        U, V = self._uv(th)
        R = self.Y - self.X @ U @ V.T
        return 0.5 * np.sum(R * R)

    def _grad(self, th):
        U, V = self._uv(th)
        R = self.Y - self.X @ U @ V.T
        XtR = self.X.T @ R
        return np.concatenate([(-XtR @ V).ravel(), (-XtR.T @ U).ravel()])

    def optimal_loss(self) -> float:
        """``L* = ||(I - W W^T) Y||^2 / 2``, the infimum of the loss."""
        W = compact_svd(self.X)[0]
        R = self.Y - W @ (W.T @ self.Y)
        return 0.5 * float(np.sum(R * R))

    def invariants(self, theta):
        """Quantities conserved by gradient flow.

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat ``[U, V]``.

        Returns
        -------
        dict
            ``"imbalance"``: ``U1^T U1 - V^T V`` (h x h) with ``U1 = Phi1^T U`` the part of
            ``U`` in the row space of ``X``; ``"U2"``: ``Phi2^T U``, the null-space part
            (the gradient never moves it).

        Examples
        --------
        >>> dyn = LinearNet(np.eye(1), np.eye(1), h=1)
        >>> dyn.invariants([2.0, 1.0])["imbalance"].tolist()
        [[3.0]]
        """
        U, V = self._uv(self._check_theta(theta))
        _, _, P1, P2 = compact_svd(self.X)
        U1 = P1.T @ U
        return {"imbalance": U1.T @ U1 - V.T @ V, "U2": P2.T @ U}

    def observables(self, theta):
        """The end-to-end matrix ``U V^T`` (n x m).

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat ``[U, V]``.

        Returns
        -------
        dict
            ``{"end_to_end": U @ V.T}``.

        Examples
        --------
        >>> LinearNet(np.eye(1), np.eye(1), h=1).observables([2.0, 3.0])["end_to_end"].tolist()
        [[6.0]]
        """
        U, V = self._uv(self._check_theta(theta))
        return {"end_to_end": U @ V.T}


def scalar_rate(u, v) -> np.ndarray:
    """Exact instantaneous rate ``-L'/L = 2 (u^2 + v^2) = 2 sqrt(d^2 + 4 (uv)^2)`` (scalar model).

    For ``L = (1 - uv)^2 / 2`` (unit data), ``d = u^2 - v^2``.

    Parameters
    ----------
    u, v : float or array_like
        The two scalar weights (broadcast together).

    Returns
    -------
    ndarray
        The rate, broadcast shape of ``u`` and ``v``.

    Examples
    --------
    >>> float(scalar_rate(2.0, 1.0))
    10.0
    """
    u = as_float_array(u, "u")
    v = as_float_array(v, "v")
    d = u * u - v * v
    return 2 * np.sqrt(d * d + 4 * (u * v) ** 2)


def imbalance_quantities(D, r: int, m: int) -> tuple[float, float, float]:
    """``(Delta_plus, Delta_minus, Delta)`` of Proposition 1 from the imbalance matrix ``D``.

    With ``lambda_i`` the descending eigenvalues of ``D`` and ``[x]_+ = max(x, 0)``:
    ``Delta_plus = [lambda_1]_+ - [lambda_r]_+``,
    ``Delta_minus = [lambda_1(-D)]_+ - [lambda_m(-D)]_+`` and
    ``Delta = [lambda_r]_+ + [lambda_m(-D)]_+``.

    Parameters
    ----------
    D : array_like, shape (h, h)
        Imbalance ``U1^T U1 - V^T V`` (symmetrised).
    r : int
        Rank of the data (``1 <= r <= h``).
    m : int
        Output dimension (``1 <= m <= h``).

    Returns
    -------
    Delta_plus, Delta_minus, Delta : float
        The three non-negative imbalance quantities defined above, in that order.

    Examples
    --------
    >>> imbalance_quantities(np.diag([3.0, 1.0]), 2, 2)
    (2.0, 0.0, 1.0)
    """
    D = as_float_array(D, "D", ndim=2)
    lam = np.linalg.eigvalsh(0.5 * (D + D.T))[::-1]   # descending eigenvalues of D
    lneg = np.sort(-lam)[::-1]                          # descending eigenvalues of -D
    h = lam.size
    if not (1 <= r <= h and 1 <= m <= h):
        raise InputError(f"need 1 <= r, m <= h = {h}, got r = {r}, m = {m}")
    pos = lambda x: max(float(x), 0.0)  # noqa: E731
    d_plus = pos(lam[0]) - pos(lam[r - 1])
    d_minus = pos(lneg[0]) - pos(lneg[m - 1])
    delta = pos(lam[r - 1]) + pos(lneg[m - 1])
    return d_plus, d_minus, delta


def _pieces(dyn: LinearNet, theta):
    U, V = dyn._uv(dyn._check_theta(theta))
    W, s, P1, _ = compact_svd(dyn.X)
    U1 = P1.T @ U
    Yt = W.T @ dyn.Y
    return U1, V, s, Yt


def _sv(M, k):
    sv = np.linalg.svd(M, compute_uv=False)
    return float(sv[k - 1]) if k <= sv.size else 0.0


def prop1_rate_bound(dyn: LinearNet, theta) -> TheoremCheck:
    """Proposition 1: lower bound on the instantaneous rate ``-(dL~/dt) / L~``, ``L~ = L - L*``.

    ``lambda_r(Sigma_x) (-D+ + sqrt((D+ + D)^2 + 4 s_m^2(U1 V^T)) - D- +
    sqrt((D- + D)^2 + 4 s_r^2(U1 V^T)))`` with ``(D+, D-, D)`` from :func:`imbalance_quantities`.
    Hypotheses: ``h >= max(r, m)`` (so the eigenvalue indices exist).

    Parameters
    ----------
    dyn : LinearNet
        The model (``r`` = rank of ``X``, ``m`` = output dimension).
    theta : array_like, shape (size,)
        Current parameters.

    Returns
    -------
    TheoremCheck
        ``(bound, hypotheses_hold)``; ``(0.0, False)`` when ``h < max(r, m)``.

    Examples
    --------
    >>> dyn = LinearNet(np.eye(1), np.eye(1), h=1)
    >>> prop1_rate_bound(dyn, [2.0, 1.0]).bound   # scalar: equals 2 sqrt(d^2 + 4 p^2)
    10.0
    """
    U1, V, s, _ = _pieces(dyn, theta)
    r, m, h = s.size, dyn.m, dyn.h
    if h < max(r, m):
        return TheoremCheck(0.0, False)
    dp, dm, de = imbalance_quantities(U1.T @ U1 - V.T @ V, r, m)
    P = U1 @ V.T
    bound = float(np.min(s) ** 2 * (-dp + np.sqrt((dp + de) ** 2 + 4 * _sv(P, m) ** 2)
                                    - dm + np.sqrt((dm + de) ** 2 + 4 * _sv(P, r) ** 2)))
    return TheoremCheck(bound, True)


def theorem3(dyn: LinearNet, theta0) -> TheoremCheck:
    """Theorem 3: exponential envelope ``L(t) - L* <= exp(-rate t) (L(0) - L*)``.

    Returns ``(rate, hypotheses_hold)`` with ``rate = lambda_r(Sigma_x) c(0)`` and the
    hypothesis ``c(0) > 0`` (sufficient imbalance or sufficient margin) and ``h >= max(r, m)``.

    Parameters
    ----------
    dyn : LinearNet
        The model.
    theta0 : array_like, shape (size,)
        Initial parameters.

    Returns
    -------
    TheoremCheck
        ``(rate, hypotheses_hold)``, the rate in inverse time units of the flow.

    Examples
    --------
    >>> dyn = LinearNet(np.eye(1), np.eye(1), h=1)
    >>> rate, ok = theorem3(dyn, [1.0, 0.0])
    >>> round(rate, 12), ok
    (2.0, True)
    """
    U1, V, s, Yt = _pieces(dyn, theta0)
    r, m, h = s.size, dyn.m, dyn.h
    if h < max(r, m):
        return TheoremCheck(0.0, False)
    dp, dm, de = imbalance_quantities(U1.T @ U1 - V.T @ V, r, m)
    resid = float(np.linalg.norm(Yt - s[:, None] * (U1 @ V.T)))
    lam1 = float(np.max(s) ** 2)
    marg_m = max(_sv(Yt, m) - resid, 0.0)
    marg_r = max(_sv(Yt, r) - resid, 0.0)
    c0 = (-dp + np.sqrt((dp + de) ** 2 + 4 * marg_m**2 / lam1)
          - dm + np.sqrt((dm + de) ** 2 + 4 * marg_r**2 / lam1))
    return TheoremCheck(float(np.min(s) ** 2 * c0), bool(c0 > 0))


def min_norm_solution(X, Y) -> np.ndarray:
    """``Theta_hat = X^T (X X^T)^+ Y = pinv(X) Y`` (n x m).

    Parameters
    ----------
    X : array_like, shape (N, n)
        Inputs, one sample per row.
    Y : array_like, shape (N, m)
        Targets.

    Returns
    -------
    ndarray, shape (n, m)
        The minimum-Frobenius-norm least-squares solution ``pinv(X) Y``.

    Examples
    --------
    >>> min_norm_solution(np.array([[1.0, 1.0]]), np.array([[2.0]]))
    array([[1.],
           [1.]])
    """
    X = as_float_array(X, "X", ndim=2)
    Y = as_float_array(Y, "Y", ndim=2)
    if X.shape[0] != Y.shape[0]:
        raise InputError(f"`X` and `Y` must have the same number of rows, got {X.shape[0]} "
                         f"and {Y.shape[0]}")
    return np.linalg.pinv(X) @ Y


def min_norm_theorem(dyn: LinearNet, theta0, *, atol: float = 1e-12) -> TheoremCheck:
    """Propositions 9-10: if ``c(0) > 0`` and ``V U2^T = U1 U2^T = 0`` then ``U V^T -> pinv(X) Y``.

    Parameters
    ----------
    dyn : LinearNet
        The model.
    theta0 : array_like, shape (size,)
        Initial parameters.
    atol : float, default 1e-12
        Tolerance on ``V U2^T = 0`` and ``U1 U2^T = 0``.

    Returns
    -------
    TheoremCheck
        ``bound``: the predicted limit ``pinv(X) Y`` (n x m); ``hypotheses_hold``.

    Examples
    --------
    >>> dyn = LinearNet(np.array([[1.0, 1.0]]), np.array([[2.0]]), h=1)
    >>> limit, ok = min_norm_theorem(dyn, [0.5, 0.5, 1.5])
    >>> ok
    True
    """
    U, V = dyn._uv(dyn._check_theta(theta0))
    _, _, P1, P2 = compact_svd(dyn.X)
    U1, U2 = P1.T @ U, P2.T @ U
    invariant_set = (float(np.max(np.abs(V @ U2.T), initial=0.0)) <= atol
                     and float(np.max(np.abs(U1 @ U2.T), initial=0.0)) <= atol)
    ok = invariant_set and theorem3(dyn, theta0).hypotheses_hold
    return TheoremCheck(min_norm_solution(dyn.X, dyn.Y), bool(ok))


def balanced_factors(Theta, h: int, lam: float = 0.0):
    """Factors ``U (n x h), V (m x h)`` with ``U V^T = Theta`` and ``U^T U - V^T V = lam I_k``.

    Built from the SVD ``Theta = P diag(s) Q^T``: ``a_i^2 - b_i^2 = lam``, ``a_i b_i = s_i``
    (``k = min(n, m)`` used columns; needs ``h >= min(n, m)``).

    Parameters
    ----------
    Theta : array_like, shape (n, m)
        Target end-to-end matrix.
    h : int
        Hidden width, at least ``min(n, m)``; extra columns are zero.
    lam : float, default 0.0
        Imbalance level (0 gives balanced factors).

    Returns
    -------
    U : ndarray, shape (n, h)
        First factor; its first ``k`` columns are ``P diag(a)``, the rest zero.
    V : ndarray, shape (m, h)
        Second factor; its first ``k`` columns are ``Q diag(b)``, the rest zero.

    Examples
    --------
    >>> U, V = balanced_factors(np.diag([2.0, 1.0]), 2, lam=1.0)
    >>> np.allclose(U @ V.T, np.diag([2.0, 1.0])), np.allclose(U.T @ U - V.T @ V, np.eye(2))
    (True, True)
    """
    Theta = as_float_array(Theta, "Theta", ndim=2)
    n, m = Theta.shape
    k = min(n, m)
    h = as_int(h, "h", minimum=k)
    P, s, Qt = np.linalg.svd(Theta, full_matrices=False)
    a2 = 0.5 * (lam + np.sqrt(lam * lam + 4 * s * s))
    a = np.sqrt(a2)
    b = np.where(a > 0, s / np.where(a > 0, a, 1.0), np.sqrt(max(-lam, 0.0)))
    U = np.zeros((n, h))
    V = np.zeros((m, h))
    U[:, :k] = P * a
    V[:, :k] = Qt.T * b
    return U, V
