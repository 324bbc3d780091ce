"""Ward summary, maps (XSS inert, offline assets, object cap) and exports."""

from __future__ import annotations

import io
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geodispatch.domain.errors import InputError
from geodispatch.reporting.hotspot_export import hotspots_csv, hotspots_geojson
from geodispatch.reporting.maps import (
    CompactHeatMap,
    MapParams,
    TileSource,
    build_hotspot_map,
    count_objects,
    drawn_hotspots,
    render_html,
)
from geodispatch.reporting.ward_summary import summarise_wards
from tests.hotspots.conftest import heat_points
from tests.security.map_pages import map_texts, page_outside_text

XSS = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
AS_OF = pd.Timestamp("2024-12-31", tz="UTC")


def stored_hotspots() -> pd.DataFrame:
    """Two hotspots as the repository returns them; the address is hostile."""
    polygon = shapely.box(-71.06, 42.35, -71.059, 42.351)
    return pd.DataFrame(
        {
            "id": [12, 13],
            "service_code": ["pothole", None],
            "service_name": ["Pothole", "All types"],
            "trend": ["new", "persistent"],
            "found_in": ["history", "history"],
            "wards": ["3;4", "3"],
            "primary_ward": ["3", "3"],
            "n_reports": [40, 90],
            "expected": [4.0, 20.0],
            "ratio": [10.0, 4.5],
            "p_value": [1e-12, 1e-9],
            "q_value": [1e-10, 1e-7],
            "distinct_addresses": [3, 30],
            "distinct_sites": [3, 28],
            "top_address": [f"12 Elm St {XSS}", "=HYPERLINK(1)"],
            "top_address_reports": [25, 4],
            "first_report_at": pd.to_datetime(["2024-10-01", "2024-01-02"], utc=True),
            "last_report_at": pd.to_datetime(["2024-12-20", "2024-12-30"], utc=True),
            "months_with_reports": [3, 12],
            "months_active": [12, 12],
            "monthly_recurrence": [0.25, 1.0],
            "open_share": [0.5, np.nan],
            "n_recent": [38, 25],
            "recent_share": [0.95, 0.28],
            "expected_share": [0.25, 0.25],
            "trend_q": [1e-8, 0.4],
            "area_m2": [5000.0, 9000.0],
            "centroid_lon": [-71.0595, -71.0595],
            "centroid_lat": [42.3505, 42.3505],
            "first_detected_at": pd.to_datetime(["2025-01-01", "2025-01-01"], utc=True),
            "geometry": [json.dumps(shapely.geometry.mapping(polygon))] * 2,
        }
    )


def filtered_requests(n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "lon": -71.06 + rng.uniform(0, 0.02, n),
            "lat": 42.35 + rng.uniform(0, 0.02, n),
            "service_code": "pothole",
            "service_name": "Pothole",
            "address": [f"{k} Main St" for k in range(n - 1)] + [XSS],
            "description": [XSS] * n,
            "status": "new",
            "created_at": pd.Timestamp("2024-12-01", tz="UTC"),
        }
    )


def wards() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"area_id": ["3", "4"]},
        geometry=[
            shapely.box(-71.07, 42.34, -71.05, 42.36),
            shapely.box(-71.05, 42.34, -71.03, 42.36),
        ],
        crs="EPSG:4326",
    )


def test_map_popups_hold_user_text_as_data_so_a_script_in_a_description_is_inert() -> None:
    page = render_html(
        build_hotspot_map(
            hotspots=stored_hotspots(),
            requests=filtered_requests(),
            wards=wards(),
            ward_counts=pd.DataFrame({"ward": ["3"], "requests": [50]}),
        )
    )
    # the payload never appears as markup, and not even escaped in the page's own code
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "alert(1)" not in page_outside_text(page)
    # it is in the page's text data, exactly as typed, for the page to show as text
    texts = map_texts(page)
    assert XSS in texts  # a description
    assert f"12 Elm St {XSS} (25)" in texts  # the hotspot's most reported address


def test_the_rendered_map_loads_nothing_from_the_network() -> None:
    page = render_html(build_hotspot_map(hotspots=stored_hotspots(), requests=filtered_requests()))
    remote_scripts = re.findall(r'<script[^>]+src="(https?:)?//', page)
    remote_styles = re.findall(r'<link[^>]+href="(https?:)?//', page)
    assert remote_scripts == []
    assert remote_styles == []
    assert "L.heatLayer" in page or "heatLayer" in page  # Leaflet.heat is inlined
    assert "Leaflet 1.9.4" in page or "leafletjs.com" in page  # Leaflet itself is inlined


