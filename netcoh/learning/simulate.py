"""Gradient-flow and gradient-descent simulators for :class:`TrainingDynamics`.

Gradient flow uses :func:`scipy.integrate.solve_ivp`. For piecewise-smooth fields (ReLU
networks) the flow is integrated one activation pattern at a time: the pattern is frozen, a
terminal event fires when any pre-activation changes sign, and integration restarts with the
updated pattern. Inside a segment the field is smooth, so the adaptive solver keeps its
accuracy; dead neurons get an exactly zero field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from netcoh._validation import as_float_array, as_int
from netcoh.exceptions import InputError, SolverError

from .dynamics import TrainingDynamics, readonly

__all__ = ["Trajectory", "simulate_gf", "simulate_gd"]


@dataclass(frozen=True)
class Trajectory:
    """A sampled training trajectory.

    Attributes
    ----------
    t : ndarray, shape (k,)
        Times (gradient flow) or iteration numbers (gradient descent).
    theta : ndarray, shape (k, p)
        Parameters at each sample.
    loss : ndarray, shape (k,)
        Loss at each sample.
    eta : ndarray or None
        Step sizes used at the recorded iterations (gradient descent only).
    switch_times : ndarray
        Times of activation-pattern changes (piecewise-smooth gradient flow).
    kind : str
        ``"gf"`` or ``"gd"``.
    dynamics : TrainingDynamics
        The model that was trained; :meth:`invariant` and :meth:`observable` evaluate it.

    Examples
    --------
    >>> from netcoh.learning import simulate_gd
    >>> from netcoh.learning.edge_of_stability import ScalarFactorization
    >>> traj = simulate_gd(ScalarFactorization(y=1.0), [1.0, 0.5], 0.1, 3)
    >>> traj.kind, traj.theta.shape
    ('gd', (4, 2))
    """

    dynamics: TrainingDynamics = field(repr=False)
    t: np.ndarray
    theta: np.ndarray
    loss: np.ndarray
    kind: str
    eta: np.ndarray | None = None
    switch_times: np.ndarray = field(default_factory=lambda: readonly(np.zeros(0)))

    def invariant(self, name: str) -> np.ndarray:
        """Invariant ``name`` evaluated at every sample, shape (k, ...).

        Parameters
        ----------
        name : str
            A key of ``dynamics.invariants(theta)``, e.g. ``"imbalance"``.

        Returns
        -------
        ndarray, shape (k, ...)
            Stacked values, one row per sample.

        Examples
        --------
        >>> from netcoh.learning import simulate_gf
        >>> from netcoh.learning.edge_of_stability import ScalarFactorization
        >>> traj = simulate_gf(ScalarFactorization(y=1.0), [1.0, 0.5], [0.0, 1.0, 2.0])
        >>> traj.invariant("imbalance").round(8).tolist()       # conserved by gradient flow
        [0.75, 0.75, 0.75]
        """
        return _stacked([self.dynamics.invariants(th) for th in self.theta], name)

    def invariant_drift(self) -> dict[str, float]:
        """Largest absolute deviation of each invariant from its initial value (0 for an
        empty invariant)."""
        vals = [self.dynamics.invariants(th) for th in self.theta]     # once for all names
        out = {}
        for name in vals[0]:
            v = _stacked(vals, name)
            out[name] = float(np.max(np.abs(v - v[0]), initial=0.0))
        return out

    def observable(self, name: str) -> np.ndarray:
        """Observable ``name`` at every sample, shape (k, ...).

        Parameters
        ----------
        name : str
            A key of ``dynamics.observables(theta)``, e.g. ``"gap"``.

        Returns
        -------
        ndarray, shape (k, ...)
            Stacked values, one row per sample.

        Examples
        --------
        >>> from netcoh.learning import simulate_gd
        >>> from netcoh.learning.edge_of_stability import ScalarFactorization
        >>> traj = simulate_gd(ScalarFactorization(y=1.0), [1.0, 0.5], 0.1, 2)
        >>> traj.observable("gap").shape
        (3,)
        """
        return _stacked([self.dynamics.observables(th) for th in self.theta], name)

    def to_frame(self):
        """pandas DataFrame with columns ``t``, ``loss`` (and ``eta`` for GD)."""
        import pandas as pd

        data = {"t": self.t, "loss": self.loss}
        if self.eta is not None:
            data["eta"] = self.eta
        return pd.DataFrame(data)

    def plot(self, ax=None):
        """Loss against time on log axes; returns the matplotlib axes.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is created when omitted.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on (``ax`` itself when given), labelled "iteration" or "time"
            against "loss".

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from netcoh.learning import simulate_gd
        >>> from netcoh.learning.edge_of_stability import ScalarFactorization
        >>> ax = simulate_gd(ScalarFactorization(y=1.0), [1.0, 0.5], 0.1, 5).plot()
        >>> ax.get_xlabel()
        'iteration'
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        ax.loglog(np.maximum(self.t, np.finfo(float).tiny), self.loss)
        ax.set_xlabel("iteration" if self.kind == "gd" else "time")
        ax.set_ylabel("loss")
        return ax


