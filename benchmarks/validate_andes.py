"""Validation against ANDES (issue 8): 1 % load steps on ieee39, kundur, ieee14.

Run: ``.venv/bin/python benchmarks/validate_andes.py [--out DIR] [--cases ...] [--quick]``
(needs the extra ``validate``). For each case, ANDES runs the classical variant (GENROU ->
GENCLS, no exciters/stabilisers) and the case as shipped (GENROU + exciters + PSS), with
constant-power loads, ``criteria = 0`` and a 1/120 s fixed step; netcoh predicts every machine's
frequency with three nodal models (swing, swing + first-order turbine fit, full lead-lag
governor) on two network linearisations (``ac``: full AC Jacobian with losses and voltage
magnitudes eliminated; ``lossless``: ``Grid.to_system``). Prints the error tables, the wall
time of ANDES's time-domain runs and of netcoh's predictions in the same run (ratio) and the
peak memory, and writes overlay plots (PNG) to ``--out`` (default ``netcoh-out/validate_andes``).

Acceptance (issue 8): classical variants, governor model: every machine's nadir within 5 % and
its trajectory within 5 % of its peak deviation over the first 10 s.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings
from pathlib import Path

import pandas as pd

CASES = ("ieee39/ieee39_full.xlsx", "kundur/kundur_full.xlsx", "ieee14/ieee14_full.xlsx")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="netcoh-out/validate_andes")
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    ap.add_argument("--quick", action="store_true", help="classical variants only")
    ap.add_argument("--fraction", type=float, default=0.01)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from netcoh.validate import validate

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 30)
    summaries, machines, timing = [], [], []
    t_start = time.perf_counter()
    for case in args.cases:
        for classical in ((True,) if args.quick else (True, False)):
            res = validate(case, fraction=args.fraction, classical=classical)
            tag = f"{case.split('/')[0]}_{'gencls' if classical else 'detailed'}"
            res.plot(out / f"{tag}.png")
            res.plot(out / f"{tag}_all_models.png", models=list(res.predictions))
            summaries.append(res.summary())
            df = res.to_frame()
            df.insert(0, "variant", "GENCLS" if classical else "detailed")
            df.insert(0, "case", case.split("/")[0])
            machines.append(df[df.model == "governor/ac"])
            timing.append({"case": case.split("/")[0], "variant": tag.split("_")[1],
                           "step_mw": sum(res.load_steps_mw.values()),
                           "step_bus": ",".join(res.load_steps_mw),
                           "andes_tds_s": res.settings["wall_s"],
                           "andes_h_s": res.settings["t_step_s"],
                           "netcoh_6_models_s": res.settings["netcoh_s"],
                           "ratio": res.settings["wall_s"] / res.settings["netcoh_s"],
                           "K_asymmetry": res.settings["asymmetry_K"]})
    summ = pd.concat(summaries, ignore_index=True)
    summ["case"] = summ["case"].str.split("/").str[0]
    print("\n== Summary: worst machine and COI errors (relative) per case, variant and netcoh model ==")
    print(summ.round(3).to_string(index=False))
    print("\n== Per machine, netcoh governor/ac (lead-lag governor, full AC network) ==")
    cols = ["case", "variant", "node", "nadir_hz_andes", "nadir_hz_netcoh", "nadir_err",
            "t_nadir_s_andes", "t_nadir_s_netcoh", "rocof_hz_s_andes", "rocof_hz_s_netcoh",
            "traj_err"]
    print(pd.concat(machines)[cols].round(4).to_string(index=False))
    print("\n== Timing (same run): ANDES time-domain runs vs netcoh's exact linear predictions ==")
    print(pd.DataFrame(timing).round(3).to_string(index=False))
    ok = summ[(summ.machines == "GENCLS") & (summ.model == "governor/ac")]
    passed = bool(((ok.max_nadir_err < 0.05) & (ok.max_traj_err < 0.05)).all())
    print(f"\nacceptance (GENCLS, governor/ac: machine nadir and trajectory within 5 %): "
          f"{'PASS' if passed else 'FAIL'}")
    print(f"total {time.perf_counter() - t_start:.1f} s; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; plots in {out}/")


if __name__ == "__main__":
    main()
