"""Tests of netcoh.grids: shipped cases, the case format, Laplacians, Kron reduction, edits."""

from __future__ import annotations

import copy
import json
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import netcoh as nc
from netcoh import grids
from netcoh.exceptions import (
    CaseFileError,
    DisconnectedError,
    InputError,
    NetcohError,
    SynthesizedDataWarning,
)


def load(name, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SynthesizedDataWarning)
        return grids.load(name, **kw)


@pytest.fixture(scope="module")
def kundur():
    return load("kundur")


@pytest.fixture(scope="module")
def ieee39():
    return load("ieee39")


def dense(L):
    return L.toarray() if sp.issparse(L) else np.asarray(L)


# -- shipped cases -------------------------------------------------------------------------

def test_available_lists_the_shipped_cases():
    assert set(grids.available()) >= {"ieee39", "kundur", "gb", "case145"}


@pytest.mark.parametrize("name, n", [("kundur", 4), ("ieee39", 10), ("case145", 50),
                                     ("gb", 394)])
def test_machine_node_counts(name, n):
    g = load(name)
    sys_ = g.to_system()
    assert sys_.n == n
    assert sys_.labels == tuple(g.machines.id[g.machines.in_service])
    L = dense(sys_.laplacian)
    assert np.allclose(L, L.T, rtol=0, atol=1e-9 * abs(L).max())
    assert np.abs(L.sum(axis=1)).max() < 1e-9 * abs(L).max()
    assert (L - np.diag(np.diag(L))).max() <= 0


@pytest.mark.parametrize("flow", ["ac", "dc"])
@pytest.mark.parametrize("reduce", ["kron", None])
def test_laplacians_symmetric_zero_row_sums(ieee39, flow, reduce):
    sys_ = ieee39.to_system(reduce=reduce, flow=flow)
    L = dense(sys_.laplacian)
    assert np.abs(L - L.T).max() <= 1e-10 * abs(L).max()
    assert np.abs(L.sum(axis=1)).max() <= 1e-10 * abs(L).max()
    assert sys_.is_sparse == (reduce is None)


def test_gb_provenance_and_warning():
    with pytest.warns(SynthesizedDataWarning, match="inertia_s"):
        g = grids.load("gb")
    syn = g.provenance["synthesised"]
    rule = " ".join(item["rule"] for item in syn)
    assert "16/4.38" in rule and "Uniform(0, 1000)" in rule and "seed=" in rule
    m = g.machines.inertia_s.to_numpy()
    d = g.machines.damping_pu.to_numpy()
    assert m.size == 394 and 0 < m.min() and m.max() < 1000
    assert np.allclose(d / m, 16 / 4.38, rtol=1e-9)
    assert 400 < m.mean() < 600          # U(0, 1000): mean 500 +- 3 sigma


def test_ieee39_machine_data_from_the_literature(ieee39):
    M = ieee39.machines.set_index("id")
    assert M.loc["G39", "inertia_s"] == pytest.approx(1000.0)        # 2 H, H = 500 s
    assert M.loc["G30", "inertia_s"] == pytest.approx(84.0)
    assert M.loc["G39", "inertia_s"] > 5 * M.drop("G39").inertia_s.max()
    assert "Pai" in ieee39.provenance["source"]


# -- hand-computed DC Laplacian ------------------------------------------------------------

