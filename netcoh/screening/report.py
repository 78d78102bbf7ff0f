"""Files of a screening run: tables, trajectories, summary and a self-contained HTML report.

The report is one offline page: CSS and JavaScript inline, figures as inline PNG, no
external asset, so it opens from a mail attachment or an air-gapped machine.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .._util import atomic_write_bytes, atomic_write_text
from .columns import STORED_COLUMNS
from .results import _jsonable, broken_limits
from .store import _csv_text, _to_parquet

__all__ = ["write_outputs", "write_report", "report_html", "incident_text", "limits_text", "rise_note",
           "OUTPUT_FILES"]

#: Files :func:`write_outputs` writes into its folder.
OUTPUT_FILES = ("results.csv", "results.parquet", "worst_disturbances.csv", "trajectories.parquet",
                "summary.json", "report.html", "contingencies.png", "worst_trajectories.png",
                "grid.png", "nadir_per_bus.png")

#: Columns of the report's table: (column, heading, format).
_TABLE = [("contingency", "contingency", "s"), ("status", "status", "s"),
          ("lost_mw", "lost MW", "f"), ("disturbance", "disturbance", "s"),
          ("nadir_hz", "nadir Hz", "f"), ("worst_bus", "worst bus", "s"),
          ("time_s", "t nadir s", "f"), ("coi_nadir_hz", "COI nadir Hz", "f"),
          ("rocof_hz_per_s", "RoCoF Hz/s", "f"), ("local_rocof_hz_per_s", "local RoCoF Hz/s", "f"),
          ("qss_hz", "quasi-steady Hz", "f"), ("breaks", "limits broken", "s"),
          ("margin_hz", "margin Hz", "f"), ("rocof_margin_hz_per_s", "RoCoF margin Hz/s", "f"),
          ("qss_margin_hz", "quasi-steady margin Hz", "f"), ("islands", "islands", "i"),
          ("note", "note", "s")]


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def figures(res, grid=None) -> dict:
    """The report's figures as base64 PNG strings.

    Parameters
    ----------
    res : ScreeningResult
        The screening result.
    grid : netcoh.grids.Grid, optional
        The screened grid (the grid drawing needs it).

    Returns
    -------
    dict
        ``{file name: base64 PNG}`` for ``contingencies.png``, ``worst_trajectories.png``,
        ``nadir_per_bus.png`` and, with a grid, ``grid.png``.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from netcoh.screening.results import ScreeningResult, normalise, rank
    >>> r = ScreeningResult(rank(normalise(pd.DataFrame({"contingency": ["a"]}))), None, {})
    >>> sorted(figures(r))
    ['contingencies.png', 'nadir_per_bus.png', 'worst_trajectories.png']
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import plot_grid_nadir, plot_screening, plot_screening_trajectories

    out = {"contingencies.png": _png(plot_screening(res, top=20).figure)}
    fig, ax = plt.subplots(figsize=(7.0, 4.2), constrained_layout=True)
    plot_screening_trajectories(res, ax=ax, top=5)
    ax.set_title("the five worst contingencies")
    out["worst_trajectories.png"] = _png(fig)
    fig, ax = plt.subplots(figsize=(7.0, 3.6), constrained_layout=True)
    base = res.base
    per_bus = getattr(base, "per_bus_hz", None)
    if per_bus is not None and len(per_bus):
        x = np.arange(len(per_bus))
        ax.bar(x, per_bus, color="C0")
        if len(per_bus) <= 60:
            ax.set_xticks(x, [str(b) for b in base.labels], rotation=90, fontsize="small")
        thr = res.settings.get("threshold_hz")
        if thr is not None:
            ax.axhline(thr, color="r", ls="--", lw=0.8, label=f"limit {thr:g} Hz")
            ax.legend(fontsize="small")
    ax.set_ylabel("worst local nadir (Hz)")
    ax.set_title("intact network: worst case per machine bus")
    out["nadir_per_bus.png"] = _png(fig)
    if grid is not None:
        out["grid.png"] = _png(plot_grid_nadir(grid, res).figure)
    return out


