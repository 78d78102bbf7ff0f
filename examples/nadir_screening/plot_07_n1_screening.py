"""
An N-1 screening report
=======================

The job a grid operator runs on the IEEE 39-bus system: for every single branch outage
and every unit trip, rebuild the post-contingency network and apply the disturbance the
contingency brings --

* a unit trip loses the unit's dispatched output (from the case's power flow),
* an outage that splits the grid leaves each island the power that flowed over the cut,
* an outage that keeps the grid whole is screened against the reference incident: any
  loss of generation up to the largest single infeed, each unit at most its dispatch --

then report the worst local nadir, the centre-of-inertia (COI) nadir, the RoCoF and the
quasi-steady-state deviation against the Continental Europe limits.

On the command line the same report is ``netcoh screen ieee39 --out DIR``, which also
writes ``report.html``, a self-contained page with the sortable table and these figures.
"""

import tempfile
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from netcoh import grids
from netcoh.plotting import plot_grid_nadir, plot_screening, plot_screening_trajectories
from netcoh.screening import screen_contingencies, write_outputs

with warnings.catch_warnings():
    warnings.simplefilter("ignore")          # synthesised governor data, announced once
    grid = grids.load("ieee39")
folder = Path(tempfile.mkdtemp())
settings = dict(threshold_hz="continental_europe", executor="serial")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    res = screen_contingencies(grid, "n-1", out=folder / "results.csv", **settings)
    elapsed = time.perf_counter() - start

s = res.summary()
print(f"{s['contingencies']} contingencies in {elapsed:.1f} s: "
      + ", ".join(f"{n} {k}" for k, n in s["statuses"].items() if n))
print(f"reference incident: up to {res.settings['incident_mw']:g} MW of generation; "
      f"limits {res.settings['limits']}")
print(f"worst: {s['worst_contingency']}, local nadir {s['worst_nadir_hz']:.3f} Hz at "
      f"{s['worst_bus']} (t = {s['worst_time_s']:.2f} s), COI nadir "
      f"{s['worst_coi_nadir_hz']:.3f} Hz")

# %%
# The ranked table (worst first). ``margin_hz`` is the limit minus the nadir: negative
# means a violation. ``status`` separates ok, violation, unstable, model-invalid (an
# artefact of the network reduction, not a violation) and failed.

columns = ["contingency", "disturbance", "lost_mw", "nadir_hz", "worst_bus", "coi_nadir_hz",
           "rocof_hz_per_s", "qss_hz", "margin_hz", "status"]
with pd.option_context("display.width", 160, "display.max_columns", 12):
    print(res.to_frame()[columns].head(12).to_string(float_format=lambda v: f"{v:.4g}"))

# %%
# A unit trip checked against first principles: just after the trip the remaining
# machines share the lost infeed by inertia, so the COI starts to fall at
# ``RoCoF = dP f0 / (2 sum H_i S_i)`` over the units that remain. The screen measures RoCoF
# over a 500 ms window, as grid codes do, during which the governors already begin to act;
# the first step of the stored COI trajectory gives the initial slope.

row = res.table.set_index("contingency").loc["machine:G39"]
m = grid.machines.set_index("id")
rest = m.drop("G39")
two_h_s = float((rest["inertia_s"] * grid.base_mva).sum())     # m = 2 H S / S_base
rocof = row["lost_mw"] * grid.f_hz / two_h_s
print(f"machine:G39 loses {row['lost_mw']:.0f} MW (its dispatch: {m.loc['G39', 'p_mw']:.0f} MW)")
print(f"  local nadir {row['nadir_hz']:.3f} Hz at {row['worst_bus']}, COI nadir "
      f"{row['coi_nadir_hz']:.3f} Hz, status {row['status']}")
tr = res.trajectories[res.trajectories.contingency == "machine:G39"]
slope = abs(tr.coi_hz.iloc[1] - tr.coi_hz.iloc[0]) / (tr.t_s.iloc[1] - tr.t_s.iloc[0])
print(f"  first principles {rocof:.3f} Hz/s; initial COI slope {slope:.3f} Hz/s (ratio "
      f"{slope / rocof:.3f}); COI RoCoF over 500 ms {row['rocof_hz_per_s']:.3f} Hz/s")

# %%
# The figures of the report: the worst contingencies against the limit, the frequency
# after the five worst (worst bus solid, COI dashed), and the grid with each branch and
# machine bus coloured by the worst local nadir after its own outage.

fig, ax = plt.subplots(figsize=(8, 6), constrained_layout=True)
plot_screening(res, ax=ax, top=20)

fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
plot_screening_trajectories(res, ax=ax, top=5)

ax = plot_grid_nadir(grid, res)

# %%
# Everything a run writes: ``results.csv`` and ``results.parquet`` (the table),
# ``worst_disturbances.csv`` (MW lost by each unit in each contingency's worst
# disturbance), ``trajectories.parquet`` (COI and worst-bus frequency of every
# contingency, long format), ``summary.json`` and ``report.html``.

files = write_outputs(res, folder, grid, csv=False)
print(sorted(p.name for p in files))
print(pd.read_csv(folder / "worst_disturbances.csv").head(4))

# %%
# Results are stored as the sweep goes, with the settings beside them. Running again with
# the same settings finds every row there (each checked) and evaluates nothing, and the
# file it writes is byte for byte the same; an interrupted sweep resumes where it stopped.

before = (folder / "results.csv").read_bytes()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    again = screen_contingencies(grid, "n-1", out=folder / "results.csv", **settings)
print(f"second run: {time.perf_counter() - start:.2f} s, same bytes: "
      f"{(folder / 'results.csv').read_bytes() == before}")
plt.show()
