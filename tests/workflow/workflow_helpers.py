"""Helpers for the workflow, duplicates, SLA, field and API tests: real SQLite in tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from geodispatch.config import Settings
from geodispatch.services import workflow
from geodispatch.services.intake import import_payload
from geodispatch.storage.db import session_scope
from geodispatch.storage.tables import RequestRow

NOW = datetime(2025, 1, 10, 15, 0, tzinfo=UTC)


def make_settings(home: Path, **overrides: Any) -> Settings:
    """Settings with the database and photos under ``home``, in demo mode (the demo key)."""
    values: dict[str, Any] = {"demo_mode": True} | overrides
    return Settings(home=home, db_url=f"sqlite:///{(home / 'g.db').as_posix()}", **values)


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


AddRequests = Callable[..., dict[str, int]]


def requests_adder(settings: Settings) -> AddRequests:
    """Import GeoReport items (intake groups them into jobs); returns source id -> request id."""

    def add(*items: dict[str, Any]) -> dict[str, int]:
        summary = import_payload(list(items), source="test", settings=settings)
        assert summary.rejected == 0, summary.rejected_by_reason
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


def _cheap_hasher():  # type: ignore[no-untyped-def]
    """Argon2 at a small cost keeps the 50-crew tests fast; verify reads cost from the hash."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def make_routes(
    settings: Settings,
    *,
    crews: int,
    stops_per_crew: int,
    day: Any = None,
    plan_status: str = "published",
    assign: bool = True,
) -> dict[str, list[tuple[int, int]]]:
    """Crews C01.. with PIN 2468+i, each with stops on jobs already Work assigned.

    Returns crew code -> [(stop id, job id), ...] in route order. Jobs are 250-330 m apart so
    none is merged with another (all inside Boston's wards).
    """
    from datetime import date as date_type

    from geodispatch.services import field
    from geodispatch.storage.tables import CrewRow, PlanRow, StopRow

    day = day or date_type(2025, 1, 10)
    n = crews * stops_per_crew
    ids = import_and_group(
        settings,
        [
            item(f"s{i}", lat=42.30 + (i // 20) * 0.003, lon=-71.12 + (i % 20) * 0.003)
            for i in range(n)
        ],
    )
    job_ids = [job_of(settings, ids[f"s{i}"]) for i in range(n)]
    for job_id in job_ids if assign else []:
        version = workflow.get_job(job_id, settings=settings).version
        for step in ("reviewed", "assigned"):
            version = workflow.transition_job(
                job_id, step, expected_version=version, actor="dispatch:test", settings=settings
            ).version
    routes: dict[str, list[tuple[int, int]]] = {}
    with session_scope(settings.database_url) as session:
        plan = PlanRow(plan_date=day, status=plan_status, created_at=NOW, created_by="test")
        session.add(plan)
        session.flush()
        for c in range(crews):
            crew = CrewRow(
                code=f"C{c + 1:02d}", name=f"Crew {c + 1}", depot_lon=-71.06, depot_lat=42.33
            )
            session.add(crew)
            session.flush()
            routes[crew.code] = []
            for k in range(stops_per_crew):
                job_id = job_ids[c * stops_per_crew + k]
                stop = StopRow(
                    plan_id=plan.id,
                    crew_id=crew.id,
                    job_id=job_id,
                    sequence=k + 1,
                    eta=NOW,
                    departs_at=NOW,
                )
                session.add(stop)
                session.flush()
                routes[crew.code].append((stop.id, job_id))
    hasher = _cheap_hasher()
    for c, code in enumerate(routes):
        field.set_pin(code, pin_of(c), settings=settings, hasher=hasher)
    return routes


def pin_of(index: int) -> str:
    """The test PIN of the crew at ``index`` (not sequential, not repeated)."""
    return f"{2468 + index * 7:04d}"[-4:] + "1"


def import_and_group(settings: Settings, items: list[dict[str, Any]]) -> dict[str, int]:
    """Import items as source 'test' (intake groups them into jobs); source id -> request id."""
    import_payload(items, source="test", settings=settings)
    with session_scope(settings.database_url) as session:
        rows = session.execute(
            select(RequestRow.source_id, RequestRow.id).where(RequestRow.source == "test")
        ).all()
    return {sid: rid for sid, rid in rows}
