"""Boston-style exports: both layouts, statuses, placeholder point, labels and rejects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodispatch.domain.errors import SchemaError
from geodispatch.domain.requests import LocationStatus, RequestStatus
from geodispatch.intake import city_export
from tests.intake.boston_rows import HEADER_2011, header_2025, row


def parse(
    rows: list[list[str]], header: list[str] = HEADER_2011, seen: dict[str, int] | None = None
) -> city_export.IntakeResult:
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    return city_export.parse(frame, np.arange(2, 2 + len(rows)), seen_ids=seen)


def test_a_clean_open_row_becomes_a_new_request_with_utc_times_and_its_ward() -> None:
    result = parse([row()])
    assert result.rejected.empty
    request = result.accepted.iloc[0]
    assert request["status"] == RequestStatus.NEW
    assert request["created_at"] == pd.Timestamp("2011-07-01 12:30:00", tz="UTC")  # EDT +4
    assert request["due_at"] == pd.Timestamp("2011-07-03 12:30:00", tz="UTC")
    assert request["source_ward"] == 20
    assert request["zipcode"] == "02131"  # leading zero restored from '2131.0'
    assert request["service_code"] == "request-for-pothole-repair"
    assert request["location_status"] == LocationStatus.SOURCE
    assert request["line"] == 2


def test_winter_times_use_eastern_standard_time() -> None:
    created = parse([row(open_dt="2011-12-01 08:30:00")]).accepted["created_at"].iat[0]
    assert created == pd.Timestamp("2011-12-01 13:30:00", tz="UTC")


def test_the_city_hall_placeholder_point_means_location_unknown() -> None:
    request = parse([row(latitude="42.3594", longitude="-71.0587")]).accepted.iloc[0]
    assert request["location_status"] == LocationStatus.UNKNOWN
    assert np.isnan(request["lat"])
    assert np.isnan(request["lon"])
    assert "placeholder" in request["location_note"]


def test_a_point_next_to_city_hall_is_a_real_location() -> None:
    request = parse([row(latitude="42.3595", longitude="-71.0587")]).accepted.iloc[0]
    assert request["location_status"] == LocationStatus.SOURCE


@pytest.mark.parametrize(
    ("lat", "lon", "note"),
    [
        ("forty-two", "-71.1", "latitude 'forty-two' is not a number"),
        ("", "", "no coordinates given"),
        ("42.3", "", "only one of latitude and longitude given"),
        ("0", "0", "0,0"),
        ("40.71", "-74.0", "outside the city's service area"),
    ],
)
def test_unusable_coordinates_keep_the_request_with_a_reason(lat: str, lon: str, note: str) -> None:
    result = parse([row(latitude=lat, longitude=lon)])
    assert result.rejected.empty
    assert note in result.accepted["location_note"].iat[0]


@pytest.mark.parametrize(
    ("closure", "status"),
    [
        ("Case Closed Case Resolved replaced 100 amp fuse", RequestStatus.COMPLETED),
        ("Case Closed Duplicate of Existing Case", RequestStatus.CLOSED_DUPLICATE),
        ("Case Closed Case Invalid", RequestStatus.CLOSED_NO_ACTION),
        ("Case Closed NOVIO: No Violation Found/No Cause", RequestStatus.CLOSED_NO_ACTION),
        ("Case Closed ROA: Refer to Other Agency/Division", RequestStatus.CLOSED_NOT_CITY),
    ],
)
def test_closed_cases_keep_apart_fixes_from_closures_without_work(
    closure: str, status: RequestStatus
) -> None:
    result = parse(
        [row(case_status="Closed", closed_dt="2011-07-02 09:00:00", closure_reason=closure)]
    )
    assert result.accepted["status"].iat[0] == status
    assert result.accepted["closed_at"].iat[0] == pd.Timestamp("2011-07-02 13:00", tz="UTC")


@pytest.mark.parametrize(("label", "ward"), [("Ward 17", 17), ("04", 4), ("3", 3), (" ", None)])
def test_ward_labels_in_every_form_the_city_writes(label: str, ward: int | None) -> None:
    value = parse([row(ward=label)]).accepted["source_ward"].iat[0]
    assert pd.isna(value) if ward is None else value == ward


@pytest.mark.parametrize(
    ("field", "value", "column", "problem", "fix"),
    [
        ("case_enquiry_id", "", "case_enquiry_id", "is empty", "case id"),
        ("type", "  ", "type", "is empty", "request type"),
        ("open_dt", "31/02/2011 25:00", "open_dt", "is not a date and time", "YYYY-MM-DD"),
        ("open_dt", "", "open_dt", "is empty", "opened"),
        ("target_dt", "soon", "target_dt", "is not a date and time", "leave it empty"),
        ("closed_dt", "2011-06-01 00:00:00", "closed_dt", "before the time", "check both"),
        ("case_title", "x" * 10_001, "case_title", "10,001 characters", "shorten"),
        ("location", "\x00 bad", "location", "control characters", "remove"),
    ],
)
def test_a_bad_row_is_rejected_naming_line_field_value_problem_and_fix(
    field: str, value: str, column: str, problem: str, fix: str
) -> None:
    result = parse([row(), row(**{"case_enquiry_id": "2", field: value})])
    assert len(result.accepted) == 1
    rejected = result.rejected.iloc[0]
    assert rejected["line"] == 3
    assert rejected["field"] == column
    assert problem in rejected["problem"]
    assert fix in rejected["fix"]
    assert '"case_title"' in rejected["raw"] or '"type"' in rejected["raw"]  # the row is kept


def test_an_id_repeated_later_in_the_file_is_rejected_pointing_at_the_first() -> None:
    seen: dict[str, int] = {}
    result = parse([row(), row()], seen=seen)
    assert len(result.accepted) == 1
    assert "repeats the id on line 2" in result.rejected["problem"].iat[0]


def test_the_2025_layout_reads_the_same_fields() -> None:
    header = header_2025()
    values = row(
        target_dt="2025-02-07 03:30:00",
        open_dt="2025-01-24 03:24:56",
        location="INTERSECTION of Main St &amp; Elm St  Boston  MA  ",
    )
    as_2025 = ["51", *values[:-1], "0101000020E6100000", values[-1]]
    request = parse([as_2025], header=header).accepted.iloc[0]
    assert request["due_at"] == pd.Timestamp("2025-02-07 08:30:00", tz="UTC")
    assert request["address"].startswith("INTERSECTION of Main St & Elm St")


def test_a_file_without_the_export_columns_is_refused_with_what_to_do() -> None:
    frame = pd.DataFrame({"id": ["1"], "when": ["2011-07-01"]}, dtype=object)
    with pytest.raises(SchemaError, match=r"no column 'case_enquiry_id'.*--format csv"):
        city_export.parse(frame, np.array([2]))
