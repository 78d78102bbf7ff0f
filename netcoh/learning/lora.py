"""Learning dynamics of LoRA in matrix factorisation.

Xu, Min, Luo, MacDonald, Tarmoun, Mallada & Vidal, AISTATS 2025.

Pre-trained ``W2`` (m x h), ``W1`` (h x n), fine-tuning target ``Y_ft``; LoRA factors
``A1`` (r x n), ``B1`` (h x r), ``A2`` (r x h), ``B2`` (m x r) and loss
``L = ||Y_ft - (W2 + B2 A2)(W1 + B1 A1)||_F^2 / 2``. Gradient flow conserves
``A1 A1^T - B1^T B1`` and ``A2 A2^T - B2^T B2``.

* Early phase (near ``A = B = 0``): ``Z1 = [B1; A1^T]``, ``Z2 = [B2; A2^T]`` follow the LTI
  systems ``Z1' = M1 Z1``, ``Z2' = M2 Z2`` with symmetric ``M1 = [[0, W2^T dY], [dY^T W2, 0]]``,
  ``M2 = [[0, dY W1^T], [W1 dY^T, 0]]`` (:func:`early_phase_matrices`,
  :func:`early_phase_solution`); for rank-one ``dY = s u v^T`` the growth rate is
  ``s sigma_W2``.
* Spectral initialisation (:func:`spectral_init`) decouples the flow into one 4-scalar system
  per singular mode (:class:`ModeDynamics`); Theorem 4.1 (:func:`theorem41`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import ortho_group

from netcoh._validation import as_float_array, as_int
from netcoh.exceptions import InputError

from .dynamics import TheoremCheck, TrainingDynamics, readonly

if TYPE_CHECKING:
    import control

__all__ = ["LoRA", "ModeDynamics", "aligned_pretrained", "misalignment", "spectral_init",
           "gaussian_init",
           "early_phase_matrices", "early_phase_solution", "early_phase_statespace",
           "theorem41"]


@dataclass(frozen=True)
class LoRA(TrainingDynamics):
    """LoRA gradient flow on a two-layer linear model.

    Parameters ``theta`` pack ``A1`` (r x n), ``B1`` (h x r), ``A2`` (r x h), ``B2`` (m x r).

    Parameters
    ----------
    W1 : array_like, shape (h, n)
        Frozen pre-trained first layer.
    W2 : array_like, shape (m, h)
        Frozen pre-trained second layer.
    Y_ft : array_like, shape (m, n)
        Fine-tuning target.
    r : int
        LoRA rank (positive).

    Examples
    --------
    >>> W1, W2, Y_pre = aligned_pretrained(np.diag([3.0, 2.0]), h=3, rng=0)
    >>> lora = LoRA(W1, W2, Y_pre, r=1)
    >>> lora.shapes["B1"]
    (3, 1)
    """

    W1: np.ndarray
    W2: np.ndarray
    Y_ft: np.ndarray
    r: int
    complex_step = True

    def __post_init__(self):
        W1 = as_float_array(self.W1, "W1", ndim=2)
        W2 = as_float_array(self.W2, "W2", ndim=2)
        Y = as_float_array(self.Y_ft, "Y_ft", ndim=2)
        if W2.shape[1] != W1.shape[0]:
            raise InputError(f"`W2` (m x h) and `W1` (h x n) must share h, got {W2.shape} "
                             f"and {W1.shape}")
        if Y.shape != (W2.shape[0], W1.shape[1]):
            raise InputError(f"`Y_ft` must have shape {(W2.shape[0], W1.shape[1])}, got "
                             f"{Y.shape}")
        object.__setattr__(self, "W1", readonly(W1))
        object.__setattr__(self, "W2", readonly(W2))
        object.__setattr__(self, "Y_ft", readonly(Y))
        object.__setattr__(self, "r", as_int(self.r, "r", minimum=1))

    @property
    def shapes(self):
        h, n = self.W1.shape
        m = self.W2.shape[0]
        return {"A1": (self.r, n), "B1": (h, self.r), "A2": (self.r, h), "B2": (m, self.r)}

    def _blocks(self, th):
        out, pos = [], 0
        for shape in self.shapes.values():
            k = shape[0] * shape[1]
            out.append(th[pos:pos + k].reshape(shape))
            pos += k
        return out

    def _resid(self, th):
        A1, B1, A2, B2 = self._blocks(th)
        P1 = self.W1 + B1 @ A1
        P2 = self.W2 + B2 @ A2
        return A1, B1, A2, B2, P1, P2, self.Y_ft - P2 @ P1

    def _loss(self, th):
        R = self._resid(th)[-1]
        return 0.5 * np.sum(R * R)

    def _grad(self, th):
        A1, B1, A2, B2, P1, P2, R = self._resid(th)
        P2tR = P2.T @ R
        RP1t = R @ P1.T
        return -np.concatenate([(B1.T @ P2tR).ravel(), (P2tR @ A1.T).ravel(),
                                (B2.T @ RP1t).ravel(), (RP1t @ A2.T).ravel()])

    def invariants(self, theta):
        """Layer imbalances conserved by gradient flow.

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat ``[A1, B1, A2, B2]``.

        Returns
        -------
        dict
            ``"imbalance_1"``: ``A1 A1^T - B1^T B1``; ``"imbalance_2"``:
            ``A2 A2^T - B2^T B2`` (each r x r).

        Examples
        --------
        >>> W1, W2, Y_pre = aligned_pretrained(np.diag([3.0, 2.0]), h=3, rng=0)
        >>> lora = LoRA(W1, W2, Y_pre, r=1)
        >>> lora.invariants(gaussian_init(lora, 1.0, rng=0))["imbalance_2"].shape
        (1, 1)
        """
        A1, B1, A2, B2 = self._blocks(self._check_theta(theta))
        return {"imbalance_1": A1 @ A1.T - B1.T @ B1, "imbalance_2": A2 @ A2.T - B2.T @ B2}

    def observables(self, theta):
        """The stacked early-phase states ``Z1 = [B1; A1^T]`` and ``Z2 = [B2; A2^T]``.

        Parameters
        ----------
        theta : array_like, shape (size,)
            Flat ``[A1, B1, A2, B2]``.

        Returns
        -------
        dict
            ``"Z1"``: (h + n, r); ``"Z2"``: (m + h, r).

        Examples
        --------
        >>> W1, W2, Y_pre = aligned_pretrained(np.diag([3.0, 2.0]), h=3, rng=0)
        >>> lora = LoRA(W1, W2, Y_pre, r=1)
        >>> lora.observables(gaussian_init(lora, 1.0, rng=0))["Z1"].shape
        (5, 1)
        """
        A1, B1, A2, B2 = self._blocks(self._check_theta(theta))
        return {"Z1": np.vstack([B1, A1.T]), "Z2": np.vstack([B2, A2.T])}


def aligned_pretrained(Y_pre, h: int, scale: float = 1.05, rng=None):
    """Spectrally aligned pre-trained factors (Assumption 2.1), as in the paper's experiment.

    ``W2 = scale U Sigma^{1/2} G^T``, ``W1 = (1/scale) G Sigma^{1/2} V^T`` with
    ``Y_pre = U Sigma V^T`` and ``G`` a random orthogonal h x h matrix;
    ``delta_w = sigma_W1 / sigma_W2 = 1/scale^2``.

    Parameters
    ----------
    Y_pre : array_like, shape (m, n)
        Pre-trained product ``W2 W1``.
    h : int
        Hidden width, at least ``min(m, n)``.
    scale : float, default 1.05
        Balance factor between the layers (1 gives balanced factors).
    rng : numpy.random.Generator or int, optional
        Random generator or seed for ``G``.

    Returns
    -------
    W1 : ndarray, shape (h, n)
        First-layer pre-trained factor ``(1/scale) G Sigma^{1/2} V^T``.
    W2 : ndarray, shape (m, h)
        Second-layer pre-trained factor ``scale U Sigma^{1/2} G^T``; ``W2 W1 = Y_pre``.
    Y_pre : ndarray, shape (m, n)
        The input as a float array.

    Examples
    --------
    >>> W1, W2, Y = aligned_pretrained(np.diag([4.0, 1.0]), h=3, rng=0)
    >>> np.allclose(W2 @ W1, Y)
    True
    """
    Y = as_float_array(Y_pre, "Y_pre", ndim=2)
    m, n = Y.shape
    h = as_int(h, "h", minimum=min(m, n))
    U, s, Vt = np.linalg.svd(Y)
    k = s.size
    G = ortho_group.rvs(h, random_state=np.random.default_rng(rng)) if h > 1 else np.eye(1)
    S2 = np.zeros((m, h))
    S1 = np.zeros((h, n))
    S2[np.arange(k), np.arange(k)] = np.sqrt(s)
    S1[np.arange(k), np.arange(k)] = np.sqrt(s)
    return (G @ S1 @ Vt) / scale, scale * U @ S2 @ G.T, Y


def misalignment(W1, W2, Y_ft) -> float:
    """How far the update ``dY = Y_ft - W2 W1`` is from the pre-trained singular spaces.

    With ``W2 W1 = U S V^T`` (full SVD), ``D = U^T dY V`` is diagonal exactly when ``dY``
    shares the singular vectors of the pre-trained model (Assumption 2.2, under which
    :func:`spectral_init` applies); the measure is the fraction of ``dY``'s Frobenius norm
    off that diagonal, ``|D - diag(D)|_F / |dY|_F``, between 0 (aligned) and 1.

    Parameters
    ----------
    W1 : array_like, shape (h, n)
        Pre-trained first layer.
    W2 : array_like, shape (m, h)
        Pre-trained second layer.
    Y_ft : array_like, shape (m, n)
        Fine-tuning target (different from ``W2 W1``).

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> W1, W2, Y = aligned_pretrained(np.diag([3.0, 1.0]), h=2, rng=0)
    >>> round(misalignment(W1, W2, Y + np.diag([1.0, 0.0])), 12)
    0.0
    >>> round(misalignment(W1, W2, Y + np.ones((2, 2))), 6)        # 2 of 4 entries off
    0.707107
    """
    W1 = as_float_array(W1, "W1", ndim=2)
    W2 = as_float_array(W2, "W2", ndim=2)
    Y = as_float_array(Y_ft, "Y_ft", ndim=2)
    P = W2 @ W1
    if Y.shape != P.shape:
        raise InputError(f"`Y_ft` must have shape {P.shape}, got {Y.shape}")
    dY = Y - P
    nrm = float(np.linalg.norm(dY))
    if nrm == 0.0:
        raise InputError("`Y_ft` must differ from the pre-trained product `W2 @ W1`")
    U, _, Vt = np.linalg.svd(P)
    D = U.T @ dY @ Vt.T
    k = min(D.shape)
    D[np.arange(k), np.arange(k)] = 0.0
    return float(np.linalg.norm(D) / nrm)


def _svd_pairing(W1, W2):
    """Columns ``g_i`` of the shared middle basis: ``W1 = G S1 V^T``, ``W2 = U S2 G^T``."""
    U, s2, Gt = np.linalg.svd(W2)
    return U, s2, Gt.T


def spectral_init(lora: LoRA, alpha: float, rng=None):
    """Spectral initialisation (Section 4): ``B = 0``, ``A1 = G11 S_A1 V^T``, ``A2 = G21 S_A2 G^T``.

    ``S_A`` diagonal with ``N(0, alpha^2)`` entries; ``V`` the right singular vectors of
    ``dY = Y_ft - W2 W1`` (= those of ``Y_pre``), ``G`` the middle basis of the pre-trained
    factors; ``G11, G21`` random orthogonal r x r.

    Parameters
    ----------
    lora : LoRA
        Model satisfying Assumption 2.2 (``Y_ft - W2 W1`` shares singular vectors with
        ``W2 W1``) within its first ``r`` modes.
    alpha : float
        Positive standard deviation of the diagonal of ``S_A``.
    rng : numpy.random.Generator or int, optional
        Random generator or seed.

    Returns
    -------
    theta0 : ndarray, shape (lora.size,)
        Flat initial LoRA parameters (``B1 = B2 = 0``, ``A1``, ``A2`` as above).
    modes : list of dict
        Per mode ``{"s1", "s2", "d", "a1", "a2"}``: singular values of ``W1``, ``W2`` and
        ``dY`` on the mode and the initial ``a1, a2``, for :class:`ModeDynamics`.

    Examples
    --------
    >>> W1, W2, Y_pre = aligned_pretrained(np.diag([3.0, 2.0]), h=3, rng=0)
    >>> lora = LoRA(W1, W2, Y_pre + np.diag([1.0, 0.0]), r=1)
    >>> theta0, modes = spectral_init(lora, 1e-3, rng=0)
    >>> round(float(modes[0]["d"]), 12)
    1.0
    """
    rng = np.random.default_rng(rng)
    alpha = float(alpha)
    if not alpha > 0:
        raise InputError(f"`alpha` must be positive, got {alpha}")
    W1, W2, r = lora.W1, lora.W2, lora.r
    dY = lora.Y_ft - W2 @ W1
    # Assumption 2.2: dY shares the singular vectors of Y_pre = W2 W1; modes of dY with
    # non-zero singular value come first (G12 = [V_Y^S, V_Y^S_perp])
    Uy, _, Vyt = np.linalg.svd(W2 @ W1)
    d_all = np.einsum("ik,ij,jk->k", Uy[:, :Vyt.shape[0]], dY, Vyt.T)
    order = np.argsort(-np.abs(d_all), kind="stable")[:r]
    if order.size < r:
        raise InputError(f"`r` must be at most {order.size} for spectral init, got {r}")
    Ud, sd, Vdt = Uy[:, order].T.T, d_all[order], Vyt[order]
    resid = dY - (Ud * sd) @ Vdt
    if float(np.max(np.abs(resid))) > 1e-8 * max(1.0, float(np.max(np.abs(dY)))):
        raise InputError("`Y_ft - W2 W1` must share singular vectors with `W2 W1` "
                         "(Assumption 2.2) within the first r modes")
    h = W1.shape[0]
    G = np.zeros((h, r))
    s1 = np.zeros(r)
    s2 = np.zeros(r)
    for i in range(r):
        g = W1 @ Vdt[i]
        s1[i] = np.linalg.norm(g)
        G[:, i] = g / s1[i]
        s2[i] = float(Ud[:, i] @ W2 @ G[:, i])
    a1 = alpha * rng.standard_normal(r)
    a2 = alpha * rng.standard_normal(r)
    G11 = ortho_group.rvs(r, random_state=rng) if r > 1 else np.eye(1)
    G21 = ortho_group.rvs(r, random_state=rng) if r > 1 else np.eye(1)
    A1 = G11 @ (a1[:, None] * Vdt[:r])
    A2 = G21 @ (a2[:, None] * G.T)
    theta = lora.pack(A1=A1, B1=np.zeros((h, r)), A2=A2, B2=np.zeros((W2.shape[0], r)))
    modes = [{"s1": s1[i], "s2": s2[i], "d": sd[i], "a1": a1[i], "a2": a2[i]} for i in range(r)]
    return theta, modes


def gaussian_init(lora: LoRA, alpha: float, rng=None) -> np.ndarray:
    """Standard LoRA init: ``A1, A2 ~ N(0, alpha^2)`` entrywise, ``B1 = B2 = 0``.

    Parameters
    ----------
    lora : LoRA
        The model (gives the block shapes).
    alpha : float
        Positive standard deviation.
    rng : numpy.random.Generator or int, optional
        Random generator or seed.

    Returns
    -------
    ndarray, shape (lora.size,)
        Flat initial LoRA parameters with Gaussian ``A1``, ``A2`` and zero ``B1``, ``B2``.

    Examples
    --------
    >>> W1, W2, Y_pre = aligned_pretrained(np.diag([3.0, 2.0]), h=3, rng=0)
    >>> lora = LoRA(W1, W2, Y_pre, r=1)
    >>> float(np.abs(lora.unpack(gaussian_init(lora, 0.1, rng=0))["B1"]).max())
    0.0
    """
    rng = np.random.default_rng(rng)
    alpha = float(alpha)
    if not alpha > 0:
        raise InputError(f"`alpha` must be positive, got {alpha}")
    sh = lora.shapes
    return lora.pack(A1=alpha * rng.standard_normal(sh["A1"]), B1=np.zeros(sh["B1"]),
                     A2=alpha * rng.standard_normal(sh["A2"]), B2=np.zeros(sh["B2"]))


@dataclass(frozen=True)
class ModeDynamics(TrainingDynamics):
    """One decoupled mode under spectral init: state ``[a1, b1, a2, b2]``.

    ``F = (s2 + b2 a2)(s1 + b1 a1) - s2 s1``, ``loss = (d - F)^2 / 2``.

    Parameters
    ----------
    s1, s2 : float
        Singular values of the pre-trained ``W1`` and ``W2`` on this mode.
    d : float
        Singular value of ``dY = Y_ft - W2 W1`` on this mode.

    Examples
    --------
    >>> ModeDynamics(1.0, 1.0, 2.0).loss([0.0, 0.0, 0.0, 0.0])
    2.0
    """

    s1: float
    s2: float
    d: float
    complex_step = True

    @property
    def shapes(self):
        return {"a1": (), "b1": (), "a2": (), "b2": ()}

    def _loss(self, th):
        a1, b1, a2, b2 = th
        e = self.d - ((self.s2 + b2 * a2) * (self.s1 + b1 * a1) - self.s2 * self.s1)
        return 0.5 * e * e

    def _grad(self, th):
        a1, b1, a2, b2 = th
        p1, p2 = self.s1 + b1 * a1, self.s2 + b2 * a2
        e = self.d - (p2 * p1 - self.s2 * self.s1)
        return -e * np.array([p2 * b1, p2 * a1, p1 * b2, p1 * a2])

    def invariants(self, theta):
        """Per-layer balances ``a1^2 - b1^2`` and ``a2^2 - b2^2`` (conserved by the flow).

        Parameters
        ----------
        theta : array_like, shape (4,)
            ``[a1, b1, a2, b2]``.

        Returns
        -------
        dict
            ``"balance_1"``, ``"balance_2"`` (0-d arrays).

        Examples
        --------
        >>> float(ModeDynamics(1.0, 1.0, 2.0).invariants([1.0, 0.5, 0.0, 0.0])["balance_1"])
        0.75
        """
        a1, b1, a2, b2 = self._check_theta(theta)
        return {"balance_1": np.array(a1 * a1 - b1 * b1), "balance_2": np.array(a2 * a2 - b2 * b2)}


def early_phase_matrices(W1, W2, dY):
    """``(M1, M2)`` of the linearised early dynamics ``Z1' = M1 Z1``, ``Z2' = M2 Z2``.

    Parameters
    ----------
    W1 : array_like, shape (h, n)
        Pre-trained first layer.
    W2 : array_like, shape (m, h)
        Pre-trained second layer.
    dY : array_like, shape (m, n)
        Residual ``Y_ft - W2 W1``.

    Returns
    -------
    M1 : ndarray, shape (h + n, h + n)
        ``[[0, W2^T dY], [dY^T W2, 0]]``.
    M2 : ndarray, shape (m + h, m + h)
        ``[[0, dY W1^T], [W1 dY^T, 0]]``.

    Examples
    --------
    >>> M1, M2 = early_phase_matrices(np.eye(1), 2 * np.eye(1), 3 * np.eye(1))
    >>> float(np.max(np.linalg.eigvalsh(M1)))   # s sigma_W2 = 3 * 2
    6.0
    """
    W1 = as_float_array(W1, "W1", ndim=2)
    W2 = as_float_array(W2, "W2", ndim=2)
    dY = as_float_array(dY, "dY", ndim=2)
    h, n = W1.shape
    m = W2.shape[0]
    C1 = W2.T @ dY                 # (h, n)
    C2 = dY @ W1.T                 # (m, h)
    M1 = np.block([[np.zeros((h, h)), C1], [C1.T, np.zeros((n, n))]])
    M2 = np.block([[np.zeros((m, m)), C2], [C2.T, np.zeros((h, h))]])
    return M1, M2


def early_phase_solution(lora: LoRA, theta0, t) -> np.ndarray:
    """Closed form of the linearised early phase: ``theta`` at time ``t`` (eigh of ``M1, M2``).

    Parameters
    ----------
    lora : LoRA
        The model.
    theta0 : array_like, shape (lora.size,)
        Small initial parameters (the linearisation holds while ``A, B`` stay small).
    t : float
        Time.

    Returns
    -------
    ndarray, shape (lora.size,)
        ``expm(M1 t) Z1(0)`` and ``expm(M2 t) Z2(0)`` repacked as ``theta``.

    Examples
    --------
    >>> W1, W2, Y_pre = aligned_pretrained(np.diag([3.0, 2.0]), h=3, rng=0)
    >>> lora = LoRA(W1, W2, Y_pre + np.eye(2), r=1)
    >>> th0 = gaussian_init(lora, 1e-6, rng=0)
    >>> bool(np.allclose(early_phase_solution(lora, th0, 0.0), th0))
    True
    """
    A1, B1, A2, B2 = lora._blocks(lora._check_theta(theta0))
    M1, M2 = early_phase_matrices(lora.W1, lora.W2, lora.Y_ft - lora.W2 @ lora.W1)
    out = []
    for M, Z in ((M1, np.vstack([B1, A1.T])), (M2, np.vstack([B2, A2.T]))):
        lam, Q = np.linalg.eigh(M)
        out.append(Q @ (np.exp(lam * float(t))[:, None] * (Q.T @ Z)))
    h, m = lora.W1.shape[0], lora.W2.shape[0]
    Z1, Z2 = out
    return lora.pack(A1=Z1[h:].T, B1=Z1[:h], A2=Z2[m:].T, B2=Z2[:m])


def early_phase_statespace(lora: LoRA) -> control.StateSpace:
    """``Z1' = M1 Z1`` (one column of ``Z1``) as a ``control.StateSpace``.

    Parameters
    ----------
    lora : LoRA
        The model; ``M1`` uses ``dY = Y_ft - W2 W1``.

    Returns
    -------
    control.StateSpace
        Continuous time, ``h + n`` states, identity input and output maps.

    Examples
    --------
    >>> W1, W2, Y_pre = aligned_pretrained(np.diag([3.0, 2.0]), h=3, rng=0)
    >>> early_phase_statespace(LoRA(W1, W2, Y_pre + np.eye(2), r=1)).nstates
    5
    """
    import control

    M1, _ = early_phase_matrices(lora.W1, lora.W2, lora.Y_ft - lora.W2 @ lora.W1)
    k = M1.shape[0]
    return control.ss(M1, np.eye(k), np.eye(k), np.zeros((k, k)))


def theorem41(s1: float, s2: float, d: float, z1_0: float) -> TheoremCheck:
    """Theorem 4.1 (per mode, spectral init): alignment time and rates.

    With ``delta = s1/s2 < 1`` (our reading; the PDF is ambiguous about the ratio's direction):
    ``T1 = 2/((3 + delta) d s2) log(d/(16 z1(0)))``; for ``t >= T1`` the loss decays at least
    like ``exp(-(1 - delta) d s2 (t - T1) / 8)``. Returns
    ``bound = {"T1", "growth_rate", "ratio_rate", "local_rate"}``,
    ``hypotheses_hold = 0 < delta < 1, d > 0, 16 z1(0) < d``.

    Parameters
    ----------
    s1, s2 : float
        Positive singular values of ``W1`` and ``W2`` on the mode.
    d : float
        Singular value of ``dY`` on the mode.
    z1_0 : float
        Positive initial ``z1 = a1^2 + b1^2`` (``a1(0)^2`` under spectral init, ``b1 = 0``).

    Returns
    -------
    TheoremCheck
        ``bound`` a dict with ``"T1"``, ``"growth_rate"``, ``"ratio_rate"``,
        ``"local_rate"`` and ``"delta"``.

    Examples
    --------
    >>> b, ok = theorem41(1.0, 1.1, 2.0, 1e-8)
    >>> ok, round(b["local_rate"], 6)
    (True, 0.025)
    """
    s1, s2, d, z = float(s1), float(s2), float(d), float(z1_0)
    if s1 <= 0 or s2 <= 0 or z <= 0:
        raise InputError("`s1`, `s2` and `z1_0` must be positive")
    delta = s1 / s2
    ok = 0 < delta < 1 and d > 0 and 16 * z < d
    T1 = 2 / ((3 + delta) * d * s2) * math.log(d / (16 * z)) if ok else math.nan
    return TheoremCheck({"T1": T1, "growth_rate": (3 + delta) / 2 * d * s2,
                         "ratio_rate": 3 * (1 - delta) / 2 * d * s2,
                         "local_rate": (1 - delta) * d * s2 / 8, "delta": delta}, bool(ok))