def test_many_requests_become_a_heat_layer_not_thousands_of_markers() -> None:
    fmap = build_hotspot_map(
        hotspots=stored_hotspots(), requests=filtered_requests(20_000), params=MapParams()
    )
    assert count_objects(fmap) < 50
    assert "Description" not in fmap.get_root().render()


def test_a_map_over_the_object_cap_is_refused_with_advice() -> None:
    one = stored_hotspots().iloc[[0]]
    many = pd.concat(
        [one.assign(service_code=f"t{k}", service_name=f"Type {k}") for k in range(40)],
        ignore_index=True,
    )
    with pytest.raises(InputError, match="narrow the filter"):
        build_hotspot_map(
            hotspots=many, requests=filtered_requests(), params=MapParams(max_objects=20)
        )


def test_tile_sources_must_have_placeholders_and_attribution() -> None:
    with pytest.raises(InputError, match="placeholders"):
        TileSource("http://localhost/tiles.png", "© OSM")
    with pytest.raises(InputError, match="attribution"):
        TileSource("http://localhost/{z}/{x}/{y}.png", " ")


def test_geojson_export_round_trips_through_a_gis_reader() -> None:
    text = hotspots_geojson(stored_hotspots())
    back = gpd.read_file(io.StringIO(text))
    assert back["id"].tolist() == [12, 13]
    assert back["service_code"].tolist() == ["pothole", "*"]
    assert back.geometry.iloc[0].equals(shapely.box(-71.06, 42.35, -71.059, 42.351))
    assert back["top_address"].iloc[0].endswith(XSS)  # data stays data in GeoJSON


def test_csv_export_round_trips_and_defuses_spreadsheet_formulas() -> None:
    back = pd.read_csv(io.StringIO(hotspots_csv(stored_hotspots())))
    assert back["id"].tolist() == [12, 13]
    assert back["n_reports"].tolist() == [40, 90]
    assert back["top_address"].iloc[1] == "'=HYPERLINK(1)"
    assert back["wards"].iloc[0] == "3;4"


def test_ward_summary_counts_changes_and_lists_typed_hotspots_first() -> None:
    recent = AS_OF - pd.Timedelta(days=10)
    before = AS_OF - pd.Timedelta(days=100)
    requests = pd.DataFrame(
        {
            "ward": [3] * 60 + [4] * 12 + [None],
            "service_code": ["pothole"] * 50 + ["graffiti"] * 10 + ["pothole"] * 12 + ["pothole"],
            "service_name": ["Pothole"] * 50 + ["Graffiti"] * 10 + ["Pothole"] * 13,
            "created_at": [recent] * 45 + [before] * 5 + [recent] * 10 + [before] * 12 + [recent],
            "is_open": [True] * 20 + [False] * 53,
        }
    )
    summary = summarise_wards(requests, stored_hotspots(), as_of=AS_OF, window_days=90)
    by_ward = summary.by_ward.set_index("ward")
    assert by_ward.loc["3", "requests"] == 60
    assert by_ward.loc["3", "open"] == 20
    assert by_ward.loc["3", "recent"] == 55
    assert by_ward.loc["3", "previous"] == 5
    assert by_ward.loc["3", "change"] == pytest.approx(10.0)
    assert bool(by_ward.loc["3", "changed"])
    assert by_ward.loc["3", "hotspots"] == 1
    assert by_ward.loc["3", "mixed_hotspots"] == 1
    assert by_ward.loc["3", "top_hotspots"].startswith("#12 Pothole ×10.0 (new)")
    assert by_ward.loc["4", "emerging"] == 1
    assert by_ward.loc["4", "change"] == pytest.approx(-1.0)  # 0 recent vs 12 before
    assert bool(by_ward.loc["4", "changed"])
    assert not bool(by_ward.loc["none", "changed"])  # 1 vs 0 is no evidence
    assert list(summary.by_ward["ward"]) == ["3", "4", "none"]
    cells = summary.by_ward_type.set_index(["ward", "service_code"])
    assert cells.loc[("3", "graffiti"), "recent"] == 10
    assert np.isnan(cells.loc[("3", "graffiti"), "change"])


