"""Closed means fixed: closure truth on import, re-reports after closure, equity by ward.

One function per user action: :func:`apply_closure_rules` (run by every import: reads the
source's closure notes, corrects stored statuses, links duplicates to the case they cite),
:func:`closure_summary` (``geodispatch sla closures``), :func:`recurrence` (re-reports
within N days of a completion), :func:`equity` (time to close by ward against the city)
and :func:`job_closures` (what a job's page shows of earlier closures at its place).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import pandas as pd

from geodispatch.analysis.equity import EquityParams, equity_table, ward_gaps
from geodispatch.analysis.recurrence import Recurrence, RecurrenceParams, metres_from, rereports
from geodispatch.config import Settings, get_settings
from geodispatch.domain.errors import InputError, NotFoundError
from geodispatch.domain.requests import RequestStatus
from geodispatch.intake.closure_notes import ClosureClass, ClosureRules, cited_case_ids, classify
from geodispatch.storage import closures_repo, overview_repo
from geodispatch.storage.db import Session, ensure_schema, session_scope

#: Imports whose status is read from the closure note (a city export). Open311 closures
#: carry their own status (FIXED, NOT_COUNCILS_RESPONSIBILITY…), kept as the source said.
RULED_KINDS: Final = ("city_export",)
#: Statuses a source's closure sets; our own workflow's closures (jobs) are left alone.
_SOURCE_CLOSED = frozenset(ClosureClass(c).status.value for c in ClosureClass)


@dataclass(slots=True)
class ClosureCounts:
    """What the closure rules made of closed requests: counts per class, duplicate links."""

    by_class: dict[ClosureClass, int] = field(default_factory=dict)
    status_changed: int = 0
    duplicates_cited: int = 0  # duplicate notes naming a case id
    duplicates_linked: int = 0  # ... whose original is stored (linked)

    @property
    def closed(self) -> int:
        """Closed requests read."""
        return sum(self.by_class.values())

    @property
    def without_work(self) -> int:
        """Closures whose note says no work was done (every class but completed)."""
        return sum(n for c, n in self.by_class.items() if c.without_work)

    def describe(self) -> str:
        """One line for an import's summary."""
        parts = ", ".join(
            f"{c.label.lower()} {n:,}"
            for c, n in sorted(self.by_class.items(), key=lambda kv: -kv[1])
        )
        return (
            f"{self.closed:,} closed: {parts}; duplicates linked to the case they cite "
            f"{self.duplicates_linked:,} of {self.duplicates_cited:,}"
        )


@functools.cache
def _rules(path: Path | None) -> ClosureRules:
    return ClosureRules.load(path)


def closure_rules(settings: Settings | None = None) -> ClosureRules:
    """The configured closure rules (``GEODISPATCH_CLOSURE_RULES``, else Boston's)."""
    settings = settings or get_settings()
    return _rules(settings.closure_rules)


