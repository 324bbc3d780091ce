"""Manager views: incomplete and overdue work by department and ward, and closure audits."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from geodispatch.analysis.sla import SlaParams, sla_flags
from geodispatch.config import Settings, get_settings
from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import OPEN_STATUSES
from geodispatch.services import clock
from geodispatch.services.workflow import database_url
from geodispatch.storage import sla_repo
from geodispatch.storage.db import session_scope

SHOW = ("all", "overdue", "at_risk")


def with_flags(
    frame: pd.DataFrame, *, now: datetime, params: SlaParams | None = None
) -> pd.DataFrame:
    """A requests frame with SLA columns added (hours_left, overdue, at_risk, met)."""
    opened = frame["status"].isin([s.value for s in OPEN_STATUSES])
    flags = sla_flags(frame.assign(is_open=opened), now=now, params=params)
    out = frame.join(flags)
    out["age_days"] = (pd.Timestamp(now) - out["created_at"]).dt.total_seconds() / 86400.0
    return out


def incomplete_work(
    *,
    now: datetime | None = None,
    department: str | None = None,
    ward: int | None = None,
    show: str = "all",
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Open requests with their due time and SLA flags, most urgent first.

    ``show`` is ``all``, ``overdue`` or ``at_risk``. Sorted overdue first (most overdue at
    the top), then by hours left; requests of types without a target come last.
    """
    if show not in SHOW:
        raise InputError(f"show must be one of {', '.join(SHOW)}. Got {show!r} instead.")
    settings = settings or get_settings()
    at = now or clock.now(settings)
    with session_scope(database_url(settings)) as session:
        frame = sla_repo.requests_frame(session, department=department, ward=ward)
    out = with_flags(frame, now=at)
    if show == "overdue":
        out = out[out["overdue"]]
    elif show == "at_risk":
        out = out[out["at_risk"]]
    return out.sort_values(["hours_left", "request_id"], na_position="last").reset_index(drop=True)


def backlog_by_department_ward(
    *, now: datetime | None = None, settings: Settings | None = None
) -> pd.DataFrame:
    """Open, overdue and at-risk request counts and the oldest age per department and ward."""
    work = incomplete_work(now=now, settings=settings)
    if work.empty:
        return pd.DataFrame(
            columns=["department", "ward", "open", "overdue", "at_risk", "oldest_days"]
        )
    grouped = work.assign(ward=work["ward"].astype("string").fillna("none")).groupby(
        ["department", "ward"], dropna=False
    )
    table = grouped.agg(
        open=("request_id", "size"),
        overdue=("overdue", "sum"),
        at_risk=("at_risk", "sum"),
        oldest_days=("age_days", "max"),
    ).reset_index()
    return table.sort_values(["overdue", "open"], ascending=False).reset_index(drop=True)


def closure_audit(*, settings: Settings | None = None) -> pd.DataFrame:
    """Requests closed as completed without a crew's field completion, with the reason."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        return sla_repo.closed_without_field_completion(session)


def flagged_completions(*, settings: Settings | None = None) -> pd.DataFrame:
    """Crew completions a supervisor should check: far from the site, no position, no photo."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        return sla_repo.flagged_completions(session)
