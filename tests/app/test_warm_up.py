"""The background warm-up: the pages' first figures are in the cache before anyone asks."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from geodispatch.config import Settings, get_settings
from geodispatch.domain.requests import RequestStatus
from geodispatch.services import overview, performance, public, workflow
from geodispatch.services.intake import import_file
from geodispatch.ui import data
from geodispatch.ui.warm_up import STEPS, warm_in_background, warm_page_caches
from tests.app.conftest import open_app
from tests.conftest import write_csv
from tests.intake.boston_rows import HEADER_2011, row


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
    monkeypatch.setattr(overview, "overview", computed)
    assert data.public_figures(None).requests > 0
    assert data.performance_figures(None, None, None, None).requests > 0
    assert data.overview_figures().total > 0
    for role, page in (
        ("Public", None),
        ("Manager", "app_pages/performance.py"),
        ("Dispatcher", "app_pages/overview.py"),
    ):
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


def test_cached_overview_counts_follow_imports_and_workflow_changes(
    tmp_path: Path, env_settings: Settings
) -> None:
    st.cache_data.clear()
    first = write_csv(tmp_path / "a.csv", HEADER_2011, [row(case_enquiry_id="1")])
    import_file(first, settings=env_settings)
    assert data.overview_figures().total == 1
    second = write_csv(
        tmp_path / "b.csv", HEADER_2011, [row(case_enquiry_id="2", latitude="42.30")]
    )
    import_file(second, settings=env_settings)
    assert data.overview_figures().total == 2  # a new request: counted again
    assert data.overview_figures().open == 2
    job = workflow.list_open_jobs(settings=env_settings)[0]
    workflow.transition_job(
        job.id,
        RequestStatus.CLOSED_NO_ACTION,
        expected_version=job.version,
        actor="test",
        note="test entry",
        settings=env_settings,
    )
    assert data.overview_figures().open == 1  # a status change: counted again
