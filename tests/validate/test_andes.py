"""ANDES reader and the load-step validation (extra 'validate'; deselect with -m 'not andes').

A couple of short time-domain runs only (kundur and ieee14, classical machines, 10 s after a
1 % load step); the full three-case study with detailed machines is benchmarks/validate_andes.py.
"""

from __future__ import annotations

import andes  # noqa: F401  (installed by the README's test command: a missing ANDES fails)
import numpy as np
import pytest

import netcoh as nc
from netcoh.grids.andes import from_andes, governor_nodal, load_andes, to_system
from netcoh.grids.case_model import ac_network
from netcoh.grids.grid import default_model
from netcoh.validate import build_system, validate

pytestmark = pytest.mark.andes


@pytest.fixture(scope="module")
def kundur():
    return from_andes("kundur/kundur_full.xlsx")


def test_kundur_machine_data_on_system_base(kundur):
    """M = 2H and D, R, x'_d converted from the machine base by hand equal ANDES's own
    system-base values."""
    ss = load_andes("kundur/kundur_full.xlsx")
    M = kundur.machines
    np.testing.assert_allclose(M.inertia_s, ss.GENROU.M.v, rtol=1e-12)
    np.testing.assert_allclose(M.inertia_s, [117.0, 117.0, 111.15, 111.15], rtol=1e-12)
    np.testing.assert_allclose(M.damping_pu, ss.GENROU.D.v, rtol=1e-12, atol=0)
    np.testing.assert_allclose(M.droop_gain_pu, 1.0 / ss.TGOV1.R.v, rtol=1e-12)
    np.testing.assert_allclose(M.transient_reactance_pu, ss.GENROU.xd1.v, rtol=1e-12)
    np.testing.assert_allclose(M.turbine_tau_s, 0.49 + 7.0 - 2.1, rtol=1e-12)
    assert kundur.n_machines == 4 and len(kundur.loads) == 2
    info = kundur.provenance["andes"]
    assert info["approximated"] == ["EXDC2"] and "Toggle" in info["ignored"]
    np.testing.assert_allclose(kundur.loads.p_mw.sum(), 100 * (11.59 + 15.75), rtol=1e-12)


def test_governor_kept_as_lead_lag(kundur):
    nd = governor_nodal(kundur)
    assert nd.orders.tolist() == [3, 3, 3, 3]
    m, gain = 117.0, 180.0
    s = np.array([0.3j, 2.0j, 0.05 + 1j])
    g_ref = 1.0 / (m * s + gain * (1 + 2.1 * s) / ((1 + 0.49 * s) * (1 + 7.0 * s)))
    np.testing.assert_allclose(nd(s)[:, 0], g_ref, rtol=1e-12)
    sysm = kundur.to_system()                      # default for a case with dynamics: "case"
    assert sysm.labels == ("1", "2", "3", "4") and sysm.n == 4
    np.testing.assert_allclose(sysm.nodal(s), nd(s), rtol=1e-12)


def test_case_model_is_the_default_and_the_old_routes_agree(kundur):
    assert default_model(kundur) == "case"
    a = kundur.to_system()
    np.testing.assert_allclose(a.laplacian, ac_network(kundur).laplacian, rtol=1e-12)
    with pytest.warns(DeprecationWarning):
        b = to_system(kundur, "governor")
    with pytest.warns(DeprecationWarning):
        c = build_system(kundur, "governor", "ac")
    for other in (b, c):
        np.testing.assert_allclose(other.laplacian, a.laplacian, rtol=1e-12)
        np.testing.assert_allclose(other.nodal.den, a.nodal.den, rtol=1e-12)
    # the inputs of a load step carry the marginal losses of the lossy network
    u = kundur.injection_vector({"7": -1.0})
    net = ac_network(kundur)
    np.testing.assert_allclose(u, net.injection[:, net.buses.index("7")], rtol=1e-12)
    assert u.sum() < -1.0
    with pytest.raises(nc.InputError, match="reduce='kron'"):
        kundur.to_system(model="case", reduce=None)


def test_ieesgo_governor_mapped():
    """IEESGO: K1 (1 + s T2)/((1 + s T1)(1 + s T3)) times the steam path, checked against
    the block diagram of ANDES's model written out by hand."""
    grid = from_andes("ieee14/ieee14_ieesgo.xlsx")
    ss = load_andes("ieee14/ieee14_ieesgo.xlsx")
    govs = [g for g in grid.provenance["andes"]["governors"] if g["model"] == "IEESGO"]
    assert len(govs) == ss.IEESGO.n >= 1
    r = ss.IEESGO.as_df(vin=True).iloc[0]
    gv = next(g for g in govs if g["id"] == str(r["idx"]))
    s = np.array([0.0, 0.2j, 3.0j])
    f3 = 1 / (1 + s * r.T4)
    f4 = r.K2 * f3 / (1 + s * r.T5)
    f5 = r.K3 * f4 / (1 + s * r.T6)
    ref = (1 + s * r.T2) / ((1 + s * r.T1) * (1 + s * r.T3)) * \
        ((1 - r.K2) * f3 + (1 - r.K3) * f4 + f5)
    got = np.polyval(gv["num"], s) / np.polyval(gv["den"], s)
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert gv["gain_pu"] == pytest.approx(float(r.K1))
    assert grid.to_system().n == grid.n_machines


