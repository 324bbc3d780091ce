"""Residents' mail links: the unsubscribe page each notification mail points to (issue 25).

GET only shows a button (mail scanners follow links, and must not unsubscribe anyone);
the button's POST, or a mail client's one-click POST (RFC 8058), turns the mail off.
"""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from geodispatch.config import Settings
from geodispatch.services import notify

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: What the OpenAPI schema documents beside 200: a link that is not (or no longer) valid.
_UNKNOWN_LINK: dict[int | str, dict[str, Any]] = {
    404: {"description": "the link is not valid", "content": {"text/html": {}}}
}

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 2rem auto; padding: 0 1rem">
<h1 style="font-size: 1.4rem">{title}</h1>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status)


def _unknown() -> HTMLResponse:
    return _page(
        "Link not recognised",
        "<p>This unsubscribe link is not valid. Copy the whole link from the mail.</p>",
        404,
    )


def router(settings: Settings) -> APIRouter:
    """The unsubscribe routes bound to ``settings``."""
    api = APIRouter(tags=["Residents"])

    @api.get("/unsubscribe/{token}", response_class=HTMLResponse, responses=_UNKNOWN_LINK)
    def confirm(token: str) -> HTMLResponse:
        """A page with one button that stops mail about one report."""
        if not _TOKEN.match(token):
            return _unknown()
        action = html.escape(f"/unsubscribe/{token}", quote=True)
        return _page(
            "Stop mail about this report?",
            f'<form method="post" action="{action}"><p>You will no longer get mail when this '
            "report moves on. You can still follow it on the tracking page.</p>"
            '<button type="submit" style="font-size: 1.1rem; padding: .6rem 1.2rem">'
            "Stop these mails</button></form>",
        )

    @api.post("/unsubscribe/{token}", response_class=HTMLResponse, responses=_UNKNOWN_LINK)
    def unsubscribe(token: str) -> HTMLResponse:
        """Stop mail about the report this token belongs to."""
        if not _TOKEN.match(token):
            return _unknown()
        request_id = notify.unsubscribe(token, settings=settings)
        if request_id is None:
            return _unknown()
        return _page(
            "Mail stopped",
            f"<p>You will get no more mail about report #{request_id}.</p>",
        )

    return api
