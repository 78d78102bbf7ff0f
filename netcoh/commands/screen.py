"""``netcoh screen [CASE]``: worst-case frequency nadir of every N-1 contingency."""

from __future__ import annotations

import argparse
import json
import math
import warnings
from pathlib import Path

import numpy as np

from ._common import atomic_write_text

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
        return text


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "screen", help="worst-case frequency nadir of every N-1 contingency of a grid",
        description="For every branch outage and machine trip, rebuild the network model and "
                    "compute the worst frequency deviation over all buses, all times and all "
                    "step disturbances with ||u|| <= rho (Jiang, Min & Zhang 2024). CASE is a "
                    "shipped case (ieee39, kundur, case145, gb) or a netcoh-grid JSON file; "
                    "default ieee39.")
    p.add_argument("case", nargs="?", default="ieee39", help="case name or file (default ieee39)")
    p.add_argument("--norm", type=_norm, default=2, help="disturbance norm: 2, 1 or inf (default 2)")
    p.add_argument("--rho", type=float, default=0.5,
                   help="disturbance size, p.u. on the case base (default 0.5)")
    p.add_argument("--contingencies", default="n-1",
                   help="n-1 (branches and machines), branches, machines, or comma-separated ids")
    p.add_argument("--dt", type=float, default=0.01, help="time-grid step, s (default 0.01)")
    p.add_argument("--horizon", type=float, default=None,
                   help="search window, s (default: all t >= 0, certified)")
    p.add_argument("--threshold", type=_threshold, default="continental_europe",
                   help="limit in Hz or a preset: continental_europe (0.8), gb (0.5)")
    p.add_argument("--model", choices=("swing", "swing_turbine"), default="swing_turbine",
                   help="machine model: swing_turbine (default; governors give the dip and "
                        "recovery) or swing (the paper's model, nadir often the settled value)")
    p.add_argument("--islands", choices=("main", "all"), default="main",
                   help="when an outage splits the grid: screen the main island (default; "
                        "separated machines count as lost) or the worst island, however small")
    p.add_argument("--out", type=Path, help="directory for results.csv, summary.json and figures")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--serial", action="store_true", help="run in this process")
    p.add_argument("--no-resume", action="store_true", help="start over even if DIR has results")
    p.add_argument("--top", type=int, default=15, help="rows of the ranked table to print")
    p.set_defaults(handler=run)


def _check(args) -> None:
    from ..exceptions import InputError

    for name in ("rho", "dt"):
        v = getattr(args, name)
        if not (math.isfinite(v) and v > 0):
            raise InputError(f"--{name} must be positive, got {v}")
    if args.horizon is not None and not (math.isfinite(args.horizon) and args.horizon > 0):
        raise InputError(f"--horizon must be positive, got {args.horizon}")
    if args.jobs is not None and args.jobs < 1:
        raise InputError(f"--jobs must be >= 1, got {args.jobs}")


