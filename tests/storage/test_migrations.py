"""The schema comes from Alembic migrations and matches the table classes exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from geodispatch.config import Settings
from geodispatch.storage.db import (
    current_revision,
    get_engine,
    head_revision,
    session_scope,
    upgrade,
)
from geodispatch.storage.tables import Base, ImportRow


def test_upgrade_builds_the_schema_the_tables_describe(settings: Settings) -> None:
    url = settings.database_url
    upgrade(url)
    assert current_revision(url) == head_revision()
    with get_engine(url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrading_twice_is_harmless(settings: Settings) -> None:
    upgrade(settings.database_url)
    upgrade(settings.database_url)
    assert current_revision(settings.database_url) == head_revision()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(settings: Settings) -> None:
    upgrade(settings.database_url)
    with get_engine(settings.database_url).connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_times_go_in_with_any_zone_and_come_back_utc(settings: Settings) -> None:
    upgrade(settings.database_url)
    eastern = timezone(timedelta(hours=-5))
    with session_scope(settings.database_url) as session:
        session.add(
            ImportRow(
                source="t", kind="csv", started_at=datetime(2011, 11, 6, 1, 30, tzinfo=eastern)
            )
        )
    with session_scope(settings.database_url) as session:
        stored = session.query(ImportRow).one().started_at
    assert stored == datetime(2011, 11, 6, 6, 30, tzinfo=UTC)
    assert stored.tzinfo == UTC


def test_a_naive_time_is_refused(settings: Settings) -> None:
    upgrade(settings.database_url)
    with (
        pytest.raises(Exception, match="naive datetime"),
        session_scope(settings.database_url) as session,
    ):
        session.add(ImportRow(source="t", kind="csv", started_at=datetime(2011, 1, 1)))
