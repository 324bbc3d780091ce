"""Open311 GeoReport v2 over our requests: discovery, services, requests, tokens, updates.

Returns plain JSON-ready structures in the spec's shapes; the API layer only renders them
as JSON or XML. Statuses map to the spec's ``open``/``closed`` with the mySociety extended
status alongside; ``expected_datetime`` is the predicted close time where a time-to-close
model is installed, else the SLA due time. De-facto extensions:
``page``/``page_size``, ``updated_after``/``updated_before``, ``extensions=true`` (notes
and extended attributes) and ``servicerequestupdates``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pandas as pd

from geodispatch.config import Settings, get_settings
from geodispatch.domain.errors import InputError, NotFoundError, PermissionDeniedError
from geodispatch.domain.notices import clean_contact
from geodispatch.domain.requests import RejectedRow, RequestStatus
from geodispatch.domain.service_types import ServiceType
from geodispatch.domain.workflow import OPEN311_STATUS, PUBLIC_STATUS_TEXT, public_text
from geodispatch.services import clock, models, report
from geodispatch.services.api_keys import check_key
from geodispatch.services.workflow import database_url, request_events
from geodispatch.storage import open311_repo
from geodispatch.storage.db import session_scope
from geodispatch.storage.requests_repo import list_service_types

SPEC: Final = "http://wiki.open311.org/GeoReport_v2"
API_SOURCE: Final = "open311-api"  # id space of requests posted through the API
MAX_SPAN: Final = timedelta(days=90)
MAX_PAGE_SIZE: Final = 1000
MAX_DESCRIPTION: Final = 4000


def check_jurisdiction(jurisdiction_id: str | None, settings: Settings) -> None:
    """NotFoundError when a jurisdiction is named that this endpoint does not serve."""
    if jurisdiction_id and settings.jurisdiction_id and jurisdiction_id != settings.jurisdiction_id:
        raise NotFoundError(
            f"jurisdiction_id {jurisdiction_id[:60]!r} not found; this endpoint serves "
            f"{settings.jurisdiction_id!r}"
        )


def _stamp(value: datetime | None, zone: ZoneInfo) -> str | None:
    return None if value is None else value.astimezone(zone).isoformat(timespec="seconds")


def discovery(*, base_url: str, settings: Settings | None = None) -> dict[str, Any]:
    """The Service Discovery document."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        changed = open311_repo.catalogue_changed_at(session)
    changeset = _stamp(changed or datetime(2026, 1, 1, tzinfo=UTC), ZoneInfo("UTC"))
    return {
        "changeset": changeset,
        "contact": "Your city's 311 service desk",
        "key_service": "API keys for POST requests are issued by the city's 311 team "
        "(one per client application, 'geodispatch keys add' on the server)",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base_url,
                "changeset": changeset,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }


def services(*, settings: Settings | None = None) -> list[dict[str, Any]]:
    """GET services: every type residents may report (internal work orders are left out)."""
    settings = settings or get_settings()
    types = _public_types(settings).values()
    return [
        {
            "service_code": t.code,
            "service_name": t.name,
            "description": _service_description(t.department, t.sla_hours),
            "metadata": False,
            "type": "realtime",
            "keywords": ", ".join(k for k in (t.category, t.skill) if k),
            "group": t.category or t.department or "general",
        }
        for t in types
    ]


def _service_description(department: str, sla_hours: float | None) -> str:
    parts = [f"Handled by {department}." if department else ""]
    if sla_hours:
        parts.append(f"Target: within {_duration(sla_hours)}.")
    return " ".join(p for p in parts if p)


def _duration(hours: float) -> str:
    if hours < 72:
        return f"{hours:g} hours"
    return f"{hours / 24:.0f} days"


def service_definition(code: str, *, settings: Settings | None = None) -> dict[str, Any]:
    """GET service definition: our types ask no extra questions, so no attributes."""
    settings = settings or get_settings()
    _public_type(code, _public_types(settings))
    return {"service_code": code, "attributes": []}


