"""Fixtures for the workflow, duplicates, SLA, field and API tests: real SQLite in tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from geodispatch.config import Settings
from geodispatch.services import workflow
from geodispatch.services.intake import import_payload
from geodispatch.storage.db import session_scope
from geodispatch.storage.tables import RequestRow

NOW = datetime(2025, 1, 10, 15, 0, tzinfo=UTC)


def make_settings(home: Path, **overrides: Any) -> Settings:
    """Settings with the database and photos under ``home``."""
    return Settings(home=home, db_url=f"sqlite:///{(home / 'g.db').as_posix()}", **overrides)


def item(
    source_id: str,
    *,
    code: str = "pothole",
    name: str = "Pothole Repair",
    lat: float | None = 42.3300,
    lon: float | None = -71.0600,
    created: str = "2025-01-06T09:00:00-05:00",
    address: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """One GeoReport request object as a client would send it."""
    out: dict[str, Any] = {
        "service_request_id": source_id,
        "service_code": code,
        "service_name": name,
        "requested_datetime": created,
        "status": "open",
        "address": address or f"{source_id} Test St",
        "description": f"report {source_id}",
    }
    if lat is not None and lon is not None:
        out |= {"lat": lat, "long": lon}
    return out | extra


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


AddRequests = Callable[..., dict[str, int]]


@pytest.fixture
def add_requests(settings: Settings) -> AddRequests:
    """Import GeoReport items and group them into jobs; returns source id -> request id."""

    def add(*items: dict[str, Any], group: bool = True) -> dict[str, int]:
        summary = import_payload(list(items), source="test", settings=settings)
        assert summary.rejected == 0, summary.rejected_by_reason
        if group:
            workflow.group_new_requests(settings=settings, now=NOW)
        with session_scope(settings.database_url) as session:
            rows = session.execute(
                select(RequestRow.source_id, RequestRow.id).where(RequestRow.source == "test")
            ).all()
        return {sid: rid for sid, rid in rows}

    return add


def job_of(settings: Settings, request_id: int) -> int:
    """The job a request is in."""
    with session_scope(settings.database_url) as session:
        job_id = session.scalar(select(RequestRow.job_id).where(RequestRow.id == request_id))
    assert job_id is not None
    return int(job_id)
