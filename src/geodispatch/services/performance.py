"""Manager figures: SLA compliance and backlog age by department and ward, monthly trends.

Built from the non-personal request facts (type, department, ward, status, times), so
every table here may also be exported and shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from geodispatch.config import Settings, get_settings
from geodispatch.domain.accounts import StaffUser, require_ward
from geodispatch.domain.errors import InputError
from geodispatch.reporting import kpis
from geodispatch.reporting.csv_cells import inert_csv
from geodispatch.services import clock
from geodispatch.storage import overview_repo
from geodispatch.storage.db import ensure_schema, session_scope


@dataclass(frozen=True, slots=True)
class Performance:
    """What a manager reads: compliance, backlog age and trends for the selection.

    ``compliance_by_*`` are :func:`geodispatch.reporting.kpis.response_times` tables
    (``on_time_share`` is SLA compliance of completed requests); ``backlog_by_*`` are
    :func:`~geodispatch.reporting.kpis.backlog_by_age` tables of open requests.
    """

    as_of: pd.Timestamp
    requests: int
    completed: int
    on_time_share: float | None
    median_days: float | None
    open: int
    overdue: int
    compliance_by_department: pd.DataFrame
    compliance_by_ward: pd.DataFrame
    backlog_by_department: pd.DataFrame
    backlog_by_ward: pd.DataFrame
    monthly: pd.DataFrame
    departments: list[str]
    wards: list[int]


def _ts(value: datetime | None) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value)


def performance(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    department: str | None = None,
    ward: int | None = None,
    viewer: StaffUser | None = None,
    settings: Settings | None = None,
) -> Performance:
    """SLA compliance, backlog age and monthly trends of requests opened in [since, until].

    ``department`` and ``ward`` narrow every table; the lists of departments and wards
    for the filter widgets are always the full ones. A ward-scoped ``viewer`` (council)
    must name one of its wards.
    """
    if viewer is not None:
        require_ward(viewer, ward)
    start, end = _ts(since), _ts(until)
    if start is not None and end is not None and start > end:
        raise InputError(f"the period starts {start:%Y-%m-%d}, after it ends {end:%Y-%m-%d}")
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        facts = overview_repo.request_facts(session, since=start)
    if end is not None:
        facts = facts[facts["created_at"] <= end]
    departments = sorted(d for d in facts["department"].dropna().unique() if d)
    wards = sorted(int(w) for w in facts["ward"].dropna().unique())
    if department is not None:
        facts = facts[facts["department"] == department]
    if ward is not None:
        facts = facts[facts["ward"] == ward]
    now = pd.Timestamp(clock.now(settings)).tz_convert("UTC")
    facts = facts.assign(department=facts["department"].replace("", "(none)"))
    overall = kpis.response_times(facts.assign(all="all"), ["all"])
    first = overall.iloc[0] if len(overall) else None
    is_open = facts["status"].isin(kpis.OPEN_VALUES)
    overdue = is_open & facts["due_at"].notna() & (facts["due_at"] < now)
    return Performance(
        as_of=now,
        requests=len(facts),
        completed=int(first["completed"]) if first is not None else 0,
        on_time_share=_number(first["on_time_share"]) if first is not None else None,
        median_days=_number(first["median_days"]) if first is not None else None,
        open=int(is_open.sum()),
        overdue=int(overdue.sum()),
        compliance_by_department=kpis.response_times(facts, ["department"]),
        compliance_by_ward=kpis.response_times(facts, ["ward"]),
        backlog_by_department=kpis.backlog_by_age(facts, ["department"], now=now),
        backlog_by_ward=kpis.backlog_by_age(facts, ["ward"], now=now),
        monthly=kpis.monthly_trends(facts, tz=settings.timezone),
        departments=departments,
        wards=wards,
    )


def _number(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return None if pd.isna(number) else number


def table_csv(frame: pd.DataFrame) -> str:
    """A figures table as CSV text for a download; labels cannot run as spreadsheet formulas."""
    return inert_csv(frame, index=False)