def _public_types(settings: Settings) -> dict[str, ServiceType]:
    """Code -> type, for the catalogue's types residents may see and report."""
    with session_scope(database_url(settings)) as session:
        return {t.code: t for t in list_service_types(session) if t.public}


def _public_type(code: str, types: dict[str, ServiceType]) -> ServiceType:
    """The public type of ``code``; NotFoundError (HTTP 404) for unknown and internal codes.

    Internal work-order types are the city's own: residents neither see nor report them.
    """
    if code not in types:
        raise NotFoundError(f"service_code {code[:80]!r} not found; GET services lists them")
    return types[code]


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """GET requests arguments, already parsed."""

    ids: list[int] | None = None
    codes: list[str] | None = None
    statuses: list[RequestStatus] | None = None
    start: datetime | None = None
    end: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    page: int = 1
    page_size: int = MAX_PAGE_SIZE
    extensions: bool = False


def parse_query(
    *,
    service_request_id: str | None = None,
    service_code: str | None = None,
    status: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    updated_after: str | None = None,
    updated_before: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
    extensions: str | None = None,
    tz: str = "UTC",
) -> RequestQuery:
    """Validate GET requests arguments; an empty argument counts as absent (spec rule).

    Date-times without an offset are read in ``tz`` (the API passes the city's zone).

    Raises
    ------
    InputError
        A date is not ISO 8601, the date span exceeds 90 days, a status is not
        open/closed, an id is not a number, or paging is out of range.
    """
    ids = _id_list(service_request_id)
    page_no = _int_arg("page", page, 1, 1, 10**6)
    size = _int_arg("page_size", page_size, MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    wants_ext = (extensions or "").strip().lower() in {"true", "1", "yes"}
    if ids is not None:  # the spec: service_request_id overrides every other argument
        return RequestQuery(ids=ids, page=page_no, page_size=size, extensions=wants_ext)
    start, end = _time_arg("start_date", start_date, tz), _time_arg("end_date", end_date, tz)
    if start is not None and end is not None:
        if end < start:
            raise InputError("end_date is before start_date; swap them")
        if end - start > MAX_SPAN:
            raise InputError("start_date to end_date spans more than 90 days; ask in pieces")
    return RequestQuery(
        codes=[c.strip() for c in service_code.split(",") if c.strip()]
        if service_code and service_code.strip()
        else None,
        statuses=_status_list(status),
        start=start,
        end=end,
        updated_after=_time_arg("updated_after", updated_after, tz),
        updated_before=_time_arg("updated_before", updated_before, tz),
        page=page_no,
        page_size=size,
        extensions=wants_ext,
    )


def _id_list(value: str | None) -> list[int] | None:
    if value is None or not value.strip():
        return None
    out = []
    for part in value.split(","):
        text = part.strip()
        if not text.isdigit() or len(text) > 18:
            raise InputError(
                f"service_request_id {text[:40]!r} is not a request id; ids are whole numbers, "
                "comma-separated"
            )
        out.append(int(text))
    return out


def _int_arg(name: str, value: str | None, default: int, low: int, high: int) -> int:
    if value is None or not value.strip():
        return default
    text = value.strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise InputError(f"{name} must be a whole number from {low} to {high}. Got {text[:20]!r}.")
    return int(text)


#: Years a date argument may name: those a 311 system can hold (as intake accepts them).
YEARS: Final = (1900, 2199)


def _time_arg(name: str, value: str | None, tz: str) -> datetime | None:
    """An ISO 8601 date-time argument in UTC; without an offset it is the city's time ``tz``.

    Only the years 1900-2199 are accepted, so no offset can push a date past what Python's
    dates hold (``0001-01-01T00:00:00+05:00`` would be before year 1 in UTC).
    """
    if value is None or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    example = "write e.g. 2025-01-31T00:00:00-05:00"
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name} {value[:40]!r} is not an ISO 8601 date-time; {example}") from None
    if not YEARS[0] <= stamp.year <= YEARS[1]:
        raise InputError(
            f"{name} {value[:40]!r} is outside the years {YEARS[0]}-{YEARS[1]}; {example}"
        )
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=ZoneInfo(tz))
    return stamp.astimezone(UTC)


