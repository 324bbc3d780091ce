"""Trend labels: new, intensifying, persistent, diminishing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodispatch.analysis.emerging import EmergingParams, Trend, classify_places
from geodispatch.analysis.hotspots import HotspotParams, detect_hotspots
from geodispatch.domain.errors import InputError

from .conftest import disc, uniform


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
    found = detect_hotspots(points, params=HotspotParams(all_types=False)).hotspots
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
    found = detect_hotspots(points, params=HotspotParams(all_types=False)).hotspots
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
        params=HotspotParams(all_types=False),
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
    found = detect_hotspots(points, params=HotspotParams(all_types=False)).hotspots
    assert len(found) == 1
    assert found["trend"].tolist() == [""]
