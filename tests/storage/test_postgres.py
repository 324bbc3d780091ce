"""The same storage behaviour on PostgreSQL, chosen by URL (runs when CI provides a server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodispatch.config import Settings
from geodispatch.services.catalogue import list_types
from geodispatch.services.intake import import_file
from geodispatch.services.overview import overview
from geodispatch.storage.db import current_revision, head_revision
from tests.conftest import DATA, write_csv
from tests.intake.boston_rows import HEADER_2011, row


@pytest.fixture(scope="module")
def pg(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(db_url=postgres_url, home=tmp_path_factory.mktemp("pg"), data_dir=DATA)


def test_import_reimport_and_update_on_postgresql(pg: Settings, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        HEADER_2011,
        [
            row(case_enquiry_id="1"),
            row(case_enquiry_id="2", type=""),
            row(case_enquiry_id="3", latitude="42.3594", longitude="-71.0587"),
        ],
    )
    first = import_file(path, settings=pg)
    assert (first.inserted, first.rejected, first.location_unknown) == (2, 1, 1)
    assert current_revision(pg.database_url) == head_revision()
    assert import_file(path, settings=pg).unchanged == 2
    write_csv(
        path,
        HEADER_2011,
        [row(case_enquiry_id="1", case_status="Closed", closed_dt="2011-07-02 00:00:00")],
    )
    assert import_file(path, settings=pg).updated == 1
    numbers = overview(pg)
    assert (numbers.total, numbers.open) == (2, 1)
    pothole = next(t for t, _ in list_types(pg) if t.code == "request-for-pothole-repair")
    assert pothole.sla_hours == 48  # computed by the database: open_dt → target_dt


def test_a_postgresql_import_streams_new_rows_with_copy(pg: Settings, tmp_path: Path) -> None:
    from sqlalchemy import event, select

    from geodispatch.storage.db import get_engine, session_scope
    from geodispatch.storage.tables import RequestRow

    awkward = 'tab\there, back\\slash, "quotes", newline\nand ünïcode'
    path = write_csv(
        tmp_path / "copy.csv",
        HEADER_2011,
        [
            row(case_enquiry_id="c1", case_title=awkward),
            row(case_enquiry_id="c2", latitude="", longitude="", location=""),
            row(case_enquiry_id="c3", case_status="Closed", closed_dt="2011-07-02 10:15:00"),
        ],
    )
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    engine = get_engine(pg.database_url)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        summary = import_file(path, source="copy-test", settings=pg)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert summary.inserted == 3
    assert not [s for s in statements if s.lstrip().upper().startswith("INSERT INTO REQUESTS")]
    with session_scope(pg.database_url) as session:
        stored = {
            r.source_id: r
            for r in session.scalars(select(RequestRow).where(RequestRow.source == "copy-test"))
        }
    assert awkward in stored["c1"].description
    assert stored["c1"].created_at.isoformat() == "2011-07-01T12:30:00+00:00"  # 08:30 Boston
    assert stored["c1"].import_id == summary.import_id
    assert (stored["c2"].lat, stored["c2"].lon) == (None, None)
    assert stored["c3"].closed_at is not None
