"""A new city's first start: every page renders on an empty database and says what to do."""

from __future__ import annotations

import pytest

from geodispatch.config import Settings
from tests.app.conftest import PAGES, open_app


@pytest.mark.parametrize(("role", "page", "title"), PAGES)
def test_every_page_renders_on_an_empty_database(
    env_settings: Settings, role: str, page: str | None, title: str
) -> None:
    app = open_app(role, page)
    assert app.title[0].value == title
    assert not app.error, [e.value for e in app.error]


@pytest.mark.parametrize(
    ("role", "page", "hint"),
    [
        ("Dispatcher", None, "No plan for"),
        ("Dispatcher", "app_pages/jobs.py", "No open jobs"),
        ("Field crew", None, "No crews yet"),
        ("Manager", None, "No hotspot analysis yet"),
        ("Manager", "app_pages/performance.py", "No requests yet"),
    ],
)
def test_empty_pages_say_what_to_do(
    env_settings: Settings, role: str, page: str | None, hint: str
) -> None:
    app = open_app(role, page)
    assert any(hint in i.value for i in app.info), [i.value for i in app.info]