def test_signed_lossy_coupling_is_accepted():
    """EI_33's lossy AC coupling has positive off-diagonal entries but is positive
    semidefinite: the case model is a signed system, not an InputError."""
    grid = from_andes("ei/EI_33.xlsx")
    sysm = grid.to_system()
    L = np.asarray(sysm.laplacian)
    off = L - np.diag(np.diag(L))
    assert sysm.signed and off.max() > 0
    assert np.linalg.eigvalsh(L)[0] > -1e-9 * np.abs(L).max()


def test_psse_raw_dyr_import():
    grid = from_andes(("kundur/kundur.raw", "kundur/kundur_full.dyr"))
    ref = from_andes("kundur/kundur_full.xlsx")
    assert grid.n_machines == ref.n_machines == 4
    np.testing.assert_allclose(np.sort(grid.machines.inertia_s), np.sort(ref.machines.inertia_s),
                               rtol=1e-9)
    assert grid.to_system().n == 4
    with pytest.raises(nc.CaseFileError, match="none.dyr: not a file"):
        from_andes(("kundur/kundur.raw", "nonexistent/none.dyr"))


def test_governor_at_valve_limit():
    grid = from_andes("ieee14/ieee14_full.xlsx")
    lim = {g["machine"]: g["at_limit"] for g in grid.provenance["andes"]["governors"]}
    assert lim["GENROU_4"] == "lower" and sum(v is not None for v in lim.values()) == 1
    hi = governor_nodal(grid, at_limit="lower")
    assert hi.orders.tolist() == [3, 3, 3, 1, 3]          # dropped for over-frequency events
    assert governor_nodal(grid).orders.tolist() == [3, 3, 3, 3, 3]


def test_unloadable_case_raises(tmp_path):
    with pytest.raises(nc.CaseFileError, match="not an ANDES shipped case"):
        from_andes("nonexistent/none.xlsx")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"this is not a spreadsheet")
    with pytest.raises(nc.CaseFileError, match="bad.xlsx"):
        from_andes(bad)


def test_unmapped_models_are_listed():
    with pytest.raises(nc.CaseFileError, match=r"ieee14_gast.xlsx: .*does not map: GAST \(gas"):
        from_andes("ieee14/ieee14_gast.xlsx")
    with pytest.raises(nc.CaseFileError, match=r"ieee14_hygov.xlsx: .*HYGOV \(hydro"):
        from_andes("ieee14/ieee14_hygov.xlsx")
    with pytest.raises(nc.CaseFileError, match=r"pjm5bus.xlsx: .*TG2 1 has a speed deadband"):
        from_andes("5bus/pjm5bus.xlsx")
    with pytest.raises(nc.CaseFileError, match="does not map: PVD1"):
        from_andes("ieee14/ieee14_pvd1.xlsx")
    with pytest.raises(nc.CaseFileError, match="cross-compound"):
        from_andes("kundur/kundur_ieeeg1.xlsx")


@pytest.mark.parametrize("case", ["kundur/kundur_full.xlsx", "ieee14/ieee14_full.xlsx"])
def test_classical_load_step_agreement(case):
    """Classical machines, 1 % load step: every machine's nadir within 5 % and its
    trajectory within 5 % of its peak deviation over 10 s (netcoh's lead-lag governor model on
    the full AC linearisation)."""
    res = validate(case, classical=True, models=("case", "swing_turbine"), t_end_s=10.0)
    df = res.to_frame()
    gov = df[df.model == "case"]
    mach = gov[gov.node != "COI"]
    assert len(mach) == len(res.labels) >= 4
    assert mach.nadir_err.max() < 0.05, mach
    assert mach.traj_err.max() < 0.05, mach
    coi = gov[gov.node == "COI"].iloc[0]
    assert coi.nadir_err < 0.05 and coi.rocof_err < 0.05 and coi.traj_err < 0.05
    assert (mach.nadir_hz_andes < 0).all()
    # the first-order turbine fit of the lead-lag governor is clearly worse
    fit = df[(df.model == "swing_turbine") & (df.node != "COI")]
    assert fit.nadir_err.max() > 0.1
    # physical sanity: the load step is ~1 % of the total load
    assert res.settings["pq_config"]["p2p"] == 1.0 and res.settings["criteria"] == 0
