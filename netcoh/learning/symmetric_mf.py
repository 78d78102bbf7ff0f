"""Incremental learning in symmetric matrix factorisation (Min & Vidal, CDC 2025).

Loss ``L(U) = ||Y - U U^T||_F^2 / 4`` for a PSD target ``Y`` (n x n) and ``U`` (n x r). The
gradient flow ``U' = (Y - U U^T) U`` induces the Riccati equation

.. math:: \\dot W = W Y + Y W - 2 W^2, \\qquad W = U U^T,

solved in closed form (:func:`closed_form`, Proposition 1) as the ratio ``X2 X1^{-1}`` of the
linear Hamiltonian system ``d/dt [X1; X2] = [[-Y, 2I], [0, Y]] [X1; X2]``
(:func:`hamiltonian_system`, :func:`riccati_expm`). From a small spectral initialisation each
eigenvalue follows a logistic curve (:func:`mode_solution`) and mode ``i`` is learned around
``t = log(1/alpha) / (2 sigma_i)`` (:func:`transition_time`); Theorems 3 and 4
(:func:`theorem3`, :func:`theorem4`) give time intervals on which ``W`` is within ``eps`` of the
best rank-``k`` approximation of ``Y``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.linalg import expm, qr

from netcoh._validation import as_float_array, as_int
from netcoh.exceptions import InputError

from ._psd import check_psd
from ._psd import eig_desc as _eig_desc
from .dynamics import TheoremCheck, TrainingDynamics, readonly

if TYPE_CHECKING:
    import control

__all__ = ["SymmetricMF", "closed_form", "riccati_expm", "hamiltonian_system", "mode_solution",
           "transition_time", "best_rank_k", "riccati_jacobian", "equilibrium_spectrum",
           "theorem3", "theorem4", "check_psd"]


@dataclass(frozen=True)
class SymmetricMF(TrainingDynamics):
    """Gradient flow of ``||Y - U U^T||_F^2 / 4`` over ``U`` (n x r).

    Parameters
    ----------
    Y : array_like, (n, n)
        Symmetric positive semidefinite target.
    r : int
        Number of columns of ``U`` (the theorems need ``r >= n``).

    Examples
    --------
    >>> dyn = SymmetricMF(np.diag([2.0, 1.0]), r=2)
    >>> dyn.loss(dyn.pack(U=np.diag([2.0, 1.0]) ** 0.5)) < 1e-30
    True
    """

    Y: np.ndarray
    r: int
    complex_step = True

    def __post_init__(self):
        object.__setattr__(self, "Y", readonly(check_psd(self.Y)))
        object.__setattr__(self, "r", as_int(self.r, "r", minimum=1))

    @property
    def n(self) -> int:
        return self.Y.shape[0]

    @property
    def shapes(self):
        return {"U": (self.n, self.r)}

    def _loss(self, th):
        U = th.reshape(self.n, self.r)
        R = self.Y - U @ U.T
        return 0.25 * np.sum(R * R)

    def _grad(self, th):
        U = th.reshape(self.n, self.r)
        return (-(self.Y - U @ U.T) @ U).ravel()

    def observables(self, theta):
        """The product ``W = U U^T`` and its eigenvalues.

        Parameters
        ----------
        theta : array_like, shape (n * r,)
            ``U.ravel()``.

        Returns
        -------
        dict
            ``"W"``: ndarray (n, n); ``"eigenvalues"``: ndarray (n,), descending.

        Examples
        --------
        >>> dyn = SymmetricMF(np.diag([2.0, 1.0]), r=2)
        >>> dyn.observables(dyn.pack(U=np.diag([2.0, 1.0])))["eigenvalues"].round(12).tolist()
        [4.0, 1.0]
        """
        U = self._check_theta(theta).reshape(self.n, self.r)
        W = U @ U.T
        return {"W": W, "eigenvalues": np.linalg.eigvalsh(W)[::-1]}

    def closed_form(self, theta0, t):
        """``W(t) = U(t) U(t)^T`` by Proposition 1 (``U`` itself has no closed form).

        Evaluated from the factor ``U0`` directly (see :func:`closed_form`).

        Parameters
        ----------
        theta0 : array_like, shape (n * r,)
            Initial ``U0.ravel()``.
        t : float or array_like, shape (k,)
            Non-negative times.

        Returns
        -------
        ndarray
            ``W(t)``: shape ``(n, n)`` for scalar ``t``, else ``(k, n, n)`` -- not
            ``theta(t)``.

        Examples
        --------
        >>> dyn = SymmetricMF(np.diag([1.0, 0.0]), r=2)
        >>> W = dyn.closed_form(dyn.pack(U=np.sqrt(1e-3) * np.eye(2)), 50.0)
        >>> round(float(W[0, 0]), 9)
        1.0
        """
        U0 = self._check_theta(theta0).reshape(self.n, self.r)
        return _closed_form_factor(self.Y, U0, t)


def closed_form(Y, W0, t) -> np.ndarray:
    """Proposition 1: exact solution of ``W' = W Y + Y W - 2 W^2`` from ``W(0) = W0``.

    With ``Y = Phi diag(sigma) Phi^T``, ``W~0 = Phi^T W0 Phi = B B^T``,
    ``S = diag(e^{sigma t})`` and ``G = diag((e^{2 sigma t} - 1)/sigma)`` (``2t`` where
    ``sigma = 0``), ``W(t) = Phi S B (I + B^T G B)^{-1} B^T S Phi^T``. It is evaluated without
    inverting ``W0`` and without forming ``e^{sigma t}``: with ``M = G^{1/2} B`` and the QR
    factorisation ``[M; I] = Q R`` (rows sorted by norm, column pivoting),
    ``M (I + M^T M)^{-1} M^T = Q_M Q_M^T``, so ``W(t) = Phi F F^T Phi^T`` with the bounded
    factor ``F = Ghat^{-1/2} Q_M``, ``Ghat = diag((1 - e^{-2 sigma t})/sigma)``. Rows of ``M``
    longer than ``1e150`` are shortened to ``1e150``, which changes ``W`` by
    ``O(1e-300)`` relative. Eigenvalues of ``W0`` below ``n eps_machine ||W0||`` count as
    zero (its numerical rank; give the factor to :meth:`SymmetricMF.closed_form` to avoid this
    step). ``W(t)`` is positive semidefinite by construction and accurate to
    about ``1e-10`` relative to ``||Y||`` for every initial scale down to ``|W0| ~ 1e-300``
    and every ``t >= 0`` (checked against a direct ODE solve of the factor dynamics).

    Parameters
    ----------
    Y : array_like, shape (n, n)
        Symmetric positive semidefinite target.
    W0 : array_like, shape (n, n)
        Positive semidefinite initial value ``W(0)``.
    t : float or array_like, shape (k,)
        Non-negative times.

    Returns
    -------
    ndarray
        ``W(t)``: shape ``(n, n)`` for scalar ``t``, else ``(k, n, n)``.

    Examples
    --------
    >>> W = closed_form(np.diag([1.0, 0.0]), 1e-3 * np.eye(2), 50.0)
    >>> round(float(W[0, 0]), 9), round(float(W[1, 1]), 9)   # 1e-3 / (1 + 2e-3 * 50)
    (1.0, 0.000909091)
    >>> W = closed_form(np.diag([1.0, 0.0]), 1e-300 * np.eye(2), 400.0)
    >>> round(float(W[0, 0]), 12)                     # learned although W0 ~ 1e-300
    1.0
    """
    Y = check_psd(Y)
    W0 = check_psd(W0, "W0")
    if W0.shape != Y.shape:
        raise InputError(f"`W0` must have shape {Y.shape}, got {W0.shape}")
    scale = float(np.max(np.abs(W0)))
    if scale == 0.0:
        return _closed_form_factor(Y, np.zeros((Y.shape[0], 1)), t)
    ev, V = np.linalg.eigh(W0 / scale)
    keep = ev > W0.shape[0] * np.finfo(float).eps * ev[-1]   # numerical rank of W0
    return _closed_form_factor(Y, V[:, keep] * np.sqrt(ev[keep] * scale), t)


_LOG_ROW_CAP = 150.0 * np.log(10.0)


def _closed_form_factor(Y, U0, t):
    """:func:`closed_form` from a factor ``U0`` of ``W0 = U0 U0^T`` (``Y`` already checked)."""
    tt = as_float_array(t, "t")
    if tt.ndim > 1 or np.any(tt < 0):
        raise InputError("`t` must be a non-negative scalar or 1-D array")
    sig, Phi = _eig_desc(Y)
    B = Phi.T @ U0
    out = np.empty((tt.size, Y.shape[0], Y.shape[0]))
    for k, tk in enumerate(np.atleast_1d(tt)):
        F = _factor_at(sig, B, float(tk))
        out[k] = (Phi @ F) @ (Phi @ F).T
    return out[0] if tt.ndim == 0 else out


def _factor_at(sig, B, t):
    """Factor ``F`` with ``W~(t) = F F^T`` in ``Y``'s eigenbasis (see :func:`closed_form`)."""
    if t == 0.0:
        return B
    pos = sig > 0
    ghat = np.where(pos, -np.expm1(-2 * sig * t) / np.where(pos, sig, 1.0), 2 * t)
    nb = np.linalg.norm(B, axis=1)
    nz = nb > 0
    M = np.zeros_like(B)
    logs = np.where(pos, sig * t, 0.0)[nz] + 0.5 * np.log(ghat[nz]) + np.log(nb[nz])
    M[nz] = np.exp(np.minimum(logs, _LOG_ROW_CAP))[:, None] * (B[nz] / nb[nz, None])
    A = np.vstack([M, np.eye(B.shape[1])])
    order = np.argsort(-np.linalg.norm(A, axis=1), kind="stable")
    Q = np.empty((A.shape[0], min(A.shape)))
    Q[order] = qr(A[order], mode="economic", pivoting=True)[0]
    return Q[: B.shape[0]] / np.sqrt(ghat)[:, None]


