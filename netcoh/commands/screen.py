"""``netcoh screen [CASE]``: worst-case frequency nadir of every N-1 contingency."""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import warnings
from pathlib import Path

import numpy as np

__all__ = ["register", "run"]


def _norm(text: str):
    t = text.strip().lower()
    if t in ("2", "l2"):
        return 2
    if t in ("1", "l1"):
        return 1
    if t in ("inf", "infinity", "max"):
        return np.inf
    raise argparse.ArgumentTypeError(f"--norm must be 2, 1 or inf, got {text!r}")


def _threshold(text: str):
    try:
        return float(text)
    except ValueError:
        return text.strip()


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "screen", help="frequency security of every N-1 contingency of a grid",
        description="For every branch outage and unit trip, rebuild the network model and "
                    "compute the worst local nadir, the centre-of-inertia nadir, RoCoF and "
                    "quasi-steady-state deviation under the disturbance the contingency brings: "
                    "a unit trip loses its dispatch, a split leaves each island its imbalance, "
                    "an outage that keeps the grid whole faces the reference incident "
                    "(--incident budget: any loss of generation up to --incident-mw in total; "
                    "--incident single: the loss of any one unit, at most --incident-mw). "
                    "CASE is a shipped case (ieee39, kundur, case145, gb) or a netcoh-grid "
                    "JSON file; default ieee39.")
    p.add_argument("case", nargs="?", default="ieee39",
                   help="shipped case name, case file, or andes:CASE for a case ANDES reads "
                        "(e.g. andes:ieee39/ieee39_full.xlsx; default ieee39)")
    p.add_argument("--disturbance", choices=("operator", "ball"), default="operator",
                   help="operator: infeed loss, island imbalance, reference incident (default); "
                        "ball: the norm ball ||u|| <= rho for every contingency")
    p.add_argument("--incident", choices=("budget", "single"), default="budget",
                   help="reference incident of outages that keep the grid whole: budget "
                        "(default; conservative): any generation loss up to --incident-mw in "
                        "total, each unit at most its dispatch, possibly spread over many "
                        "units; single (credible infeed loss, GB SQSS style): the loss of any "
                        "one unit's dispatch, capped at --incident-mw")
    p.add_argument("--incident-mw", type=float, default=None,
                   help="size B of the reference incident, MW (default: the largest dispatch "
                        "of a generating unit; a pandapower ext_grid, the case's external "
                        "infeed, sets it only when there is no other unit)")
    p.add_argument("--rho", type=float, default=None,
                   help="ball radius, p.u. on the case base (--disturbance ball; default 0.5)")
    p.add_argument("--norm", type=_norm, default=2,
                   help="ball norm: 2, 1 or inf (--disturbance ball; default 2)")
    p.add_argument("--contingencies", default="n-1",
                   help="n-1 (branches and machines), branches, machines, or comma-separated ids")
    p.add_argument("--dt", type=float, default=0.01, help="time-grid step, s (default 0.01)")
    p.add_argument("--horizon", type=float, default=None,
                   help="search window, s (default: all t >= 0, certified)")
    p.add_argument("--threshold", type=_threshold, default="auto",
                   help="limits: a preset (continental_europe: 0.8 Hz nadir, 0.2 Hz "
                        "quasi-steady; north_america: 0.5 Hz nadir, the first stage of "
                        "load shedding at 59.5 Hz; gb: 0.5 Hz, 1 Hz/s, 0.5 Hz; gb_infrequent: "
                        "0.8 Hz, 1 Hz/s, 0.5 Hz; auto, the default: north_america for a 60 Hz "
                        "case, else continental_europe) or a nadir limit in Hz")
    p.add_argument("--rocof-limit", type=float, default=None,
                   help="RoCoF limit, Hz/s (overrides the preset)")
    p.add_argument("--qss-limit", type=float, default=None,
                   help="quasi-steady-state limit, Hz (overrides the preset)")
    p.add_argument("--model", choices=("swing", "swing_turbine", "case", "full"), default=None,
                   help="machine model (default: 'case' for a case with its own dynamic data, "
                        "such as an ANDES case: each machine's governor; else 'swing_turbine', "
                        "whose governors give the dip and recovery); 'swing' is the paper's "
                        "model; 'full' (andes: cases) linearises the whole ANDES case again "
                        "for every contingency, exciters and stabilisers included (about a "
                        "second per contingency)")
    p.add_argument("--islands", choices=("main", "all"), default="main",
                   help="when an outage splits the grid: screen the main island (default) or "
                        "the worst island, however small")
    p.add_argument("--out", type=Path,
                   help="folder for results.csv/.parquet, worst_disturbances.csv, "
                        "trajectories.parquet, summary.json, report.html and figures; a run "
                        "interrupted there resumes where it stopped (from results.csv and "
                        "its .meta.json and .extra.parquet beside it)")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--serial", action="store_true", help="run in this process")
    p.add_argument("--no-resume", action="store_true", help="start over even if DIR has results")
    p.add_argument("--top", type=int, default=15, help="rows of the ranked table to print")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="stage messages and a progress bar on stderr (default: when stderr is "
                        "a terminal)")
    p.add_argument("--fail-on-violation", action="store_true",
                   help="exit with status 3 when a contingency breaks a limit or is unstable")
    p.set_defaults(handler=run)


