"""Dispatcher actions on jobs and requests: status changes, merges, splits, history.

Each action is one short transaction: the change, its cascade to the job's requests and
the audit events commit together or not at all. Every action takes the version the caller
saw; if the record moved on since, :class:`StaleVersionError` is raised and nothing
changes. Repeat reports are grouped into jobs by :func:`group_new_requests`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from geodispatch.analysis.dedup import DedupParams, group_reports
from geodispatch.analysis.sla import BusinessCalendar, due_times
from geodispatch.config import Settings, get_settings
from geodispatch.domain.accounts import Action, StaffUser, acting
from geodispatch.domain.errors import InputError, NotFoundError, TransitionError
from geodispatch.domain.jobs import Job
from geodispatch.domain.plans import PlanStatus
from geodispatch.domain.requests import RequestStatus
from geodispatch.domain.workflow import EventKind, StatusEvent, check_transition, clean_note
from geodispatch.geo.crs import lonlat_to_working
from geodispatch.services import clock, notify
from geodispatch.storage import field_repo, jobs_repo, plans_repo
from geodispatch.storage import workflow_repo as repo
from geodispatch.storage.db import Session, ensure_schema, session_scope
from geodispatch.storage.requests_repo import list_service_types


def database_url(settings: Settings) -> str:
    """The settings' database URL, migrated to the newest schema once per process."""
    return ensure_schema(settings.database_url)


def parse_status(value: str | RequestStatus) -> RequestStatus:
    """A status from its value; InputError listing the valid ones otherwise."""
    try:
        return RequestStatus(value)
    except ValueError:
        valid = ", ".join(s.value for s in RequestStatus)
        raise InputError(f"unknown status {value!r}; use one of: {valid}") from None


def _actor(actor: str | StaffUser, action: Action) -> str:
    """The audit name of ``actor``; a signed-in account must be allowed ``action``."""
    text = acting(actor, action).strip()
    if not text or len(text) > 100:
        raise InputError(
            f"actor {text[:40]!r} must be 1-100 characters: say who acts (e.g. 'dispatch:ana')"
        )
    return text


def _now(now: datetime | None, settings: Settings) -> datetime:
    if now is not None and now.tzinfo is None:
        raise InputError(f"now={now} has no time zone; pass an aware datetime")
    return now or clock.now(settings)


def get_job(job_id: int, *, settings: Settings | None = None) -> Job:
    """One job; NotFoundError when there is none."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        return _job(session, job_id)


def _job(session: Session, job_id: int) -> Job:
    job = jobs_repo.get_job(session, job_id)
    if job is None:
        raise NotFoundError(f"no job {job_id}; list open jobs with 'geodispatch jobs list'")
    return job


def list_open_jobs(*, settings: Settings | None = None) -> list[Job]:
    """Every job still owed work, oldest first."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        return jobs_repo.open_jobs(session)


