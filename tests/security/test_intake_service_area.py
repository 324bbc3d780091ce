"""Intake cannot be poisoned: points that are no place in the city are refused on every path.

The issue's attack: ``lat=-90 long=-180`` was stored, projected to infinity, and stopped
the grouping of every later report, so every POST and import answered 500 from then on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from geodispatch.cli import app
from geodispatch.config import Settings, get_settings
from geodispatch.intake.generic_csv import ColumnMapping
from geodispatch.services import workflow
from geodispatch.services.intake import import_file, import_payload, rejected_rows
from geodispatch.storage.db import session_scope
from geodispatch.storage.tables import RequestRow
from tests.conftest import write_csv
from tests.intake.boston_rows import HEADER_2011, row
from tests.workflow.workflow_helpers import import_and_group, item

V2 = "/open311/v2"
KEY = {"api_key": "geodispatch-demo"}


def post(client: TestClient, lat: str, long: str) -> tuple[int, str]:
    answer = client.post(
        f"{V2}/requests.json", data=KEY | {"service_code": "pothole", "lat": lat, "long": long}
    )
    return answer.status_code, answer.text


@pytest.mark.parametrize(
    ("lat", "long", "says"),
    [
        ("-90", "-180", "outside the city's wards plus 1 km"),
        ("90", "0", "outside the city's wards plus 1 km"),
        ("40.7128", "-74.0060", "outside the city's wards plus 1 km"),  # New York
        ("-42.33", "71.06", "outside the city's wards plus 1 km"),  # both signs flipped
        ("1e308", "1e308", "not a place on Earth"),
        ("nan", "nan", "not a place on Earth"),
        ("inf", "-inf", "not a place on Earth"),
        ("-91", "-71.06", "not a place on Earth"),
    ],
)
def test_a_point_that_is_no_place_in_the_city_is_refused_and_the_next_post_succeeds(
    client: TestClient, settings: Settings, lat: str, long: str, says: str
) -> None:
    import_and_group(settings, [item("a")])
    status, body = post(client, lat, long)
    assert status == 400, body
    assert says in body
    status, body = post(client, "42.3400", "-71.0700")
    assert status == 200, body
    assert body.startswith('[{"service_request_id": "')
    with session_scope(settings.database_url) as session:
        stored = session.scalars(select(RequestRow.lat)).all()
    assert sorted(stored) == [42.33, 42.34]  # the refused point was never stored


def test_a_point_just_outside_the_boundary_but_within_the_margin_is_accepted(
    client: TestClient, settings: Settings
) -> None:
    import_and_group(settings, [item("a")])
    # Boston Harbor, ~600 m off the Seaport shore: inside the wards' 1 km margin
    assert post(client, "42.3480", "-71.0280")[0] == 200
    # Quincy centre, ~4 km south of the city line: refused
    assert post(client, "42.2516", "-71.0030")[0] == 400


def test_city_export_rows_outside_the_city_are_rejected_with_field_value_problem_and_fix(
    tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        HEADER_2011,
        [
            row(case_enquiry_id="1"),
            row(case_enquiry_id="2", latitude="-90", longitude="-180"),
            row(case_enquiry_id="3", latitude="40.7128", longitude="-74.0060"),
            row(case_enquiry_id="4", latitude="inf", longitude="-71.06"),
            row(case_enquiry_id="5", latitude="42.3594", longitude="-71.0587"),  # placeholder
        ],
    )
    summary = import_file(path, settings=settings)
    assert (summary.accepted, summary.rejected) == (2, 3)
    rows, total = rejected_rows(import_id=summary.import_id, settings=settings)
    assert total == 3
    by_line = {r.line: r for r in rows}
    assert by_line[3].field == "latitude"
    assert by_line[3].value == "-90"
    assert "latitude and longitude '-90, -180' lie outside the city's wards plus 1 km" in (
        by_line[3].problem
    )
    assert "check the coordinates" in by_line[3].fix
    assert "'40.7128, -74.0060' lie outside the city's wards" in by_line[4].problem
    assert "are not finite numbers" in by_line[5].problem
    assert summary.location_unknown == 1  # City Hall's placeholder stays a request


def test_generic_csv_rows_outside_the_city_are_rejected_and_the_rest_imported(
    tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(
        tmp_path / "crm.csv",
        ["ID", "Type", "Opened", "Lat", "Lon"],
        [
            ["a", "Pothole", "2025-01-06 09:00", "42.33", "-71.06"],
            ["b", "Pothole", "2025-01-06 09:05", "-90", "-180"],
        ],
    )
    mapping = ColumnMapping(
        {"source_id": "ID", "service_name": "Type", "created": "Opened", "lat": "Lat", "lon": "Lon"}
    )
    summary = import_file(path, source="crm", mapping=mapping, settings=settings)
    assert (summary.accepted, summary.rejected) == (1, 1)
    (rejected,), _ = rejected_rows(import_id=summary.import_id, settings=settings)
    assert (rejected.line, rejected.field, rejected.value) == (3, "Lat", "-90")
    assert "Lat and longitude '-90, -180' lie outside" in rejected.problem


def test_a_poisoned_row_already_stored_is_kept_flagged_and_blocks_nothing(
    client: TestClient, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row stored before the check existed (or written by hand) no longer stops intake."""
    import_and_group(settings, [item("a")])
    poisoned = import_payload([item("p", lat=42.31)], source="old", settings=settings)
    assert poisoned.accepted == 1
    with session_scope(settings.database_url) as session:
        session.execute(
            update(RequestRow)
            .where(RequestRow.source == "old")
            .values(lat=-90.0, lon=-180.0, job_id=None)
        )
    report = workflow.group_new_requests(settings=settings)
    assert len(report.unplaced) == 1
    assert "kept without a point (see their notes)" in report.describe()
    with session_scope(settings.database_url) as session:
        kept = session.execute(
            select(RequestRow.lat, RequestRow.location_status, RequestRow.location_note).where(
                RequestRow.source == "old"
            )
        ).one()
    assert kept.lat is None
    assert kept.location_status == "unknown"
    assert "the point -90.0, -180.0 could not be placed on the map" in kept.location_note
    assert post(client, "42.3400", "-71.0700")[0] == 200
    # and the command line import still works
    monkeypatch.setenv("GEODISPATCH_DB_URL", settings.database_url)
    monkeypatch.setenv("GEODISPATCH_HOME", str(settings.home))
    get_settings.cache_clear()
    try:
        export = write_csv(tmp_path / "export.csv", HEADER_2011, [row(case_enquiry_id="9")])
        result = CliRunner().invoke(app, ["import", str(export)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "1 accepted" in result.output
