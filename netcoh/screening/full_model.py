"""Screening on the full linear model of an ANDES case (``model="full"``).

The ``"case"`` model keeps each machine's internal EMF constant so that machines stay
nodes coupled through a Laplacian (coherence, reduction and the fast modal updates rely on
it). ``model="full"`` screens the same contingencies on the exact linearisation of the case
instead, :func:`netcoh.grids.andes_linear.linearize`: machines with damper windings and
flux dynamics, exciters, stabilisers, governors and the lossy network, linearised again by
ANDES for every contingency (about a second each, against milliseconds for the modal
updates of the network models). The events are those of the other models:

* **unit trip** (``"infeed-loss"``): the unit with its exciter, governor and stabiliser is
  taken out at the pre-trip state; the step is the loss of its active and reactive output
  (``trips=``);
* **branch outage that cuts buses off** (``"island-imbalance"``): the line and everything on
  the cut-off buses leave at the pre-outage state; the main island (the most machine inertia)
  loses the line's flow. Only the main island is screened;
* **branch outage that keeps the grid whole** (``"reference-incident"``): the power flow is
  solved again without the line (``outages=``) and the post-outage grid is screened against
  the reference incident read as on the ``"case"`` model: units lose mechanical power, up to
  their dispatch, while staying connected (the ``"pm:<id>"`` inputs of ``mechanical=True``).
"""

from __future__ import annotations

import numpy as np

from ..analysis.lti import as_lti
from ..exceptions import InputError
from .events import Event, operator_events, separated_note
from .metrics import ROCOF_WINDOW_S, _pack_metrics, _window_rocof

__all__ = ["FULL", "case_file", "full_system", "full_events", "unit_caps", "lti_metrics"]

#: The model name that selects this module in :func:`netcoh.screen_contingencies`.
FULL = "full"


def case_file(grid) -> str:
    """The ANDES case file a grid was read from (``model="full"`` linearises it).

    Parameters
    ----------
    grid : Grid
        A grid from :func:`netcoh.grids.from_andes`.

    Returns
    -------
    str
        The case file's path.

    Raises
    ------
    InputError
        The grid was not read from an ANDES case.

    Examples
    --------
    >>> import netcoh as nc
    >>> case_file(nc.grids.from_andes("kundur/kundur_full.xlsx")).endswith("kundur_full.xlsx")
    True
    >>> case_file(nc.grids.load("kundur", warn=False))
    Traceback (most recent call last):
    ...
    netcoh.exceptions.InputError: `model='full'` needs a grid from netcoh.grids.from_andes, got kundur
    """
    path = grid.provenance.get("andes", {}).get("case") if grid.provenance else None
    if not path:
        raise InputError(f"`model='full'` needs a grid from netcoh.grids.from_andes, got "
                         f"{grid.name}")
    return str(path)


def full_system(case: str, **kwargs):
    """The full linear model (per-unit outputs) of ``case`` as the analyses read it.

    Parameters
    ----------
    case : str
        ANDES case file.
    **kwargs
        ``trips``, ``outages``, ``mechanical`` of
        :func:`netcoh.grids.andes_linear.linearize`.

    Returns
    -------
    LTIModel
        Inputs: bus injections (then ``"trip"`` with ``trips`` and ``"pm:<id>"`` with
        ``mechanical``); outputs: machine speeds (p.u.).

    Examples
    --------
    >>> sys = full_system("kundur/kundur_full.xlsx", mechanical=True)
    >>> sys.input_labels[-4:], sys.labels
    (('pm:1', 'pm:2', 'pm:3', 'pm:4'), ('1', '2', '3', '4'))
    """
    from ..grids.andes_linear import linearize

    lin = linearize(case, output="pu", **kwargs)
    return as_lti(lin, f_hz=lin.f_hz)