def _check_times(t_eval) -> np.ndarray:
    t = as_float_array(t_eval, "t_eval", ndim=1)
    if t.size < 2:
        raise InputError(f"`t_eval` must hold at least 2 times, got {t.size}")
    if np.any(np.diff(t) <= 0):
        raise InputError("`t_eval` must be strictly increasing")
    return t


def simulate_gf(dyn: TrainingDynamics, theta0, t_eval, *, rtol: float = 1e-10,
                atol: float = 1e-12, method: str = "DOP853",
                max_switches: int = 100_000) -> Trajectory:
    """Integrate gradient flow ``theta' = -grad L(theta)`` and sample it at ``t_eval``.

    Parameters
    ----------
    dyn : TrainingDynamics
        The model.
    theta0 : array_like, shape (p,)
        Initial parameters (``t_eval[0]`` is the initial time).
    t_eval : array_like
        Strictly increasing sample times.
    rtol, atol : float
        Tolerances of :func:`scipy.integrate.solve_ivp`.
    method : str
        Integrator name passed to ``solve_ivp`` (``"DOP853"``, ``"LSODA"``, ``"Radau"`` ...).
    max_switches : int
        Cap on activation-pattern changes; exceeded means a sliding mode (chattering).

    Returns
    -------
    Trajectory
        Parameters and loss at each time of ``t_eval`` (``kind = "gf"``), with the times of
        any activation-pattern changes in ``switch_times``.

    Examples
    --------
    >>> import numpy as np
    >>> from netcoh.learning.edge_of_stability import ScalarFactorization
    >>> dyn = ScalarFactorization(y=1.0)
    >>> traj = simulate_gf(dyn, [0.5, 0.1], np.linspace(0, 20, 5))
    >>> bool(traj.loss[-1] < 1e-12)
    True
    """
    theta0 = dyn._check_theta(theta0, "theta0").astype(float)
    t = _check_times(t_eval)
    if rtol <= 0 or atol <= 0:
        raise InputError(f"`rtol` and `atol` must be positive, got {rtol}, {atol}")
    as_int(max_switches, "max_switches", minimum=0)
    surfaces = dyn.switching_surfaces(theta0)
    if surfaces is None:
        sol = solve_ivp(dyn.vector_field, (t[0], t[-1]), theta0, method=method, t_eval=t,
                        rtol=rtol, atol=atol)
        if sol.status != 0:
            raise SolverError(f"gradient-flow integration failed: {sol.message}")
        thetas = sol.y.T
        return _make_traj(dyn, t, thetas, "gf")
    return _simulate_switched(dyn, theta0, t, rtol, atol, method, max_switches)


def _simulate_switched(dyn, theta0, t, rtol, atol, method, max_switches):
    thetas = [theta0[None, :]]
    switch_times = []
    t0, y0 = t[0], theta0
    pattern = np.asarray(dyn.switching_surfaces(y0)) > 0
    hyst = np.zeros(pattern.shape)
    tiny_in_a_row = 0
    while True:
        sign = np.where(pattern, 1.0, -1.0)

        def fun(_t, y, pattern=pattern):
            return -dyn._grad_on_pattern(y, pattern)

        # Surfaces flipped at the last switch start at ~0 (at rounding level), so they get a
        # small hysteresis: they must go 1e-9 * max|s| back before the pattern flips again.
        # A genuine sliding mode then shows up as a burst of switches (max_switches). The
        # pattern may thus lag the true signs by at most that band.
        def event(_t, y, sign=sign, hyst=hyst):
            return float(np.min(sign * np.asarray(dyn.switching_surfaces(y)) + hyst))

        event.terminal = True
        event.direction = -1
        rest = t[t > t0]
        sol = solve_ivp(fun, (t0, t[-1]), y0, method=method, t_eval=rest, rtol=rtol, atol=atol,
                        events=event)
        if sol.status == -1:
            raise SolverError(f"gradient-flow integration failed: {sol.message}")
        ys = np.asarray(sol.y, dtype=float)
        if ys.size:
            thetas.append(ys.reshape(y0.size, -1).T)
        if sol.status == 0:
            break
        te = float(sol.t_events[0][0])
        ye = sol.y_events[0][0]
        switch_times.append(te)
        if len(switch_times) > max_switches:
            raise SolverError(
                f"more than {max_switches} activation switches before t = {te:.6g}: the flow "
                "is sliding along a switching surface (raise `max_switches` or use GD)")
        tiny_in_a_row = tiny_in_a_row + 1 if te - t0 < 1e-12 * max(1.0, abs(te)) else 0
        if tiny_in_a_row > 50:
            raise SolverError(f"activation pattern chatters at t = {te:.6g} (sliding mode)")
        # flip the surface that hit zero and any that are already on the wrong side
        se = np.asarray(dyn.switching_surfaces(ye))
        val = sign * se + hyst
        crossed = val < 0
        crossed.flat[int(np.argmin(val))] = True
        pattern = pattern.copy()
        pattern[crossed] = ~pattern[crossed]
        # every surface within delta of (or beyond) zero on its new side gets slack, so the
        # event function starts at >= delta > 0 and no later crossing can be missed
        delta = 1e-9 * float(np.max(np.abs(se)))
        margin = np.where(pattern, 1.0, -1.0) * se
        hyst = np.where(margin < delta, np.maximum(-margin, 0.0) + delta, 0.0)
        t0, y0 = te, ye
    th = np.concatenate(thetas, axis=0)
    if th.shape[0] != t.size:  # pragma: no cover - defensive
        raise SolverError(f"expected {t.size} samples, integrator returned {th.shape[0]}")
    return _make_traj(dyn, t, th, "gf", switch_times=np.array(switch_times))


