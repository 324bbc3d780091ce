"""Headline numbers for the overview page: requests by type, ward and status."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geodispatch.config import Settings, get_settings
from geodispatch.storage import overview_repo
from geodispatch.storage.db import ensure_schema, session_scope


@dataclass(frozen=True, slots=True)
class Overview:
    """Counts of requests: total, open, located, and tidy frames by type, ward and status."""

    total: int
    open: int
    location_unknown: int
    by_type: pd.DataFrame  # service_name, department, requests, open
    by_ward: pd.DataFrame  # ward, requests, open
    by_status: pd.DataFrame  # status, label, requests
    latest_created: pd.Timestamp | None


def request_total(settings: Settings | None = None) -> int:
    """How many requests are stored."""
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        return overview_repo.count_requests(session)


def overview(settings: Settings | None = None) -> Overview:
    """Counts of stored requests by type, ward and status."""
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        return Overview(
            total=overview_repo.count_requests(session),
            open=overview_repo.count_requests(session, open_only=True),
            location_unknown=overview_repo.count_location_unknown(session),
            by_type=overview_repo.counts_by_type(session),
            by_ward=overview_repo.counts_by_ward(session),
            by_status=overview_repo.counts_by_status(session),
            latest_created=overview_repo.latest_created(session),
        )
