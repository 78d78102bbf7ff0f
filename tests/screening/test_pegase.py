"""Operator screening of pandapower's case1354pegase (shipped with pandapower): the largest
unit trips and outages that cut off part of the grid, on the default model.

Checked against pandapower's own power flow (each trip loses exactly the unit's dispatch;
no disturbance takes more from a unit than its dispatch), against the definition of the
centre of inertia (a weighted mean of the bus deviations can never dip deeper than the
worst bus, so the COI nadir is at most the certified local nadir), and the report names the
synthesised machine data."""

from __future__ import annotations

import warnings

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

import netcoh.grids as grids
from netcoh.screening import Contingency, ScreeningContext, screen_contingencies
from netcoh.screening.report import report_html

# a 10 s window and a 50 ms seed grid keep the test short; the supremum is still certified
# on the window (the nadirs here are within the first seconds)
KW = dict(dt=0.05, horizon=10.0, executor="serial")


@pytest.fixture(scope="module")
def pegase():
    net = pn.case1354pegase()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = grids.load(net, name="case1354pegase")
    ctx = ScreeningContext.from_grid(grid)
    pp.runpp(net)                                   # the reference dispatch, independently
    gen_mw = {f"{el}:{i}": float(p) for el in ("gen", "ext_grid", "sgen")
              for i, p in net[f"res_{el}"].p_mw.items()}
    # the three largest units and the outages that cut off buses or split the machines
    disp = {m: float(ctx.dispatch[k]) * grid.base_mva for m, (k, _, _) in ctx.machines.items()}
    units = sorted(disp, key=lambda m: -disp[m])[:3]
    cut = [b for b, v in ctx.branches.items() if v[3].startswith("dead:")][:2]
    split = [b for b, v in ctx.branches.items() if v[3] == "split"][:1]
    conts = [Contingency("machine", m) for m in units] + [
        Contingency("branch", b) for b in cut + split]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = screen_contingencies(grid, conts, **KW)
    return grid, ctx, res, gen_mw, disp, conts


def test_unit_trips_lose_exactly_their_dispatch(pegase):
    grid, ctx, res, gen_mw, disp, conts = pegase
    df = res.to_frame()
    trips = df[df.kind == "machine"]
    assert len(trips) == 3 and set(trips.disturbance) == {"infeed-loss"}
    for _, row in trips.iterrows():
        assert row.element in gen_mw                # a pandapower machine
        assert row.lost_mw == pytest.approx(gen_mw[row.element], rel=1e-6)
    # the worst disturbance of each trip is the unit itself losing its dispatch
    d = res.disturbances
    for _, row in trips.iterrows():
        mine = d[d.contingency == row.contingency]
        assert list(mine.machine) == [row.element]
        assert mine.p_mw.iloc[0] == pytest.approx(gen_mw[row.element], rel=1e-6)


def test_no_unit_loses_more_than_its_dispatch(pegase):
    grid, ctx, res, gen_mw, disp, conts = pegase
    d = res.disturbances
    df = res.to_frame()
    lost = df.contingency[df.disturbance.isin(["infeed-loss", "reference-incident"])]
    d = d[d.contingency.isin(lost)]
    assert len(d) == len(lost)
    for _, r in d.iterrows():                        # generation lost at that machine
        assert 0.0 <= r.p_mw <= max(disp[r.machine], 0.0) * (1 + 1e-9) + 1e-6, r
    # the intact network faces the reference incident: at most the largest infeed in total,
    # each unit at most its dispatch
    base_u = -np.asarray(res.base.disturbance) * grid.base_mva
    caps = np.maximum(ctx.dispatch, 0.0) * grid.base_mva
    assert np.all(base_u <= caps * (1 + 1e-9) + 1e-6) and np.all(base_u >= -1e-6)
    assert base_u.sum() <= caps.max() * (1 + 1e-9)
    assert res.settings["incident_mw"] == pytest.approx(max(gen_mw.values()), rel=1e-6)


def test_every_row_shows_coi_and_local_nadir(pegase):
    grid, ctx, res, gen_mw, disp, conts = pegase
    df = res.to_frame()
    assert len(df) == len(conts)
    assert set(df.status) <= {"ok", "violation"}
    assert df.certified.all()
    for col in ("nadir_hz", "coi_nadir_hz", "rocof_hz_per_s", "qss_hz"):
        assert np.isfinite(df[col].to_numpy(dtype=float)).all(), col
    # a weighted mean of the bus deviations never dips below the worst bus
    assert (df.coi_nadir_hz <= df.nadir_hz * (1 + 1e-6) + 1e-12).all()
    # a large unit trip is a system event: its COI dip is a sizeable share of the local one
    big = df[df.element == max(disp, key=disp.get)].iloc[0]
    assert big.coi_nadir_hz > 0.2 * big.nadir_hz
    # the branch outages brought their own imbalance (from the power flow)
    br = df[df.kind == "branch"]
    assert len(br) and set(br.disturbance) == {"island-imbalance"}


def test_report_names_the_synthesised_data(pegase):
    grid, ctx, res, gen_mw, disp, conts = pegase
    fields = {f for x in grid.provenance["synthesised"] for f in x["fields"]}
    assert {"inertia_s", "damping_pu", "droop_r_pu", "turbine_tau_s"} <= fields
    page = report_html(res, grid, figs={})
    assert "synthesised" in page
    for f in ("inertia_s", "damping_pu", "droop_r_pu", "turbine_tau_s"):
        assert f in page
    assert "coi_nadir_hz" in page and "nadir_hz" in page
