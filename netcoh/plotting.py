"""Matplotlib figures for netcoh results (matplotlib is imported only when plotting)."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_frequency_response", "plot_coherence", "plot_time_response", "plot_screening",
           "plot_screening_trajectories", "plot_grid_nadir"]


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(6.4, 4.0))
    return ax


def plot_frequency_response(resp, outputs=None, input=0, ax=None):
    """Bode magnitude ``|T_ij(j omega)|`` of chosen outputs for one input column."""
    ax = _axes(ax)
    rows = range(resp.values.shape[1]) if outputs is None else outputs
    for i in rows:
        ax.loglog(resp.omega, np.abs(resp.values[:, i, input]), lw=0.8,
                  label=str(resp.labels[i]))
    ax.set_xlabel("frequency (rad/s)")
    ax.set_ylabel(f"|T(jω)| from node {resp.labels[resp.inputs[input]]}")
    if len(list(rows)) <= 10:
        ax.legend(fontsize="small")
    return ax


def plot_coherence(res, ax=None):
    """Incoherence and the Lemma bound against frequency."""
    ax = _axes(ax)
    ax.loglog(res.omega, res.incoherence, label=r"$\|T - \hat g\,11^T\|$")
    if np.any(res.bound_holds):
        ax.loglog(res.omega, res.bound, "--", label="Lemma bound")
    ax.loglog(res.omega, res.relative_incoherence, ":", label="relative incoherence")
    if res.bandwidth_rad_s > 0:
        ax.axvline(res.bandwidth_rad_s, color="grey", lw=0.8,
                   label=f"bandwidth (tol {res.tol:g})")
    ax.set_xlabel("frequency (rad/s)")
    ax.set_ylabel("incoherence")
    ax.legend(fontsize="small")
    return ax


def plot_time_response(resp, ax=None):
    """Node responses (thin grey), the COI (blue) and the aggregate model (red dashed)."""
    ax = _axes(ax)
    ax.plot(resp.t, resp.outputs, color="0.6", lw=0.6)
    ax.plot(resp.t, resp.coi, color="tab:blue", lw=1.6, label="centre of inertia")
    ax.plot(resp.t, resp.aggregate, "--", color="tab:red", lw=1.6, label=r"aggregate $\hat g$")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("output (frequency deviation)")
    ax.legend(fontsize="small")
    return ax


def _evaluated(res, top):
    t = res.table
    return t[t["status"].isin(["ok", "violation", "unstable"])].head(top)


def plot_screening(res, ax=None, top: int = 20):
    """Bars of the ``top`` worst contingencies: local nadir, COI nadir (dots), limit dashed.

    Parameters
    ----------
    res : ScreeningResult
        A screening result.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (new figure if None).
    top : int
        Number of contingencies drawn.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from netcoh.screening.results import ScreeningResult, normalise, rank
    >>> r = ScreeningResult(rank(normalise(pd.DataFrame({"contingency": ["a"], "nadir_hz": [0.2]}))),
    ...                     None, {})
    >>> len(plot_screening(r).patches)
    1
    """
    if ax is None:
        import matplotlib.pyplot as plt

        n = max(1, min(top, len(res.table)))
        _, ax = plt.subplots(figsize=(7.0, 0.28 * n + 1.6), constrained_layout=True)
    ok = _evaluated(res, top)
    vals = ok["nadir_hz"].to_numpy(dtype=float)
    coi = ok["coi_nadir_hz"].to_numpy(dtype=float)
    finite = np.isfinite(vals)
    thr = res.settings.get("threshold_hz")
    base = getattr(res.base, "value_hz", None)
    ref = [*vals[finite], *coi[np.isfinite(coi)]]
    ref += [v for v in (thr, base) if isinstance(v, (int, float)) and np.isfinite(v)]
    span = (max(ref) if ref else 1.0) * 1.15
    width = np.where(finite, vals, span)
    colors = np.where(~finite, "C3", np.where(ok["status"] == "violation", "C1", "C0"))
    names = ok["contingency"].astype(str).to_numpy()
    y = np.arange(len(names))[::-1]
    ax.barh(y, width, color=colors, label="worst local nadir")
    ax.set_yticks(y, names, fontsize="small")
    if np.isfinite(coi).any():
        ax.plot(coi, y, "k.", ms=6, label="centre-of-inertia nadir")
    for yy in y[~finite]:
        ax.text(span, yy, " unstable", va="center", ha="left", fontsize="small", color="C3")
    if base is not None and np.isfinite(base):
        ax.axvline(base, color="0.3", lw=0.8, label="intact network")
    if thr is not None:
        ax.axvline(thr, color="r", ls="--", lw=0.8, label=f"limit {thr:g} Hz")
    ax.set_xlabel("worst local nadir |Δf| (Hz)")
    ax.legend(fontsize="small", loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False)
    return ax


def plot_screening_trajectories(res, ax=None, top: int = 5):
    """Frequency deviation after the ``top`` worst contingencies: worst bus solid, COI dashed.

    Parameters
    ----------
    res : ScreeningResult
        A screening result with trajectories.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (new figure if None).
    top : int
        Number of contingencies drawn (those with a stored trajectory).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from netcoh.screening.results import ScreeningResult, normalise, rank
    >>> r = ScreeningResult(rank(normalise(pd.DataFrame({"contingency": ["a"]}))), None, {},
    ...     trajectories=pd.DataFrame({"contingency": ["a"] * 2, "t_s": [0.0, 1.0],
    ...                                "coi_hz": [0.0, -0.1], "worst_bus_hz": [0.0, -0.2]}))
    >>> len(plot_screening_trajectories(r).lines)
    2
    """
    ax = _axes(ax)
    traj = res.trajectories
    have = set(traj["contingency"])
    names = [c for c in _evaluated(res, len(res.table))["contingency"] if c in have][:top]
    groups = dict(tuple(traj.groupby("contingency", sort=False)))
    for k, name in enumerate(names):
        g = groups[name]
        color = f"C{k % 10}"
        ax.plot(g["t_s"], g["worst_bus_hz"], color=color, lw=1.4, label=f"{name}: worst bus")
        ax.plot(g["t_s"], g["coi_hz"], color=color, lw=1.0, ls="--", label=f"{name}: COI")
    thr = res.settings.get("threshold_hz")
    if thr is not None and names:
        lo = min(float(np.nanmin(groups[n]["worst_bus_hz"])) for n in names)
        ax.axhline(-thr if lo < 0 else thr, color="r", ls=":", lw=0.8, label=f"limit {thr:g} Hz")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency deviation (Hz)")
    if names:
        ax.legend(fontsize="x-small", ncol=2)
    else:
        ax.text(0.5, 0.5, "no trajectories recorded", transform=ax.transAxes, ha="center")
    return ax


def plot_grid_nadir(grid, res, ax=None, seed: int = 0):
    """The grid as a graph: each branch and machine bus coloured by the worst local nadir
    after its own outage or trip (grey: not screened; black: unstable).

    Parameters
    ----------
    grid : netcoh.grids.Grid
        The screened grid (buses and in-service branches are drawn).
    res : ScreeningResult
        Its screening result.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (new figure if None).
    seed : int
        Seed of the force-directed layout (reproducible drawing).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import warnings, pandas as pd, netcoh.grids as grids
    >>> from netcoh.screening.results import ScreeningResult, normalise, rank
    >>> g = grids.load("kundur", warn=False)
    >>> t = normalise(pd.DataFrame({"contingency": ["machine:G1"], "kind": ["machine"],
    ...                             "element": ["G1"], "nadir_hz": [0.3]}))
    >>> plot_grid_nadir(g, ScreeningResult(rank(t), None, {})).get_title()
    'kundur: worst local nadir after each outage'
    """
    import matplotlib.pyplot as plt
    import networkx as nx
    from matplotlib.colors import Normalize

    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 5.6), constrained_layout=True)
    br = grid.branches
    br = br[br["in_service"].astype(bool)] if "in_service" in br else br
    G = nx.Graph()
    G.add_nodes_from(str(b) for b in grid.buses["id"])
    edges = [(str(f), str(t)) for f, t in zip(br["from_bus"], br["to_bus"])]
    G.add_edges_from(edges)
    n = G.number_of_nodes()
    pos = nx.kamada_kawai_layout(G) if n <= 150 and nx.is_connected(G) else \
        nx.spring_layout(G, seed=seed, iterations=50 if n <= 3000 else 20)
    t = res.table
    val = dict(zip(zip(t["kind"], t["element"]), t["nadir_hz"].to_numpy(dtype=float)))
    finite = [v for v in val.values() if np.isfinite(v)]
    thr = res.settings.get("threshold_hz")
    vmax = max([*finite, *([thr] if thr is not None else [])], default=1.0) or 1.0
    norm, cmap = Normalize(0.0, vmax), plt.get_cmap("plasma_r")

    def colour(v):
        if v is None or np.isnan(v):
            return (0.8, 0.8, 0.8, 1.0)
        return (0.0, 0.0, 0.0, 1.0) if np.isinf(v) else cmap(norm(v))

    ecol = [colour(val.get(("branch", str(b)))) for b in br["id"]]
    width = 1.0 if n <= 300 else 0.4
    nx.draw_networkx_edges(G, pos, edgelist=edges, edge_color=ecol, width=width * 1.8, ax=ax)
    nx.draw_networkx_nodes(G, pos, node_size=6 if n > 300 else 14, node_color="0.55", ax=ax)
    m = grid.machines
    m = m[m["in_service"].astype(bool)] if "in_service" in m else m
    mbus = {}
    for mid, bus in zip(m["id"], m["bus"]):
        v = val.get(("machine", str(mid)), np.nan)
        old = mbus.get(str(bus), np.nan)
        mbus[str(bus)] = v if np.isnan(old) or (not np.isnan(v) and v > old) else old
    nodes = [b for b in mbus if b in pos]
    nx.draw_networkx_nodes(G, pos, nodelist=nodes, node_color=[colour(mbus[b]) for b in nodes],
                           node_size=70 if n <= 300 else 18, edgecolors="k", linewidths=0.5,
                           node_shape="s", ax=ax)
    if n <= 60:
        nx.draw_networkx_labels(G, pos, font_size=6, ax=ax)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    ax.figure.colorbar(sm, ax=ax, shrink=0.8, label="worst local nadir after the outage (Hz)")
    ax.set_title(f"{grid.name}: worst local nadir after each outage")
    ax.set_axis_off()
    return ax
