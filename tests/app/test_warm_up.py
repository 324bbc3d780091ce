"""The background warm-up: the pages' first figures are in the cache before anyone asks."""

from __future__ import annotations

import pytest
import streamlit as st

from geodispatch.config import Settings, get_settings
from geodispatch.services import performance, public
from geodispatch.ui import data
from geodispatch.ui.warm_up import STEPS, warm_in_background, warm_page_caches
from tests.app.conftest import open_app


def test_after_the_warm_up_the_pages_open_without_computing(
    boston: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    st.cache_data.clear()
    report = warm_page_caches()
    assert report.failed == {}
    assert list(report.steps) == [name for name, _ in STEPS]
    assert report.done.is_set()

    def computed(**_: object) -> None:
        raise AssertionError("computed again: the warm-up did not fill this cache")

    monkeypatch.setattr(public, "public_summary", computed)
    monkeypatch.setattr(performance, "performance", computed)
    assert data.public_figures(None).requests > 0
    assert data.performance_figures(None, None, None, None).requests > 0
    for role, page in (("Public", None), ("Manager", "app_pages/performance.py")):
        open_app(role, page)  # renders from the warmed cache (would raise otherwise)


def test_a_failing_step_is_reported_and_the_rest_still_run(
    boston: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    st.cache_data.clear()

    def broken(**_: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(public, "public_summary", broken)
    report = warm_page_caches()
    assert report.failed == {"public figures": "RuntimeError: database went away"}
    assert "SLA figures" in report.steps


def test_the_warm_up_can_be_switched_off(boston: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEODISPATCH_WARM_UP", "false")
    get_settings.cache_clear()
    assert warm_in_background() is None
    monkeypatch.setenv("GEODISPATCH_WARM_UP", "true")
    get_settings.cache_clear()
    report = warm_in_background()
    assert report is not None
    assert report.done.wait(timeout=300)
    assert report.failed == {}
    get_settings.cache_clear()