def tiny_case(**changes):
    doc = {
        "format": "netcoh-grid", "format_version": 1, "name": "tiny", "base_mva": 100.0,
        "f_hz": 50.0, "topology": "inline",
        "provenance": {"source": "test", "licence": "BSD", "synthesised": []},
        "buses": [{"id": "A", "vm_pu": 1.0, "va_deg": 0.0},
                  {"id": "B", "vm_pu": 1.0, "va_deg": -2.0},
                  {"id": "C", "vm_pu": 1.0, "va_deg": -3.0}],
        "branches": [{"id": "AB1", "from_bus": "A", "to_bus": "B", "x_pu": 0.1},
                     {"id": "AB2", "from_bus": "A", "to_bus": "B", "x_pu": 0.5},
                     {"id": "BC", "from_bus": "B", "to_bus": "C", "x_pu": 0.2}],
        "machines": [{"id": "G1", "bus": "A", "inertia_s": 10.0, "damping_pu": 1.0,
                      "slack": True, "p_mw": 50.0},
                     {"id": "G2", "bus": "C", "inertia_s": 5.0, "damping_pu": 0.5,
                      "p_mw": 30.0}],
        "loads": [{"id": "LB", "bus": "B", "p_mw": 80.0}],
    }
    doc.update(changes)
    return doc