def job_requests(job_id: int, *, settings: Settings | None = None) -> list[int]:
    """Ids of the requests (callers) a job carries."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        _job(session, job_id)
        return repo.job_request_ids(session, job_id)


def change_job_status(
    session: Session,
    job_id: int,
    to_status: RequestStatus,
    *,
    expected_version: int,
    actor: str,
    now: datetime,
    note: str = "",
    kind: EventKind = EventKind.STATUS,
    event: Mapping[str, Any] | None = None,
) -> int:
    """Within a transaction: move a job and all its requests, and write the audit trail.

    Used by dispatcher actions and by crew updates alike. ``event`` adds fields (location,
    photo, stop, flags) to the job's event. Returns the job's new version.

    Raises
    ------
    StaleVersionError, TransitionError, NotFoundError
    """
    state = repo.job_state(session, job_id)
    what = f"job {job_id}"
    repo.require_version(state, expected_version, what=what)
    check_transition(state.status, to_status, what=what, note=note)
    version = repo.set_job_status(
        session,
        job_id,
        expected_version=expected_version,
        expected_status=state.status,
        to_status=to_status,
        now=now,
    )
    moved = repo.cascade_to_requests(session, job_id, to_status=to_status, now=now)
    common = {"actor": actor, "at": now, "note": note}
    notify.record_events(
        session,
        [
            {
                **common,
                **(event or {}),
                "kind": kind,
                "job_id": job_id,
                "from_status": state.status,
                "to_status": to_status,
            }
        ]
        + [
            {
                **common,
                "kind": EventKind.STATUS,
                "job_id": job_id,
                "request_id": rid,
                "from_status": before,
                "to_status": to_status,
            }
            for rid, before in moved
        ],
    )
    return version


def transition_job(
    job_id: int,
    to_status: str | RequestStatus,
    *,
    expected_version: int,
    actor: str | StaffUser,
    note: str = "",
    public_note: str = "",
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Job:
    """Move a job (and every request it carries) to a new status.

    ``note`` is internal (staff and auditors read it). Residents see a neutral sentence for
    the new status on Open311, and ``public_note`` when the dispatcher writes one for them
    (e.g. "Passed to MassDOT, who maintain this road").

    Raises
    ------
    TransitionError
        The workflow does not allow it, or a required note is missing.
    StaleVersionError
        The job changed since ``expected_version``; nothing was changed.
    NotFoundError
        No such job.
    """
    settings = settings or get_settings()
    target = parse_status(to_status)
    text = clean_note(note, what=f"job {job_id}")
    public = clean_note(public_note, what=f"job {job_id}'s public note")
    at = _now(now, settings)
    who = _actor(actor, Action.MOVE_JOBS if target.is_open else Action.CLOSE_JOBS)
    with session_scope(database_url(settings)) as session:
        change_job_status(
            session,
            job_id,
            target,
            expected_version=expected_version,
            actor=who,
            now=at,
            note=text,
        )
        if public:
            notify.record_events(session, [_public_note_event(job_id, public, who, at)])
        return _job(session, job_id)


def add_public_note(
    job_id: int,
    note: str,
    *,
    actor: str | StaffUser,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> None:
    """Tell residents something about a job: shown on Open311 for each of its requests.

    Write it for the public: no names, phone numbers or internal detail. Crews' notes and
    notes given with a status change stay internal.

    Raises
    ------
    InputError
        The note is empty or too long.
    NotFoundError
        No such job.
    """
    settings = settings or get_settings()
    text = clean_note(note, what=f"job {job_id}'s public note")
    if not text:
        raise InputError(f"job {job_id}: the public note is empty; write what residents see")
    who = _actor(actor, Action.PUBLIC_NOTE)
    at = _now(now, settings)
    with session_scope(database_url(settings)) as session:
        _job(session, job_id)
        notify.record_events(session, [_public_note_event(job_id, text, who, at)])


def _public_note_event(job_id: int, text: str, actor: str, at: datetime) -> dict[str, Any]:
    """A job's public note: every request the job carries (now or later) shows it."""
    return {"kind": EventKind.PUBLIC, "job_id": job_id, "actor": actor, "at": at, "note": text}


@dataclass(frozen=True, slots=True)
class RequestView:
    """A request's workflow fields after a change."""

    id: int
    status: RequestStatus
    version: int
    job_id: int | None


def transition_request(
    request_id: int,
    to_status: str | RequestStatus,
    *,
    expected_version: int,
    actor: str | StaffUser,
    note: str = "",
    settings: Settings | None = None,
    now: datetime | None = None,
) -> RequestView:
    """Move one request; a request that is its job's only caller moves the job with it.

    Raises
    ------
    TransitionError
        Not allowed, a note is missing, or the request is one of several in a job (change
        the job, or split the request out first).
    StaleVersionError, NotFoundError
    """
    settings = settings or get_settings()
    target = parse_status(to_status)
    text = clean_note(note, what=f"request {request_id}")
    at = _now(now, settings)
    who = _actor(actor, Action.MOVE_JOBS if target.is_open else Action.CLOSE_JOBS)
    with session_scope(database_url(settings)) as session:
        state = repo.hold_request(session, request_id, expected_version=expected_version)
        if state.job_id is not None:
            callers = repo.job_request_ids(session, state.job_id)
            if len(callers) > 1:
                raise TransitionError(
                    f"request {request_id} is one of {len(callers)} reports in job "
                    f"{state.job_id}; change the job (all its callers), or split this request "
                    "out of it first ('geodispatch jobs split')"
                )
            repo.require_version(state, expected_version, what=f"request {request_id}")
            job = repo.job_state(session, state.job_id)
            change_job_status(
                session,
                state.job_id,
                target,
                expected_version=job.version,
                actor=who,
                now=at,
                note=text,
            )
        else:
            repo.require_version(state, expected_version, what=f"request {request_id}")
            check_transition(state.status, target, what=f"request {request_id}", note=text)
            repo.set_request_status(
                session,
                request_id,
                expected_version=expected_version,
                expected_status=state.status,
                to_status=target,
                now=at,
            )
            notify.record_events(
                session,
                [
                    {
                        "kind": EventKind.STATUS,
                        "request_id": request_id,
                        "from_status": state.status,
                        "to_status": target,
                        "actor": who,
                        "at": at,
                        "note": text,
                    }
                ],
            )
        after = repo.request_state(session, request_id)
        return RequestView(after.id, after.status, after.version, after.job_id)