def many_hotspots() -> pd.DataFrame:
    """30 pothole hotspots (the 3 last new), 4 streetlight ones, 2 of all types."""
    one = stored_hotspots().iloc[[0]]
    rows = []
    for k in range(30):
        trend = "new" if k >= 27 else "persistent"
        rows.append(one.assign(id=100 + k, q_value=1e-9 * (k + 1), trend=trend))
    for k in range(4):
        rows.append(
            one.assign(
                id=200 + k,
                service_code="light",
                service_name="Street light",
                q_value=1e-3 * (k + 1),
                trend="persistent",
            )
        )
    for k in range(2):
        rows.append(
            one.assign(id=300 + k, service_code=None, service_name="All types", q_value=1e-2)
        )
    return pd.concat(rows, ignore_index=True)


def test_a_map_draws_each_types_strongest_hotspots_in_turn_new_ones_first() -> None:
    hotspots = many_hotspots()
    drawn = drawn_hotspots(hotspots, 9)
    assert len(drawn) == 9
    # a turn each for potholes, lights and all-types: the three new potholes go first,
    # then the strongest persistent one wins the last place over the fourth light
    potholes = drawn[drawn["service_code"] == "pothole"]["id"].tolist()
    assert potholes == [100, 127, 128, 129]
    assert drawn[drawn["service_code"] == "light"]["id"].tolist() == [200, 201, 202]
    assert drawn["service_code"].isna().sum() == 2  # a small group keeps all its own
    assert drawn_hotspots(hotspots, 3)["id"].tolist() == [127, 200, 300]
    assert len(drawn_hotspots(hotspots, None)) == len(hotspots)
    assert len(drawn_hotspots(hotspots, 100)) == len(hotspots)


def test_the_map_says_how_many_hotspots_it_leaves_out() -> None:
    hotspots = many_hotspots()
    page = render_html(
        build_hotspot_map(
            hotspots=hotspots, requests=filtered_requests(), params=MapParams(max_hotspots=9)
        )
    )
    assert page.count('"type": "Feature"') - 50 == 9  # 50 request points, 9 hotspots
    assert "strongest 9 of 36 hotspots drawn" in page
    assert "Pothole (strongest 4 of 30 hotspots)" in page
    every = render_html(
        build_hotspot_map(
            hotspots=hotspots, requests=filtered_requests(), params=MapParams(max_hotspots=None)
        )
    )
    assert every.count('"type": "Feature"') - 50 == 36
    assert "strongest" not in every
    with pytest.raises(InputError, match="max_hotspots"):
        MapParams(max_hotspots=0)


def test_the_heat_layer_merges_requests_at_one_place_into_a_weighted_point() -> None:
    requests = filtered_requests(4000)
    corners = np.arange(4000) % 40  # 40 corners, 100 requests each, a metre apart at most
    requests["lon"] = -71.06 + corners * 0.001 + (np.arange(4000) % 3) * 1e-5
    requests["lat"] = 42.35 + corners * 0.0005
    points = heat_points(
        render_html(build_hotspot_map(hotspots=many_hotspots(), requests=requests))
    )
    assert 40 <= len(points) <= 80  # one point per corner (two where a cell edge cuts it)
    assert sum(p[2] for p in points) == 4000  # every request still counts in the heat
    assert {round(p[1], 3) for p in points} == {round(-71.06 + c * 0.001, 3) for c in range(40)}
    assert {round(p[0], 4) for p in points} == {round(42.35 + c * 0.0005, 4) for c in range(40)}
    one_by_one = build_hotspot_map(
        hotspots=many_hotspots(), requests=requests, params=MapParams(heat_cell_m=0)
    )
    assert len(heat_points(render_html(one_by_one))) == 4000


def test_the_compact_heat_layer_refuses_points_it_cannot_write() -> None:
    with pytest.raises(InputError, match=r"each point must be \[lat, lon, weight\]"):
        CompactHeatMap([[42.35, -71.06], [42.36, -71.05]], decimals=4)
    with pytest.raises(InputError, match="whole numbers"):
        CompactHeatMap([[42.35, -71.06, 0.4]], decimals=4)
    with pytest.raises(InputError, match="decimals must be 0–8"):
        CompactHeatMap([[42.35, -71.06, 1]], decimals=-1)
    empty = CompactHeatMap([], decimals=4)
    assert empty.steps == "[]"
