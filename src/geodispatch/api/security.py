"""The API's guards: client addresses, rate limits per address, security headers.

Rate limits use slowapi (the ``limits`` library) with in-memory counters, so they hold per
server process; run one process per host, or put the same limits in the proxy. Behind a
reverse proxy every request comes from the proxy's address: list the proxy in
``GEODISPATCH_TRUSTED_PROXIES`` and only then is its ``X-Forwarded-For`` believed (the
last address the trusted proxies did not add is the client). A header from anyone else
is ignored, so clients cannot pick their own address to dodge the limits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Final

from fastapi import Request
from slowapi import Limiter
from slowapi.errors import RateLimitExceeded
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geodispatch.config import Settings

#: Sent with every answer: no sniffing, no framing, no referrer leaks, no active content.
SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "Cross-Origin-Resource-Policy": "same-site",
    "Cache-Control": "no-store",
}
#: The interactive docs page loads its script and style from a CDN (FastAPI's default).
DOCS_CSP: Final = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    "https://fastapi.tiangolo.com; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
DOCS_PATHS: Final = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})


def client_address(trusted_proxies: str) -> Callable[[Request], str]:
    """The function that names a request's client, believing only the listed proxies."""
    trusted = frozenset(p.strip() for p in trusted_proxies.split(",") if p.strip())

    def address(request: Request) -> str:
        peer = request.client.host if request.client else "unknown"
        if peer not in trusted:
            return peer
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if hop not in trusted:
                return hop[:64]
        return peer

    return address


def make_limiter(settings: Settings) -> Limiter:
    """A rate limiter keyed by client address (in-memory, one per application)."""
    return Limiter(
        key_func=client_address(settings.trusted_proxies),
        key_style="endpoint",
        strategy="moving-window",
        storage_uri="memory://",
    )


def retry_after(exc: RateLimitExceeded, request: Request) -> int:
    """Seconds until the limit that refused ``request`` lets the client in again."""
    limiter: Limiter | None = getattr(request.app.state, "limiter", None)
    view = getattr(request.state, "view_rate_limit", None)
    if limiter is None or view is None:
        return 60
    reset_at, _left = limiter.limiter.get_window_stats(view[0], *view[1])
    return max(1, math.ceil(reset_at - time.time()))


class SecurityHeadersMiddleware:
    """Add :data:`SECURITY_HEADERS` to every answer and drop the server banner."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Set the headers on the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path") in DOCS_PATHS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if docs:
                    headers["Content-Security-Policy"] = DOCS_CSP
                if "server" in headers:
                    del headers["server"]
            await send(message)

        await self.app(scope, receive, with_headers)