def hamiltonian_system(Y) -> control.StateSpace:
    """The LTI system whose flow solves the Riccati equation: ``A = [[-Y, 2I], [0, Y]]``.

    ``W(t) = X2 X1^{-1}`` with ``[X1; X2](t) = expm(A t) [I; W0]``. Returned as
    ``control.ss(A, I, I, 0)`` (2n states); its eigenvalues are ``+-sigma_i(Y)``.

    Parameters
    ----------
    Y : array_like, shape (n, n)
        Symmetric positive semidefinite target.

    Returns
    -------
    control.StateSpace
        Continuous time, ``2n`` states, identity input and output maps.

    Examples
    --------
    >>> np.sort(hamiltonian_system(np.diag([2.0, 1.0])).poles().real)
    array([-2., -1.,  1.,  2.])
    """
    import control

    Y = check_psd(Y)
    n = Y.shape[0]
    A = np.block([[-Y, 2 * np.eye(n)], [np.zeros((n, n)), Y]])
    return control.ss(A, np.eye(2 * n), np.eye(2 * n), np.zeros((2 * n, 2 * n)))


def riccati_expm(Y, W0, t) -> np.ndarray:
    """Riccati solution via ``expm`` of the Hamiltonian matrix (independent of Proposition 1).

    Meant as a reference for moderate ``t``: ``expm(A t)`` grows like ``e^{sigma_1 t}``
    and ``X1`` becomes ill-conditioned for long horizons.

    Parameters
    ----------
    Y : array_like, shape (n, n)
        Symmetric positive semidefinite target.
    W0 : array_like, shape (n, n)
        Positive semidefinite initial value ``W(0)``.
    t : float or array_like, shape (k,)
        Times.

    Returns
    -------
    ndarray
        ``W(t)``: shape ``(n, n)`` for scalar ``t``, else ``(k, n, n)``.

    Examples
    --------
    >>> Y = np.diag([1.0, 0.5]); W0 = 0.01 * np.eye(2)
    >>> bool(np.allclose(riccati_expm(Y, W0, 3.0), closed_form(Y, W0, 3.0), atol=1e-12))
    True
    """
    Y = check_psd(Y)
    W0 = check_psd(W0, "W0")
    if W0.shape != Y.shape:
        raise InputError(f"`W0` must have shape {Y.shape}, got {W0.shape}")
    A = np.asarray(hamiltonian_system(Y).A)
    n = Y.shape[0]
    tt = as_float_array(t, "t")
    res = []
    for tk in np.atleast_1d(tt):
        X = expm(A * tk) @ np.vstack([np.eye(n), W0])
        W = np.linalg.solve(X[:n].T, X[n:].T).T
        res.append(0.5 * (W + W.T))
    return res[0] if tt.ndim == 0 else np.array(res)


