"""Crew credentials and the stops crews update (reads and writes of crews/plans/stops).

Minimal readers of the routing tables for the crew API: a crew's identity and PIN hash,
its stops in published plans of a day, and the conditional stop update. Plans themselves
are written by the routing work (services.dispatch).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from geodispatch.domain.errors import StaleVersionError
from geodispatch.domain.plans import PlanStatus
from geodispatch.domain.requests import RequestStatus
from geodispatch.domain.updates import StopStatus
from geodispatch.storage.tables import (
    CrewLoginRow,
    CrewRow,
    CrewTokenRow,
    JobRow,
    PlanRow,
    ServiceTypeRow,
    StatusEventRow,
    StopRow,
)
from geodispatch.storage.types import UTCDateTime


@contextmanager
def writer_turn(url: str) -> Iterator[None]:
    """Queue this process's write behind others' on one SQLite file (a no-op elsewhere).

    SQLite lets one writer in at a time and makes the others poll with sleeps that grow to
    100 ms, so under a burst of crews the lock often sits free while everyone sleeps. An
    OS file lock hands the turn over as soon as it is released. Correctness does not depend
    on it: the conditional updates still decide who wins.
    """
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        yield
        return
    with open(f"{parsed.database}.writelock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


#: Plans crews see: a draft is the dispatcher's, a superseded plan is history.
CREW_VISIBLE_PLANS = (PlanStatus.PUBLISHED,)


@dataclass(frozen=True, slots=True)
class CrewCredential:
    """What authentication needs to know about a crew."""

    id: int
    code: str
    name: str
    pin_hash: str
    active: bool
    failed_count: int
    locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class StopView:
    """One stop as its crew sees it: the job, where, when, and the version to send back."""

    stop_id: int
    plan_id: int
    plan_date: date
    crew_id: int
    sequence: int
    status: StopStatus
    version: int
    eta: datetime
    departs_at: datetime
    job_id: int
    job_status: RequestStatus
    service_code: str
    service_name: str
    address: str
    lon: float | None
    lat: float | None
    caller_count: int
    priority: int
    due_at: datetime | None
    urgent: bool = False


def crew_credential(session: Session, code: str) -> CrewCredential | None:
    """A crew by its code, with its failed-login state; None when unknown."""
    row = session.execute(
        select(
            CrewRow.id,
            CrewRow.code,
            CrewRow.name,
            CrewRow.pin_hash,
            CrewRow.active,
            CrewLoginRow.failed_count,
            CrewLoginRow.locked_until,
        )
        .outerjoin(CrewLoginRow, CrewLoginRow.crew_id == CrewRow.id)
        .where(CrewRow.code == code)
    ).first()
    if row is None:
        return None
    return CrewCredential(
        row.id,
        row.code,
        row.name,
        row.pin_hash,
        row.active,
        row.failed_count or 0,
        row.locked_until,
    )


def crew_codes(session: Session) -> list[str]:
    """Codes of every crew."""
    return list(session.scalars(select(CrewRow.code).order_by(CrewRow.code)))


def set_pin_hash(session: Session, crew_id: int, pin_hash: str) -> None:
    """Store a new PIN hash and clear any lockout."""
    session.execute(update(CrewRow).where(CrewRow.id == crew_id).values(pin_hash=pin_hash))
    _ensure_login_row(session, crew_id)
    session.execute(
        update(CrewLoginRow)
        .where(CrewLoginRow.crew_id == crew_id)
        .values(failed_count=0, locked_until=None)
    )


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """A sign-in attempt as counted: its number in the current run, and any lockout."""

    number: int  # 1 for the first attempt since the last good sign-in or expired lockout
    locked_until: datetime | None


def count_login_attempt(
    session: Session, crew_id: int, *, now: datetime, lock_after: int, lock_for: timedelta
) -> LoginAttempt:
    """Count a sign-in attempt before its PIN is checked, in one atomic UPDATE.

    The counter is raised (or restarted at 1 once a lockout has expired) and the attempt
    that reaches ``lock_after`` sets the lockout, all in one statement whose returned values
    decide, so parallel guesses each get their own number: at most ``lock_after`` of them
    are ever checked per lockout period. A good sign-in clears it
    (:func:`record_good_login`).
    """
    _ensure_login_row(session, crew_id)
    row = CrewLoginRow
    expired = and_(row.locked_until.is_not(None), row.locked_until <= now)
    locked = and_(row.locked_until.is_not(None), row.locked_until > now)
    number = case((expired, 1), else_=row.failed_count + 1)
    result = session.execute(
        update(row)
        .where(row.crew_id == crew_id)
        .values(
            failed_count=number,
            locked_until=case(
                (locked, row.locked_until),
                (number >= lock_after, literal(now + lock_for, UTCDateTime())),
                else_=None,
            ),
        )
        .returning(row.failed_count, row.locked_until)
    ).one()
    return LoginAttempt(int(result.failed_count), result.locked_until)


def _ensure_login_row(session: Session, crew_id: int) -> None:
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        module = sqlite if dialect == "sqlite" else postgresql
        session.execute(
            module.insert(CrewLoginRow)
            .values(crew_id=crew_id, failed_count=0)
            .on_conflict_do_nothing(index_elements=["crew_id"])
        )
    elif session.get(CrewLoginRow, crew_id) is None:
        session.add(CrewLoginRow(crew_id=crew_id, failed_count=0))
        session.flush()


def record_good_login(session: Session, crew_id: int, *, at: datetime) -> None:
    """A right PIN: the run of failed attempts and any lockout end."""
    session.execute(
        update(CrewLoginRow)
        .where(CrewLoginRow.crew_id == crew_id)
        .values(failed_count=0, locked_until=None, last_login_at=at)
    )


def add_token(
    session: Session, crew_id: int, token_hash: str, *, now: datetime, expires: datetime
) -> None:
    """Remember a sign-in token (by its hash only)."""
    session.add(
        CrewTokenRow(crew_id=crew_id, token_hash=token_hash, created_at=now, expires_at=expires)
    )
    session.flush()


def crew_for_token(session: Session, token_hash: str, *, now: datetime) -> tuple[int, str] | None:
    """(crew id, code) for a live token; None when unknown, expired or revoked."""
    row = session.execute(
        select(CrewRow.id, CrewRow.code)
        .join(CrewTokenRow, CrewTokenRow.crew_id == CrewRow.id)
        .where(
            CrewTokenRow.token_hash == token_hash,
            CrewTokenRow.expires_at > now,
            CrewTokenRow.revoked_at.is_(None),
            CrewRow.active.is_(True),
        )
    ).first()
    return None if row is None else (row.id, row.code)


def revoke_token(session: Session, token_hash: str, *, now: datetime) -> None:
    """Mark a token revoked (no effect on unknown or already revoked tokens)."""
    session.execute(
        update(CrewTokenRow)
        .where(CrewTokenRow.token_hash == token_hash, CrewTokenRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _stop_select() -> Any:
    return (
        select(
            StopRow.id,
            StopRow.plan_id,
            PlanRow.plan_date,
            StopRow.crew_id,
            StopRow.sequence,
            StopRow.status,
            StopRow.version,
            StopRow.eta,
            StopRow.departs_at,
            JobRow.id.label("job_id"),
            JobRow.status.label("job_status"),
            JobRow.service_code,
            ServiceTypeRow.name,
            JobRow.address,
            JobRow.lon,
            JobRow.lat,
            JobRow.caller_count,
            JobRow.priority,
            JobRow.earliest_due_at,
            StopRow.urgent,
        )
        .join(PlanRow, PlanRow.id == StopRow.plan_id)
        .join(JobRow, JobRow.id == StopRow.job_id)
        .join(ServiceTypeRow, ServiceTypeRow.code == JobRow.service_code)
    )


def _view(r: Any) -> StopView:
    return StopView(
        stop_id=r[0],
        plan_id=r[1],
        plan_date=r[2],
        crew_id=r[3],
        sequence=r[4],
        status=StopStatus(r[5]),
        version=r[6],
        eta=r[7],
        departs_at=r[8],
        job_id=r[9],
        job_status=RequestStatus(r[10]),
        service_code=r[11],
        service_name=r[12],
        address=r[13],
        lon=r[14],
        lat=r[15],
        caller_count=r[16],
        priority=r[17],
        due_at=r[18],
        urgent=bool(r[19]),
    )


def crew_stops(session: Session, crew_id: int, day: date) -> list[StopView]:
    """A crew's stops in the published plan(s) of ``day``, in route order."""
    rows = session.execute(
        _stop_select()
        .where(
            StopRow.crew_id == crew_id,
            PlanRow.plan_date == day,
            PlanRow.status.in_(CREW_VISIBLE_PLANS),
        )
        .order_by(StopRow.sequence, StopRow.id)
    ).all()
    return [_view(r) for r in rows]


