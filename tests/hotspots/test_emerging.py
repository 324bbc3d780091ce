"""Trend labels: new, intensifying, persistent, diminishing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodispatch.analysis.emerging import EmergingParams, Trend, classify_places
from geodispatch.analysis.grid_scan import Grid, ScanCells
from geodispatch.analysis.hotspots import (
    HotspotParams,
    _confirmed,
    _split_at_cores,
    detect_hotspots,
)
from geodispatch.domain.errors import InputError

from .conftest import disc, uniform

#: The density test these tests were written for (a type against its own 1 km
#: surroundings, with the all-types view): it still serves the all-types layer. The
#: case-control default is tested in test_exposure.py.
DENSITY = HotspotParams(case_control=False, all_types=True, min_ratio=3.0)


def label_at(frame: pd.DataFrame, x: float, y: float) -> str:
    near = frame[np.hypot(frame["centroid_x"] - x, frame["centroid_y"] - y) < 60]
    assert len(near) == 1, f"expected one hotspot near ({x}, {y}), found {len(near)}"
    return str(near["trend"].iloc[0])


def test_each_kind_of_history_gets_its_label() -> None:
    """Over a year: a corner that appeared in the last quarter, one that was always there,
    one that was there and doubled lately, and one that went quiet."""
    rng = np.random.default_rng(21)
    points = pd.concat(
        [
            uniform(rng, 30_000, side=4000, days=360),
            disc(rng, 25, x=800, y=800, radius=20, start_day=275, end_day=360),  # new
            disc(rng, 60, x=3000, y=800, radius=20, start_day=0, end_day=360),  # persistent
            disc(rng, 40, x=800, y=3000, radius=20, start_day=0, end_day=270),  # intensifying…
            disc(rng, 40, x=800, y=3000, radius=20, start_day=275, end_day=360),  # …lately
            disc(rng, 60, x=3000, y=3000, radius=20, start_day=0, end_day=200),  # diminishing
        ],
        ignore_index=True,
    )
    found = detect_hotspots(
        points, params=HotspotParams(case_control=False, min_ratio=3.0, all_types=False)
    ).hotspots
    assert label_at(found, 800, 800) == Trend.NEW
    assert label_at(found, 3000, 800) == Trend.PERSISTENT
    assert label_at(found, 800, 3000) == Trend.INTENSIFYING
    assert label_at(found, 3000, 3000) == Trend.DIMINISHING


def test_a_corner_seen_only_lately_is_found_by_the_recent_scan() -> None:
    """Ten reports in the last 90 days only: too few for the whole year, new for the window."""
    rng = np.random.default_rng(22)
    points = pd.concat(
        [
            uniform(rng, 10_000, side=4000, days=360),
            disc(rng, 10, x=2000, y=2000, radius=15, start_day=300, end_day=360),
        ],
        ignore_index=True,
    )
    found = detect_hotspots(
        points, params=HotspotParams(case_control=False, min_ratio=3.0, all_types=False)
    ).hotspots
    assert label_at(found, 2000, 2000) == Trend.NEW
    assert found["trend"].eq(Trend.NEW).sum() == 1
    assert found["found_in"].tolist() == ["recent"]


def test_a_city_wide_surge_does_not_make_every_hotspot_emerging() -> None:
    """Everything doubles in the last quarter (a storm): hotspots stay persistent."""
    rng = np.random.default_rng(23)
    base = uniform(rng, 20_000, side=4000, days=360)
    surge = uniform(rng, 6_000, side=4000, days=90)
    surge["created_at"] += pd.Timedelta(days=270)
    spot = disc(rng, 60, x=2000, y=2000, radius=20, start_day=0, end_day=360)
    extra = disc(rng, 20, x=2000, y=2000, radius=20, start_day=270, end_day=360)
    found = detect_hotspots(
        pd.concat([base, surge, spot, extra], ignore_index=True),
        params=HotspotParams(case_control=False, min_ratio=3.0, all_types=False),
    ).hotspots
    assert label_at(found, 2000, 2000) == Trend.PERSISTENT


def test_share_tests_need_the_rate_to_at_least_double() -> None:
    params = EmergingParams()
    trends = classify_places(
        n_total=np.array([1000, 1000, 30, 60]),
        n_recent=np.array([300, 160, 30, 0]),
        expected_total=np.array([100.0, 100.0, 1.0, 10.0]),
        share=np.full(4, 0.125),
        long_run=np.array([True, True, False, True]),
        params=params,
        min_reports=5,
    )
    # 300 of 1000 vs 12.5 %: rate ratio 3.0 → intensifying (it was a hotspot before)
    # 160 of 1000: certain, but a 1.33× drift → persistent
    # 30 of 30, nothing before → new; 0 of 60 → diminishing
    assert trends.trend.tolist() == ["intensifying", "persistent", "new", "diminishing"]
    assert trends.rate_ratio[1] == pytest.approx((160 / 840) / (0.125 / 0.875))


def test_a_recent_only_place_that_is_not_emerging_is_dropped() -> None:
    trends = classify_places(
        n_total=np.array([40]),
        n_recent=np.array([5]),
        expected_total=np.array([5.0]),
        share=np.array([0.125]),
        long_run=np.array([False]),
        params=EmergingParams(),
        min_reports=5,
    )
    assert trends.trend.tolist() == [""]


def test_emerging_params_are_checked() -> None:
    with pytest.raises(InputError, match="window_days must be in"):
        EmergingParams(window_days=0)
    with pytest.raises(InputError, match="min_rate_ratio must be at least 1"):
        EmergingParams(min_rate_ratio=0.5)
    with pytest.raises(InputError, match="min_new_cells must be at least 1"):
        EmergingParams(min_new_cells=0)
    with pytest.raises(InputError, match="core_gap_m must be in"):
        EmergingParams(core_gap_m=-5)


def trends_near(frame: pd.DataFrame, x: float, y: float, within: float) -> list[str]:
    near = np.hypot(frame["centroid_x"] - x, frame["centroid_y"] - y) < within
    return sorted(frame.loc[near, "trend"].astype(str))


def year_of_potholes(seed: int, *spots: tuple[int, float, float, float]) -> pd.DataFrame:
    """Hotspots found in a year of background potholes plus ``spots``.

    A spot is (reports, x, radius, first day): reports on a disc at (x, 2000) from that
    day to the end of the year.
    """
    rng = np.random.default_rng(seed)
    parts = [uniform(rng, 30_000, side=4000, days=360)]
    for n, x, radius, first_day in spots:
        parts.append(disc(rng, n, x=x, y=2000, radius=radius, start_day=first_day, end_day=360))
    points = pd.concat(parts, ignore_index=True)
    return detect_hotspots(
        points, params=HotspotParams(case_control=False, min_ratio=3.0, all_types=False)
    ).hotspots


def test_a_new_corner_touching_a_busy_hotspot_is_its_own_new_hotspot() -> None:
    """A corner that appeared last quarter 110 m from a year-round hotspot of the same type:
    the recent window sees one cluster over both, whose share is not new as a whole."""
    found = year_of_potholes(32, (200, 2000, 60, 0), (20, 2110, 20, 280))
    assert trends_near(found, 2110, 2000, within=20) == [Trend.NEW]
    assert trends_near(found, 2000, 2000, within=40) == [Trend.PERSISTENT]


def test_a_burst_inside_a_persistent_hotspot_is_reported_on_its_own() -> None:
    """Thirty reports in the last quarter on one corner *inside* a busy year-round hotspot:
    their windows' recent share jumps, so the corner is cut out and labelled."""
    found = year_of_potholes(31, (300, 2000, 120, 0), (30, 2060, 15, 280))
    burst = trends_near(found, 2060, 2000, within=30)
    assert len(burst) == 1
    assert Trend(burst[0]).is_emerging
    assert Trend.PERSISTENT in trends_near(found, 2000, 2000, within=60)


