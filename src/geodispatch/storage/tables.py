"""The database schema (SQLAlchemy 2 declarative), one class per table of the data model.

Migrations in ``storage/migrations`` create exactly this schema; a test checks that
``alembic upgrade head`` and these classes agree.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geodispatch.storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (migrations depend on them)."""

    metadata = MetaData(naming_convention=NAMING)


class ImportRow(Base):
    """One run of intake over one file or payload, with its counts."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # city_export | open311 | csv | form
    file_name: Mapped[str] = mapped_column(String(255), default="")
    file_sha256: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(12), default="running")  # running|done|failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")


class ServiceTypeRow(Base):
    """Catalogue of request types: department, SLA target, field work needed."""

    __tablename__ = "service_types"

    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    department: Mapped[str] = mapped_column(String(200), default="")
    queue: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(200), default="")
    sla_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    service_minutes: Mapped[int] = mapped_column(Integer, default=30)
    skill: Mapped[str] = mapped_column(String(40), default="general")
    priority: Mapped[int] = mapped_column(Integer, default=3)
    field_work: Mapped[bool] = mapped_column(Boolean, default=True)
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    # issue 7 (migration 0007): False for the city's own work orders, left off public views
    public: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # issue 20: jobs older than this many days go to backlog review, not onto routes
    max_age_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    request_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class JobRow(Base):
    """One problem to fix: repeat reports merged, remembering how many people called."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("service_types.code"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    address: Mapped[str] = mapped_column(Text, default="")
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    ward: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    caller_count: Mapped[int] = mapped_column(Integer, default=1)
    priority: Mapped[int] = mapped_column(Integer, default=3)
    earliest_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # issue 6: a job closed as a duplicate points at the job that carries its callers
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), nullable=True)
    # issue 20: a dispatcher re-confirmed an old job still needs work (its age limit restarts)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RequestRow(Base):
    """One resident's report, as received, plus what we derived (ward, geocode, job)."""

    __tablename__ = "requests"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_requests_status_service", "status", "service_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(100))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"), nullable=True)
    line: Mapped[int] = mapped_column(Integer, default=0)
    service_code: Mapped[str] = mapped_column(ForeignKey("service_types.code"), index=True)
    service_name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(Text, default="")
    zipcode: Mapped[str] = mapped_column(String(10), default="")
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    location_status: Mapped[str] = mapped_column(String(12))
    location_note: Mapped[str] = mapped_column(Text, default="")
    geocode_match: Mapped[str | None] = mapped_column(String(16), nullable=True)
    geocode_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    source_ward: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ward: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    ward_method: Mapped[str | None] = mapped_column(String(12), nullable=True)
    # "" / ambiguous / low_confidence / conflict / outside_area, and the matched address
    geocode_flag: Mapped[str | None] = mapped_column(String(16), nullable=True)
    geocode_address: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the area id of every configured layer as a JSON object ({"ward": "5", "precinct":
    # "0501", ...}), and what differed per layer when a point was snapped or outside
    areas: Mapped[str | None] = mapped_column(Text, nullable=True)
    area_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer, default=3)
    channel: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # indexed (migration 0008): screens key their caches on max(updated_at) on every visit
    # (with the count, one pass over this narrow index instead of the table)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    closure_note: Mapped[str] = mapped_column(Text, default="")
    row_hash: Mapped[str] = mapped_column(String(20))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), nullable=True, index=True)
    hotspot_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # issue 23 (migration 0011): what the source's closure note says happened, and the
    # original request a duplicate's note cites
    closure_class: Mapped[str | None] = mapped_column(String(20), nullable=True)
    duplicate_of: Mapped[int | None] = mapped_column(
        ForeignKey("requests.id"), nullable=True, index=True
    )
    # issue 18 (migration 0009): the photo link an Open311 client posted, http(s) only
    media_url: Mapped[str | None] = mapped_column(Text, nullable=True)


class RejectedRowRow(Base):
    """An input row intake could not accept, kept with line, field, value, problem and fix."""

    __tablename__ = "rejected_rows"
    __table_args__ = (Index("ix_rejected_rows_source_file", "source", "file_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"), index=True)
    source: Mapped[str] = mapped_column(String(100))
    file_name: Mapped[str] = mapped_column(String(255), default="")
    line: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(Text)
    problem: Mapped[str] = mapped_column(Text)
    fix: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text, default="")


