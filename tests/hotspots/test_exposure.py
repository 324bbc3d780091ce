"""The case-control hotspot test: a type against all other types in the same place."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geodispatch.analysis.hotspots import HotspotParams, detect_hotspots

from .conftest import disc, uniform

SIDE = 4000.0
TYPES = ("pothole", "litter", "signs", "lights")


def mixed_city(rng: np.random.Generator, n_per_type: int = 12_000) -> pd.DataFrame:
    """A 4 km square where four types share one uniform background."""
    return pd.concat(
        [uniform(rng, n_per_type, side=SIDE, code=code) for code in TYPES], ignore_index=True
    )


def dense_place(rng: np.random.Generator, n_per_type: int, *, x: float, y: float) -> pd.DataFrame:
    """A housing complex: every type alike, many times the background, 120 m across."""
    return pd.concat(
        [disc(rng, n_per_type, x=x, y=y, radius=120, code=code) for code in TYPES],
        ignore_index=True,
    )


def near(frame: pd.DataFrame, x: float, y: float, radius: float = 200.0) -> pd.DataFrame:
    return frame[np.hypot(frame["centroid_x"] - x, frame["centroid_y"] - y) < radius]


def test_a_place_dense_in_every_type_is_not_a_hotspot() -> None:
    rng = np.random.default_rng(31)
    points = pd.concat([mixed_city(rng), dense_place(rng, 150, x=1500, y=1500)], ignore_index=True)
    found = detect_hotspots(points).hotspots
    assert near(found, 1500, 1500).empty
    # the density test, blind to exposure, flags the complex in every type
    density = detect_hotspots(points, params=HotspotParams(case_control=False)).hotspots
    assert set(near(density, 1500, 1500)["service_code"]) == set(TYPES)


def test_a_place_where_one_type_is_over_represented_is_a_hotspot_of_that_type() -> None:
    rng = np.random.default_rng(32)
    points = pd.concat(
        [
            mixed_city(rng),
            dense_place(rng, 150, x=1500, y=1500),
            disc(rng, 300, x=1500, y=1500, radius=120, code="pothole"),  # potholes 3x there
            disc(rng, 40, x=3000, y=800, radius=40, code="litter"),
        ],
        ignore_index=True,
    )
    found = detect_hotspots(points).hotspots
    complex_ = near(found, 1500, 1500)
    assert complex_["service_code"].tolist() == ["pothole"]
    row = complex_.iloc[0]
    # the type's share inside is about twice its city-wide share (1/4): 450 of 900
    assert 1.4 < row["share_ratio"] < 2.2
    assert row["n_all"] >= row["n_reports"]
    assert near(found, 3000, 800)["service_code"].tolist() == ["litter"]
    assert (found["cluster_p"] < 0.05).all()


def test_a_large_planted_area_is_found_once_not_in_fragments() -> None:
    rng = np.random.default_rng(33)
    points = pd.concat(
        [mixed_city(rng), disc(rng, 900, x=2000, y=2000, radius=500, code="signs")],
        ignore_index=True,
    )
    found = detect_hotspots(points).hotspots
    assert len(near(found, 2000, 2000, radius=600)) == 1
    assert len(found) == 1


def test_without_other_types_there_is_nothing_to_compare_with() -> None:
    """One type alone has a share of 1 everywhere: no place is over-represented."""
    rng = np.random.default_rng(34)
    points = pd.concat(
        [uniform(rng, 8000, side=SIDE), disc(rng, 40, x=1000, y=1000, radius=30)],
        ignore_index=True,
    )
    assert detect_hotspots(points).hotspots.empty
