"""``sla closures``, ``sla rereports``, ``report ward``: counts from an import, clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geodispatch.cli import app, common
from geodispatch.config import Settings
from tests.conftest import write_csv
from tests.intake.boston_rows import HEADER_2011, row

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common.console, "width", 250)
    monkeypatch.setattr(common.err_console, "width", 250)


def _closed(case_id: str, note: str, **values: str) -> list[str]:
    return row(
        case_enquiry_id=case_id,
        case_status="Closed",
        closed_dt="2011-07-02 09:00:00",
        closure_reason=note,
        **values,
    )


def test_the_import_and_sla_closures_say_what_the_notes_say(
    tmp_path: Path, env_settings: Settings
) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        HEADER_2011,
        [
            _closed("101000000001", "Case Closed Case Resolved patched"),
            _closed("101000000002", "Case Closed Case Resolved not at location 7/2."),
            _closed("101000000003", "Case Closed Duplicate of Existing Case CRM # 000001"),
            row(case_enquiry_id="101000000004"),
        ],
    )
    imported = runner.invoke(app, ["import", str(path)])
    assert imported.exit_code == 0, imported.output
    assert "closures: 3 closed" in imported.output
    assert "duplicates linked to the case they cite 1 of 1" in imported.output
    result = runner.invoke(app, ["sla", "closures"])
    assert result.exit_code == 0, result.output
    assert re.search(r"No action: not at location\s+│ 1\s", result.output)
    assert "duplicates linked to the case their note cites: 1" in result.output


def test_bad_choices_are_one_clear_line(env_settings: Settings) -> None:
    result = runner.invoke(app, ["sla", "rereports", "--by", "street"])
    assert result.exit_code != 0
    assert "use type, ward or crew" in result.output
    result = runner.invoke(app, ["report", "ward", "--ward", "3", "--month", "11/2011"])
    assert result.exit_code != 0
    assert "YYYY-MM" in result.output
    assert "Traceback" not in result.output
