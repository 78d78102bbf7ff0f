"""The screening report: one self-contained page, checked in a real headless browser
(Debian's chromium; under CI=true a missing browser is a failure, never a skip)."""

import base64
import json
import os
import re
import shutil
import subprocess
import warnings
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from netcoh import grids
from netcoh.cli import main
from netcoh.screening import screen_contingencies
from netcoh.screening.report import OUTPUT_FILES, write_outputs


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is not installed: CI must check the report in a real browser "
                    "(.ci/run installs Debian's chromium)")
    pytest.fail("chromium is needed to check the report (apt-get install chromium)")


def _browser(*args, timeout=120):
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-dev-shm-usage", "--no-first-run", "--virtual-time-budget=5000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """`netcoh screen ieee39 --out DIR`: unit trips lose their dispatch (violations)."""
    out = tmp_path_factory.mktemp("report") / "run"
    rc = main(["screen", "ieee39", "--serial", "--out", str(out), "--top", "3",
               "--fail-on-violation"])
    return out, rc


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.srcs, self.rows = [], {}, [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag in ("body", "html"):
            self.attrs[tag] = a
        if tag == "img":
            self.srcs.append(a.get("src", ""))
        if tag == "tr" and "data-rank" in a:
            self.rows += 1
        for k in ("src", "href"):
            if k in a and tag in ("script", "link", "img", "iframe"):
                self.srcs.append(a[k]) if tag != "img" else None


def test_outputs_and_exit_status(run):
    out, rc = run
    assert rc == 3                  # ieee39's unit trips break the 60 Hz preset's 0.5 Hz limit
    for f in OUTPUT_FILES:
        assert (out / f).stat().st_size > 0, f
    df = pd.read_csv(out / "results.csv", float_precision="round_trip")
    pq = pd.read_parquet(out / "results.parquet")
    assert list(df.columns) == list(pq.columns)
    for c in ("contingency", "kind", "from_bus", "to_bus", "lost_mw", "nadir_hz", "worst_bus",
              "time_s", "coi_nadir_hz", "rocof_hz_per_s", "qss_hz", "margin_hz", "status"):
        assert c in df.columns
    assert df.contingency.tolist() == pq.contingency.tolist()
    # bit for bit: the CSV holds each float's shortest round-trip repr
    for c in ("nadir_hz", "coi_nadir_hz", "rocof_hz_per_s", "margin_hz"):
        np.testing.assert_array_equal(df[c].to_numpy().view(np.int64),
                                      pq[c].to_numpy().view(np.int64))
    summ = json.loads((out / "summary.json").read_text())
    assert summ["contingencies"] == len(df)
    assert summ["violations"] == int((df.status == "violation").sum()) > 0
    assert any("droop" in " ".join(s["fields"]) for s in summ["synthesised"])
    # the deepest COI nadir and the steepest RoCoF are over all rows, not the worst-nadir row's
    ev = df[df.status.isin(["ok", "violation"])]
    for key, which, col in (("worst_coi_nadir_hz", "worst_coi_contingency", "coi_nadir_hz"),
                            ("worst_rocof_hz_per_s", "worst_rocof_contingency", "rocof_hz_per_s")):
        assert summ[key] == ev[col].max()
        assert summ[which] == ev.contingency[ev[col].idxmax()]
    assert summ["worst_contingency_coi_nadir_hz"] == df.coi_nadir_hz.iloc[0]
    # the page states every limit checked and shows only the margins of limits that are set
    page = (out / "report.html").read_text()
    assert "limits north_america: nadir 0.5 Hz" in page
    cols = re.findall(r"data-col='([^']*)'", page)
    assert "margin_hz" in cols
    assert "qss_margin_hz" not in cols and "rocof_margin_hz_per_s" not in cols
    assert "breaks" not in cols                    # the nadir is the only limit
    # the worst disturbance of a unit trip is the unit's own dispatch, as in the power flow
    g = grids.load("ieee39", warn=False)
    dist = pd.read_csv(out / "worst_disturbances.csv")
    trips = df[df.kind == "machine"]
    assert len(trips)
    for _, r in trips.iterrows():
        d = dist[dist.contingency == r.contingency]
        p = float(g.machines.set_index("id").loc[r.element, "p_mw"])
        assert d.machine.tolist() == [r.element]
        assert d.p_mw.iloc[0] == pytest.approx(p, rel=1e-9)
        assert r.lost_mw == pytest.approx(p, rel=1e-9)
    traj = pd.read_parquet(out / "trajectories.parquet")
    assert set(traj.contingency) == set(df.contingency[df.status.isin(["ok", "violation"])])
    # the stored worst-bus trajectory reaches the row's nadir (it was sampled from the same model)
    w = df[df.status == "violation"].iloc[0]
    peak = traj[traj.contingency == w.contingency].worst_bus_hz.abs().max()
    assert peak == pytest.approx(w.nadir_hz, rel=0.02)


def test_page_is_self_contained(run):
    out, _ = run
    text = (out / "report.html").read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    assert page.rows == len(pd.read_csv(out / "results.csv"))
    assert len(page.srcs) == 4 and all(s.startswith("data:image/png;base64,") for s in page.srcs)
    for s in page.srcs:                              # each figure is a real PNG
        assert base64.b64decode(s.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "link" not in page.tags and "iframe" not in page.tags
    assert not re.search(r"(src|href)\s*=\s*['\"](https?:|//)", text)
    assert "@import" not in text and "url(" not in text


@pytest.mark.browser
def test_page_in_a_real_browser(run, tmp_path):
    out, _ = run
    url = (out / "report.html").as_uri()
    proc = _browser("--dump-dom", url + "#sort=-lost_mw")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    body = re.search(r"<body([^>]*)>", dom).group(1)
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', body))
    n = len(pd.read_csv(out / "results.csv"))
    assert attrs["data-ready"] == "1"                # the script ran to its end
    assert attrs["data-rows"] == str(n)
    assert attrs["data-figures-loaded"] == "4"       # every figure decoded by the browser
    assert attrs["data-sorted"] == "lost_mw:desc"    # sorting from the address works
    html_tag = re.search(r"<html([^>]*)>", dom).group(1)
    assert "data-js-errors" not in html_tag          # no uncaught script error
    assert "Uncaught" not in proc.stderr
    # the table is sorted by lost MW, largest first, in the browser's DOM
    cells = re.findall(r"<tr class=\"[\w-]*\" data-rank=\"\d+\"><td[^>]*>[^<]*</td><td[^>]*>"
                       r"[^<]*</td><td class=\"\" data-v=\"([^\"]*)\"", dom)
    vals = [float(v) for v in cells if v]
    assert len(vals) > 10 and vals == sorted(vals, reverse=True)
    shot = tmp_path / "report.png"
    proc = _browser("--hide-scrollbars", "--window-size=1280,1800", f"--screenshot={shot}", url)
    assert proc.returncode == 0 and shot.stat().st_size > 20000
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)
    assert img.shape[:2] == (1800, 1280)
    assert img[..., :3].std() > 0.05                 # not a blank page


@pytest.mark.browser
def test_browser_check_sees_script_errors(run, tmp_path):
    """Negative control: the same page with a broken script is caught by the check above."""
    out, _ = run
    text = (out / "report.html").read_text(encoding="utf-8")
    bad = tmp_path / "bad.html"
    bad.write_text(text.replace("</body>", "<script>undefinedFunction();</script></body>"),
                   encoding="utf-8")
    dom = _browser("--dump-dom", bad.as_uri()).stdout
    assert 'data-js-errors="1"' in re.search(r"<html([^>]*)>", dom).group(1)


def test_write_outputs_from_the_api(tmp_path):
    """The same files from a ScreeningResult made in Python (no results store)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = grids.load("kundur")
        res = screen_contingencies(g, ["G1", "L7-8a", "L6-7"], executor="serial")
    files = write_outputs(res, tmp_path, g)
    assert sorted(p.name for p in files) == sorted(OUTPUT_FILES)
    df = pd.read_csv(tmp_path / "results.csv")
    assert df.contingency.tolist() == res.table.contingency.tolist()
    assert "elapsed_s" not in df.columns            # files depend on the inputs only
    split = df[df.contingency == "branch:L6-7"].iloc[0]
    assert split.disturbance == "island-imbalance" and split.islands == 2
