"""Open311 GeoReport v2 request lists: offsets, closed requests and malformed items."""

from __future__ import annotations

import pandas as pd
import pytest

from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import RequestStatus
from geodispatch.intake import open311


def request(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "service_request_id": "638344",
        "status": "open",
        "service_name": "Graffiti Removal",
        "service_code": "graffiti",
        "description": "Tag on the mailbox",
        "requested_datetime": "2010-04-14T06:37:38-08:00",
        "address": "8TH AVE and JUDAH ST",
        "lat": 42.3301,
        "long": -71.0589,
    }
    base.update(values)
    return base


def test_a_request_with_an_offset_keeps_its_instant_and_its_own_service_code() -> None:
    result = open311.parse([request()])
    accepted = result.accepted.iloc[0]
    assert accepted["created_at"] == pd.Timestamp("2010-04-14 14:37:38", tz="UTC")
    assert accepted["service_code"] == "graffiti"
    assert accepted["status"] == RequestStatus.NEW
    assert accepted["lat"] == pytest.approx(42.3301)


def test_a_closed_request_is_completed_at_its_update_time() -> None:
    accepted = open311.parse(
        [request(status="closed", updated_datetime="2010-04-15T09:00:00Z")]
    ).accepted
    assert accepted["status"].iat[0] == RequestStatus.COMPLETED
    assert accepted["closed_at"].iat[0] == pd.Timestamp("2010-04-15 09:00", tz="UTC")


def test_items_that_are_not_objects_or_hold_lists_are_rejected_with_their_number() -> None:
    result = open311.parse(
        [request(), "not an object", request(service_request_id="2", description=["a", "b"])]
    )
    assert len(result.accepted) == 1
    problems = dict(zip(result.rejected["line"], result.rejected["problem"], strict=True))
    assert "not a JSON object" in problems[2]
    assert "list or object" in problems[3]


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(InputError, match=r"line 1, column 19"):
        open311.load_payload('[{"service_code":006}]', name="requests.json")


def test_a_single_object_instead_of_a_list_is_refused_with_what_to_send() -> None:
    with pytest.raises(InputError, match="expected a JSON array"):
        open311.load_payload('{"service_request_id": "1"}')
