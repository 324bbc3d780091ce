"""Intake puts requests on the map and in their areas; the CLI can redo it; online is cached."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from geodispatch.cli import app, common
from geodispatch.config import Settings
from geodispatch.domain.errors import ConfigError
from geodispatch.io.online_geocode import FallbackGeocoder, GeopyGeocoder
from geodispatch.services import geo as geo_service
from geodispatch.services.intake import import_file
from geodispatch.storage import geo_repo
from geodispatch.storage.db import get_engine, session_scope, upgrade
from tests.conftest import BOSTON_2011


@pytest.fixture
def wide_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's tables wrap at the console width: room enough for whole words."""
    monkeypatch.setattr(common.console, "width", 250)


def _slice(tmp_path: Path) -> Path:
    """600 real 2011 rows, a third of them on the City Hall placeholder with an address."""
    frame = pd.read_csv(BOSTON_2011, dtype=str, keep_default_na=False)
    placeholder = (frame["latitude"] == "42.3594") & (frame["longitude"] == "-71.0587")
    unknown = frame[placeholder & (frame["location"].str.strip() != "")].head(200)
    known = frame[~placeholder].head(400)
    path = tmp_path / "boston_slice.csv"
    pd.concat([known, unknown]).to_csv(path, index=False)
    return path


def _rows(settings: Settings, sql: str) -> list:
    with get_engine(settings.database_url).connect() as connection:
        return connection.execute(text(sql)).all()


def test_import_geocodes_requests_without_coordinates_and_assigns_every_ward(
    settings: Settings, tmp_path: Path
) -> None:
    summary = import_file(_slice(tmp_path), settings=settings)
    located = summary.located
    assert located.tried == 200
    assert located.geocoded >= 180
    statuses = dict(_rows(settings, "select location_status, count(*) from requests group by 1"))
    assert statuses["source"] == 400
    assert statuses["geocoded"] == located.geocoded
    # every geocoded request has a point, a match type, a score and the address it matched
    bad = _rows(
        settings,
        "select count(*) from requests where location_status = 'geocoded' and (lon is null "
        "or geocode_match is null or geocode_score is null or geocode_address is null)",
    )
    assert bad[0][0] == 0
    # a failure keeps its reason
    failed = _rows(settings, "select location_note from requests where geocode_match = 'none'")
    assert all(note.startswith("address not found: ") for (note,) in failed)
    # every request with a point has its ward, and each layer has a row for every request
    assert (
        _rows(settings, "select count(*) from requests where lon is not null and ward is null")[0][
            0
        ]
        == 0
    )
    # every request carries the area of each configured layer, stored with it
    areas = [json.loads(a) for (a,) in _rows(settings, "select areas from requests")]
    assert len(areas) == 600
    assert {tuple(a) for a in areas} == {("ward", "precinct", "neighborhood")}
    for layer in ("ward", "precinct", "neighborhood"):
        unplaced = _rows(
            settings,
            f"select count(*) from requests where lon is not null "
            f"and json_extract(areas, '$.{layer}') is null",
        )
        assert unplaced[0][0] == 0, layer
    assert _rows(
        settings, "select count(*) from requests where json_extract(areas, '$.ward') != ward"
    ) == [(0,)]
    with session_scope(settings.database_url) as session:
        counts = geo_repo.area_counts(session, "neighborhood")
    assert counts["n"].sum() == 600
    assert counts["area_id"].notna().sum() >= 10  # the slice spans many neighbourhoods
    agree = _rows(
        settings,
        "select avg(ward = source_ward) from requests where location_status = 'source' "
        "and source_ward is not null",
    )[0][0]
    assert agree > 0.98
    # geocoded placeholder rows mostly land in the ward the city recorded for them
    geocoded_agree = _rows(
        settings,
        "select avg(ward = source_ward) from requests where location_status = 'geocoded' "
        "and geocode_flag = '' and source_ward is not null",
    )[0][0]
    assert geocoded_agree > 0.9


def test_importing_again_changes_nothing_and_redo_geocodes_again(
    settings: Settings, env_settings: Settings, tmp_path: Path, wide_cli: None
) -> None:
    path = _slice(tmp_path)
    import_file(path, settings=settings)
    before = _rows(settings, "select id, lon, lat, ward from requests order by id")
    again = import_file(path, settings=settings)
    assert again.located.tried == 0
    assert again.located.assigned.get("ward", 0) == 0
    assert _rows(settings, "select id, lon, lat, ward from requests order by id") == before

    result = CliRunner().invoke(app, ["geocode", "run", "--redo"])
    assert result.exit_code == 0, result.output
    assert "geocoded" in result.output
    assert "ward: " in result.output
    assert _rows(settings, "select id, lon, lat, ward from requests order by id") == before

    # areas lost (or a boundary file replaced): 'geocode areas' assigns every request again
    stored = "select id, ward, ward_method, areas, area_note from requests order by id"
    areas_before = _rows(settings, stored)
    with get_engine(settings.database_url).begin() as connection:
        connection.execute(text("update requests set ward = null, areas = null where id <= 50"))
    result = CliRunner().invoke(app, ["geocode", "areas"])
    assert result.exit_code == 0, result.output
    assert _rows(settings, stored) == areas_before
    with_ward = _rows(settings, "select count(*) from requests where ward is not null")[0][0]
    assert f"ward: {with_ward:,} requests assigned, {600 - with_ward:,} without" in result.output