def _make_traj(dyn, t, thetas, kind, eta=None, switch_times=None):
    loss = np.array([dyn._loss(th) for th in thetas], dtype=float)
    return Trajectory(dynamics=dyn, t=readonly(t), theta=readonly(thetas), loss=readonly(loss),
                      kind=kind, eta=None if eta is None else readonly(eta),
                      switch_times=readonly(np.zeros(0) if switch_times is None
                                            else switch_times))


def simulate_gd(dyn: TrainingDynamics, theta0, eta: float | None, steps: int, *,
                schedule: Callable[[int, np.ndarray], float] | None = None,
                record_every: int = 1) -> Trajectory:
    """Run gradient descent ``theta <- theta - eta_t grad L(theta)`` for ``steps`` iterations.

    Parameters
    ----------
    dyn : TrainingDynamics
        The model.
    theta0 : array_like, shape (p,)
    eta : float or None
        Constant positive step size (ignored when ``schedule`` is given).
    steps : int
        Number of iterations.
    schedule : callable, optional
        ``schedule(t, theta) -> eta_t`` for adaptive steps.
    record_every : int
        Keep every ``record_every``-th iterate (the last iterate is always kept).

    Returns
    -------
    Trajectory
        ``t`` holds iteration numbers; ``eta`` the step used *from* each recorded iterate.

    Examples
    --------
    >>> from netcoh.learning.edge_of_stability import ScalarFactorization
    >>> traj = simulate_gd(ScalarFactorization(y=1.0), [0.5, 0.1], eta=0.1, steps=400)
    >>> bool(traj.loss[-1] < 1e-12)
    True
    """
    theta = dyn._check_theta(theta0, "theta0").astype(float).copy()
    steps = as_int(steps, "steps", minimum=1)
    record_every = as_int(record_every, "record_every", minimum=1)
    if schedule is None:
        if eta is None:
            raise InputError("`eta` must be given when no `schedule` is used")
        eta = float(eta)
        if not np.isfinite(eta) or eta <= 0:
            raise InputError(f"`eta` must be positive, got {eta}")
    ts, ths, etas = [0], [theta.copy()], []
    for k in range(steps):
        e = eta if schedule is None else float(schedule(k, theta))
        if not np.isfinite(e) or e <= 0:
            raise InputError(f"step sizes must be positive, got eta_{k} = {e}")
        if k % record_every == 0:
            etas.append(e)
        with np.errstate(over="ignore", invalid="ignore"):
            theta = theta - e * dyn._grad(theta)
        if not np.all(np.isfinite(theta)):
            raise SolverError(f"gradient descent diverged at iteration {k + 1} (eta = {e:.4g})")
        if (k + 1) % record_every == 0 or k + 1 == steps:
            ts.append(k + 1)
            ths.append(theta.copy())
    etas = etas + [np.nan] * (len(ts) - len(etas))
    return _make_traj(dyn, np.array(ts, dtype=float), np.array(ths), "gd",
                      eta=np.array(etas[:len(ts)], dtype=float))


def _stacked(vals: list, name: str) -> np.ndarray:
    """``vals[k][name]`` stacked over samples ``k``; a clear error for an unknown name."""
    if name not in vals[0]:
        raise InputError(f"`name` must be one of {sorted(vals[0])}, got {name!r}")
    return np.stack([np.asarray(v[name]) for v in vals])
