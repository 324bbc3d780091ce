"""Read and edit the service-type catalogue."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from geodispatch.config import Settings, get_settings
from geodispatch.domain.accounts import Action, StaffUser, require
from geodispatch.domain.errors import InputError, NotFoundError
from geodispatch.domain.requests import Priority
from geodispatch.domain.service_types import ServiceType
from geodispatch.services import clock
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
    changes = _changes(
        sla_hours=sla_hours,
        service_minutes=service_minutes,
        skill=skill,
        priority=priority,
        department=department,
        public=public,
    )
    return _store({code: changes}, settings or get_settings())[0]


#: The catalogue fields a person may edit, as :func:`edit_type` names them.
EDITABLE = (
    "department",
    "sla_hours",
    "service_minutes",
    "skill",
    "priority",
    "public",
    "field_work",
    "max_age_days",
)


def edit_types(
    edits: Mapping[str, Mapping[str, object]],
    *,
    by: StaffUser | None = None,
    settings: Settings | None = None,
) -> list[ServiceType]:
    """Apply several types' edits (code -> field -> new value), all or none.

    Every edit is checked before any is stored, and all are stored in one transaction, so
    a table of changes saves whole or not at all; the error names the type, the field, the
    value and what is allowed. A signed-in ``by`` must be allowed to edit the catalogue,
    and to make types public or internal when ``public`` changes.
    """
    if by is not None:
        require(by, Action.EDIT_CATALOGUE)
        if any("public" in fields for fields in edits.values()):
            require(by, Action.SET_TYPE_PUBLIC)
    checked: dict[str, dict[str, object]] = {}
    for code, fields in edits.items():
        unknown = set(fields) - set(EDITABLE)
        if unknown:
            raise InputError(
                f"type {code!r}: {', '.join(sorted(unknown))} cannot be edited here; "
                f"editable fields are {', '.join(EDITABLE)}"
            )
        values = {name: _edit_value(code, name, value) for name, value in fields.items()}
        checked[code] = _changes(**values)  # type: ignore[arg-type]
    return _store(checked, settings or get_settings())


def _changes(
    *,
    sla_hours: float | None = None,
    service_minutes: int | None = None,
    skill: str | None = None,
    priority: int | None = None,
    department: str | None = None,
    public: bool | None = None,
    field_work: bool | None = None,
    max_age_days: int | None = None,
) -> dict[str, object]:
    """The stored form of the given edits (None: unchanged; 0 clears an SLA or age limit)."""
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
    if field_work is not None:
        changes["field_work"] = field_work
    if max_age_days is not None:
        changes["max_age_days"] = None if max_age_days == 0 else int(max_age_days)
    return changes


def _store(changes: Mapping[str, Mapping[str, object]], settings: Settings) -> list[ServiceType]:
    """Apply each type's changes in one transaction: every result is validated first."""
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        current = {t.code: t for t in repo.list_service_types(session)}
        updated = []
        for code, fields in changes.items():
            if code not in current:
                raise NotFoundError(
                    f"no service type with code {code!r}; run 'geodispatch catalogue list' "
                    "or open the Service types page to see the codes"
                )
            updated.append(dataclasses.replace(current[code], **fields))  # type: ignore[arg-type]
        now = clock.now(settings)
        for service_type in updated:
            repo.save_service_type(session, service_type, now=now)
        return updated


def _edit_value(code: str, name: str, value: object) -> object:
    """One edited value, checked: the error says which type and field, and what is allowed."""
    where = f"type {code!r}, {name}"
    if name in ("department", "skill"):
        text = "" if value is None else str(value).strip()
        if name == "skill" and not text:
            raise InputError(f"{where}: a skill is needed (e.g. 'asphalt'); got nothing")
        return text
    if name in ("public", "field_work"):
        if not isinstance(value, bool):
            raise InputError(f"{where}: must be ticked or not; got {value!r}")
        return value
    empty = value is None or (isinstance(value, float) and math.isnan(value))
    if name in ("sla_hours", "max_age_days") and empty:
        return 0  # an empty cell clears the target / the type's own age limit
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{where}: a number is needed; got {value!r}") from None
    if name == "sla_hours":
        if not number >= 0:
            raise InputError(
                f"{where}: hours must be 0 or more (0 or empty: no target); got {value!r}"
            )
        return number
    if name == "max_age_days":
        if not (0 <= number <= 3650) or number != int(number):
            raise InputError(
                f"{where}: whole days from 1 to 3650 are allowed (empty: the default); "
                f"got {value!r}"
            )
        return int(number)
    if name == "service_minutes":
        if not (1 <= number <= 24 * 60) or number != int(number):
            raise InputError(f"{where}: whole minutes from 1 to 1440 are allowed; got {value!r}")
        return int(number)
    if number not in (1, 2, 3):
        raise InputError(f"{where}: priority must be 1, 2 or 3; got {value!r}")
    return int(number)


def _priority(value: int) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        raise InputError(f"priority must be 1, 2 or 3. Got {value} instead.") from None
