"""The geodispatch command: import with a summary, rejected rows, catalogue, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from geodispatch.cli import app, common
from geodispatch.config import Settings, get_settings
from geodispatch.services import backlog
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


def test_plan_after_the_shift_offers_tomorrow_and_the_backlog_lists_old_jobs(
    tmp_path: Path, env_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        HEADER_2011,
        [
            row(case_enquiry_id="1", open_dt="2011-07-01 08:30:00"),
            row(case_enquiry_id="2", open_dt="2010-01-04 08:30:00", latitude="42.30"),
        ],
    )
    assert runner.invoke(app, ["import", str(path)]).exit_code == 0
    assert runner.invoke(app, ["crews", "seed"]).exit_code == 0
    monkeypatch.setenv("GEODISPATCH_CLOCK", "2011-07-01T17:30")
    get_settings.cache_clear()

    late = runner.invoke(app, ["plan", "--time-limit", "1"])
    assert late.exit_code != 0
    assert "Running on Friday 01 July 2011, 17:30" in late.output
    assert "Plan tomorrow, 2011-07-02" in late.output
    assert "geodispatch plan --date 2011-07-02" in late.output

    tomorrow = runner.invoke(app, ["plan", "--date", "2011-07-02", "--time-limit", "1"])
    assert tomorrow.exit_code == 0, tomorrow.output
    assert "1 jobs on routes" in tomorrow.output  # the 2010 report waits in backlog review
    assert "travel times: straight line × 1.3 at 25.0 km/h" in tomorrow.output
    assert "1 open jobs are past their type's age limit" in tomorrow.output

    listed = runner.invoke(app, ["backlog", "list"])
    assert "1 open jobs past their age limit" in listed.output
    (old,) = backlog.backlog_review()
    assert old.job.created_at.year == 2010
    confirm = ["backlog", "confirm", str(old.job.id), "--note", "still there"]
    assert runner.invoke(app, confirm).exit_code == 0
    assert "0 open jobs past" in runner.invoke(app, ["backlog", "list"]).output
