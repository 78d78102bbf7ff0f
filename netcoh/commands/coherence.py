"""``netcoh coherence [CASE]``: incoherence against frequency and the coherence bandwidth."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..analysis.coherence import coherence
from ..network import laplacian, nodal
from ..network.system import NetworkSystem
from ._common import atomic_write_text, load_case_system

__all__ = ["register", "example_system"]


def example_system(n: int = 30, seed: int = 0) -> NetworkSystem:
    """The built-in example: a ring lattice (3 neighbours per side) of heterogeneous
    swing-turbine machines drawn with the ACC 2023 distributions (fixed seed)."""
    rng = np.random.default_rng(seed)
    g = nodal.swing_turbine(m=rng.uniform(0.05, 0.5, n), d=rng.uniform(0.2, 0.5, n),
                            droop=1.0 / rng.uniform(5, 10, n), tau=rng.uniform(2, 10, n))
    return NetworkSystem.from_laplacian(laplacian.ring_lattice(n, 3), nodal=g)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "coherence", help="incoherence ||T - g_hat 11^T|| against frequency, and the bandwidth",
        description="Frequency-dependent coherence of a network. CASE is a shipped grid name or a "
                    "case file; without it a built-in 30-machine example is used.")
    p.add_argument("case", nargs="?", help="shipped case name or case file (default: built-in example)")
    p.add_argument("--wmin", type=float, default=1e-3, help="lowest frequency, rad/s (default 1e-3)")
    p.add_argument("--wmax", type=float, default=1e2, help="highest frequency, rad/s (default 100)")
    p.add_argument("--points", type=int, default=60, help="number of log-spaced frequencies")
    p.add_argument("--tol", type=float, default=0.1, help="relative-incoherence tolerance")
    p.add_argument("--out", type=Path, help="directory for coherence.csv, summary.json, coherence.png")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..exceptions import InputError
    from ._common import check_case, check_out_dir, check_positive, output_dir

    if not (0 < args.wmin < args.wmax and np.isfinite(args.wmax)):
        raise InputError(f"--wmin must be positive and below --wmax, got {args.wmin} and "
                         f"{args.wmax}")
    if args.points < 2:
        raise InputError(f"--points must be >= 2, got {args.points}")
    check_positive(args.tol, "--tol")
    if args.case is not None:
        check_case(args.case)
    if args.out is not None:
        check_out_dir(args.out)
    if args.case is None:
        system, name = example_system(), "built-in example (30 swing-turbine machines, ring lattice)"
    else:
        system, name = load_case_system(args.case), args.case
    omega = np.logspace(np.log10(args.wmin), np.log10(args.wmax), args.points)
    res = coherence(system, omega, tol=args.tol)
    df = res.to_frame()
    print(f"network: {name}: {system.n} nodes, lambda2 = {system.lambda2:.4g}")
    with np.printoptions(precision=4):
        print(df.iloc[:: max(1, len(df) // 12)].to_string(index=False, float_format="%.4g"))
    print(f"coherence bandwidth (relative incoherence <= {args.tol:g}): "
          f"{res.bandwidth_rad_s:.4g} rad/s")
    if args.out is not None:
        with output_dir(args.out):
            atomic_write_text(args.out / "coherence.csv", df.to_csv(index=False))
            summary = {"case": name, "n": system.n, "lambda2": system.lambda2, "tol": args.tol,
                       "bandwidth_rad_s": res.bandwidth_rad_s}
            atomic_write_text(args.out / "summary.json", json.dumps(summary, indent=2))
            import matplotlib

            matplotlib.use("Agg")
            ax = res.plot()
            ax.set_title(f"coherence: {name}")
            ax.figure.savefig(args.out / "coherence.png", dpi=120, bbox_inches="tight")
            print(f"wrote {args.out}/coherence.csv, summary.json, coherence.png")
    return 0
