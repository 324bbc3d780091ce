"""Turn open jobs into work orders: what a crew must do, where, for how long, by when.

The skill, on-site minutes and priority come from the job's service type in the
catalogue (which a city edits); the job's own priority wins when it is more urgent (a
resident's report marked an emergency). The SLA due time is the job's earliest due time,
or its open time plus the type's SLA target when the source gave none.

Only field work is routed (:func:`routable_orders`): types the catalogue marks as no field
work (comments, notifications) never become work orders, and jobs older than their type's
age limit go to the dispatcher's backlog review list instead of onto routes, unless
someone re-confirmed them or booked an appointment.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from geodispatch.domain.jobs import Job
from geodispatch.domain.plans import TimeWindow, WorkOrder
from geodispatch.domain.requests import Priority
from geodispatch.domain.service_types import ServiceType

#: Age limit for types that set none: half a year. Older open jobs are more likely done,
#: duplicated or stale than waiting for a crew, so a person reviews them first.
DEFAULT_MAX_AGE_DAYS = 180

#: Used when a job's type is missing from the catalogue (never silently dropped).
FALLBACK_TYPE = ServiceType(code="unknown", name="Unknown type")


def work_order(
    job: Job,
    service_type: ServiceType | None,
    *,
    window: TimeWindow | None = None,
    service_minutes: int | None = None,
) -> WorkOrder:
    """One job's work order.

    ``service_minutes`` overrides the catalogue (e.g. a median measured from the crews'
    own history); ``window`` is the job's appointment, if one was booked.
    """
    stype = service_type or FALLBACK_TYPE
    due = job.earliest_due_at
    if due is None and stype.sla_hours is not None:
        due = job.created_at + timedelta(hours=stype.sla_hours)
    return WorkOrder(
        job_id=job.id,
        service_code=job.service_code,
        title=stype.name if service_type is not None else job.service_code,
        address=job.address,
        lon=job.lon,
        lat=job.lat,
        skill=stype.skill,
        service_minutes=service_minutes or stype.service_minutes,
        priority=Priority(min(int(job.priority), int(stype.priority))),
        due_at=due,
        window=window,
        caller_count=job.caller_count,
        created_at=job.created_at,
        ward=job.ward,
    )


def work_orders(
    jobs: Iterable[Job],
    catalogue: Mapping[str, ServiceType],
    *,
    windows: Mapping[int, TimeWindow] | None = None,
    minutes: Mapping[str, int] | None = None,
) -> list[WorkOrder]:
    """Work orders for ``jobs``, in the same order; every job gives exactly one."""
    windows = windows or {}
    minutes = minutes or {}
    return [
        work_order(
            job,
            catalogue.get(job.service_code),
            window=windows.get(job.id),
            service_minutes=minutes.get(job.service_code),
        )
        for job in jobs
    ]


@dataclass(frozen=True, slots=True)
class AgedJob:
    """An open job past its type's age limit: it waits for a dispatcher's review."""

    job: Job
    age_days: float
    limit_days: int


@dataclass(frozen=True, slots=True)
class RoutingSplit:
    """Open jobs split into work orders to route and jobs that must not be routed."""

    orders: list[WorkOrder] = field(default_factory=list)
    no_field_work: list[Job] = field(default_factory=list)
    too_old: list[AgedJob] = field(default_factory=list)
    not_yet: list[Job] = field(default_factory=list)  # reported after ``now`` (a pinned clock)


def age_limit(service_type: ServiceType | None, default_days: int) -> int:
    """The age limit in days of a type's jobs (the type's own, else ``default_days``)."""
    if service_type is not None and service_type.max_age_days is not None:
        return service_type.max_age_days
    return default_days


def routable_orders(
    jobs: Iterable[Job],
    catalogue: Mapping[str, ServiceType],
    *,
    now: datetime,
    windows: Mapping[int, TimeWindow] | None = None,
    default_max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    urgent: Collection[int] = (),
) -> RoutingSplit:
    """The work orders to route at ``now`` and the jobs kept off routes (see module doc).

    A job's age counts from its re-confirmation, else its first report. A booked
    appointment or an ``urgent`` job is always routed (a person asked for it), and the
    urgent ones are must-serve visits.
    """
    windows = windows or {}
    split = RoutingSplit()
    for job in jobs:
        stype = catalogue.get(job.service_code)
        if stype is not None and not stype.field_work:
            split.no_field_work.append(job)
            continue
        if job.created_at > now:
            split.not_yet.append(job)
            continue
        since = job.confirmed_at or job.created_at
        age = (now - since).total_seconds() / 86_400
        limit = age_limit(stype, default_max_age_days)
        if age > limit and job.id not in windows and job.id not in urgent:
            split.too_old.append(AgedJob(job, age, limit))
            continue
        order = work_order(job, stype, window=windows.get(job.id))
        split.orders.append(
            order if job.id not in urgent else replace(order, urgent=True, priority=Priority.P1)
        )
    return split
