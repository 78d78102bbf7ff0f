"""ANDES reader and the load-step validation (extra 'validate'; deselect with -m 'not andes').

A couple of short time-domain runs only (kundur and ieee14, classical machines, 10 s after a
1 % load step); the full three-case study with detailed machines is benchmarks/validate_andes.py.
"""

from __future__ import annotations

import andes  # noqa: F401  (installed by the README's test command: a missing ANDES fails)
import numpy as np
import pytest

import netcoh as nc
from netcoh.grids.andes import from_andes, governor_nodal, load_andes, to_system  # noqa: E402
from netcoh.validate import validate  # noqa: E402

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
    sysm = to_system(kundur, "governor")
    assert sysm.labels == ("1", "2", "3", "4") and sysm.n == 4


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
    with pytest.raises(nc.CaseFileError, match="does not map: GAST"):
        from_andes("ieee14/ieee14_gast.xlsx")
    with pytest.raises(nc.CaseFileError, match="does not map: PVD1"):
        from_andes("ieee14/ieee14_pvd1.xlsx")
    with pytest.raises(nc.CaseFileError, match="cross-compound"):
        from_andes("kundur/kundur_ieeeg1.xlsx")


@pytest.mark.parametrize("case", ["kundur/kundur_full.xlsx", "ieee14/ieee14_full.xlsx"])
def test_classical_load_step_agreement(case):
    """Issue 8: classical machines, 1 % load step: every machine's nadir within 5 % and its
    trajectory within 5 % of its peak deviation over 10 s (netcoh's lead-lag governor model on
    the full AC linearisation)."""
    res = validate(case, classical=True, models=("governor", "swing_turbine"),
                   networks=("ac",), t_end_s=10.0)
    df = res.to_frame()
    gov = df[df.model == "governor/ac"]
    mach = gov[gov.node != "COI"]
    assert len(mach) == len(res.labels) >= 4
    assert mach.nadir_err.max() < 0.05, mach
    assert mach.traj_err.max() < 0.05, mach
    coi = gov[gov.node == "COI"].iloc[0]
    assert coi.nadir_err < 0.05 and coi.rocof_err < 0.05 and coi.traj_err < 0.05
    assert (mach.nadir_hz_andes < 0).all()
    # the first-order turbine fit of the lead-lag governor is clearly worse
    fit = df[(df.model == "swing_turbine/ac") & (df.node != "COI")]
    assert fit.nadir_err.max() > 0.1
    # physical sanity: the load step is ~1 % of the total load
    assert res.settings["pq_config"]["p2p"] == 1.0 and res.settings["criteria"] == 0
