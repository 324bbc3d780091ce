"""The import page: after an upload, the dispatcher reads what the open reports became."""

from __future__ import annotations

from pathlib import Path

from geodispatch.config import Settings
from geodispatch.services.intake import import_file
from tests.app.conftest import open_app
from tests.conftest import write_csv
from tests.intake.boston_rows import HEADER_2011, row

#: A pothole already reported (and so an open job) before the upload.
KNOWN = {"latitude": "42.2839", "longitude": "-71.1447"}


def test_the_import_page_says_how_the_reports_were_grouped_into_jobs(
    tmp_path: Path, env_settings: Settings
) -> None:
    import_file(
        write_csv(tmp_path / "monday.csv", HEADER_2011, [row(case_enquiry_id="1", **KNOWN)]),
        settings=env_settings,
    )
    upload = write_csv(
        tmp_path / "tuesday.csv",
        HEADER_2011,
        [
            # a second caller for Monday's pothole: joins its job
            row(case_enquiry_id="2", open_dt="2011-07-02 09:00:00", **KNOWN),
            # a new pothole reported twice, 6 m apart: one new job with two callers
            row(case_enquiry_id="3", latitude="42.2900", longitude="-71.1300"),
            row(case_enquiry_id="4", latitude="42.29005", longitude="-71.1300"),
            # another new pothole across the city
            row(case_enquiry_id="5", latitude="42.3300", longitude="-71.0600"),
        ],
    )
    app = open_app("Dispatcher", "app_pages/intake.py")
    app.file_uploader(key="import-file").set_value(
        (upload.name, upload.read_bytes(), "text/csv")
    ).run()
    app.button(key="import-run").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]

    shown = {m.label: m.value for m in app.metric}
    assert shown["Accepted"] == "4"
    assert shown["Linked to existing jobs"] == "1"
    assert shown["New jobs"] == "2"
    assert shown["Repeat reports merged"] == "1"
    assert shown["Jobs closed at the source"] == "0"
    words = " ".join(c.value for c in app.caption)
    assert (
        "4 open reports needed a job: 1 report linked to jobs already open (one more caller "
        "each, no extra visit); 3 reports made 2 new jobs, 1 repeat report of the same "
        "problem merged in."
    ) in words
