"""Screening ANDES cases on their full linear model (``model="full"``).

References: ANDES's own time-domain simulation of a line trip that cuts a generator off
(ieee39_full, constant-power loads, criteria off), a direct step response of the
linearised tripped case, a 1 ms re-sampling of the same response for the metrics, and brute
force over the single-unit losses for the reference incident.
"""

from __future__ import annotations

import andes  # noqa: F401  (installed by the README's test command: a missing ANDES fails)
import numpy as np
import pytest

import netcoh as nc
from netcoh.analysis.nadir_sets import FixedStep
from netcoh.exceptions import InputError, NetcohTypeError
from netcoh.grids.andes import from_andes
from netcoh.grids.andes_linear import linearize
from netcoh.screening.contingencies import ScreeningContext
from netcoh.screening.full_model import full_system, unit_caps
from netcoh.validate import simulate_andes

pytestmark = pytest.mark.andes

IEEE39 = "ieee39/ieee39_full.xlsx"


@pytest.fixture(scope="module")
def grid():
    return from_andes(IEEE39)


@pytest.fixture(scope="module")
def screened(grid):
    conts = ["GENROU_3", "Line_35", "Line_13"]
    return nc.screen_contingencies(grid, conts, model="full", executor="serial").to_frame() \
        .set_index("contingency")


def test_unit_trip_row_is_the_linearised_trip(screened):
    """The row of a unit trip is the worst machine of the linearised trip's step response."""
    row = screened.loc["machine:GENROU_3"]
    lin = linearize(IEEE39, output="hz", trips=("GENROU_3",))
    t = np.linspace(0.0, 20.0, 20001)
    y = nc.step_response(lin, {"trip": 1.0}, t).outputs
    worst = np.abs(y).max(axis=0)
    k = int(np.argmax(worst))
    assert row["worst_bus"] == lin.output_labels[k]
    assert row["nadir_hz"] == pytest.approx(worst[k], rel=1e-5)      # 1 ms sampling
    assert row["nadir_hz"] >= worst[k] * (1 - 1e-9)                   # certified supremum
    coi = y @ (lin.coi_weights / lin.coi_weights.sum())
    assert row["coi_nadir_hz"] == pytest.approx(np.abs(coi).max(), rel=1e-4)
    assert row["qss_hz"] == pytest.approx(abs(coi[-1]), rel=2e-2)     # settling by 20 s
    assert row["lost_mw"] == pytest.approx(725.0, rel=1e-6)           # GENROU_3's dispatch
    assert row["disturbance"] == "infeed-loss" and row["status"] in ("ok", "violation")


@pytest.mark.slow          # ANDES's 10 s simulation of ieee39_full: about 20 s
def test_line_trip_cutting_a_unit_off_matches_andes(screened):
    """Line_35 is GENROU_1's only connection: its trip leaves the rest of the grid short of
    the line's flow. ANDES simulates the actual trip (GENROU_1 runs on alone on its bus)."""
    row = screened.loc["branch:Line_35"]
    assert row["disturbance"] == "island-imbalance" and "GENROU_1" in row["island_info"]
    grid, t, w, _ = simulate_andes(IEEE39, trips=("Line_35",), t_end_s=10.0)
    M = grid.tables["machines"]
    ids = [str(i) for i in M["id"][M["in_service"]]]
    lin = full_system(IEEE39, trips=("Line_35",))
    assert "GENROU_1" not in lin.labels and len(lin.labels) == 9
    u = (np.asarray(lin.input_labels) == "trip").astype(float)
    y = nc.step_response(lin, u, t).outputs
    ref = w[:, [ids.index(m) for m in lin.labels]]
    err = np.abs(y.min(axis=0) / ref.min(axis=0) - 1.0)
    assert err.max() < 0.05, err                                        # measured 2.8 %
    wc = np.asarray(lin.inertia_weights)
    ref_coi = np.abs(ref @ wc).max() * grid.f_hz
    assert row["coi_nadir_hz"] == pytest.approx(ref_coi, rel=0.04)     # measured 2.3 %
    # the main island loses the line's pre-outage flow into bus 2 (436 MW)
    ctx = ScreeningContext.from_grid(grid, model="case")
    p_from, _ = ctx.flows["Line_35"]
    assert row["lost_mw"] == pytest.approx(-p_from * grid.base_mva, rel=1e-9)


