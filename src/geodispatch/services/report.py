"""Report a problem (issue 25): one path for the public form, the call-taker and Open311 POST.

Everything a report brings (type, place, text, photos, contact) is checked before anything
is stored, so a refused report leaves nothing behind. A report may join an open job of the
same type nearby ("Is it one of these? Add your report to it"): the job's caller count
goes up and no new job is made.
"""

from __future__ import annotations

import functools
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import limits
import limits.storage
import limits.strategies
import numpy as np

from geodispatch.config import Settings, get_settings
from geodispatch.domain.errors import InputError, NotFoundError, TooManyAttemptsError
from geodispatch.domain.notices import clean_contact
from geodispatch.domain.requests import RejectedRow, RequestStatus
from geodispatch.domain.workflow import EventKind
from geodispatch.geo.crs import lonlat_to_working
from geodispatch.io.photos import Photo, prepare_photo, save_photo
from geodispatch.services import clock, notify
from geodispatch.services.geo import offline_geocoder
from geodispatch.services.intake import import_payload, rejected_rows
from geodispatch.services.workflow import database_url
from geodispatch.storage import jobs_repo, open311_repo
from geodispatch.storage import workflow_repo as repo
from geodispatch.storage.db import session_scope
from geodispatch.storage.requests_repo import list_service_types

#: Source of every report filed here (the Open311 POST's id space: its tokens work).
SOURCE: Final = "open311-api"
MAX_DESCRIPTION: Final = 4000
MAX_PHOTOS: Final = 3
#: How far the "is it one of these?" list looks for open jobs of the same type.
NEARBY_M: Final = 150.0
#: Where a report came from (the call-taker's choice; the form and the API set their own).
CHANNELS: Final = ("web", "phone", "walk-in", "council office", "open311")


@dataclass(frozen=True, slots=True)
class NewReport:
    """A resident's report as typed (raw strings are checked by :func:`file_report`)."""

    service_code: str
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    description: str = ""
    photos: tuple[bytes, ...] = ()
    name: str = ""
    email: str = ""
    phone: str = ""
    channel: str = "web"
    on_behalf_of: str = ""  # a call-taker logging a report for someone (e.g. a council office)
    taken_by: str = ""  # the staff account that logged it (call-taker form)
    join_job: int | None = None
    media_url: str = ""
    honeypot: str = ""  # a field people never see; bots fill it


@dataclass(frozen=True, slots=True)
class Filed:
    """What a filed report became."""

    request_id: int
    token: str  # the private tracking reference (Open311 ``tokens/{token}``)
    job_id: int | None
    joined: bool  # added to an open job the resident chose
    sla_hours: float | None
    department: str


@dataclass(frozen=True, slots=True)
class Place:
    """Where an address was found, and the address it matched (shown to the resident)."""

    lat: float
    lon: float
    matched: str


@dataclass(frozen=True, slots=True)
class NearbyJob:
    """An open job of the same type near a new report; no description, no names."""

    job_id: int
    service_name: str
    status: RequestStatus
    distance_m: float
    caller_count: int
    created_at: datetime


def public_types(*, settings: Settings | None = None) -> dict[str, str]:
    """Code -> name of the types residents may report, sorted by name."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        types = [t for t in list_service_types(session) if t.public]
    return {t.code: t.name for t in sorted(types, key=lambda t: t.name.lower())}


def find_address(text: str, *, settings: Settings | None = None) -> Place | None:
    """The city's offline geocoder on one address; None when it finds no place for it."""
    settings = settings or get_settings()
    value = text.strip()[:300]
    if len(value) < 3:
        return None
    row = offline_geocoder(settings).geocode([value]).iloc[0]
    lat, lon = row.get("lat"), row.get("lon")
    if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    matched = str(row.get("matched") or value)
    return Place(float(lat), float(lon), matched)


