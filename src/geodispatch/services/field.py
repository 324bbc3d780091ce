"""Crew actions: sign in with code + PIN, read today's route, post arrive/done/unable.

A crew sees and changes only its own stops in published plans. Every update carries the
stop version the phone loaded; a replayed or concurrent update is refused as stale, never
applied twice. The stop change, the job's status change, the cascade to its requests and
the audit events commit in one transaction.
"""

from __future__ import annotations

import functools
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import limits
import limits.storage
import limits.strategies
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from geodispatch.config import Settings, get_settings
from geodispatch.dispatch.field import FieldParams, decide
from geodispatch.domain.errors import (
    InputError,
    NotFoundError,
    PermissionDeniedError,
    TooManyAttemptsError,
)
from geodispatch.domain.requests import RequestStatus
from geodispatch.domain.updates import FieldOutcome, FieldUpdate, PositionSource, StopStatus
from geodispatch.domain.workflow import EventKind, clean_note
from geodispatch.io.photos import photo_path, prepare_photo, save_photo, stored_bytes
from geodispatch.reporting.crew_map import MapStop, crew_route_map, navigation_links
from geodispatch.reporting.maps import render_html
from geodispatch.services import clock
from geodispatch.services.credentials import HASHER, decoy_hash, token_hash
from geodispatch.services.hotspots import ward_outlines
from geodispatch.services.workflow import (
    QUEUED,
    assign_for_route,
    change_job_status,
    database_url,
)
from geodispatch.storage import crews_repo, field_repo
from geodispatch.storage import workflow_repo as repo
from geodispatch.storage.db import session_scope

PIN_PATTERN: Final = re.compile(r"\d{4,12}")
LOCK_AFTER: Final = 10  # wrong PINs in a row (from any address)
LOCK_FOR: Final = timedelta(minutes=15)
TOKEN_TTL: Final = timedelta(hours=14)  # one shift and its overtime
DEFAULT_HASHER: Final = HASHER


@dataclass(frozen=True, slots=True)
class CrewIdentity:
    """A signed-in crew."""

    id: int
    code: str

    @property
    def actor(self) -> str:
        """How the crew appears in the audit trail."""
        return f"crew:{self.code}"


def _check_pin(pin: str) -> str:
    if not PIN_PATTERN.fullmatch(pin):
        raise InputError("a PIN is 4 to 12 digits; choose another")
    if len(set(pin)) == 1 or pin in "01234567890123" or pin in "98765432109876":
        raise InputError(f"PIN {pin[:2]}… is too easy to guess (repeated or sequential digits)")
    return pin


