"""Turn open jobs into work orders: what a crew must do, where, for how long, by when.

The skill, on-site minutes and priority come from the job's service type in the
catalogue (which a city edits); the job's own priority wins when it is more urgent (a
resident's report marked an emergency). The SLA due time is the job's earliest due time,
or its open time plus the type's SLA target when the source gave none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta

from geodispatch.domain.jobs import Job
from geodispatch.domain.plans import TimeWindow, WorkOrder
from geodispatch.domain.requests import Priority
from geodispatch.domain.service_types import ServiceType

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
