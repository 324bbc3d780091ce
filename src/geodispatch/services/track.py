"""Track a request (issue 25): what a resident may read of one report, by id or link.

Built from the same public records and audit trail as Open311 ``requests/{id}``, so the
tracking page and the API never disagree. Internal types are not found; descriptions,
addresses and everyone's names stay out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from geodispatch.config import Settings, get_settings
from geodispatch.domain.errors import InputError, NotFoundError
from geodispatch.domain.requests import RequestStatus
from geodispatch.domain.tracking import Step, status_words, steps
from geodispatch.domain.workflow import EventKind
from geodispatch.reporting.maps import render_html
from geodispatch.reporting.public_map import PublicPoint, age_days, public_map
from geodispatch.services import clock, open311
from geodispatch.services.hotspots import ward_outlines
from geodispatch.services.workflow import database_url, request_events
from geodispatch.storage import open311_repo
from geodispatch.storage.db import session_scope


@dataclass(frozen=True, slots=True)
class PublicNote:
    """A note the city wrote for residents."""

    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Tracking:
    """One report as its resident follows it."""

    id: int
    service_name: str
    department: str
    status: RequestStatus
    words: str
    steps: tuple[Step, ...]
    notes: tuple[PublicNote, ...]
    created_at: datetime
    expected_at: datetime | None
    closed_at: datetime | None
    ward: int | None
    caller_count: int


_REF = re.compile(r"(?:request=|/track/|#)?\s*(\d{1,18}|api-[0-9a-f]{20})\s*$")


def parse_ref(text: str) -> str:
    """The request number or ``api-...`` token in what a resident typed or pasted."""
    value = text.strip()
    found = _REF.search(value[-200:]) if value else None
    if found is None:
        raise InputError(
            "enter the request number (e.g. 101234) or paste the tracking link from your "
            "confirmation"
        )
    return found.group(1)


def track(ref: str, *, settings: Settings | None = None) -> Tracking:
    """The report ``ref`` (a number, token or tracking link) names.

    Raises
    ------
    InputError
        ``ref`` is neither a number nor a tracking link.
    NotFoundError
        No public request has it.
    """
    settings = settings or get_settings()
    key = parse_ref(ref)
    with session_scope(database_url(settings)) as session:
        if key.startswith("api-"):
            found = open311_repo.request_by_source(session, open311.API_SOURCE, key)
            if found is None:
                raise NotFoundError("no report has this tracking link; check it is complete")
            request_id = found
        else:
            request_id = int(key)
        records, _ = open311_repo.query_requests(session, ids=[request_id], limit=1)
        if not records:
            raise NotFoundError(f"no public report number {request_id}; check the number")
        r = records[0]
        events = request_events(session, r.id)
        expected = open311.expected_close([r], settings).get(r.id) if r.status.is_open else None
    first: dict[RequestStatus, datetime] = {}
    for e in events:
        if e.to_status is not None and e.to_status not in first:
            first[e.to_status] = e.at
    notes = tuple(PublicNote(e.at, e.note) for e in events if e.kind is EventKind.PUBLIC)
    return Tracking(
        id=r.id,
        service_name=r.service_name,
        department=r.department,
        status=r.status,
        words=status_words(r.status),
        steps=tuple(steps(r.status, r.created_at, first)),
        notes=notes,
        created_at=r.created_at,
        expected_at=(expected or r.due_at) if r.status.is_open else None,
        closed_at=r.closed_at,
        ward=r.ward,
        caller_count=r.caller_count,
    )


#: Closed reports stay on the public map this many days.
RECENT_DAYS: Final = 30


@dataclass(frozen=True, slots=True)
class PublicMap:
    """The public map's page and what it holds."""

    page: str  # self-contained HTML, works offline
    shown: int
    limit: int


def public_map_page(
    *,
    ward: int | None = None,
    code: str | None = None,
    limit: int = 3000,
    settings: Settings | None = None,
) -> PublicMap:
    """Open and recently closed public reports as an offline map page.

    Raises
    ------
    InputError
        No report matches the filters.
    """
    settings = settings or get_settings()
    now = clock.now(settings)
    with session_scope(database_url(settings)) as session:
        rows = open311_repo.map_points(
            session,
            closed_since=now - timedelta(days=RECENT_DAYS),
            ward=ward,
            code=code,
            limit=limit,
        )
    points = [
        PublicPoint(rid, name, RequestStatus(status), lat, lon, age_days(created, now))
        for rid, _code, name, status, lon, lat, created, _ward in rows
    ]
    fmap = public_map(points, outlines=ward_outlines(settings=settings))
    return PublicMap(page=render_html(fmap), shown=len(points), limit=limit)


def map_wards(*, settings: Settings | None = None) -> list[int]:
    """Wards the public map can be filtered to."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        return open311_repo.public_wards(session)
