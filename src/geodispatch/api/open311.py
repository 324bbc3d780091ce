"""Open311 GeoReport v2 endpoints, mounted under ``/open311/v2``.

Every resource answers as ``.json`` or ``.xml``. Errors are the spec's list of
``{code, description}`` with HTTP 400 (bad arguments), 403 (api_key) or 404 (unknown
resource). Only POST needs an api_key.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from slowapi import Limiter

from geodispatch.api import schemas
from geodispatch.api.render import Format, respond
from geodispatch.config import Settings
from geodispatch.services import open311

PREFIX = "/open311/v2"


def _docs(model: Any, *extra: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses: the JSON model, XML alongside, and the spec's error codes."""
    xml = {"text/xml": {"schema": {"type": "string"}}}
    errors = list[schemas.Open311Error]
    out: dict[int | str, dict[str, Any]] = {
        200: {"model": model, "content": xml},
        400: {"model": errors, "content": xml, "description": "bad arguments"},
    }
    for code in extra:
        out[code] = {"model": errors, "content": xml, "description": "see the GeoReport spec"}
    return out


Q = Annotated[str | None, Query()]
F = Annotated[str | None, Form()]


def router(settings: Settings, limiter: Limiter) -> APIRouter:
    """The GeoReport routes bound to ``settings``; POSTs are rate-limited by ``limiter``."""
    api = APIRouter(prefix=PREFIX, tags=["Open311 GeoReport v2"])
    posts = limiter.shared_limit(settings.rate_limit_posts, scope="posts")

    @api.get("/discovery.{fmt}", responses=_docs(schemas.Discovery))
    def discovery(fmt: Format) -> Response:
        """Service discovery: where the endpoint is (GEODISPATCH_PUBLIC_BASE_URL), formats."""
        base = settings.public_base_url.rstrip("/") + PREFIX
        return respond(fmt, "discovery", open311.discovery(base_url=base, settings=settings))

    @api.get("/services.{fmt}", responses=_docs(list[schemas.Service], 404))
    def services(fmt: Format, jurisdiction_id: Q = None) -> Response:
        """Request types this city takes, with their codes."""
        open311.check_jurisdiction(jurisdiction_id, settings)
        return respond(fmt, "services", open311.services(settings=settings))

    @api.get("/services/{service_code}.{fmt}", responses=_docs(schemas.ServiceDefinition, 404))
    def service_definition(service_code: str, fmt: Format, jurisdiction_id: Q = None) -> Response:
        """Extra questions of one type (none are defined: ``attributes`` is empty)."""
        open311.check_jurisdiction(jurisdiction_id, settings)
        definition = open311.service_definition(service_code, settings=settings)
        return respond(fmt, "service_definition", definition)

    @api.get("/requests.{fmt}", responses=_docs(list[schemas.ServiceRequest], 404))
    def get_requests(
        fmt: Format,
        jurisdiction_id: Q = None,
        service_request_id: Q = None,
        service_code: Q = None,
        start_date: Q = None,
        end_date: Q = None,
        status: Q = None,
        updated_after: Q = None,
        updated_before: Q = None,
        page: Q = None,
        page_size: Q = None,
        extensions: Q = None,
    ) -> Response:
        """Requests, newest first, filtered and paged.

        ``service_request_id`` (comma list) overrides every other argument; ``start_date``
        to ``end_date`` may span at most 90 days. Extensions: ``page``/``page_size``
        (default and maximum 1000), ``updated_after``/``updated_before`` and
        ``extensions=true`` (notes and extended attributes). The total count is in the
        ``X-Total-Count`` header. Dates without an offset are the city's local time; years
        1900-2199.
        """
        open311.check_jurisdiction(jurisdiction_id, settings)
        query = open311.parse_query(
            service_request_id=service_request_id,
            service_code=service_code,
            status=status,
            start_date=start_date,
            end_date=end_date,
            updated_after=updated_after,
            updated_before=updated_before,
            page=page,
            page_size=page_size,
            extensions=extensions,
            tz=settings.timezone,
        )
        items, total = open311.query_requests(query, settings=settings)
        headers = {"X-Total-Count": str(total)}
        return respond(fmt, "service_requests", items, headers=headers)

    @api.post("/requests.{fmt}", responses=_docs(list[schemas.Created], 403, 404, 429))
    @posts
    def post_request(
        request: Request,
        fmt: Format,
        api_key: F = None,
        jurisdiction_id: F = None,
        service_code: F = None,
        lat: F = None,
        long: F = None,
        address_string: F = None,
        address_id: F = None,
        description: F = None,
        media_url: F = None,
        email: F = None,
        device_id: F = None,
        account_id: F = None,
        first_name: F = None,
        last_name: F = None,
        phone: F = None,
        key: Annotated[str | None, Query(alias="api_key")] = None,
    ) -> Response:
        """Report a problem (form-encoded). Needs an ``api_key``; answers with the new id.

        A report close to an open job of the same type joins that job as a repeat call.
        A point outside the city's service area is refused (400). ``media_url`` (an
        http(s) link) is stored and shown with the request. ``email``, names and ``phone`` are
        kept privately with the request, never published; an email gets a mail at each
        status step and public note (with an unsubscribe link). POSTs are rate-limited per
        client address (429).
        """
        open311.check_jurisdiction(jurisdiction_id, settings)
        new = open311.NewRequest(
            service_code=service_code or "",
            lat=lat or "",
            long=long or "",
            address_string=address_string or "",
            address_id=address_id or "",
            description=description or "",
            media_url=media_url or "",
            email=email or "",
            name=" ".join(n.strip() for n in (first_name or "", last_name or "") if n.strip()),
            phone=phone or "",
        )
        created = open311.submit_request(api_key or key, new, settings=settings)
        return respond(fmt, "service_requests", created)

    @api.get(
        "/requests/{service_request_id}.{fmt}",
        responses=_docs(list[schemas.ServiceRequest], 404),
    )
    def get_request(
        service_request_id: str, fmt: Format, jurisdiction_id: Q = None, extensions: Q = None
    ) -> Response:
        """One request (as a one-element list, like the spec's example)."""
        open311.check_jurisdiction(jurisdiction_id, settings)
        wants = (extensions or "").strip().lower() in {"true", "1", "yes"}
        items = open311.get_request(service_request_id, extensions=wants, settings=settings)
        return respond(fmt, "service_requests", items)

    @api.get("/tokens/{token}.{fmt}", responses=_docs(list[schemas.Token], 404))
    def get_token(token: str, fmt: Format, jurisdiction_id: Q = None) -> Response:
        """The request id of a token (POST answers with ids directly; kept for clients)."""
        open311.check_jurisdiction(jurisdiction_id, settings)
        return respond(fmt, "service_requests", open311.resolve_token(token, settings=settings))

    @api.get("/servicerequestupdates.{fmt}", responses=_docs(list[schemas.RequestUpdate], 404))
    def get_updates(
        fmt: Format,
        jurisdiction_id: Q = None,
        start_date: Q = None,
        end_date: Q = None,
        page: Q = None,
        page_size: Q = None,
    ) -> Response:
        """Status changes in a window (mySociety extension; default: the last 24 hours).

        Oldest first, in pages of at most 1,000 (``page``, ``page_size``). The total is in
        ``X-Total-Count``; while more pages follow, ``X-More-Pages: true`` and a
        ``Link: <...>; rel="next"`` header say so.
        """
        open311.check_jurisdiction(jurisdiction_id, settings)
        found = open311.request_updates(
            start_date=start_date,
            end_date=end_date,
            page=page,
            page_size=page_size,
            settings=settings,
        )
        headers = {"X-Total-Count": str(found.total)}
        if found.has_more:
            following = urlencode(
                {
                    k: v
                    for k, v in {
                        "jurisdiction_id": jurisdiction_id,
                        "start_date": found.start.isoformat(),
                        "end_date": found.end.isoformat(),
                        "page": str(found.page + 1),
                        "page_size": str(found.page_size),
                    }.items()
                    if v
                }
            )
            base = settings.public_base_url.rstrip("/") + PREFIX
            headers |= {
                "X-More-Pages": "true",
                "Link": f'<{base}/servicerequestupdates.{fmt.value}?{following}>; rel="next"',
            }
        return respond(fmt, "service_request_updates", found.items, headers=headers)

    return api
