"""Internal work-order types: in the catalogue and on staff pages, never on public views."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from typer.testing import CliRunner

from geodispatch.cli import app
from geodispatch.config import Settings
from geodispatch.domain.errors import NotFoundError
from geodispatch.intake.catalogue import is_public
from geodispatch.services import api_keys, catalogue, open311, performance, public
from geodispatch.services.intake import import_payload
from geodispatch.storage import db
from geodispatch.storage.tables import Base
from tests.workflow.workflow_helpers import item


def work_order(source_id: str, lat: float) -> dict[str, Any]:
    """One of the city's own pothole work orders, as an Open311 item."""
    return item(source_id, lat=lat, code="pothole-internal", name="Pothole Repair (Internal)")


@pytest.fixture
def mixed(settings: Settings) -> Settings:
    """Two residents' pothole reports and one of the city's own pothole work orders."""
    summary = import_payload(
        [
            item("r1"),
            item("r2", lat=42.3400),
            work_order("w1", 42.3500),
        ],
        source="test",
        settings=settings,
    )
    assert summary.rejected == 0, summary.rejected_by_reason
    return settings


def request_id(settings: Settings, source_id: str) -> int:
    with db.session_scope(settings.database_url) as session:
        found = session.execute(
            text("SELECT id FROM requests WHERE source = 'test' AND source_id = :s"),
            {"s": source_id},
        ).scalar_one()
    return int(found)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Pothole Repair (Internal)", False),
        ("street light outages (INTERNAL) ", False),
        ("Request for Pothole Repair", True),
        ("Internal Affairs Complaint", True),  # only the city's suffix marks a work order
        ("Sidewalk Repair (Make Safe)", True),
    ],
)
def test_a_name_ending_in_internal_is_a_work_order_by_default(name: str, expected: bool) -> None:
    assert is_public(name) is expected


def test_importing_an_internal_type_catalogues_it_as_not_public(mixed: Settings) -> None:
    flags = {t.code: t.public for t, _count in catalogue.list_types(settings=mixed)}
    assert flags == {"pothole": True, "pothole-internal": False}


def test_public_figures_leave_internal_types_out_and_count_them(mixed: Settings) -> None:
    summary = public.public_summary(settings=mixed)
    assert summary.requests == 2
    assert (summary.hidden_types, summary.hidden_requests) == (1, 1)
    assert "Pothole Repair (Internal)" not in set(summary.backlog_by_type["service_name"])
    # managers still see everything
    assert performance.performance(settings=mixed).requests == 3


def test_open311_neither_lists_nor_shows_nor_takes_internal_types(mixed: Settings) -> None:
    assert [s["service_code"] for s in open311.services(settings=mixed)] == ["pothole"]
    listed, total = open311.query_requests(open311.RequestQuery(), settings=mixed)
    assert total == 2
    assert {r["service_name"] for r in listed} == {"Pothole Repair"}
    work_order = str(request_id(mixed, "w1"))
    with pytest.raises(NotFoundError, match=f"service_request_id {work_order} not found"):
        open311.get_request(work_order, settings=mixed)
    with pytest.raises(NotFoundError, match="'pothole-internal' not found; GET services"):
        open311.service_definition("pothole-internal", settings=mixed)
    with pytest.raises(NotFoundError, match="'pothole-internal' not found"):
        open311.submit_request(
            api_keys.create_key("test client", settings=mixed).secret,
            open311.NewRequest("pothole-internal", lat="42.33", long="-71.06"),
            settings=mixed,
        )
    updates = open311.request_updates(
        start_date="2000-01-01T00:00:00Z", end_date="2000-03-01T00:00:00Z", settings=mixed
    )
    assert updates.items == []


def test_a_city_marks_a_type_public_again_and_a_reimport_keeps_its_choice(
    mixed: Settings,
) -> None:
    shown = catalogue.edit_type("pothole-internal", public=True, settings=mixed)
    assert shown.public
    assert shown.edited
    import_payload([work_order("w2", 42.36)], source="test", settings=mixed)
    assert public.public_summary(settings=mixed).hidden_types == 0
    assert "pothole-internal" in {s["service_code"] for s in open311.services(settings=mixed)}


def test_the_cli_marks_a_type_internal(mixed: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEODISPATCH_HOME", str(mixed.home))
    from geodispatch.config import get_settings

    get_settings.cache_clear()
    try:
        runner = CliRunner()
        result = runner.invoke(app, ["catalogue", "set", "pothole", "--internal"])
        assert result.exit_code == 0, result.output
        assert result.output.rstrip().endswith(", internal")
    finally:
        get_settings.cache_clear()
    assert not any(t.public for t, _count in catalogue.list_types(settings=mixed))
    assert public.public_summary(settings=mixed).requests == 0


def test_migration_0007_flags_stored_work_orders_and_round_trips(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'm.db').as_posix()}"
    db.upgrade(url, "0006")
    with db.get_engine(url).begin() as connection:
        for code, name in (("a", "Pothole Repair (Internal)"), ("b", "Request for Pothole Repair")):
            connection.execute(
                text(
                    "INSERT INTO service_types (code, name, department, queue, category, "
                    "service_minutes, skill, priority, field_work, edited, request_count) "
                    "VALUES (:c, :n, '', '', '', 30, 'asphalt', 3, 1, 0, 0)"
                ),
                {"c": code, "n": name},
            )
    db.upgrade(url)
    with db.get_engine(url).connect() as connection:
        flags = connection.execute(text("SELECT code, public FROM service_types ORDER BY code"))
        assert [tuple(f) for f in flags] == [("a", 0), ("b", 1)]
    config = db.alembic_config(url)
    with db.get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    with db.get_engine(url).connect() as connection:
        columns = {c[1] for c in connection.execute(text("PRAGMA table_info(service_types)"))}
    assert "public" not in columns
    db.upgrade(url)
    with db.get_engine(url).connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
