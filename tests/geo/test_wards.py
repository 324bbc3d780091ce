"""Ward and area assignment on the real Boston layers."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geodispatch.domain.errors import InputError
from geodispatch.geo.crs import lonlat_to_working, to_working
from geodispatch.geo.wards import AREA_COLUMNS, AreaIndex, WardParams, assign_areas, combine_layers
from geodispatch.io.boundaries import read_boundaries
from tests.conftest import BOSTON_2011, DATA

BOUNDARIES = DATA / "boundaries"


@pytest.fixture(scope="module")
def wards():
    return to_working(read_boundaries(BOUNDARIES / "wards_2012-2022.geojson", id_column="WARD"))


@pytest.fixture(scope="module")
def located_2011() -> pd.DataFrame:
    frame = pd.read_csv(
        BOSTON_2011,
        dtype=str,
        keep_default_na=False,
        usecols=["latitude", "longitude", "ward", "precinct"],
    )
    frame["lon"] = pd.to_numeric(frame["longitude"])
    frame["lat"] = pd.to_numeric(frame["latitude"])
    placeholder = np.isclose(frame["lat"], 42.3594) & np.isclose(frame["lon"], -71.0587)
    frame["city_ward"] = pd.to_numeric(frame["ward"].str.extract(r"(\d+)")[0], errors="coerce")
    return frame[~placeholder & frame["city_ward"].notna()]


def test_wards_agree_with_the_citys_own_label_on_located_2011_requests(wards, located_2011):
    result = AreaIndex(wards).assign(located_2011["lon"].to_numpy(), located_2011["lat"].to_numpy())
    ours = pd.to_numeric(result["area_id"].astype(object), errors="coerce").to_numpy()
    assert np.mean(ours == located_2011["city_ward"].to_numpy()) >= 0.99


def test_the_lookup_grid_gives_exactly_the_exact_answer(wards, located_2011):
    lon = located_2011["lon"].to_numpy()[:20_000]
    lat = located_2011["lat"].to_numpy()[:20_000]
    with_grid = AreaIndex(wards, params=WardParams(grid_min_points=0)).assign(lon, lat)
    exact = AreaIndex(wards, params=WardParams(grid_min_points=10**9)).assign(lon, lat)
    pd.testing.assert_frame_equal(with_grid, exact)
    x, y = lonlat_to_working(lon, lat)
    hits = shapely.intersects_xy(wards.geometry.to_numpy()[:, None], x[None, :200], y[None, :200])
    first = np.where(hits.any(axis=0), hits.argmax(axis=0), -1)
    expected = [wards["area_id"].iat[k] if k >= 0 else None for k in first]
    assert with_grid["area_id"].astype(object).iloc[:200].tolist() == expected


def test_points_off_the_map_or_unknown_get_a_reason_not_a_ward(wards):
    # a city-limit point 30 m outside ward 18 snaps; a point in the harbour does not
    out = assign_areas(np.array([-70.95, np.nan]), np.array([42.30, np.nan]), wards)
    assert out["area_id"].isna().all()
    assert out["reason"].tolist() == ["outside every area by more than 60 m", "no location"]
    assert out["method"].tolist() == ["none", "none"]


def test_layers_in_us_feet_without_a_declared_crs_line_up_with_the_wards(located_2011):
    precincts = read_boundaries(
        BOUNDARIES / "precincts_2012-2022_epsg2249.geojson",
        id_column="WARD_PRECINCT",
        crs="EPSG:2249",
    )
    sample = located_2011.head(5000)
    out = AreaIndex(to_working(precincts)).assign(
        sample["lon"].to_numpy(), sample["lat"].to_numpy()
    )
    ward_of_precinct = pd.to_numeric(out["area_id"].astype(object).str[:2], errors="coerce")
    assert np.mean(ward_of_precinct.to_numpy() == sample["city_ward"].to_numpy()) > 0.97


def test_a_layer_not_in_the_working_crs_is_refused(wards):
    with pytest.raises(InputError, match="not the working CRS"):
        AreaIndex(wards.to_crs("EPSG:32619"))


def _squares() -> dict[str, gpd.GeoDataFrame]:
    """Two wards side by side and one precinct over the first, in metres."""
    crs = "EPSG:26986"
    return {
        "ward": gpd.GeoDataFrame(
            {"area_id": ["1", "2"]},
            geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
            crs=crs,
        ),
        "precinct": gpd.GeoDataFrame(
            {"area_id": ['01"A']}, geometry=[shapely.box(0, 0, 1000, 1000)], crs=crs
        ),
    }


def test_combined_layers_say_per_point_what_every_layer_found():
    x = np.array([500.0, 1500.0, -30.0, 5000.0, np.nan])
    y = np.array([500.0, 500.0, 500.0, 500.0, np.nan])
    assigned = {name: AreaIndex(layer).assign_xy(x, y) for name, layer in _squares().items()}
    out = combine_layers(assigned)
    assert list(out.columns) == list(AREA_COLUMNS)
    areas = [json.loads(a) for a in out["areas"]]
    assert areas[0] == {"ward": "1", "precinct": '01"A'}  # quotes survive as JSON
    assert areas[1] == {"ward": "2", "precinct": None}
    assert areas[2] == {"ward": "1", "precinct": '01"A'}  # 30 m outside: snapped
    assert areas[3] == areas[4] == {"ward": None, "precinct": None}
    assert out["ward"].tolist() == [1, 2, 1, pd.NA, pd.NA]
    assert out["ward_method"].tolist() == ["within", "within", "snapped", "none", "none"]
    assert out["area_note"].tolist() == [
        "",
        "precinct: outside every area by more than 60 m",
        "ward, precinct: snapped to the nearest area",
        "ward, precinct: outside every area by more than 60 m",
        "no location",
    ]


def test_combined_layers_without_a_ward_layer_leave_the_ward_empty():
    x, y = np.array([500.0]), np.array([500.0])
    precinct = AreaIndex(_squares()["precinct"]).assign_xy(x, y)
    out = combine_layers({"precinct": precinct})
    assert out["ward"].isna().all()
    assert out["ward_method"].tolist() == [None]
    assert json.loads(out["areas"].iat[0]) == {"precinct": '01"A'}