def apply_closure_rules(
    session: Session,
    settings: Settings,
    *,
    import_id: int | None = None,
    source: str | None = None,
    now: datetime | None = None,
) -> ClosureCounts:
    """Read every closed city-export request's note; store class and duplicate link; fix statuses.

    A request closed in its source (no job of ours) takes the status its note says, with an
    audit event when that changes it (a 2011 "not at location" stored as completed becomes
    no action). Requests in a job keep the status our workflow gave them. A duplicate's
    cited case id links it to that request (``duplicate_of``). Counts are of the requests
    of ``import_id`` when given, else of all; ``source`` limits the work to one source.
    """
    now = now or datetime.now(UTC)
    rules = closure_rules(settings)
    closed = closures_repo.closed_requests(session, source=source, kinds=RULED_KINDS)
    if closed.empty:
        return ClosureCounts()
    classes = classify(closed["closure_note"], rules)
    dup_links = _duplicate_links(session, closed, classes, rules)
    wanted_status = classes.map(lambda c: ClosureClass(c).status.value)
    own = closed["job_id"].notna() | ~closed["status"].isin(_SOURCE_CLOSED)
    new_status = closed["status"].where(own, wanted_status)
    changed = (
        (classes != closed["closure_class"])
        | (
            dup_links["duplicate_of"].astype("Int64") != closed["duplicate_of"].astype("Int64")
        ).fillna(value=True)
        | (new_status != closed["status"])
    )
    changes = pd.DataFrame(
        {
            "request_id": closed["request_id"],
            "closure_class": classes,
            "duplicate_of": dup_links["duplicate_of"],
            "status": new_status,
            "old_status": closed["status"],
        }
    )[changed.to_numpy(dtype=bool)]
    closures_repo.write_closures(session, changes, actor=f"closure rules ({rules.name})", now=now)
    scope = closed["import_id"] == import_id if import_id is not None else closed.index >= 0
    counts = ClosureCounts(status_changed=int((changes["status"] != changes["old_status"]).sum()))
    for value, n in classes[scope].value_counts().items():
        counts.by_class[ClosureClass(str(value))] = int(n)
    counts.duplicates_cited = int(dup_links.loc[scope, "cited"].sum())
    counts.duplicates_linked = int(dup_links.loc[scope, "duplicate_of"].notna().sum())
    return counts


def _duplicate_links(
    session: Session, closed: pd.DataFrame, classes: pd.Series, rules: ClosureRules
) -> pd.DataFrame:
    """Per closed request: whether its duplicate note cites a case id, and the stored original."""
    is_dup = classes == ClosureClass.DUPLICATE.value
    cited: pd.Series = pd.Series([[]] * len(closed), index=closed.index, dtype=object)
    cited[is_dup] = closed.loc[is_dup, "closure_note"].map(lambda n: cited_case_ids(n, rules))
    link = pd.Series(pd.NA, index=closed.index, dtype="Int64")
    for source, group in closed[is_dup].groupby("source"):
        ids = closures_repo.request_ids(
            session, str(source), {i for c in cited[group.index] for i in c}
        )
        for index in group.index:
            own_id = int(str(closed.at[index, "request_id"]))
            found = [ids[c] for c in cited[index] if c in ids and ids[c] != own_id]
            if found:
                link[index] = found[0]
    return pd.DataFrame({"cited": cited.map(bool), "duplicate_of": link})


@dataclass(frozen=True, slots=True)
class ClosureSummary:
    """The ``sla closures`` table: closures per class and type, and the duplicate links."""

    counts: ClosureCounts
    by_type: pd.DataFrame  # service_name × class counts, most closures first
    rules_name: str


def closure_summary(*, apply: bool = False, settings: Settings | None = None) -> ClosureSummary:
    """Closures per outcome class (and per type); ``apply`` first re-reads every note."""
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        if apply:
            counts = apply_closure_rules(session, settings)
        closed = closures_repo.class_counts(session)
        linked = closures_repo.linked_duplicates(session)
    if not apply:
        counts = ClosureCounts(duplicates_linked=linked)
        for value, n in closed.groupby("closure_class")["requests"].sum().items():
            counts.by_class[ClosureClass(str(value))] = int(n)
    by_type = (
        closed.pivot_table(
            index="service_name",
            columns="closure_class",
            values="requests",
            aggfunc="sum",
            fill_value=0,
        )
        .reindex(columns=[c.value for c in ClosureClass], fill_value=0)
        .assign(total=lambda t: t.sum(axis=1))
        .sort_values("total", ascending=False)
        .reset_index()
    )
    return ClosureSummary(counts=counts, by_type=by_type, rules_name=closure_rules(settings).name)


def recurrence_facts(settings: Settings) -> tuple[pd.DataFrame, pd.Series]:
    """Request facts for the re-report analysis, and which rows' types cannot recur."""
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        facts = closures_repo.report_facts(session)
    rules = closure_rules(settings)
    facts = facts.assign(
        family=facts["category"].where(facts["category"] != "", facts["service_name"]),
        crew=facts["crew"].where(facts["crew"] != "", "(source: " + facts["department"] + ")"),
    )
    exclude = facts["service_name"].str.contains(rules.recurrence_exclude, regex=True)
    return facts, exclude


