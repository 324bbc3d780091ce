"""HTTP API (edge layer): Open311 GeoReport v2 and the crew endpoints, built by create_app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from slowapi.errors import RateLimitExceeded
from starlette.exceptions import HTTPException as StarletteHTTPException

from geodispatch import __version__
from geodispatch.api import crew, open311, residents
from geodispatch.api.limits import BodyLimitMiddleware, BodyLimits, BodyTooLarge
from geodispatch.api.render import Format, error_response, format_of
from geodispatch.api.security import SecurityHeadersMiddleware, make_limiter, retry_after
from geodispatch.config import Settings, get_settings
from geodispatch.domain.errors import (
    GeodispatchError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    StaleVersionError,
    TooManyAttemptsError,
    TransitionError,
)
from geodispatch.services.workflow import database_url

__all__ = ["create_app"]


def status_of(exc: GeodispatchError) -> int:
    """HTTP status for one of our errors."""
    if isinstance(exc, TooManyAttemptsError):
        return 429
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, PermissionDeniedError):
        return 403
    if isinstance(exc, StaleVersionError | TransitionError):
        return 409
    if isinstance(exc, InputError):
        return 400
    return 400


def _describe(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in {"body", "query", "path"})
        parts.append(f"{where or 'request'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API application for ``settings`` (the database is migrated on creation)."""
    settings = settings or get_settings()
    database_url(settings)
    app = FastAPI(
        title="geodispatch API",
        version=__version__,
        description=(
            "Open311 GeoReport v2 (with page/page_size, updated_after/updated_before, "
            "extensions=true and servicerequestupdates) and the crew field endpoints."
        ),
    )
    limiter = make_limiter(settings)
    app.state.limiter = limiter
    app.include_router(open311.router(settings, limiter))
    app.include_router(crew.router(settings, limiter))
    app.include_router(residents.router(settings))

    def problem(
        path: str, status: int, message: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        """An error in the spec's shape on Open311 and ``.xml`` paths, else ``{"detail"}``."""
        if path.startswith(open311.PREFIX) or format_of(path) is Format.XML:
            answer = error_response(format_of(path), status, message)
            answer.headers.update(headers or {})
            return answer
        return JSONResponse({"detail": message}, status, dict(headers or {}))

    def too_large(path: str, exc: BodyTooLarge) -> Response:
        return problem(path, exc.status_code, str(exc.detail))

    app.add_middleware(
        BodyLimitMiddleware, limits=BodyLimits(photo=settings.photo_max_bytes), reply=too_large
    )
    app.add_middleware(SecurityHeadersMiddleware)

    @app.exception_handler(BodyTooLarge)
    def body_too_large(request: Request, exc: BodyTooLarge) -> Response:
        return too_large(request.url.path, exc)

    @app.exception_handler(GeodispatchError)
    def domain_error(request: Request, exc: GeodispatchError) -> Response:
        headers = (
            {"Retry-After": str(exc.retry_after_s)}
            if isinstance(exc, TooManyAttemptsError)
            else None
        )
        return problem(request.url.path, status_of(exc), str(exc), headers)

    @app.exception_handler(RateLimitExceeded)
    def rate_limited(request: Request, exc: RateLimitExceeded) -> Response:
        wait = retry_after(exc, request)
        message = f"too many requests from your address (limit {exc.detail}); try again in {wait} s"
        return problem(request.url.path, 429, message, {"Retry-After": str(wait)})

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return problem(request.url.path, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        return problem(request.url.path, 400, _describe(exc))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for path in schema.get("paths", {}).values():  # validation errors answer 400
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