def _status_list(value: str | None) -> list[RequestStatus] | None:
    if value is None or not value.strip():
        return None
    wanted = {w.strip().lower() for w in value.split(",") if w.strip()}
    unknown = wanted - {"open", "closed"}
    if unknown:
        raise InputError(f"status must be open and/or closed. Got {', '.join(sorted(unknown))}.")
    return [s for s, (word, _) in OPEN311_STATUS.items() if word in wanted]


def query_requests(
    query: RequestQuery, *, settings: Settings | None = None
) -> tuple[list[dict[str, Any]], int]:
    """GET requests: the page of matching requests and the total count."""
    settings = settings or get_settings()
    zone = ZoneInfo(settings.timezone)
    with session_scope(database_url(settings)) as session:
        records, total = open311_repo.query_requests(
            session,
            ids=query.ids,
            codes=query.codes,
            statuses=query.statuses,
            start=query.start,
            end=query.end,
            updated_after=query.updated_after,
            updated_before=query.updated_before,
            limit=query.page_size,
            offset=(query.page - 1) * query.page_size,
        )
        notes = open311_repo.latest_public_notes(session, [r.id for r in records])
        expected = expected_close(records, settings)
        out = []
        for r in records:
            item = _request_item(r, notes.get(r.id, ""), zone, expected.get(r.id))
            if query.extensions:
                item |= _extensions(session, r, zone)
            out.append(item)
    return out, total