def unit_caps(ctx, system) -> np.ndarray:
    """The reference incident's caps (each unit's dispatch, p.u.) on ``system``'s inputs.

    The full model's reading of the reference incident is the ``"case"`` model's: units lose
    mechanical power while staying connected, so the caps sit on the ``"pm:<id>"`` inputs
    (:func:`~netcoh.grids.andes_linear.linearize` with ``mechanical=True``).

    Parameters
    ----------
    ctx : ScreeningContext
        Carries the dispatch of the intact grid, in ``ctx.labels`` order.
    system : LTIModel
        The post-contingency full model, with mechanical-power inputs.

    Returns
    -------
    ndarray (n_inputs,)
        The positive dispatch of each in-service unit at its ``"pm:<id>"`` input; 0 elsewhere.

    Examples
    --------
    >>> from netcoh.grids import from_andes
    >>> from netcoh.screening import ScreeningContext
    >>> grid = from_andes("kundur/kundur_full.xlsx")
    >>> sys = full_system(case_file(grid), mechanical=True)
    >>> caps = unit_caps(ScreeningContext.from_grid(grid), sys)
    >>> (caps[-4:] * grid.base_mva).round(1).tolist(), bool((caps[:-4] == 0).all())
    ([726.8, 700.0, 700.0, 700.0], True)
    """
    pos = {str(b): j for j, b in enumerate(system.input_labels)}
    caps = np.zeros(system.n_inputs)
    for m, p in zip(ctx.labels, np.maximum(ctx.dispatch, 0.0)):
        j = pos.get(f"pm:{m}")
        if j is not None:
            caps[j] = p
    return caps


def _trip_step(system) -> np.ndarray:
    """The unit step of the ``"trip"`` input: the event itself."""
    return (np.asarray(system.input_labels) == "trip").astype(float)


def full_events(ctx, cont, settings: dict):
    """The full model's event of one contingency (see the module docstring).

    Parameters
    ----------
    ctx : ScreeningContext
        The intact grid's context (``"case"`` model: topology, dispatch, flows).
    cont : Contingency
        The outage.
    settings : dict
        Screening settings; reads ``case_file``.

    Returns
    -------
    (list of Event, str)
        One event (the main island) and a note.

    Examples
    --------
    >>> from netcoh.grids import from_andes
    >>> from netcoh.screening import Contingency, ScreeningContext
    >>> grid = from_andes("kundur/kundur_full.xlsx")
    >>> ctx = ScreeningContext.from_grid(grid)
    >>> (event,), note = full_events(ctx, Contingency("machine", "4"),
    ...                              {"case_file": case_file(grid)})
    >>> event.kind, event.labels, round(event.lost_pu * grid.base_mva, 1)
    ('infeed-loss', ('1', '2', '3'), 700.0)
    """
    case = settings["case_file"]
    if cont.kind == "machine":
        if cont.id not in ctx.machines:
            raise InputError(f"unknown machine {cont.id!r}")
        system = full_system(case, trips=(cont.id,))
        lost = float(ctx.dispatch[ctx.machines[cont.id][0]])
        return [Event(system, system.labels, _trip_step(system), "infeed-loss",
                      lost_pu=lost)], ""
    if cont.id not in ctx.branches:
        raise InputError(f"unknown branch {cont.id!r}")
    status = ctx.branches[cont.id][3]
    if status.startswith("dead:") or status == "split":
        events, note = operator_events(ctx, cont)
        lost = float(-np.sum(events[0].u))
        system = full_system(case, trips=(cont.id,))
        return [Event(system, system.labels, _trip_step(system), "island-imbalance",
                      lost_pu=lost)], separated_note(note, events)
    system = full_system(case, outages=(cont.id,), mechanical=True)
    caps = unit_caps(ctx, system)
    return [Event(system, system.labels, None, "reference-incident", caps=caps)], ""


