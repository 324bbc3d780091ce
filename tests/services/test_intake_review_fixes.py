"""Intake edge cases found in review: each used to abort an import or lose rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from geodispatch.config import Settings
from geodispatch.domain.errors import InputError
from geodispatch.intake.generic_csv import ColumnMapping
from geodispatch.intake.normalize import FIELD_LIMITS
from geodispatch.services.intake import import_file, import_payload, recent_imports, rejected_rows
from geodispatch.storage.db import session_scope
from geodispatch.storage.tables import RequestRow, StatusEventRow
from tests.conftest import write_csv
from tests.intake.boston_rows import HEADER_2011, row


def test_a_second_code_for_a_catalogued_name_is_filed_under_the_existing_type(
    settings: Settings,
) -> None:
    items = [
        {
            "service_request_id": "1",
            "service_code": "A1",
            "service_name": "Pothole",
            "requested_datetime": "2025-01-02T10:00:00-05:00",
        },
        {
            "service_request_id": "2",
            "service_code": "B2",
            "service_name": "Pothole",
            "requested_datetime": "2025-01-02T11:00:00-05:00",
        },
    ]
    summary = import_payload(items, settings=settings)
    assert (summary.inserted, summary.rejected) == (2, 0)
    with session_scope(settings.database_url) as session:
        assert set(session.scalars(select(RequestRow.service_code))) == {"A1"}


@pytest.mark.parametrize(
    "stamp", ["2011-07-01T08:30:00-04", "2011-07-01T12:30:00 UTC", "07/01/2011 8:30 AM"]
)
def test_common_timestamp_spellings_are_read_not_fatal(settings: Settings, stamp: str) -> None:
    items = [
        {"service_request_id": "1", "service_name": "Graffiti", "requested_datetime": stamp},
        {"service_request_id": "2", "service_name": "Graffiti", "requested_datetime": "never"},
    ]
    summary = import_payload(items, settings=settings)
    assert (summary.inserted, summary.rejected) == (1, 1)


def test_a_lone_surrogate_rejects_its_row_only(settings: Settings) -> None:
    items = json.loads(
        '[{"service_request_id": "1", "service_name": "Graffiti \\ud800", '
        '"requested_datetime": "2025-01-02T10:00:00Z"}, '
        '{"service_request_id": "2", "service_name": "Graffiti", '
        '"requested_datetime": "2025-01-02T10:00:00Z"}]'
    )
    summary = import_payload(items, settings=settings)
    assert (summary.inserted, summary.rejected) == (1, 1)


def test_field_limits_match_the_storage_columns() -> None:
    for field, column in (
        ("source_id", "source_id"),
        ("service_code", "service_code"),
        ("channel", "channel"),
    ):
        assert FIELD_LIMITS[field] == RequestRow.__table__.c[column].type.length


def test_an_unclosed_quote_rejects_its_line_and_the_rest_of_the_file_is_read(
    tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(
        tmp_path / "export.csv", HEADER_2011, [row(case_enquiry_id=str(i)) for i in range(1, 11)]
    )
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace("Pothole,", '"Pothole,', 1)  # record 3 opens a quote, never closes
    path.write_text("".join(lines))
    summary = import_file(path, settings=settings)
    assert (summary.rows_read, summary.accepted, summary.rejected) == (10, 9, 1)
    rejected = rejected_rows(import_id=summary.import_id, settings=settings)[0][0]
    assert rejected.line == 4
    assert "never closed" in rejected.problem


def test_an_invalid_first_copy_does_not_claim_the_id_from_a_valid_second(
    tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(tmp_path / "e.csv", HEADER_2011, [row(open_dt="bad"), row()])
    summary = import_file(path, settings=settings)
    assert (summary.inserted, summary.rejected) == (1, 1)
    assert "not a date" in rejected_rows(settings=settings)[0][0].problem


def test_an_open_open311_request_is_not_closed_by_its_update_time(settings: Settings) -> None:
    import_payload(
        [
            {
                "service_request_id": "1",
                "service_name": "Graffiti",
                "status": "open",
                "requested_datetime": "2025-01-02T10:00:00Z",
                "updated_datetime": "2025-01-03T10:00:00Z",
            }
        ],
        settings=settings,
    )
    with session_scope(settings.database_url) as session:
        request = session.scalars(select(RequestRow)).one()
        assert (request.status, request.closed_at) == ("new", None)


def test_work_completed_here_keeps_its_close_time_when_the_export_says_open(
    tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(tmp_path / "e.csv", HEADER_2011, [row()])
    import_file(path, settings=settings)
    with session_scope(settings.database_url) as session:
        request = session.scalars(select(RequestRow)).one()
        request.status, request.closed_at = "completed", request.created_at
        request.closure_note = "filled by crew C01"
    write_csv(path, HEADER_2011, [row(case_title="Pothole, edited")])
    import_file(path, settings=settings)
    with session_scope(settings.database_url) as session:
        request = session.scalars(select(RequestRow)).one()
        assert request.status == "completed"
        assert request.closed_at is not None
        assert request.closure_note == "filled by crew C01"
        assert request.description == "Pothole, edited"


def test_a_status_the_source_changes_is_in_the_audit_trail(
    tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(tmp_path / "e.csv", HEADER_2011, [row()])
    import_file(path, settings=settings)
    write_csv(
        path,
        HEADER_2011,
        [
            row(
                case_status="Closed",
                closed_dt="2011-07-02 09:00:00",
                closure_reason="Case Closed Case Invalid",
            )
        ],
    )
    summary = import_file(path, settings=settings)
    with session_scope(settings.database_url) as session:
        event, job_event = session.scalars(select(StatusEventRow).order_by(StatusEventRow.id))
        assert (event.from_status, event.to_status) == ("new", "closed_no_action")
        assert event.actor == f"import:{summary.import_id}"
        # the import's grouping then closes the request's job the same way
        assert (job_event.request_id, job_event.to_status) == (None, "closed_no_action")


def test_a_mapped_csv_must_name_its_source(tmp_path: Path, settings: Settings) -> None:
    path = write_csv(
        tmp_path / "requests_2025-01-02.csv",
        ["ID", "Type", "Opened"],
        [["1", "Dead tree", "2024-03-01 10:00"]],
    )
    mapping = ColumnMapping({"source_id": "ID", "service_name": "Type", "created": "Opened"})
    with pytest.raises(InputError, match="name the source system"):
        import_file(path, mapping=mapping, settings=settings)


def test_rejects_of_earlier_imports_stay_stored_and_the_latest_are_listed(
    tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(tmp_path / "e.csv", HEADER_2011, [row(type="")])
    first = import_file(path, settings=settings)
    write_csv(path, HEADER_2011, [row(case_enquiry_id="7", open_dt="bad")])
    second = import_file(path, settings=settings)
    assert rejected_rows(import_id=first.import_id, settings=settings)[1] == 1
    latest, total = rejected_rows(settings=settings)
    assert total == 1
    assert latest[0].field == "open_dt"
    assert [i.id for i in recent_imports(settings=settings)][:2] == [
        second.import_id,
        first.import_id,
    ]


def test_json_that_is_not_utf8_is_a_clear_error(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "requests.json"
    path.write_bytes('[{"service_request_id": "1", "service_name": "Café"}]'.encode("cp1252"))
    with pytest.raises(InputError, match="is not utf-8 text"):
        import_file(path, settings=settings)
