"""The hotspot detector on small synthetic cities with known answers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geodispatch.analysis.hotspots import (
    ALL_TYPES,
    HotspotParams,
    _month_index,
    detect_hotspots,
    hotspot_wards,
    match_previous,
)
from geodispatch.domain.errors import CRSError, InputError, SchemaError

from .conftest import disc, uniform

SIDE = 4000.0

#: The density test these tests were written for (a type against its own 1 km
#: surroundings, with the all-types view): it still serves the all-types layer. The
#: case-control default is tested in test_exposure.py.
DENSITY = HotspotParams(case_control=False, all_types=True, min_ratio=3.0)


def city(seed: int = 5, n: int = 24_000) -> pd.DataFrame:
    """A 4 km square with a uniform background of potholes."""
    return uniform(np.random.default_rng(seed), n, side=SIDE)


def typed(result_frame: gpd.GeoDataFrame, code: str = "pothole") -> gpd.GeoDataFrame:
    return result_frame[result_frame["service_code"] == code]


def test_a_planted_excess_is_found_where_it_was_planted() -> None:
    rng = np.random.default_rng(1)
    points = pd.concat([city(), disc(rng, 30, x=1500, y=2500, radius=30)], ignore_index=True)
    result = detect_hotspots(
        points, params=HotspotParams(case_control=False, min_ratio=3.0, all_types=False)
    )
    found = typed(result.hotspots)
    assert len(found) == 1
    hotspot = found.iloc[0]
    assert np.hypot(hotspot["centroid_x"] - 1500, hotspot["centroid_y"] - 2500) < 30
    assert hotspot["n_reports"] >= 30
    assert hotspot["ratio"] >= 3
    assert hotspot["q_value"] < 0.05
    assert hotspot["geometry"].contains(shapely.Point(1500, 2500))
    # every planted report is tagged with it
    planted = np.arange(len(points)) >= len(points) - 30
    assert (result.point_hotspot[planted] == hotspot["hotspot_id"]).mean() > 0.9


def test_a_busy_district_is_not_a_hotspot() -> None:
    """Downtown, nearly 4× the density of the edge of town, raises its own baseline."""
    rng = np.random.default_rng(2)
    n = 60_000
    x, y = rng.normal(2000, 1500, n), rng.normal(2000, 1500, n)
    inside_city = (x > 0) & (x < SIDE) & (y > 0) & (y < SIDE)
    downtown = pd.DataFrame({"x": x[inside_city], "y": y[inside_city], "service_code": "pothole"})
    points = pd.concat([city(), downtown], ignore_index=True)
    result = detect_hotspots(
        points, params=HotspotParams(case_control=False, min_ratio=3.0, all_types=False)
    )
    assert typed(result.hotspots).empty
    assert (result.point_hotspot >= 0).sum() == 0


def test_noise_alone_gives_no_hotspots_at_the_default_false_discovery_rate() -> None:
    result = detect_hotspots(
        city(seed=8, n=40_000),
        params=HotspotParams(case_control=False, min_ratio=3.0, all_types=False),
    )
    assert result.hotspots.empty
    assert (result.point_hotspot == -1).all()


def test_a_looser_false_discovery_rate_and_no_effect_floor_flag_more_noise() -> None:
    points = city(seed=8, n=40_000)
    strict = detect_hotspots(
        points, params=HotspotParams(case_control=False, min_ratio=3.0, all_types=False)
    )
    loose = detect_hotspots(
        points,
        params=HotspotParams(
            case_control=False, all_types=False, fdr_q=0.5, min_ratio=1.0, min_reports=2
        ),
    )
    assert len(loose.hotspots) > len(strict.hotspots)


def test_the_effect_floor_keeps_a_certain_but_modest_excess_out() -> None:
    """A 2× excess over a busy block is statistically certain but below the 3× floor."""
    rng = np.random.default_rng(4)
    busy = pd.concat([city(n=60_000), disc(rng, 180, x=2000, y=2000, radius=100)])
    strict = detect_hotspots(
        busy, params=HotspotParams(case_control=False, min_ratio=3.0, all_types=False)
    )
    relaxed = detect_hotspots(
        busy, params=HotspotParams(case_control=False, all_types=False, min_ratio=1.5)
    )
    near = lambda frame: frame[  # noqa: E731
        np.hypot(frame["centroid_x"] - 2000, frame["centroid_y"] - 2000) < 150
    ]
    assert near(typed(strict.hotspots)).empty
    assert len(near(typed(relaxed.hotspots))) == 1


def test_adjacent_significant_cells_merge_and_distant_clusters_stay_apart() -> None:
    rng = np.random.default_rng(6)
    points = pd.concat(
        [
            city(),
            disc(rng, 25, x=1000, y=1000, radius=20),
            disc(rng, 25, x=1060, y=1000, radius=20),  # 60 m away: one hotspot
            disc(rng, 25, x=3000, y=3000, radius=20),  # 2.8 km away: its own
        ],
        ignore_index=True,
    )
    found = typed(
        detect_hotspots(
            points, params=HotspotParams(case_control=False, min_ratio=3.0, all_types=False)
        ).hotspots
    )
    assert len(found) == 2
    west = found[found["centroid_x"] < 2000].iloc[0]
    assert west["n_reports"] >= 50
    assert west["geometry"].contains(shapely.Point(1000, 1000))
    assert west["geometry"].contains(shapely.Point(1060, 1000))


def test_types_are_scanned_separately_and_together() -> None:
    rng = np.random.default_rng(7)
    points = pd.concat(
        [
            city(),
            uniform(rng, 8000, side=SIDE, code="graffiti"),
            disc(rng, 25, x=2500, y=800, radius=25, code="graffiti"),
        ],
        ignore_index=True,
    )
    found = detect_hotspots(points, params=DENSITY).hotspots
    graffiti = typed(found, "graffiti")
    assert len(graffiti) == 1
    assert typed(found, "pothole").empty
    assert set(found["service_code"]) <= {"graffiti", "pothole", ALL_TYPES}


def test_the_result_is_the_same_with_one_thread_or_two() -> None:
    rng = np.random.default_rng(8)
    points = pd.concat(
        [
            city(),
            uniform(rng, 8000, side=SIDE, code="graffiti"),
            disc(rng, 25, x=2500, y=800, radius=25, code="graffiti"),
            disc(rng, 40, x=1000, y=3000, radius=40, start_day=290),
        ],
        ignore_index=True,
    )
    one = detect_hotspots(points, workers=1, params=DENSITY)
    two = detect_hotspots(points, workers=2, params=DENSITY)
    assert len(one.hotspots) >= 3
    pd.testing.assert_frame_equal(
        pd.DataFrame(one.hotspots.drop(columns="geometry")),
        pd.DataFrame(two.hotspots.drop(columns="geometry")),
    )
    assert one.hotspots.geometry.geom_equals(two.hotspots.geometry).all()
    assert np.array_equal(one.point_hotspot, two.point_hotspot)
    assert np.array_equal(one.point_hotspot_all, two.point_hotspot_all)


@pytest.mark.parametrize("zone", ["America/New_York", "America/Santiago", "Asia/Kathmandu"])
def test_calendar_months_are_those_of_the_city_clock(zone: str) -> None:
    """Month starts looked up once agree with converting every time (DST, midnight jumps)."""
    rng = np.random.default_rng(3)
    starts = pd.date_range("2011-01-01", "2013-12-01", freq="MS").tz_localize(
        zone, nonexistent="shift_forward", ambiguous=True
    )
    edges = starts.tz_convert("UTC").as_unit("ns").asi8
    times = np.concatenate(
        [edges, edges - 1, edges + 1, rng.integers(edges[0], edges[-1], 5000)]
    ).astype(np.int64)
    local = pd.DatetimeIndex(times.astype("datetime64[ns]"), tz="UTC").tz_convert(zone)
    assert np.array_equal(_month_index(times, zone), local.year * 12 + local.month - 1)


def test_reports_without_location_are_left_out_and_counted() -> None:
    points = city(n=5000)
    points.loc[:99, ["x", "y"]] = np.nan
    result = detect_hotspots(points, params=DENSITY)
    assert result.excluded == 100
    assert result.analysed == 4900
    assert (result.point_hotspot[:100] == -1).all()


def test_a_placeholder_point_with_many_unrelated_types_never_seeds_a_hotspot() -> None:
    """City Hall's address collects reports of every kind when the location is unknown."""
    codes = [f"type-{k}" for k in range(20)]
    placeholder = pd.DataFrame(
        {
            "x": 2000.0,
            "y": 2000.0,
            "service_code": [codes[k % 20] for k in range(120)],
            "created_at": pd.Timestamp("2024-03-01", tz="UTC"),
        }
    )
    points = pd.concat([city(), placeholder], ignore_index=True)
    result = detect_hotspots(points, params=DENSITY)
    assert len(result.placeholders) == 1
    assert int(result.placeholders["reports"].iloc[0]) == 120
    assert (
        result.hotspots.empty
        or not result.hotspots.geometry.contains(shapely.Point(2000, 2000)).any()
    )


