"""One contingency in, one row out: the post-contingency islands, the set or step each
is screened against, the certified worst local nadir and the frequency metrics.

Row contract
------------
Every evaluated contingency gives one ``dict`` with these keys (units in the names;
frequency values are magnitudes of the deviation from nominal):

==========================  ===================================================================
``contingency``             ``"branch:<id>"`` or ``"machine:<id>"``
``kind``, ``element``       ``"branch"``/``"machine"`` and the element id
``from_bus``, ``to_bus``    bus ids of the branch ends (a machine: its bus twice)
``lost_mw``                 net generation deficit applied, MW (``-sum(u)``; negative: surplus,
                            e.g. load lost with a cut-off island); unit trip: its dispatch
                            (on the ``"case"`` model the input also carries the event's
                            network losses, stated in ``island_info``)
``disturbance``             ``"infeed-loss"``, ``"island-imbalance"``, ``"reference-incident"``
                            or ``"ball"``
``nadir_hz``, ``nadir_pu``  worst local deviation (certified supremum over buses and time)
``worst_bus``, ``time_s``   where and when (``inf``: the settled value)
``coi_nadir_hz``            centre-of-inertia nadir (weights ``H_i S_i``) and its time
``coi_time_s``
``rocof_hz_per_s``          COI RoCoF over a 500 ms sliding window (``rocof_window_s``)
``local_rocof_hz_per_s``    largest RoCoF of any bus over the same window, at ``rocof_bus``
``rocof_bus``
``qss_hz``                  quasi-steady-state deviation (COI at ``t = inf``)
``margin_hz``               limit minus value for the nadir, the COI RoCoF and the
``rocof_margin_hz_per_s``   quasi-steady state (NaN where no limit is set; negative =
``qss_margin_hz``           violation)
``status``                  ``"ok"``, ``"violation"``, ``"unstable"`` (the linearised
                            post-contingency grid is unstable: nadir ``inf``),
                            ``"model-invalid"`` (an artefact of Kron reduction through
                            negative-reactance branches: no valid nadir, NaN) or ``"failed"``
``certified``, ``method``   certificate and modal method of the nadir search
``islands``, ``island_info``  islands with machines after the outage; note on islands, lost
                            load, de-energised buses and shared networks
``delta_hz``                ``nadir_hz`` minus the intact network's
``warning``, ``error``      warnings raised, and ``local swing: ...`` where the worst bus
                            dips at least ``LOCAL_SWING_RATIO`` (10) times the centre of
                            inertia; the error of a failed contingency
``elapsed_s``               evaluation time
``_disturbance_mw``         private: ``{machine id: MW lost}`` of the worst disturbance (a
                            unit trip: ``{unit: dispatch}``); positive = generation lost
``_trajectory``             private: ``{"t_s", "coi_hz", "worst_bus_hz"}`` 1-D float arrays
                            (deviations in Hz, about 300 samples)
==========================  ===================================================================

The two private keys are not table columns; the result store writes them separately.
"""

from __future__ import annotations

import threading
import time
import warnings

import numpy as np

from ..analysis.lti import is_lti
from ..exceptions import InputError, UnstableError
from .contingencies import Contingency, ScreeningContext
from .events import Event, operator_events, separated_note
from .full_model import FULL, full_events, lti_metrics
from .limits import FrequencyLimits
from .metrics import frequency_metrics

__all__ = ["ROW_KEYS", "LOCAL_SWING_RATIO"]

#: A row whose worst local nadir is at least this many times its COI nadir is flagged
#: ``local swing`` in ``warning``: a few machines swing against the rest of the grid, which
#: small-signal models and synthesised machine data describe least well, and which a
#: disturbance spread over many units can produce without being a credible incident.
LOCAL_SWING_RATIO = 10.0

#: Keys of every row dict (see the module docstring), private ones last.
ROW_KEYS = ("contingency", "kind", "element", "from_bus", "to_bus", "lost_mw", "disturbance",
            "nadir_hz", "worst_bus", "time_s", "coi_nadir_hz", "coi_time_s", "rocof_hz_per_s",
            "local_rocof_hz_per_s", "rocof_bus", "qss_hz", "margin_hz",
            "rocof_margin_hz_per_s", "qss_margin_hz", "status", "certified", "islands",
            "island_info", "method", "elapsed_s", "error", "warning", "nadir_pu", "delta_hz",
            "_disturbance_mw", "_trajectory")
