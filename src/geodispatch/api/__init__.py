"""HTTP API (edge layer): Open311 GeoReport v2 and the crew endpoints, built by create_app."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response

from geodispatch import __version__
from geodispatch.api import crew, open311
from geodispatch.api.limits import BodyLimitMiddleware, BodyLimits, BodyTooLarge
from geodispatch.api.render import error_response, format_of
from geodispatch.config import Settings, get_settings
from geodispatch.domain.errors import (
    GeodispatchError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    StaleVersionError,
    TransitionError,
)
from geodispatch.services.workflow import database_url

__all__ = ["create_app"]


def status_of(exc: GeodispatchError) -> int:
    """HTTP status for one of our errors."""
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
    app.include_router(open311.router(settings))
    app.include_router(crew.router(settings))

    def problem(path: str, status: int, message: str) -> Response:
        """An error in the spec's shape on Open311 paths, ``{"detail": ...}`` elsewhere."""
        if path.startswith(open311.PREFIX):
            return error_response(format_of(path), status, message)
        return JSONResponse({"detail": message}, status)

    def too_large(path: str, exc: BodyTooLarge) -> Response:
        return problem(path, exc.status_code, str(exc.detail))

    app.add_middleware(
        BodyLimitMiddleware, limits=BodyLimits(photo=settings.photo_max_bytes), reply=too_large
    )

    @app.exception_handler(BodyTooLarge)
    def body_too_large(request: Request, exc: BodyTooLarge) -> Response:
        return too_large(request.url.path, exc)

    @app.exception_handler(GeodispatchError)
    def domain_error(request: Request, exc: GeodispatchError) -> Response:
        return problem(request.url.path, status_of(exc), str(exc))

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