def stop(session: Session, stop_id: int) -> tuple[StopView, str] | None:
    """A stop with its plan's status; None when there is no such stop."""
    row = session.execute(
        _stop_select().add_columns(PlanRow.status).where(StopRow.id == stop_id)
    ).first()
    return None if row is None else (_view(row), str(row[-1]))


def set_stop_status(
    session: Session,
    stop_id: int,
    *,
    crew_id: int,
    expected_version: int,
    expected_status: StopStatus,
    to_status: StopStatus,
) -> int:
    """Move a crew's stop if it is still at the version it saw; returns the new version.

    This is the first write of a crew update's transaction, so it is what takes the lock.

    Raises
    ------
    StaleVersionError
        The stop changed since the crew loaded it (another phone of the same crew, or a
        replay of an old update).
    """
    result = session.execute(
        update(StopRow)
        .where(
            StopRow.id == stop_id,
            StopRow.crew_id == crew_id,
            StopRow.version == expected_version,
            StopRow.status == expected_status.value,
        )
        .values(status=to_status.value, version=StopRow.version + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = session.execute(
            select(StopRow.version, StopRow.status).where(StopRow.id == stop_id)
        ).first()
        now_at = "gone" if current is None else f"version {current[0]} ({current[1]})"
        raise StaleVersionError(
            f"stop {stop_id} changed since you loaded it: you had version {expected_version}, "
            f"it is now {now_at}. Reload your route; nothing was recorded."
        )
    return expected_version + 1


def plan_jobs(session: Session, plan_id: int) -> list[tuple[int, str]]:
    """(job id, crew code) of every stop of a plan, in crew and route order."""
    rows = session.execute(
        select(StopRow.job_id, CrewRow.code)
        .join(CrewRow, CrewRow.id == StopRow.crew_id)
        .where(StopRow.plan_id == plan_id)
        .order_by(CrewRow.code, StopRow.sequence)
    ).all()
    return [(int(r[0]), str(r[1])) for r in rows]


def plan_status(session: Session, plan_id: int) -> str | None:
    """A plan's status (draft, published, superseded), or None when there is no such plan."""
    return session.scalar(select(PlanRow.status).where(PlanRow.id == plan_id))


def photo_refs_since(session: Session, actor: str, since: datetime) -> list[str]:
    """Photos ``actor`` attached to field updates since ``since`` (for the daily quota)."""
    return list(
        session.scalars(
            select(StatusEventRow.photo_ref).where(
                StatusEventRow.actor == actor,
                StatusEventRow.at >= since,
                StatusEventRow.photo_ref.is_not(None),
            )
        )
    )