def test_outage_keeping_the_grid_whole_faces_the_reference_incident(grid, screened):
    """Post-outage model at the re-solved operating point; the reference incident read as on
    the ``"case"`` model (units lose mechanical power and stay connected): the budget covers
    every single unit's loss (brute force over the units), and the two models agree."""
    row = screened.loc["branch:Line_13"]
    assert row["disturbance"] == "reference-incident"
    intact = linearize(IEEE39, output="pu")
    after = linearize(IEEE39, output="pu", outages=("Line_13",))
    assert after.A.shape == intact.A.shape and not np.allclose(after.A, intact.A)
    lin = full_system(IEEE39, outages=("Line_13",), mechanical=True)
    ctx = ScreeningContext.from_grid(grid, model="case")
    caps = unit_caps(ctx, lin)
    assert caps.sum() == pytest.approx(np.maximum(ctx.dispatch, 0).sum())
    assert np.count_nonzero(caps) == len(lin.labels)
    assert all(lin.input_labels[j].startswith("pm:") for j in np.flatnonzero(caps))
    B = row["lost_mw"] / grid.base_mva
    single = []
    for j in np.flatnonzero((caps > 0) & (caps <= B + 1e-12)):
        u = np.zeros(lin.n_inputs)
        u[j] = -caps[j]
        single.append(nc.worst_case_nadir(lin, disturbance_set=FixedStep(u), dt=0.01).value_hz)
    assert single and row["nadir_hz"] >= max(single) * (1 - 1e-9)
    case_row = nc.screen_contingencies(grid, ["Line_13"], executor="serial").to_frame().iloc[0]
    assert row["nadir_hz"] == pytest.approx(case_row["nadir_hz"], rel=0.03)    # measured 1 %
    assert row["coi_nadir_hz"] == pytest.approx(case_row["coi_nadir_hz"], rel=0.03)


def test_mechanical_inputs_are_the_swing_equations():
    """A step of a unit's mechanical power accelerates only that rotor at first:
    ``omega_k'(0+) = dP / M_k``, and the COI RoCoF is ``dP f0 / (2 sum H)`` (first principles)."""
    lin = linearize(IEEE39, output="hz", mechanical=True)
    j = list(lin.input_labels).index("pm:GENROU_3")
    k = list(lin.output_labels).index("GENROU_3")
    first = lin.C @ lin.B[:, j]
    expect = np.zeros(lin.noutputs)
    expect[k] = lin.f_hz / lin.coi_weights[k]
    assert np.allclose(first, expect, rtol=1e-9, atol=1e-12 * lin.f_hz)
    coi_rocof = lin.coi_weights @ first / lin.coi_weights.sum()
    assert coi_rocof == pytest.approx(lin.f_hz / lin.coi_weights.sum(), rel=1e-9)
    # the machines' M on the case base, as the grid reads them
    M = from_andes(IEEE39).tables["machines"]
    m = dict(zip(M["id"], M["inertia_s"]))
    assert np.allclose(lin.coi_weights, [m[o] for o in lin.output_labels], rtol=1e-12)


def test_errors(grid):
    kundur = nc.grids.load("kundur", warn=False)
    with pytest.raises(InputError, match="from_andes"):
        nc.screen_contingencies(kundur, ["G4"], model="full", executor="serial")
    with pytest.raises(InputError, match="operator"):
        nc.screen_contingencies(grid, ["GENROU_3"], model="full", disturbance="ball",
                                executor="serial")
    with pytest.raises(InputError, match="main island"):
        nc.screen_contingencies(grid, ["GENROU_3"], model="full", islands="all",
                                executor="serial")
    with pytest.raises(InputError, match="split the network"):
        linearize(IEEE39, outages=("Line_35",))
    with pytest.raises(InputError, match="`outages` must name lines"):
        linearize(IEEE39, outages=("GENROU_1",))
    with pytest.raises(InputError, match="`trips` must name machines or lines"):
        linearize(IEEE39, trips=("Line_99",))
    with pytest.raises(NetcohTypeError, match="`trips` must be a sequence of element ids"):
        linearize(IEEE39, trips="GENROU_3")
    with pytest.raises(NetcohTypeError, match="`mechanical` must be True or False, got 'yes'"):
        linearize(IEEE39, mechanical="yes")


def test_cli_full_model(tmp_path, capsys):
    from netcoh.cli import main

    out = tmp_path / "o"
    rc = main(["screen", f"andes:{IEEE39}", "--model", "full", "--contingencies", "GENROU_8",
               "--serial", "--out", str(out), "--no-progress"])
    assert rc in (0, 3)
    import json

    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["model"] == "full"
    assert "GENROU_8" in capsys.readouterr().out
    rc = main(["screen", f"andes:{IEEE39}", "--model", "full", "--disturbance", "ball"])
    assert rc == 2
    assert "--model full" in capsys.readouterr().err
    # on the default model the command says what it holds constant and how to check
    rc = main(["screen", f"andes:{IEEE39}", "--contingencies", "GENROU_8", "--serial",
               "--no-progress"])
    assert rc in (0, 3)
    text = capsys.readouterr().out
    assert "holds IEEEX1, IEEEST constant" in text and "--model full" in text