def mode_solution(sigma_y, sigma_0, alpha, t) -> np.ndarray:
    """Corollary 2: eigenvalue of ``W(t)`` for a spectral initialisation (logistic growth).

    ``sigma_W = alpha s0 sy e^{2 sy t} / (sy + alpha s0 (e^{2 sy t} - 1))``, and
    ``alpha s0 / (1 + 2 alpha s0 t)`` when ``sy = 0``. Broadcasts over all arguments.

    Parameters
    ----------
    sigma_y : float or array_like
        Eigenvalue(s) ``sy >= 0`` of the target ``Y``.
    sigma_0 : float or array_like
        Matching eigenvalue(s) ``s0 >= 0`` of the initial shape (``W0 = alpha * shape``).
    alpha : float or array_like
        Positive initialisation scale.
    t : float or array_like
        Non-negative times.

    Returns
    -------
    ndarray
        The eigenvalue of ``W(t)``, broadcast shape of the arguments.

    Examples
    --------
    >>> round(float(mode_solution(2.0, 1.0, 1e-6, 100.0)), 12)
    2.0
    """
    sy = as_float_array(sigma_y, "sigma_y")
    s0 = as_float_array(sigma_0, "sigma_0")
    a = as_float_array(alpha, "alpha")
    tt = as_float_array(t, "t")
    if np.any(sy < 0) or np.any(s0 < 0) or np.any(a <= 0) or np.any(tt < 0):
        raise InputError("`sigma_y`, `sigma_0`, `t` must be >= 0 and `alpha` > 0")
    x0 = a * s0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        em = np.exp(-2 * sy * tt)
        pos = x0 * sy / (sy * em + x0 * (1 - em))
        zero = x0 / (1 + 2 * x0 * tt)
    return np.where(sy > 0, pos, zero)