def recurrence(
    params: RecurrenceParams | None = None,
    *,
    facts: tuple[pd.DataFrame, pd.Series] | None = None,
    completions_in: Callable[[pd.DataFrame], pd.Series] | None = None,
    settings: Settings | None = None,
) -> Recurrence:
    """Completions followed by a report of the same problem within the window.

    The settings' radius and days apply unless ``params`` says otherwise;
    ``completions_in`` picks the completions to follow from the facts (e.g. one ward's
    month), each later report still counting.
    """
    settings = settings or get_settings()
    params = params or RecurrenceParams(settings.rereport_radius_m, settings.rereport_window_days)
    frame, exclude = facts or recurrence_facts(settings)
    chosen = completions_in(frame) if completions_in is not None else None
    return rereports(frame, params, exclude_types=exclude, completions_in=chosen)


@dataclass(frozen=True, slots=True)
class EquityView:
    """Time to close by ward against the city, per type, and per ward for the map."""

    table: pd.DataFrame
    wards: pd.DataFrame
    period: str


def equity(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    service_name: str | None = None,
    params: EquityParams | None = None,
    settings: Settings | None = None,
) -> EquityView:
    """Median / 90th-percentile days and on-time share by ward per type, against the city.

    Over requests opened in [since, until].
    """
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        facts = overview_repo.request_facts(
            session, since=None if since is None else pd.Timestamp(since)
        )
    if until is not None:
        facts = facts[facts["created_at"] <= pd.Timestamp(until)]
    if service_name is not None:
        if not (facts["service_name"] == service_name).any():
            raise InputError(f"no requests of type {service_name!r}; pick a type from the list")
        facts = facts[facts["service_name"] == service_name]
    table = equity_table(facts, params)
    period = f"{_day(since) or 'start'} to {_day(until) or 'today'}"
    return EquityView(table=table, wards=ward_gaps(table), period=period)


def _day(value: datetime | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d}"


@dataclass(frozen=True, slots=True)
class JobClosures:
    """What the job's page shows of its place's history.

    ``earlier`` lists completions of the same type within the re-report radius before the
    job was opened (newest first; the job may be a re-report of them); ``duplicates`` lists
    closed requests whose note names one of the job's requests as the original.
    """

    job_id: int
    earlier: pd.DataFrame
    duplicates: pd.DataFrame


def job_closures(job_id: int, *, settings: Settings | None = None) -> JobClosures:
    """Earlier closures at a job's place, and duplicates linked to its requests."""
    settings = settings or get_settings()
    facts, _ = recurrence_facts(settings)
    mine = facts[facts["job_id"] == job_id]
    if mine.empty:
        raise NotFoundError(
            f"job {job_id} has no requests; check the id with `geodispatch jobs list`"
        )
    first = mine.sort_values("created_at").iloc[0]
    before = facts[
        (facts["service_name"] == first["service_name"])
        & (facts["status"] == RequestStatus.COMPLETED.value)
        & (facts["closed_at"] < first["created_at"])
        & (facts["job_id"] != job_id).fillna(value=True)
    ]
    if pd.notna(first["lon"]) and not before.empty:
        dist = metres_from(before["lon"], before["lat"], float(first["lon"]), float(first["lat"]))
        before = before.assign(distance_m=dist)
        before = before[before["distance_m"] <= settings.rereport_radius_m]
    else:
        before = before.iloc[0:0].assign(distance_m=pd.Series(dtype=float))
    earlier = before.sort_values("closed_at", ascending=False)[
        ["request_id", "source_id", "closure_class", "created_at", "closed_at", "distance_m"]
    ].reset_index(drop=True)
    with session_scope(settings.database_url) as session:
        dups = closures_repo.duplicates_of(session, mine["request_id"])
    return JobClosures(job_id=job_id, earlier=earlier, duplicates=dups)
