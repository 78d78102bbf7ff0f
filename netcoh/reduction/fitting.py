r"""Low-order aggregate machines by frequency-weighted balanced truncation.

The aggregate dynamics of a group of coherent swing + turbine machines is

.. math::

   \hat g(s) = \Big(\hat m s + \hat d + \sum_j \frac{\rho_j}{\tau_j s + 1}\Big)^{-1},

with :math:`\hat m = \sum m_i`, :math:`\hat d = \sum d_i` and one turbine term per distinct time
constant (:math:`\rho_j` the summed droop of the machines sharing :math:`\tau_j`). Its order grows
with the number of distinct turbine time constants. Min, Paganini & Mallada (L-CSS 2021,
arXiv:1909.12864) fit a machine of order 2 or 3 to it by output frequency-weighted balanced
truncation (FWBT) of either the turbine part (``method="turbine"``) or the whole closed loop
(``method="closed_loop"``), and read the result back as machine parameters.

The generic weighted balanced truncation (:func:`weighted_balanced_truncation`,
:class:`BalancedTruncation`) lives in :mod:`netcoh.reduction.balanced` and is re-exported here.
Functions here need only numpy/scipy; python-control (imported when first needed) is used for
the returned :class:`control.TransferFunction` objects.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg as sla

from .._validation import _show, as_bool, as_float_array, as_int, as_nonnegative, as_positive, as_real
from ..exceptions import InputError, NetcohTypeError, NetcohWarning, SolverError
from .balanced import (
    BalancedTruncation,
    _balanced_truncation,
    _psd_factor,
    _readonly,
    _ss_to_poly,
    _weight_tuple,
    weighted_balanced_truncation,
)

if TYPE_CHECKING:
    import control

__all__ = [
    "BalancedTruncation",
    "AggregateMachineFit",
    "PAPER_WEIGHTS",
    "weighted_balanced_truncation",
    "fit_aggregate_machine",
]

#: Output weights used in the L-CSS 2021 paper, as ``(num, den)`` coefficient pairs
#: (highest power first): ``W_tb = (s + 0.03)/(s + 1e-4)`` for the turbine reduction and
#: ``W_cl = (s + 0.08)/(s + 1e-4)`` for the closed-loop reduction.
PAPER_WEIGHTS = {
    "turbine": ((1.0, 3e-2), (1.0, 1e-4)),
    "closed_loop": ((1.0, 8e-2), (1.0, 1e-4)),
}


# --------------------------------------------------------------------------------------------
# aggregate machine
# --------------------------------------------------------------------------------------------

def _group_turbines(droop, tau):
    """Sum droops of equal time constants; drop groups with zero droop."""
    taus, inv = np.unique(tau, return_inverse=True)
    rho = np.bincount(inv, weights=droop, minlength=taus.size)
    keep = rho > 0
    return taus[keep], rho[keep]


def _aggregate_realization(m_hat, d_hat, rho, taus):
    """States (omega_hat, q_1..q_J) of ĝ = 1/(m̂ s + d̂ + Σ ρ_j/(τ_j s + 1))."""
    J = taus.size
    A = np.zeros((J + 1, J + 1))
    A[0, 0] = -d_hat / m_hat
    A[0, 1:] = -1.0 / m_hat
    A[1:, 0] = rho / taus
    A[1:, 1:] = np.diag(-1.0 / taus)
    B = np.zeros((J + 1, 1))
    B[0, 0] = 1.0 / m_hat
    C = np.zeros((1, J + 1))
    C[0, 0] = 1.0
    return A, B, C


def _interpret(num, den):
    """Read ``num/den`` (deg den = deg num + 1) as ``1/(m s + d + Σ droop_j/(tau_j s + 1))``."""
    num = np.trim_zeros(np.asarray(num, float), "f")
    den = np.asarray(den, float)
    q, r = np.polydiv(den, num)
    m_t, d_t = (float(q[0]), float(q[1])) if q.size == 2 else (np.nan, np.nan)
    if num.size == 1:
        return m_t, d_t, np.zeros(0), np.zeros(0), bool(m_t > 0 and d_t > 0)
    import scipy.signal as ssig

    res, poles, _ = ssig.residue(r, num)
    ok = bool(np.all(np.abs(poles.imag) <= 1e-9 * np.abs(poles))
              and np.all(np.abs(res.imag) <= 1e-9 * np.abs(res)))
    poles, res = poles.real, res.real
    tau_t = -1.0 / poles
    droop_t = -res / poles
    ok = ok and bool(np.all(tau_t > 0) and np.all(droop_t > 0) and m_t > 0 and d_t > 0)
    order = np.argsort(tau_t)
    return m_t, d_t, droop_t[order], tau_t[order], ok


def _step_errors(model_ss, ref_ss, step_pu, t):
    """Exact (zero-order-hold) step responses of model − reference: L2, Linf."""
    A = sla.block_diag(model_ss[0], ref_ss[0])
    B = np.vstack([model_ss[1], ref_ss[1]])
    C = np.hstack([model_ss[2], -ref_ss[2]])
    h = t[1] - t[0]
    nx = A.shape[0]
    M = np.zeros((nx + 1, nx + 1))
    M[:nx, :nx] = A * h
    M[:nx, nx] = B[:, 0] * h
    E = sla.expm(M)
    Phi, Gam = E[:nx, :nx], E[:nx, nx]
    x = np.zeros(nx)
    xs = np.empty((t.size, nx))
    for k in range(t.size):  # time stepping (small dense system)
        xs[k] = x
        x = Phi @ x + Gam
    e = step_pu * (xs @ C[0])
    dt = np.diff(t)
    l2 = float(np.sqrt(np.sum(0.5 * (e[1:] ** 2 + e[:-1] ** 2) * dt)))
    return l2, float(np.max(np.abs(e))), t, e


@dataclass(frozen=True)
class AggregateMachineFit:
    """A low-order machine fitted to the aggregate of coherent machines.

    Attributes
    ----------
    model : control.TransferFunction
        The reduced aggregate machine ``g̃(s)`` (input power in p.u., output frequency).
    turbine : control.TransferFunction or None
        For ``method="turbine"``: the reduced turbine part ``g̃_t`` (before any DC rescaling).
    aggregate : control.StateSpace
        The exact aggregate ``ĝ(s)`` it approximates.
    method : str
        ``"closed_loop"`` or ``"turbine"``.
    order : int
        Order of ``model``.
    m_tilde, d_tilde : float
        Interpreted inertia and damping (``model = 1/(m̃ s + d̃ + Σ droop_j/(tau_j s + 1))``).
    droop_tilde, tau_tilde : ndarray
        Interpreted turbines (``order - 1`` of them), sorted by time constant.
    interpretable : bool
        Whether all interpreted parameters are real and positive.
    dc_gain, aggregate_dc_gain : float
        ``g̃(0)`` and ``ĝ(0) = 1/(d̂ + Σ droop)``.
    hankel_singular_values : ndarray
        Weighted Hankel singular values of the reduced part.
    l2_error, linf_error : float
        L2 and L∞ norms of the step-response error ``step_pu (g̃ − ĝ)`` on ``[0, t_final_s]``.
    hinf_error : float
        ``max |g̃(jω) − ĝ(jω)|`` over the grid ``omega_rad_s``.
    weight : tuple or None
        The balanced-truncation output weight as ``(num, den)`` coefficient tuples, or
        ``None`` (unweighted).
    match_dc : bool
        Whether the model was rescaled so that ``g̃(0) = ĝ(0)``.
    step_pu : float
        Step size (p.u. power) of the time-domain error metrics and :meth:`step_responses`.
    t_final_s : float
        Horizon of the step-response errors, s.
    omega_rad_s : ndarray
        Frequency grid (rad/s) of :attr:`hinf_error`.

    Examples
    --------
    >>> fit = fit_aggregate_machine(m=[0.03, 0.04], d=[0.005, 0.006], droop=[0.05, 0.06],
    ...                             tau=[2.0, 8.0], order=2)
    >>> fit.name, fit.order, fit.step_pu
    ('BT2-cl', 2, 1.0)
    """

    model: control.TransferFunction
    turbine: control.TransferFunction | None
    aggregate: control.StateSpace
    method: str
    order: int
    weight: tuple | None
    match_dc: bool
    m_tilde: float
    d_tilde: float
    droop_tilde: np.ndarray
    tau_tilde: np.ndarray
    interpretable: bool
    dc_gain: float
    aggregate_dc_gain: float
    hankel_singular_values: np.ndarray
    l2_error: float
    linf_error: float
    hinf_error: float
    step_pu: float
    t_final_s: float
    omega_rad_s: np.ndarray = field(repr=False)

    def __post_init__(self):
        import control

        # frozen through and through: the arrays, and those inside the python-control models
        for arr in (self.droop_tilde, self.tau_tilde, self.hankel_singular_values,
                    self.omega_rad_s):
            if isinstance(arr, np.ndarray):
                arr.setflags(write=False)
        for sysm in (self.model, self.turbine, self.aggregate):
            if sysm is None:
                continue
            for name in ("A", "B", "C", "D"):
                arr = getattr(sysm, name, None) if isinstance(sysm, control.StateSpace) else None
                if isinstance(arr, np.ndarray):
                    arr.setflags(write=False)
            if isinstance(sysm, control.TransferFunction):
                for poly in (sysm.num, sysm.den):
                    for row in poly:
                        for arr in row:
                            arr.setflags(write=False)

    @property
    def name(self) -> str:
        """Short label in the paper's notation, e.g. ``"BT2-cl"``."""
        return f"BT{self.order}-{'cl' if self.method == 'closed_loop' else 'tb'}"

    def to_frame(self):
        """One-row :class:`pandas.DataFrame` with parameters and errors, indexed by :attr:`name`."""
        import pandas as pd

        row = {"method": self.method, "order": self.order, "m_tilde": self.m_tilde,
               "d_tilde": self.d_tilde}
        for j, (r, tt) in enumerate(zip(self.droop_tilde, self.tau_tilde), start=1):
            row[f"droop_tilde_{j}"] = r
            row[f"tau_tilde_{j}_s"] = tt
        row.update({"interpretable": self.interpretable, "dc_gain": self.dc_gain,
                    "aggregate_dc_gain": self.aggregate_dc_gain, "l2_error": self.l2_error,
                    "linf_error": self.linf_error, "hinf_error": self.hinf_error})
        return pd.DataFrame([row], index=pd.Index([self.name], name="model"))

    def step_responses(self, t=None):
        """Step responses ``(t, y_model, y_aggregate)`` for a ``step_pu`` input.

        Parameters
        ----------
        t : array_like, optional
            Equally spaced times in s starting at 0 (python-control's requirement);
            default 2001 points on ``[0, t_final_s]``.

        Returns
        -------
        t : ndarray, shape (k,)
            Times (s).
        y_model, y_aggregate : ndarray, shape (k,)
            Frequency deviation of the fitted model and of the exact aggregate ``ĝ``.

        Examples
        --------
        >>> import numpy as np
        >>> fit = fit_aggregate_machine(m=[0.03, 0.04], d=[0.005, 0.006], droop=[0.05, 0.06],
        ...                             tau=[2.0, 8.0], order=2)
        >>> t, ym, ya = fit.step_responses(np.linspace(0.0, 50.0, 501))
        >>> round(float(ya[-1]), 3), round(fit.aggregate_dc_gain, 3)   # 1 / (sum d + sum droop)
        (8.265, 8.264)
        """
        import control

        t = np.linspace(0.0, self.t_final_s, 2001) if t is None else _step_times(t)
        _, ym = control.step_response(self.model * self.step_pu, t)
        _, ya = control.step_response(self.aggregate * self.step_pu, t)
        return t, np.asarray(ym).ravel(), np.asarray(ya).ravel()

    def plot(self, ax=None):
        """Plot the step response of the fitted model against the aggregate ``ĝ``.

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
        >>> fit = fit_aggregate_machine(m=[0.03, 0.04], d=[0.005, 0.006], droop=[0.05, 0.06],
        ...                             tau=[2.0, 8.0], order=2)
        >>> len(fit.plot().lines)
        2
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        t, ym, ya = self.step_responses()
        ax.plot(t, ya, "k-", label="aggregate ĝ")
        ax.plot(t, ym, "--", label=self.name)
        ax.set_xlabel("time (s)")
        ax.set_ylabel(f"response to a {self.step_pu:g} p.u. step")
        ax.legend()
        return ax


def _params_from(source):
    nodal = getattr(source, "nodal", source)
    params = getattr(nodal, "params", None)
    if params is None:
        raise NetcohTypeError(
            "`source` must be a NetworkSystem or NodalDynamics with swing or swing_turbine "
            f"parameters, got {type(source).__name__}")
    if "m" not in params or "d" not in params:
        raise InputError(f"`source` nodal dynamics must be swing or swing_turbine, got kind "
                         f"{getattr(nodal, 'kind', '?')!r}")
    n = len(params["m"])
    return (params["m"], params["d"], params.get("droop", np.zeros(n)),
            params.get("tau", np.ones(n)))


_PRECOMPRESS = 24


def _compressed_closed_loop(m_hat, d_hat, rho, taus, order):
    """Closed-loop realisation of ĝ with its turbine part pre-reduced by exact balanced
    truncation (closed-form Gramians of the diagonal turbine bank, neglected Hankel values
    below 1e-13 of the largest), so that the weighted truncation works on a small model."""
    a = -1.0 / taus
    b = rho / taus
    S = a[:, None] + a[None, :]
    X = -np.outer(b, b) / S
    Y = -1.0 / S
    F, G = _psd_factor(X), _psd_factor(Y)
    U, sv, Vt = np.linalg.svd(G.T @ F)
    r = int(min(max(np.sum(sv > 1e-13 * sv[0]), order), taus.size))
    sinv = 1.0 / np.sqrt(sv[:r])
    T = (sinv[:, None] * U[:, :r].T) @ G.T
    Ti = (F @ Vt[:r].T) * sinv
    At, Bt, Ct = T @ np.diag(a) @ Ti, T @ b[:, None], np.ones((1, taus.size)) @ Ti
    A = np.zeros((r + 1, r + 1))
    A[0, 0] = -d_hat / m_hat
    A[0, 1:] = -Ct[0] / m_hat
    A[1:, 0] = Bt[:, 0]
    A[1:, 1:] = At
    B = np.zeros((r + 1, 1))
    B[0, 0] = 1.0 / m_hat
    C = np.zeros((1, r + 1))
    C[0, 0] = 1.0
    return A, B, C


def _fit_polynomials(m_hat, d_hat, taus, rho, order, method, weight, match_dc):
    """Core of :func:`fit_aggregate_machine`: the fitted ``(num, den)`` and ingredients."""
    import control

    A, B, C = _aggregate_realization(m_hat, d_hat, rho, taus)
    full_order = 1 + taus.size
    g0 = 1.0 / (d_hat + rho.sum()) if d_hat + rho.sum() > 0 else np.inf
    if method == "closed_loop":
        order = as_int(order, "order", minimum=1, maximum=full_order)
        if d_hat + rho.sum() <= 0:
            raise InputError("`d` and `droop` must not all be zero: ĝ has a pole at s = 0")
        Ab, Bb, Cb = A, B, C
        if taus.size > _PRECOMPRESS:
            Ab, Bb, Cb = _compressed_closed_loop(m_hat, d_hat, rho, taus, max(order, 1))
        # stable by construction (positive m, d, droop, tau): skip the eigenvalue check
        bt = _balanced_truncation(Ab, Bb, Cb, np.zeros((1, 1)), order, weight)
        num, den = _ss_to_poly(bt.a, bt.b, bt.c, bt.d)
        turbine = None
    else:
        if taus.size == 0:
            raise InputError("`method='turbine'` needs at least one machine with droop > 0")
        order = as_int(order, "order", minimum=2, maximum=full_order)
        At = np.diag(-1.0 / taus)
        Bt = (rho / taus)[:, None]
        Ct = np.ones((1, taus.size))
        bt = _balanced_truncation(At, Bt, Ct, np.zeros((1, 1)), order - 1, weight)
        nt, dt = _ss_to_poly(bt.a, bt.b, bt.c, bt.d)
        turbine = control.tf(nt, dt)
        # g̃ = 1/(m̂ s + d̂ + nt/dt) = dt / ((m̂ s + d̂) dt + nt)
        num = dt
        den = np.polyadd(np.polymul([m_hat, d_hat], dt), nt)
    num, den = num / den[0], den / den[0]
    dc = float(num[-1] / den[-1])
    if match_dc:
        if not np.isfinite(dc) or dc == 0:
            raise SolverError(f"cannot match the DC gain: fitted model has DC gain {dc}")
        num = num * (g0 / dc)
        dc = float(num[-1] / den[-1])
    return num, den, dc, g0, bt, turbine, order, (A, B, C)


def fit_aggregate_machine(source=None, *, m=None, d=None, droop=None, tau=None, order: int = 2,
                          method: str = "closed_loop", weight=None, match_dc: bool = False,
                          step_pu: float = 1.0, t_final_s: float = 50.0,
                          omega_rad_s=None) -> AggregateMachineFit:
    r"""Fit a low-order machine to the aggregate of coherent swing + turbine machines.

    Parameters
    ----------
    source : NetworkSystem or NodalDynamics, optional
        Take ``m, d, droop, tau`` from its (swing or swing_turbine) nodal parameters.
    m, d : array_like
        Inertia and damping of each machine (``g_i = 1/(m_i s + d_i + droop_i/(tau_i s + 1))``).
    droop, tau : array_like
        Droop coefficient ``r_i^{-1}`` and turbine time constant (s) of each machine.
    order : int
        Order of the fitted machine: 2 gives one turbine, 3 two turbines.
    method : {"closed_loop", "turbine"}
        ``"closed_loop"`` (BTk-cl): truncate ``ĝ`` itself to ``order``. ``"turbine"`` (BTk-tb):
        truncate the turbine part ``Σ droop_i/(tau_i s + 1)`` to ``order - 1`` and close the loop
        with the exact ``m̂ = Σm``, ``d̂ = Σd``.
    weight : None, (num, den) or control.TransferFunction
        Output weight of the balanced truncation; :data:`PAPER_WEIGHTS` holds the paper's choices.
    match_dc : bool
        Rescale the fitted model by a constant so ``g̃(0) = ĝ(0)`` exactly (the interpreted
        parameters then all scale by the inverse constant).
    step_pu : float
        Step size for the time-domain error metrics (the paper's Table II figures correspond to
        a unit step; its text says 0.1 p.u.).
    t_final_s : float
        Horizon of the step-response errors.
    omega_rad_s : array_like, optional
        Grid for the H∞ error; default ``logspace(-4, 3, 2000)``.

    Returns
    -------
    AggregateMachineFit
        The fitted machine's parameters, its transfer function and state-space model, and
        its error against the exact aggregate.

    See Also
    --------
    netcoh.aggregate_dynamics : The exact aggregate that is approximated.
    netcoh.reduce_network : Reduced networks whose areas can use the fitted machines.

    Examples
    --------
    >>> fit = fit_aggregate_machine(m=[0.03, 0.04], d=[0.005, 0.006], droop=[0.05, 0.06],
    ...                             tau=[2.0, 8.0], order=2, weight=PAPER_WEIGHTS["closed_loop"])
    >>> fit.name, fit.droop_tilde.shape, fit.interpretable
    ('BT2-cl', (1,), True)
    """
    import control

    if source is not None:
        if any(v is not None for v in (m, d, droop, tau)):
            raise InputError("`source` must not be given together with `m`, `d`, `droop` or `tau`, "
                             "got both")
        m, d, droop, tau = _params_from(source)
    if m is None or d is None:
        raise InputError(f"`m` and `d` must be given (or a `source` system), got "
                         f"m={_show(m)}, d={_show(d)}")

    def vec(v, name, check):
        arr = np.atleast_1d(check(v, name))
        if arr.ndim != 1 or arr.size == 0:
            raise InputError(f"`{name}` must be a scalar or a non-empty 1-D array (one value per "
                             f"machine), got shape {np.shape(v)}")
        return arr

    m = vec(m, "m", as_positive)
    d = vec(d, "d", as_nonnegative)
    n = max(m.size, d.size)
    droop = np.zeros(n) if droop is None else vec(droop, "droop", as_nonnegative)
    tau = np.ones(n) if tau is None else vec(tau, "tau", as_positive)
    sizes = {m.size, d.size, droop.size, tau.size} - {1}
    if len(sizes) > 1:
        raise InputError(f"`m`, `d`, `droop`, `tau` must have equal lengths, got "
                         f"{m.size}, {d.size}, {droop.size}, {tau.size}")
    n = sizes.pop() if sizes else 1
    m, d, droop, tau = (np.broadcast_to(v, (n,)) for v in (m, d, droop, tau))
    if method not in ("closed_loop", "turbine"):
        raise InputError(f"`method` must be 'closed_loop' or 'turbine', got {method!r}")
    match_dc = as_bool(match_dc, "match_dc")
    step_pu = as_real(step_pu, "step_pu")
    if step_pu == 0:
        raise InputError("`step_pu` must be non-zero (the step of the error metrics), got 0")
    t_final_s = as_real(t_final_s, "t_final_s", low=0.0, low_open=True)
    omega = (np.logspace(-4, 3, 2000) if omega_rad_s is None
             else as_nonnegative(omega_rad_s, "omega_rad_s", ndim=1))
    if omega.size == 0:
        raise InputError("`omega_rad_s` must hold at least one frequency, got none")

    m_hat, d_hat = float(m.sum()), float(d.sum())
    taus, rho = _group_turbines(droop, tau)
    num, den, dc, g0, bt, turbine, order, (A, B, C) = _fit_polynomials(
        m_hat, d_hat, taus, rho, order, method, weight, match_dc)
    m_t, d_t, droop_t, tau_t, ok = _interpret(num, den)
    if not ok:
        warnings.warn(f"the fitted {order}-th order model does not read as a machine with "
                      "positive real parameters; interpreted values may be negative or NaN",
                      NetcohWarning, stacklevel=2)
    model = control.tf(num, den)
    ma, mb, mc = _tf_realization(num, den)
    t = np.linspace(0.0, t_final_s, 5001)
    l2, linf, _, _ = _step_errors((ma, mb, mc), (A, B, C), step_pu, t)
    s = 1j * omega
    g_ref = 1.0 / (m_hat * s + d_hat + (rho[None, :] / (taus[None, :] * s[:, None] + 1)).sum(1))
    hinf = float(np.max(np.abs(np.polyval(num, s) / np.polyval(den, s) - g_ref)))
    return AggregateMachineFit(
        model=model, turbine=turbine, aggregate=control.ss(A, B, C, 0), method=method,
        order=order, weight=None if weight is None else _weight_tuple(weight), match_dc=match_dc,
        m_tilde=m_t, d_tilde=d_t, droop_tilde=_readonly(droop_t), tau_tilde=_readonly(tau_t),
        interpretable=ok, dc_gain=dc, aggregate_dc_gain=float(g0),
        hankel_singular_values=bt.hankel_singular_values, l2_error=l2, linf_error=linf,
        hinf_error=hinf, step_pu=step_pu, t_final_s=t_final_s, omega_rad_s=_readonly(omega))


def _tf_realization(num, den):
    import scipy.signal as ssig

    a, b, c, dd = ssig.tf2ss(num, den)
    if np.any(dd != 0):  # pragma: no cover - strictly proper by construction
        raise SolverError("fitted model is not strictly proper")
    return a, b, c


def _step_times(t) -> np.ndarray:
    """``t`` checked for python-control's step response: real, finite, 1-D, at least two
    equally spaced times from 0 (it reads any grid as starting at 0: a grid from 5 s would
    silently give the values at 0, 1, 2 s).

    Examples
    --------
    >>> _step_times([0.0, 0.5, 1.0])
    array([0. , 0.5, 1. ])
    >>> _step_times([5.0, 6.0, 7.0])
    Traceback (most recent call last):
        ...
    netcoh.exceptions.InputError: `t` must start at 0 s, got 5.0 (equally spaced times from 0)
    """
    t = as_float_array(t, "t", ndim=1)
    if t.size < 2:
        raise InputError(f"`t` must hold at least two times, got {t.size}")
    if t[0] != 0.0:
        raise InputError(f"`t` must start at 0 s, got {_show(t[0])} (equally spaced times from 0)")
    dt = np.diff(t)
    if np.any(dt <= 0) or np.ptp(dt) > 1e-9 * dt.mean():
        raise InputError("`t` must be equally spaced and increasing, got steps from "
                         f"{_show(dt.min())} to {_show(dt.max())} s")
    return t
