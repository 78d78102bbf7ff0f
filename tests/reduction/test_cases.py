"""Reduction on shipped (ANDES-free) grid data: the two areas of Kundur's system."""

import numpy as np
import pytest

import netcoh.grids as grids
from netcoh.exceptions import SynthesizedDataWarning
from netcoh.reduction import reduce_network, spectral_clustering

pytestmark = pytest.mark.filterwarnings("ignore::netcoh.exceptions.SynthesizedDataWarning")


@pytest.fixture(scope="module")
def kundur():
    with pytest.warns(SynthesizedDataWarning):
        return grids.load("kundur")


@pytest.mark.parametrize("weighting", [None, "inertia"])
def test_kundur_two_areas_at_machines(kundur, weighting):
    sys = kundur.to_system(model="swing")
    res = spectral_clustering(sys, weighting=weighting)     # k from the eigengap
    assert res.n_clusters == 2
    areas = {frozenset(np.asarray(sys.labels)[idx]) for idx in res.partition}
    assert areas == {frozenset({"G1", "G2"}), frozenset({"G3", "G4"})}


def test_kundur_two_areas_on_all_buses_and_reduction(kundur):
    sys = kundur.to_system(model="swing_turbine", reduce=None)
    res = spectral_clustering(sys, 2)
    labels = np.asarray(sys.labels)
    area_of = dict(zip(labels, res.labels))
    # Kundur's area 1: G1, G2, buses 1, 2, 5, 6, 7; area 2: G3, G4, buses 3, 4, 9, 10, 11
    one = ["G1", "G2", "bus:1", "bus:2", "bus:5", "bus:6", "bus:7"]
    two = ["G3", "G4", "bus:3", "bus:4", "bus:9", "bus:10", "bus:11"]
    assert len({area_of[x] for x in one}) == 1 and len({area_of[x] for x in two}) == 1
    assert area_of["G1"] != area_of["G3"]
    red = reduce_network(sys, res)
    w = np.logspace(-2, 0, 4)
    err = red.error(w)
    full_gain = np.max(np.abs(np.asarray(red.transfer_matrix(w))))
    assert err.max_error() < 0.5 * full_gain
    assert err.error[0] < err.error[-1]
