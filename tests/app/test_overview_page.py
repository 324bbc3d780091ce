"""The overview page shows real counts from the database."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from geodispatch.config import Settings
from geodispatch.services.intake import import_file
from tests.conftest import ROOT, write_csv
from tests.intake.boston_rows import HEADER_2011, row


def test_overview_counts_requests_by_type_ward_and_status(
    tmp_path: Path, env_settings: Settings
) -> None:
    import_file(
        write_csv(
            tmp_path / "e.csv",
            HEADER_2011,
            [
                row(case_enquiry_id="1"),
                row(case_enquiry_id="2", ward="Ward 3"),
                row(
                    case_enquiry_id="3",
                    case_status="Closed",
                    closed_dt="2011-07-02 00:00:00",
                    type="Graffiti Removal",
                ),
            ],
        ),
        settings=env_settings,
    )
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    assert app.title[0].value == "Overview"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Requests"] == "3"
    assert metrics["Open"] == "2"
    by_type = app.dataframe[0].value
    assert by_type.set_index("service_name").loc["Request for Pothole Repair", "requests"] == 2


def test_an_empty_database_says_how_to_load_data(env_settings: Settings) -> None:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    assert "geodispatch demo" in app.info[0].value
