"""Crew endpoints: sign in, today's route, post an update (with an optional photo).

Authenticate with ``Authorization: Bearer <token>`` from ``POST /crew/login``, or with
HTTP Basic (crew code as user name, PIN as password). A crew sees and changes only its
own stops.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from slowapi import Limiter

from geodispatch.api import schemas
from geodispatch.api.security import client_address
from geodispatch.config import Settings
from geodispatch.domain.errors import InputError, PermissionDeniedError, TooManyAttemptsError
from geodispatch.services import field

bearer = HTTPBearer(auto_error=False, description="token from POST /crew/login")
basic = HTTPBasic(auto_error=False, description="crew code and PIN")

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": schemas.Problem, "description": "bad input"},
    401: {"model": schemas.Problem, "description": "not signed in"},
    403: {"model": schemas.Problem, "description": "not this crew's stop"},
    404: {"model": schemas.Problem, "description": "no such stop"},
    409: {"model": schemas.Problem, "description": "stale version or not allowed now"},
    429: {"model": schemas.Problem, "description": "too many requests from this address"},
}


def router(settings: Settings, limiter: Limiter) -> APIRouter:
    """The crew routes bound to ``settings``; sign-ins and POSTs limited by ``limiter``."""
    api = APIRouter(prefix="/crew", tags=["Crews"])
    posts = limiter.shared_limit(settings.rate_limit_posts, scope="posts")
    sign_ins = limiter.shared_limit(settings.rate_limit_sign_ins, scope="sign-ins")
    address = client_address(settings.trusted_proxies)

    def current_crew(
        request: Request,
        token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        login: Annotated[HTTPBasicCredentials | None, Depends(basic)],
    ) -> field.CrewIdentity:
        try:
            if token is not None:
                return field.crew_for_token(token.credentials, settings=settings)
            if login is not None:
                return field.authenticate(
                    login.username, login.password, source=address(request), settings=settings
                )
        except TooManyAttemptsError:
            raise
        except PermissionDeniedError as exc:
            raise HTTPException(401, str(exc), {"WWW-Authenticate": "Bearer"}) from None
        raise HTTPException(401, "sign in with crew code and PIN", {"WWW-Authenticate": "Bearer"})

    Crew = Annotated[field.CrewIdentity, Depends(current_crew)]

    @api.post("/login", response_model=schemas.CrewLogin, responses=ERRORS)
    @sign_ins
    def login(
        request: Request, code: Annotated[str, Form()], pin: Annotated[str, Form()]
    ) -> dict[str, Any]:
        """Sign in with crew code and PIN; the token lasts one shift.

        Every refusal reads the same (no hint whether the code exists). Sign-ins are
        limited per client address, and an address whose PINs keep failing must wait
        (429 with Retry-After) before any crew's lockout counts its guesses.
        """
        try:
            token, expires, crew = field.login(
                code, pin, source=address(request), settings=settings
            )
        except TooManyAttemptsError:
            raise
        except PermissionDeniedError as exc:
            raise HTTPException(401, str(exc), {"WWW-Authenticate": "Bearer"}) from None
        return {
            "token": token,
            "token_type": "bearer",
            "expires_at": expires.isoformat(),
            "crew": crew.code,
        }

    @api.post("/logout", status_code=204, responses=ERRORS)
    @posts
    def logout(
        request: Request,
        token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        """Revoke the bearer token of this phone (sign out)."""
        if token is None:
            raise HTTPException(401, "send the token to revoke as a Bearer token")
        try:
            field.crew_for_token(token.credentials, settings=settings)
        except PermissionDeniedError as exc:
            raise HTTPException(401, str(exc), {"WWW-Authenticate": "Bearer"}) from None
        field.logout(token.credentials, settings=settings)

    @api.get("/route", response_model=schemas.Route, responses=ERRORS)
    def route(
        crew: Crew, day: Annotated[date | None, Query(alias="date")] = None
    ) -> dict[str, Any]:
        """The crew's stops in today's published plan (or another ``date``), in order."""
        when = day or field.local_today(settings)
        stops = field.todays_route(crew, day=when, settings=settings)
        return {
            "crew": crew.code,
            "date": when.isoformat(),
            "stops": [
                {
                    "stop_id": s.stop_id,
                    "sequence": s.sequence,
                    "status": s.status.value,
                    "version": s.version,
                    "eta": s.eta.isoformat(),
                    "job_id": s.job_id,
                    "job_status": s.job_status.value,
                    "service_name": s.service_name,
                    "address": s.address,
                    "lat": s.lat,
                    "long": s.lon,
                    "caller_count": s.caller_count,
                    "priority": s.priority,
                    "due_at": None if s.due_at is None else s.due_at.isoformat(),
                }
                for s in stops
            ],
        }

    @api.post("/stops/{stop_id}/updates", response_model=schemas.UpdateResult, responses=ERRORS)
    @posts
    def post_update(
        request: Request,
        stop_id: int,
        crew: Crew,
        outcome: Annotated[str, Form(description="arrive, done or unable")],
        version: Annotated[int, Form(description="the stop version your route showed")],
        note: Annotated[str, Form()] = "",
        lat: Annotated[float | None, Form()] = None,
        long: Annotated[float | None, Form()] = None,
        photo: UploadFile | None = None,
    ) -> dict[str, Any]:
        """Record arrive / done / unable for one of your stops, with note, position, photo."""
        data = None
        if photo is not None:
            data = photo.file.read(settings.photo_max_bytes + 1)
            if not data:
                raise InputError("the photo is empty; attach a picture or leave it out")
        result = field.record_update(
            crew,
            stop_id,
            outcome,
            expected_version=version,
            note=note,
            lon=long,
            lat=lat,
            photo=data,
            settings=settings,
        )
        return {
            "stop_id": result.stop_id,
            "stop_status": result.stop_status.value,
            "version": result.stop_version,
            "job_id": result.job_id,
            "job_status": result.job_status.value,
            "distance_m": result.distance_m,
            "flags": list(result.flags),
            "photo_ref": result.photo_ref,
        }

    return api
