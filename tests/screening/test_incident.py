"""The reference incident of whole-grid outages: the budget box and the credible single
infeed loss, and the size ``B`` from the case's real units.

The single-infeed set is checked against brute force (the worst of the units' fixed steps,
each searched on its own), against direct ODE simulations of every unit's loss, and against
the budget box it is a subset of (on IEEE 39 the box spreads its budget over two units and
is strictly worse); the size ``B`` against the dispatch of a pandapower net whose external
grid carries more than any unit."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandapower.networks as pn
import pytest

import netcoh.grids as grids
from netcoh.analysis.nadir import worst_case_nadir
from netcoh.analysis.nadir_sets import BudgetBox, FixedStep, SingleInfeedLoss
from netcoh.cli import main
from netcoh.exceptions import InputError
from netcoh.screening import ScreeningContext, screen_contingencies
from netcoh.screening.events import incident_size

from .test_operator import simulate


@pytest.fixture(scope="module")
def ieee39():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return grids.load("ieee39")


def _caps(grid, system):
    """Each machine's dispatch (p.u.) in the system's node order."""
    p = grid.machines.set_index("id").p_mw
    return np.maximum(p.loc[list(system.labels)].to_numpy(dtype=float), 0.0) / grid.base_mva


def test_single_infeed_set_support_and_restriction():
    inc = SingleInfeedLoss([3.0, 0.0, 1.0, 2.5], budget=2.0)
    assert inc.cap.tolist() == [2.0, 0.0, 1.0, 2.0]
    rows = np.array([[0.1, 9.0, -0.3, 0.2], [0.0, 0.0, 0.0, -0.5]])
    assert inc.value(rows).tolist() == pytest.approx([0.4, 1.0])
    u = inc.maximiser(rows[0])
    assert u.tolist() == [0.0, 0.0, 0.0, -2.0]          # the worst single loss
    assert abs(rows[0] @ u) == pytest.approx(inc.value(rows[:1])[0]) and inc.norm_of(u) == 2.0
    kind, cols, sub = inc.inputs()                       # the node without a unit drops out
    assert kind == "cols" and cols.tolist() == [0, 2, 3] and sub.cap.tolist() == [2.0, 1.0, 2.0]
    assert SingleInfeedLoss([1.0, 2.0]).inputs() is None
    # every step of the set is a vertex of the budget box, so the box's support is larger
    box = BudgetBox([3.0, 0.0, 1.0, 2.5], 2.0)
    r = np.random.default_rng(0).normal(size=(200, 4))
    assert np.all(inc.value(r) <= box.value(r) * (1 + 1e-12))
    with pytest.raises(InputError, match="`bounds`"):
        SingleInfeedLoss([0.0, 0.0])
    with pytest.raises(InputError, match="`budget`"):
        SingleInfeedLoss([1.0], budget=-1.0)


def test_single_infeed_is_the_worst_unit_loss_ieee39(ieee39):
    """Certified search over the set = brute force over the units' fixed steps = ODE."""
    system = ieee39.to_system()
    caps = _caps(ieee39, system)
    B = 8.3                                              # caps G39 (10 p.u.) at 830 MW
    inc = SingleInfeedLoss(caps, B)
    res = worst_case_nadir(system, disturbance_set=inc, dt=0.05)
    full = worst_case_nadir(system, disturbance_set=inc, dt=0.05, full_table=True)
    assert res.certified and res.value == pytest.approx(full.value, rel=1e-9)
    each = []
    for j in np.flatnonzero(caps > 0):
        u = np.zeros(system.n)
        u[j] = -min(caps[j], B)
        each.append(worst_case_nadir(system, disturbance_set=FixedStep(u), dt=0.05).value)
    assert res.value == pytest.approx(max(each), rel=1e-6)
    j = int(np.argmax(each))
    assert np.flatnonzero(res.disturbance).tolist() == [j]
    assert -res.disturbance[j] == pytest.approx(min(caps[j], B))
    # every unit's loss simulated by an ODE of the network: none dips deeper, the worst one
    # reaches the certified value
    t = np.linspace(0.0, 30.0, 15001)
    f0 = ieee39.f_hz
    dips = []
    for k in np.flatnonzero(caps > 0):
        u = np.zeros(system.n)
        u[k] = -min(caps[k], B)
        dips.append(np.abs(simulate(system, u, t)).max() * f0)
    assert max(dips) <= res.value_hz * (1 + 1e-6)
    assert max(dips) == pytest.approx(res.value_hz, rel=0.01)


def test_single_infeed_is_below_the_spread_budget_box(ieee39):
    """On IEEE 39 with B = 1000 MW the box spreads the budget over two units and dips
    deeper than any single unit's loss."""
    system = ieee39.to_system()
    caps = _caps(ieee39, system)
    box = worst_case_nadir(system, disturbance_set=BudgetBox(caps, 10.0), dt=0.05)
    one = worst_case_nadir(system, disturbance_set=SingleInfeedLoss(caps, 10.0), dt=0.05)
    assert np.count_nonzero(box.disturbance) >= 2
    assert -box.disturbance.sum() == pytest.approx(10.0)
    assert np.count_nonzero(one.disturbance) == 1
    assert one.value < box.value * (1 - 0.05)