def test_hotspot_descriptions_count_addresses_months_and_open_reports() -> None:
    rng = np.random.default_rng(9)
    spot = disc(rng, 40, x=1200, y=1200, radius=15)
    spot["created_at"] = pd.to_datetime(
        ["2024-01-15T12:00Z"] * 10 + ["2024-03-15T12:00Z"] * 10 + ["2024-06-15T12:00Z"] * 20
    )
    spot["address"] = ["12 ELM ST"] * 25 + ["14 Elm St "] * 5 + ["16 ELM ST"] * 10
    spot["is_open"] = [True] * 10 + [False] * 30
    background = city(n=20_000)
    background["address"] = ""
    background["is_open"] = False
    points = pd.concat([background, spot], ignore_index=True)
    found = typed(
        detect_hotspots(
            points, params=HotspotParams(case_control=False, min_ratio=3.0, all_types=False)
        ).hotspots
    )
    near = np.hypot(found["centroid_x"] - 1200, found["centroid_y"] - 1200) < 30
    assert near.sum() == 1
    hotspot = found[near].iloc[0]
    assert hotspot["top_address"] == "12 ELM ST"
    assert hotspot["top_address_reports"] == 25
    assert hotspot["distinct_addresses"] == 3  # "14 Elm St " normalised, blanks ignored
    assert hotspot["months_with_reports"] >= 3
    assert hotspot["months_active"] == 12
    assert hotspot["open_share"] == pytest.approx(10 / hotspot["n_reports"], abs=0.02)
    assert hotspot["first_report"] <= pd.Timestamp("2024-01-15T12:00Z")


