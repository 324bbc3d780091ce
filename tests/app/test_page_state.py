"""What a user chose stays chosen across pages; a selection with nothing in it says so."""

from __future__ import annotations

from geodispatch.config import Settings
from tests.app.conftest import open_app


def test_job_filters_survive_a_visit_to_another_page(boston: Settings) -> None:
    app = open_app("Dispatcher", "app_pages/jobs.py")
    app.multiselect(key="jobs-type").set_value(["street-light-outages"]).run()
    app.pills(key="jobs-sla").set_value(["overdue"]).run()
    shown = app.metric[0].value
    app.switch_page("app_pages/overview.py").run()  # no such filters here
    app.switch_page("app_pages/jobs.py").run()
    assert not app.exception
    assert app.multiselect(key="jobs-type").value == ["street-light-outages"]
    assert app.pills(key="jobs-sla").value == ["overdue"]
    assert app.metric[0].value == shown


def test_a_search_that_matches_nothing_says_how_to_widen_it(boston: Settings) -> None:
    app = open_app("Dispatcher", "app_pages/jobs.py")
    app.text_input(key="jobs-text").input("<b>x</b> [link](http://evil)").run()
    assert not app.exception
    assert app.metric[0].value == "0"
    assert "No open job matches" in app.info[0].value
