"""The Work & SLA page on a real seeded database: it renders, and a dispatcher moves a job.

The audit names the signed-in account."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geodispatch.config import get_settings
from geodispatch.domain.requests import RequestStatus as S
from geodispatch.services import workflow
from tests.app.signin import sign_in_as
from tests.workflow.workflow_helpers import import_and_group, item, job_of, make_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    settings = make_settings(tmp_path)
    monkeypatch.setenv("GEODISPATCH_HOME", str(tmp_path))
    monkeypatch.setenv("GEODISPATCH_DB_URL", settings.database_url)
    get_settings.cache_clear()
    import_and_group(settings, [item("a"), item("b", lat=42.34)])
    monkeypatch.chdir(ROOT)
    yield AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    get_settings.cache_clear()


def test_work_page_lists_overdue_work_and_moves_a_job(app: AppTest) -> None:
    sign_in_as(app, "dispatcher")
    app.run()
    app.switch_page("app_pages/work.py").run()
    assert not app.exception
    assert app.title[0].value == "Work & SLA"
    assert app.metric[0].value == "2"  # open requests
    settings = get_settings()
    job_id = job_of(settings, 1)
    app.number_input(key="job-id").set_value(job_id).run()
    app.selectbox(key="move-to").set_value(S.REVIEWED)  # a form: sent with its submit
    app.button[0].click().run()
    assert not app.exception
    assert workflow.get_job(job_id, settings=settings).status is S.REVIEWED
    assert workflow.job_history(job_id, settings=settings)[-1].actor == "dispatcher-test"
