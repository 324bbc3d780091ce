"""Fixtures for the residents' tests: a fresh city database the app also opens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from geodispatch.config import Settings, get_settings
from tests.conftest import DATA
from tests.workflow.workflow_helpers import item, requests_adder

CITY_HALL = (42.3603, -71.0583)  # where the offline geocoder puts "1 City Hall Sq"


@pytest.fixture
def city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """One open pothole job 60 m from City Hall (demo mode: the demo Open311 key works)."""
    monkeypatch.setenv("GEODISPATCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GEODISPATCH_DATA_DIR", str(DATA))
    monkeypatch.setenv("GEODISPATCH_DEMO_MODE", "true")
    monkeypatch.delenv("GEODISPATCH_DB_URL", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    requests_adder(settings)(item("first", lat=CITY_HALL[0] + 0.00054, lon=CITY_HALL[1]))
    yield settings
    get_settings.cache_clear()
