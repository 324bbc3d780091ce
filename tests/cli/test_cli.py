"""The geodispatch command: import with a summary, rejected rows, catalogue, clear errors."""

from __future__ import annotations

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
    """Tables wrap at the terminal width; give them room so assertions see whole words."""
    monkeypatch.setattr(common.console, "width", 250)
    monkeypatch.setattr(common.err_console, "width", 250)


def test_import_prints_counts_and_the_rejected_rows_with_fixes(
    tmp_path: Path, env_settings: Settings
) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        HEADER_2011,
        [
            row(case_enquiry_id="1"),
            row(case_enquiry_id="2", open_dt="not a date"),
            row(case_enquiry_id="3", latitude="42.3594", longitude="-71.0587"),
        ],
    )
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 rows read, 2 accepted (2 new, 0 updated, 0 unchanged), 1 rejected" in result.output
    assert "location unknown 1" in result.output
    assert "open_dt is not a date and time" in result.output
    again = runner.invoke(app, ["import", str(path)])
    assert "0 new, 0 updated, 2 unchanged" in again.output
    listed = runner.invoke(app, ["rejected"])
    assert "write it as YYYY-MM-DD" in listed.output


def test_markup_in_a_rejected_value_is_printed_as_text(
    tmp_path: Path, env_settings: Settings
) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        HEADER_2011,
        [row(case_enquiry_id="[bold]x[/]", open_dt="[red]soon[/]")],
    )
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "[red]soon[/]" in result.output


def test_a_missing_file_is_one_clear_line_not_a_traceback(env_settings: Settings) -> None:
    result = runner.invoke(app, ["import", "nowhere.csv"])
    assert result.exit_code == 1
    assert "no such file" in result.output
    assert "Traceback" not in result.output


def test_catalogue_set_marks_the_type_edited(tmp_path: Path, env_settings: Settings) -> None:
    runner.invoke(app, ["import", str(write_csv(tmp_path / "e.csv", HEADER_2011, [row()]))])
    result = runner.invoke(
        app,
        ["catalogue", "set", "request-for-pothole-repair", "--sla-hours", "24", "--priority", "1"],
    )
    assert result.exit_code == 0, result.output
    assert "SLA 24.0 h" in result.output
    assert "P1" in result.output
    listing = runner.invoke(app, ["catalogue", "list"])
    assert "yes" in listing.output
    wrong = runner.invoke(app, ["catalogue", "set", "no-such-type", "--minutes", "5"])
    assert wrong.exit_code == 1
    assert "catalogue list" in wrong.output


def test_db_upgrade_reports_the_revision(env_settings: Settings) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0
    assert "schema at revision" in result.output
