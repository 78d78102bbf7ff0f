"""Screening as operators define contingencies: lost infeed, island imbalance, reference
incident; COI, RoCoF and quasi-steady-state metrics; checked against direct ODE simulations
of the post-contingency linear model, first principles and pandapower's power flow."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import netcoh as nc
import netcoh.grids as grids
from netcoh.analysis.nadir import worst_case_nadir
from netcoh.exceptions import InputError
from netcoh.screening import Contingency, ScreeningContext, screen_contingencies
from netcoh.screening.evaluate import ROW_KEYS, _evaluate
from netcoh.screening.events import operator_events
from netcoh.screening.limits import FrequencyLimits, frequency_limits


@pytest.fixture(scope="module")
def ieee39():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return grids.load("ieee39")


@pytest.fixture(scope="module")
def kundur():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return grids.load("kundur")


def simulate(system, u, t):
    """Direct ODE of the swing-turbine network x = (omega, q, theta): independent of the
    modal machinery (m w' = -d w - q + u - L theta, tau q' = -q + droop w, theta' = w)."""
    p = system.nodal.params
    m, d = p["m"], p["d"]
    droop, tau = p.get("droop", np.zeros_like(m)), p.get("tau", np.ones_like(m))
    L = np.asarray(system.laplacian)
    n = m.size

    def rhs(_, x):
        w, q, th = x[:n], x[n:2 * n], x[2 * n:]
        return np.concatenate([(-d * w - q + u - L @ th) / m, (-q + droop * w) / tau, w])

    sol = solve_ivp(rhs, (0.0, t[-1]), np.zeros(3 * n), t_eval=t, method="DOP853",
                    rtol=1e-10, atol=1e-12)
    return sol.y[:n].T


def rows(grid, conts, **kw):
    res = screen_contingencies(grid, conts, executor="serial", **kw)
    return res, res.to_frame().set_index("contingency")


def test_unit_trip_loses_its_dispatch_ieee39(ieee39):
    """G39 (1000 MW): nadir against an ODE of the post-trip model, flagged against the
    60 Hz preset's 0.5 Hz; COI RoCoF and quasi-steady state against first principles."""
    res, df = rows(ieee39, ["G39", "G38"])
    row = df.loc["machine:G39"]
    assert ieee39.f_hz == 60.0 and res.settings["limits_name"] == "north_america"
    assert row.margin_hz == pytest.approx(0.5 - row.nadir_hz)
    after = ieee39.trip_machine("G39")
    system = after.to_system()
    u = after.disturbance()
    f0 = ieee39.f_hz
    t = np.linspace(0.0, 30.0, 30001)
    y = simulate(system, u, t) * f0
    dip = np.abs(y).max(axis=0)
    assert row.nadir_hz == pytest.approx(dip.max(), rel=0.02)
    assert row.nadir_hz >= dip.max() * (1 - 1e-6)          # a supremum, not a sample
    assert row.worst_bus == system.labels[int(np.argmax(dip))] and row.worst_bus != "G39"
    assert row.status == "violation" and row.margin_hz < 0 and row.disturbance == "infeed-loss"
    assert row.lost_mw == pytest.approx(ieee39.machines.set_index("id").p_mw["G39"], rel=1e-9)
    M = after.machines[after.machines.in_service]
    dP = row.lost_mw / ieee39.base_mva
    # COI (weights H S): its nadir from the simulation, its settled value from first principles
    coi = y @ (M.inertia_s.to_numpy() / M.inertia_s.sum())
    assert row.coi_nadir_hz == pytest.approx(np.abs(coi).max(), rel=0.01)
    assert row.coi_time_s == pytest.approx(t[np.argmax(np.abs(coi))], abs=0.02)
    qss = dP / (M.damping_pu.sum() + M.droop_gain_pu.sum()) * f0
    assert row.qss_hz == pytest.approx(qss, rel=1e-6)
    # RoCoF: the 500 ms window as measured on the simulation; the initial slope
    # dP f0 / (2 sum H S) from a short window
    assert row.rocof_hz_per_s == pytest.approx(abs(coi[500] - coi[0]) / 0.5, rel=0.01)
    first = dP * f0 / M.inertia_s.sum()                  # inertia_s = 2 H S / S_base
    assert row.rocof_hz_per_s < first
    _, short = rows(ieee39, ["G39"], rocof_window_s=0.1)
    assert short.loc["machine:G39", "rocof_hz_per_s"] == pytest.approx(first, rel=0.02)
    assert row.local_rocof_hz_per_s >= row.rocof_hz_per_s
    # G38 (830 MW) is a violation too, and a smaller one
    assert df.loc["machine:G38", "status"] == "violation"
    assert df.loc["machine:G38", "nadir_hz"] < row.nadir_hz


def test_row_contract_keys_and_trajectory(kundur):
    ctx = ScreeningContext.from_grid(kundur)
    settings = dict(disturbance="operator", dt=0.01, horizon=None, f_hz=60.0, rtol=1e-6,
                    limits={"nadir_hz": 0.8, "rocof_hz_per_s": 1.0, "qss_hz": 0.2},
                    rocof_window_s=0.5, islands="main", incident_caps=ctx.dispatch,
                    incident_pu=7.0, incident_set=None)
    for cont in (Contingency("machine", "G1"), Contingency("branch", "L7-8a")):
        row = _evaluate(ctx, cont, settings, 0.0)
        assert tuple(row) == ROW_KEYS
        tr = row["_trajectory"]
        assert set(tr) == {"t_s", "coi_hz", "worst_bus_hz"}
        assert all(a.ndim == 1 and a.size == tr["t_s"].size for a in tr.values())
        assert np.abs(tr["worst_bus_hz"]).max() <= row["nadir_hz"] * (1 + 1e-9)
        assert np.abs(tr["coi_hz"]).max() <= row["coi_nadir_hz"] * (1 + 1e-9)
        assert sum(row["_disturbance_mw"].values()) == pytest.approx(row["lost_mw"], rel=1e-9)
        margins = (row["margin_hz"], row["rocof_margin_hz_per_s"], row["qss_margin_hz"])
        assert row["status"] == ("violation" if min(margins) < 0 else "ok")
    assert row["disturbance"] == "reference-incident"
    assert max(row["_disturbance_mw"].values()) <= 7.0 * 100 * (1 + 1e-9)


@pytest.mark.parametrize("case, branch", [("kundur", "L6-7"), ("ieee39", "trafo:5")])
def test_split_keeps_the_island_imbalance_of_the_power_flow(case, branch, request):
    grid = request.getfixturevalue(case)
    _, df = rows(grid, [branch])
    row = df.loc[f"branch:{branch}"]
    assert row.disturbance == "island-imbalance" and row.islands == 2
    fl = grid.branch_flows().set_index("id").loc[branch]
    main = grid.remove_branch(branch).islands()[0]
    # the main island's deficit is what flowed into it over the cut
    end = fl.p_to_mw if fl.to_bus in main.buses else fl.p_from_mw
    assert row.lost_mw == pytest.approx(-end, rel=1e-9)
    # first principles: the island's load less its generation, plus its share of the losses
    M, Ld = grid.machines, grid.loads
    need = Ld[Ld.bus.isin(main.buses)].p_mw.sum() - M[M.id.isin(main.machines)].p_mw.sum()
    losses = M.p_mw.sum() - Ld.p_mw.sum()
    assert need - 1e-6 <= row.lost_mw <= need + losses + 1e-6
    # the step on the island's model, simulated: its nadir
    ctx = ScreeningContext.from_grid(grid)
    events, _ = operator_events(ctx, Contingency("branch", branch))
    ev = events[0]
    t = np.linspace(0.0, 30.0, 15001)
    y = simulate(ev.system, ev.u, t) * grid.f_hz
    assert row.nadir_hz == pytest.approx(np.abs(y).max(), rel=0.01)


def test_branch_flows_match_pandapower(ieee39):
    import pandapower as pp
    import pandapower.networks as pn

    net = pn.case39()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
    fl = ieee39.branch_flows().set_index("id")
    lines = fl.loc[[f"line:{i}" for i in net.line.index]]
    assert np.allclose(lines.p_from_mw, net.res_line.p_from_mw, atol=1e-4)
    assert np.allclose(lines.p_to_mw, net.res_line.p_to_mw, atol=1e-4)
    tr = fl.loc[[f"trafo:{i}" for i in net.trafo.index]]
    assert np.allclose(np.sort(np.r_[tr.p_from_mw, tr.p_to_mw]),
                       np.sort(np.r_[net.res_trafo.p_hv_mw, net.res_trafo.p_lv_mw]), atol=1e-4)


def test_whole_grid_outage_faces_the_reference_incident(ieee39):
    res, df = rows(ieee39, ["line:10"])
    row = df.loc["branch:line:10"]
    assert row.disturbance == "reference-incident"
    B = res.settings["incident_mw"]
    assert B == pytest.approx(ieee39.machines.p_mw.max())          # largest single infeed
    assert 0 < row.lost_mw <= B * (1 + 1e-9)
    p = -np.asarray(res.base.disturbance) * ieee39.base_mva       # the intact worst case
    cap = ieee39.machines.p_mw.to_numpy()
    assert np.all(p >= -1e-9) and np.all(p <= cap + 1e-6) and p.sum() <= B + 1e-6
    # a larger incident is worse; every loss within the box is no worse than the worst
    res2, df2 = rows(ieee39, ["line:10"], incident_mw=1500.0)
    assert df2.loc["branch:line:10", "nadir_hz"] > row.nadir_hz
    system = ieee39.remove_branch("line:10").to_system()
    rng = np.random.default_rng(1)
    for _ in range(5):
        q = rng.uniform(0, 1, cap.size) * cap
        q *= min(1.0, B / q.sum())
        val = worst_case_nadir(system, disturbance_set=-q / 100.0, dt=0.05).value_hz
        assert val <= row.nadir_hz * (1 + 1e-9)


def test_ball_reports_its_net_mw_range(ieee39):
    res, df = rows(ieee39, ["line:10"], rho=0.5)
    assert res.settings["disturbance"] == "ball"
    assert res.settings["ball_net_mw"] == pytest.approx(0.5 * np.sqrt(10) * 100)
    assert df.loc["branch:line:10", "disturbance"] == "ball"
    assert abs(df.loc["branch:line:10", "lost_mw"]) <= res.settings["ball_net_mw"] * (1 + 1e-9)
    with pytest.raises(InputError, match="`rho` must come with disturbance=.ball."):
        screen_contingencies(ieee39, ["line:10"], disturbance="operator", rho=0.5)
    with pytest.raises(InputError, match="`disturbance` must be one of"):
        screen_contingencies(ieee39, ["line:10"], disturbance="budget")


def test_one_model_default_and_nominal_frequency(ieee39):
    system = ieee39.to_system()
    assert system.nodal.kind == ieee39.to_system(model="swing_turbine").nodal.kind
    assert system.f_hz == 60.0
    res = worst_case_nadir(system, rho=0.5)
    assert res.value_hz == pytest.approx(60.0 * res.value) and res.f_hz == 60.0
    assert worst_case_nadir(system, rho=0.5, f_hz=50.0).value_hz == pytest.approx(50 * res.value)
    screened = screen_contingencies(ieee39, ["line:10"], rho=0.5, executor="serial")
    assert screened.settings["model"] == "swing_turbine"
    plain = nc.NetworkSystem.from_laplacian(np.asarray(system.laplacian), nodal=system.nodal)
    assert plain.f_hz is None
    assert np.isnan(worst_case_nadir(plain, rho=0.5).value_hz)
    with pytest.raises(InputError, match="f_hz"):
        worst_case_nadir(plain, rho=0.5, threshold_hz=0.8)
    import dataclasses

    assert dataclasses.replace(system, labels=system.labels).f_hz == 60.0
    with pytest.raises(InputError, match="`f_hz` must be a positive number"):
        dataclasses.replace(system, f_hz=-1.0)


def test_trips_in_worst_case_nadir_equal_unit_trip_rows(ieee39):
    system = ieee39.to_system()
    P = ieee39.machines.set_index("id").p_mw / ieee39.base_mva
    res = worst_case_nadir(system, trips={"G39": P["G39"], "G38": P["G38"]})
    _, df = rows(ieee39, ["G39", "G38"])
    worst = df.nadir_hz.idxmax()
    assert res.value_hz == pytest.approx(df.loc[worst, "nadir_hz"], rel=1e-6)
    assert res.bus == df.loc[worst, "worst_bus"]
    assert res.labels[np.flatnonzero(res.disturbance)[0]] == worst.split(":")[1]


def test_limits_presets_and_overrides():
    assert frequency_limits("gb") == FrequencyLimits(0.5, 1.0, 0.5, "gb")
    assert frequency_limits("gb_infrequent").nadir_hz == 0.8
    ce = frequency_limits("continental_europe")
    assert (ce.nadir_hz, ce.qss_hz, ce.rocof_hz_per_s) == (0.8, 0.2, None)
    na = frequency_limits("north_america")
    assert (na.nadir_hz, na.qss_hz, na.rocof_hz_per_s) == (0.5, None, None)
    # "auto": the preset of the grid's nominal frequency
    assert frequency_limits("auto", f_hz=60.0) == na
    assert frequency_limits("auto", f_hz=50.0) == ce
    assert frequency_limits("auto", {"qss_hz": 0.3}, f_hz=60.0).qss_hz == 0.3
    with pytest.raises(InputError, match="nominal frequency"):
        frequency_limits("auto")
    assert frequency_limits(0.3, "gb").nadir_hz == 0.3
    assert frequency_limits("gb", {"qss_hz": 0.3}).qss_hz == 0.3
    with pytest.raises(InputError, match="`threshold_hz` must be a number or one of"):
        frequency_limits("mars")
    with pytest.raises(InputError, match="`limits` keys"):
        frequency_limits("gb", {"nadir": 1})
    with pytest.raises(InputError, match="`qss_hz` must be a positive number"):
        FrequencyLimits(qss_hz=-1.0)


def test_pandapower_net_gets_sized_machines_and_losses_within_dispatch():
    """Synthesised data by unit size; no disturbance loses more than a unit's dispatch;
    every row has the COI nadir beside the local one."""
    import pandapower.networks as pn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = grids.load(pn.case30())
    M = grid.machines
    H = M.inertia_s * grid.base_mva / (2 * M.rating_mva)
    expect = np.select([M.rating_mva < 50, M.rating_mva < 200, M.rating_mva < 600], [2, 3, 4], 5)
    assert np.allclose(H, expect)
    rules = " ".join(r["rule"] for r in grid.provenance["synthesised"])
    assert "by unit size" in rules
    res = screen_contingencies(grid, "n-1", executor="serial", dt=0.05)
    df = res.to_frame()
    dispatch = dict(zip(M.id, M.p_mw))
    ctx = ScreeningContext.from_grid(grid)
    settings = dict(res.settings, incident_caps=np.maximum(ctx.dispatch, 0.0),
                    incident_pu=res.settings["incident_mw"] / grid.base_mva, incident_set=None)
    for cont in [Contingency(k, e) for k, e in zip(df.kind, df.element)]:
        row = _evaluate(ctx, cont, settings, 0.0)
        if row["disturbance"] in ("reference-incident", "infeed-loss"):
            for unit, mw in row["_disturbance_mw"].items():
                assert -1e-6 <= mw <= max(dispatch[unit], 0.0) * (1 + 1e-6) + 1e-6
    ok = df[df.error == ""]
    assert ok.coi_nadir_hz.notna().all() and ok.nadir_hz.notna().all()
    assert (ok.coi_nadir_hz <= ok.nadir_hz * (1 + 1e-9)).all()


def test_local_swing_flag_marks_rows_whose_worst_bus_leaves_the_centre_of_inertia(monkeypatch):
    from netcoh.screening import evaluate, report

    grid = grids.load("ieee39", warn=False)
    conts = [Contingency("machine", "G39"), Contingency("branch", "line:32")]
    kw = dict(executor="serial", progress=False, dt=0.05)
    plain = screen_contingencies(grid, conts, **kw).to_frame().set_index("contingency")
    ratio = plain.nadir_hz / plain.coi_nadir_hz
    # a unit trip moves the grid as one; the reference incident after line 32 does not
    assert ratio["machine:G39"] < 1.5 < ratio["branch:line:32"] < evaluate.LOCAL_SWING_RATIO
    assert not plain.warning.str.contains("local swing").any()

    monkeypatch.setattr(evaluate, "LOCAL_SWING_RATIO", 1.5)
    flagged = screen_contingencies(grid, conts, **kw).to_frame().set_index("contingency")
    assert "local swing" not in flagged.warning["machine:G39"]
    note = flagged.warning["branch:line:32"]
    assert note.startswith(f"local swing: {flagged.worst_bus['branch:line:32']} dips "
                           f"{ratio['branch:line:32']:.0f}x the centre of inertia")
    row = flagged.loc["branch:line:32"].to_dict() | {"error": ""}
    assert report._note(row).startswith("local swing")         # shown in the report's table


@pytest.mark.andes
def test_case_model_trip_takes_the_events_losses():
    """On the "case" model a unit trip's input is the tripped grid's Grid.disturbance (the
    lossy injection map and the post-trip power flow's losses, as netcoh.validate uses);
    the row still loses the unit's dispatch and says what the machines make up."""
    from netcoh.grids.andes import from_andes

    grid = from_andes("ieee14/ieee14_full.xlsx")
    ctx = ScreeningContext.from_grid(grid)
    assert ctx.event_grid is grid
    M = grid.machines.set_index("id")
    unit = str(M.p_mw.idxmax())
    (ev,), _ = operator_events(ctx, Contingency("machine", unit))
    after = grid.trip_machine(unit)
    ref = after.disturbance()
    ids = list(after.machines.id[after.machines.in_service])
    np.testing.assert_allclose(ev.u, ref[[ids.index(m) for m in ev.labels]], rtol=1e-12)
    # not the dispatch: the change of the network's losses comes with it (on ieee14 the
    # losses fall, 79.9 MW for the 81.4 MW unit; on ieee39's large units they rise)
    assert abs(-ev.u.sum() * grid.base_mva - M.p_mw[unit]) > 1e-3 * M.p_mw[unit]
    row = screen_contingencies(grid, [unit], executor="serial").to_frame().iloc[0]
    assert row.lost_mw == pytest.approx(M.p_mw[unit], rel=1e-9)
    assert f"{-ev.u.sum() * grid.base_mva:.4g} MW" in row.island_info
    # the lossless models keep the Kron factors: the step sums to the dispatch
    swing = ScreeningContext.from_grid(grid, model="swing")
    assert swing.event_grid is None
    (ev2,), _ = operator_events(swing, Contingency("machine", unit))
    assert -ev2.u.sum() * grid.base_mva == pytest.approx(M.p_mw[unit], rel=1e-9)


@pytest.mark.parametrize("case", ["kundur", "ieee39"])
def test_islands_from_the_intact_reduction_match_a_new_one(case, request):
    """A cut whose islands all keep a machine: each island's reduced network and mapped
    imbalance come from the intact reduction's rank-one update, and equal a new Kron
    reduction of the island."""
    from netcoh.screening.events import _branch_injection
    ctx = ScreeningContext.from_grid(request.getfixturevalue(case))
    split = [b for b, v in ctx.branches.items() if v[3] == "split"]
    assert split
    used = 0
    for b in split:
        p, q, w, _ = ctx.branches[b]
        inj = _branch_injection(ctx, b)
        used += ctx._cut_reduction(p, q, w, inj) is not None
        fast, note = ctx._islands(p, q, w, drop=None, inj=inj)
        ctx._cut_reduction = lambda *a, **k: None          # the island-by-island path
        try:
            new, note_new = ctx._islands(p, q, w, drop=None, inj=inj)
        finally:
            del ctx._cut_reduction
        assert note == note_new and [x[1] for x in fast] == [x[1] for x in new]
        for (s1, _, u1), (s2, _, u2) in zip(fast, new):
            L1, L2 = np.asarray(s1.laplacian), np.asarray(s2.laplacian)
            assert np.abs(L1 - L2).max() <= 1e-12 * np.abs(L2).max()
            assert np.abs(u1 - u2).max() <= 1e-12 * max(np.abs(inj).max(), 1e-300)
    assert used == len(split)


@pytest.mark.parametrize("case", ["kundur", "ieee39"])
def test_an_outage_cutting_one_machine_off_screens_its_trips_network(case, request):
    """The outage leaves the network of that machine's trip: the same system object (one
    modal model for both), equal to the island's own reduction, and the screen evaluates
    the two one after the other."""
    from netcoh.screening.screen import _twins_together
    ctx = ScreeningContext.from_grid(request.getfixturevalue(case))
    split = [b for b, v in ctx.branches.items() if v[3] == "split"]
    pairs = 0
    for b in split:
        m = ctx.cut_off_machine(b)
        p, q, w, _ = ctx.branches[b]
        systems, _ = ctx.systems(Contingency("branch", b))
        alone = systems[1][1][0] if len(systems) == 2 and len(systems[1][1]) == 1 \
            and len(systems[0][1]) > 1 else None
        assert m == alone
        if m is None:
            continue
        pairs += 1
        trip, _ = ctx.systems(Contingency("machine", m))
        assert systems[0][0] is trip[0][0]
        ctx._cut_reduction = lambda *a, **k: None               # the island's own reduction
        try:
            own, _ = ctx._islands(p, q, w, drop=None)
        finally:
            del ctx._cut_reduction
        L1, L2 = np.asarray(systems[0][0].laplacian), np.asarray(own[0][0].laplacian)
        assert np.abs(L1 - L2).max() <= 1e-12 * np.abs(L2).max()
    assert pairs >= 2
    with pytest.raises(InputError, match="`branch_id` must be a branch of the grid, got 'nope'"):
        ctx.cut_off_machine("nope")
    conts = [Contingency("branch", b) for b in split] + [Contingency("machine", m)
                                                          for m in ctx.labels]
    order = [c.name for c in _twins_together(ctx, conts)]
    assert sorted(order) == sorted(c.name for c in conts)
    for b in split:
        m = ctx.cut_off_machine(b)
        if m is not None:
            assert order.index(f"branch:{b}") > order.index(f"machine:{m}")