def set_pin(
    code: str,
    pin: str,
    *,
    settings: Settings | None = None,
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> None:
    """Give a crew a new PIN (stored only as an Argon2 hash); clears any lockout."""
    settings = settings or get_settings()
    _check_pin(pin)
    with session_scope(database_url(settings)) as session:
        crew = field_repo.crew_credential(session, code)
        if crew is None:
            raise NotFoundError(f"no crew with code {code!r}; crews: see 'geodispatch crews'")
        field_repo.set_pin_hash(session, crew.id, hasher.hash(pin))


#: One answer for every refused sign-in: unknown code, wrong PIN, locked or inactive crew,
#: so nobody learns which crew codes exist or which crew they have locked.
REFUSED: Final = (
    f"wrong crew code or PIN (after {LOCK_AFTER} wrong PINs a crew must wait "
    f"{LOCK_FOR.seconds // 60} minutes; dispatch can reset a PIN)"
)
#: Argon2 verifications running at once: each takes ~64 MB and a core for a moment, so a
#: flood of sign-ins queues here instead of taking the server's memory and every core.
ARGON2_AT_ONCE: Final = 1
#: How long a sign-in waits for its turn before it is told to try again (so a flood
#: cannot hold all of the server's worker threads).
ARGON2_WAIT_S: Final = 5.0
_ARGON2_SLOTS = threading.BoundedSemaphore(ARGON2_AT_ONCE)


class SourceThrottle:
    """Failed sign-ins per client address in a moving window (in this process's memory).

    Checked before a crew's own counter moves: one address that keeps failing is told to
    wait long before it could lock a crew out, and its guesses cost no Argon2 work.
    """

    def __init__(self, rate: str) -> None:
        try:
            self.item = limits.parse(rate)
        except ValueError:
            raise InputError(
                f"GEODISPATCH_SIGN_IN_FAILURES_PER_SOURCE={rate!r} is not a rate; write e.g. "
                "'5/15 minutes'"
            ) from None
        self.window = limits.strategies.MovingWindowRateLimiter(limits.storage.MemoryStorage())

    def check(self, source: str, now: datetime) -> None:
        """TooManyAttemptsError when ``source`` has used up its failures."""
        if self.window.test(self.item, source):
            return
        reset_at, _left = self.window.get_window_stats(self.item, source)
        wait = max(1, int(reset_at - now.timestamp()) + 1)
        raise TooManyAttemptsError(
            f"too many failed sign-ins from this device or network; try again in "
            f"{-(-wait // 60)} minute(s), or ask dispatch for help",
            retry_after_s=wait,
        )

    def failed(self, source: str) -> None:
        """Count one failed sign-in from ``source``."""
        self.window.hit(self.item, source)


@functools.cache
def _throttle(database: str, rate: str) -> SourceThrottle:
    """The process's throttle for one database (tests use many) and rate."""
    del database  # part of the key only
    return SourceThrottle(rate)


def source_throttle(settings: Settings) -> SourceThrottle:
    """The failed-sign-in throttle the API and the app's crew page share."""
    return _throttle(database_url(settings), settings.sign_in_failures_per_source)


def authenticate(
    code: str,
    pin: str,
    *,
    source: str = "local",
    settings: Settings | None = None,
    now: datetime | None = None,
) -> CrewIdentity:
    """The crew a code + PIN belong to, for a sign-in from the client address ``source``.

    First the address's failed sign-ins are checked (:class:`SourceThrottle`); only then
    is the attempt counted against the crew, before its PIN is checked, in one atomic
    update, so guesses sent in parallel cannot get more than ``LOCK_AFTER`` PINs checked.
    ``LOCK_AFTER`` wrong PINs lock the crew out for ``LOCK_FOR``. Every refusal reads the
    same and costs one Argon2 verification, whether the code exists or not.

    Raises
    ------
    TooManyAttemptsError
        This address failed too often lately (nothing was checked).
    PermissionDeniedError
        Unknown code, wrong PIN, no PIN set, inactive crew, or locked out.
    """
    settings = settings or get_settings()
    at = now or clock.now(settings)
    throttle = source_throttle(settings)
    throttle.check(source, at)
    url = database_url(settings)
    with session_scope(url) as session:
        crew = field_repo.crew_credential(session, code.strip()[:40])
        if crew is not None and crew.active and crew.pin_hash:
            attempt = field_repo.count_login_attempt(
                session, crew.id, now=at, lock_after=LOCK_AFTER, lock_for=LOCK_FOR
            )
    usable = crew is not None and crew.active and bool(crew.pin_hash)
    # locked out, or the limit's guesses are being checked: the answer costs the same
    allowed = usable and attempt.number <= LOCK_AFTER
    good = _verify(crew.pin_hash if allowed and crew is not None else None, pin)
    if not (allowed and good) or crew is None:
        throttle.failed(source)
        raise PermissionDeniedError(REFUSED)
    with session_scope(url) as session:
        field_repo.record_good_login(session, crew.id, at=at)
    return CrewIdentity(crew.id, crew.code)


def _verify(pin_hash: str | None, pin: str) -> bool:
    """Whether ``pin`` matches (None: a decoy costing the same); one Argon2 at a time.

    Raises
    ------
    TooManyAttemptsError
        No turn came within :data:`ARGON2_WAIT_S` (a flood of sign-ins is being served).
    """
    if not _ARGON2_SLOTS.acquire(timeout=ARGON2_WAIT_S):
        raise TooManyAttemptsError(
            "sign-in is busy; try again in a few seconds", retry_after_s=int(ARGON2_WAIT_S)
        )
    try:
        DEFAULT_HASHER.verify(pin_hash or decoy_hash(), pin[:64])
    except (VerificationError, InvalidHashError):
        return False
    finally:
        _ARGON2_SLOTS.release()
    return pin_hash is not None


def logout(token: str, *, settings: Settings | None = None, now: datetime | None = None) -> None:
    """Revoke a sign-in token (a lost or handed-over phone)."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        field_repo.revoke_token(session, token_hash(token), now=now or clock.now(settings))


def login(
    code: str,
    pin: str,
    *,
    source: str = "local",
    settings: Settings | None = None,
    now: datetime | None = None,
) -> tuple[str, datetime, CrewIdentity]:
    """Sign in from the client address ``source``: a shift's bearer token, expiry, crew.

    The API and the app's crew page both sign in here, under the same rules
    (:func:`authenticate`).
    """
    settings = settings or get_settings()
    at = now or clock.now(settings)
    crew = authenticate(code, pin, source=source, settings=settings, now=at)
    token = secrets.token_urlsafe(32)
    expires = at + TOKEN_TTL
    with session_scope(database_url(settings)) as session:
        field_repo.add_token(session, crew.id, token_hash(token), now=at, expires=expires)
    return token, expires, crew


def crew_for_token(
    token: str, *, settings: Settings | None = None, now: datetime | None = None
) -> CrewIdentity:
    """The crew a bearer token belongs to; PermissionDeniedError when not valid."""
    settings = settings or get_settings()
    at = now or clock.now(settings)
    with session_scope(database_url(settings)) as session:
        found = field_repo.crew_for_token(session, token_hash(token), now=at)
    if found is None:
        raise PermissionDeniedError("sign-in expired or not valid; sign in again with code + PIN")
    return CrewIdentity(*found)


def local_today(settings: Settings, now: datetime | None = None) -> date:
    """Today's date in the city's zone (the product's clock unless ``now`` is given)."""
    if now is None:
        return clock.today(settings)
    return now.astimezone(ZoneInfo(settings.timezone)).date()


def todays_route(
    crew: CrewIdentity, *, day: date | None = None, settings: Settings | None = None
) -> list[field_repo.StopView]:
    """The crew's stops in the published plan of ``day`` (default: today), in order."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        return field_repo.crew_stops(session, crew.id, day or local_today(settings))


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """What a field update did."""

    stop_id: int
    stop_status: StopStatus
    stop_version: int
    job_id: int
    job_status: RequestStatus
    distance_m: float | None
    flags: tuple[str, ...]
    photo_ref: str | None


def parse_outcome(value: str) -> FieldOutcome:
    """An outcome from its name; InputError listing the valid ones otherwise."""
    try:
        return FieldOutcome(value.strip().lower())
    except ValueError:
        raise InputError(
            f"unknown outcome {value!r}; use one of: {', '.join(o.value for o in FieldOutcome)}"
        ) from None


def _position_source(value: str | PositionSource) -> PositionSource:
    try:
        return PositionSource(value)
    except ValueError:
        raise InputError(
            f"unknown position source {value!r}; use one of: "
            f"{', '.join(p.value for p in PositionSource)}"
        ) from None


def record_update(
    crew: CrewIdentity,
    stop_id: int,
    outcome: str | FieldOutcome,
    *,
    expected_version: int,
    note: str = "",
    lon: float | None = None,
    lat: float | None = None,
    photo: bytes | None = None,
    position_source: str | PositionSource = PositionSource.DEVICE,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> UpdateResult:
    """Record a crew's arrive / done / unable for one of its stops.

    ``lon``/``lat`` are the crew's position; ``position_source`` says whether the phone
    measured it (``device``), the crew confirmed being at the stop (``confirmed``) or
    typed it (``entered``); "done" with an unmeasured position is flagged.

    Raises
    ------
    PermissionDeniedError
        The stop is on another crew's route, or its plan is not published.
    StaleVersionError
        The stop changed since the crew loaded it; nothing was recorded.
    TransitionError
        The outcome does not follow from the stop's status, the job left the route, or
        "unable" has no note.
    InputError
        Bad note, position or photo.
    NotFoundError
        No such stop.
    """
    settings = settings or get_settings()
    at = now or clock.now(settings)
    kind = outcome if isinstance(outcome, FieldOutcome) else parse_outcome(outcome)
    text = clean_note(note, what=f"stop {stop_id}")
    url = database_url(settings)
    with session_scope(url) as session:
        found = field_repo.stop(session, stop_id)
    if found is None or found[0].crew_id != crew.id:
        raise (
            PermissionDeniedError(f"stop {stop_id} is not on the route of crew {crew.code}")
            if found is not None
            else NotFoundError(f"no stop {stop_id}; reload your route")
        )
    seen, plan_status = found
    if plan_status not in field_repo.CREW_VISIBLE_PLANS:
        raise PermissionDeniedError(
            f"stop {stop_id} belongs to a {plan_status} plan, not today's published route; "
            "reload your route"
        )
    repo.require_version(
        repo.RecordState(stop_id, seen.job_status, seen.version),
        expected_version,
        what=f"stop {stop_id}",
    )
    prepared = (
        prepare_photo(photo, max_bytes=settings.photo_max_bytes) if photo is not None else None
    )
    if prepared is not None:
        _check_photo_quota(crew, len(prepared.data), settings=settings, now=at)
    ref = prepared.ref if prepared is not None else None
    stored = False
    update = FieldUpdate(
        stop_id, kind, expected_version, at, text, lon, lat, ref, _position_source(position_source)
    )
    try:
        with field_repo.writer_turn(url), session_scope(url) as session:
            decision = decide(  # early, clear refusal before taking the lock
                update,
                stop_status=seen.status,
                job_status=RequestStatus.ASSIGNED if seen.job_status in QUEUED else seen.job_status,
                job_lon=seen.lon,
                job_lat=seen.lat,
                params=FieldParams(settings.done_radius_m),
            )
            version = field_repo.set_stop_status(
                session,
                stop_id,
                crew_id=crew.id,
                expected_version=expected_version,
                expected_status=seen.status,
                to_status=decision.stop_status,
            )
            job = repo.job_state(session, seen.job_id)  # fresh: we hold the write lock
            if job.status in QUEUED:  # published route, assignment not yet recorded
                job = assign_for_route(
                    session, seen.job_id, plan_id=seen.plan_id, crew_code=crew.code, now=at
                )
            decision = decide(
                update,
                stop_status=seen.status,
                job_status=job.status,
                job_lon=seen.lon,
                job_lat=seen.lat,
                params=FieldParams(settings.done_radius_m),
            )
            event = {
                "lon": lon,
                "lat": lat,
                "photo_ref": ref,
                "stop_id": stop_id,
                "distance_m": decision.distance_m,
                "flags": ",".join(decision.flags),
            }
            job_status = job.status
            if decision.job_status is not None:
                change_job_status(
                    session,
                    seen.job_id,
                    decision.job_status,
                    expected_version=job.version,
                    actor=crew.actor,
                    now=at,
                    note=text,
                    kind=EventKind(kind.value),
                    event=event,
                )
                job_status = decision.job_status
            else:
                repo.add_events(
                    session,
                    [
                        {
                            **event,
                            "kind": EventKind(kind.value),
                            "job_id": seen.job_id,
                            "actor": crew.actor,
                            "at": at,
                            "note": text,
                        }
                    ],
                )
            if prepared is not None:  # the update is accepted: only now the photo is kept
                save_photo(prepared, settings.home)
                stored = True
    except Exception:
        if stored and ref is not None:
            photo_path(settings.home, ref).unlink(missing_ok=True)
        raise
    return UpdateResult(
        stop_id,
        decision.stop_status,
        version,
        seen.job_id,
        job_status,
        decision.distance_m,
        decision.flags,
        ref,
    )


def _check_photo_quota(crew: CrewIdentity, size: int, *, settings: Settings, now: datetime) -> None:
    """TooManyAttemptsError when this photo would take the crew past today's photo quota."""
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date(), datetime.min.time(), zone)
    with session_scope(database_url(settings)) as session:
        refs = field_repo.photo_refs_since(session, crew.actor, midnight.astimezone(UTC))
    used = stored_bytes(settings.home, refs)
    quota = settings.photo_daily_quota_bytes
    if used + size > quota:
        wait = int((midnight + timedelta(days=1) - local).total_seconds()) + 1
        raise TooManyAttemptsError(
            f"crew {crew.code} has stored {used / 1e6:.1f} MB of photos today; the daily "
            f"quota is {quota / 1e6:.0f} MB. Send this update without the photo, or ask "
            "dispatch to raise GEODISPATCH_PHOTO_DAILY_QUOTA_BYTES",
            retry_after_s=wait,
        )


#: PIN the demo gives every crew that has none (documented in the README; demo data only).
DEMO_PIN: Final = "13579"


def give_demo_pins(*, settings: Settings | None = None, pin: str = DEMO_PIN) -> int:
    """Give every crew without a PIN the demo PIN; returns how many got one."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        codes = [
            c
            for c in field_repo.crew_codes(session)
            if not (cred := field_repo.crew_credential(session, c)) or not cred.pin_hash
        ]
    for code in codes:
        set_pin(code, pin, settings=settings)
    return len(codes)


# ------------------------------------------------------------------ the crew's phone screen


@dataclass(frozen=True, slots=True)
class CrewDay:
    """What a signed-in crew's phone shows: who, where the day starts, the stops in order."""

    code: str
    name: str
    day: date
    yard: str
    yard_lon: float | None
    yard_lat: float | None
    stops: tuple[field_repo.StopView, ...]

    @property
    def next_stop(self) -> field_repo.StopView | None:
        """The first stop still to finish (on site first), in route order; None when done."""
        arrived = [s for s in self.stops if s.status is StopStatus.ARRIVED]
        if arrived:
            return arrived[0]
        return next((s for s in self.stops if s.status is StopStatus.PLANNED), None)

    @property
    def finished(self) -> int:
        """Stops done or reported as not possible."""
        return sum(s.status in {StopStatus.DONE, StopStatus.UNABLE} for s in self.stops)


def crew_day(
    crew: CrewIdentity, *, day: date | None = None, settings: Settings | None = None
) -> CrewDay:
    """The crew's screen for ``day`` (default today): its yard and its published stops."""
    settings = settings or get_settings()
    day = day or local_today(settings)
    stops = todays_route(crew, day=day, settings=settings)
    with session_scope(database_url(settings)) as session:
        found = next((c for c in crews_repo.list_crews(session) if c.id == crew.id), None)
    return CrewDay(
        code=crew.code,
        name=found.name if found is not None else "",
        day=day,
        yard=found.depot.name if found is not None else "",
        yard_lon=found.depot.lon if found is not None else None,
        yard_lat=found.depot.lat if found is not None else None,
        stops=tuple(stops),
    )


def crew_map_html(day: CrewDay, *, settings: Settings | None = None) -> str:
    """The crew's stops on a small map (one offline HTML page); '' when nothing has a point."""
    zone = ZoneInfo((settings or get_settings()).timezone)
    stops = [
        MapStop(
            sequence=s.sequence,
            lon=s.lon,
            lat=s.lat,
            title=s.service_name,
            address=s.address,
            status=s.status.value,
            eta=s.eta.astimezone(zone),
        )
        for s in day.stops
    ]
    start = (
        (day.yard_lat, day.yard_lon)
        if day.yard_lat is not None and day.yard_lon is not None
        else None
    )
    if start is None and not any(s.located for s in stops):
        return ""
    upcoming = day.next_stop
    fmap = crew_route_map(
        stops,
        start=start,
        next_sequence=upcoming.sequence if upcoming is not None else None,
        outlines=ward_outlines(settings=settings),
    )
    return render_html(fmap)


def stop_navigation(stop: field_repo.StopView) -> dict[str, str]:
    """Google/Apple Maps driving links to a stop ({} when the stop has no point)."""
    if stop.lat is None or stop.lon is None:
        return {}
    return navigation_links(stop.lat, stop.lon)


def crew_codes(*, settings: Settings | None = None) -> list[str]:
    """Codes of the active crews (for the sign-in picker; codes are painted on trucks)."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        return [c.code for c in crews_repo.list_crews(session, active_only=True)]


def parse_position(text: str) -> tuple[float, float]:
    """(lat, lon) from "42.3351, -71.0726" as a crew types or copies it from a maps app."""
    parts = [p for p in re.split(r"[,;\s]+", text.strip()) if p]
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise InputError(
            f"position {text[:40]!r} is not 'latitude, longitude'; write it like "
            "42.3351, -71.0726 (copy it from your maps app)"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(
            f"position {lat}, {lon} is not on Earth; write latitude first, e.g. 42.3351, -71.0726"
        )
    return lat, lon


def late_minutes(stop: field_repo.StopView, now: datetime) -> int:
    """Minutes a stop still to do (or not yet finished on site) is past its ETA; 0 if not."""
    if stop.status not in {StopStatus.PLANNED, StopStatus.ARRIVED}:
        return 0
    due = stop.eta if stop.status is StopStatus.PLANNED else stop.departs_at
    return max(0, int((now - due).total_seconds() // 60))