def run(args: argparse.Namespace) -> int:
    from .. import grids
    from ..screening import screen_contingencies

    _check(args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = grids.load(args.case)
    executor = "serial" if args.serial else ("dask" if args.scheduler else "processes")
    csv = None
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        csv = args.out / "results.csv"
    s = grid.summary()
    print(f"case {grid.name}: {s['buses']} buses, {s['branches']} branches, {s['machines']} "
          f"machines, {grid.f_hz:g} Hz; disturbance ||u||_{_name(args.norm)} <= {args.rho:g} p.u. "
          f"({args.rho * grid.base_mva:g} MW)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = screen_contingencies(
            grid, args.contingencies, rho=args.rho, norm=args.norm, dt=args.dt,
            horizon=args.horizon, threshold_hz=args.threshold, model=args.model,
            islands=args.islands, executor=executor, n_jobs=args.jobs, scheduler=args.scheduler, out=csv,
            resume=not args.no_resume, progress=True)
    df = res.to_frame()
    show = df.head(args.top)[["contingency", "worst_bus", "nadir_hz", "time_s", "margin_hz",
                              "islands"]].copy()
    show["note"] = [_note(r) for _, r in df.head(args.top).iterrows()]
    print(f"intact network: worst nadir {res.base.value_hz:.4g} Hz at {res.base.bus} "
          f"(t = {res.base.time:.3g} s)")
    print(show.to_string(float_format=lambda v: f"{v:.4g}"))
    if np.isinf(df["time_s"].to_numpy(dtype=float)).any():
        print("time_s = inf: the worst deviation is the settled value (no overshoot)")
    late = int(df["warning"].str.contains("end of the window", regex=False).sum())
    if late:
        print(f"{late} contingencies have their worst dip at the end of the window (time_s = "
              f"{args.horizon:g} s): it may come later; raise --horizon or leave it out "
              "(all t >= 0, certified)")
    if (df["method"] == "unstable").any():
        print("nadir_hz = inf: the linearised post-contingency grid is unstable (reason in the "
              "note; full text in the 'warning' column of the results)")
    summ = res.summary()
    print(f"{summ['evaluated']} of {summ['contingencies']} contingencies evaluated, "
          f"{summ['failed']} failed, {summ['violations']} beyond "
          f"{res.settings['threshold_hz']} Hz")
    if args.out is not None:
        atomic_write_text(args.out / "summary.json",
                          json.dumps(_jsonable(summ), indent=2, allow_nan=False, default=str))
        _figures(res, grid, args)
        print(f"wrote {args.out}/results.csv, summary.json, nadir_per_bus.png, "
              f"worst_trajectories.png, contingencies.png")
    return 0


def _note(row, width: int = 48) -> str:
    """One short remark per row: the error, instability, or which machines were cut off."""
    text = row["error"] or (row["warning"] if row["method"] == "unstable" else "")
    if not text and row["islands"] > 1:
        text = row["island_info"].rpartition("; ")[2] if "separated" in row["island_info"] \
            else row["island_info"]
    text = str(text)
    return text if len(text) <= width else text[: width - 3] + "..."


def _name(norm) -> str:
    return "inf" if norm == np.inf else str(norm)


def _jsonable(o):
    """Strict JSON: non-finite floats become null (time = inf means "the settled value")."""
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, (float, np.floating)):
        return float(o) if math.isfinite(o) else None
    if isinstance(o, np.integer):
        return int(o)
    return o


def _figures(res, grid, args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..analysis.nadir import worst_case_nadir
    from ..screening import Contingency, ScreeningContext

    # the worst contingency with a finite nadir (an unstable one has no trajectory to draw)
    ok = res.table[(res.table["error"] == "") & np.isfinite(res.table["nadir_hz"].astype(float))]
    worst = None
    if len(ok):
        row = ok.iloc[0]
        ctx = ScreeningContext.from_grid(grid, model=args.model)
        systems, note = ctx.systems(Contingency(row["kind"], row["element"]))
        systems, _ = ctx.select_islands(systems, note, args.islands)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            worst = max((worst_case_nadir(s, rho=args.rho, norm=args.norm, dt=args.dt,
                                          horizon=args.horizon, f_hz=grid.f_hz,
                                          threshold_hz=args.threshold) for s, _ in systems),
                        key=lambda r: r.value)
    fig, ax = plt.subplots(figsize=(max(6.4, 0.12 * res.base.per_bus.size + 2), 4.0))
    base = res.base
    x = np.arange(base.per_bus.size)
    ax.bar(x, base.per_bus_hz, color="C0", label="intact network")
    if worst is not None:
        pos = {lab: i for i, lab in enumerate(base.labels)}
        xi = [pos[lab] for lab in worst.labels if lab in pos]
        vi = [v for lab, v in zip(worst.labels, worst.per_bus_hz) if lab in pos]
        ax.plot(xi, vi, "r_", ms=12, mew=2, label=f"after {row['contingency']}")
    if base.threshold_hz is not None:
        ax.axhline(base.threshold_hz, color="r", ls="--", lw=0.8, label="threshold")
    if base.per_bus.size <= 60:
        ax.set_xticks(x, base.labels, rotation=90, fontsize="small")
    ax.set_ylabel("worst-case |Δf| (Hz)")
    ax.set_title(f"{grid.name}: worst-case nadir per machine bus")
    ax.legend(fontsize="small")
    fig.savefig(args.out / "nadir_per_bus.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0), sharey=True)
    base.plot_trajectory(ax=axes[0])
    axes[0].set_title("intact network: worst disturbance")
    if worst is not None:
        worst.plot_trajectory(ax=axes[1])
        axes[1].set_title(f"after {row['contingency']}")
    fig.savefig(args.out / "worst_trajectories.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    ax = res.plot()
    ax.figure.savefig(args.out / "contingencies.png", dpi=120, bbox_inches="tight")
    plt.close(ax.figure)