class StatusEventRow(Base):
    """Append-only audit trail: every status change, note and field update."""

    __tablename__ = "status_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), nullable=True, index=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("requests.id"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # status | note | arrive | done | unable | merge
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    photo_ref: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # issue 6: the stop a field event was posted for, its distance from the job, audit flags
    stop_id: Mapped[int | None] = mapped_column(ForeignKey("stops.id"), nullable=True)
    distance_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    flags: Mapped[str] = mapped_column(String(200), default="", server_default="")


class CrewRow(Base):
    """A field crew: identity, yard, shift, lunch break and skills."""

    __tablename__ = "crews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    pin_hash: Mapped[str] = mapped_column(String(255), default="")
    depot_name: Mapped[str] = mapped_column(String(200), default="")
    depot_lon: Mapped[float] = mapped_column(Float)
    depot_lat: Mapped[float] = mapped_column(Float)
    shift_start: Mapped[str] = mapped_column(String(5), default="07:00")  # local HH:MM
    shift_end: Mapped[str] = mapped_column(String(5), default="15:30")
    break_start: Mapped[str | None] = mapped_column(String(5), nullable=True)  # window opens
    break_end: Mapped[str | None] = mapped_column(String(5), nullable=True)  # window closes
    break_minutes: Mapped[int] = mapped_column(Integer, default=30)
    skills: Mapped[str] = mapped_column(String(400), default="general")  # comma-separated
    max_jobs: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PlanRow(Base):
    """One day's routing plan: draft until a dispatcher publishes it."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft|published|superseded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100), default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), nullable=True)
    solver: Mapped[str] = mapped_column(String(60), default="")
    summary: Mapped[str] = mapped_column(Text, default="{}")  # JSON: totals, params, timings
    version: Mapped[int] = mapped_column(Integer, default=1)


class StopRow(Base):
    """A job placed on a crew's route, in order, with its planned times."""

    __tablename__ = "stops"
    __table_args__ = (UniqueConstraint("plan_id", "job_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    crew_id: Mapped[int] = mapped_column(ForeignKey("crews.id"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    eta: Mapped[datetime] = mapped_column(UTCDateTime())
    departs_at: Mapped[datetime] = mapped_column(UTCDateTime())
    travel_s: Mapped[int] = mapped_column(Integer, default=0)
    service_s: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # issue 20: the dispatcher's urgent job (must be served; crews see it marked urgent)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # planned | arrived | done | unable
    status: Mapped[str] = mapped_column(String(12), default="planned")
    version: Mapped[int] = mapped_column(Integer, default=1)


class PlanUnassignedRow(Base):
    """A job a plan left out, with the reason a dispatcher can act on."""

    __tablename__ = "plan_unassigned"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"))
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")


class CrewTokenRow(Base):
    """A crew's sign-in: a random bearer token, stored only as its SHA-256 (issue 6)."""

    __tablename__ = "crew_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    crew_id: Mapped[int] = mapped_column(ForeignKey("crews.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CrewLoginRow(Base):
    """Failed PIN attempts per crew, so guessing a PIN locks the crew out for a while."""

    __tablename__ = "crew_logins"

    crew_id: Mapped[int] = mapped_column(ForeignKey("crews.id"), primary_key=True)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiKeyRow(Base):
    """An Open311 client's API key (issue 18): only its SHA-256 is stored, revocable."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(
        String(12)
    )  # the key's first characters, to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AppointmentRow(Base):
    """A booked appointment: the crew must start work on the job inside this window."""

    __tablename__ = "appointments"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GeocodeCacheRow(Base):
    """One online geocoder's answer for one normalised address, so it is asked only once."""

    __tablename__ = "geocode_cache"
    __table_args__ = (UniqueConstraint("provider", "query"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    query: Mapped[str] = mapped_column(String(500))
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    match: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    flag: Mapped[str] = mapped_column(String(16), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    matched: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HotspotRunRow(Base):
    """One run of hotspot detection: period, parameters, counts (migration 0003)."""

    __tablename__ = "hotspot_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(12), default="running")  # running|done|failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    requests_analysed: Mapped[int] = mapped_column(Integer, default=0)
    requests_excluded: Mapped[int] = mapped_column(Integer, default=0)
    hotspots: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")


class HotspotRow(Base):
    """A place with significantly more reports than its surroundings predict (migration 0003).

    Refreshing keeps the id of a hotspot that is still there (same type, overlapping) and
    retires the ones that are gone (``active`` false), so ids managers quote stay valid.
    ``service_code`` NULL means all request types together. ``geometry`` is a GeoJSON
    polygon in WGS84; the bounding box columns let tagging skip far-away hotspots.
    """

    __tablename__ = "hotspots"
    __table_args__ = (Index("ix_hotspots_active_service", "active", "service_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("hotspot_runs.id"), index=True)
    service_code: Mapped[str | None] = mapped_column(String(80), nullable=True)
    service_name: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    trend: Mapped[str] = mapped_column(String(16), default="")
    found_in: Mapped[str] = mapped_column(String(12), default="history")
    n_reports: Mapped[int] = mapped_column(Integer, default=0)
    expected: Mapped[float] = mapped_column(Float, default=0.0)
    ratio: Mapped[float] = mapped_column(Float, default=0.0)
    p_value: Mapped[float] = mapped_column(Float, default=1.0)
    q_value: Mapped[float] = mapped_column(Float, default=1.0)
    n_cells: Mapped[int] = mapped_column(Integer, default=0)
    area_m2: Mapped[float] = mapped_column(Float, default=0.0)
    # migration 0013: the exposure (reports of every type inside) and the place's own test
    n_all: Mapped[float | None] = mapped_column(Float, nullable=True)
    share_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    cluster_p: Mapped[float | None] = mapped_column(Float, nullable=True)
    centroid_lon: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    wards: Mapped[str] = mapped_column(String(200), default="")  # ';'-separated, largest first
    primary_ward: Mapped[str | None] = mapped_column(String(20), nullable=True)
    distinct_addresses: Mapped[int] = mapped_column(Integer, default=0)
    distinct_sites: Mapped[int] = mapped_column(Integer, default=0)
    top_address: Mapped[str] = mapped_column(Text, default="")
    top_address_reports: Mapped[int] = mapped_column(Integer, default=0)
    first_report_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_report_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    months_with_reports: Mapped[int] = mapped_column(Integer, default=0)
    months_active: Mapped[int] = mapped_column(Integer, default=0)
    monthly_recurrence: Mapped[float | None] = mapped_column(Float, nullable=True)
    open_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    n_recent: Mapped[int] = mapped_column(Integer, default=0)
    recent_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    expected_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    trend_p: Mapped[float | None] = mapped_column(Float, nullable=True)
    trend_q: Mapped[float | None] = mapped_column(Float, nullable=True)
    geometry: Mapped[str] = mapped_column(Text)
    first_detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class UserRow(Base):
    """A staff account (issue 18): role, council wards, Argon2 password hash, sign-in state."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str | None] = mapped_column(String(254), unique=True, nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    wards: Mapped[str] = mapped_column(String(200), default="")  # council: ';'-separated
    password_hash: Mapped[str] = mapped_column(String(200), default="")  # '' = SSO only
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class UserSessionRow(Base):
    """A staff sign-in: a random token stored only as its SHA-256, with expiry and revocation."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AppStateRow(Base):
    """Installation-wide facts the product keeps, e.g. the day the demo pinned its clock to."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RequestContactRow(Base):
    """A resident's contact for one request (issue 25): kept only to tell them what happened.

    ``unsubscribe_token`` is random and only turns this request's mail off; it is kept in
    clear because every mail carries it in its unsubscribe link.
    """

    __tablename__ = "request_contacts"

    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    notify: Mapped[bool] = mapped_column(Boolean, default=True)
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxRow(Base):
    """A mail owed to a resident, written in the transaction of the change it reports.

    The worker claims a row (``claimed_until``) before sending and sets ``sent_at`` after, so
    an SMTP outage leaves it waiting and two workers never send it twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    dropped: Mapped[str] = mapped_column(String(40), default="")