def nearby_jobs(
    service_code: str, lat: float, lon: float, *, settings: Settings | None = None
) -> list[NearbyJob]:
    """Open jobs of ``service_code`` within :data:`NEARBY_M` of the point, nearest first."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        anchors = repo.open_job_anchors(session, [service_code]).dropna(subset=["lon", "lat"])
        if anchors.empty:
            return []
        xs, ys = lonlat_to_working(
            anchors["lon"].to_numpy(), anchors["lat"].to_numpy(), settings.working_crs
        )
        x0, y0 = lonlat_to_working(np.array([lon]), np.array([lat]), settings.working_crs)
        anchors["distance_m"] = np.hypot(xs - x0[0], ys - y0[0])
        close = anchors[anchors["distance_m"] <= NEARBY_M].sort_values("distance_m")
        names = {t.code: t.name for t in list_service_types(session)}
        out = []
        for job_id, distance in zip(close["job_id"], close["distance_m"], strict=True):
            job = jobs_repo.get_job(session, int(job_id))
            if job is not None:
                out.append(
                    NearbyJob(
                        job_id=job.id,
                        service_name=names.get(job.service_code, job.service_code),
                        status=job.status,
                        distance_m=float(distance),
                        caller_count=job.caller_count,
                        created_at=job.created_at,
                    )
                )
    return out


@functools.cache
def _window(database: str) -> limits.strategies.MovingWindowRateLimiter:
    """The process's count of form reports per client address (one per database)."""
    del database  # part of the key only
    return limits.strategies.MovingWindowRateLimiter(limits.storage.MemoryStorage())


def count_submission(client: str, settings: Settings) -> None:
    """Count one report from ``client``; TooManyAttemptsError past the POST rate limit.

    The form shares the API's per-address limit (``GEODISPATCH_RATE_LIMIT_POSTS``), so a
    script cannot flood the city through the web page instead of the API.
    """
    window = _window(settings.database_url)
    for rate in limits.parse_many(settings.rate_limit_posts):
        if not window.hit(rate, "report", client):
            reset_at, _left = window.get_window_stats(rate, "report", client)
            wait = max(1, int(reset_at - time.time()) + 1)
            raise TooManyAttemptsError(
                f"too many reports from this device or network; try again in "
                f"{-(-wait // 60)} minute(s), or call the city",
                retry_after_s=wait,
            )


def _check(new: NewReport, settings: Settings) -> tuple[list[Photo], float | None, float | None]:
    """Every check that can refuse the report, before anything is stored."""
    if new.honeypot.strip():
        raise InputError("the report was not accepted; please send it again from the form")
    code = new.service_code.strip()
    if not code:
        raise InputError("choose the type of problem")
    if code not in public_types(settings=settings):
        raise NotFoundError(f"type {code[:80]!r} is not one residents can report; choose one")
    if len(new.description) > MAX_DESCRIPTION:
        raise InputError(
            f"the description is {len(new.description):,} characters; at most "
            f"{MAX_DESCRIPTION:,}: shorten it"
        )
    if len(new.photos) > MAX_PHOTOS:
        raise InputError(f"{len(new.photos)} photos; attach at most {MAX_PHOTOS}")
    photos = []
    for n, data in enumerate(new.photos, start=1):
        try:
            photos.append(prepare_photo(data, max_bytes=settings.photo_max_bytes))
        except InputError as exc:
            raise InputError(f"photo {n}: {exc}") from None
    clean_contact(new.name, new.email, new.phone)
    if new.channel not in CHANNELS:
        raise InputError(f"source {new.channel[:40]!r}: use one of {', '.join(CHANNELS)}")
    if len(new.on_behalf_of) > 200:
        raise InputError("'on behalf of' is longer than 200 characters; shorten it")
    lat, lon = new.lat, new.lon
    if (lat is None) != (lon is None) or (
        lat is not None and lon is not None and not (math.isfinite(lat) and math.isfinite(lon))
    ):
        raise InputError("the map point is incomplete; tap the map again")
    if lat is None and not new.address.strip():
        raise InputError("say where the problem is: type an address or tap the map")
    return photos, lat, lon


def _problem(row: RejectedRow) -> str:
    """One rejection in the form's words: the field, its value, the problem and the fix."""
    value = f" {row.value[:60]!r}" if row.value else ""
    fix = f" ({row.fix})" if row.fix else ""
    return f"{row.field or 'report'}{value}: {row.problem}{fix}"