def write(tmp_path, doc, name="case.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return p


def test_dc_laplacian_equals_hand_computed(tmp_path):
    g = grids.load(write(tmp_path, tiny_case()))
    w0 = 2 * math.pi * 50
    # full network: A-B weight 1/0.1 + 1/0.5 = 12, B-C weight 5; order G1(A), G2(C), bus:B
    full = g.to_system(reduce=None, flow="dc", load_damping=0.0)
    assert full.labels == ("G1", "G2", "bus:B")
    expect = w0 * np.array([[12.0, 0.0, -12.0], [0.0, 5.0, -5.0], [-12.0, -5.0, 17.0]])
    assert np.allclose(dense(full.laplacian), expect, rtol=1e-13)
    # Kron: series combination 12 * 5 / 17
    red = g.to_system(flow="dc")
    k = 60.0 / 17.0
    assert np.allclose(red.laplacian, w0 * np.array([[k, -k], [-k, k]]), rtol=1e-13)
    # AC: cos of the angle differences enters
    ac = g.to_system(reduce=None, flow="ac", load_damping=0.0)
    assert dense(ac.laplacian)[0, 2] == pytest.approx(-w0 * 12 * math.cos(math.radians(2)))
    # nodal data: swing 1/(m s + d) with the file's m and d
    assert red.nodal.params["m"].tolist() == [10.0, 5.0]
    assert red.nodal.params["d"].tolist() == [1.0, 0.5]


def test_dc_laplacian_with_transient_reactance_and_tap(tmp_path):
    doc = tiny_case()
    doc["machines"][0]["transient_reactance_pu"] = 0.25      # weight 4 to an internal node
    doc["branches"][2]["tap_ratio"] = 2.0                   # weight 1/(0.2 * 2) = 2.5
    g = grids.load(write(tmp_path, doc))
    L = dense(g.to_system(reduce=None, flow="dc", load_damping=0).laplacian) / (2 * math.pi * 50)
    # nodes: G1 (internal), G2 (= bus C), bus:A, bus:B
    expect = np.array([[4, 0, -4, 0], [0, 2.5, 0, -2.5], [-4, 0, 16, -12], [0, -2.5, -12, 14.5]])
    assert np.allclose(L, expect, rtol=1e-13)


# -- Kron reduction preserves the machine response -----------------------------------------

@pytest.mark.parametrize("name", ["kundur", "ieee39"])
def test_kron_preserves_machine_response_exactly(name):
    """Full sparse network with algebraic load buses (1/g = 0), restricted to the machines,
    equals the Kron-reduced system; computed independently with dense numpy."""
    g = load(name)
    red = g.to_system(model="swing_turbine")
    full = g.to_system(model="swing_turbine", reduce=None)
    nm = red.n
    assert full.labels[:nm] == red.labels
    Lf = dense(full.laplacian)
    omega = np.array([0.05, 0.5, 3.0, 20.0])
    T_red = np.asarray(nc.transfer_matrix(red, omega))
    for k, w in enumerate(omega):
        s = 1j * w
        ginv = np.zeros(full.n, dtype=complex)
        ginv[:nm] = red.nodal.inverse(np.array([s]))[0]          # bus nodes algebraic
        T_full = np.linalg.inv(np.diag(ginv) + Lf / s)
        assert np.allclose(T_full[:nm, :nm], T_red[k], rtol=1e-8, atol=1e-12)


def test_reduce_none_with_vanishing_load_damping_tends_to_kron(kundur):
    red = kundur.to_system()
    full = kundur.to_system(reduce=None, load_damping=0.0, min_bus_damping_pu=1e-9)
    omega = np.array([0.1, 1.0, 10.0])
    cols = list(range(red.n))
    Tf = np.asarray(nc.transfer_matrix(full, omega, inputs=cols))[:, : red.n, :]
    Tr = np.asarray(nc.transfer_matrix(red, omega))
    assert np.allclose(Tf, Tr, rtol=1e-5, atol=1e-9)


def test_reduce_none_load_damping_uses_the_loads(kundur):
    full = kundur.to_system(reduce=None, load_damping=2.0, min_bus_damping_pu=1e-6)
    d = dict(zip(full.labels, 1.0 / np.real(full.nodal(np.array([0.0]))[0])))
    assert d["bus:7"] == pytest.approx(2.0 * 9.67 + 1e-6)
    assert d["bus:9"] == pytest.approx(2.0 * 17.67 + 1e-6)
    assert d["bus:8"] == pytest.approx(1e-6)


def test_negative_reactance_buses_eliminated_in_sparse_model():
    g = load("case145")
    full = g.to_system(reduce=None)
    L = full.laplacian
    off = L - sp.diags(L.diagonal())
    assert off.max() <= 0
    assert full.n < 50 + 145          # star points of negative-reactance branches eliminated
    # the machine block response still matches the Kron model at one frequency (loads off)
    full0 = g.to_system(reduce=None, load_damping=0.0, min_bus_damping_pu=1e-9)
    red = g.to_system()
    Tf = np.asarray(nc.transfer_matrix(full0, [0.7], inputs=[0, 7]))[0, :50]
    Tr = np.asarray(nc.transfer_matrix(red, [0.7], inputs=[0, 7]))[0]
    assert np.allclose(Tf, Tr, rtol=1e-5, atol=1e-12)


# -- malformed files -----------------------------------------------------------------------

def _drop(doc, table, k, field):
    doc = copy.deepcopy(doc)
    del doc[table][k][field]
    return doc


def _set(doc, table, k, field, value):
    doc = copy.deepcopy(doc)
    doc[table][k][field] = value
    return doc


@pytest.mark.parametrize("make, pattern", [
    (lambda d: _drop(d, "machines", 1, "damping_pu"),
     r"case\.json: machines\[1\]\.damping_pu: must be given"),
    (lambda d: _set(d, "machines", 1, "inertia_s", -3.0),
     r"case\.json: machines\[1\]\.inertia_s: must be > 0, got -3"),
    (lambda d: _set(d, "machines", 0, "inertia_s", 0),
     r"case\.json: machines\[0\]\.inertia_s: must be > 0, got 0"),
    (lambda d: _set(d, "branches", 2, "to_bus", "Z"),
     r"case\.json: branches\[2\]\.to_bus: must name a bus .*, got unknown bus 'Z'"),
    (lambda d: _set(d, "branches", 1, "x_pu", 0.0),
     r"case\.json: branches\[1\]\.x_pu: must be non-zero"),
    (lambda d: _set(d, "loads", 0, "p_mw", "lots"),
     r"case\.json: loads\[0\]\.p_mw: must be a number, got 'lots'"),
    (lambda d: {k: v for k, v in d.items() if k != "f_hz"}, r"case\.json: f_hz: must be given"),
    (lambda d: _set(d, "machines", 1, "slack", True), r"case\.json: machines: must mark exactly"),
])
def test_malformed_case_raises_naming_file_record_field(tmp_path, make, pattern):
    p = write(tmp_path, make(tiny_case()))
    with pytest.raises(CaseFileError, match=pattern) as info:
        grids.load(p)
    assert isinstance(info.value, NetcohError) and isinstance(info.value, ValueError)


def test_bad_json_raises_case_file_error(tmp_path):
    p = write(tmp_path, '{"format": "netcoh-grid", "buses": [1, 2,,]}')
    with pytest.raises(CaseFileError, match=r"case\.json: must be valid JSON, got an error at line 1 column"):
        grids.load(p)


def test_pandapower_topology_record_checks(tmp_path):
    doc = json.loads(grids.case_path("ieee39").read_text())
    doc["machines"][3]["bus"] = "5"
    with pytest.raises(CaseFileError, match=r"machines\[3\]\.bus: must be '33'"):
        grids.load(write(tmp_path, doc))
    doc = json.loads(grids.case_path("ieee39").read_text())
    del doc["machines"][4]
    with pytest.raises(CaseFileError, match="no record for pandapower machine"):
        grids.load(write(tmp_path, doc))


# -- round trip ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["kundur", "ieee39", "case145"])
def test_save_load_round_trip_gives_the_same_system(tmp_path, name):
    g = load(name)
    p = grids.save(g, tmp_path / f"{name}.json")
    g2 = load(p)
    for kw in ({}, {"model": "swing_turbine", "reduce": None}, {"flow": "dc"}):
        a, b = g.to_system(**kw), g2.to_system(**kw)
        assert a.labels == b.labels
        assert np.allclose(dense(a.laplacian), dense(b.laplacian), rtol=1e-12, atol=0)
        assert np.allclose(a.nodal.den, b.nodal.den, rtol=1e-12)
        assert np.allclose(a.nodal.num, b.nodal.num, rtol=1e-12)
    assert g2.provenance["synthesised"] == g.provenance["synthesised"]


def test_a_grid_without_its_slack_saves_to_a_file_that_loads(tmp_path, kundur):
    """G3 is Kundur's slack: after its trip the file still needs one in-service slack (load
    refused it with 'got 0'); the largest unit left takes the role, and the edit says so."""
    tripped = kundur.trip_machine("G3")
    back = load(grids.save(tripped, tmp_path / "t.json"))
    m = back.machines.set_index("id")
    assert m.slack.tolist().count(True) == 1 and m.slack["G1"] and not m.in_service["G3"]
    assert back.provenance["edits"][-1].startswith("slack G1")
    assert np.allclose(dense(back.to_system().laplacian), dense(tripped.to_system().laplacian),
                       rtol=1e-12, atol=0)


def test_save_is_atomic_on_error(tmp_path, kundur):
    with pytest.raises(NetcohError):
        grids.save("not a grid", tmp_path / "x.json")
    assert list(tmp_path.iterdir()) == []


# -- edits, islands, disturbances ----------------------------------------------------------

def test_edits_return_new_grids_and_leave_input_untouched(kundur):
    before = dense(kundur.to_system().laplacian).copy()
    g2 = kundur.remove_branch("L7-8a")
    assert kundur.branches.set_index("id").loc["L7-8a", "in_service"]
    assert not g2.branches.set_index("id").loc["L7-8a", "in_service"]
    assert np.array_equal(dense(kundur.to_system().laplacian), before)
    # weaker tie: lambda2 drops
    assert g2.to_system().lambda2 < kundur.to_system().lambda2
    g3 = kundur.scale_inertia(2.0, machines=["G1"])
    assert g3.machines.inertia_s[0] == 2 * kundur.machines.inertia_s[0]
    assert g3.machines.inertia_s[1] == kundur.machines.inertia_s[1]
    with pytest.raises(InputError, match="branch_id"):
        kundur.remove_branch("nope")
    with pytest.raises(InputError, match="already out of service"):
        g2.remove_branch("L7-8a")
    with pytest.raises(InputError, match="factor"):
        kundur.scale_inertia(-1)


def test_trip_machine_records_a_disturbance(kundur):
    g = kundur.trip_machine("G2")
    sys_ = g.to_system()
    assert sys_.labels == ("G1", "G3", "G4")
    ev = g.events[0]
    assert ev["machine"] == "G2" and ev["bus"] == "2" and ev["p_pu"] == pytest.approx(7.0)
    u = g.disturbance()
    assert u.shape == (3,)
    assert u.sum() == pytest.approx(-7.0)          # the Kron factors distribute all of it
    assert np.all(u < 0) and u[0] == u.min()       # G1 is electrically closest to G2
    u_full = g.disturbance(reduce=None)
    full = g.to_system(reduce=None)
    assert u_full[full.labels.index("bus:2")] == pytest.approx(-7.0)
    assert "trip_machine G2" in g.provenance["edits"]
    assert kundur.events == ()


def test_islands_are_reported(kundur):
    g = kundur.remove_branch("L7-8a").remove_branch("L7-8b")
    isl = g.islands()
    assert len(isl) == 2
    assert sorted(len(i.machines) for i in isl) == [2, 2]
    with pytest.raises(DisconnectedError, match="2 islands") as info:
        g.to_system()
    assert sorted(map(sorted, info.value.components)) == [["G1", "G2"], ["G3", "G4"]]
    s0 = g.to_system(island=0)
    s1 = g.to_system(island=1)
    assert {s0.labels, s1.labels} == {("G1", "G2"), ("G3", "G4")}
    with pytest.raises(InputError, match="island"):
        g.to_system(island=5)


def test_dead_island_listed(kundur):
    g = kundur.remove_branch("T1-5")
    isl = g.islands()
    assert len(isl) == 2
    assert isl[0].machines == ("G2", "G3", "G4")
    assert isl[1].machines == ("G1",) and isl[1].buses == ("1",)
    assert "island 1: 1 buses, 1 machines (G1)" == str(isl[1])


# -- power flow and the pandapower bridge ---------------------------------------------------

def test_inline_power_flow_matches_textbook_kundur(kundur):
    M = kundur.machines.set_index("id")
    assert M.loc["G3", "p_mw"] == pytest.approx(719.0, abs=15.0)      # Kundur: 719 MW
    assert M.loc["G1", "q_mvar"] == pytest.approx(185.0, abs=25.0)     # Kundur: 185 Mvar
    va = kundur.buses.set_index("id").va_deg
    # Kundur: G1 at 20.2 deg, G3 at -6.8 deg: difference 27.0 deg
    assert va["1"] - va["3"] == pytest.approx(27.0, abs=1.5)


def test_netcoh_power_flow_matches_pandapower(ieee39):
    solved = ieee39.solve_power_flow()
    assert np.allclose(solved.buses.vm_pu, ieee39.buses.vm_pu, atol=1e-6)
    assert np.allclose(solved.buses.va_deg, ieee39.buses.va_deg, atol=1e-5)
    p = solved.machines.set_index("id").p_mw
    assert p.sum() == pytest.approx(ieee39.machines.p_mw.sum(), rel=1e-6)


def test_load_pandapower_net_is_not_modified_and_warns():
    import pandapower.networks as pn
    net = pn.case9()
    with pytest.warns(SynthesizedDataWarning):
        g = grids.load(net, name="case9")
    assert net.res_bus.empty
    assert g.to_system().n == 3
    recs, _ = grids.synth.proportional_machines(net)
    recs[0]["inertia_s"] = 123.0
    g2 = grids.load(net, machines=recs, warn=False)
    assert g2.machines.inertia_s[0] == 123.0
    # the same records as a table: a field one record gives and another leaves out is NaN
    # there, and means absent (not a value)
    import pandas as pd

    recs[1]["inertia_h_s"] = 4.0
    del recs[1]["inertia_s"]
    g3 = grids.load(net, machines=pd.DataFrame(recs), warn=False)
    g4 = grids.load(net, machines=recs, warn=False)
    assert g3.machines.inertia_s.tolist() == g4.machines.inertia_s.tolist()


def test_pandapower_nets_with_switches_and_out_of_service_buses_give_a_model():
    """pandapower's auxiliary buses (an open line switch, three-winding transformers) take
    their solved operating point from pandapower's branch model, and buses it leaves out of
    the power flow (out of service, behind an open switch) are not part of the grid: these
    nets loaded without an operating point on those buses and no model could be built."""
    import copy

    import pandapower as pp
    import pandapower.networks as pn

    def case14_without_bus_13():
        net = pn.case14()
        net.bus.loc[13, "in_service"] = False
        net.line.loc[(net.line.from_bus == 13) | (net.line.to_bus == 13), "in_service"] = False
        net.load.loc[net.load.bus == 13, "in_service"] = False
        return net

    for make in (pn.example_simple, pn.example_multivoltage, case14_without_bus_13):
        net = make()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = grids.load(net, warn=False)
            solved = copy.deepcopy(net)
            pp.runpp(solved, numba=False)
        assert np.all(np.isfinite(g.buses.vm_pu)) and np.all(np.isfinite(g.buses.va_deg))
        served = solved.res_load.p_mw.sum() - solved.res_sgen.p_mw.sum()
        assert g.tables["loads"]["p_mw"].sum() == pytest.approx(served, rel=1e-9, abs=1e-9)
        assert g.machines.p_mw.sum() == pytest.approx(
            solved.res_gen.p_mw.sum() + solved.res_ext_grid.p_mw.sum(), rel=1e-9, abs=1e-9)
        res = nc.screen_contingencies(g, "machines", executor="serial", dt=0.05)
        assert len(res.evaluated) == len(res.table) > 0


def test_load_rejects_bad_sources(tmp_path):
    with pytest.raises(InputError, match="shipped case"):
        grids.load("no-such-case")
    with pytest.raises(nc.NetcohTypeError):
        grids.load(3.0)
    with pytest.raises(InputError, match="model"):
        load("kundur").to_system(model="exotic")


def test_grid_pickles_for_remote_workers():
    import pickle
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = nc.grids.load("kundur")
        back = pickle.loads(pickle.dumps(g.trip_machine(g.machines["id"].iloc[0])))
        ref = g.trip_machine(g.machines["id"].iloc[0])
    assert back.events == ref.events and back.provenance["edits"] == ref.provenance["edits"]
    np.testing.assert_array_equal(back.to_system().laplacian, ref.to_system().laplacian)


@pytest.mark.parametrize("case", ["kundur", "ieee39", "case145"])
def test_bus_network_reduces_to_the_system(case):
    """The public bus-level graph, Kron-reduced onto the machine nodes, is the system's L."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = nc.grids.load(case)
    net = g.bus_network("ac")
    assert isinstance(net, nc.grids.BusNetwork)
    L = net.laplacian().toarray()
    assert L.shape == (net.n_nodes, net.n_nodes)
    assert np.allclose(L.sum(axis=1), 0.0, atol=1e-9 * np.abs(L).max())
    assert len(net.branch_ids) == net.n_branches == int(g.tables["branches"]["in_service"].sum())
    assert net.from_node.size == net.n_branches + int(np.sum(net.machine_node >= net.n_buses))
    k = np.asarray(net.machine_node)
    e = np.setdiff1d(np.arange(net.n_nodes), k)
    red = L[np.ix_(k, k)] - L[np.ix_(k, e)] @ np.linalg.solve(L[np.ix_(e, e)], L[np.ix_(e, k)])
    sys = g.to_system(model="swing")
    assert sys.labels == net.machine_ids
    ref = np.asarray(sys.laplacian)
    assert np.allclose(2 * math.pi * g.f_hz * red, ref, atol=1e-8 * np.abs(ref).max())
    with pytest.raises(ValueError):
        net.weight[0] = 1.0