def lti_metrics(system, u, *, bus_index: int, time_s: float, hz_per_unit: float,
                window_s: float = ROCOF_WINDOW_S) -> dict:
    """The screening row's frequency metrics of a general linear model under step ``u``.

    The same quantities as ``netcoh.screening.metrics.frequency_metrics``, from exact
    sampled responses (:func:`netcoh.step_response`, matrix-exponential steps) rather than
    a modal form, which the full models of ANDES cases often do not have (repeated
    exciter and stabiliser time constants make their state matrices nearly defective):
    the COI and every machine on 20 ms steps up to past the local nadir (at least 5 s), the
    COI on 0.25 s steps on to its settling time, the COI peak refined by a parabola through
    the largest sample and its neighbours, and the quasi-steady state exactly,
    ``-C A^-1 B u``.

    Parameters
    ----------
    system : LTIModel
        The post-contingency full model (stable).
    u : ndarray (n_inputs,)
        The step.
    bus_index : int
        The worst machine (its trajectory is stored).
    time_s : float
        Time of the worst local nadir (``inf``: the settled value).
    hz_per_unit : float
        Hz per unit of the outputs.
    window_s : float
        RoCoF window (s).

    Returns
    -------
    dict
        As ``netcoh.screening.metrics.frequency_metrics``.

    Examples
    --------
    One machine, ``M = 2``, ``D = 1`` (p.u.), losing 0.1 p.u.: it settles at ``0.1 / D`` and
    its RoCoF over the first 0.5 s is ``0.1 (1 - e^-0.25) / 0.5`` (times 50 Hz):

    >>> import control, numpy as np
    >>> from netcoh.analysis.lti import as_lti
    >>> m = as_lti(control.ss([[-0.5]], [[0.5]], [[1.0]], [[0.0]]), f_hz=50.0)
    >>> r = lti_metrics(m, np.array([-0.1]), bus_index=0, time_s=float("inf"),
    ...                 hz_per_unit=50.0)
    >>> round(r["qss_hz"], 6), r["coi_time_s"], round(r["rocof_hz_per_s"], 4)
    (5.0, inf, 2.212)
    """
    import scipy.linalg as la

    from ..analysis.time import step_response

    u = np.asarray(u, dtype=float)
    r = system.realization()
    A = r.A.toarray() if hasattr(r.A, "toarray") else np.asarray(r.A)
    B = r.B.toarray() if hasattr(r.B, "toarray") else np.asarray(r.B)
    C = r.C.toarray() if hasattr(r.C, "toarray") else np.asarray(r.C)
    w = np.asarray(system.inertia_weights, dtype=float)
    y_inf = -C @ la.solve(A, B @ u)
    coi_inf = float(w @ y_inf)
    decay = -float(np.max(la.eigvals(A).real))
    settle = 5.0 / decay if decay > 0 else 60.0
    t_fin = float(time_s) if np.isfinite(time_s) else 0.0
    dt = 0.02
    t_u = np.arange(0.0, max(5.0, 2.0 * t_fin) + window_s + 1e-9, dt)
    t_end = float(np.clip(settle, 1.5 * t_u[-1], 600.0))
    t_g = np.arange(t_u[-1], t_end + 0.25, 0.25)[1:]
    y_u = step_response(system, u, t_u).outputs
    y_g = step_response(system, u, t_g).outputs if t_g.size else np.zeros((0, y_u.shape[1]))
    t_c = np.concatenate([t_u, t_g])
    y_c = np.concatenate([y_u, y_g]) @ w
    j = int(np.argmax(np.abs(y_c)))
    coi_v, coi_t = float(abs(y_c[j])), float(t_c[j])
    if 0 < j < t_u.size - 1:               # parabola through the peak sample and neighbours
        a, b, c = np.abs(y_c[j - 1:j + 2])
        den = a - 2.0 * b + c
        if den < 0:
            x = 0.5 * (a - c) / den
            coi_v, coi_t = float(b - 0.25 * (a - c) * x), float(t_c[j] + x * dt)
    if abs(coi_inf) >= coi_v * (1 - 1e-9):
        coi_v, coi_t = abs(coi_inf), float("inf")
    rocof = float(_window_rocof(y_c[:t_u.size, None], dt, window_s)[0])
    y_w = np.concatenate([y_u, y_g])[:, bus_index]
    return _pack_metrics(t_c, y_c, lambda keep: y_w[keep], coi_v=coi_v, coi_t=coi_t,
                        coi_inf=coi_inf, rocof=rocof, local=_window_rocof(y_u, dt, window_s),
                        labels=system.labels, time_s=time_s, t_end=t_end,
                        scale=float(hz_per_unit))
