"""Backlog review: open jobs past their type's age limit, which no plan routes on its own.

A job reported long ago is more likely done, duplicated or no longer there than waiting
for a crew, so instead of filling routes it waits here until a dispatcher closes it (no
action needed, duplicate, not the city's, with a note), re-confirms it (its age limit
starts again) or books an appointment for it (scheduled jobs are always routed).
"""

from __future__ import annotations

from dataclasses import replace

from geodispatch.config import Settings, get_settings
from geodispatch.dispatch.workorders import AgedJob, routable_orders
from geodispatch.domain.accounts import Action, StaffUser, acting
from geodispatch.domain.errors import InputError, NotFoundError
from geodispatch.domain.jobs import Job
from geodispatch.domain.requests import RequestStatus
from geodispatch.domain.workflow import NOT_FIXED, EventKind, clean_note
from geodispatch.services import clock, workflow
from geodispatch.storage import crews_repo, jobs_repo, workflow_repo
from geodispatch.storage import requests_repo as catalogue_repo
from geodispatch.storage.db import ensure_schema, session_scope


def backlog_review(*, settings: Settings | None = None) -> list[AgedJob]:
    """Open field-work jobs past their age limit, oldest first."""
    settings = settings or get_settings()
    now = clock.now(settings)
    with session_scope(ensure_schema(settings.database_url)) as session:
        jobs = jobs_repo.open_jobs(session)
        catalogue = {t.code: t for t in catalogue_repo.list_service_types(session)}
        windows = crews_repo.appointments(session)
    split = routable_orders(
        jobs, catalogue, now=now, windows=windows, default_max_age_days=settings.max_age_days
    )
    return sorted(split.too_old, key=lambda a: -a.age_days)


def close_stale_job(
    job_id: int,
    outcome: RequestStatus | str,
    *,
    note: str,
    actor: str | StaffUser,
    expected_version: int,
    settings: Settings | None = None,
) -> Job:
    """Close an old job without a fix (no action / duplicate / not ours), with a note."""
    target = workflow.parse_status(outcome)
    if target not in NOT_FIXED:
        choices = ", ".join(sorted(s.value for s in NOT_FIXED))
        raise InputError(f"an old job is closed as one of {choices}. Got {target.value!r}.")
    return workflow.transition_job(
        job_id,
        target,
        expected_version=expected_version,
        actor=actor,
        note=note,
        settings=settings,
    )


def reconfirm_job(
    job_id: int, *, note: str, actor: str | StaffUser, settings: Settings | None = None
) -> Job:
    """Record that the old job still needs a crew: it is routed again (audited).

    A signed-in ``actor`` must be allowed to move jobs; the audit names it.
    """
    settings = settings or get_settings()
    text = clean_note(note, what=f"job {job_id}") or "re-confirmed: still needs field work"
    who = acting(actor, Action.MOVE_JOBS).strip() or "dispatcher"
    at = clock.now(settings)
    with session_scope(ensure_schema(settings.database_url)) as session:
        job = jobs_repo.get_job(session, job_id)
        if job is None or not job.status.is_open:
            raise NotFoundError(f"job {job_id} is not an open job; check the id or its status")
        jobs_repo.set_confirmed(session, job_id, at=at)
        workflow_repo.add_events(
            session,
            [{"kind": EventKind.NOTE, "job_id": job_id, "actor": who, "at": at, "note": text}],
        )
        return replace(job, confirmed_at=at, updated_at=at, version=job.version + 1)
