"""Monthly ward reports for council offices: the figures, the HTML page and a PDF.

:func:`ward_report` computes one :class:`~geodispatch.reporting.ward_report.WardReport`;
the CLI (``geodispatch report ward``), the manager page and the council view all show that
same object, so their numbers agree. Request volumes and on-time figures use the same
facts and functions as the manager's *SLA & trends* page (``services.performance``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from geodispatch.config import Settings, get_settings
from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import OPEN_STATUSES, RequestStatus
from geodispatch.intake.closure_notes import ClosureClass
from geodispatch.reporting import kpis
from geodispatch.reporting.ward_report import WardReport, block_level, render_html
from geodispatch.services import closures
from geodispatch.services.hotspots import HotspotFilter, list_hotspots, ward_outlines
from geodispatch.storage import closures_repo, overview_repo
from geodispatch.storage.db import ensure_schema, session_scope

_OPEN = frozenset(s.value for s in OPEN_STATUSES)
#: Hotspot rows the report lists, strongest first.
HOTSPOT_ROWS = 10
#: A hotspot's top address is a chronic place when it had at least this many reports.
CHRONIC_MIN_REPORTS = 3


def month_period(month: str, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last instant (UTC) of a calendar month ``YYYY-MM`` in the city's zone."""
    if not re.fullmatch(r"\d{4}-(?:0[1-9]|1[0-2])", month.strip()):
        raise InputError(f"month {month!r}: write it as YYYY-MM, e.g. 2011-11")
    period = pd.Period(month.strip(), freq="M")
    zone = ZoneInfo(tz)
    start = pd.Timestamp(period.start_time.to_pydatetime().replace(tzinfo=zone))
    end = pd.Timestamp(period.end_time.to_pydatetime().replace(tzinfo=zone))
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def months_with_requests(*, settings: Settings | None = None) -> list[str]:
    """Calendar months (YYYY-MM, city time) with at least one request, newest first."""
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        facts = overview_repo.request_facts(session)
    local = facts["created_at"].dt.tz_convert(settings.timezone).dt.tz_localize(None)
    return sorted({str(p) for p in local.dt.to_period("M").dropna()}, reverse=True)


def wards_with_requests(*, settings: Settings | None = None) -> list[int]:
    """Ward numbers with at least one request, ascending."""
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        facts = overview_repo.request_facts(session)
    return sorted(int(w) for w in facts["ward"].dropna().unique())


def _wards(wards: Iterable[int]) -> tuple[int, ...]:
    chosen = tuple(sorted({int(w) for w in wards}))
    if not chosen:
        raise InputError("no ward chosen: give one or more ward numbers, e.g. --ward 3")
    return chosen


def ward_report(
    wards: Iterable[int], month: str, *, settings: Settings | None = None
) -> WardReport:
    """One month's figures for ``wards``, as the report, the app and the council view show them.

    Volumes, on time, backlog, closures, re-reports, hotspots, chronic places, map points.
    """
    settings = settings or get_settings()
    chosen = _wards(wards)
    start, end = month_period(month, settings.timezone)
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        known = overview_repo.request_facts(session)
        facts = closures_repo.report_facts(session)
    if known.empty:
        raise InputError("no requests yet: import a file first (geodispatch import FILE)")
    if not known["ward"].isin(chosen).any():
        raise InputError(
            f"no requests in ward {', '.join(map(str, chosen))}; wards with requests: "
            f"{', '.join(map(str, sorted(int(w) for w in known['ward'].dropna().unique())))}"
        )
    in_wards = known[known["ward"].isin(chosen)]
    month_facts = in_wards[(in_wards["created_at"] >= start) & (in_wards["created_at"] <= end)]
    overall = kpis.response_times(month_facts.assign(all="all"), ["all"])
    first = overall.iloc[0] if len(overall) else None
    by_type = kpis.response_times(month_facts, ["service_name"])

    open_at_end = _open_at(in_wards, end)
    backlog = _backlog(open_at_end, end)
    ward_facts = facts[facts["ward"].isin(chosen)]
    recurrence = closures.recurrence(
        settings=settings,
        completions_in=lambda f: (
            f["ward"].isin(chosen) & (f["closed_at"] >= start) & (f["closed_at"] <= end)
        ),
    )
    done = recurrence.completions
    rereports = _rereports_by_type(done)
    hotspots, chronic = _hotspots(chosen, settings)
    notes = (
        f"Re-reports: a report of the same type within {recurrence.params.radius_m:.0f} m and "
        f"{recurrence.params.window_days:.0f} days after a completion (it may fall after the "
        "month's end); the city's own work orders are not counted as re-reports.",
        "Closed without work: what the closing note says (rules: "
        f"{closures.closure_rules(settings).name}); completions count only fixes.",
        "Places are given at block level; no name, phone or description is shown.",
    )
    return WardReport(
        wards=chosen,
        month=str(pd.Period(month, freq="M")),
        period_start=start.tz_convert(settings.timezone),
        period_end=end.tz_convert(settings.timezone),
        requests=len(month_facts),
        completed=int(first["completed"]) if first is not None else 0,
        closed_not_fixed=int(first["closed_not_fixed"]) if first is not None else 0,
        on_time_share=_number(first["on_time_share"]) if first is not None else None,
        median_days=_number(first["median_days"]) if first is not None else None,
        open_at_end=len(open_at_end),
        overdue_at_end=int((open_at_end["due_at"] < end).sum()),
        by_type=by_type,
        backlog=backlog,
        closures=_closures(ward_facts, start, end),
        rereports=rereports,
        rereported=int((done["rereports"] > 0).sum()),
        completions_followed=len(done),
        hotspots=hotspots,
        chronic=chronic,
        points=_points(ward_facts, start, end),
        outlines=ward_outlines(settings=settings),
        notes=notes,
    )