def get_request(
    request_id: str, *, extensions: bool = False, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """GET one request (a one-element list, as the spec's examples show)."""
    text = request_id.strip()
    if not text.isdigit() or len(text) > 18:  # not one of our ids: none has this one
        raise NotFoundError(f"service_request_id {request_id[:40]!r} not found")
    ids = [int(text)]
    items, _ = query_requests(RequestQuery(ids=ids, extensions=extensions), settings=settings)
    if not items:
        raise NotFoundError(f"service_request_id {ids[0]} not found")
    return items


def expected_close(
    records: list[open311_repo.RequestRecord], settings: Settings
) -> dict[int, datetime]:
    """Predicted close times of the open records (empty without a time-to-close model)."""
    if not records:
        return {}
    frame = pd.DataFrame(
        {
            "request_id": [r.id for r in records],
            "service_name": [r.service_name for r in records],
            "department": [r.department for r in records],
            "ward": [r.ward for r in records],
            "address": [r.address for r in records],
            "created_at": [r.created_at for r in records],
            "due_at": [r.due_at for r in records],
            "closed_at": [r.closed_at for r in records],
            "status": [r.status.value for r in records],
        }
    )
    return models.expected_close_times(frame, now=clock.now(settings), settings=settings)


def _request_item(
    r: open311_repo.RequestRecord, note: str, zone: ZoneInfo, expected: datetime | None = None
) -> dict[str, Any]:
    """One request in the spec's shape; ``note`` is its latest public note.

    ``expected_datetime`` is the model's predicted close time when there is one (``expected``),
    else the SLA due time.

    Internal notes of crews and dispatchers are never shown; the source system's published
    closure text is.
    """
    word, _extended = OPEN311_STATUS[r.status]
    status_notes = r.status.label
    detail = note or (r.closure_note if not r.status.is_open else "")
    if detail:
        status_notes += f": {detail}"
    if r.caller_count > 1:
        status_notes += f" ({r.caller_count} reports of this problem)"
    item: dict[str, Any] = {
        "service_request_id": str(r.id),
        "status": word,
        "status_notes": status_notes,
        "service_name": r.service_name,
        "service_code": r.service_code,
        "description": r.description,
        "agency_responsible": r.department,
        "service_notice": _notice(r),
        "requested_datetime": _stamp(r.created_at, zone),
        "updated_datetime": _stamp(r.closed_at or r.updated_at, zone),
        "expected_datetime": _stamp(expected or r.due_at, zone),
        "address": r.address,
        "zipcode": r.zipcode,
        "lat": r.lat,
        "long": r.lon,
        "media_url": r.media_url,
    }
    return {k: v for k, v in item.items() if v is not None and v != ""}


def _notice(r: open311_repo.RequestRecord) -> str:
    if r.sla_hours:
        return f"{r.department or 'The city'} aims to resolve this within {_duration(r.sla_hours)}."
    return ""


def _extensions(session: Any, r: open311_repo.RequestRecord, zone: ZoneInfo) -> dict[str, Any]:
    _word, extended = OPEN311_STATUS[r.status]
    events = request_events(session, r.id)
    notes = []
    for e in events:
        text = public_text(e.kind, e.to_status, e.note)
        if text is None:
            continue
        note = {"datetime": _stamp(e.at, zone), "description": text, "type": e.kind.value}
        if e.to_status is not None:
            note["status"] = OPEN311_STATUS[e.to_status][1]
        notes.append(note)
    return {
        "extended_attributes": {
            "status": extended,
            "caller_count": r.caller_count,
            "job_id": r.job_id,
            "ward": r.ward,
            "source": r.source,
            "source_id": r.source_id,
        },
        "notes": notes,
    }


@dataclass(frozen=True, slots=True)
class NewRequest:
    """POST requests arguments (already decoded from the form)."""

    service_code: str
    lat: str = ""
    long: str = ""
    address_string: str = ""
    address_id: str = ""
    description: str = ""
    media_url: str = ""
    email: str = ""  # kept only to mail the resident about this request
    name: str = ""
    phone: str = ""


def submit_request(
    api_key: str | None, new: NewRequest, *, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """POST requests: validate, import through intake (which groups it with repeats).

    Raises
    ------
    PermissionDeniedError
        Missing or unknown api_key (HTTP 403).
    NotFoundError
        Unknown service_code (HTTP 404).
    InputError
        No location, bad coordinates, text too long, or intake rejected it (HTTP 400).
    """
    settings = settings or get_settings()
    if check_key(api_key, settings=settings) is None:
        raise PermissionDeniedError("api_key is missing or not valid; ask the city for a key")
    media_url = _media_url(new.media_url)
    code = new.service_code.strip()
    if not code:
        raise InputError("service_code is required; GET services lists them")
    service_type = _public_type(code, _public_types(settings))
    lat, lon = _coordinates(new.lat, new.long)
    contact = clean_contact(new.name, new.email, new.phone)  # refused before anything is stored
    address = new.address_string.strip() or (
        f"address id {new.address_id.strip()}" if new.address_id.strip() else ""
    )
    if lat is None and not address:
        raise InputError("give a location: lat and long, address_string or address_id")
    if len(new.description) > MAX_DESCRIPTION:
        raise InputError(
            f"description is {len(new.description):,} characters; at most {MAX_DESCRIPTION:,}"
        )
    filed = report.file_report(
        report.NewReport(
            service_code=code,
            lat=lat,
            lon=lon,
            address=address,
            description=new.description,
            name=contact.name,
            email=contact.email or "",
            phone=contact.phone,
            channel="open311",
            media_url=media_url,
        ),
        settings=settings,
        explain=_problem,
    )
    new_id = filed.request_id
    notice = service_type.sla_hours
    result = {"service_request_id": str(new_id)}
    if notice:
        result["service_notice"] = (
            f"{service_type.department or 'The city'} aims to resolve this within "
            f"{_duration(notice)}."
        )
    return [result]


#: Longest media_url accepted (browsers and CDNs handle this much safely).
MAX_MEDIA_URL: Final = 2000


def _media_url(value: str) -> str:
    """A posted photo link, checked: an absolute http(s) URL of reasonable length, or ''.

    The link is stored and shown back as text; it is never fetched by the server.
    """
    text = value.strip()
    if not text:
        return ""
    if len(text) > MAX_MEDIA_URL:
        raise InputError(
            f"media_url is {len(text):,} characters; at most {MAX_MEDIA_URL:,}. Link the "
            "photo by a shorter URL"
        )
    parts = urlsplit(text)
    if (
        parts.scheme.lower() not in {"http", "https"}
        or not parts.hostname
        or any(c.isspace() or ord(c) < 32 for c in text)
    ):
        raise InputError(
            f"media_url {text[:60]!r} is not an http(s) link; send the photo's address, e.g. "
            "https://example.org/photo.jpg"
        )
    return text


#: Intake's field names -> the POST argument a client sent.
_POST_FIELD: Final = {"address": "address_string", "lon": "long", "service_name": "service_code"}


def _problem(row: RejectedRow) -> str:
    """One rejection as the client must read it: its argument, value, problem and fix."""
    name = _POST_FIELD.get(row.field, row.field) or "request"
    value = f" {row.value[:60]!r}{'…' if len(row.value) > 60 else ''}" if row.value else ""
    fix = f" ({row.fix})" if row.fix else ""
    return f"{name}{value}: {row.problem}{fix}"


def _coordinates(lat_text: str, lon_text: str) -> tuple[float | None, float | None]:
    if not lat_text.strip() and not lon_text.strip():
        return None, None
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise InputError(
            f"lat {lat_text[:30]!r} and long {lon_text[:30]!r} must both be decimal WGS84 "
            "degrees, e.g. lat=42.3601 and long=-71.0589"
        ) from None
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        raise InputError(f"lat {lat} / long {lon} is not a place on Earth; send WGS84 degrees")
    return lat, lon


def resolve_token(token: str, *, settings: Settings | None = None) -> list[dict[str, Any]]:
    """GET tokens: the request id a token stands for.

    POST answers at once with the id, so tokens are never needed; the token of a request
    posted here is its ``api-...`` reference (``extended_attributes.source_id``).
    """
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        found = open311_repo.request_by_source(session, API_SOURCE, token.strip())
    if found is None:
        raise NotFoundError(f"token {token[:60]!r} not found")
    return [{"service_request_id": str(found), "token": token.strip()}]


@dataclass(frozen=True, slots=True)
class UpdatesPage:
    """One page of servicerequestupdates, with the total so a client knows to ask on."""

    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int
    start: datetime  # the window asked for (UTC), so the next page asks for the same one
    end: datetime

    @property
    def has_more(self) -> bool:
        """Whether later pages hold more changes of the window."""
        return self.page * self.page_size < self.total


def request_updates(
    *,
    start_date: str | None,
    end_date: str | None,
    page: str | None = None,
    page_size: str | None = None,
    settings: Settings | None = None,
) -> UpdatesPage:
    """GET servicerequestupdates (mySociety extension): status changes in a window, paged.

    Without dates, the last 24 hours; dates without an offset are the city's time. Pages
    hold at most 1,000 changes, oldest first; ``total`` says how many the window has.
    """
    settings = settings or get_settings()
    zone = ZoneInfo(settings.timezone)
    page_no = _int_arg("page", page, 1, 1, 10**6)
    size = _int_arg("page_size", page_size, MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    end = _time_arg("end_date", end_date, settings.timezone) or clock.now(settings)
    start = _time_arg("start_date", start_date, settings.timezone) or end - timedelta(days=1)
    if end < start:
        raise InputError("end_date is before start_date; swap them")
    if end - start > MAX_SPAN:
        raise InputError("start_date to end_date spans more than 90 days; ask in pieces")
    with session_scope(database_url(settings)) as session:
        rows, total = open311_repo.updates_between(
            session, start, end, limit=size, offset=(page_no - 1) * size
        )
    out = []
    for event_id, request_id, to_status, _internal_note, at in rows:
        status = RequestStatus(to_status)
        word, extended = OPEN311_STATUS[status]
        out.append(
            {
                "update_id": str(event_id),
                "service_request_id": str(request_id),
                "status": word,
                "external_status_code": extended,
                "description": PUBLIC_STATUS_TEXT[status],
                "updated_datetime": _stamp(at, zone),
            }
        )
    return UpdatesPage(out, total, page_no, size, start, end)
