"""Worst-case frequency nadir over all buses, all times and a set of step disturbances.

Jiang, Min & Zhang (EPSR 2024) pose ``max_{u in U} max_i sup_{t >= 0} |omega_i(t)|`` for
steps ``u`` in a norm ball and solve it, for *proportional* machines, by a modal closed
form and a dual-norm argument on a time grid (their Algorithm 1). netcoh computes the
same table ``F[i, t] = max_{u in U} |S(t)[i, :] u|`` (``S`` the step-response matrix),
vectorised over buses and times, and goes further:

* the supremum over *continuous* time: Brent refinement of the best grid points, and a
  certificate from bounds on ``dF/dt`` and ``d^2F/dt^2`` that no gap between grid points
  (and, with ``horizon=None``, no time after the horizon) hides a deeper nadir;
* any nodal dynamics (heterogeneous, swing-turbine, ...) through one eigendecomposition
  of the network's grounded state-space realisation;
* operator-style disturbance sets: per-bus loss bounds with a total budget, a given step
  (a known lost infeed), general polytopes (an LP per candidate), and single-unit trips,
  each evaluated on its own post-trip network (the tripped unit leaves the model and its
  lost output is the step).

The input ``u`` is a power *injection* (p.u. on the system base): a load increase or a
generation loss of ``P`` at bus ``j`` is ``u_j = -P``. The returned worst disturbance is
signed so that the worst bus dips (``omega < 0``).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._util import readonly as _readonly
from .._validation import as_bool, as_float_array, as_int, as_norm, as_positive, as_real
from ..exceptions import AccuracyWarning, InputError, NetcohTypeError, SolverError
from ..network.system import _check_system
from . import nadir_chebyshev as _cheb
from .lti import LTIModel, as_lti, is_lti
from .lti_timedomain import lti_timedomain_nadir
from .modal_statespace import lti_modes, statespace_modes
from .nadir_inputs import restrict
from .nadir_modes import ModalModel, proportional_factors, proportional_modes
from .nadir_result import EmbeddedTables, NadirResult, SearchTables, bus_summary
from .nadir_search import Search, above_level, search, time_grid
from .nadir_sets import BudgetBox, FixedStep, NormBall, UnitTrips, eliminate_node
from .nadir_timedomain import prefer_timedomain, timedomain_nadir

__all__ = ["NadirResult", "worst_case_nadir", "THRESHOLDS_HZ", "build_modal_model",
           "trip_system"]

#: Frequency-deviation limits used by :func:`worst_case_nadir` ``threshold_hz`` presets.
THRESHOLDS_HZ = {"continental_europe": 0.8, "north_america": 0.5, "gb": 0.5}




def build_modal_model(system, method: str = "auto"):
    """The modal model ``S(t) = S0 + Re(P diag(phi(t)) Q)`` used by :func:`worst_case_nadir`.

    Parameters
    ----------
    system : NetworkSystem or control.StateSpace
        The network, or a stable linear model (``"statespace"`` only).
    method : {"auto", "modal", "statespace"}
        ``"auto"`` (closed form for proportional machines, else state space),
        ``"modal"`` (proportional only) or ``"statespace"``.

    Returns
    -------
    (model, str)
        The model and the method used.

    Examples
    --------
    >>> import netcoh as nc
    >>> from netcoh.analysis.nadir import build_modal_model
    >>> sys = nc.NetworkSystem.from_laplacian(50.0 * nc.laplacian.complete(4),
    ...                                       nodal=nc.nodal.swing(2.0, 1.0, n=4))
    >>> build_modal_model(sys)[1]       # proportional machines: the closed form
    'modal'
    """
    if method not in ("auto", "modal", "statespace"):
        raise InputError(f"`method` must be 'auto', 'modal' or 'statespace', got {method!r}")
    if is_lti(system):
        if method == "modal":
            raise InputError("`method='modal'` needs a NetworkSystem of proportional machines; "
                             "a state-space model takes method='statespace'")
        return lti_modes(as_lti(system)), "statespace"
    system = _check_system(system)
    factors = proportional_factors(system) if method in ("auto", "modal") else None
    if method == "modal" and factors is None:
        raise InputError("`method='modal'` needs proportional machines (g_i = g_o / r_i) and "
                         "coupling f = gain/s; use method='statespace'")
    if factors is not None:
        den_o = factors[2]
        if np.trim_zeros(den_o, "f")[-1] == 0:
            raise InputError("the machines have no damping or droop (g_o has a pole at s = 0): "
                             "the frequency deviation grows without bound")
        return proportional_modes(system, factors), "modal"
    return statespace_modes(system), "statespace"


def _chebyshev_applies(system, method, dset, horizon, full_table) -> bool:
    """Whether the eigen-free Chebyshev path (:mod:`.nadir_chebyshev`) serves this call.

    ``method="auto"`` takes it for proportional swing machines on a sparse Laplacian of at
    least :data:`~netcoh.analysis.nadir_chebyshev.MIN_NODES` nodes, a 2-norm ball, an
    explicit horizon and no full table; ``method="chebyshev"`` asks for it (and says why
    when it cannot serve).
    """
    if method not in ("auto", "chebyshev"):
        return False
    if not hasattr(system, "nodal"):            # a general state-space model
        if method == "chebyshev":
            raise InputError("`method='chebyshev'` needs a NetworkSystem of proportional swing "
                             "machines, got a state-space model")
        return False
    reasons = []
    factors = proportional_factors(system)
    if factors is None or np.trim_zeros(factors[1], "f").size != 1 or \
            np.trim_zeros(factors[2], "f").size != 2:
        reasons.append("proportional swing machines (g_i = 1/(m_i s + d_i), d_i = r_i d)")
    if not (isinstance(dset, NormBall) and dset.p == 2):
        reasons.append("a 2-norm ball (`rho`, norm=2)")
    if horizon is None:
        reasons.append("an explicit `horizon`")
    if full_table:
        reasons.append("full_table=False")
    if method == "chebyshev":
        if reasons:
            raise InputError("`method='chebyshev'` needs " + ", ".join(reasons))
        return True
    import scipy.sparse as _sp

    return not reasons and _sp.issparse(system.laplacian) and system.n >= _cheb.MIN_NODES


def _disturbance_set(system, rho, norm, bounds, trips, given=None):
    n = getattr(system, "n_inputs", system.n)       # a linear model's inputs are not its outputs
    if given is not None:
        if bounds is not None or trips is not None:
            raise InputError("give one of `disturbance_set`, `bounds` or `trips`, not several")
        if rho is not None:
            raise InputError(f"`rho` must be left out with a `disturbance_set`, which carries "
                             f"its own size (`rho` sizes the norm ball or the budget of "
                             f"`bounds`), got rho={rho!r}")
        if isinstance(given, (list, tuple, np.ndarray)):
            given = FixedStep(given)
        if not (hasattr(given, "value") and hasattr(given, "maximiser")):
            raise InputError(f"`disturbance_set` must be a set from netcoh.analysis.nadir_sets "
                             f"or a step vector, got {type(given).__name__}")
        # a given step (u) or per-input caps (budget boxes, polytopes) must match the inputs
        size = np.size(given.u) if isinstance(given, FixedStep) else (
            np.size(given.cap) if isinstance(getattr(given, "cap", None), np.ndarray) else n)
        if size != n:
            raise InputError(f"`disturbance_set` must have {n} entries (one per "
                             f"{'input' if hasattr(system, 'n_inputs') else 'node'}), "
                             f"got {size}")
        return given
    if trips is not None:
        if bounds is not None:
            raise InputError("give either `bounds` or `trips`, not both")
        if rho is not None:
            raise InputError(f"`rho` must be left out with `trips`, each of which loses its "
                             f"unit's output (`rho` sizes the norm ball or the budget of "
                             f"`bounds`), got rho={rho!r}")
        return UnitTrips(trips, n, system.labels)
    if bounds is not None:
        return BudgetBox(bounds, rho, n)
    if rho is None:
        raise InputError("`rho` must be given (the size of the disturbance set), got None")
    return NormBall(rho, norm)


def _hz_per_unit(output: str, f_hz: float | None) -> float:
    if output == "pu":
        return float("nan") if f_hz is None else f_hz
    if output == "rad/s":
        return 1.0 / (2 * np.pi)
    if output == "hz":
        return 1.0
    raise InputError(f"`output` must be 'auto', 'pu', 'rad/s' or 'hz', got {output!r}")


def _threshold(threshold_hz):
    if threshold_hz is None:
        return None
    if isinstance(threshold_hz, str):
        key = threshold_hz.lower().replace(" ", "_").replace("-", "_")
        if key not in THRESHOLDS_HZ:
            raise InputError(f"`threshold_hz` must be a number or one of {sorted(THRESHOLDS_HZ)}, "
                             f"got {threshold_hz!r}")
        return THRESHOLDS_HZ[key]
    return as_real(threshold_hz, "threshold_hz", low=0.0, low_open=True)


def _check_arguments(system, dt, horizon, rtol, n_refine, rho, norm, bounds, trips, model,
                     disturbance_set=None):
    """Argument checks of :func:`worst_case_nadir` (types, ranges and their consistency)."""
    dt = as_real(dt, "dt", low=0.0, low_open=True)
    if horizon is not None:
        horizon = as_real(horizon, "horizon", low=0.0, low_open=True)
        if dt > horizon:
            raise InputError(f"`dt` must be at most `horizon` ({horizon:g} s), got {dt:g}")
    rtol = as_real(rtol, "rtol", low=0.0, high=1.0, low_open=True, high_open=True)
    n_refine = as_int(n_refine, "n_refine", minimum=1)
    if rho is not None:
        rho = as_real(rho, "rho", low=0.0, low_open=True)
    norm = as_norm(norm, "norm")
    if bounds is not None and trips is not None:
        raise InputError("`bounds` and `trips` must not both be given, got both")
    if isinstance(trips, dict):
        if not trips:
            raise InputError("`trips` must name at least one unit, got {}")
        for k in trips:
            known = str(k) in system.labels or (
                isinstance(k, (int, np.integer)) and not isinstance(k, bool) and 0 <= k < system.n)
            if not known:
                raise InputError(f"`trips` must name buses of the system (labels or indices "
                                 f"0..{system.n - 1}), got {k!r}")
    if isinstance(disturbance_set, (list, tuple, np.ndarray)):
        as_float_array(disturbance_set, "disturbance_set", ndim=1)
    if model is not None and not isinstance(model, ModalModel):
        raise NetcohTypeError(f"`model` must come from build_modal_model(system), got "
                              f"{type(model).__name__}")
    return dt, horizon, rtol, n_refine, rho, norm


def worst_case_nadir(system, rho=None, *, norm=2, dt: float = 0.01, horizon: float | None = None,
                     bounds=None, trips=None, f_hz: float | None = None, output: str = "auto",
                     threshold_hz=None, method: str = "auto", rtol: float = 1e-6,
                     n_refine: int = 4, model=None, full_table: bool = False,
                     disturbance_set=None) -> NadirResult:
    """Worst frequency deviation over all buses, times and step disturbances in a set.

    Solves ``max_{u in U} max_i sup_t |omega_i(t)|`` for step injections ``u`` applied at
    ``t = 0`` (Jiang, Min & Zhang 2024, problem (6)), and returns the worst bus, the time
    of its nadir and a worst disturbance.

    Parameters
    ----------
    system : NetworkSystem or control.StateSpace
        A stable network (for grids: ``netcoh.grids.load(...).to_system()``), or a stable
        linear model whose inputs are bus injections and outputs machine frequencies (e.g.
        :func:`netcoh.grids.andes_linear.linearize`): the disturbance set is over its inputs,
        the search over its outputs (``bus`` and ``labels`` of the result name outputs);
        ``trips`` and ``method="modal"`` need a NetworkSystem.
    rho : float
        Size of the set: the norm-ball radius, or the total budget with ``bounds``
        (p.u. power on the system base; with ``bounds`` and no ``rho``, no total budget:
        every bus may lose up to its bound). Not with ``trips`` or ``disturbance_set``,
        which carry their own sizes.
    norm : {2, numpy.inf, 1}
        Norm of the ball ``||u|| <= rho`` (its dual norm gives ``F``).
    dt : float
        Time-grid step (s). The grid only seeds the search: the returned value is the
        supremum over continuous time, refined and certified.
    horizon : float, optional
        End of the searched window (s). ``None`` searches all ``t >= 0``: the horizon is
        chosen from the slowest mode and extended until a tail bound certifies that no
        later time (including the steady state) is worse. With an explicit horizon a
        nadir at the window's end raises an :class:`~netcoh.AccuracyWarning`.
    bounds : array_like (n,), optional
        Per-bus loss bounds ``pbar_j``: the set ``0 <= p_j <= pbar_j``, ``sum p <= rho``
        with injection ``u = -p``.
    trips : dict or array_like, optional
        Unit trips: ``{bus: p}`` (``p`` the unit's output; a list gives several outputs to
        try) or one value per bus (0 = no trip). Each trip is a contingency of its own: the
        unit's node leaves the model (:func:`~netcoh.analysis.nadir_sets.eliminate_node`,
        its inertia, damping and governor with it) and its lost output ``-p`` is a step at
        its terminal bus on the post-trip network; the worst trip is returned, the tripped
        node excluded (NaN in the per-bus arrays and the trajectory; ``disturbance`` is
        ``-p`` at the tripped node, what was lost).
    f_hz : float, optional
        Nominal frequency, to report the nadir in Hz; default the system's own ``f_hz``
        (systems built from grids carry it). Without either, Hz values are NaN.
    output : {"auto", "pu", "rad/s", "hz"}
        Unit of the system's output (``"pu"``: frequency deviation per unit of ``f_hz``).
        ``"auto"`` (default): ``"pu"`` for a network, a state-space model's own
        ``output_unit`` attribute (which :func:`~netcoh.grids.andes_linear.linearize` sets,
        ``"pu"`` without it); another unit than a model's own raises
        :class:`~netcoh.exceptions.InputError`.
    threshold_hz : float or {"continental_europe", "north_america", "gb"}, optional
        Flag buses whose worst deviation exceeds it (0.8, 0.5 and 0.5 Hz presets): the
        supremum over the window, between grid points too (certified to ``rtol``), or the
        steady state.
    method : {"auto", "modal", "chebyshev", "statespace", "timedomain"}
        ``"modal"``: EPSR24 closed form (proportional machines ``g_i = g_o/r_i`` and
        ``f = gain/s``); ``"chebyshev"``: the same closed form without the modes, by
        Chebyshev expansion of the matrix function (proportional swing machines, a 2-norm
        ball and an explicit horizon; ``netcoh.analysis.nadir_chebyshev``);
        ``"statespace"``: one eigendecomposition of the grounded realisation (any
        machines); ``"timedomain"``: sparse propagation of every bus's row of ``S(t)``
        over a finite ``horizon``, no eigenproblem (``netcoh.analysis.nadir_timedomain``).
        ``"auto"`` picks the closed form when it applies (``"chebyshev"`` before
        ``"modal"`` for sparse Laplacians of at least 1,500 nodes), else the time-domain
        search for a norm ball or loss budget over a finite ``horizon`` on a large network
        (``prefer_timedomain`` of that module), else the state space. A state-space model
        takes ``"statespace"``, or ``"timedomain"`` when asked or when its state matrix is
        nearly defective (``netcoh.analysis.lti_timedomain``, which also covers
        ``horizon=None``). On the Chebyshev
        path the whole table is computed on request from its columns, ``n`` sparse matrix
        function evaluations.
    rtol : float
        Relative tolerance of the certificate and of the continuous-time refinement,
        ``0 < rtol < 1``.
    n_refine : int
        Number of best buses whose grid maximum is refined by Brent's method (at least 1).
    model : optional
        A model from :func:`build_modal_model` for this system (reuse across calls).
    disturbance_set : set or array_like, optional
        Any set of :mod:`netcoh.analysis.nadir_sets` (e.g. a
        :class:`~netcoh.analysis.nadir_sets.FixedStep` or a
        :class:`~netcoh.analysis.nadir_polytope.LinearSet`), or one step vector ``u``
        (its exact nadir: bus, time, certified).
    full_table : bool
        False (default): every entry ``F[i, t]`` is first bounded by a certified cheap bound
        (a tight one for a 2-norm ball and proportional machines, the triangle inequality
        over modes otherwise) and evaluated exactly only where it could still be the worst
        or exceed ``threshold_hz``; value, bus, time, disturbance, certificate and flags are
        those of the whole table. The result computes the whole table (and each bus's
        worst) from the stored search on first access of ``NadirResult.table`` or
        ``NadirResult.per_bus``. True evaluates the whole table during the search.

    Returns
    -------
    NadirResult
        The worst value (p.u. and Hz), the bus and time where it occurs, the disturbance
        that causes it, the bus-by-time table and whether the supremum is certified.

    See Also
    --------
    netcoh.screen_contingencies : The worst-case nadir of every N-1 contingency of a grid.

    Examples
    --------
    >>> import netcoh as nc
    >>> from netcoh.analysis.nadir import worst_case_nadir
    >>> L = 50.0 * nc.laplacian.complete(4)
    >>> sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(2.0, 1.0, n=4))
    >>> res = worst_case_nadir(sys, rho=0.5)
    >>> round(res.value, 6)          # rho / (d sqrt(n)): even disturbance, steady state
    0.25
    >>> res.disturbance.round(3).tolist()
    [-0.25, -0.25, -0.25, -0.25]

    The same network as a ``control.StateSpace`` (its realisation) gives the same nadir:

    >>> import control
    >>> A, B, C, D = (M.toarray() for M in sys.realization())
    >>> round(worst_case_nadir(control.ss(A, B, C, D), rho=0.5).value, 6)
    0.25
    """
    if is_lti(system):
        if trips is not None:
            raise InputError("`trips` needs a NetworkSystem (a trip changes the network); for a "
                             "state-space model linearise the post-trip case and pass the lost "
                             "infeed as `disturbance_set`")
        unit = getattr(system, "output_unit", None)
        if unit is not None and output not in ("auto", unit):
            raise InputError(f"`output` must be the model's own output unit {unit!r} (or "
                             f"'auto'), got {output!r}")
        if output == "auto":
            output = unit or "pu"
        system = as_lti(system, f_hz=f_hz)
    else:
        system = _check_system(system)
    if isinstance(output, str) and output == "auto":
        output = "pu"
    dt, horizon, rtol, n_refine, rho, norm = _check_arguments(
        system, dt, horizon, rtol, n_refine, rho, norm, bounds, trips, model, disturbance_set)
    dset = _disturbance_set(system, rho, norm, bounds, trips, disturbance_set)
    if f_hz is None:
        f_hz = system.f_hz
    f_hz = None if f_hz is None else as_real(f_hz, "f_hz", low=0.0, low_open=True)
    scale_hz = _hz_per_unit(output, f_hz)
    thr = _threshold(threshold_hz)
    if thr is not None and not np.isfinite(scale_hz):
        raise InputError("`threshold_hz` needs the nominal frequency: pass `f_hz` (the system "
                         "carries none), got f_hz=None")
    if isinstance(dset, UnitTrips):
        return _worst_trip(system, dset, dict(
            dt=dt, horizon=horizon, f_hz=f_hz, output=output, threshold_hz=threshold_hz,
            method=method, rtol=rtol, n_refine=n_refine, full_table=full_table))
    if model is None and _chebyshev_applies(system, method, dset, horizon, full_table):
        t = time_grid(dt, horizon, False)
        out = _cheb.chebyshev_nadir(system, proportional_factors(system), dset.rho, t, rtol,
                                    n_refine, floor=np.inf if thr is None else thr / scale_hz)
        res = _cheb.result(system, out, t, rtol, dset.description, f_hz, scale_hz, thr)
        if not res.certified:
            warnings.warn(f"the worst-case nadir could not be certified: value {res.value:.6g}, "
                          f"upper bound {res.upper_bound:.6g}", AccuracyWarning, stacklevel=2)
        if res.time >= horizon - 0.5 * dt:
            warnings.warn(
                f"the worst nadir is at the end of the window (t = {res.time:g} s = horizon): the "
                "true nadir may be later; increase `horizon`", AccuracyWarning, stacklevel=2)
        return res
    if model is None and isinstance(system, LTIModel) and method in ("auto", "timedomain"):
        # a nearly defective state matrix has no usable eigenvector basis: propagate instead
        try:
            model = lti_modes(system) if method == "auto" else None
        except SolverError:
            model = None
        if model is None:
            return lti_timedomain_nadir(system, dset, dt=dt, horizon=horizon, rtol=rtol,
                                        n_refine=n_refine, f_hz=f_hz, scale_hz=scale_hz,
                                        threshold_hz=thr)
    if model is None and prefer_timedomain(system, method, horizon, dset):
        return timedomain_nadir(system, dset, dt=dt, horizon=horizon, rtol=rtol,
                                n_refine=n_refine, f_hz=f_hz, scale_hz=scale_hz, threshold_hz=thr)
    if model is None:
        model, used = build_modal_model(system, method)
    else:
        used = "modal" if hasattr(model, "lam") or not np.iscomplexobj(model.P) else "statespace"
    # search over the inputs the set can use (a given step: one column of S(t))
    smodel, sset, lift = restrict(model, dset)
    srch = Search(smodel, sset, float(rtol), full_table=as_bool(full_table, "full_table"))
    floor = np.inf if thr is None else thr / scale_hz
    auto = horizon is None
    if auto:
        dec = model.decay
        H = float(np.clip(6.0 / dec if np.isfinite(dec) and dec > 0 else 10.0, 1.0, 1e4))
    else:
        H = float(as_positive(horizon, "horizon"))
    Sinf_val = None
    if auto:
        Sinf = smodel.rows_at_inf()
        Sinf_val = sset.value(Sinf) if np.all(np.isfinite(Sinf)) else None
    for _ in range(8):
        t = time_grid(dt, H, auto)
        H = float(t[-1])
        F, E, grid_value, best_v, best_i, best_t, upper = search(srch, t, n_refine, floor)
        if not auto:
            break
        # steady state as a candidate, and a tail bound for t >= H
        if Sinf_val is not None:
            iinf = int(np.argmax(Sinf_val))
            if Sinf_val[iinf] >= best_v * (1 - rtol):
                best_v, best_i, best_t = float(Sinf_val[iinf]), iinf, np.inf
            tail = Sinf_val + srch.absP @ (model.tail(H) * srch.w)
        else:
            tail = np.full(system.n, np.inf)
        if tail.max() <= best_v * (1 + rtol):
            upper = max(upper, best_v)
            break
        upper = max(upper, float(tail.max()))
        H *= 2.0
    certified = bool(upper <= best_v * (1 + rtol) * (1 + 1e-12))
    if not certified:
        warnings.warn(
            f"the worst-case nadir could not be certified: value {best_v:.6g}, upper bound "
            f"{upper:.6g}{'' if not auto else f' (searched up to {H:g} s)'}", AccuracyWarning,
            stacklevel=2)
    if not auto and best_t >= H - 0.5 * dt:
        warnings.warn(
            f"the worst nadir is at the end of the window (t = {best_t:g} s = horizon): the true "
            "nadir may be later; increase `horizon` or use horizon=None", AccuracyWarning, stacklevel=2)
    if np.isfinite(best_t):
        s = smodel.rows([best_i], [best_t])[0]
    else:
        s = smodel.rows_at_inf()[best_i]
    u = np.asarray(lift(sset.maximiser(s)), dtype=float)
    if E is None:
        per_bus, per_bus_time = bus_summary(F, t, Sinf_val if auto else None, best_i, best_v)
        known = per_bus
        tables = SearchTables(smodel, sset, t, Sinf_val if auto else None, best_i, best_v,
                              np.ones(F.shape, dtype=bool), (per_bus, per_bus_time), full_table=F)
    else:
        known, tables = _pruned_tables(srch, t, F, E, Sinf_val if auto else None, best_i, best_v,
                                       best_t)
    traj = model.response(u, t)
    # a bus is flagged when its supremum over the window (certified: between grid points
    # too, as on the Chebyshev path) or its exact steady state exceeds the threshold
    worst = known if Sinf_val is None else np.maximum(known, Sinf_val)
    flagged = () if thr is None else tuple(
        system.labels[i] for i in np.flatnonzero(above_level(srch, t, F, E, floor, worst)))
    return NadirResult(
        value=float(best_v), value_hz=float(best_v * scale_hz), bus=system.labels[best_i],
        bus_index=int(best_i), time=float(best_t), disturbance=_readonly(u), times=_readonly(t),
        trajectory=_readonly(traj), upper_bound=float(upper), certified=certified, horizon=H,
        grid_value=grid_value, labels=system.labels, disturbance_set=dset.description,
        method=used, f_hz=float("nan") if f_hz is None else float(f_hz), hz_per_unit=scale_hz,
        threshold_hz=thr, flagged=flagged, _tables=tables)


def _pruned_tables(srch, t, F, E, steady, best_i, best_v, best_t):
    """Per-bus values decided by the evaluated entries, and the lazily completed tables.

    Returns ``(known, tables)``: ``known`` the best evaluated grid value of each bus (the
    supremum for the worst bus), ``tables`` a :class:`SearchTables` whose partial per-bus
    arrays are NaN where entries bounded out could still exceed the evaluated ones.
    """
    n = F.shape[0]
    Fx = np.where(E, F, -np.inf)
    jmax = np.argmax(Fx, axis=1)
    known = Fx[np.arange(n), jmax]
    per_bus = known.copy()
    per_bus_time = t[jmax].astype(float)
    if steady is not None:
        per_bus_time = np.where(steady > per_bus, np.inf, per_bus_time)
        per_bus = np.maximum(per_bus, steady)
    # a bus's worst grid value is known when its entries not computed are bounded below it
    undecided = known < np.where(E, -np.inf, F).max(axis=1)
    per_bus[undecided] = np.nan
    per_bus_time[undecided] = np.nan
    if undecided[best_i]:             # its worst is the certified supremum
        per_bus[best_i], per_bus_time[best_i] = best_v, best_t
    per_bus[best_i] = max(per_bus[best_i], best_v)
    known[best_i] = max(known[best_i], best_v)
    return known, SearchTables(srch.model, srch.dset, t, steady, best_i, best_v, E,
                               (per_bus, per_bus_time))


def trip_system(system, k: int):
    """The system after the unit at node ``k`` trips, and the Kron factors of its bus.

    Parameters
    ----------
    system : NetworkSystem
        The network before the trip.
    k : int
        Node of the tripped unit.

    Returns
    -------
    (NetworkSystem, ndarray)
        The post-trip system (node ``k`` gone; see
        :func:`~netcoh.analysis.nadir_sets.eliminate_node`) and the factors ``c`` that carry
        an injection at the tripped unit's bus to the remaining nodes.

    Examples
    --------
    >>> import netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=3), f_hz=50.0)
    >>> after, c = trip_system(sys, 0)
    >>> after.labels, c.tolist(), after.f_hz
    (('1', '2'), [0.5, 0.5], 50.0)
    """
    import dataclasses

    system = _check_system(system)
    if system.n < 2:
        raise InputError("cannot trip the last unit of a system")
    Lr, c = eliminate_node(system.laplacian, k)
    keep = np.delete(np.arange(system.n), k)
    off = Lr - np.diag(np.diag(Lr))
    signed = bool(off.size and np.any(off > 1e-9 * np.abs(Lr).max()))
    after = dataclasses.replace(system, laplacian=Lr, nodal=system.nodal.subset(keep),
                                labels=tuple(system.labels[i] for i in keep),
                                signed=signed or system.signed)
    return after, c


def _worst_trip(system, trips: UnitTrips, kw: dict) -> NadirResult:
    """Each trip on its own post-trip network; the worst, embedded in the full node set."""
    best = None
    for k, p in zip(trips.bus.tolist(), trips.p.tolist()):
        after, c = trip_system(system, k)
        res = worst_case_nadir(after, disturbance_set=FixedStep(-p * c), **kw)
        if best is None or res.value > best[0].value:
            best = (res, k, p)
    res, k, p = best
    n, keep = system.n, np.delete(np.arange(system.n), best[1])
    traj = np.full((res.trajectory.shape[0], n), np.nan)
    traj[:, keep] = res.trajectory
    u = np.zeros(n)
    u[k] = -p
    return NadirResult(
        value=res.value, value_hz=res.value_hz, bus=res.bus, bus_index=int(keep[res.bus_index]),
        time=res.time, disturbance=_readonly(u), times=res.times,
        trajectory=_readonly(traj), upper_bound=res.upper_bound,
        certified=res.certified, horizon=res.horizon, grid_value=res.grid_value,
        labels=system.labels,
        disturbance_set=f"{trips.description}, each on its post-trip network (worst: "
                        f"{system.labels[k]} losing {p:g})",
        method=res.method, f_hz=res.f_hz, hz_per_unit=res.hz_per_unit,
        threshold_hz=res.threshold_hz,
        flagged=res.flagged, _tables=EmbeddedTables(res._tables, keep, n))
