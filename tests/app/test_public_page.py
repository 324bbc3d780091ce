"""What residents see: no internal work orders on the public page, and dispatchers' notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodispatch.config import Settings
from geodispatch.services.intake import import_file
from tests.app.conftest import open_app
from tests.conftest import write_csv
from tests.intake.boston_rows import HEADER_2011, row


@pytest.fixture
def with_work_orders(tmp_path: Path, env_settings: Settings) -> Settings:
    """Two residents' reports and two of the city's own work orders of two internal types."""
    import_file(
        write_csv(
            tmp_path / "e.csv",
            HEADER_2011,
            [
                row(case_enquiry_id="1"),
                row(case_enquiry_id="2", type="Street Light Outages", latitude="42.30"),
                row(case_enquiry_id="3", type="Pothole Repair (Internal)", latitude="42.31"),
                row(case_enquiry_id="4", type="Sidewalk Repair (Internal)", latitude="42.32"),
            ],
        ),
        settings=env_settings,
    )
    return env_settings


def shown_text(app: object) -> str:
    return " ".join(str(df.value.to_dict()) for df in app.dataframe)  # type: ignore[attr-defined]


def test_the_public_page_leaves_internal_work_orders_out_and_says_so(
    with_work_orders: Settings,
) -> None:
    app = open_app("Public")
    assert {m.label: m.value for m in app.metric}["Requests"] == "2"
    shown = shown_text(app)
    assert "Request for Pothole Repair" in shown
    assert "Street Light Outages" in shown
    assert "(Internal)" not in shown
    captions = " ".join(c.value for c in app.caption)
    assert "2 internal work-order types are not shown (2 requests)" in captions


def test_managers_pages_still_count_the_work_orders(with_work_orders: Settings) -> None:
    app = open_app("Dispatcher", "app_pages/overview.py")
    assert {m.label: m.value for m in app.metric}["Requests"] == "4"
    assert "Pothole Repair (Internal)" in shown_text(app)
