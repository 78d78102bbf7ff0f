"""Exact time-domain responses of the network, its centre of inertia and its aggregate.

Responses to steps, impulses and sinusoids are computed exactly at the requested
times with matrix exponentials of the state-space realisation augmented by the
input's own generator (constant or harmonic oscillator); no ODE tolerance is involved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as la

from .._validation import as_float_array
from ..exceptions import InputError
from ..network.system import NetworkSystem, _check_system
from .aggregate import aggregate_dynamics

__all__ = ["TimeResponse", "step_response", "impulse_response", "sine_response", "simulate_lti"]


def _as_times(t) -> np.ndarray:
    t = np.atleast_1d(as_float_array(t, "t"))
    if t.ndim != 1 or t.size == 0:
        raise InputError(f"`t` must be a non-empty 1-D array of times, got shape {t.shape}")
    if np.any(t < 0):
        raise InputError(f"`t` must be non-negative, got {t.min()}")
    if np.any(np.diff(t) <= 0):
        raise InputError("`t` must be strictly increasing")
    return t


def _as_disturbance(system: NetworkSystem, disturbance) -> np.ndarray:
    n = system.n
    if isinstance(disturbance, dict):
        u = np.zeros(n)
        pos = {lab: i for i, lab in enumerate(system.labels)}
        for k, v in disturbance.items():
            if str(k) not in pos:
                raise InputError(f"`disturbance` names an unknown node {k!r}")
            u[pos[str(k)]] = float(v)
        return u
    u = as_float_array(disturbance, "disturbance")
    if u.shape != (n,):
        raise InputError(f"`disturbance` must have shape ({n},) (one value per node), got {u.shape}")
    return u


def simulate_lti(A, B, C, D, u0, t, *, kind: str = "step", omega_rad_s: float | None = None):
    """Exact response ``y(t)`` of ``x' = Ax + Bu, y = Cx + Du`` from rest.

    The input is ``u(t) = u0 * w(t)`` with ``w`` a unit step (``kind="step"``), a Dirac
    impulse (``"impulse"``, the feedthrough's Dirac part is dropped) or
    ``sin(omega_rad_s t)`` (``"sine"``). The input generator is appended to the state
    so that one matrix exponential per distinct time step gives exact samples.

    Returns an array of shape ``(len(t), n_outputs)``.

    Examples
    --------
    >>> import numpy as np
    >>> y = simulate_lti([[-1.0]], [[1.0]], [[1.0]], [[0.0]], [1.0], [0.0, 1.0])
    >>> np.allclose(y[:, 0], [0.0, 1 - np.exp(-1)])
    True
    """
    A = np.asarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    C = np.asarray(C, dtype=float)
    D = np.asarray(D, dtype=float)
    u0 = np.asarray(u0, dtype=float)
    t = _as_times(t)
    N = A.shape[0]
    bu = B @ u0
    du = D @ u0
    if kind == "step":
        Aa = np.zeros((N + 1, N + 1))
        Aa[:N, :N] = A
        Aa[:N, N] = bu
        x0 = np.zeros(N + 1)
        x0[N] = 1.0
        Ca = np.hstack([C, du[:, None]])
    elif kind == "impulse":
        Aa, x0, Ca = A, bu.copy(), C
    elif kind == "sine":
        if omega_rad_s is None or not np.isfinite(omega_rad_s) or omega_rad_s <= 0:
            raise InputError(f"`omega_rad_s` must be positive, got {omega_rad_s}")
        a = float(omega_rad_s)
        Aa = np.zeros((N + 2, N + 2))
        Aa[:N, :N] = A
        Aa[:N, N] = bu
        Aa[N, N + 1] = a
        Aa[N + 1, N] = -a
        x0 = np.zeros(N + 2)
        x0[N + 1] = 1.0          # w = (sin, cos); w(0) = (0, 1)
        Ca = np.hstack([C, du[:, None], np.zeros((C.shape[0], 1))])
    else:
        raise InputError(f"`kind` must be 'step', 'impulse' or 'sine', got {kind!r}")
    X = np.empty((t.size, Aa.shape[0]))
    x = la.expm(Aa * t[0]) @ x0 if t[0] > 0 else x0.copy()
    X[0] = x
    steps = np.diff(t)
    cache: dict[float, np.ndarray] = {}
    uniform = steps.size and np.allclose(steps, steps[0], rtol=1e-12, atol=0)
    for i, h in enumerate(steps):
        key = float(steps[0]) if uniform else float(h)
        Phi = cache.get(key)
        if Phi is None:
            Phi = cache[key] = la.expm(Aa * key)
        x = Phi @ x
        X[i + 1] = x
    return X @ Ca.T


@dataclass(frozen=True, eq=False)
class TimeResponse:
    """Time response of every node, the centre of inertia and the aggregate model.

    Attributes
    ----------
    t : ndarray (k,)
        Times in s.
    outputs : ndarray (k, n)
        Node outputs ``y_i(t)`` (frequency deviations).
    coi : ndarray (k,)
        Centre-of-inertia output ``sum_i w_i y_i`` with ``w = m / sum(m)``.
    aggregate : ndarray (k,)
        Response of ``g_hat`` to the total input ``sum_i u_i``.
    disturbance : ndarray (n,)
        The input amplitudes ``u0``.
    kind : str
        ``"step"``, ``"impulse"`` or ``"sine"``.
    labels : tuple of str

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing([1.0, 2.0, 3.0], 1.0))
    >>> r = nc.step_response(sys, [0.0, -0.3, 0.0], np.linspace(0, 10, 101))
    >>> r.outputs.shape, r.coi.shape      # every node, and the centre of inertia
    ((101, 3), (101,))
    """

    t: np.ndarray
    outputs: np.ndarray
    coi: np.ndarray
    aggregate: np.ndarray
    disturbance: np.ndarray
    kind: str
    labels: tuple

    def __post_init__(self):
        for name in ("t", "outputs", "coi", "aggregate", "disturbance"):
            getattr(self, name).setflags(write=False)

    @property
    def incoherence(self) -> float:
        """``max_i sup_t |y_i(t) - y_aggregate(t)|`` over the sampled times."""
        return float(np.max(np.abs(self.outputs - self.aggregate[:, None])))

    def to_frame(self):
        """Wide table indexed by ``t_s``: one column per node plus ``coi`` and ``aggregate``."""
        import pandas as pd

        df = pd.DataFrame(self.outputs, columns=list(self.labels))
        df["coi"] = self.coi
        df["aggregate"] = self.aggregate
        df.index = pd.Index(self.t, name="t_s")
        return df

    def plot(self, ax=None):
        """Every node (thin), the COI (solid) and the aggregate model (dashed).

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
        >>> import numpy as np, netcoh as nc
        >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(2),
        ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=2))
        >>> ax = nc.step_response(sys, [-0.1, 0.0], np.linspace(0, 5, 11)).plot()
        >>> len(ax.lines)                 # 2 nodes + COI + aggregate
        4
        """
        from ..plotting import plot_time_response

        return plot_time_response(self, ax=ax)


def _respond(system, disturbance, t, kind, omega_rad_s=None) -> TimeResponse:
    system = _check_system(system)
    u0 = _as_disturbance(system, disturbance)
    t = _as_times(t)
    A, B, C, D = system.realization()
    y = simulate_lti(A.toarray(), B.toarray(), C.toarray(), D.toarray(), u0, t,
                     kind=kind, omega_rad_s=omega_rad_s)
    gh = aggregate_dynamics(system)
    Aa, Ba, Ca, Da = gh.realization()
    ya = simulate_lti(Aa, Ba, Ca, Da, [u0.sum()], t, kind=kind, omega_rad_s=omega_rad_s)[:, 0]
    coi = y @ system.inertia_weights
    return TimeResponse(t=t.copy(), outputs=y, coi=coi, aggregate=ya, disturbance=u0.copy(),
                        kind=kind, labels=system.labels)


def step_response(system: NetworkSystem, disturbance, t) -> TimeResponse:
    """Exact response to a step ``u(t) = u0`` applied at ``t = 0`` from rest.

    Parameters
    ----------
    system : NetworkSystem
    disturbance : array_like (n,) or dict
        Step amplitude per node (a power injection; a load increase is negative), or
        ``{label: amplitude}``.
    t : array_like
        Strictly increasing, non-negative sample times (s).

    Returns
    -------
    TimeResponse
        Every node's output, the centre of inertia and the aggregate model's response at
        the times ``t``.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing([1.0, 2.0, 3.0], 1.0))
    >>> r = nc.step_response(sys, [0.0, -0.3, 0.0], np.linspace(0, 100, 501))
    >>> bool(np.allclose(r.outputs[-1], -0.3 / 3.0, atol=1e-8))   # g_hat(0) * sum(u)
    True
    """
    return _respond(system, disturbance, t, "step")


def impulse_response(system: NetworkSystem, disturbance, t) -> TimeResponse:
    """Exact response to an impulse ``u(t) = u0 delta(t)``.

    Parameters
    ----------
    system : NetworkSystem
    disturbance : array_like (n,) or dict
        Impulse weight per node (an injected energy, power times seconds; a load
        increase is negative), or ``{label: weight}``.
    t : array_like
        Strictly increasing, non-negative sample times (s); the state just after the
        impulse is the value at ``t = 0``.

    Returns
    -------
    TimeResponse
        Every node's output, the centre of inertia and the aggregate model's response at
        the times ``t``.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(2),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=2))
    >>> r = nc.impulse_response(sys, [1.0, 1.0], [0.0, 1.0])
    >>> bool(np.allclose(r.outputs[1], np.exp(-1.0)))
    True
    """
    return _respond(system, disturbance, t, "impulse")


def sine_response(system: NetworkSystem, disturbance, t, omega_rad_s: float) -> TimeResponse:
    """Exact response to ``u(t) = u0 sin(omega_rad_s t)`` from rest.

    Parameters
    ----------
    system : NetworkSystem
    disturbance : array_like (n,) or dict
        Sine amplitude ``u0`` per node (a power injection), or ``{label: amplitude}``.
    t : array_like
        Strictly increasing, non-negative sample times (s).
    omega_rad_s : float
        Angular frequency of the sinusoid in rad/s.

    Returns
    -------
    TimeResponse
        Includes the transient from rest, not only the steady-state oscillation.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(2),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=2))
    >>> nc.sine_response(sys, [1.0, 0.0], np.linspace(0, 10, 11), 0.1).outputs.shape
    (11, 2)
    """
    return _respond(system, disturbance, t, "sine", float(omega_rad_s))