def test_two_new_corners_close_together_are_two_hotspots() -> None:
    found = year_of_potholes(33, (12, 2000, 20, 280), (12, 2190, 20, 280))
    assert trends_near(found, 2000, 2000, within=25) == [Trend.NEW]
    assert trends_near(found, 2190, 2000, within=25) == [Trend.NEW]


def test_a_lone_recent_cell_away_from_old_hotspots_is_dropped_but_not_beside_one() -> None:
    grid = Grid(x0=0, y0=0, cell_m=25, nx=20, ny=20)
    lone, beside, cluster = 5 * 20 + 5, 10 * 20 + 11, [15 * 20 + 3, 15 * 20 + 4, 16 * 20 + 4]
    history = np.array([10 * 20 + 10])
    recent = ScanCells(
        np.sort(np.array([lone, beside, *cluster])), np.full(5, 1e-6), np.full(5, 0.01), 800
    )
    kept = _confirmed(grid, recent, history, min_cells=3)
    assert kept.cell.tolist() == sorted([beside, *cluster])


def test_a_cluster_with_two_cores_is_cut_between_them() -> None:
    """Cells 0..9 of one row form one cluster; cores at both ends: each half goes to its core."""
    grid = Grid(x0=0, y0=0, cell_m=25, nx=20, ny=4)
    cells = np.arange(10)
    core = np.isin(cells, [0, 1, 8, 9])
    labels = _split_at_cores(grid, cells, np.zeros(10, dtype=np.int64), core, reach=1)
    assert labels.tolist() == [0] * 5 + [1] * 5
    # cores 2 cells apart are one corner at a 50 m gap (reach 1): nothing is cut
    close = np.isin(cells, [0, 1, 4, 5])
    same = _split_at_cores(grid, cells, np.zeros(10, dtype=np.int64), close, reach=1)
    assert set(same.tolist()) == {0}


def test_without_history_before_the_window_trends_are_not_assessed() -> None:
    """Sixty days of data and a 90-day window: nothing to compare with."""
    rng = np.random.default_rng(24)
    points = pd.concat(
        [
            uniform(rng, 10_000, side=4000, days=60),
            disc(rng, 30, x=2000, y=2000, radius=20, start_day=0, end_day=60),
        ],
        ignore_index=True,
    )
    found = detect_hotspots(
        points, params=HotspotParams(case_control=False, min_ratio=3.0, all_types=False)
    ).hotspots
    assert len(found) == 1
    assert found["trend"].tolist() == [""]
