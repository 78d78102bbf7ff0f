"""
netcoh's prediction over ANDES's simulation
===========================================

netcoh's frequency responses are exact for its *linear* model of a grid. How close is that
model to a nonlinear time-domain simulation of the same data? Here
`ANDES <https://docs.andes.app>`__ (an independent open-source simulator, extra
``validate``) simulates a load step of 1 % of the total load at the most loaded bus of two
of its own cases as shipped -- Kundur's two-area system and the IEEE 14-bus system, round-rotor
machines with damper windings, exciters, stabilisers and turbine-governors -- and netcoh
predicts every machine's frequency from the same case data with
:func:`netcoh.validate.validate`, using the default model of ``grid.to_system()`` (each
machine's governor transfer function, its damper windings, the network linearised from the
AC power flow with its losses).

Solid lines are ANDES, dashed lines netcoh; the black lines are the centre-of-inertia
frequency. The printed table gives, per case, the largest error of any machine's nadir and
of any machine's trajectory (RMS, relative to ANDES's) over the twenty simulated seconds.
How the comparison is set up, and what the two models differ in, is in the validation page
of the user guide.
"""

import warnings

import matplotlib.pyplot as plt
import pandas as pd

from netcoh.validate import validate

cases = {"Kundur two-area": "kundur/kundur_full.xlsx", "IEEE 14-bus": "ieee14/ieee14_full.xlsx"}
results = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")          # ANDES's own notices about the cases
    for title, case in cases.items():
        results[title] = validate(case)

# %%
# Every machine's frequency deviation (Hz) after the step.

fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
for ax, (title, res) in zip(axes, results.items()):
    hz = res.f_hz
    pred = res.predictions["case"]
    for i, label in enumerate(res.labels):
        line, = ax.plot(res.t, res.andes[:, i] * hz, lw=1.4, label=f"machine {label}")
        ax.plot(res.t, pred[:, i] * hz, "--", lw=1.4, color=line.get_color())
    ax.plot(res.t, res.coi(res.andes) * hz, "k", lw=2.2, label="COI, ANDES")
    ax.plot(res.t, res.coi(pred) * hz, "k--", lw=2.2, label="COI, netcoh")
    (bus, p_mw), = res.load_steps_mw.items()
    ax.set(title=f"{title}: {p_mw:.1f} MW load step at bus {bus}", xlabel="time (s)",
           ylabel="frequency deviation (Hz)")
axes[0].legend(fontsize="small", ncol=2)
plt.show()

# %%
# The errors, per case (fractions: 0.01 is 1 %).

summary = pd.concat({title: res.summary().set_index("model") for title, res in results.items()})
with pd.option_context("display.width", 120, "display.max_columns", 20,
                       "display.float_format", "{:.4f}".format):
    print(summary.drop(columns="case"))