def _check(args) -> None:
    """Every argument, before anything is printed or written."""
    from ..exceptions import InputError
    from ..screening.limits import LIMIT_PRESETS as THRESHOLDS_HZ
    from ._common import check_case, check_int, check_out_dir, check_positive

    check_positive(args.rho, "--rho", allow_none=True)
    check_positive(args.incident_mw, "--incident-mw", allow_none=True)
    check_positive(args.rocof_limit, "--rocof-limit", allow_none=True)
    check_positive(args.qss_limit, "--qss-limit", allow_none=True)
    if args.disturbance != "ball" and (args.rho is not None or args.norm != 2):
        raise InputError(f"--rho and --norm size the norm ball: add --disturbance ball, got "
                         f"--rho {args.rho} --norm {args.norm} with --disturbance "
                         f"{args.disturbance}")
    if args.disturbance == "ball" and args.incident_mw is not None:
        raise InputError(f"--incident-mw sizes the reference incident of --disturbance "
                         f"operator, got --incident-mw {args.incident_mw:g} with --disturbance ball")
    if args.disturbance == "ball" and args.incident != "budget":
        raise InputError(f"--incident chooses the reference incident of --disturbance operator, "
                         f"got --incident {args.incident} with --disturbance ball")
    if args.model == "full" and args.disturbance == "ball":
        raise InputError("--model full screens operator events (its inputs are buses, not "
                         "machines): leave --disturbance operator")
    if args.model == "full" and args.islands != "main":
        raise InputError("--model full screens the main island only: leave --islands main")
    check_positive(args.dt, "--dt")
    check_positive(args.horizon, "--horizon", allow_none=True)
    check_int(args.jobs, "--jobs", 1)
    check_int(args.top, "--top", 0)
    thr = args.threshold
    if isinstance(thr, str):
        key = thr.lower().replace(" ", "_").replace("-", "_")
        if key not in THRESHOLDS_HZ and key != "auto":
            raise InputError(f"--threshold must be a positive number of Hz, auto or one of "
                             f"{', '.join(sorted(THRESHOLDS_HZ))}, got {thr!r}")
    elif not (math.isfinite(thr) and thr > 0):
        raise InputError(f"--threshold must be a positive number of Hz, auto or one of "
                         f"{', '.join(sorted(THRESHOLDS_HZ))}, got {thr:g}")
    check_case(args.case)
    if args.scheduler is not None:
        from ..screening.executors import check_scheduler

        check_scheduler(args.scheduler)
    if args.out is not None:
        check_out_dir(args.out)


