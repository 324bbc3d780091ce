"""Incidents (jobs) as hotspot events, and chronic addresses, on small frames."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geodispatch.analysis.chronic import ChronicParams, chronic_addresses
from geodispatch.analysis.incidents import incidents


def test_a_job_is_one_incident_at_its_first_request_and_a_lone_duplicate_none() -> None:
    frame = pd.DataFrame(
        {
            "job_id": [7, 7, 7, None, None, 9],
            "status": ["new", "closed_duplicate", "new", "closed_duplicate", "new", "completed"],
            "created_at": pd.to_datetime(
                [
                    "2011-07-03",
                    "2011-07-01",
                    "2011-07-02",
                    "2011-07-04",
                    "2011-07-05",
                    "2011-07-06",
                ],
                utc=True,
            ),
        }
    )
    found = incidents(frame)
    assert found.event.tolist() == [False, True, False, False, True, True]
    assert found.count == 3
    assert found.incident[3] == -1  # a duplicate of something elsewhere adds nothing
    assert sorted(found.requests.tolist()) == [1, 1, 3]


def history_frame() -> pd.DataFrame:
    months = pd.to_datetime(["2011-07-05", "2011-08-05", "2011-08-20", "2011-10-01", "2011-11-02"])
    repeat = pd.DataFrame(
        {
            "service_code": "lift",
            "address": ["12  Main st", "12 MAIN ST", "12 Main St ", "12 main st", "12 Main St"],
            "lon": -71.05,
            "lat": 42.35,
            "created_at": months.tz_localize("UTC"),
        }
    )
    burst = repeat.assign(address="3 Elm St", created_at=pd.Timestamp("2011-09-01", tz="UTC"))
    other = repeat.assign(service_code="graffiti")
    return pd.concat([repeat, burst, other.iloc[:2]], ignore_index=True)


def test_an_address_reporting_one_type_over_months_is_chronic_and_a_burst_is_not() -> None:
    found = chronic_addresses(history_frame(), params=ChronicParams(min_incidents=5, min_months=3))
    assert found["address"].tolist() == ["12 MAIN ST"]
    row = found.iloc[0]
    assert (row["incidents"], row["months"]) == (5, 4)
    assert row["history"] == "2011-07: 1; 2011-08: 2; 2011-10: 1; 2011-11: 1"
    assert np.isclose(row["lon"], -71.05)


def test_an_address_holding_every_kind_of_report_is_a_placeholder_not_chronic() -> None:
    frame = history_frame()
    unknown = pd.concat(
        [frame.assign(address="1 City Hall Plz", service_code=f"type-{k}") for k in range(3)],
        ignore_index=True,
    )
    found = chronic_addresses(
        pd.concat([frame, unknown], ignore_index=True),
        params=ChronicParams(placeholder_types=3),
    )
    assert found["address"].tolist() == ["12 MAIN ST"]