def test_screening_single_incident_row(ieee39):
    """A whole-grid outage under both incidents: one unit lost (its dispatch, at most B),
    the worst of brute force on the post-outage network, never worse than the box."""
    kw = dict(executor="serial", dt=0.05)
    single = screen_contingencies(ieee39, ["line:10"], incident="single", **kw)
    budget = screen_contingencies(ieee39, ["line:10"], **kw)
    r1, r0 = single.to_frame().iloc[0], budget.to_frame().iloc[0]
    assert single.settings["incident"] == "single" and budget.settings["incident"] == "budget"
    assert r1.disturbance == r0.disturbance == "reference-incident"
    B = single.settings["incident_mw"]
    assert B == pytest.approx(1000.0) and single.settings["incident_unit"] == "G39"
    lost = single.disturbances
    lost = lost[lost.contingency == "branch:line:10"]
    assert len(lost) == 1                                # exactly one unit
    unit = lost.iloc[0]
    p = ieee39.machines.set_index("id").p_mw
    assert r1.lost_mw == pytest.approx(min(p[unit.iloc[1]], B), rel=1e-9)
    system = ieee39.remove_branch("line:10").to_system()
    caps = _caps(ieee39, system)
    brute = max(worst_case_nadir(system, disturbance_set=FixedStep(-min(c, 10.0) * e),
                                 dt=0.05).value_hz
                for c, e in zip(caps, np.eye(system.n)) if c > 0)
    assert r1.nadir_hz == pytest.approx(brute, rel=1e-5)
    assert r1.nadir_hz <= r0.nadir_hz * (1 + 1e-9)
    assert single.base.value_hz <= budget.base.value_hz * (1 + 1e-9)
    # unit trips are the same under both
    both = [screen_contingencies(ieee39, ["G38"], incident=i, **kw).to_frame().iloc[0]
            for i in ("budget", "single")]
    assert both[0].nadir_hz == both[1].nadir_hz


def test_single_incident_reproducible_across_executors(ieee39):
    conts = ["line:10", "line:20", "G32"]
    a = screen_contingencies(ieee39, conts, incident="single", executor="serial", dt=0.05)
    b = screen_contingencies(ieee39, conts, incident="single", executor="processes", n_jobs=2,
                             dt=0.05)
    cols = ["contingency", "nadir_hz", "worst_bus", "time_s", "coi_nadir_hz", "lost_mw"]
    assert a.to_frame()[cols].equals(b.to_frame()[cols])


@pytest.fixture(scope="module")
def external_grid_case():
    """pandapower case9 with its two generators turned down: the external grid (the slack)
    then supplies more than either unit."""
    net = pn.case9()
    net.gen["p_mw"] = [60.0, 40.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return grids.load(net, name="case9_ext")


def test_b_is_set_by_a_real_unit_not_the_external_grid(external_grid_case):
    grid = external_grid_case
    M = grid.machines.set_index("id")
    ext = M.p_mw["ext_grid:0"]
    assert ext > 2 * M.p_mw["gen:0"]                     # the slack's solved output
    ctx = ScreeningContext.from_grid(grid)
    B, unit, why = incident_size(grid, ctx)
    assert unit == "gen:0" and B == pytest.approx(M.p_mw["gen:0"])
    assert "ext_grid:0" in why and "external" in why
    assert incident_size(grid, ctx, 150.0) == (150.0, None, "given (150 MW)")
    res = screen_contingencies(grid, "branches", incident="single", executor="serial",
                               dt=0.05, horizon=10.0)
    assert res.settings["incident_unit"] == "gen:0"
    # one unit lost per whole-grid outage (the external grid is a unit of the set), at most B
    df = res.to_frame()
    whole = set(df.contingency[df.disturbance == "reference-incident"])
    assert whole
    d = res.disturbances[res.disturbances.contingency.isin(whole)]
    assert d.groupby("contingency").size().max() == 1
    assert d.p_mw.max() <= B * (1 + 1e-9)
    assert (df.lost_mw[df.contingency.isin(whole)] <= B * (1 + 1e-9)).all()
    # a case whose only infeed is the external grid: it sets B, and says so
    net = pn.case9()
    net.gen["p_mw"] = [0.0, 0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        only = grids.load(net, name="case9_only_ext")
    B2, unit2, why2 = incident_size(only, ScreeningContext.from_grid(only))
    assert unit2 == "ext_grid:0" and "only infeeds" in why2
    assert B2 == pytest.approx(only.machines.set_index("id").p_mw["ext_grid:0"])


def test_incident_arguments_are_checked(ieee39):
    with pytest.raises(InputError, match="`incident` must be one of"):
        screen_contingencies(ieee39, ["line:10"], incident="largest", executor="serial")
    with pytest.raises(InputError, match="`incident` chooses"):
        screen_contingencies(ieee39, ["line:10"], incident="single", rho=0.5, executor="serial")
    with pytest.raises(InputError, match="`incident_set` replaces"):
        screen_contingencies(ieee39, ["line:10"], incident="single", executor="serial",
                             incident_set=BudgetBox(np.ones(10), 1.0))


def test_cli_incident_single(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["screen", "kundur", "--contingencies", "L7-8a,G1", "--serial",
               "--incident", "single", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "single: the loss of any one unit's dispatch, capped at 719.1 MW" in text
    assert "reference incident B = 719.1 MW: largest dispatch of a generating unit, G3" in text
    st = json.loads((out / "summary.json").read_text())["settings"]
    assert st["incident"] == "single" and st["incident_unit"] == "G3"
    assert st["incident_mw"] == pytest.approx(719.09, abs=0.01)
    assert st["incident_basis"].startswith("largest dispatch of a generating unit, G3")
    page = (out / "report.html").read_text()
    assert "single: the loss of any one unit&#x27;s dispatch" in page and "G3 (719.1 MW)" in page


@pytest.mark.parametrize("argv, msg", [
    (["screen", "kundur", "--incident", "largest"], "--incident"),
    (["screen", "kundur", "--incident", "single", "--disturbance", "ball"], "--incident"),
])
def test_cli_incident_bad_input(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and len(err.splitlines()) == 1
