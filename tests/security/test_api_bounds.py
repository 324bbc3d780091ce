"""Every date and number argument is bounded: 4xx with a message, never 5xx."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from geodispatch.config import Settings
from tests.workflow.workflow_helpers import import_and_group, item

V2 = "/open311/v2"
EXTREMES = [
    ("start_date", "9999-12-31T23:59:59-01:00"),
    ("end_date", "0001-01-01T00:00:00+01:01"),
    ("updated_after", "0001-01-01T00:00:00+05:00"),
    ("updated_before", "9999-12-31T23:59:59-14:00"),
    ("start_date", "0001-01-01"),
    ("end_date", "99999-01-01T00:00:00"),
]


@pytest.mark.parametrize(("name", "value"), EXTREMES)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_dates_outside_the_plausible_years_answer_400_with_the_argument_named(
    client: TestClient, name: str, value: str, fmt: str
) -> None:
    answer = client.get(f"{V2}/requests.{fmt}", params={name: value})
    assert answer.status_code == 400, answer.text
    assert name in answer.text
    if name in {"start_date", "end_date"}:
        updates = client.get(f"{V2}/servicerequestupdates.{fmt}", params={name: value})
        assert updates.status_code == 400, updates.text
        assert name in updates.text


@pytest.mark.parametrize(
    ("name", "value"),
    [("page", "0"), ("page", "99999999999"), ("page_size", "1001"), ("page_size", "-1")],
)
def test_paging_numbers_are_bounded(client: TestClient, name: str, value: str) -> None:
    for path in ("requests", "servicerequestupdates"):
        answer = client.get(f"{V2}/{path}.json", params={name: value})
        assert answer.status_code == 400, answer.text
        assert f"{name} must be a whole number" in answer.text


def test_a_time_without_an_offset_is_the_citys_local_time(
    client: TestClient, settings: Settings
) -> None:
    # 09:00 in Boston (EST) is 14:00 UTC
    import_and_group(settings, [item("a", created="2025-01-06T09:00:00-05:00")])
    local = {"start_date": "2025-01-06T08:59:00", "end_date": "2025-01-06T09:01:00"}
    assert len(client.get(f"{V2}/requests.json", params=local).json()) == 1
    # read as UTC the window would be 08:59-09:01 UTC: 5 hours before the report
    as_utc = {k: v + "Z" for k, v in local.items()}
    assert client.get(f"{V2}/requests.json", params=as_utc).json() == []
