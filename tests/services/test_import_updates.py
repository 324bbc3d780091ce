"""Re-imports: unchanged rows stay, updated rows update, rejects are replaced, edits survive."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from geodispatch.config import Settings
from geodispatch.intake.generic_csv import ColumnMapping
from geodispatch.services.catalogue import edit_type, list_types
from geodispatch.services.intake import import_file, import_payload, rejected_rows
from geodispatch.storage.db import session_scope
from geodispatch.storage.tables import RequestRow
from tests.conftest import write_csv
from tests.intake.boston_rows import HEADER_2011, row


def stored(settings: Settings, source_id: str) -> RequestRow:
    with session_scope(settings.database_url) as session:
        request = session.scalars(select(RequestRow).where(RequestRow.source_id == source_id)).one()
        session.expunge(request)
        return request


def test_an_updated_row_updates_its_request_and_keeps_its_id(
    tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(
        tmp_path / "export.csv", HEADER_2011, [row(case_enquiry_id="1"), row(case_enquiry_id="2")]
    )
    import_file(path, settings=settings)
    before = stored(settings, "1")
    write_csv(
        path,
        HEADER_2011,
        [
            row(
                case_enquiry_id="1",
                case_status="Closed",
                closed_dt="2011-07-02 10:00:00",
                closure_reason="Case Closed Case Resolved filled",
            ),
            row(case_enquiry_id="2"),
        ],
    )
    summary = import_file(path, settings=settings)
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 1)
    after = stored(settings, "1")
    assert after.id == before.id
    assert after.status == "completed"
    assert after.version == before.version + 1
    assert "filled" in after.closure_note


def test_a_stale_export_does_not_undo_a_dispatchers_progress(
    tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(tmp_path / "export.csv", HEADER_2011, [row(case_enquiry_id="1")])
    import_file(path, settings=settings)
    with session_scope(settings.database_url) as session:
        request = session.scalars(select(RequestRow)).one()
        request.status = "assigned"
    write_csv(path, HEADER_2011, [row(case_enquiry_id="1", case_title="Pothole, deep")])
    import_file(path, settings=settings)
    after = stored(settings, "1")
    assert after.status == "assigned"
    assert after.description == "Pothole, deep"


def test_rejects_of_a_file_are_replaced_when_it_is_imported_again(
    tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        HEADER_2011,
        [row(case_enquiry_id="1"), row(case_enquiry_id="2", type="")],
    )
    first = import_file(path, settings=settings)
    assert first.rejected == 1
    rows, total = rejected_rows(settings=settings)
    assert total == 1
    assert rows[0].line == 3
    assert rows[0].field == "type"
    write_csv(path, HEADER_2011, [row(case_enquiry_id="1"), row(case_enquiry_id="2")])
    second = import_file(path, settings=settings)
    assert (second.rejected, second.inserted) == (0, 1)
    assert rejected_rows(settings=settings)[1] == 0


def test_a_person_s_catalogue_edit_survives_reimport(tmp_path: Path, settings: Settings) -> None:
    path = write_csv(tmp_path / "export.csv", HEADER_2011, [row()])
    import_file(path, settings=settings)
    edit_type("request-for-pothole-repair", sla_hours=24, service_minutes=25, settings=settings)
    write_csv(path, HEADER_2011, [row(), row(case_enquiry_id="9", target_dt="2011-07-21 08:30:00")])
    import_file(path, settings=settings)
    pothole = next(t for t, _ in list_types(settings) if t.code == "request-for-pothole-repair")
    assert (pothole.sla_hours, pothole.service_minutes, pothole.edited) == (24, 25, True)


def test_open311_files_and_payloads_import_with_their_own_ids(
    tmp_path: Path, settings: Settings
) -> None:
    items = [
        {
            "service_request_id": "a1",
            "service_name": "Graffiti Removal",
            "requested_datetime": "2024-05-01T10:00:00-04:00",
            "lat": 42.33,
            "long": -71.06,
        },
        {"service_request_id": "a2", "service_name": "", "requested_datetime": "x"},
    ]
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(items))
    summary = import_file(path, settings=settings)
    assert (summary.source, summary.accepted, summary.rejected) == ("open311", 1, 1)
    again = import_payload(items, settings=settings)
    assert (again.inserted, again.unchanged, again.rejected) == (0, 1, 1)


def test_a_mapped_csv_imports_under_its_own_source(tmp_path: Path, settings: Settings) -> None:
    path = write_csv(
        tmp_path / "springfield.csv",
        ["ID", "Type", "Opened"],
        [["1", "Dead tree", "2024-03-01 10:00"]],
    )
    mapping = ColumnMapping({"source_id": "ID", "service_name": "Type", "created": "Opened"})
    summary = import_file(path, mapping=mapping, source="springfield", settings=settings)
    assert (summary.source, summary.inserted) == ("springfield", 1)
    assert stored(settings, "1").location_status == "unknown"
