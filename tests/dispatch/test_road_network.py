"""Road-network travel times read from a real (small) OpenStreetMap file written by the test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geodispatch.config import Settings
from geodispatch.dispatch.matrix import StraightLineSource, matrix_label
from geodispatch.domain.errors import InputError
from geodispatch.io.road_network import directions, load_graph, road_network_source, way_kmh
from geodispatch.services.dispatch import travel_source
from tests.dispatch.osm_fixture import N1, NODES, S1, C, D, write_extract


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    return write_extract(tmp_path / "town.osm")


def test_crossing_the_river_goes_over_the_one_bridge(extract: Path, tmp_path: Path):
    source = road_network_source(extract, tmp_path / "cache")
    seconds = source.seconds(np.asarray([S1, N1]))
    straight = StraightLineSource().seconds(np.asarray([S1, N1]))
    # S1 → N1 is 440 m across the water, but the road goes 1.7 km east to the bridge and back
    assert seconds[0, 1] > 4 * straight[0, 1]
    bridge = source.seconds(np.asarray([S1, NODES[4], NODES[14], N1]))
    assert seconds[0, 1] == pytest.approx(bridge[0, 1] + bridge[1, 2] + bridge[2, 3], abs=2)


def test_one_way_street_makes_the_matrix_asymmetric(extract: Path, tmp_path: Path):
    source = road_network_source(extract, tmp_path / "cache")
    seconds = source.seconds(np.asarray([C, D]))
    assert seconds[0, 0] == seconds[1, 1] == 0
    # C → D along the one-way street (410 m); D → C round by the bank (about 2.4 km)
    assert seconds[1, 0] > 4 * seconds[0, 1]


def test_graph_is_cached_by_the_file_content(extract: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    first, sha = load_graph(extract, cache)
    assert len(list(cache.glob("road-*.npz"))) == 1
    again, sha_again = load_graph(extract, cache)
    assert sha == sha_again
    np.testing.assert_array_equal(first.seconds, again.seconds)
    # junctions and way ends only: N2 and N3 just shape North Bank St
    assert first.nodes == len(NODES) - 2
    source = road_network_source(extract, cache)
    assert matrix_label(source.key).startswith("road network town.osm")


def test_missing_file_and_tags_are_explained(tmp_path: Path):
    with pytest.raises(InputError, match="not a file"):
        road_network_source(tmp_path / "nowhere.osm.pbf")
    assert directions({"oneway": "yes"}) == (True, False)
    assert directions({"oneway": "-1"}) == (False, True)
    assert directions({"junction": "roundabout"}) == (True, False)
    assert directions({"highway": "residential"}) == (True, True)
    assert way_kmh("residential", "25 mph") == pytest.approx(40.2, abs=0.1)
    assert way_kmh("primary", None) == 50.0


def test_every_plan_uses_the_road_network_when_one_is_set(extract: Path, tmp_path: Path):
    unset = travel_source(Settings(home=tmp_path))
    assert matrix_label(unset.key).startswith("straight line × 1.3 at 25.0 km/h")
    road = travel_source(Settings(home=tmp_path, road_network=extract))
    assert matrix_label(road.key).startswith("road network town.osm")
    assert (tmp_path / "cache").is_dir()  # the parsed graph is kept for the next process
