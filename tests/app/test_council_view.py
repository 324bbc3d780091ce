"""The council view: only the account's wards, the monthly report, no action, no personal data."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geodispatch.config import Settings, get_settings
from geodispatch.services.intake import import_file
from tests.app.signin import sign_in_as
from tests.conftest import DATA, ROOT
from tests.services.test_accountability import boston_slice


@pytest.fixture(scope="module")
def council_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("council")
    path = home / "slice.csv"
    boston_slice().to_csv(path, index=False)
    import_file(path, settings=Settings(home=home, data_dir=DATA))
    return home


def test_a_council_office_sees_its_wards_report_and_nothing_it_could_change(
    council_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEODISPATCH_HOME", str(council_home))
    monkeypatch.setenv("GEODISPATCH_DATA_DIR", str(DATA))
    monkeypatch.chdir(ROOT)
    get_settings.cache_clear()
    app = AppTest.from_file(str(ROOT / "app_pages" / "council.py"), default_timeout=300)
    sign_in_as(app, "council", wards=(3,))
    app.run()
    get_settings.cache_clear()
    assert not app.exception, [e.value for e in app.exception]
    assert app.multiselect(key="council-wards").options == ["3"]
    assert {m.label for m in app.metric} >= {"Requests", "Completed", "Closed without work"}
    assert len(app.button) == 0  # no action: only the report's download


def test_the_council_view_is_for_council_accounts_only(
    council_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEODISPATCH_HOME", str(council_home))
    monkeypatch.setenv("GEODISPATCH_DATA_DIR", str(DATA))
    get_settings.cache_clear()
    anonymous = AppTest.from_file(str(ROOT / "app_pages" / "council.py"), default_timeout=300)
    anonymous.run()
    dispatcher = AppTest.from_file(str(ROOT / "app_pages" / "council.py"), default_timeout=300)
    sign_in_as(dispatcher, "dispatcher")
    dispatcher.run()
    get_settings.cache_clear()
    assert "for city staff" in anonymous.warning[0].value
    assert "does not have this page" in dispatcher.warning[0].value
    assert len(anonymous.metric) == len(dispatcher.metric) == 0