_NAN_KEYS = ("lost_mw", "nadir_hz", "time_s", "coi_nadir_hz", "coi_time_s", "rocof_hz_per_s",
             "local_rocof_hz_per_s", "qss_hz", "margin_hz", "rocof_margin_hz_per_s",
             "qss_margin_hz", "nadir_pu", "delta_hz")


def _nadir_kwargs(settings: dict) -> dict:
    return {k: settings[k] for k in ("dt", "horizon", "f_hz", "rtol")}


def _limits(settings: dict) -> FrequencyLimits:
    lim = settings["limits"]
    return lim if isinstance(lim, FrequencyLimits) else FrequencyLimits(**lim)


def _set_for(settings: dict, kind: str, u=None, n: int | None = None, caps=None):
    """The set a screened island is evaluated on (see :func:`screen_contingencies`); ``caps``
    replace the dispatch caps of the reference incident (inputs that are not machines)."""
    from ..analysis.nadir_sets import BudgetBox, FixedStep, NormBall, SingleInfeedLoss

    if kind == "ball":
        return NormBall(settings["rho"], np.inf if settings["norm"] == "inf" else settings["norm"])
    if kind == "reference-incident":
        given = settings.get("incident_set")
        if given is not None:
            return given
        caps = settings["incident_caps"] if caps is None else caps
        if settings.get("incident") == "single":
            return SingleInfeedLoss(caps, settings["incident_pu"], n)
        return BudgetBox(caps, settings["incident_pu"], n)
    return FixedStep(u)


def _empty_row(ctx, cont) -> dict:
    row = dict.fromkeys(ROW_KEYS, "")
    row.update(dict.fromkeys(_NAN_KEYS, np.nan))
    fb, tb = ctx.ends.get(cont.name, ("", ""))
    row.update(contingency=cont.name, kind=cont.kind, element=cont.id, from_bus=fb, to_bus=tb,
               islands=0, certified=False, status="failed", _disturbance_mw={},
               _trajectory={})
    return row


def _select(events: list, note: str, islands: str):
    if len(events) <= 1 or islands == "all":
        return events, note
    return events[:1], separated_note(note, events)


def _local_swing(row: dict) -> str:
    """The ``local swing`` flag of a row ("" when the worst bus moves with the grid)."""
    local, coi = row["nadir_hz"], row["coi_nadir_hz"]
    if not (np.isfinite(local) and np.isfinite(coi) and coi > 0) \
            or local < LOCAL_SWING_RATIO * coi:
        return ""
    return (f"local swing: {row['worst_bus']} dips {local / coi:.0f}x the centre of inertia (a "
            "few machines swinging against the grid: check their data and whether the "
            "disturbance is credible)")


#: the last networks' modal models in this process: [(system, model)]
_MODELS: list = []
_MODELS_LOCK = threading.Lock()


def _modal_model(system, build):
    """``build(system)[0]``, once per system object: a unit trip and an outage that cuts
    that unit off alone screen the same network object (:meth:`ScreeningContext.systems`)."""
    with _MODELS_LOCK:
        for known, model in _MODELS:
            if known is system:
                return model
    model = build(system)[0]
    with _MODELS_LOCK:
        _MODELS[:] = _MODELS[-1:] + [(system, model)]
    return model


