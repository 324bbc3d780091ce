"""The Work & SLA page's "likely to breach tomorrow" list on a real database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geodispatch.config import get_settings
from geodispatch.services import models
from tests.app.signin import sign_in_as
from tests.workflow.workflow_helpers import import_and_group, item, make_settings

SHIPPED = Path(__file__).resolve().parents[2] / "models"


def _seed(home: Path) -> None:
    settings = make_settings(home)
    import_and_group(
        settings,
        [
            item(
                "late",
                name="Street Light Outages",
                created="2025-01-01T09:00:00-05:00",
                expected_datetime="2025-01-07T09:00:00-05:00",
            ),
            item(
                "later",
                name="Street Light Outages",
                lat=42.35,
                created="2025-01-01T09:00:00-05:00",
                expected_datetime="2025-02-20T09:00:00-05:00",
            ),
        ],
    )


def test_requests_due_by_tomorrow_night_are_scored_with_a_model(
    trained: Path, tmp_path: Path
) -> None:
    _seed(tmp_path)
    settings = make_settings(tmp_path, models_dir=trained)
    now = datetime.fromisoformat("2025-01-06T10:00:00-05:00")
    watch = models.breach_watch(now=now, min_probability=0.0, settings=settings)
    assert watch["request_id"].tolist() == [1]  # due tomorrow; "later" is not due yet
    assert 0.0 <= watch["risk"].iloc[0] <= 1.0


def test_no_list_without_a_model(tmp_path: Path) -> None:
    _seed(tmp_path)
    settings = make_settings(tmp_path, models_dir=tmp_path / "none")
    now = datetime.fromisoformat("2025-01-06T10:00:00-05:00")
    assert models.breach_watch(now=now, min_probability=0.0, settings=settings).empty


def test_the_work_page_renders_with_the_shipped_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(tmp_path)
    settings = make_settings(tmp_path)
    monkeypatch.setenv("GEODISPATCH_HOME", str(tmp_path))
    monkeypatch.setenv("GEODISPATCH_DB_URL", settings.database_url)
    monkeypatch.setenv("GEODISPATCH_MODELS_DIR", str(SHIPPED))
    get_settings.cache_clear()
    monkeypatch.chdir(SHIPPED.parent)
    app = AppTest.from_file(str(SHIPPED.parent / "app.py"), default_timeout=60)
    sign_in_as(app, "dispatcher")
    try:
        app.run()
        app.switch_page("app_pages/work.py").run()
        assert not app.exception
        assert "Likely to breach tomorrow" in [h.value for h in app.subheader]
    finally:
        get_settings.cache_clear()
