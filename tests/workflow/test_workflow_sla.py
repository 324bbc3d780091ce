"""SLA due times and flags, checked against Boston's own on-time judgements."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodispatch.analysis.sla import BusinessCalendar, SlaParams, due_time, sla_flags
from geodispatch.config import Settings
from geodispatch.domain.errors import ConfigError, InputError
from geodispatch.intake import city_export
from geodispatch.services import sla
from geodispatch.services.intake import import_file

DATA = Path(__file__).resolve().parents[2] / "data" / "boston"
BACKLOG = DATA / "311_open_backlog_2025_subset.csv"
#: Boston's extract judged every case due by 2025-05-19 10:09 local overdue and every case
#: due from 2025-05-20 04:30 on time, so it was taken on the night of 19-20 May.
EXTRACT = datetime.fromisoformat("2025-05-20T00:00:00-04:00")


def test_open_backlog_overdue_flags_match_bostons_on_time_column(settings: Settings) -> None:
    import_file(BACKLOG, settings=settings)
    work = sla.incomplete_work(now=EXTRACT, settings=settings)
    boston = pd.read_csv(BACKLOG, dtype=str).set_index("case_enquiry_id")["on_time"]
    assert len(work) == len(boston) == 2424
    expected = work["source_id"].map(boston) == "OVERDUE"
    assert (work["overdue"] == expected).all()
    assert int(work["overdue"].sum()) == 2268
    # the most overdue request is listed first
    assert work["hours_left"].iat[0] == work["hours_left"].min()


def test_closed_2011_cases_met_their_target_exactly_when_boston_says_ontime() -> None:
    raw = pd.read_csv(DATA / "311_service_requests_2011.csv.gz", dtype=str, nrows=20_000)
    raw = raw.fillna("")
    result = city_export.parse(raw, np.arange(2, len(raw) + 2))
    accepted = result.accepted
    flags = sla_flags(
        accepted.assign(is_open=accepted["status"] == "new"),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    judged = flags["met"].notna()
    assert judged.sum() > 15_000
    ontime = accepted["source_id"].map(raw.set_index("case_enquiry_id")["ontime"])
    assert (flags.loc[judged, "met"] == (ontime[judged] == "ONTIME")).all()


def test_a_48_hour_pothole_is_at_risk_in_its_last_12_hours_then_overdue() -> None:
    opened = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    frame = pd.DataFrame(
        {
            "created_at": [pd.Timestamp(opened)] * 3,
            "due_at": [pd.Timestamp(due_time(opened, 48))] * 3,
            "closed_at": pd.Series([pd.NaT] * 3, dtype="datetime64[ns, UTC]"),
            "is_open": [True] * 3,
        }
    )
    rows = []
    for hours in (35, 37, 49):
        rows.append(sla_flags(frame.iloc[:1], now=opened + timedelta(hours=hours)).iloc[0])
    assert [(bool(r.at_risk), bool(r.overdue)) for r in rows] == [
        (False, False),
        (True, False),
        (False, True),
    ]
    assert rows[2].hours_left == pytest.approx(-1.0)


def test_business_hours_skip_nights_weekends_and_holidays() -> None:
    cal = BusinessCalendar.parse("mon-fri 07:00-15:30", tz="America/New_York")
    friday_2pm = datetime(2025, 3, 7, 14, 0, tzinfo=cal_zone())
    # 1.5 h on Friday, 8.5 h on Monday, 6 h on Tuesday
    assert due_time(friday_2pm, 16, cal) == datetime(2025, 3, 11, 13, 0, tzinfo=cal_zone())
    with_holiday = BusinessCalendar.parse(
        "mon-fri 07:00-15:30; holidays 2025-03-10", tz="America/New_York"
    )
    assert due_time(friday_2pm, 16, with_holiday) == datetime(2025, 3, 12, 13, 0, tzinfo=cal_zone())
    # a long target crosses whole weeks in steps: 10 working weeks of 42.5 h
    monday_7am = datetime(2025, 1, 6, 7, 0, tzinfo=cal_zone())
    assert due_time(monday_7am, 425, cal) == datetime(2025, 3, 14, 15, 30, tzinfo=cal_zone())
    assert cal.workdays == frozenset(range(5))
    assert cal.opens == time(7, 0)
    assert with_holiday.holidays == frozenset({date(2025, 3, 10)})


def cal_zone():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/New_York")


def test_bad_calendar_and_params_say_how_to_fix_them() -> None:
    with pytest.raises(ConfigError, match="write it like"):
        BusinessCalendar.parse("weekdays 9 to 5", tz="UTC")
    with pytest.raises(ConfigError, match="not after opens"):
        BusinessCalendar.parse("mon-fri 15:00-07:00", tz="UTC")
    with pytest.raises(InputError, match=r"at_risk_fraction must be in \(0, 1\)"):
        SlaParams(at_risk_fraction=1.5)


def test_manager_backlog_by_department_and_ward_adds_up(settings: Settings) -> None:
    import_file(BACKLOG, settings=settings)
    table = sla.backlog_by_department_ward(now=EXTRACT, settings=settings)
    assert table["open"].sum() == 2424
    assert table["overdue"].sum() == 2268
    pwd = table[table["department"] == "Public Works Department"]
    assert pwd["open"].sum() == 2422  # sidewalks and street lights; 2 ISD overcrowding cases
    assert set(table.columns) == {"department", "ward", "open", "overdue", "at_risk", "oldest_days"}
    ward_1 = sla.incomplete_work(now=EXTRACT, ward=1, show="overdue", settings=settings)
    assert len(ward_1) > 0
    assert (ward_1["ward"] == 1).all()
    assert ward_1["overdue"].all()