def _evaluate(ctx: ScreeningContext, cont: Contingency, settings: dict, base_hz: float) -> dict:
    from ..analysis.nadir import build_modal_model, worst_case_nadir

    t0 = time.perf_counter()
    row = _empty_row(ctx, cont)
    system = None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if settings.get("model") == FULL:
                events, note = full_events(ctx, cont, settings)
            elif settings["disturbance"] == "ball":
                systems, note = ctx.systems(cont)
                events = [Event(s, lab, None, "ball") for s, lab in systems]
            else:
                events, note = operator_events(ctx, cont)
            n_islands = len(events)
            # by default the grid goes on in its largest island; the machines cut off from it
            # are lost to it (as in a unit trip) and their own small islands are not screened
            events, note = _select(events, note, settings.get("islands", "main"))
            best = None
            for ev in events:
                system = ev.system
                if not is_lti(system) and system.n == 1 \
                        and system.nodal.params.get("d") is not None \
                        and float(system.nodal.params["d"][0]) == 0:
                    raise InputError("an island of one undamped machine")
                dset = _set_for(settings, ev.kind, ev.u, getattr(system, "n_inputs", system.n),
                                ev.caps)
                # a general linear model takes the search its state matrix allows (modal, or
                # eigen-free where it is nearly defective); its metrics are sampled responses
                model = None if is_lti(system) else _modal_model(system, build_modal_model)
                # only the worst bus matters here: buses that cannot win are ruled out by a
                # certified bound instead of being computed (same value, bus and certificate)
                res = worst_case_nadir(system, disturbance_set=dset, model=model,
                                       full_table=False, **_nadir_kwargs(settings))
                if best is None or res.value > best[0].value:
                    best = (res, ev, model)
            res, ev, model = best
            system = ev.system
            if model is None:
                met = lti_metrics(system, res.disturbance, bus_index=res.bus_index,
                                  time_s=res.time, hz_per_unit=res.hz_per_unit,
                                  window_s=settings["rocof_window_s"])
            else:
                met = frequency_metrics(system, model, res.disturbance, bus_index=res.bus_index,
                                        time_s=res.time, hz_per_unit=res.hz_per_unit,
                                        window_s=settings["rocof_window_s"])
        u = np.asarray(res.disturbance)
        base_mva = ctx.base_mva
        lost = float(-u.sum() * base_mva)
        if ev.lost_pu is not None:          # the full model's unit step of its trip input
            lost = float(ev.lost_pu * base_mva)
            dist = {cont.id: lost}
        elif ev.kind == "infeed-loss" and len(events) == 1 and cont.kind == "machine":
            # the unit loses its dispatch; on a lossy network the machines also make up the losses
            lost_unit = float(ctx.dispatch[ctx.machines[cont.id][0]] * base_mva)
            if abs(lost - lost_unit) > 1e-9 * max(abs(lost_unit), 1.0):
                extra = (f"input with the event's network losses: the machines make up "
                         f"{lost:.4g} MW")
                note = f"{note}; {extra}" if note else extra
            lost = lost_unit
            dist = {cont.id: lost}
        else:
            names = getattr(system, "input_labels", system.labels)
            dist = {lab: float(-x * base_mva) for lab, x in zip(names, u) if x != 0}
        margins = _limits(settings).margins(res.value_hz, met["rocof_hz_per_s"], met["qss_hz"])
        row.update(worst_bus=res.bus, nadir_pu=res.value, nadir_hz=res.value_hz,
                   time_s=res.time, certified=res.certified, islands=n_islands,
                   island_info=note, method=res.method, delta_hz=res.value_hz - base_hz,
                   lost_mw=lost, disturbance=ev.kind,
                   coi_nadir_hz=met["coi_nadir_hz"], coi_time_s=met["coi_time_s"],
                   rocof_hz_per_s=met["rocof_hz_per_s"],
                   local_rocof_hz_per_s=met["local_rocof_hz_per_s"], rocof_bus=met["rocof_bus"],
                   qss_hz=met["qss_hz"], margin_hz=margins[0], rocof_margin_hz_per_s=margins[1],
                   qss_margin_hz=margins[2],
                   status="violation" if np.nanmin([*margins, np.inf]) < 0 else "ok",
                   _disturbance_mw=dist, _trajectory=met["trajectory"])
        row["warning"] = " | ".join(sorted({str(w.message).split(";")[0] for w in caught}))
        swing = _local_swing(row)
        if swing:
            row["warning"] = " | ".join(w for w in (row["warning"], swing) if w)
    except UnstableError as exc:      # a result, not a failure: the dip has no bound
        signed = "negative-reactance" in str(exc) or bool(getattr(system, "signed", False))
        if signed:    # Kron reduction through negative reactances: the model, not the grid
            row.update(status="model-invalid", method="model-invalid", certified=False,
                       warning=f"model-invalid: {exc}")
        else:
            lim = _limits(settings)
            row.update(nadir_pu=np.inf, nadir_hz=np.inf, delta_hz=np.inf, certified=True,
                       margin_hz=-np.inf if lim.nadir_hz is not None else np.nan,
                       method="unstable", status="unstable", warning=f"unstable: {exc}")
    except Exception as exc:          # recorded, the sweep goes on
        row["error"] = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        row["status"] = "failed"
    row["elapsed_s"] = time.perf_counter() - t0
    return row


