"""Threshold flags: a bus is flagged when its supremum over the window exceeds the threshold,
between grid points too, on the dense (modal) path as on the Chebyshev path."""

import networkx as nx
import numpy as np
import pytest

import netcoh as nc
from netcoh.analysis.nadir import build_modal_model
from netcoh.analysis.nadir_search import Search, above_level, time_grid
from netcoh.analysis.nadir_sets import NormBall


def _system(n, seed):
    rng = np.random.default_rng(seed)
    G = nx.connected_watts_strogatz_graph(n, 6, 0.1, seed=seed)
    for u, v in G.edges:
        G[u][v]["weight"] = 2 * np.pi * 50 * rng.uniform(5.0, 50.0)
    m = rng.uniform(50.0, 1000.0, n)
    return nc.NetworkSystem.from_graph(G, nodal=nc.nodal.swing(m, m * 16 / 4.38), sparse=True)


@pytest.mark.parametrize("n, seed", [(120, 1), (300, 2)])
def test_dense_and_chebyshev_paths_flag_the_same_buses(n, seed):
    sys = _system(n, seed)
    kw = dict(rho=0.5, dt=0.1, horizon=1.0, f_hz=50.0)
    ref = nc.worst_case_nadir(sys, method="modal", **kw)
    thr = 0.8 * ref.value_hz
    cheb = nc.worst_case_nadir(sys, method="chebyshev", threshold_hz=thr, **kw)
    pruned = nc.worst_case_nadir(sys, method="modal", threshold_hz=thr, **kw)
    full = nc.worst_case_nadir(sys, method="modal", threshold_hz=thr, full_table=True, **kw)
    assert cheb.flagged == pruned.flagged == full.flagged
    assert ref.bus in full.flagged
    # every flagged bus truly exceeds the threshold somewhere in the window, and every other
    # bus stays below it on a grid 50 times finer than the search's
    model = build_modal_model(sys)[0]
    fine = np.linspace(0.0, 1.0, 501)
    S = np.stack([model.rows(np.arange(sys.n), np.full(sys.n, x)) for x in fine])
    sup = 0.5 * 50.0 * np.linalg.norm(S, axis=2).max(axis=0)
    idx = [sys.labels.index(b) for b in full.flagged]
    others = np.setdiff1d(np.arange(sys.n), idx)
    assert np.all(sup[others] <= thr)
    # a flagged bus whose best seed-grid value is below the threshold: the grid alone misses it
    grid = 0.5 * 50.0 * np.linalg.norm(np.stack([model.rows(np.arange(sys.n), np.full(sys.n, x))
                                                 for x in time_grid(0.1, 1.0, False)]),
                                       axis=2).max(axis=0)
    if n == 300:
        assert np.any(grid[idx] <= thr)
    assert np.all(sup[idx] >= thr * (1 - 1e-6))


def test_above_level_decides_between_grid_points():
    # two machines: the deepest dip falls between the points of a coarse grid
    L = 50.0 * nc.laplacian.complete(2)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing([1.0, 3.0], [2.0, 6.0]))
    engine = Search(build_modal_model(sys)[0], NormBall(1.0, 2), 1e-9)
    t = time_grid(0.5, 4.0, False)
    F = engine.table(t)
    fine = np.linspace(0.0, 4.0, 4001)
    sup = engine.table(fine).max(axis=1)
    grid = F.max(axis=1)
    level = 0.5 * (grid[0] + sup[0])              # above the grid's best, below the supremum
    assert grid[0] < level < sup[0]
    out = above_level(engine, t, F, None, level, grid)
    assert out[0] and out.tolist() == (sup > level).tolist()
    assert not above_level(engine, t, F, None, 1.01 * sup.max(), grid).any()


def test_frame_flags_are_the_result_flags():
    # a bus above the threshold only between grid points is flagged in the frame too
    L = 50.0 * nc.laplacian.complete(2)
    sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing([1.0, 3.0], [2.0, 6.0]))
    kw = dict(rho=1.0, f_hz=50.0, horizon=4.0)
    coarse = nc.worst_case_nadir(sys, dt=0.5, **kw).per_bus_hz
    fine = nc.worst_case_nadir(sys, dt=0.001, **kw).per_bus_hz
    k = int(np.argmax(fine / coarse))
    assert fine[k] > coarse[k] * 1.001
    res = nc.worst_case_nadir(sys, dt=0.5, threshold_hz=0.5 * (fine[k] + coarse[k]), **kw)
    frame = res.to_frame()
    assert sys.labels[k] in res.flagged and frame["worst_hz"][k] < res.threshold_hz
    assert set(frame.loc[frame["flagged"], "bus"]) == set(res.flagged)
