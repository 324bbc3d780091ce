"""Fixtures for the workflow, duplicates, SLA, field and API tests: real SQLite in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodispatch.config import Settings
from tests.workflow.workflow_helpers import AddRequests, make_settings, requests_adder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def add_requests(settings: Settings) -> AddRequests:
    """Import GeoReport items and group them into jobs; returns source id -> request id."""
    return requests_adder(settings)
