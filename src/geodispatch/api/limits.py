"""Refuse oversized request bodies with 413 before they are read into memory or onto disk.

Form and JSON posts are small (a report's description is at most 4,000 characters), so
they get a small limit; only a crew's stop update may carry a photo, so only that route
gets the photo limit plus a margin for the form around it. A declared ``Content-Length``
over the limit is refused before one byte is read; a body sent without one (chunked) is
counted as it streams in and refused as soon as it passes the limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from fastapi import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Bodies of form and JSON posts: the longest Open311 report fits many times over.
FORM_LIMIT: Final = 64 * 1024
#: Room for the form fields and multipart framing around a crew's photo.
PHOTO_MARGIN: Final = 64 * 1024
#: Routes that take an uploaded photo.
PHOTO_ROUTES: Final = re.compile(r"^/crew/stops/[^/]+/updates/?$")


class BodyTooLarge(HTTPException):
    """The request body is over the route's limit (HTTP 413)."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=413, detail=detail)


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """Body size limits in bytes: ``photo`` is the largest photo a crew may attach."""

    photo: int
    form: int = FORM_LIMIT
    margin: int = PHOTO_MARGIN

    def limit_for(self, path: str) -> int:
        """The largest body ``path`` accepts."""
        return self.photo + self.margin if PHOTO_ROUTES.match(path) else self.form

    def refusal(self, path: str, size: int | None) -> BodyTooLarge:
        """The 413 for a body of ``size`` bytes (None: still streaming) sent to ``path``."""
        limit = self.limit_for(path)
        sent = f"is {_size(size)}" if size is not None else f"passed {_size(limit)}"
        if PHOTO_ROUTES.match(path):
            what = (
                f"at most {_size(limit)} (a photo of at most {_size(self.photo)} plus the "
                "form); send a smaller photo (a lower resolution on the phone)"
            )
        else:
            what = (
                f"at most {_size(limit)} here (a description of a few thousand characters "
                "fits many times); shorten the text, and send photos as media_url links"
            )
        return BodyTooLarge(f"the request body {sent}; this endpoint takes {what}")


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 10_000:
        return f"{n / 1000:.0f} kB"
    return f"{n:,} bytes"


class BodyLimitMiddleware:
    """ASGI middleware enforcing :class:`BodyLimits`; ``reply`` renders the 413 answer."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: BodyLimits,
        reply: Callable[[str, BodyTooLarge], Response],
    ) -> None:
        self.app = app
        self.limits = limits
        self.reply = reply

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse at once on a declared length over the limit; else count as it streams."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = self.limits.limit_for(path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self.reply(path, self.limits.refusal(path, declared))(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise self.limits.refusal(path, None)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:  # raised while reading, outside the routes' handlers
            if started:
                raise
            await self.reply(path, exc)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None
