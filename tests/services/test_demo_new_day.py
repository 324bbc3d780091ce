"""A demo loaded on an earlier day still opens on a plan for today, made once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from geodispatch.config import Settings
from geodispatch.domain.accounts import Role
from geodispatch.services import accounts, clock, demo, dispatch
from geodispatch.services.intake import import_file
from tests.conftest import write_csv
from tests.intake.boston_rows import HEADER_2011, row


def test_a_demo_database_without_a_plan_for_today_gets_one_published(
    tmp_path: Path, settings: Settings
) -> None:
    import_file(
        write_csv(
            tmp_path / "e.csv",
            HEADER_2011,
            [
                row(case_enquiry_id="1", open_dt="2011-06-30 08:30:00"),
                row(case_enquiry_id="2", latitude="42.30"),  # opened 2011-07-01 08:30
            ],
        ),
        settings=settings,
    )
    dispatch.seed_crews(settings=settings)
    assert not clock.city_clock(settings).pinned  # a demo loaded before the clock existed

    report = demo.load_demo(if_empty=True, settings=settings)

    # the clock is pinned to the data's last day, and that day gets its plan
    today = clock.today(settings)
    assert today == date(2011, 7, 1)  # the last row was opened that day
    assert any(step.startswith(f"pinned the product's day to {today}") for step in report.steps)

    assert report.skipped  # nothing imported again
    assert report.imports == []
    (plan,) = dispatch.plan_summaries(day=today, settings=settings)
    assert plan.status == "published"
    assert any(step.startswith(f"planned {today}") for step in report.steps)
    assert any(step.startswith("drew the city-wide hotspot map") for step in report.steps)
    assert report.accounts_created == len(Role)  # one demo account per role
    assert {a.role for a in accounts.list_users(settings=settings)} == set(Role)

    again = demo.load_demo(if_empty=True, settings=settings)

    assert again.skipped
    assert again.steps == []  # today has its plan: nothing to do
    assert len(dispatch.plan_summaries(day=today, settings=settings)) == 1
    assert again.accounts_created == 0  # kept, not made again
