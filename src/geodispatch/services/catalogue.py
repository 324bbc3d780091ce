"""Read and edit the service-type catalogue."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from geodispatch.config import Settings, get_settings
from geodispatch.domain.errors import InputError, NotFoundError
from geodispatch.domain.requests import Priority
from geodispatch.domain.service_types import ServiceType
from geodispatch.storage import requests_repo as repo
from geodispatch.storage.db import ensure_schema, session_scope


def list_types(settings: Settings | None = None) -> list[tuple[ServiceType, int]]:
    """Every service type with its number of requests, ordered by name."""
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        counts = repo.request_counts_by_type(session)
        return [(t, counts.get(t.code, 0)) for t in repo.list_service_types(session)]


def edit_type(
    code: str,
    *,
    sla_hours: float | None = None,
    service_minutes: int | None = None,
    skill: str | None = None,
    priority: int | None = None,
    department: str | None = None,
    public: bool | None = None,
    settings: Settings | None = None,
) -> ServiceType:
    """Change a type's SLA target (0 clears it), minutes, skill, priority or department.

    ``public=False`` marks one of the city's own work-order types: the public figures and
    the Open311 API leave it out (``True`` shows it again); staff pages show every type.

    The result is validated as a whole before it is stored, and marked edited so that
    re-importing data does not overwrite it.
    """
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        current = {t.code: t for t in repo.list_service_types(session)}.get(code)
        if current is None:
            raise NotFoundError(
                f"no service type with code {code!r}; run "
                "'geodispatch catalogue list' to see the codes"
            )
        changes: dict[str, object] = {"edited": True}
        if sla_hours is not None:
            changes["sla_hours"] = None if sla_hours == 0 else float(sla_hours)
        if service_minutes is not None:
            changes["service_minutes"] = int(service_minutes)
        if skill is not None:
            changes["skill"] = skill.strip().lower()
        if priority is not None:
            changes["priority"] = _priority(priority)
        if department is not None:
            changes["department"] = department.strip()
        if public is not None:
            changes["public"] = public
        updated = dataclasses.replace(current, **changes)  # type: ignore[arg-type]
        repo.save_service_type(session, updated, now=datetime.now(UTC))
        return updated


def _priority(value: int) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        raise InputError(f"priority must be 1, 2 or 3. Got {value} instead.") from None
