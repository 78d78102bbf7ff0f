"""Validation against ANDES: netcoh's default model of detailed cases vs ANDES simulations.

Run: ``python benchmarks/validate_andes.py [--out DIR] [--cases ...] [--classical] [--settle]``
(needs the extra ``validate``). ANDES runs each case as shipped (GENROU machines with damper
windings, exciters, stabilisers, governors) with constant-power loads, ``criteria = 0`` and a
fixed step, 20 s after the event: a 1 % load step at the largest load on ieee14_full,
kundur_full and ieee39_full, and two unit trips of different size on ieee39_full.
netcoh predicts every machine's frequency with ``grid.to_system()`` (the ``"case"`` model:
each machine's governor, damper windings as damping of slips, the lossy AC network; the
event's input carries its actual losses from the post-event AC power flow,
``case_injection(..., losses="secant")``) and, for comparison, the first-order
``"swing_turbine"`` model, and the full linear model of the case
(:func:`netcoh.grids.andes_linear.linearize`: ANDES's own Jacobians at the operating point,
exciters, stabilisers and flux dynamics included, row ``"full"``; a trip is linearised at the
pre-trip state with the machine out of service), whose
eigenvalues are also compared with ANDES's eigenvalue routine. Prints the error tables (nadir per
machine and of the centre of inertia, RMS trajectory error), the wall time of ANDES's runs
and of netcoh's predictions in the same run, and writes overlay plots to ``--out``.

``--classical`` adds ANDES's classical variants (GENROU -> GENCLS, no exciters/stabilisers).
``--settle`` surveys every shipped ANDES case netcoh reads: does ANDES's 20 s load-step run
settle, and is netcoh's model stable (slow: minutes per large case). ``--gb`` times the
model build of the 2,224-bus GBnetwork case. ``--full-scale`` times the full linear model
on npcc, wecc_full and GBnetwork (and a worst-case nadir on it where it is stable).
``--npcc-long`` checks npcc's one growing linear mode against two 120 s ANDES runs.
``--eigen-free`` times the nadir search of a nearly defective model against baselines.
``--structure`` asks whether the ``"case"`` model's remaining error is nodal (what a common
speed change meets) or in the coupling, by swapping either part for the full model's.

Targets: load steps: COI nadir within 3 %, every machine's nadir within 8 %, trajectories
within 10 % RMS; trips: COI nadir within 5 %, worst remaining machine within 8 %.
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

CASES = {"ieee14/ieee14_full.xlsx": 1 / 120, "kundur/kundur_full.xlsx": 1 / 120,
         "ieee39/ieee39_full.xlsx": 1 / 100}
TRIPS = ("GENROU_8", "GENROU_3")          # 322 MW and 725 MW of ieee39_full


def _settle_survey():
    import andes

    from netcoh.exceptions import NetcohError
    from netcoh.grids.andes import from_andes
    from netcoh.validate import default_load_step, simulate_andes

    root = Path(andes.get_case("ieee14/ieee14_full.xlsx")).parents[1]
    rows = []
    for f in sorted(glob.glob(str(root / "*" / "*.xlsx")) + glob.glob(str(root / "*" / "*.json"))):
        case = os.path.relpath(f, root)
        row = {"case": case}
        try:
            grid = from_andes(f)
            A = grid.to_system().realization().A.toarray()
            row["netcoh_max_real"] = float(np.linalg.eigvals(A).real.max())
            _, t, w, _ = simulate_andes(f, default_load_step(grid), t_end_s=20.0,
                                        t_step_s=1 / 100)
            peak = np.abs(w).max()
            tail = np.abs(w[t >= 15.0] - w[-1]).max() / peak
            row.update(andes_peak_pu=peak, andes_tail_var=tail,
                       andes_settles=bool(np.isfinite(w).all() and tail < 0.1))
        except (NetcohError, ValueError, RuntimeError) as exc:
            row["note"] = f"{type(exc).__name__}: {str(exc)[:90]}"
        rows.append(row)
        print(row, flush=True)
    df = pd.DataFrame(rows)
    print("\n== Shipped ANDES cases: does ANDES settle, is netcoh's model stable ==")
    print(df.to_string(index=False))


def _gb_build():
    from netcoh.grids.andes import from_andes

    tic = time.perf_counter()
    grid = from_andes("GBnetwork/GBnetwork.xlsx")
    t_load = time.perf_counter() - tic
    tic = time.perf_counter()
    system = grid.to_system()
    t_model = time.perf_counter() - tic
    print(f"GBnetwork ({len(grid.buses)} buses, {system.n} machines): from_andes "
          f"{t_load:.1f} s (ANDES's loader and power flow included), to_system() "
          f"{t_model:.1f} s (lossy AC linearisation, signed={system.signed})")


def _full_prediction(case, res):
    """The full linear model's response to ``res``'s event, as ``res.predictions["full"]``: a
    load step at the bus, or a trip linearised at the pre-trip state (its ``"trip"`` input)."""
    import dataclasses

    from netcoh import step_response
    from netcoh.grids.andes_linear import linearize

    tic = time.perf_counter()
    lin = linearize(case, output="pu", trips=res.trips)
    u = {str(b): -p / lin.base_mva for b, p in res.load_steps_mw.items()}
    if res.trips:
        u["trip"] = 1.0
    y = step_response(lin, u, res.t).outputs
    order = [list(lin.output_labels).index(str(m)) for m in res.labels]
    preds = dict(res.predictions)
    preds["full"] = y[:, order]
    settings = dict(res.settings)
    settings["full_s"] = time.perf_counter() - tic
    settings["full_states"] = lin.nstates
    return dataclasses.replace(res, predictions=preds, settings=settings)


def _eigen_check(case):
    """netcoh's full linear model's eigenvalues against ANDES's eigenvalue routine ``EIG``:
    how many of netcoh's have an ANDES eigenvalue within 1e-6, the largest such distance,
    and the largest real parts (ANDES keeps the angle-reference zero, netcoh removes it)."""
    import scipy.linalg as la

    from netcoh.grids.andes_linear import linearize
    from netcoh.validate import andes_variant

    mu = la.eigvals(linearize(case).A)
    ss = andes_variant(case, classical=False)
    ss.PFlow.run()
    ss.EIG.run()
    ref = np.asarray(ss.EIG.mu, dtype=complex).ravel()
    dist = np.abs(mu[:, None] - ref[None, :]).min(axis=1)
    return {"case": case.split("/")[0], "netcoh_states": mu.size, "andes_states": ref.size,
            "netcoh_in_andes_1e-6": int((dist < 1e-6).sum()), "max_distance": dist.max(),
            "netcoh_max_real": mu.real.max(), "andes_max_real": ref.real.max(),
            "andes_positive": int((ref.real > 1e-6).sum())}


def _full_scale():
    """Size and time of the full linear model on larger shipped cases, and of a worst-case
    nadir (2-norm ball of 1 p.u. over every bus, ``horizon=None``) on it when it is stable:
    the modal search, or the eigen-free one (``method == "timedomain"``) when the state matrix
    is nearly defective (wecc_full). The worst disturbance's step response is sampled as a
    check (its largest sample on the grid cannot exceed the certified value)."""
    import scipy.linalg as la

    from netcoh import step_response, worst_case_nadir
    from netcoh.exceptions import SolverError
    from netcoh.grids.andes_linear import linearize

    rows = []
    for case in ("npcc/npcc.xlsx", "wecc/wecc_full.xlsx", "GBnetwork/GBnetwork.xlsx"):
        tic = time.perf_counter()
        lin = linearize(case)
        row = {"case": case.split("/")[0], "states": lin.nstates, "buses": lin.ninputs,
               "machines": lin.noutputs, "linearize_s": time.perf_counter() - tic}
        if lin.nstates <= 2000:            # the eigenvector condition of the modal form
            mu, W = la.eig(lin.A)
            row["eigvec_cond"] = np.linalg.cond(W)
        else:
            mu = la.eigvals(lin.A)
        row["max_real"] = mu.real.max()
        if row["max_real"] < 0:
            tic = time.perf_counter()
            try:
                res = worst_case_nadir(lin, rho=1.0)
            except SolverError as exc:
                row["nadir_note"] = str(exc)[:60]
            else:
                row.update(nadir_s=time.perf_counter() - tic, method=res.method,
                           worst_hz=res.value_hz, upper_hz=res.upper_bound * res.hz_per_unit,
                           machine=res.bus, at_s=res.time, searched_s=res.horizon,
                           certified=res.certified)
                # a uniform grid (the search's own grid has a geometric tail, which costs the
                # dense step response one exponential per sample)
                t = np.arange(0.0, min(res.horizon, 60.0) + 1e-9, 0.01)
                tic = time.perf_counter()
                y = step_response(lin, res.disturbance, t).outputs
                row.update(step_s=time.perf_counter() - tic,
                           step_max_over_value=np.abs(y).max() / res.value)
        rows.append(row)
        print(row, flush=True)
    print("\n== The full linear model of larger cases (linearize includes ANDES's load, power "
          "flow and initialisation) ==")
    print(pd.DataFrame(rows).round(4).to_string(index=False))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def _eigen_free(horizon_s=5.0):
    """The eigen-free nadir of the full linear model (2-norm ball of 1 p.u., a window of
    ``horizon_s``) against baselines measured in the same run: on kundur_full the modal
    search (which it must equal), on wecc_full (no modal form) the same search driven by the
    Taylor-step propagator of the sparse time-domain search instead of exact steps."""
    from netcoh import worst_case_nadir
    from netcoh.analysis import lti_timedomain as ltd
    from netcoh.analysis.lti import as_lti
    from netcoh.analysis.nadir_search import time_grid
    from netcoh.analysis.nadir_sets import NormBall
    from netcoh.analysis.nadir_timedomain import timedomain_search
    from netcoh.grids.andes_linear import linearize

    print(f"load {os.getloadavg()[0]:.2f}")
    for case in ("kundur/kundur_full.xlsx", "wecc/wecc_full.xlsx"):
        lin = linearize(case)
        tic = time.perf_counter()
        free = worst_case_nadir(lin, rho=1.0, horizon=horizon_s, method="timedomain")
        t_free = time.perf_counter() - tic
        if case.startswith("kundur"):
            tic = time.perf_counter()
            base = worst_case_nadir(lin, rho=1.0, horizon=horizon_s)
            t_base = time.perf_counter() - tic
            name, v_base = "modal", base.value_hz
        else:
            model = as_lti(lin)
            dset = NormBall(1.0, 2)
            tic = time.perf_counter()
            rows = ltd._DenseRows(ltd._Realised(model), value=dset.value, unit_sup=1.0,
                                  colvalue=lambda X: np.sqrt(np.einsum("ij,ij->j", X, X)))
            out = timedomain_search(rows, model.n, time_grid(0.01, horizon_s, False), 1e-6, 4)
            t_base = time.perf_counter() - tic
            name, v_base = "Taylor steps", out[2]
        print(f"{case.split('/')[0]}: eigen-free {free.value_hz:.10g} Hz at {free.bus}, "
              f"{free.time:.4f} s, certified {free.certified}, {t_free:.1f} s; {name} "
              f"{v_base:.10g} Hz, {t_base:.1f} s; ratio {t_base / t_free:.2f}", flush=True)
    print(f"load {os.getloadavg()[0]:.2f}")


def _npcc_long(t_end_s=120.0):
    """npcc's full linear model has one growing mode (+0.0112 /s, ANDES's EIG agrees); does
    ANDES's own simulation grow? Two 120 s runs (constant-power loads, criteria off, 0.01 s):
    the 1 % load step at the largest load, and a +0.001 p.u. step of the voltage reference
    of the two exciters the mode sits on (IEEEX1_3, IEEEX1_4), which excites it directly.
    Prints the mode's participation, how much the load step excites it in the linear model,
    and the runs' deviations from their final values, window by window."""
    import scipy.linalg as la

    from netcoh.grids.andes import from_andes
    from netcoh.grids.andes_linear import linearize
    from netcoh.validate import andes_variant, default_load_step, simulate_andes

    case = "npcc/npcc.xlsx"
    lin = linearize(case, output="pu")
    mu, Vl, Wr = la.eig(lin.A, left=True, right=True)
    k = int(np.argmax(mu.real))
    part = np.abs(Wr[:, k] * Vl[:, k].conj())
    part /= part.sum()
    top = np.argsort(-part)[:4]
    print(f"npcc full linear model: {lin.nstates} states, largest eigenvalue {mu[k]:.6g}; "
          "participation " + ", ".join(f"{lin.state_labels[i]} {part[i]:.2f}" for i in top))
    step = default_load_step(from_andes(case))
    u = np.zeros(lin.ninputs)
    for b, p in step.items():
        u[lin.input_labels.index(str(b))] = -p / lin.base_mva
    z = (Vl[:, k].conj() @ (lin.B @ u)) / (Vl[:, k].conj() @ Wr[:, k])
    print(f"load step {step} MW: the mode's amplitude {abs(z):.3g}, its largest speed "
          f"{np.abs(lin.C @ Wr[:, k]).max():.3g} p.u. per unit amplitude")
    tic = time.perf_counter()
    _, t, w, _ = simulate_andes(case, step, t_end_s=t_end_s, t_step_s=0.01)
    print(f"ANDES load step, {t_end_s:g} s: {time.perf_counter() - tic:.0f} s wall")
    for a in range(0, int(t_end_s), 20):
        m = (t >= a) & (t < a + 20)
        print(f"  {a:4d}-{a + 20:4d} s  max |w - w(end)| {np.abs(w[m] - w[-1]).max():.3e} p.u.")
    ss = andes_variant(case, classical=False)
    tds = ss.TDS.config
    tds.criteria, tds.tstep, tds.no_tqdm, tds.fixt = 0, 0.01, 1, 1
    ss.PFlow.run()
    tds.tf = 1.0
    ss.TDS.run()
    exc = ss.IEEEX1
    ks = [list(exc.idx.v).index(i) for i in ("IEEEX1_3", "IEEEX1_4")]
    for j in ks:
        exc.vref0.v[j] += 1e-3
    tds.tf = 1.0 + t_end_s
    ss.TDS.run()
    ts = np.asarray(ss.dae.ts.t)
    vp = np.asarray(ss.dae.ts.x)[:, exc.vp.a[ks]]
    print(f"ANDES +0.001 p.u. exciter reference step, {t_end_s:g} s: exciter voltage vp")
    for a in range(0, int(t_end_s), 20):
        m = (ts >= 1.0 + a) & (ts < 1.0 + a + 20)
        print(f"  {a:4d}-{a + 20:4d} s  max |vp - vp(end)| {np.abs(vp[m] - vp[-1]).max():.3e} "
              f"(change from before the step {np.abs(vp[-1] - vp[0]).max():.3e})")