def test_params_are_checked_with_messages_that_say_what_to_pass() -> None:
    with pytest.raises(InputError, match="odd multiple of cell_m"):
        HotspotParams(windows_m=(50.0,))
    with pytest.raises(InputError, match="fdr_q must be in"):
        HotspotParams(case_control=False, fdr_q=0.0)
    with pytest.raises(InputError, match="baseline_cell_m must be a multiple"):
        HotspotParams(baseline_cell_m=210)


def test_coordinates_in_degrees_or_feet_are_refused() -> None:
    with pytest.raises(CRSError, match="metric CRS"):
        detect_hotspots(city(n=100), crs="EPSG:4326")
    with pytest.raises(CRSError, match="foot"):
        detect_hotspots(city(n=100), crs="EPSG:2249")


def test_missing_columns_are_named() -> None:
    with pytest.raises(SchemaError, match="service_code"):
        detect_hotspots(pd.DataFrame({"x": [1.0], "y": [2.0]}), params=DENSITY)


def test_a_hotspot_across_a_ward_boundary_lists_both_wards_largest_first() -> None:
    wards = gpd.GeoDataFrame(
        {"area_id": ["1", "2"]},
        geometry=[shapely.box(0, 0, 1000, 2000), shapely.box(1000, 0, 2000, 2000)],
        crs="EPSG:26986",
    )
    hotspots = gpd.GeoDataFrame(
        {"hotspot_id": [0, 1]},
        geometry=[shapely.box(900, 100, 1300, 200), shapely.box(100, 100, 150, 150)],
        crs="EPSG:26986",
    )
    out = hotspot_wards(hotspots, wards)
    assert out.loc[0, "wards"] == ["2", "1"]
    assert out.loc[0, "primary_ward"] == "2"
    assert out.loc[1, "wards"] == ["1"]


def test_a_refreshed_hotspot_keeps_the_id_of_the_one_it_continues() -> None:
    old = gpd.GeoDataFrame(
        {"id": [7, 8], "service_code": ["pothole", None]},
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(0, 0, 100, 100)],
    )
    new = gpd.GeoDataFrame(
        {"service_code": ["pothole", "graffiti", None, "pothole"]},
        geometry=[
            shapely.box(50, 50, 150, 150),  # overlaps old pothole 7
            shapely.box(0, 0, 100, 100),  # other type: new id
            shapely.box(10, 10, 90, 90),  # all types: continues 8
            shapely.box(500, 500, 600, 600),  # elsewhere: new id
        ],
    )
    assert match_previous(new, old).tolist() == [7, pd.NA, 8, pd.NA]
