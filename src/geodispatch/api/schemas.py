"""Response shapes for the OpenAPI document (the JSON form of each answer)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Open311Error(BaseModel):
    """One error: an HTTP-like code and what went wrong."""

    code: int
    description: str


class Service(BaseModel):
    """A request type."""

    service_code: str
    service_name: str
    description: str | None = None
    metadata: bool
    type: str
    keywords: str | None = None
    group: str | None = None


class ServiceDefinition(BaseModel):
    """Extra questions of a type (none in this catalogue)."""

    service_code: str
    attributes: list[dict[str, object]]


class ServiceRequest(BaseModel):
    """One request as GeoReport v2 shows it; ``extensions=true`` adds notes."""

    model_config = ConfigDict(extra="allow")

    service_request_id: str
    status: str
    status_notes: str | None = None
    service_name: str | None = None
    service_code: str
    description: str | None = None
    agency_responsible: str | None = None
    service_notice: str | None = None
    requested_datetime: str
    updated_datetime: str | None = None
    expected_datetime: str | None = None
    address: str | None = None
    zipcode: str | None = None
    lat: float | None = None
    long: float | None = None
    media_url: str | None = None


class Created(BaseModel):
    """POST requests answer."""

    service_request_id: str
    service_notice: str | None = None


class Token(BaseModel):
    """GET tokens answer."""

    service_request_id: str
    token: str


class Endpoint(BaseModel):
    """A discovery endpoint."""

    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class Discovery(BaseModel):
    """Service discovery."""

    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class RequestUpdate(BaseModel):
    """One status change (mySociety servicerequestupdates)."""

    update_id: str
    service_request_id: str
    status: str
    external_status_code: str
    description: str
    updated_datetime: str


class CrewLogin(BaseModel):
    """A crew's sign-in token."""

    token: str
    token_type: str
    expires_at: str
    crew: str


class Stop(BaseModel):
    """One stop on a crew's route."""

    stop_id: int
    sequence: int
    status: str
    version: int
    eta: str
    job_id: int
    job_status: str
    service_name: str
    address: str
    lat: float | None
    long: float | None
    caller_count: int
    priority: int
    due_at: str | None


class Route(BaseModel):
    """A crew's stops for a day."""

    crew: str
    date: str
    stops: list[Stop]


class UpdateResult(BaseModel):
    """What a crew update did."""

    stop_id: int
    stop_status: str
    version: int
    job_id: int
    job_status: str
    distance_m: float | None
    flags: list[str]
    photo_ref: str | None


class Problem(BaseModel):
    """An error of the crew API."""

    detail: str