def _number(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return None if np.isnan(number) else number


def _open_at(facts: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Requests reported by ``end`` and not closed by then."""
    reported = facts[facts["created_at"] <= end]
    still_open = reported["status"].isin(_OPEN) & reported["closed_at"].isna()
    closed_later = reported["closed_at"] > end
    return reported[still_open | closed_later]


def _backlog(open_at_end: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    age = (end - open_at_end["created_at"]).dt.total_seconds() / 86_400
    bucket = pd.cut(age, bins=[-np.inf, *kpis.AGE_BUCKETS, np.inf], labels=list(kpis.AGE_LABELS))
    overdue = (open_at_end["due_at"] < end).astype(int)
    out = (
        pd.DataFrame({"age": bucket, "overdue": overdue})
        .groupby("age", observed=False)
        .agg(open=("overdue", "size"), overdue=("overdue", "sum"))
    )
    out = out.reset_index()
    out["age"] = out["age"].astype(str)
    return out[out["open"] > 0].reset_index(drop=True)


def _closures(facts: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    closed = facts[
        (facts["closed_at"] >= start) & (facts["closed_at"] <= end) & ~facts["status"].isin(_OPEN)
    ]
    outcome = [
        ClosureClass(str(c)).label if isinstance(c, str) and c else RequestStatus(s).label
        for c, s in zip(closed["closure_class"], closed["status"], strict=True)
    ]
    fixed = (closed["status"] == RequestStatus.COMPLETED.value).to_numpy()
    frame = pd.DataFrame({"outcome": outcome, "completed": fixed})
    out = frame.groupby(["outcome", "completed"]).size().rename("closed").reset_index()
    return out.sort_values("closed", ascending=False).reset_index(drop=True)


def _rereports_by_type(done: pd.DataFrame) -> pd.DataFrame:
    if done.empty:
        return pd.DataFrame(columns=["service_name", "completed", "rereported", "share"])
    grouped = done.groupby("service_name")
    out = pd.DataFrame(
        {
            "completed": grouped.size(),
            "rereported": grouped["rereports"].apply(lambda s: int((s > 0).sum())),
        }
    ).reset_index()
    out["share"] = out["rereported"] / out["completed"]
    out = out[out["rereported"] > 0]
    return out.sort_values("rereported", ascending=False).reset_index(drop=True)


def _hotspots(wards: tuple[int, ...], settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The wards' active hotspots and their chronic places.

    The one call to the hotspot service; a hotspot's ``top_address`` (the address with most
    reports in it) is a chronic place when it had at least :data:`CHRONIC_MIN_REPORTS`.
    """
    found = list_hotspots(HotspotFilter(wards=wards), settings=settings)
    columns = [
        "service_name",
        "trend",
        "n_reports",
        "ratio",
        "place",
        "centroid_lon",
        "centroid_lat",
    ]
    if found.empty:
        return pd.DataFrame(columns=columns), pd.DataFrame(
            columns=["place", "service_name", "reports"]
        )
    found = found.assign(
        place=found["top_address"].map(block_level),
        service_name=found["service_name"].where(found["service_name"] != "", "all types"),
        ratio=found["ratio"].round(1),
    )
    chronic = (
        found[found["top_address_reports"] >= CHRONIC_MIN_REPORTS]
        .groupby(["place", "service_name"], as_index=False)
        .agg(reports=("top_address_reports", "max"))
        .sort_values("reports", ascending=False)
        .head(15)
        .reset_index(drop=True)
    )
    return found[columns].head(HOTSPOT_ROWS).reset_index(drop=True), chronic


def _points(facts: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    month = facts[
        (facts["created_at"] >= start) & (facts["created_at"] <= end) & facts["lon"].notna()
    ]
    status = month["status"]
    kind = np.select(
        [
            status.isin(_OPEN) | (month["closed_at"] > end),
            status == RequestStatus.COMPLETED.value,
            status == RequestStatus.CLOSED_NO_ACTION.value,
        ],
        ["open", "completed", "closed without work"],
        default="other closure",
    )
    return pd.DataFrame({"lon": month["lon"], "lat": month["lat"], "kind": kind})


@dataclass(frozen=True, slots=True)
class WrittenReport:
    """Files written for a report."""

    html: Path
    pdf: Path | None
    pdf_note: str = ""


def write_ward_report(
    wards: Iterable[int],
    month: str,
    out: Path,
    *,
    pdf: bool = True,
    generated: datetime | None = None,
    settings: Settings | None = None,
) -> WrittenReport:
    """Write the report as HTML to ``out`` (and a PDF beside it when WeasyPrint is installed)."""
    report = ward_report(wards, month, settings=settings)
    stamp = f"{(generated or datetime.now().astimezone()):%Y-%m-%d %H:%M}"
    page = render_html(report, generated=stamp)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    if not pdf:
        return WrittenReport(out, None)
    try:  # optional extra: pip install 'geodispatch[pdf]'
        weasyprint = importlib.import_module("weasyprint")
    except ImportError:
        return WrittenReport(
            out, None, "PDF not written: install WeasyPrint (pip install weasyprint)"
        )
    target = out.with_suffix(".pdf")
    weasyprint.HTML(string=page).write_pdf(target)
    return WrittenReport(out, target)


def ward_report_html(wards: Iterable[int], month: str, *, settings: Settings | None = None) -> str:
    """The report page as text (the app offers it as a download)."""
    report = ward_report(wards, month, settings=settings)
    return render_html(report, generated=f"{datetime.now().astimezone():%Y-%m-%d %H:%M}")