class _Progress:
    """Stage messages and a bar on stderr; the bar moves as each contingency completes."""

    def __init__(self, prog: str = "netcoh screen", show: bool = True):
        self.prog, self.bar, self.done, self.show = prog, None, 0, show

    def stage(self, text: str) -> None:
        if self.show:
            print(f"{self.prog}: {text}", file=sys.stderr, flush=True)

    def __call__(self, done: int, total: int) -> None:
        if not self.show:
            return
        if self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="cont", desc="contingencies", file=sys.stderr,
                            mininterval=0.2)
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(args: argparse.Namespace) -> int:
    from ..screening import screen_contingencies
    from ..screening.contingencies import contingency_list
    from ..screening.report import write_outputs
    from ._common import load_grid, output_dir

    _check(args)
    show = sys.stderr.isatty() if args.progress is None else args.progress
    progress = _Progress(show=show)
    progress.stage(f"loading {args.case}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = load_grid(args.case)
    conts = contingency_list(grid, args.contingencies)       # validates --contingencies
    executor = "serial" if args.serial else ("dask" if args.scheduler else "processes")
    # printed once the sweep has run: an error found on the way (a store of other settings
    # to resume) leaves standard output empty
    s = grid.summary()
    head = [f"case {grid.name}: {s['buses']} buses, {s['branches']} branches, {s['machines']} "
            f"machines, {grid.f_hz:g} Hz; {len(conts)} contingencies"]
    synth = sorted({f for x in (grid.provenance.get("synthesised") or []) for f in x["fields"]})
    if synth:
        head.append(f"synthesised data (rules in report.html, `netcoh cases {grid.name}`): "
                    f"{', '.join(synth)}")
    approx = (grid.provenance.get("andes") or {}).get("approximated") or []
    if approx and args.model in (None, "case"):
        head.append(f"the 'case' model holds {', '.join(approx)} constant (EMF behind x'_d); "
                    f"--model full screens on the case's exact linearisation (about a second "
                    f"per contingency)")
    limits = {k: v for k, v in (("rocof_hz_per_s", args.rocof_limit),
                                ("qss_hz", args.qss_limit)) if v is not None}
    kw = dict(disturbance=args.disturbance, incident=args.incident,
              incident_mw=args.incident_mw, dt=args.dt,
              horizon=args.horizon, threshold_hz=args.threshold, limits=limits or None,
              model=args.model, islands=args.islands,
              executor=executor, n_jobs=args.jobs, scheduler=args.scheduler,
              resume=not args.no_resume, progress=progress)
    if args.disturbance == "ball":
        kw.update(rho=args.rho, norm=args.norm)
    with contextlib.ExitStack() as stack:
        out = None
        if args.out is not None:
            out = stack.enter_context(output_dir(
                args.out, keep=lambda d: (d / "results.csv").exists()))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = screen_contingencies(grid, conts, out=None if out is None
                                           else out / "results.csv", **kw)
        finally:
            progress.close()
        if out is not None:                  # the files first: a closed pipe cannot lose them
            progress.stage("writing the report")
            write_outputs(res, out, grid, csv=False)
        print("\n".join(head))
        _print_table(res, args, grid)
        if out is not None:
            print(f"wrote {out}/: results.csv, results.parquet, worst_disturbances.csv, "
                  "trajectories.parquet, summary.json, report.html and figures (PNG); "
                  "results.csv.meta.json and results.csv.extra.parquet keep what a resumed "
                  "run needs")
    summ = res.summary()
    if args.fail_on_violation and summ["violations"] + summ["unstable"] > 0:
        print(f"netcoh screen: {summ['violations']} violation(s), {summ['unstable']} unstable: "
              "exit status 3 (--fail-on-violation)", file=sys.stderr)
        return 3
    return 0


def _print_table(res, args, grid) -> None:
    from ..screening.report import incident_text, limits_text
    from ..screening.results import broken_limits

    df = res.to_frame()
    st = res.settings
    if st.get("disturbance") == "ball":
        print(f"disturbance: ||u||_{st['norm']} <= {st['rho']:g} p.u. on {grid.base_mva:g} MVA "
              f"for every contingency (net power up to {st['ball_net_mw']:.4g} MW)")
    else:
        print(f"disturbance: unit trips lose their dispatch, splits keep their imbalance, other "
              f"outages face the reference incident ({incident_text(st)})")
        if st.get("incident_basis"):
            print(f"reference incident B = {st['incident_mw']:.4g} MW: {st['incident_basis']}")
    cols = [c for c in ("contingency", "status", "lost_mw", "worst_bus", "nadir_hz", "time_s",
                        "coi_nadir_hz", "rocof_hz_per_s", "qss_hz", "margin_hz", "islands")
            if c in ("contingency", "status", "worst_bus", "islands") or df[c].notna().any()]
    show = df.head(args.top)[cols].copy()
    breaks = broken_limits(df.head(args.top))
    if (~breaks.isin(["", "nadir"])).any():      # a violation that is not (only) the nadir's
        show.insert(cols.index("status") + 1, "breaks", breaks)
    show["note"] = [_note(r) for _, r in df.head(args.top).iterrows()]
    base = res.base
    print(f"intact network: worst nadir {base.value_hz:.4g} Hz at {base.bus} "
          f"(t = {base.time:.3g} s)")
    if args.top:
        # MW to the MW (no exponent for a large case), the rest to four digits
        print(show.to_string(float_format=lambda v: f"{v:.4g}",
                             formatters={"lost_mw": lambda v: f"{v:.0f}" if abs(v) >= 1e3
                                         else f"{v:.4g}"}))
    if np.isinf(df["time_s"].to_numpy(dtype=float)).any():
        print("time_s = inf: the worst deviation is the settled value (no overshoot)")
    late = int(df["warning"].str.contains("end of the window", regex=False).sum())
    if late:
        print(f"{late} contingencies have their worst dip at the end of the window (time_s = "
              f"{args.horizon:g} s): it may come later; raise --horizon or leave it out "
              "(all t >= 0, certified)")
    if (df["status"] == "unstable").any():
        print("nadir_hz = inf: the linearised post-contingency grid is unstable (reason in the "
              "note; full text in the 'warning' column of the results)")
    summ = res.summary()
    counts = ", ".join(f"{v} {k}" for k, v in summ["statuses"].items() if v)
    print(f"{summ['evaluated']} of {summ['contingencies']} contingencies evaluated: "
          f"{counts or 'none'} ({limits_text(st)})")


def _note(row, width: int = 48) -> str:
    """One short remark per row: a frequency rise, the error, instability, or which machines
    were cut off."""
    from ..screening.report import rise_note

    text = row["error"] or (row["warning"] if row["status"] in ("unstable", "model-invalid")
                            else "")
    if not text and row["islands"] > 1:
        text = row["island_info"].rpartition("; ")[2] if "separated" in row["island_info"] \
            else row["island_info"]
    text = "; ".join(x for x in (rise_note(row), str(text)) if x)
    return text if len(text) <= width else text[: width - 3] + "..."