def merge_jobs(
    target_id: int,
    others: Mapping[int, int],
    *,
    target_version: int,
    actor: str | StaffUser,
    note: str = "",
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Job:
    """Merge duplicate jobs into ``target_id``; their callers move to it.

    ``others`` maps each duplicate job to the version the dispatcher saw. The duplicates
    are closed as ``closed_duplicate`` pointing at the target; the target's caller count,
    earliest due time and top priority are recomputed.

    Raises
    ------
    TransitionError
        A job is closed, is the target itself, or is of another type.
    StaleVersionError, NotFoundError
    """
    settings = settings or get_settings()
    if not others:
        raise InputError("merge needs at least one job to merge into the target")
    if target_id in others:
        raise TransitionError(f"job {target_id} cannot be merged into itself")
    who = _actor(actor, Action.MERGE_SPLIT)
    text = clean_note(note, what=f"job {target_id}") or "merged as duplicates"
    at = _now(now, settings)
    with session_scope(database_url(settings)) as session:
        target = _job(session, target_id)
        if not target.status.is_open:
            raise TransitionError(
                f"job {target_id} is {target.status.label}; merge into an open job, or reopen "
                "it first"
            )
        repo.set_job_status(  # takes the write lock and checks the dispatcher's version
            session,
            target_id,
            expected_version=target_version,
            expected_status=target.status,
            to_status=target.status,
            now=at,
        )
        events: list[dict[str, Any]] = []
        for other_id, version in sorted(others.items()):
            other = _job(session, other_id)
            if other.service_code != target.service_code:
                raise TransitionError(
                    f"job {other_id} is a {other.service_code!r} job and job {target_id} a "
                    f"{target.service_code!r} job; only jobs of the same type can be merged "
                    "(change the request type first if it was reported under the wrong one)"
                )
            repo.require_version(
                repo.RecordState(other_id, other.status, other.version),
                version,
                what=f"job {other_id}",
            )
            check_transition(
                other.status,
                RequestStatus.CLOSED_DUPLICATE,
                what=f"job {other_id}",
                note=text,
            )
            moved = repo.job_request_ids(session, other_id)
            repo.link_requests(session, target_id, moved, status=target.status, now=at)
            repo.set_job_status(
                session,
                other_id,
                expected_version=version,
                expected_status=other.status,
                to_status=RequestStatus.CLOSED_DUPLICATE,
                now=at,
                merged_into=target_id,
            )
            common = {"actor": who, "at": at}
            events.append(
                {
                    **common,
                    "kind": EventKind.STATUS,
                    "job_id": other_id,
                    "from_status": other.status,
                    "to_status": RequestStatus.CLOSED_DUPLICATE,
                    "note": f"duplicate of job {target_id}: {text}",
                }
            )
            events.append(
                {
                    **common,
                    "kind": EventKind.MERGE,
                    "job_id": target_id,
                    "note": f"job {other_id} merged in ({len(moved)} caller(s)): {text}",
                }
            )
            events += [
                {
                    **common,
                    "kind": EventKind.MERGE,
                    "job_id": target_id,
                    "request_id": rid,
                    "from_status": other.status,
                    "to_status": target.status,
                    "note": f"moved from job {other_id} (duplicate): {text}",
                }
                for rid in moved
            ]
        notify.record_events(session, events)
        repo.refresh_job_totals(session, [target_id], now=at)
        return _job(session, target_id)


def split_requests(
    job_id: int,
    request_ids: Sequence[int],
    *,
    expected_version: int,
    actor: str | StaffUser,
    note: str = "",
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Job:
    """Take requests out of a job into a new job of their own (a wrong merge undone).

    The new job starts in the queue: New if the old job was New, otherwise Reviewed, so
    it is planned again rather than riding on the old job's crew. Returns the new job.

    Raises
    ------
    TransitionError
        The job is closed, a request is not in it, or no request would be left in it.
    StaleVersionError, NotFoundError
    """
    settings = settings or get_settings()
    wanted = sorted(set(request_ids))
    if not wanted:
        raise InputError("split needs at least one request id")
    who = _actor(actor, Action.MERGE_SPLIT)
    text = clean_note(note, what=f"job {job_id}") or "not the same problem"
    at = _now(now, settings)
    with session_scope(database_url(settings)) as session:
        job = _job(session, job_id)
        if not job.status.is_open:
            raise TransitionError(
                f"job {job_id} is {job.status.label}; only open jobs can be split"
            )
        repo.set_job_status(
            session,
            job_id,
            expected_version=expected_version,
            expected_status=job.status,
            to_status=job.status,
            now=at,
        )
        members = repo.job_request_ids(session, job_id)
        strangers = [r for r in wanted if r not in members]
        if strangers:
            raise TransitionError(
                f"request(s) {', '.join(map(str, strangers))} are not in job {job_id} (it "
                f"carries {', '.join(map(str, members))})"
            )
        if len(wanted) == len(members):
            raise TransitionError(
                f"splitting every request out of job {job_id} would leave it empty; leave at "
                "least one request in it"
            )
        status = RequestStatus.NEW if job.status is RequestStatus.NEW else RequestStatus.REVIEWED
        new_id = repo.create_job_for(session, wanted[0], now=at)
        repo.link_requests(session, new_id, wanted, status=status, now=at)
        repo.set_job_status(
            session,
            new_id,
            expected_version=1,
            expected_status=job.status,
            to_status=status,
            now=at,
        )
        common = {"actor": who, "at": at, "kind": EventKind.SPLIT}
        notify.record_events(
            session,
            [
                {**common, "job_id": job_id, "note": f"split into job {new_id}: {text}"},
                {**common, "job_id": new_id, "note": f"split from job {job_id}: {text}"},
            ]
            + [
                {
                    **common,
                    "job_id": new_id,
                    "request_id": rid,
                    "from_status": job.status,
                    "to_status": status,
                    "note": f"split from job {job_id}: {text}",
                }
                for rid in wanted
            ],
        )
        repo.refresh_job_totals(session, [job_id, new_id], now=at)
        return _job(session, new_id)


def job_history(job_id: int, *, settings: Settings | None = None) -> list[StatusEvent]:
    """Every audit event of a job and of its requests while in it, oldest first."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        _job(session, job_id)
        return repo.events(session, job_id=job_id)


def request_history(request_id: int, *, settings: Settings | None = None) -> list[StatusEvent]:
    """A request's own events plus the job-level events (crew visits) of its job."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        return request_events(session, request_id)


def request_events(session: Session, request_id: int) -> list[StatusEvent]:
    """Within a session: :func:`request_history`."""
    state = repo.request_state(session, request_id)
    own = repo.events(session, request_id=request_id)
    if state.job_id is None:
        return own
    job_level = [e for e in repo.events(session, job_id=state.job_id) if e.request_id is None]
    # a job's change is also written per request; show it once, as the job's event (which
    # carries the crew's note, position and photo)
    shown = {(e.at, e.to_status) for e in job_level if e.to_status is not None}
    own = [e for e in own if e.kind is not EventKind.STATUS or (e.at, e.to_status) not in shown]
    return sorted({e.id: e for e in own + job_level}.values(), key=lambda e: (e.at, e.id))


# ---------------------------------------------------------------- plans put work on routes

#: Statuses a job may have when a published plan puts it on a crew's route.
QUEUED = frozenset({RequestStatus.NEW, RequestStatus.REVIEWED})


def assign_for_route(
    session: Session,
    job_id: int,
    *,
    plan_id: int,
    crew_code: str,
    now: datetime,
    actor: str = "",
) -> repo.RecordState:
    """Within a transaction: a queued job on a published route becomes Work assigned.

    A New job is first marked Reviewed (the dispatcher reviewed it by planning it), so the
    audit trail shows both of Calgary's steps. Jobs already further along are left alone.
    ``actor`` is who published the plan (default ``plan:<id>``).
    """
    state = repo.job_state(session, job_id)
    actor = actor or f"plan:{plan_id}"
    for step in (RequestStatus.REVIEWED, RequestStatus.ASSIGNED):
        if state.status in QUEUED and state.status is not step:
            change_job_status(
                session,
                job_id,
                step,
                expected_version=state.version,
                actor=actor,
                now=now,
                note=f"on crew {crew_code}'s route in published plan {plan_id}",
            )
            state = repo.job_state(session, job_id)
    return state


def assign_plan_jobs(
    plan_id: int,
    *,
    actor: str = "",
    settings: Settings | None = None,
    now: datetime | None = None,
) -> int:
    """Mark every queued job on a published plan's routes as Work assigned; returns how many.

    Call it after publishing a plan (the demo does). Crew updates also assign a queued job
    on the fly, so a crew is never blocked by a missed call.

    Raises
    ------
    TransitionError
        The plan is not published.
    NotFoundError
        No such plan.
    """
    settings = settings or get_settings()
    at = _now(now, settings)
    changed = 0
    with session_scope(database_url(settings)) as session:
        status = field_repo.plan_status(session, plan_id)
        if status is None:
            raise NotFoundError(f"no plan {plan_id}; see 'geodispatch plan list'")
        if status != PlanStatus.PUBLISHED:
            raise TransitionError(
                f"plan {plan_id} is {status}; publish it before its jobs count as assigned"
            )
        for job_id, crew_code in field_repo.plan_jobs(session, plan_id):
            before = repo.job_state(session, job_id).status
            after = assign_for_route(
                session, job_id, plan_id=plan_id, crew_code=crew_code, now=at, actor=actor
            )
            changed += before is not after.status
    return changed


def release_off_route_jobs(
    plan_id: int,
    *,
    actor: str = "",
    settings: Settings | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Return to the queue (Reviewed) every Work-assigned job no published route holds.

    Called after publishing ``plan_id``: a job the newly published plan left off the
    routes must not stay "Work assigned" (residents see that status). Each move is
    audited with ``actor`` (the account that published; default the plan's id); returns
    the job ids released.
    """
    settings = settings or get_settings()
    at = _now(now, settings)
    released: list[int] = []
    with session_scope(database_url(settings)) as session:
        day = plans_repo.plan_day(session, plan_id)
        if day is None:
            raise NotFoundError(f"no plan {plan_id}; see 'geodispatch plan list'")
        for job_id in plans_repo.assigned_off_route(session, day):
            state = repo.job_state(session, job_id)
            change_job_status(
                session,
                job_id,
                RequestStatus.REVIEWED,
                expected_version=state.version,
                actor=actor or f"plan:{plan_id}",
                now=at,
                note=f"not on any route of published plan {plan_id}; back in the queue",
            )
            released.append(job_id)
    return released


# ---------------------------------------------------------------- duplicates and due times


@dataclass(frozen=True, slots=True)
class GroupingReport:
    """What grouping new requests into jobs did."""

    requests: int = 0  # open requests that had no job
    attached: int = 0  # joined an existing open job as a repeat report
    new_jobs: int = 0
    merged: int = 0  # repeat reports among new requests, beyond each new job's first
    due_filled: int = 0  # due times computed from the type's SLA target
    closed_at_source: int = 0  # open jobs closed because the source closed all their reports
    unplaced: tuple[int, ...] = ()  # requests whose point could not be placed, kept without

    def describe(self) -> str:
        """One line for an import's summary: what the open reports became."""
        line = (
            f"grouped into {self.new_jobs:,} new jobs ({self.merged:,} repeat reports merged), "
            f"{self.attached:,} joined existing jobs"
        )
        if self.closed_at_source:
            line += f"; {self.closed_at_source:,} jobs closed because the source closed them"
        if self.unplaced:
            line += f"; {len(self.unplaced):,} reports kept without a point (see their notes)"
        return line

    def in_words(self) -> str:
        """The same for a dispatcher, in whole sentences: what the open reports became."""
        if not self.requests:
            out = ["No open report was waiting for a job."]
        else:
            out = [
                f"{_things(self.requests, 'open report')} needed a job: "
                f"{_things(self.attached, 'report')} linked to jobs already open (one more "
                f"caller each, no extra visit); {_things(self.new_jobs + self.merged, 'report')} "
                f"made {_things(self.new_jobs, 'new job')}"
                + (
                    f", {_things(self.merged, 'repeat report')} of the same problem merged in."
                    if self.merged
                    else "."
                )
            ]
        if self.closed_at_source:
            out.append(
                f"{_things(self.closed_at_source, 'open job')} closed because the source system "
                "closed all their reports."
            )
        if self.unplaced:
            out.append(
                f"{_things(len(self.unplaced), 'report')} had a point that could not be placed "
                f"on the map and {'was' if len(self.unplaced) == 1 else 'were'} kept without "
                f"one (request {', '.join(map(str, self.unplaced[:5]))}): check the coordinates."
            )
        if self.due_filled:
            out.append(
                f"{_things(self.due_filled, 'due time')} set from the type's SLA target (the "
                "source gave none)."
            )
        return " ".join(out)


def _things(n: int, noun: str) -> str:
    """``1 report``, ``2 reports``: a count with its noun."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


#: Crew skills whose jobs concern one dwelling or business, not a spot in the street: two
#: reports at one address are two cases (two flats), so they are never merged.
PRIVATE_PREMISES_SKILLS = frozenset({"inspection"})


def dedup_params(settings: Settings, session: Session) -> DedupParams:
    """Duplicate-merging limits from the settings and the catalogue."""
    return DedupParams(
        radius_m=settings.dedup_radius_m,
        window=timedelta(days=settings.dedup_window_days),
        never_merge=frozenset(
            t.code for t in list_service_types(session) if t.skill in PRIVATE_PREMISES_SKILLS
        ),
    )


def sla_calendar(settings: Settings) -> BusinessCalendar | None:
    """The working-hours calendar for SLA clocks, or None for clock hours."""
    if not settings.sla_calendar.strip():
        return None
    return BusinessCalendar.parse(settings.sla_calendar, tz=settings.timezone)


def group_new_requests(
    *,
    settings: Settings | None = None,
    params: DedupParams | None = None,
    now: datetime | None = None,
    actor: str = "system:dedup",
) -> GroupingReport:
    """Put every open request that has no job into one: a nearby open job, or a new one.

    First fills in missing due times from each type's SLA target, so a job's earliest due
    time is right from the start. Safe to run any number of times, also at once (two
    imports, an import and a plan): runs take turns, so no request gets two jobs.
    """
    settings = settings or get_settings()
    at = _now(now, settings)
    with session_scope(database_url(settings)) as session:
        repo.lock_job_grouping(session)
        params = params or dedup_params(settings, session)
        filled = fill_missing_due_times(session, settings)
        closed = close_jobs_closed_at_source(session, now=at)
        reports = repo.open_requests_without_job(session)
        if reports.empty:
            return GroupingReport(due_filled=filled, closed_at_source=closed)
        jobs = repo.open_job_anchors(session, reports["service_code"].unique())
        reports["x"], reports["y"] = lonlat_to_working(
            reports["lon"].to_numpy(), reports["lat"].to_numpy(), settings.working_crs
        )
        jobs["x"], jobs["y"] = lonlat_to_working(
            jobs["lon"].to_numpy(), jobs["lat"].to_numpy(), settings.working_crs
        )
        unplaced = _unplaceable(reports)
        if unplaced:  # kept without a point and flagged: one bad row never blocks the rest
            repo.clear_points(session, unplaced)
            lost = reports["request_id"].isin(list(unplaced))
            reports.loc[lost, ["lon", "lat", "x", "y"]] = np.nan
        groups = group_reports(reports, jobs, params)
        merged = reports.join(groups)
        job_status = {
            int(j): _job(session, int(j)).status for j in merged["job_id"].dropna().tolist()
        }
        events: list[dict[str, Any]] = []
        links: list[tuple[int, int, RequestStatus]] = []
        for r in merged.dropna(subset=["job_id"]).to_dict("records"):
            jid = int(r["job_id"])
            links.append((int(r["request_id"]), jid, job_status[jid]))
            events += _attach_events(pd.DataFrame([r]), jid, job_status[jid], actor, at)
        touched = {jid for _, jid, _ in links}
        grouped = merged.dropna(subset=["group"]).sort_values(["created_at", "request_id"])
        firsts = grouped.drop_duplicates("group")
        new_ids = repo.create_jobs_for(session, firsts["request_id"].tolist(), now=at)
        job_of_group = dict(zip(firsts["group"].tolist(), new_ids, strict=True))
        status_of_group = dict(
            zip(firsts["group"].tolist(), map(RequestStatus, firsts["status"]), strict=True)
        )
        repeats = grouped[grouped.duplicated("group")]
        for r in grouped.to_dict("records"):
            links.append(
                (int(r["request_id"]), job_of_group[r["group"]], status_of_group[r["group"]])
            )
        for group_label, members in repeats.groupby("group", sort=False):
            jid = job_of_group[group_label]
            touched.add(jid)
            events += _attach_events(members, jid, status_of_group[group_label], actor, at)
        repo.link_many(session, links, now=at)
        new_jobs = len(new_ids)
        extra = len(repeats)
        notify.record_events(session, events)
        repo.refresh_job_totals(session, touched, now=at)
        return GroupingReport(
            requests=len(reports),
            attached=int(merged["job_id"].notna().sum()),
            new_jobs=new_jobs,
            merged=extra,
            due_filled=filled,
            closed_at_source=closed,
            unplaced=tuple(sorted(unplaced)),
        )


def _unplaceable(reports: pd.DataFrame) -> dict[int, str]:
    """Request id -> note, for reports whose stored point does not project to a place."""
    given = reports["lon"].notna() & reports["lat"].notna()
    placed = np.isfinite(reports["x"].astype(float)) & np.isfinite(reports["y"].astype(float))
    bad = reports.loc[given & ~placed]
    return {
        int(request_id): (
            f"the point {lat}, {lon} could not be placed on the map; kept without a "
            "point: check the coordinates and geocode the address"
        )
        for request_id, lat, lon in zip(bad["request_id"], bad["lat"], bad["lon"], strict=True)
    }


def _attach_events(
    members: pd.DataFrame, job_id: int, status: RequestStatus, actor: str, at: datetime
) -> list[dict[str, Any]]:
    out = []
    for r in members.to_dict("records"):
        distance = float(r["distance_m"])
        where = "same address" if np.isnan(distance) else f"{distance:.0f} m from the first report"
        out.append(
            {
                "kind": EventKind.ATTACH,
                "job_id": job_id,
                "request_id": int(r["request_id"]),
                "from_status": RequestStatus(str(r["status"])),
                "to_status": status,
                "actor": actor,
                "at": at,
                "note": f"repeat report of job {job_id} ({where})",
                "distance_m": None if np.isnan(distance) else distance,
            }
        )
    return out


def close_jobs_closed_at_source(session: Session, *, now: datetime) -> int:
    """Within a session: close open jobs whose every request the source system closed.

    The job takes its requests' outcome (Completed when they differ). This records a fact
    reported by the source, not a decision taken here, so the workflow table is not
    consulted; the job's audit event says so, and the closure audit lists such jobs when
    they had been dispatched here without a crew completing them.
    """
    closed = 0
    for state, statuses in repo.open_jobs_closed_at_source(session):
        outcome = statuses[0] if len(set(statuses)) == 1 else RequestStatus.COMPLETED
        repo.set_job_status(
            session,
            state.id,
            expected_version=state.version,
            expected_status=state.status,
            to_status=outcome,
            now=now,
        )
        notify.record_events(
            session,
            [
                {
                    "kind": EventKind.STATUS,
                    "job_id": state.id,
                    "from_status": state.status,
                    "to_status": outcome,
                    "actor": "import",
                    "at": now,
                    "note": "every report of this job was closed in the source system",
                }
            ],
        )
        closed += 1
    return closed


def fill_missing_due_times(session: Session, settings: Settings) -> int:
    """Within a session: give open requests without a due time one from their type's SLA."""
    missing = repo.open_requests_missing_due(session)
    if missing.empty:
        return 0
    due = due_times(missing["created_at"], missing["hours"], sla_calendar(settings))
    return repo.fill_due_times(session, due)