def _structure(cases) -> None:
    """Is the 'case' model's error nodal or in the coupling? With ``H(jw)`` the full model
    from the machines' bus injections to their speeds and ``T(jw)`` the 'case' model's
    transfer matrix on the same inputs, write each inverse as its row sums (the nodal part,
    ``diag(X 1)``: what a uniform speed change meets) plus the rest (the coupling, rows summing
    to zero). Swap one part of ``T^-1`` for the exact one and print ``||X - H|| / ||H||``."""
    from netcoh import transfer_matrix
    from netcoh.grids.andes import from_andes
    from netcoh.grids.andes_linear import linearize

    for case in cases:
        grid = from_andes(case)
        sysm = grid.to_system()
        lin = linearize(case, output="pu")
        M = grid.tables["machines"]
        buses = [str(b) for b in M["bus"][M["in_service"]]]
        idx = [list(lin.input_labels).index(b) for b in buses]
        A, B, C = lin.A, lin.B[:, idx], lin.C
        U = np.column_stack([grid.injection_vector({b: 1.0}) for b in buses])
        one = np.ones(len(buses))
        print(f"\n{case}: relative 2-norm error against the full model")
        print("  w rad/s   'case'   + exact nodal part   + exact coupling part")
        for w in (0.2, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0):
            H = C @ np.linalg.solve(1j * w * np.eye(A.shape[0]) - A, B)
            T = transfer_matrix(sysm, [w])[0] @ U
            Hi, Ti = np.linalg.inv(H), np.linalg.inv(T)
            Tn = np.linalg.inv(Ti - np.diag(Ti @ one) + np.diag(Hi @ one))
            Tc = np.linalg.inv(Hi - np.diag(Hi @ one) + np.diag(Ti @ one))
            err = [np.linalg.norm(X - H, 2) / np.linalg.norm(H, 2) for X in (T, Tn, Tc)]
            print(f"  {w:6.1f}   {err[0]:7.3f}   {err[1]:18.3f}   {err[2]:21.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="netcoh-out/validate_andes")
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    ap.add_argument("--classical", action="store_true", help="also the GENCLS variants")
    ap.add_argument("--no-trips", action="store_true", help="skip the ieee39 unit trips")
    ap.add_argument("--settle", action="store_true", help="survey every shipped case")
    ap.add_argument("--gb", action="store_true", help="time the GBnetwork model build only")
    ap.add_argument("--full-scale", action="store_true",
                    help="size and time of the full linear model on larger cases only")
    ap.add_argument("--eigen-free", action="store_true",
                    help="the eigen-free nadir of the full linear model against baselines only")
    ap.add_argument("--npcc-long", action="store_true",
                    help="npcc's growing linear mode against two 120 s ANDES runs only")
    ap.add_argument("--structure", action="store_true",
                    help="whether the 'case' model's error is nodal or coupling, only")
    ap.add_argument("--fraction", type=float, default=0.01)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from netcoh.validate import validate

    if args.settle:
        _settle_survey()
        return
    if args.gb:
        _gb_build()
        return
    if args.full_scale:
        _full_scale()
        return
    if args.npcc_long:
        _npcc_long()
        return
    if args.eigen_free:
        _eigen_free()
        return
    if args.structure:
        _structure(args.cases)
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pd.set_option("display.width", 220)
    pd.set_option("display.max_columns", 30)
    runs = [(c, {}, False) for c in args.cases]
    if args.classical:
        runs += [(c, {}, True) for c in args.cases]
    if not args.no_trips:
        runs += [("ieee39/ieee39_full.xlsx", {"trips": [u]}, False) for u in TRIPS]
    summaries, machines, timing = [], [], []
    t_start = time.perf_counter()
    for case, kw, classical in runs:
        res = validate(case, fraction=args.fraction, classical=classical, t_end_s=20.0,
                       t_step_s=CASES.get(case, 1 / 100), models=("case", "swing_turbine"),
                       **kw)
        if not classical:
            res = _full_prediction(case, res)
        short = case.split("/")[0]
        tag = f"{short}_{'gencls' if classical else 'detailed'}" + \
            "".join(f"_trip_{u}" for u in kw.get("trips", []))
        res.plot(out / f"{tag}.png")
        summaries.append(res.summary())
        df = res.to_frame()
        df.insert(0, "event", res.event)
        df.insert(0, "case", short)
        machines.append(df[df.model == "case"])
        timing.append({"case": short, "event": res.event, "andes_tds_s": res.settings["wall_s"],
                       "andes_h_s": res.settings["t_step_s"],
                       "netcoh_2_models_s": res.settings["netcoh_s"],
                       "full_linearise_and_step_s": res.settings.get("full_s", np.nan),
                       "ratio": res.settings["wall_s"] / res.settings["netcoh_s"]})
    summ = pd.concat(summaries, ignore_index=True)
    summ["case"] = summ["case"].str.split("/").str[0]
    print("\n== Worst machine and COI errors (relative) per case, event and netcoh model ==")
    cols = ["case", "machines", "event", "model", "max_nadir_err", "max_traj_rms_err",
            "coi_nadir_err", "coi_rocof_err", "coi_traj_rms_err", "max_traj_err"]
    print(summ[cols].round(3).to_string(index=False))
    print("\n== Per machine, netcoh 'case' model (the default of grid.to_system()) ==")
    cols = ["case", "event", "node", "nadir_hz_andes", "nadir_hz_netcoh", "nadir_err",
            "t_nadir_s_andes", "t_nadir_s_netcoh", "traj_rms_err"]
    print(pd.concat(machines)[cols].round(4).to_string(index=False))
    full = summ[summ.model.isin(["case", "full"]) & (summ.machines == "detailed")]
    print("\n== The 'case' NetworkSystem vs the full linear model (exciters, PSS) ==")
    cols = ["case", "event", "model", "max_nadir_err", "coi_nadir_err", "max_traj_rms_err",
            "coi_traj_rms_err", "max_t_nadir_diff_s"]
    print(full[cols].round(4).to_string(index=False))
    print("\n== Eigenvalues of the full linear model vs ANDES's EIG routine ==")
    print(pd.DataFrame([_eigen_check(c) for c in args.cases]).to_string(index=False))
    print("\n== Timing (same run, shared machine): ANDES time-domain runs vs netcoh ==")
    print(pd.DataFrame(timing).round(3).to_string(index=False))
    case_rows = summ[(summ.model == "case") & (summ.machines == "detailed")]
    steps = case_rows[~case_rows.event.str.startswith("trip")]
    trips = case_rows[case_rows.event.str.startswith("trip")]
    ok_steps = bool(((steps.coi_nadir_err < 0.03) & (steps.max_nadir_err < 0.08)
                     & (steps.max_traj_rms_err < 0.10) & (steps.coi_traj_rms_err < 0.10)).all())
    ok_trips = bool(((trips.coi_nadir_err < 0.05) & (trips.max_nadir_err < 0.08)).all())
    print(f"\nload steps (COI nadir < 3 %, machines < 8 %, RMS < 10 %): "
          f"{'PASS' if ok_steps else 'FAIL'}")
    if len(trips):
        print(f"unit trips (COI nadir < 5 %, machines < 8 %): {'PASS' if ok_trips else 'FAIL'}")
    print(f"total {time.perf_counter() - t_start:.1f} s; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; plots in {out}/")


if __name__ == "__main__":
    main()
