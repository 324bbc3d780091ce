"""Load and save crews and booked appointments."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from geodispatch.domain.crews import Crew, Depot, LunchBreak, parse_hhmm, parse_skills
from geodispatch.domain.plans import TimeWindow
from geodispatch.storage.tables import AppointmentRow, CrewRow


def to_crew(row: CrewRow) -> Crew:
    """Domain crew from a crews row (times and skills validated on the way)."""
    lunch = None
    if row.break_start and row.break_end:
        lunch = LunchBreak(
            parse_hhmm(row.break_start, what=f"crew {row.code} break start"),
            parse_hhmm(row.break_end, what=f"crew {row.code} break end"),
            row.break_minutes,
        )
    return Crew(
        id=row.id,
        code=row.code,
        name=row.name,
        depot=Depot(row.depot_name, row.depot_lon, row.depot_lat),
        shift_start=parse_hhmm(row.shift_start, what=f"crew {row.code} shift start"),
        shift_end=parse_hhmm(row.shift_end, what=f"crew {row.code} shift end"),
        lunch=lunch,
        skills=parse_skills(row.skills),
        max_jobs=row.max_jobs,
        active=row.active,
    )


def list_crews(session: Session, *, active_only: bool = False) -> list[Crew]:
    """Every crew (or only active ones), by code."""
    stmt = select(CrewRow).order_by(CrewRow.code)
    if active_only:
        stmt = stmt.where(CrewRow.active.is_(True))
    return [to_crew(r) for r in session.scalars(stmt)]


def save_crew(session: Session, crew: Crew) -> int:
    """Insert or update the crew with ``crew.code``; returns its id."""
    row = session.scalars(select(CrewRow).where(CrewRow.code == crew.code)).one_or_none()
    if row is None:
        row = CrewRow(code=crew.code)
        session.add(row)
    row.name = crew.name
    row.depot_name = crew.depot.name
    row.depot_lon = crew.depot.lon
    row.depot_lat = crew.depot.lat
    row.shift_start = f"{crew.shift_start:%H:%M}"
    row.shift_end = f"{crew.shift_end:%H:%M}"
    row.break_start = None if crew.lunch is None else f"{crew.lunch.window_start:%H:%M}"
    row.break_end = None if crew.lunch is None else f"{crew.lunch.window_end:%H:%M}"
    row.break_minutes = 30 if crew.lunch is None else crew.lunch.minutes
    row.skills = crew.skills_text
    row.max_jobs = crew.max_jobs
    row.active = crew.active
    session.flush()
    return row.id


def crew_ids(session: Session) -> dict[str, int]:
    """Crew code -> id."""
    return {code: id_ for id_, code in session.execute(select(CrewRow.id, CrewRow.code))}


def set_appointment(
    session: Session, job_id: int, window: TimeWindow, *, note: str = "", now: datetime
) -> None:
    """Book (or re-book) the job's appointment window."""
    row = session.get(AppointmentRow, job_id)
    if row is None:
        row = AppointmentRow(job_id=job_id, created_at=now)
        session.add(row)
    row.window_start, row.window_end, row.note = window.start, window.end, note
    session.flush()


def appointments(session: Session, job_ids: Iterable[int] | None = None) -> dict[int, TimeWindow]:
    """Job id -> booked window, for the given jobs (or all)."""
    stmt = select(AppointmentRow)
    if job_ids is not None:
        stmt = stmt.where(AppointmentRow.job_id.in_(list(job_ids)))
    return {r.job_id: TimeWindow(r.window_start, r.window_end) for r in session.scalars(stmt)}