def file_report(
    new: NewReport,
    *,
    settings: Settings | None = None,
    explain: Callable[[RejectedRow], str] = _problem,
    client: str | None = None,
) -> Filed:
    """Check and store a report; it joins ``join_job`` or is grouped like any import.

    ``client`` (the public form's client address) counts against the per-address limit;
    the API limits its POSTs itself, and staff forms are not limited.

    Raises
    ------
    InputError
        A field is missing, too long or wrong (the message names it and the fix), or the
        place is outside the city.
    TooManyAttemptsError
        ``client`` sent too many reports lately.
    NotFoundError
        Unknown or internal type, or ``join_job`` is not an open job of that type.
    """
    settings = settings or get_settings()
    photos, lat, lon = _check(new, settings)
    if client is not None:
        count_submission(client, settings)
    contact = clean_contact(new.name, new.email, new.phone)
    code = new.service_code.strip()
    if new.join_job is not None:
        _joinable(new.join_job, code, settings)
    token = f"api-{secrets.token_hex(10)}"
    item: dict[str, Any] = {
        "service_request_id": token,
        "service_code": code,
        "service_name": public_types(settings=settings)[code],
        "requested_datetime": clock.now(settings).isoformat(),
        "status": "open",
        "address": new.address.strip(),
        "description": new.description.strip(),
        "channel": new.channel,
    }
    if lat is not None:
        item |= {"lat": lat, "long": lon}
    summary = import_payload(
        [item], source=SOURCE, name="report", settings=settings, group=new.join_job is None
    )
    if summary.rejected:
        rows, _ = rejected_rows(import_id=summary.import_id, limit=5, settings=settings)
        problems = "; ".join(explain(r) for r in rows) or "; ".join(summary.rejected_by_reason)
        raise InputError(f"the request was not accepted: {problems}")
    at = clock.now(settings)
    with session_scope(database_url(settings)) as session:
        request_id = open311_repo.request_by_source(session, SOURCE, token)
        if request_id is None:
            raise InputError("the report was not accepted; send it again")
        if new.media_url:
            open311_repo.set_media_url(session, request_id, new.media_url)
        notify.keep_contact(session, request_id, contact, now=at)
        events: list[dict[str, Any]] = [
            {
                "kind": EventKind.NOTE,
                "request_id": request_id,
                "actor": "resident",
                "at": at,
                "note": f"photo {n} from the report",
                "photo_ref": p.ref,
            }
            for n, p in enumerate(photos, start=1)
        ]
        if new.taken_by or new.on_behalf_of.strip():
            behalf = f" on behalf of {new.on_behalf_of.strip()}" if new.on_behalf_of.strip() else ""
            events.append(
                {
                    "kind": EventKind.NOTE,
                    "request_id": request_id,
                    "actor": new.taken_by[:100] or "call-taker",
                    "at": at,
                    "note": f"logged from a {new.channel} report{behalf}",
                }
            )
        if new.join_job is not None:
            events.append(_join(session, request_id, new.join_job, at))
        repo.add_events(session, events)
        for p in photos:
            save_photo(p, settings.home)
        job_id = repo.request_state(session, request_id).job_id
        kind = next(t for t in list_service_types(session) if t.code == code)
    return Filed(
        request_id=request_id,
        token=token,
        job_id=job_id,
        joined=new.join_job is not None,
        sla_hours=kind.sla_hours,
        department=kind.department,
    )


def _joinable(job_id: int, code: str, settings: Settings) -> None:
    with session_scope(database_url(settings)) as session:
        job = jobs_repo.get_job(session, job_id)
    if job is None or not job.status.is_open or job.service_code != code:
        raise NotFoundError(
            f"job {job_id} is not an open job of this type any more; send the report on its own"
        )


def _join(session: Any, request_id: int, job_id: int, at: datetime) -> dict[str, Any]:
    """Within a transaction: put the new request in the chosen job (one more caller)."""
    state = repo.job_state(session, job_id)
    before = repo.request_state(session, request_id).job_id  # a grouping run may have been first
    repo.link_requests(session, job_id, [request_id], status=state.status, now=at)
    repo.refresh_job_totals(session, {job_id} | ({before} if before else set()), now=at)
    return {
        "kind": EventKind.ATTACH,
        "job_id": job_id,
        "request_id": request_id,
        "from_status": RequestStatus.NEW,
        "to_status": state.status,
        "actor": "resident",
        "at": at,
        "note": f"the resident added this report to job {job_id}",
    }