def transition_time(sigma_y, sigma_0, alpha, fraction: float = 0.5) -> np.ndarray:
    """Exact time at which mode ``i`` reaches ``fraction * sigma_y`` (spectral init).

    Solving the logistic: ``t = log(f (sy - alpha s0) / ((1 - f) alpha s0)) / (2 sy)``; for
    ``f = 1/2`` this is ``log(sy/(alpha s0) - 1)/(2 sy) ~ log(1/alpha)/(2 sy)``.

    Parameters
    ----------
    sigma_y : float or array_like
        Positive eigenvalue(s) of the target ``Y``.
    sigma_0 : float or array_like
        Matching eigenvalue(s) of the initial shape, with
        ``0 < alpha * sigma_0 < fraction * sigma_y``.
    alpha : float or array_like
        Positive initialisation scale.
    fraction : float, default 0.5
        Level in ``(0, 1)`` as a fraction of ``sigma_y``.

    Returns
    -------
    ndarray
        Times (same time unit as the gradient flow), broadcast shape of the arguments.

    Examples
    --------
    >>> round(float(transition_time(1.0, 1.0, np.exp(-10.0) )), 6)
    4.999977
    """
    sy = as_float_array(sigma_y, "sigma_y")
    s0 = as_float_array(sigma_0, "sigma_0")
    a = as_float_array(alpha, "alpha")
    f = float(fraction)
    if not 0 < f < 1:
        raise InputError(f"`fraction` must be in (0, 1), got {fraction}")
    x0 = a * s0
    if np.any(sy <= 0) or np.any(x0 <= 0) or np.any(x0 >= f * sy):
        raise InputError("need `sigma_y > 0` and `0 < alpha*sigma_0 < fraction*sigma_y`")
    return np.log(f * (sy - x0) / ((1 - f) * x0)) / (2 * sy)


def best_rank_k(Y, k: int) -> np.ndarray:
    """Best rank-``k`` approximation ``Y_k`` of a PSD matrix (top ``k`` eigenpairs).

    Parameters
    ----------
    Y : array_like, shape (n, n)
        Symmetric positive semidefinite matrix.
    k : int
        Rank, ``0 <= k <= n``.

    Returns
    -------
    ndarray, shape (n, n)
        ``Y_k``: the sum of the top ``k`` eigenvalues of ``Y`` times their eigenprojectors.

    Examples
    --------
    >>> best_rank_k(np.diag([3.0, 1.0]), 1)
    array([[3., 0.],
           [0., 0.]])
    """
    Y = check_psd(Y)
    k = as_int(k, "k", minimum=0, maximum=Y.shape[0])
    sig, Phi = _eig_desc(Y)
    return (Phi[:, :k] * sig[:k]) @ Phi[:, :k].T


