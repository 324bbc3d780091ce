"""Fixtures for the API, intake and abuse tests: real SQLite in tmp_path, the real API."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geodispatch.api import create_app
from geodispatch.config import Settings
from tests.workflow.workflow_helpers import make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Demo mode (the demo key works), the bundled Boston wards as the service area."""
    return make_settings(tmp_path)


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))