def test_the_cli_geocodes_text_and_describes_a_pin(env_settings: Settings, wide_cli: None) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["geocode", "address", "39 Lorraine St Roslindale MA 02131"])
    assert result.exit_code == 0, result.output
    assert "exact" in result.output
    result = runner.invoke(app, ["geocode", "reverse", "42.2839,-71.1447"])
    assert result.exit_code == 0
    assert "Lorraine St" in result.output
    result = runner.invoke(app, ["geocode", "reverse", "42.2841,-71.1447"])  # 14 m off
    assert result.exit_code == 0
    assert "nearest known address 36 Lorraine St 02131, 14 m away" in result.output
    result = runner.invoke(app, ["geocode", "reverse", "somewhere"])
    assert result.exit_code == 1
    assert "is not 'LAT,LON'" in result.output


def test_a_missing_address_index_skips_geocoding_and_loses_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"address_index": tmp_path / "missing.csv.gz"})
    summary = import_file(_slice(tmp_path), settings=settings)
    assert summary.accepted == 600
    assert any("geocoding skipped" in note for note in summary.located.notes)
    assert summary.located.assigned["ward"] == 600 - summary.located.unassigned["ward"]


def test_build_index_writes_openaddresses_tables(tmp_path: Path) -> None:
    built = geo_service.build_index(BOSTON_2011, tmp_path, prefix="t", opened_before="2011-08-01")
    addresses = pd.read_csv(built.files[0], dtype=str)
    assert list(addresses.columns)[:7] == [
        "number",
        "street",
        "unit",
        "city",
        "postcode",
        "lon",
        "lat",
    ]
    assert built.addresses == len(addresses) > 1000
    assert built.intersections > 100


class _FakeNominatim:
    """Stands in for geopy's Nominatim.geocode at the network boundary; counts calls."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, query: str):
        self.asked.append(query)
        if query.startswith("1 XYZZY"):
            return SimpleNamespace(
                longitude=-71.058,
                latitude=42.360,
                address="City Hall",
                raw={"addresstype": "building"},
            )
        if query.startswith("FAR AWAY"):
            return SimpleNamespace(longitude=2.35, latitude=48.85, address="Paris", raw={})
        return None


def test_online_answers_are_cached_so_each_address_is_asked_once(settings: Settings) -> None:
    upgrade(settings.database_url)
    fake = _FakeNominatim()
    offline = geo_service.offline_geocoder(settings)
    queries = [
        "1 Xyzzy Plaza",
        "1 Xyzzy Plaza",
        "far away",
        "qqqq zzzz 7",
        "39 Lorraine St 02131",
    ]
    for _ in range(2):
        with session_scope(settings.database_url) as session:
            cache = geo_repo.SqlGeocodeCache(session, now=datetime.now(UTC))
            online = GeopyGeocoder("nominatim", fake, cache, bounds=(-71.3, 42.2, -70.9, 42.45))
            out = FallbackGeocoder(offline, online).geocode(queries)
    assert sorted(fake.asked) == ["1 XYZZY PLAZA", "FAR AWAY", "QQQQ ZZZZ 7"]
    assert list(out["match"]) == ["exact", "exact", "none", "none", "exact"]
    assert out["note"].iat[0] == "found by nominatim (building)"
    assert "outside the service area" in out["note"].iat[2]
    assert math.isnan(out["lon"].iat[3])
    assert _rows(settings, "select count(*) from geocode_cache")[0][0] == 3


def test_an_address_in_another_town_is_not_sent_to_the_online_geocoder(
    settings: Settings,
) -> None:
    upgrade(settings.database_url)
    fake = _FakeNominatim()
    offline = geo_service.offline_geocoder(settings)
    with session_scope(settings.database_url) as session:
        cache = geo_repo.SqlGeocodeCache(session, now=datetime.now(UTC))
        online = GeopyGeocoder("nominatim", fake, cache, bounds=(-71.3, 42.2, -70.9, 42.45))
        out = FallbackGeocoder(offline, online).geocode(["100 Main St, Cambridge", math.nan])
    assert fake.asked == []
    assert list(out["flag"]) == ["outside_area", ""]
    assert list(out["note"])[1] == "no address text"


def test_areas_are_stored_and_counted_on_postgresql(
    postgres_url: str, tmp_path: Path, settings: Settings
) -> None:
    pg = settings.model_copy(update={"db_url": postgres_url})
    summary = import_file(_slice(tmp_path), settings=pg)
    assert summary.located.tried == 200
    with session_scope(pg.database_url) as session:
        wards = geo_repo.area_counts(session, "ward")
        points = geo_repo.request_points(session)
    assert wards["n"].sum() == 600
    assert wards["area_id"].notna().sum() > 10
    assert points["lon"].notna().sum() == 400 + summary.located.geocoded


def test_a_database_from_an_earlier_draft_of_slot_0002_gets_a_clear_error(
    settings: Settings, tmp_path: Path
) -> None:
    upgrade(settings.database_url)
    with get_engine(settings.database_url).begin() as connection:
        connection.execute(text("alter table requests drop column area_note"))
        connection.execute(text("alter table requests drop column areas"))
    with pytest.raises(ConfigError, match=r"lacks requests\.areas, requests\.area_note.*Recreate"):
        import_file(_slice(tmp_path), settings=settings)
