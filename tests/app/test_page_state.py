"""What a user chose stays chosen across pages; a selection with nothing in it says so."""

from __future__ import annotations

from geodispatch.config import Settings
from tests.app.conftest import open_app


def test_job_filters_and_the_staff_name_survive_a_visit_to_another_page(boston: Settings) -> None:
    app = open_app("Dispatcher", "app_pages/jobs.py")
    app.multiselect(key="jobs-type").set_value(["street-light-outages"]).run()
    app.pills(key="jobs-sla").set_value(["overdue"]).run()
    app.text_input(key="staff-name").input("dispatch:ana").run()
    shown = app.metric[0].value
    app.switch_page("app_pages/overview.py").run()  # neither the filters nor the name here
    app.switch_page("app_pages/jobs.py").run()
    assert not app.exception
    assert app.multiselect(key="jobs-type").value == ["street-light-outages"]
    assert app.pills(key="jobs-sla").value == ["overdue"]
    assert app.text_input(key="staff-name").value == "dispatch:ana"
    assert app.metric[0].value == shown


def test_a_search_that_matches_nothing_says_how_to_widen_it(boston: Settings) -> None:
    app = open_app("Dispatcher", "app_pages/jobs.py")
    app.text_input(key="jobs-text").input("<b>x</b> [link](http://evil)").run()
    assert not app.exception
    assert app.metric[0].value == "0"
    assert "No open job matches" in app.info[0].value
