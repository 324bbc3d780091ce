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
