"""Whole-grid outages under the two reference incidents, ``budget`` and ``single``.

For each case it screens the intact grid and a few outages that keep the grid whole under
``incident="budget"`` (any loss up to ``B`` in total, each unit at most its dispatch) and
``incident="single"`` (the loss of any one unit's dispatch, capped at ``B``), and prints
``B`` with the unit that sets it, each row's local and COI nadir, the MW lost and over how
many units, the wall time, and, for the single incident, the trip of the unit it names
(the unit leaves the model) and the worst dip on the seed grid of any bus other than the
one whose unit lost its output (both sets keep that machine in the model, so its own rotor
is often the worst bus).

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/screening_incident.py [--cases ieee39 GBnetwork]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

import netcoh.grids as grids
from netcoh.analysis.nadir import build_modal_model
from netcoh.analysis.nadir_inputs import InputMap
from netcoh.screening import Contingency, ScreeningContext, screen_contingencies
from netcoh.screening.events import incident_size

SETTINGS = {"ieee39": (["line:10", "line:20"], dict(dt=0.01)),
            "GBnetwork": (["line:2"], dict(dt=0.05, horizon=10.0, threshold_hz="gb"))}


def load(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case == "GBnetwork":
            import pandapower.networks as pn

            return grids.load(pn.GBnetwork(), name="GBnetwork")
        return grids.load(case)


def others_worst(grid, ctx, cont, B_pu, t):
    """Worst |dip| (Hz) on the grid ``t`` over single losses, leaving out the bus of the
    unit that lost its output: ``max_{i != j} |S_ij(t)| min(P_j, B)``."""
    (system, labels), = ctx.systems(cont)[0]
    caps = np.minimum(np.maximum(ctx.dispatch, 0.0), B_pu)
    J = np.flatnonzero(caps > 0)
    model, _ = build_modal_model(system)
    best = (0.0, None)
    for sl, S in InputMap(model, cols=J).table_chunks(t):
        F = np.abs(S) * caps[J][None, None, :]
        F[:, J, np.arange(J.size)] = 0.0
        k = int(np.argmax(F))
        if F.flat[k] > best[0]:
            a, i, j = np.unravel_index(k, F.shape)
            best = (float(F.flat[k]), (float(t[sl][a]), labels[i], labels[J[j]]))
    return best[0] * grid.f_hz, best[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", nargs="+", default=list(SETTINGS))
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    for case in args.cases:
        conts, kw = SETTINGS[case]
        grid = load(case)
        ctx = ScreeningContext.from_grid(grid)
        B, unit, why = incident_size(grid, ctx)
        print(f"\n{case}: B = {B:.4g} MW ({why}); settings {kw}")
        for inc in ("budget", "single"):
            t0 = time.perf_counter()
            res = screen_contingencies(grid, conts, incident=inc, executor="serial", **kw)
            wall = time.perf_counter() - t0
            print(f"  {inc}: intact {res.base.value_hz:.4f} Hz at {res.base.bus}; "
                  f"{wall:.1f} s wall for the intact grid and {len(conts)} outage(s)")
            d = res.disturbances
            for _, r in res.to_frame().iterrows():
                lost = d[d.contingency == r.contingency].sort_values("p_mw", ascending=False)
                who = ", ".join(f"{m} {p:.4g}" for m, p in zip(lost.machine[:3], lost.p_mw[:3]))
                print(f"    {r.contingency}: {r.nadir_hz:.4f} Hz at {r.worst_bus} (t = "
                      f"{r.time_s:.3g} s), COI {r.coi_nadir_hz:.4f} Hz, {r.lost_mw:.4g} MW over "
                      f"{len(lost)} unit(s) ({who}{', ...' if len(lost) > 3 else ''})"
                      f"{'; local swing' if 'local swing' in r.warning else ''}")
                if inc == "single":
                    lost_unit = str(lost.machine.iloc[0])
                    trip = screen_contingencies(grid, [Contingency("machine", lost_unit)],
                                                executor="serial", **kw).to_frame().iloc[0]
                    t = np.arange(0.0, kw.get("horizon", 10.0) + 1e-9, kw["dt"])
                    hz, where = others_worst(grid, ctx, Contingency("branch", r.element),
                                             B / grid.base_mva, t)
                    print(f"      trip of {lost_unit} instead: {trip.nadir_hz:.4f} Hz at "
                          f"{trip.worst_bus}, COI {trip.coi_nadir_hz:.4f} Hz; other buses "
                          f"than the losing unit's (grid): {hz:.4f} Hz at {where[1]} when "
                          f"{where[2]} loses its output (t = {where[0]:.3g} s)")


if __name__ == "__main__":
    main()