def rise_note(row) -> str:
    """``"frequency rises (surplus of X MW)"`` for a row whose disturbance is a net surplus
    (negative ``lost_mw``): its deviations are rises, not dips; else ``""``.

    Parameters
    ----------
    row : mapping
        A result row (its ``lost_mw`` and ``status``).

    Returns
    -------
    str

    Examples
    --------
    >>> rise_note({"lost_mw": -174.7, "status": "ok"})
    'frequency rises (surplus of 174.7 MW)'
    >>> rise_note({"lost_mw": 650.0, "status": "violation"})
    ''
    """
    lost = row.get("lost_mw")
    if row.get("status") in ("ok", "violation") and lost is not None and lost < 0:
        return f"frequency rises (surplus of {-lost:.4g} MW)"
    return ""


def _note(row) -> str:
    swing = [w for w in str(row["warning"] or "").split(" | ") if w.startswith("local swing")]
    text = row["error"] or (row["warning"] if row["status"] in ("unstable", "model-invalid")
                            else "") or " | ".join(swing) \
        or (row["island_info"] if row["islands"] > 1 else "")
    rise = rise_note(row)
    return "; ".join(x for x in (rise, str(text)) if x)


def _cell(v, fmt: str) -> tuple[str, str]:
    """(shown text, sort key) of one cell."""
    if fmt == "s":
        return html.escape(str(v)), html.escape(str(v).lower(), quote=True)
    x = float(v)
    if math.isnan(x):
        return "", ""
    if math.isinf(x):
        return ("\u221e" if x > 0 else "-\u221e"), ("Infinity" if x > 0 else "-Infinity")
    return (f"{int(x)}" if fmt == "i" and x == int(x) else f"{x:.4g}"), repr(x)


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1200px;padding:16px 24px;color:#1b1b1b;background:#fff}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:24px 0 8px;border-bottom:1px solid #ddd}
.sub{color:#555;margin:0 0 12px}.badges span{display:inline-block;margin:2px 6px 2px 0;
padding:3px 9px;border-radius:11px;font-weight:600;font-size:13px}
.b-ok{background:#e3f4e6;color:#165c24}.b-violation{background:#fde2cc;color:#8a3300}
.b-unstable{background:#f9d3d6;color:#7d0b17}.b-model-invalid{background:#ece6f7;color:#4a2d7d}
.b-failed{background:#e6e6e6;color:#333}.wrap{overflow-x:auto;max-height:80vh;overflow-y:auto}
.figs{display:flex;flex-wrap:wrap;gap:16px}.figs figure{margin:0;flex:1 1 520px}
.figs img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:12.5px}
.datanote{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px;margin:8px 0}
table{border-collapse:collapse;font-size:12.5px;width:100%}
th,td{padding:3px 6px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
td.s,th.s{text-align:left}td.note{white-space:normal;max-width:340px;color:#555}
th{position:sticky;top:0;background:#f4f6f8;cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
tr.violation td{background:#fff3ea}tr.unstable td{background:#fde9eb}
tr.failed td,tr.model-invalid td{color:#777}
#filter{margin:4px 0 8px;padding:4px 8px;width:280px}
details{margin:8px 0}pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}
"""

_JS = r"""
(function(){
function key(td, num){var v=td.getAttribute('data-v');
  if(num){if(v===''||v===null)return NaN;return parseFloat(v);}return v||'';}
function sortBy(table, col, dir){
  var th=table.tHead.rows[0].cells[col], num=th.getAttribute('data-type')!=='s';
  var body=table.tBodies[0], rows=Array.prototype.slice.call(body.rows);
  rows.sort(function(a,b){var x=key(a.cells[col],num), y=key(b.cells[col],num);
    if(num){var xn=isNaN(x), yn=isNaN(y); if(xn||yn)return xn-yn; return dir*(x-y)||
      (+a.getAttribute('data-rank'))-(+b.getAttribute('data-rank'));}
    return dir*(x<y?-1:x>y?1:0)||(+a.getAttribute('data-rank'))-(+b.getAttribute('data-rank'));});
  rows.forEach(function(r){body.appendChild(r);});
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(c){c.removeAttribute('aria-sort');});
  th.setAttribute('aria-sort', dir>0?'ascending':'descending');
  document.body.setAttribute('data-sorted', th.getAttribute('data-col')+(dir>0?':asc':':desc'));}
function init(){
  var table=document.getElementById('results');
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
    th.addEventListener('click',function(){
      sortBy(table,i,th.getAttribute('aria-sort')==='ascending'?-1:1);});});
  var f=document.getElementById('filter');
  f.addEventListener('input',function(){var q=f.value.toLowerCase();
    Array.prototype.forEach.call(table.tBodies[0].rows,function(r){
      r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':'';});});
  var m=/sort=(-?)([a-z_]+)/.exec(location.hash);
  if(m){Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
    if(th.getAttribute('data-col')===m[2])sortBy(table,i,m[1]?-1:1);});}
  document.body.setAttribute('data-rows', table.tBodies[0].rows.length);
  document.body.setAttribute('data-ready','1');}
document.addEventListener('DOMContentLoaded',init);
window.addEventListener('load',function(){var n=0;
  Array.prototype.forEach.call(document.images,function(im){if(im.complete&&im.naturalWidth>0)n++;});
  document.body.setAttribute('data-figures-loaded', n);});
})();
"""

_CAPTIONS = {
    "contingencies.png": "The worst contingencies: worst local nadir (bars; orange = beyond the "
                         "limit, red = unstable) and centre-of-inertia nadir (dots).",
    "worst_trajectories.png": "Frequency deviation after the worst contingencies under their worst "
                              "disturbance: worst bus (solid) and centre of inertia (dashed).",
    "grid.png": "The grid: each branch and each machine bus (square) coloured by the worst local "
                "nadir after its own outage or trip; grey = not screened, black = unstable.",
    "nadir_per_bus.png": "Intact network: worst local nadir per machine bus.",
}


def report_html(res, grid=None, figs: dict | None = None) -> str:
    """The report as one self-contained HTML page (no external asset).

    Parameters
    ----------
    res : ScreeningResult
        The screening result.
    grid : netcoh.grids.Grid, optional
        The screened grid: its size, synthesised data and drawing are shown.
    figs : dict, optional
        Figures from ``figures(res, grid)`` (made here when None).

    Returns
    -------
    str
        The HTML text.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from netcoh.screening.results import ScreeningResult, normalise, rank
    >>> r = ScreeningResult(rank(normalise(pd.DataFrame({"contingency": ["a"]}))), None, {})
    >>> page = report_html(r)
    >>> page.startswith("<!DOCTYPE html>") and "http" not in page.split("<body")[0]
    True
    """
    figs = figures(res, grid) if figs is None else figs
    s = res.summary()
    st = res.settings
    name = html.escape(str(st.get("case", getattr(grid, "name", "grid"))))
    e = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width,initial-scale=1'>",
             f"<title>netcoh screening: {name}</title>",
             "<script>window.__errors=0;window.addEventListener('error',function(){"
             "window.__errors++;document.documentElement.setAttribute('data-js-errors',"
             "window.__errors);});</script>",
             f"<style>{_CSS}</style></head><body data-ready='0'>",
             f"<h1>N-1 frequency screening: {name}</h1>"]
    sub = []
    if grid is not None:
        g = grid.summary()
        sub.append(f"{g['buses']} buses, {g['branches']} branches, {g['machines']} machines, "
                   f"{grid.f_hz:g} Hz")
    for k, label in (("model", "model"), ("disturbance", "disturbance")):
        if st.get(k) is not None:
            sub.append(f"{label} {e(str(st[k]))}")
    sub.append(e(limits_text(st)))
    parts.append(f"<p class='sub'>{' · '.join(sub)}</p>")
    if st.get("disturbance") == "operator" and st.get("incident_mw") is not None:
        why = st.get("incident_basis")
        parts.append(f"<p class='incident'>Outages that keep the grid whole face the reference "
                     f"incident: {e(incident_text(st))}."
                     + (f" B = {st['incident_mw']:.4g} MW: {e(str(why))}." if why else "")
                     + "</p>")
    badges = "".join(f"<span class='b-{k}'>{v} {k}</span>" for k, v in s["statuses"].items() if v)
    parts.append(f"<div class='badges'>{s['contingencies']} contingencies: {badges}</div>")
    if s.get("worst_contingency"):
        parts.append("<p>Worst: <b>" + e(s["worst_contingency"]) + "</b>, local nadir "
                     + _fmt(s["worst_nadir_hz"]) + " Hz at " + e(s["worst_bus"]) + " (t = "
                     + _fmt(s["worst_time_s"]) + " s), centre of inertia "
                     + _fmt(s["worst_contingency_coi_nadir_hz"]) + " Hz."
                     + "".join(f" {what}: {_fmt(s[key])} {unit} ({e(s[which])})."
                               for key, which, what, unit in (
                                   ("worst_coi_nadir_hz", "worst_coi_contingency",
                                    "Deepest centre-of-inertia nadir", "Hz"),
                                   ("worst_rocof_hz_per_s", "worst_rocof_contingency",
                                    "Steepest centre-of-inertia RoCoF", "Hz/s"))
                               if s.get(key) is not None) + "</p>")
    if s.get("base_nadir_hz") is not None:
        parts.append(f"<p>Intact network: worst local nadir {_fmt(s['base_nadir_hz'])} Hz at "
                     f"{e(str(s['base_worst_bus']))}.</p>")
    synth = (getattr(grid, "provenance", None) or {}).get("synthesised") or []
    if synth:
        items = "".join(f"<li><b>{e(', '.join(x.get('fields', [])))}</b>: {e(str(x.get('rule', '')))}"
                        "</li>" for x in synth)
        parts.append(f"<div class='datanote'>Data not in the source case, synthesised by a stated "
                     f"rule:<ul>{items}</ul></div>")
    parts.append("<h2>Figures</h2><div class='figs'>")
    for fname in ("contingencies.png", "worst_trajectories.png", "grid.png", "nadir_per_bus.png"):
        if fname in figs:
            parts.append(f"<figure><img alt='{fname[:-4]}' src='data:image/png;base64,"
                         f"{figs[fname]}'><figcaption>{_CAPTIONS[fname]}</figcaption></figure>")
    parts.append("</div><h2>Contingencies, worst first</h2>")
    parts.append("<input id='filter' type='search' placeholder='filter rows (e.g. violation, G3)'>"
                 "<p class='sub'>Click a heading to sort. Margins are limit minus value: "
                 "negative breaks the limit.</p>")
    parts.append(_table(res.table))
    parts.append("<details><summary>Settings</summary><pre>"
                 + e(json.dumps(_jsonable(st), indent=1)) + "</pre></details>")
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(parts)


def incident_text(settings: dict) -> str:
    """The reference incident of a run's settings in words.

    Parameters
    ----------
    settings : dict
        ``ScreeningResult.settings`` of an operator-semantics run.

    Returns
    -------
    str
        E.g. ``"single: the loss of any one unit's dispatch, capped at 320 MW"``.

    Examples
    --------
    >>> incident_text({"incident": "budget", "incident_mw": 1000.0})
    'budget: any generation loss up to 1000 MW in total, each unit at most its dispatch'
    >>> incident_text({"incident": "single", "incident_mw": 320.3})
    "single: the loss of any one unit's dispatch, capped at 320.3 MW"
    """
    B = settings.get("incident_mw")
    kind = settings.get("incident") or "budget"
    if kind == "set" or settings.get("incident_set"):
        return f"set: {settings.get('incident_set')}"
    if kind == "single":
        return f"single: the loss of any one unit's dispatch, capped at {B:.4g} MW"
    return f"budget: any generation loss up to {B:.4g} MW in total, each unit at most its dispatch"


def limits_text(settings: dict) -> str:
    """The limits a screening checked, in words.

    Parameters
    ----------
    settings : dict
        ``ScreeningResult.settings`` (its ``limits`` and ``limits_name``).

    Returns
    -------
    str

    Examples
    --------
    >>> limits_text({"limits": {"nadir_hz": 0.8, "rocof_hz_per_s": None, "qss_hz": 0.2},
    ...              "limits_name": "continental_europe"})
    'limits continental_europe: nadir 0.8 Hz, quasi-steady 0.2 Hz'
    """
    lim = settings.get("limits") or {}
    named = ", ".join(f"{name} {lim[k]:g} {unit}" for k, name, unit in (
        ("nadir_hz", "nadir", "Hz"), ("rocof_hz_per_s", "RoCoF", "Hz/s"),
        ("qss_hz", "quasi-steady", "Hz")) if lim.get(k) is not None)
    return f"limits {settings.get('limits_name') or 'custom'}: {named or 'none'}"


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.4g}"


def _table(t: pd.DataFrame) -> str:
    df = t.reset_index(drop=True).copy()
    df["breaks"] = broken_limits(df)
    # a margin column without its limit (or a metric no row has) would be empty throughout;
    # the limits broken are shown when some violation is not (only) the nadir's
    cols = [(c, h, f) for c, h, f in _TABLE
            if (f != "f" or (c in df and pd.to_numeric(df[c], errors="coerce").notna().any()))
            and (c != "breaks" or (~df["breaks"].isin(["", "nadir"])).any())]
    head = "".join(f"<th data-col='{c}' data-type='{f}' class='{'s' if f == 's' else ''}'>"
                   f"{html.escape(h)}</th>" for c, h, f in cols)
    rows = []
    notes = [_note(r) for r in df.to_dict("records")]
    for i, rec in enumerate(df.to_dict("records")):
        cells = []
        for c, _, f in cols:
            v = notes[i] if c == "note" else rec.get(c, "")
            text, key = _cell(v, f)
            cls = "note" if c == "note" else ("s" if f == "s" else "")
            cells.append(f"<td class='{cls}' data-v='{key}'>{text}</td>")
        status = html.escape(str(rec.get("status", "")))
        rows.append(f"<tr class='{status}' data-rank='{i + 1}'>{''.join(cells)}</tr>")
    return (f"<div class='wrap'><table id='results'><thead><tr>{head}</tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table></div>")


def write_report(res, path, grid=None, figs: dict | None = None) -> Path:
    """Write the report page (``report_html``) to ``path`` (atomically).

    Parameters
    ----------
    res : ScreeningResult
        The screening result.
    path : str or os.PathLike
        The HTML file.
    grid : netcoh.grids.Grid, optional
        The screened grid.
    figs : dict, optional
        Figures from ``figures(res, grid)`` (made here when None).

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import matplotlib, os, tempfile; matplotlib.use("Agg")
    >>> from netcoh.screening.results import ScreeningResult, normalise, rank
    >>> r = ScreeningResult(rank(normalise(pd.DataFrame({"contingency": ["a"]}))), None, {})
    >>> write_report(r, os.path.join(tempfile.mkdtemp(), "r.html")).stat().st_size > 1000
    True
    """
    return atomic_write_text(Path(path), report_html(res, grid, figs))


def write_outputs(res, folder, grid=None, *, csv: bool = True) -> list:
    """Write every output file of a screening run into ``folder``.

    Parameters
    ----------
    res : ScreeningResult
        The screening result.
    folder : str or os.PathLike
        An existing folder.
    grid : netcoh.grids.Grid, optional
        The screened grid (for the report's drawing and data notes).
    csv : bool
        Write ``results.csv`` (False when a results store already wrote it).

    Returns
    -------
    list of pathlib.Path
        The files written (names in ``netcoh.screening.report.OUTPUT_FILES``).

    Examples
    --------
    >>> import matplotlib, tempfile; matplotlib.use("Agg")
    >>> from netcoh.screening.results import ScreeningResult, normalise, rank
    >>> r = ScreeningResult(rank(normalise(pd.DataFrame({"contingency": ["a"]}))), None, {})
    >>> [p.name for p in write_outputs(r, tempfile.mkdtemp())][:3]
    ['results.csv', 'results.parquet', 'worst_disturbances.csv']
    """
    folder = Path(folder)
    table = res.table.reset_index(drop=True).reindex(columns=STORED_COLUMNS)
    written = []
    if csv:
        written.append(atomic_write_text(folder / "results.csv", _csv_text(table, header=True)))
    written.append(atomic_write_bytes(folder / "results.parquet", _to_parquet(table)))
    written.append(atomic_write_text(folder / "worst_disturbances.csv",
                                     res.disturbances.to_csv(index=False, lineterminator="\n")))
    written.append(atomic_write_bytes(folder / "trajectories.parquet",
                                      _to_parquet(res.trajectories)))
    summ = res.summary()
    if grid is not None:
        summ["synthesised"] = (getattr(grid, "provenance", None) or {}).get("synthesised") or []
    written.append(atomic_write_text(folder / "summary.json",
                                     json.dumps(_jsonable(summ), indent=2, allow_nan=False)))
    figs = figures(res, grid)
    for fname, data in figs.items():
        written.append(atomic_write_bytes(folder / fname, base64.b64decode(data)))
    written.insert(5, write_report(res, folder / "report.html", grid, figs))
    return written
