"""Two-layer bias-free (p)ReLU networks ``f(x) = V sigma_p(W^T x)`` shared by three papers.

``sigma_p(w, x) = ReLU(<w, x>)^p / ||w||^(p-1)`` (Min & Vidal 2024; ``p = 1`` is the ReLU).
It is 1-homogeneous in ``w``, so gradient flow conserves the per-neuron balance
``||v_j||^2 - ||w_j||^2`` for every ``p >= 1`` (Euler's identity).

For ``p = 1`` the field is piecewise smooth: :meth:`ShallowNet.switching_surfaces` returns the
pre-activations ``X W`` so that :func:`~netcoh.learning.simulate.simulate_gf` integrates one
activation pattern at a time (``sigma'(0) = 0``; dead neurons have an exactly zero field).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logsumexp

from netcoh._validation import as_float_array, as_int
from netcoh.exceptions import InputError

from .dynamics import TrainingDynamics, readonly

__all__ = ["ShallowNet", "stable_rank"]

_LOSSES = ("exp", "logistic", "ce")


def stable_rank(W) -> float:
    """``||W||_F^2 / ||W||_2^2``.

    Parameters
    ----------
    W : array_like, shape (a, b)
        Any real matrix.

    Returns
    -------
    float
        Between 1 and ``rank(W)``; 0 for the zero matrix.

    Examples
    --------
    >>> stable_rank(np.diag([1.0, 1.0, 0.0]))
    2.0
    """
    W = as_float_array(W, "W", ndim=2)
    s = np.linalg.svd(W, compute_uv=False)
    return float(np.sum(s**2) / s[0] ** 2) if s[0] > 0 else 0.0


@dataclass(frozen=True)
class ShallowNet(TrainingDynamics):
    """``f(x) = V sigma_p(W^T x)``, ``W`` (D x h), ``V`` (d_out x h), trained on ``(X, y)``.

    Parameters
    ----------
    X : (n, D) array
        Inputs, one sample per row.
    y : (n,) array
        Labels: ``+-1`` for ``loss="exp"``/``"logistic"`` (then ``d_out = 1``), integers
        ``0..K-1`` for ``loss="ce"`` (``d_out = K``).
    h : int
        Width.
    p : float
        pReLU exponent, ``p >= 1``.
    loss : {"exp", "logistic", "ce"}
    loss_name : {"exp", "logistic", "ce"}, default "exp"
        Loss on the outputs: exponential ``exp(-y f)``, logistic ``log(1 + exp(-y f))``
        or softmax cross-entropy.
    reduction : {"sum", "mean"}
        The ICLR'24 and NeurIPS'25 theory uses sums; the pReLU code uses the mean.

    Examples
    --------
    >>> net = ShallowNet(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0]), h=2)
    >>> net.loss(net.pack(W=np.eye(2), V=np.array([[1.0, -1.0]])))  # 2 exp(-1)
    0.7357588823428847
    """

    X: np.ndarray
    y: np.ndarray
    h: int
    p: float = 1.0
    loss_name: str = "exp"
    reduction: str = "sum"

    def __post_init__(self):
        X = as_float_array(self.X, "X", ndim=2)
        y = as_float_array(self.y, "y", ndim=1)
        if y.size != X.shape[0]:
            raise InputError(f"`y` must have one label per row of `X` ({X.shape[0]}), got "
                             f"{y.size}")
        if self.loss_name not in _LOSSES:
            raise InputError(f"`loss_name` must be one of {_LOSSES}, got {self.loss_name!r}")
        if self.reduction not in ("sum", "mean"):
            raise InputError(f"`reduction` must be 'sum' or 'mean', got {self.reduction!r}")
        if self.loss_name == "ce":
            if np.any(y != np.round(y)) or np.any(y < 0):
                raise InputError("`y` must hold class indices 0..K-1 for cross-entropy")
        elif not np.all(np.isin(y, (-1.0, 1.0))):
            raise InputError("`y` must hold labels +1/-1 for a binary loss")
        p = float(self.p)
        if not np.isfinite(p) or p < 1:
            raise InputError(f"`p` must be >= 1, got {self.p!r}")
        object.__setattr__(self, "X", readonly(X))
        object.__setattr__(self, "y", readonly(y))
        object.__setattr__(self, "h", as_int(self.h, "h", minimum=1))
        object.__setattr__(self, "p", p)

    # ------------------------------------------------------------------ structure
    @property
    def d_out(self) -> int:
        return int(self.y.max()) + 1 if self.loss_name == "ce" else 1

    @property
    def shapes(self):
        return {"W": (self.X.shape[1], self.h), "V": (self.d_out, self.h)}

    def _wv(self, th):
        k = self.X.shape[1] * self.h
        return th[:k].reshape(self.X.shape[1], self.h), th[k:].reshape(self.d_out, self.h)

    def features(self, theta) -> np.ndarray:
        """Hidden features ``sigma_p(W^T x_i)``, shape (n, h).

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat parameters ``[W.ravel(), V.ravel()]``.

        Returns
        -------
        ndarray, shape (n, h)
            One row per training sample.

        Examples
        --------
        >>> net = ShallowNet(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0]), h=2)
        >>> net.features(net.pack(W=[[1.0, -1.0], [0.0, 2.0]], V=[[1.0, 1.0]])).tolist()
        [[1.0, 0.0], [0.0, 2.0]]
        """
        W, _ = self._wv(self._check_theta(theta))
        return self._phi(W, self.X @ W, None)[0]

    def _phi(self, W, Z, pattern):
        act = (Z > 0) if pattern is None else pattern
        R = np.where(act, Z, 0.0)
        if self.p == 1.0:
            return R, act, None
        nrm = np.maximum(np.linalg.norm(W, axis=0), 1e-300)
        return R**self.p / nrm ** (self.p - 1), act, (R, nrm)

    def _dloss(self, F):
        """Loss value and dL/dF for outputs F (n, d_out)."""
        scale = 1.0 / self.y.size if self.reduction == "mean" else 1.0
        if self.loss_name == "ce":
            lse = logsumexp(F, axis=1)
            idx = self.y.astype(int)
            val = np.sum(lse - F[np.arange(F.shape[0]), idx])
            G = np.exp(F - lse[:, None])
            G[np.arange(F.shape[0]), idx] -= 1.0
            return scale * val, scale * G
        z = self.y * F[:, 0]
        if self.loss_name == "exp":
            e = np.exp(-z)
            return scale * np.sum(e), scale * (-self.y * e)[:, None]
        return (scale * np.sum(np.logaddexp(0.0, -z)),
                scale * (-self.y * expit(-z))[:, None])

    def _loss(self, th):
        W, V = self._wv(th)
        Phi = self._phi(W, self.X @ W, None)[0]
        return self._dloss(Phi @ V.T)[0]

    def _grad_on_pattern(self, th, pattern):
        W, V = self._wv(th)
        Z = self.X @ W
        Phi, act, extra = self._phi(W, Z, pattern)
        _, G = self._dloss(Phi @ V.T)
        gV = G.T @ Phi
        C = G @ V                                   # (n, h): dL/dphi
        if self.p == 1.0:
            gW = self.X.T @ (C * act)
        else:
            R, nrm = extra
            p = self.p
            gW = (self.X.T @ (C * p * R ** (p - 1))) / nrm ** (p - 1)
            gW -= W * ((p - 1) * np.sum(C * R**p, axis=0) / nrm ** (p + 1))
        return np.concatenate([gW.ravel(), gV.ravel()])

    def _grad(self, th):
        return self._grad_on_pattern(th, None)

    def switching_surfaces(self, theta):
        """Pre-activations ``X W`` whose signs select the ReLU pattern (``p = 1`` only).

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat parameters.

        Returns
        -------
        ndarray, shape (n, h), or None
            ``None`` for ``p > 1``, where the field is smooth.

        Examples
        --------
        >>> net = ShallowNet(np.eye(2), np.array([1.0, -1.0]), h=1)
        >>> net.switching_surfaces(net.pack(W=[[1.0], [-1.0]], V=[[1.0]])).tolist()
        [[1.0], [-1.0]]
        """
        if self.p != 1.0:
            return None
        W, _ = self._wv(np.asarray(theta, dtype=float))
        return self.X @ W

    def invariants(self, theta):
        """Per-neuron balance ``||v_j||^2 - ||w_j||^2``, conserved by gradient flow.

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat parameters.

        Returns
        -------
        dict
            ``{"balance": ndarray of shape (h,)}``.

        Examples
        --------
        >>> net = ShallowNet(np.eye(2), np.array([1.0, -1.0]), h=1)
        >>> net.invariants(net.pack(W=[[1.0], [1.0]], V=[[3.0]]))["balance"].tolist()
        [7.0]
        """
        W, V = self._wv(self._check_theta(theta))
        return {"balance": np.sum(V**2, axis=0) - np.sum(W**2, axis=0)}

    def observables(self, theta):
        """Spectral norm and stable rank of the first layer.

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat parameters.

        Returns
        -------
        dict
            ``"W_norm2"``: ``||W||_2^2``; ``"stable_rank"``: :func:`stable_rank` of ``W``
            (0-d arrays).

        Examples
        --------
        >>> net = ShallowNet(np.eye(2), np.array([1.0, -1.0]), h=2)
        >>> obs = net.observables(net.pack(W=np.eye(2), V=[[1.0, 1.0]]))
        >>> float(obs["W_norm2"]), float(obs["stable_rank"])
        (1.0, 2.0)
        """
        W, V = self._wv(self._check_theta(theta))
        return {"W_norm2": np.array(float(np.linalg.norm(W, 2)) ** 2),
                "stable_rank": np.array(stable_rank(W))}

    def outputs(self, theta, X=None) -> np.ndarray:
        """Network outputs ``f(x)`` for ``X`` (default: the training inputs), shape (n, d_out).

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat parameters.
        X : array_like, shape (m, D), optional
            Inputs, one per row; default the training inputs.

        Returns
        -------
        ndarray, shape (m, d_out)
            One row of network outputs per row of ``X`` (per training input by default).

        Examples
        --------
        >>> net = ShallowNet(np.eye(2), np.array([1.0, -1.0]), h=2)
        >>> net.outputs(net.pack(W=np.eye(2), V=[[1.0, -1.0]]), X=[[2.0, 1.0]]).tolist()
        [[1.0]]
        """
        W, V = self._wv(self._check_theta(theta))
        X = self.X if X is None else as_float_array(X, "X", ndim=2)
        return self._phi(W, X @ W, None)[0] @ V.T
