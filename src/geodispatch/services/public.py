"""Public and council figures: open requests and typical response times, no personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from geodispatch.config import Settings, get_settings
from geodispatch.reporting import kpis
from geodispatch.services import clock
from geodispatch.services.hotspots import data_version
from geodispatch.storage import open311_repo, overview_repo
from geodispatch.storage.db import ensure_schema, session_scope


@dataclass(frozen=True, slots=True)
class PublicSummary:
    """What a resident or council office may see: counts and times, never who or where.

    Only types residents report are counted: ``hidden_types`` internal work-order types
    (``hidden_requests`` requests in the period) are left out, and the page says so.
    """

    as_of: pd.Timestamp
    since: pd.Timestamp | None
    requests: int
    open: int
    backlog_by_ward: pd.DataFrame
    backlog_by_type: pd.DataFrame
    response_by_type: pd.DataFrame
    response_by_ward: pd.DataFrame
    monthly: pd.DataFrame
    hidden_types: int = 0
    hidden_requests: int = 0


def public_summary(
    *,
    since: datetime | pd.Timestamp | None = None,
    ward: int | None = None,
    settings: Settings | None = None,
) -> PublicSummary:
    """Open backlog and response times by ward and type, optionally for one ward.

    Response times count completed requests only (closures that were not fixes are shown
    apart); ``since`` limits to requests opened from that time. Requests of types the
    catalogue marks not public (the city's own work orders) are left out and counted.
    """
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        facts = overview_repo.request_facts(
            session, since=None if since is None else pd.Timestamp(since)
        )
    if ward is not None:
        facts = facts[facts["ward"] == ward]
    internal = facts[~facts["public"]]
    facts = facts[facts["public"]]
    now = pd.Timestamp(clock.now(settings)).tz_convert("UTC")
    return PublicSummary(
        as_of=now,
        since=None if since is None else pd.Timestamp(since),
        requests=len(facts),
        open=int(facts["status"].isin(kpis.OPEN_VALUES).sum()),
        backlog_by_ward=kpis.backlog_by_age(facts, ["ward"], now=now),
        backlog_by_type=kpis.backlog_by_age(facts, ["service_name"], now=now),
        response_by_type=kpis.response_times(facts, ["service_name"]),
        response_by_ward=kpis.response_times(facts, ["ward"]),
        monthly=kpis.monthly_volume(facts, tz=settings.timezone),
        hidden_types=int(internal["service_name"].nunique()),
        hidden_requests=len(internal),
    )


def figures_version(*, settings: Settings | None = None) -> tuple[tuple[int, int, str], str]:
    """A cache key for :func:`public_summary`: it changes with the requests or the catalogue.

    Marking a type internal (or public again) changes no request, yet changes the figures.
    """
    settings = settings or get_settings()
    with session_scope(ensure_schema(settings.database_url)) as session:
        changed = open311_repo.catalogue_changed_at(session)
    return data_version(settings=settings), "" if changed is None else changed.isoformat()
