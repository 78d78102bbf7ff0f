"""``netcoh reduce CASE [-k K] [--out DIR]``: coherent areas and a reduced network model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ._common import atomic_write_text, load_case_system

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "reduce", help="coherent areas by spectral clustering and a k-node reduced network",
        description="Cluster a grid into coherent areas (spectral clustering of the Laplacian), "
                    "reduce it to one node per area (aggregate dynamics, refined reduced "
                    "Laplacian) and compare full and reduced frequency responses. CASE is a "
                    "shipped grid name or a case file.")
    p.add_argument("case", help="shipped case name (see `netcoh cases`) or a case file")
    p.add_argument("-k", "--clusters", type=int, default=None,
                   help="number of areas (default: chosen by the largest eigengap)")
    p.add_argument("--model", choices=("swing", "swing_turbine"), default="swing_turbine",
                   help="machine model (default swing_turbine)")
    p.add_argument("--all-buses", action="store_true",
                   help="keep every bus (default: Kron-reduce to machine buses)")
    p.add_argument("--weighting", choices=("none", "inertia"), default="none",
                   help="cluster L (none) or M^-1/2 L M^-1/2 (inertia, slow coherency)")
    p.add_argument("--machine-order", type=int, default=None,
                   help="fit an order-2/3 machine to each area (default: exact aggregates)")
    p.add_argument("--nodes", nargs="+", default=None,
                   help="node labels for the Bode comparison (default: first node of each area)")
    p.add_argument("--wmin", type=float, default=1e-3, help="lowest frequency, rad/s")
    p.add_argument("--wmax", type=float, default=1e2, help="highest frequency, rad/s")
    p.add_argument("--points", type=int, default=60, help="number of log-spaced frequencies")
    p.add_argument("--seed", type=int, default=0, help="random_state of the clustering")
    p.add_argument("--out", type=Path,
                   help="directory for areas.csv, areas_summary.csv, areas.png, bode.png, "
                        "reduced.json, summary.json")
    p.set_defaults(handler=run)


def _area_plot(system, result, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx
    import scipy.sparse as sp

    L = sp.coo_matrix(system.laplacian)
    mask = L.row < L.col
    G = nx.Graph()
    G.add_nodes_from(range(system.n))
    w = -L.data[mask]
    keep = w > 1e-9 * max(w.max(), 1e-300) if w.size else np.zeros(0, bool)
    G.add_weighted_edges_from(zip(L.row[mask][keep], L.col[mask][keep], w[keep]))
    pos = nx.spring_layout(G, seed=0, weight="weight")
    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    if system.n <= 2000 and G.number_of_edges() <= 20000:
        widths = 0.3 + 2.0 * np.sqrt(w[keep] / w[keep].max()) if keep.any() else 0.5
        nx.draw_networkx_edges(G, pos, ax=ax, width=widths, alpha=0.3)
    nx.draw_networkx_nodes(G, pos, ax=ax, node_size=60 if system.n <= 200 else 8,
                           node_color=result.labels % 10, cmap="tab10", vmin=0, vmax=9)
    if system.n <= 60:
        nx.draw_networkx_labels(G, pos, {i: system.labels[i] for i in range(system.n)},
                                ax=ax, font_size=7)
    ax.set_title(title)
    ax.set_axis_off()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    import warnings

    from ..exceptions import InputError
    from ..reduction.aggregate import reduce_network
    from ..reduction.clustering import spectral_clustering

    if not (0 < args.wmin < args.wmax):
        raise InputError(f"--wmin must be positive and below --wmax, got {args.wmin} and "
                         f"{args.wmax}")
    if args.points < 2:
        raise InputError(f"--points must be >= 2, got {args.points}")
    from ._common import check_case, check_int, check_out_dir, held_warnings, output_dir

    check_int(args.clusters, "-k", 1)
    check_case(args.case)
    if args.out is not None:
        check_out_dir(args.out)
    with held_warnings():
        system = load_case_system(args.case, model=args.model,
                                  reduce=None if args.all_buses else "kron")
        if args.nodes is not None:
            labels = [str(x) for x in system.labels]
            unknown = [x for x in args.nodes if x not in labels]
            if unknown:
                shown = ", ".join(labels[:12]) + (", ..." if len(labels) > 12 else "")
                raise InputError(f"--nodes must be node labels of {args.case} ({shown}), got "
                                 f"{' '.join(unknown)!r}")
        if args.clusters is not None and args.clusters > system.n:
            raise InputError(f"-k must be at most the number of nodes of {args.case} "
                             f"({system.n}), got {args.clusters}")
    weighting = None if args.weighting == "none" else "inertia"
    res = spectral_clustering(system, args.clusters, weighting=weighting,
                              random_state=args.seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        red = reduce_network(system, res, machine_order=args.machine_order)
    omega = np.logspace(np.log10(args.wmin), np.log10(args.wmax), args.points)
    print(f"case {args.case}: {system.n} nodes ({'all buses' if args.all_buses else 'machines'})"
          f", lambda2 = {system.lambda2:.4g}")
    print(f"areas: {res.reason}")
    table = red.to_frame()
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    if red.signed:
        print("note: the reduced Laplacian has positive off-diagonal entries (signed network)")
    for w in caught:
        print(f"note: {w.message}")
    err = red.error(omega) if system.n <= 3000 else None
    if err is not None:
        band = omega[omega <= 1.0]
        in_band = err.max_error(1.0) if band.size else float("nan")
        print(f"error ||T - P T_k P^T||: max over [0, 1] rad/s = {in_band:.4g}, "
              f"over all {args.points} frequencies = {err.max_error():.4g}")
    if args.out is None:
        return 0
    with output_dir(args.out) as out:
        _write(args, out, system, res, red, table, err, omega)
    return 0


def _write(args, out: Path, system, res, red, table, err, omega) -> None:
    from ..reduction.io import save_reduced

    atomic_write_text(out / "areas.csv", res.to_frame().to_csv())
    atomic_write_text(out / "areas_summary.csv", table.to_csv())
    save_reduced(red, out / "reduced.json")
    summary = {"case": args.case, "n": system.n, "k": red.k, "reason": res.reason,
               "chosen_by": res.chosen_by, "weighting": args.weighting,
               "eigenvalues": [float(x) for x in res.eigenvalues],
               "reduced_laplacian": np.asarray(red.laplacian).tolist(), "signed": red.signed,
               "exact_aggregates": red.exact_aggregates}
    if err is not None:
        summary.update({"max_error": err.max_error(), "omega_rad_s": omega.tolist(),
                        "error": err.error.tolist()})
        atomic_write_text(out / "error.csv", err.to_frame().to_csv(index=False))
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _area_plot(system, res, out / "areas.png", f"{args.case}: {red.k} coherent areas")
    ax = red.plot_bode(omega, nodes=args.nodes)
    ax.set_title(f"{args.case}: full (solid) vs reduced k = {red.k} (dashed)")
    ax.figure.savefig(out / "bode.png", dpi=120, bbox_inches="tight")
    plt.close(ax.figure)
    print(f"wrote {out}/areas.csv, areas_summary.csv, areas.png, bode.png, reduced.json, "
          f"summary.json" + (", error.csv" if err is not None else ""))
