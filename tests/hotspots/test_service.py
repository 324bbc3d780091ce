"""Hotspots stored, refreshed and used to tag requests, on real Boston rows in SQLite."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

from geodispatch.cli import app
from geodispatch.config import Settings
from geodispatch.domain.errors import ConfigError
from geodispatch.services import hotspots as service
from geodispatch.services.geo import service_area
from geodispatch.services.intake import import_file, import_payload
from geodispatch.storage import db, hotspots_repo
from geodispatch.storage.tables import Base
from tests.security.map_pages import map_texts, page_outside_text

from .conftest import XSS_DESCRIPTION, boston_subset, report


def sql(settings: Settings, query: str) -> list[tuple[object, ...]]:
    path = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        return connection.execute(query).fetchall()


def test_migration_0003_creates_exactly_the_declared_schema_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    db.upgrade(url)
    with db.get_engine(url).connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    config = db.alembic_config(url)
    with db.get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    with db.get_engine(url).connect() as connection:
        tables = set(connection.exec_driver_sql("SELECT name FROM sqlite_master").scalars())
    assert "hotspots" not in tables
    assert "hotspot_runs" not in tables


def test_refresh_stores_hotspots_with_wards_and_tags_the_requests_inside(
    boston_db: Settings,
) -> None:
    hotspots = service.list_hotspots(
        service.HotspotFilter(include_one_address=True), settings=boston_db
    )
    assert len(hotspots) >= 8
    typed = hotspots[hotspots["service_code"].notna()]
    assert typed["wards"].str.len().gt(0).mean() > 0.95  # every hotspot lies in a ward
    assert (typed["ratio"] >= 1).all()
    assert (typed["q_value"] < 0.05).all()
    # a tagged request lies inside its hotspot's polygon, and of its own type or all types
    rows = sql(
        boston_db,
        "SELECT r.lon, r.lat, r.service_code, h.service_code, h.geometry FROM requests r "
        "JOIN hotspots h ON h.id = r.hotspot_id LIMIT 300",
    )
    assert rows
    for lon, lat, code, hotspot_code, geometry in rows:
        polygon = shapely.geometry.shape(json.loads(str(geometry)))
        assert polygon.buffer(1e-6).contains(shapely.Point(lon, lat))
        assert hotspot_code in (code, None)
    # neither City Hall placeholder seeds a hotspot: the one intake blanks, nor the
    # "1 City Hall Plz" point that collects reports of every type
    for city_hall in (shapely.Point(-71.0587, 42.3594), shapely.Point(-71.0583, 42.3603)):
        assert not any(
            shapely.geometry.shape(json.loads(g)).contains(city_hall) for g in hotspots["geometry"]
        )


def test_a_refresh_of_unchanged_data_keeps_every_id(boston_db: Settings) -> None:
    every = service.HotspotFilter(include_one_address=True, include_all_types=True)
    before = set(service.list_hotspots(every, settings=boston_db)["id"])
    summary = service.refresh_hotspots(settings=boston_db)
    after = set(service.list_hotspots(every, settings=boston_db)["id"])
    assert after == before
    assert summary.new == 0
    assert summary.retired == 0
    assert summary.continued == len(before)


def test_a_new_request_is_tagged_with_the_hotspot_it_falls_in(boston_db: Settings) -> None:
    strongest = service.top_hotspots(1, settings=boston_db, per_type=False).iloc[0]
    polygon = shapely.geometry.shape(json.loads(strongest["geometry"]))
    point = polygon.representative_point()
    code = strongest["service_code"]
    found = service.hotspot_at(point.x, point.y, code, settings=boston_db)
    assert found is not None
    assert found.id == strongest["id"]
    result = import_at(boston_db, strongest, point, "TEST-HOTSPOT-1")
    assert result.accepted == 1
    assert result.in_hotspots == 1  # tagged by the import itself, no refresh needed
    tag = sql(boston_db, "SELECT hotspot_id FROM requests WHERE source_id = 'TEST-HOTSPOT-1'")
    assert tag == [(int(strongest["id"]),)]


def test_an_import_tags_its_requests_with_the_hotspot_they_fall_in(hs_settings: Settings) -> None:
    """Background potholes over Boston and one busy corner: once the corner is a stored
    hotspot, a new report there is tagged by the import; one elsewhere is not; a report
    moved away by a later export loses its tag."""
    rng = np.random.default_rng(4)
    corner = (-71.0589, 42.3601)  # by City Hall Plaza
    draws = {
        code: (rng.uniform(-71.12, -71.03, 400), rng.uniform(42.30, 42.37, 400))
        for code in ("PWDx_Pothole", "PWDx_Graffiti", "PWDx_Litter")
    }
    lons = np.concatenate([lon for lon, _ in draws.values()])
    lats = np.concatenate([lat for _, lat in draws.values()])
    background = [
        report(f"BG-{code}-{k}", lon, lat, code)
        for code, (code_lons, code_lats) in draws.items()
        for k, (lon, lat) in enumerate(zip(code_lons, code_lats, strict=True))
    ]
    # forty potholes at one corner, three weeks apart: forty incidents, not one job
    days = pd.Timestamp("2010-01-04T09:00:00-05:00") + pd.to_timedelta(np.arange(40) * 21, "D")
    busy = [
        report(f"CORNER-{k}", corner[0] + dx, corner[1] + dy, when=day.isoformat())
        for k, ((dx, dy), day) in enumerate(zip(rng.normal(0, 0.0001, (40, 2)), days, strict=True))
    ]
    before = import_payload(background + busy, source="test", settings=hs_settings)
    area = service_area(hs_settings)
    assert area is not None
    outside = int((~area.contains(lons, lats)).sum())  # Brookline, Cambridge: refused
    assert 0 < outside < 60
    assert (before.accepted, before.rejected) == (1240 - outside, outside)
    assert before.in_hotspots == 0  # nothing stored yet: nothing to tag, nothing fails
    service.refresh_hotspots(settings=hs_settings)
    stored = service.hotspot_at(*corner, "PWDx_Pothole", settings=hs_settings)
    assert stored is not None

    later = import_payload(
        [report("NEW-AT-CORNER", *corner), report("NEW-ELSEWHERE", -71.10, 42.33)],
        source="test",
        settings=hs_settings,
    )
    assert later.in_hotspots == 1
    tags = dict(
        sql(hs_settings, "SELECT source_id, hotspot_id FROM requests WHERE source_id LIKE 'NEW-%'")
    )
    assert tags == {"NEW-AT-CORNER": stored.id, "NEW-ELSEWHERE": None}

    moved = report("NEW-AT-CORNER", -71.10, 42.331)
    moved["description"] = "the location was corrected"
    again = import_payload([moved], source="test", settings=hs_settings)
    assert (again.updated, again.in_hotspots) == (1, 0)
    assert sql(
        hs_settings, "SELECT hotspot_id FROM requests WHERE source_id = 'NEW-AT-CORNER'"
    ) == [(None,)]


def test_a_file_import_tags_its_new_requests_as_a_refresh_would(
    boston_db: Settings, tmp_path: Path
) -> None:
    """More real 2011 requests (3.6k), imported after the hotspots are stored:
    each new request is tagged at intake with its own type's hotspot, else the all-types
    one, exactly as tagging them afresh does, and no request outside a polygon is tagged."""
    summary = import_file(
        boston_subset(tmp_path / "more_2011.csv", 16, offset=1),
        source="boston",
        settings=boston_db,
    )
    assert summary.inserted > 3_500
    assert summary.in_hotspots > 10
    rows = sql(
        boston_db,
        f"SELECT id, lon, lat, service_code, hotspot_id FROM requests "
        f"WHERE import_id = {summary.import_id} AND lon IS NOT NULL",
    )
    ids, lon, lat, codes, tags = (np.array(c, dtype=object) for c in zip(*rows, strict=True))
    tagged = tags != None  # noqa: E711 (elementwise)
    assert int(tagged.sum()) == summary.in_hotspots
    hotspots = service.list_hotspots(
        service.HotspotFilter(include_one_address=True, include_all_types=True), settings=boston_db
    )
    lon, lat = lon.astype(float), lat.astype(float)
    inside = np.zeros(len(ids), dtype=bool)  # in a hotspot of its own type or of all types
    for code, geometry in zip(hotspots["service_code"], hotspots["geometry"], strict=True):
        polygon = shapely.geometry.shape(json.loads(geometry))
        applies = np.ones(len(ids), dtype=bool) if pd.isna(code) else codes == code
        inside |= applies & shapely.contains_xy(polygon, lon, lat)
    assert (tagged == inside).mean() > 0.999  # points on a polygon's edge may go either way
    service.tag_requests([int(i) for i in ids], settings=boston_db)
    again = sql(
        boston_db,
        f"SELECT hotspot_id FROM requests WHERE import_id = {summary.import_id} "
        "AND lon IS NOT NULL ORDER BY id",
    )
    order = np.argsort(ids.astype(np.int64))
    assert [t for (t,) in again] == list(tags[order])


def import_at(settings: Settings, hotspot: pd.Series, point: shapely.Point, source_id: str):
    """A new resident report (with a script in its description) at ``point``."""
    return import_payload(
        [
            {
                "service_request_id": source_id,
                "service_code": hotspot["service_code"],
                "service_name": hotspot["service_name"],
                "description": XSS_DESCRIPTION,
                "requested_datetime": "2011-12-30T10:00:00-05:00",
                "status": "open",
                "lat": point.y,
                "long": point.x,
            }
        ],
        source="test",
        settings=settings,
    )


def test_a_ward_map_places_unassigned_requests_and_keeps_their_text_inert(
    boston_db: Settings,
) -> None:
    typed_only = service.HotspotFilter(include_all_types=False)
    hotspot = service.top_hotspots(1, typed_only, settings=boston_db, per_type=False).iloc[0]
    point = shapely.geometry.shape(json.loads(hotspot["geometry"])).representative_point()
    import_at(boston_db, hotspot, point, "TEST-MAP-XSS")  # no ward: placed by polygon
    selection = service.HotspotFilter(
        service_codes=(hotspot["service_code"],), wards=(int(hotspot["primary_ward"]),)
    )
    page = service.hotspot_map_html(selection, settings=boston_db)
    assert XSS_DESCRIPTION in map_texts(page)  # shown as text, exactly as typed
    assert "<script>alert" not in page
    assert "pwned" not in page_outside_text(page)


def test_manager_functions_answer_from_the_stored_hotspots(boston_db: Settings) -> None:
    summary = service.ward_summary(settings=boston_db)
    assert summary.by_ward["requests"].sum() > 10_000
    assert summary.by_ward["hotspots"].sum() > 0
    emerging = service.emerging_hotspots(settings=boston_db)
    assert set(emerging["trend"]) <= {"new", "intensifying"}
    ward = int(summary.by_ward.sort_values("hotspots").iloc[-1]["ward"])
    in_ward = service.list_hotspots(service.HotspotFilter(wards=(ward,)), settings=boston_db)
    assert len(in_ward)
    assert in_ward["wards"].map(lambda w: str(ward) in w.split(";")).all()


def test_map_html_is_cached_per_filter_and_works_offline(boston_db: Settings) -> None:
    selection = service.HotspotFilter(service_codes=("street-light-outages",), wards=(3,))
    first = service.hotspot_map_html(selection, settings=boston_db)
    again = service.hotspot_map_html(selection, settings=boston_db)
    assert first is again  # served from the cache
    assert "<script src=" not in first
    assert len(first) < 5_000_000
    everything = service.hotspot_map_html(settings=boston_db)
    assert everything is not first


def test_export_writes_geojson_and_csv_that_read_back(boston_db: Settings, tmp_path: Path) -> None:
    result = service.export_hotspots(
        geojson=tmp_path / "out" / "hotspots.geojson",
        csv=tmp_path / "out" / "hotspots.csv",
        settings=boston_db,
    )
    frame = pd.read_csv(tmp_path / "out" / "hotspots.csv")
    assert len(frame) == result.hotspots > 0
    features = json.loads((tmp_path / "out" / "hotspots.geojson").read_text())["features"]
    assert len(features) == result.hotspots
    with pytest.raises(Exception, match="say where to export"):
        service.export_hotspots(settings=boston_db)


def test_cli_detects_lists_exports_and_maps(hs_settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    sample = boston_subset(tmp_path / "sample.csv", 4)
    assert runner.invoke(app, ["import", str(sample)]).exit_code == 0
    detected = runner.invoke(app, ["hotspots", "detect"])
    assert detected.exit_code == 0, detected.output
    assert "hotspots" in detected.output
    top = runner.invoke(app, ["hotspots", "top", "-n", "2", "--one-address"])
    typed_only = service.HotspotFilter(include_all_types=False, include_one_address=True)
    strongest = service.top_hotspots(2, typed_only, settings=hs_settings).iloc[0]
    assert top.exit_code == 0
    assert f"│ {strongest['id']}" in top.output
    out = tmp_path / "h.geojson"
    exported = runner.invoke(app, ["hotspots", "export", "--geojson", str(out)])
    assert exported.exit_code == 0
    assert out.exists()
    page = tmp_path / "map.html"
    mapped = runner.invoke(app, ["hotspots", "map", str(page), "--ward", "3"])
    assert mapped.exit_code == 0
    assert page.stat().st_size > 100_000
    bad = runner.invoke(app, ["hotspots", "top", "--trend", "exploding"])
    assert bad.exit_code == 1
    assert "unknown trend" in bad.output
    later = runner.invoke(app, ["import", str(boston_subset(tmp_path / "later.csv", 32, offset=3))])
    assert later.exit_code == 0, later.output
    assert "in a known hotspot (tagged): " in later.output


def test_a_database_made_while_slot_0003_was_empty_gets_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", data_dir=tmp_path)
    db.upgrade(settings.database_url)
    with db.get_engine(settings.database_url).begin() as connection:
        connection.exec_driver_sql("DROP TABLE hotspots")
        connection.exec_driver_sql("DROP TABLE hotspot_runs")
    with pytest.raises(ConfigError, match="migration 0003 was still an empty slot"):
        service.list_hotspots(settings=settings)


def test_an_internal_type_never_reaches_the_problem_list(boston_db: Settings) -> None:
    """Boston's "(Internal)" work orders are crew logs: the catalogue marks them, and no
    hotspot, area or one-address, typed or emerging, is of such a type."""
    internal = {
        code for (code,) in sql(boston_db, "SELECT code FROM service_types WHERE public = 0")
    }
    assert internal  # Boston 2011 has them (e.g. Pothole Repair (Internal))
    every = service.HotspotFilter(include_one_address=True)
    listed = service.list_hotspots(every, settings=boston_db)
    assert not set(listed["service_code"].dropna()) & internal
    assert not set(service.emerging_hotspots(every, settings=boston_db)["service_code"]) & internal
    assert not set(service.chronic_list(settings=boston_db)["service_code"]) & internal


def test_a_duplicate_does_not_add_an_event(boston_db: Settings, hs_settings: Settings) -> None:
    """Requests the city closed as duplicates add nothing, and a job counts once."""
    with db.session_scope(boston_db.database_url) as session:
        stored = hotspots_repo.load_requests(session)
        public = hotspots_repo.type_visibility(session)
    events = service.resident_incidents(stored, public)
    duplicate = stored["status"] == "closed_duplicate"
    alone = stored.loc[duplicate & stored["job_id"].isna(), "id"]
    assert len(alone) > 50  # Boston 2011: "Case Noted. Duplicate of Existing Case."
    assert not events["id"].isin(alone).any()
    assert events["job_id"].dropna().is_unique
    assert len(events) < len(stored)

    # six reports of one light the same morning: intake makes them one job, one incident
    light = (-71.0620, 42.3550)
    same = [report(f"LIGHT-{k}", light[0] + 0.00001 * k, light[1], "PWDx_Light") for k in range(6)]
    other = report("ELSEWHERE", -71.09, 42.33, "PWDx_Light", when="2011-06-01T09:00:00-04:00")
    import_payload([*same, other], source="test", settings=hs_settings)
    with db.session_scope(hs_settings.database_url) as session:
        fresh = hotspots_repo.load_requests(session)
        public = hotspots_repo.type_visibility(session)
    assert fresh["job_id"].nunique() == 2
    counted = service.resident_incidents(fresh, public)
    assert len(counted) == 2
    assert sorted(counted["requests"].tolist()) == [1, 6]


def test_the_type_filter_filters_the_ward_table(boston_db: Settings) -> None:
    everything = service.ward_summary(settings=boston_db).by_ward
    strongest = service.top_hotspots(1, per_type=False, settings=boston_db).iloc[0]
    code = str(strongest["service_code"])
    one_type = service.HotspotFilter(service_codes=(code,))
    chosen = service.ward_summary(one_type, settings=boston_db)
    assert set(chosen.by_ward_type["service_code"]) == {code}
    assert chosen.by_ward["requests"].sum() < everything["requests"].sum()
    expected = service.list_hotspots(one_type, settings=boston_db)
    assert chosen.by_ward["hotspots"].sum() >= len(expected) > 0
    typed = service.list_hotspots(settings=boston_db)
    assert everything["hotspots"].sum() >= len(typed) > len(expected)


def test_a_hotspot_opens_to_its_incidents_and_requests(boston_db: Settings) -> None:
    strongest = service.top_hotspots(1, per_type=False, settings=boston_db).iloc[0]
    detail = service.hotspot_detail(int(strongest["id"]), settings=boston_db)
    assert int(detail.hotspot["id"]) == int(strongest["id"])
    assert len(detail.requests) >= len(detail.incidents) > 0
    assert {"address", "created_at", "status", "description"} <= set(detail.requests.columns)
    assert (detail.requests["service_code"] == strongest["service_code"]).all()
    assert detail.incidents["requests"].sum() <= len(detail.requests)
    with pytest.raises(Exception, match="no hotspot #999999"):
        service.hotspot_detail(999_999, settings=boston_db)
