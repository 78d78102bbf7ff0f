"""Modal updates of GB turbine outages: this tree against an earlier revision, in one process.

The speed of a shared machine drifts between runs (two runs half an hour apart gave the
same dense step 1.4x apart), so a change of a few per cent to the state-space modal
update is only visible when both versions run in one process, on the same networks,
alternating. This script loads ``netcoh/analysis/modal_secular.py`` and
``netcoh/analysis/modal_update.py`` of ``--against`` (a git revision of this repository)
beside the installed ones, updates the first ``--outages`` branch outages and
``--trips`` unit trips of GB (swing-turbine machines, operator semantics) from the pinned
intact network with both, alternating which goes first, and prints the mean over the
networks both versions update of each version's best of ``--repeat`` CPU times, their
ratio, the largest relative change of the eigenvalues and the residues' diagonals between the two,
each version's failed updates (a sweep solves those densely, at about 1.5 s each), and
peak memory.
Only those two modules are swapped: the rest of the package is the tree's.

Measured (2 cores, load about 1): against ``9a093ae``, 138.2 ms per network before and
129.6 ms after (1.07x) on 40 outages and 20 trips, largest relative change 7.7e-17; later,
``--against ed3527f --outages 240 --trips 60``: 45.7 against 42.5 ms (1.07x), eigenvalues
and residues' diagonals the same to 3.6e-14.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/modal_update_ab.py --against 9a093ae
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import netcoh.grids as grids
from netcoh.analysis import modal_update
from netcoh.analysis.modal_statespace import pin_reference
from netcoh.screening import ScreeningContext, contingency_list
from netcoh.screening.events import operator_events

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import max_rss_mib  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _source(rev: str, path: str) -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"cannot read {path} at {rev}: {out.stderr.strip()}")
    return out.stdout


def _module(name: str, text: str):
    """``text`` executed as the module ``netcoh.analysis.<name>`` (relative imports resolve
    in the installed package)."""
    full = f"netcoh.analysis.{name}"
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader(full, loader=None))
    mod.__package__ = "netcoh.analysis"
    sys.modules[full] = mod
    exec(compile(text, f"<{name}>", "exec"), mod.__dict__)
    return mod


def earlier(rev: str):
    """``modal_update`` of revision ``rev``, with its own ``modal_secular``."""
    _module("_ab_modal_secular", _source(rev, "netcoh/analysis/modal_secular.py"))
    text = _source(rev, "netcoh/analysis/modal_update.py")
    return _module("_ab_modal_update", text.replace("from .modal_secular import",
                                                    "from ._ab_modal_secular import"))


def _change(a, b) -> float:
    """Largest relative change between two update results: the eigenvalues and the
    residues' diagonals ``P_j Q_j`` (a mode shape's scale is free: its residue factor
    carries the inverse, so the shapes alone may differ by rounding of the scale)."""
    if not (isinstance(a, tuple) and isinstance(b, tuple)):    # None (dense) or "n/a"
        return 0.0 if type(a) is type(b) and a == b else np.inf
    oa, ob = np.argsort(a[0], kind="stable"), np.argsort(b[0], kind="stable")
    if a[0].size != b[0].size or not np.allclose(a[0][oa], b[0][ob], rtol=1e-8):
        return np.inf
    out = 0.0
    ra, rb = a[1][:, oa] * a[2][oa].T, b[1][:, ob] * b[2][ob].T             # (n, K) each
    for x, y in ((a[0][oa], b[0][ob]), (ra, rb)):
        out = max(out, float(np.abs(x - y).max() / max(np.abs(y).max(), 1e-300)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--against", required=True, help="git revision to compare with")
    ap.add_argument("--outages", type=int, default=40)
    ap.add_argument("--trips", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    old = earlier(args.against)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = grids.load("gb")
    everything = contingency_list(grid, "n-1")
    ctx = ScreeningContext.from_grid(grid, model="swing_turbine")
    pin_reference(ctx.base_system())
    conts = ([c for c in everything if c.kind == "branch"][5:5 + args.outages]
             + [c for c in everything if c.kind == "machine"][: args.trips])
    systems = [operator_events(ctx, c)[0][0].system for c in conts]
    versions = {args.against: old, "this tree": modal_update}
    best = {k: np.full(len(systems), np.inf) for k in versions}
    change = 0.0
    failed = {k: np.zeros(len(systems), dtype=bool) for k in versions}
    for rep in range(args.repeat):
        for k, system in enumerate(systems):
            order = list(versions.items())
            if (rep + k) % 2:
                order.reverse()
            outs = {}
            for label, mod in order:
                t0 = time.process_time()
                outs[label] = mod.update_structured(system)
                best[label][k] = min(best[label][k], time.process_time() - t0)
                failed[label][k] = not isinstance(outs[label], tuple)
            if not (failed["this tree"][k] or failed[args.against][k]):
                change = max(change, _change(outs["this tree"], outs[args.against]))
    # a failed update costs the dense eigenproblem in a sweep: the means are over the
    # networks both versions update, and the failures are counted apart
    both = ~(failed[args.against] | failed["this tree"])
    a, b = best[args.against][both].mean(), best["this tree"][both].mean()
    print(f"GB, swing-turbine machines: {args.outages} branch outages and {args.trips} unit "
          f"trips updated from the pinned intact network, best of {args.repeat}, one process")
    print(f"  {args.against}: {a * 1e3:.1f} ms per network; this tree: {b * 1e3:.1f} ms "
          f"({a / b:.2f}x) on the {int(both.sum())} networks both update; largest relative "
          f"change of eigenvalues and residues' diagonals {change:.1e}")
    nb = int(args.outages)
    for label in versions:
        f = failed[label]
        print(f"  {label}: updates failed (dense instead) on {int(f[:nb].sum())} outages and "
              f"{int(f[nb:].sum())} trips; mean over the updated trips "
              f"{best[label][nb:][~f[nb:]].mean() * 1e3:.1f} ms")
    print(f"peak RSS {max_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