def equilibrium_spectrum(Y, support) -> np.ndarray:
    """Predicted Jacobian eigenvalues of the Riccati field at ``W* = sum_{i in S} s_i p_i p_i^T``.

    The Jacobian ``dW -> dW M + M dW`` with ``M = Y - 2 W*`` has eigenvalues ``mu_a + mu_b``
    for all pairs of eigenvalues ``mu`` of ``M`` (``-s_i`` on ``S``, ``+s_j`` off ``S``).
    Returned sorted ascending, length ``n^2`` (vec space).

    Parameters
    ----------
    Y : array_like, shape (n, n)
        Symmetric positive semidefinite target.
    support : sequence of int
        Indices ``S`` (in the descending eigenvalue order of ``Y``) of the learned modes.

    Returns
    -------
    ndarray, shape (n**2,)
        The eigenvalues ``mu_a + mu_b`` of the Jacobian at ``W*``, ascending.

    Examples
    --------
    >>> equilibrium_spectrum(np.diag([2.0, 1.0]), [0, 1])
    array([-4., -3., -3., -2.])
    """
    Y = check_psd(Y)
    sig, _ = _eig_desc(Y)
    S = np.zeros(sig.size, dtype=bool)
    S[np.asarray(support, dtype=int)] = True
    mu = np.where(S, -sig, sig)
    return np.sort((mu[:, None] + mu[None, :]).ravel())


def riccati_jacobian(Y, W_star) -> control.StateSpace:
    """Linearisation of ``W' = W Y + Y W - 2 W^2`` at ``W_star`` as a ``control.StateSpace``.

    States are ``vec(dW)`` (column-major, n^2 of them); ``A = I kron M + M kron I`` with
    ``M = Y - 2 W_star``.

    Parameters
    ----------
    Y : array_like, shape (n, n)
        Symmetric positive semidefinite target.
    W_star : array_like, shape (n, n)
        An equilibrium of the Riccati field (e.g. :func:`best_rank_k` of ``Y``).

    Returns
    -------
    control.StateSpace
        Continuous time, ``n^2`` states, identity input and output maps.

    Raises
    ------
    InputError
        If ``W_star`` is not an equilibrium (field above ``1e-8 * max(1, max |Y|)``).

    Examples
    --------
    >>> sys = riccati_jacobian(np.diag([2.0, 1.0]), np.diag([2.0, 1.0]))
    >>> np.sort(sys.poles().real)
    array([-4., -3., -3., -2.])
    """
    import control

    Y = check_psd(Y)
    Ws = as_float_array(W_star, "W_star", ndim=2)
    if Ws.shape != Y.shape:
        raise InputError(f"`W_star` must have shape {Y.shape}, got {Ws.shape}")
    F = Ws @ Y + Y @ Ws - 2 * Ws @ Ws
    if float(np.max(np.abs(F))) > 1e-8 * max(1.0, float(np.max(np.abs(Y)))):
        raise InputError(f"`W_star` must be an equilibrium, got |field| = "
                         f"{float(np.max(np.abs(F))):.3g}")
    M = Y - 2 * Ws
    n = Y.shape[0]
    A = np.kron(np.eye(n), M) + np.kron(M, np.eye(n))
    return control.ss(A, np.eye(n * n), np.eye(n * n), np.zeros((n * n, n * n)))


def _intervals(sig, K, alpha, c_eps, C_eps):
    iv = np.empty((K, 2))
    for k in range(K):
        iv[k, 0] = np.log(C_eps / alpha) / (2 * sig[k])
        iv[k, 1] = np.log(c_eps / alpha) / (2 * sig[k + 1]) if k + 1 < K else np.inf
    return iv


def _common_hyp(sig, K, alpha, eps, c_eps, C_eps):
    distinct = bool(np.all(np.diff(sig[:K]) < 0))
    la = -np.log(alpha)
    ratio = (la + np.log(c_eps)) / (la + np.log(C_eps))
    gaps = sig[1:K] / sig[:K - 1] if K > 1 else np.zeros(0)
    return distinct and alpha <= c_eps and bool(ratio > (gaps.max() if gaps.size else 0.0))


