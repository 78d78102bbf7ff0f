"""Batches on a Dask cluster: split to the cluster's worker threads, same results."""

import warnings

import numpy as np
import pytest

from netcoh import grids
from netcoh.screening import screen_contingencies
from netcoh.screening.screen import _dask_batches


@pytest.fixture(scope="module")
def kundur():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return grids.load("kundur")


def test_batches_split_to_four_per_cluster_thread_in_order():
    batches = [list(range(i, min(i + 30, 100))) for i in range(0, 100, 30)]
    out = _dask_batches(batches, threads=5)
    assert [c for b in out for c in b] == list(range(100))        # every item once, in order
    assert len(out) >= 4 * 5 and max(len(b) for b in out) == 5
    assert _dask_batches(batches, threads=1) is batches           # 4 batches already: kept
    small = [[i] for i in range(10)]
    assert _dask_batches(small, threads=64) is small              # never merged
    assert _dask_batches([], threads=3) == []


@pytest.mark.dask
def test_large_batches_are_split_over_the_cluster_and_match_serial(kundur):
    import dask.distributed as distributed

    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, distributed.get_task_stream(client) as ts:
        d = screen_contingencies(kundur, "n-1", scheduler=client, horizon=None, batch_size=64)
    tasks = [t for t in ts.data if "evaluate_batch" in str(t["key"])]
    n = d.settings["networks_evaluated"]
    assert len(tasks) == min(n, 16)                 # one 64-item batch became 16 (4 threads)
    s = screen_contingencies(kundur, "n-1", executor="serial", horizon=None)
    assert list(d.to_frame().contingency) == list(s.to_frame().contingency)
    np.testing.assert_array_equal(d.to_frame().nadir_hz, s.to_frame().nadir_hz)