def theorem3(Y, sigma_0, alpha: float, eps: float) -> TheoremCheck:
    """Theorem 3 (spectral initialisation): intervals ``I_k`` with ``||W(t) - Y_k||_2 <= eps``.

    Parameters
    ----------
    Y : (n, n) PSD target with distinct positive eigenvalues ``s_1 > ... > s_K``.
    sigma_0 : (n,) array
        Eigenvalues of the init shape ``U0bar U0bar^T`` in ``Y``'s eigenbasis (descending
        order of ``Y``'s eigenvalues); ``W0 = alpha Phi diag(sigma_0) Phi^T``.
    alpha, eps : float
        Init scale and accuracy ``0 < eps <= s_K``.

    Returns
    -------
    TheoremCheck
        ``bound``: (K, 2) array of intervals (last upper end ``inf``);
        ``hypotheses_hold``: distinct eigenvalues, ``alpha <= c_eps`` and the log-ratio
        condition.

    Examples
    --------
    >>> iv, ok = theorem3(np.diag([4.0, 1.0]), [1.0, 1.0], 1e-12, 0.5)
    >>> ok, np.round(iv[0], 3)
    (True, array([ 3.887, 13.469]))
    """
    Y = check_psd(Y)
    sig, _ = _eig_desc(Y)
    s0 = as_float_array(sigma_0, "sigma_0", ndim=1)
    if s0.size != sig.size:
        raise InputError(f"`sigma_0` must have length {sig.size}, got {s0.size}")
    alpha, eps = float(alpha), float(eps)
    if alpha <= 0 or eps <= 0:
        raise InputError(f"`alpha` and `eps` must be positive, got {alpha}, {eps}")
    K = int(np.sum(sig > 0))
    if K == 0:
        raise InputError("`Y` must be non-zero")
    if np.any(s0[:K] <= 0):
        return TheoremCheck(np.full((K, 2), np.nan), False)
    c_eps = eps / float(np.max(s0))
    C_eps = sig[0] ** 2 / (eps * float(np.min(s0[:K])))
    ok = eps <= sig[K - 1] and _common_hyp(sig, K, alpha, eps, c_eps, C_eps)
    return TheoremCheck(_intervals(sig, K, alpha, c_eps, C_eps), bool(ok))


def theorem4(Y, U0_shape, alpha: float, eps: float) -> TheoremCheck:
    """Theorem 4 (general invertible initialisation ``W0 = alpha U0bar U0bar^T``).

    ``V = (Phi^T U0bar U0bar^T Phi)^{-1}``, ``M = max(||V||, ||V^{-1}||)``,
    ``c_eps = eps/(16 M^2)``, ``C_eps = 16 s_1^2 M^2 / eps``; hypotheses: ``U0bar U0bar^T``
    invertible, ``eps <= min(s_K, 1)``, ``alpha <= c_eps / M`` and the log-ratio condition.

    Parameters
    ----------
    Y : array_like, shape (n, n)
        PSD target with distinct positive eigenvalues ``s_1 > ... > s_K``.
    U0_shape : array_like, shape (n, r)
        Initial shape ``U0bar`` (``U(0) = sqrt(alpha) U0bar``).
    alpha : float
        Positive initialisation scale.
    eps : float
        Positive accuracy.

    Returns
    -------
    TheoremCheck
        ``bound``: (K, 2) array of intervals ``I_k`` on which ``||W(t) - Y_k||_2 <= eps``
        (last upper end ``inf``; NaN if ``U0bar U0bar^T`` is singular);
        ``hypotheses_hold``.

    Examples
    --------
    >>> iv, ok = theorem4(np.diag([4.0, 1.0]), np.eye(2), 1e-20, 0.5)
    >>> ok, iv.shape
    (True, (2, 2))
    """
    Y = check_psd(Y)
    U0 = as_float_array(U0_shape, "U0_shape", ndim=2)
    if U0.shape[0] != Y.shape[0]:
        raise InputError(f"`U0_shape` must have {Y.shape[0]} rows, got {U0.shape[0]}")
    alpha, eps = float(alpha), float(eps)
    if alpha <= 0 or eps <= 0:
        raise InputError(f"`alpha` and `eps` must be positive, got {alpha}, {eps}")
    sig, Phi = _eig_desc(Y)
    K = int(np.sum(sig > 0))
    if K == 0:
        raise InputError("`Y` must be non-zero")
    Wt = Phi.T @ U0 @ U0.T @ Phi
    ev = np.linalg.eigvalsh(Wt)
    if ev[0] <= 1e-12 * max(1.0, ev[-1]):
        return TheoremCheck(np.full((K, 2), np.nan), False)
    M = max(1.0 / ev[0], ev[-1])  # ||V|| = 1/lambda_min(W~0), ||V^{-1}|| = lambda_max(W~0)
    c_eps = eps / (16 * M**2)
    C_eps = 16 * sig[0] ** 2 * M**2 / eps
    ok = (eps <= min(sig[K - 1], 1.0) and alpha <= c_eps / M
          and _common_hyp(sig, K, alpha, eps, c_eps, C_eps))
    return TheoremCheck(_intervals(sig, K, alpha, c_eps, C_eps), bool(ok))
