"""Re-reports after completion and ward equity, on small frames whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodispatch.analysis.equity import (
    EquityParams,
    equity_table,
    median_interval,
    ward_gaps,
    wilson,
)
from geodispatch.analysis.recurrence import RecurrenceParams, rereports
from geodispatch.domain.errors import InputError
from geodispatch.reporting.ward_report import choropleth_svg, equity_geojson, top_types

T0 = pd.Timestamp("2011-09-01 12:00", tz="UTC")
METRE_LAT = 1 / 111_195  # degrees of latitude per metre


def _request(rid, *, name="Street Light Outages", status="completed", north_m=0.0, opened=0.0,
             closed=None, job=None, public=True, family="Street Lights"):  # fmt: skip
    return {
        "request_id": rid,
        "job_id": job,
        "service_name": name,
        "family": family,
        "ward": 3,
        "crew": "crew:EL-1",
        "status": status,
        "public": public,
        "lon": -71.06,
        "lat": 42.35 + north_m * METRE_LAT,
        "created_at": T0 + pd.Timedelta(days=opened),
        "closed_at": None if closed is None else T0 + pd.Timedelta(days=closed),
    }


def _facts(*rows: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["closed_at"] = pd.to_datetime(frame["closed_at"], utc=True)
    frame["job_id"] = frame["job_id"].astype("Int64")
    return frame


def test_a_report_of_the_same_type_nearby_within_the_window_is_a_re_report() -> None:
    facts = _facts(
        _request(1, opened=0, closed=2),
        _request(2, status="new", north_m=30, opened=12),  # 10 days after, 30 m away
        _request(3, status="new", north_m=80, opened=12),  # too far
        _request(4, status="new", north_m=10, opened=40),  # too late
        _request(5, status="new", opened=1),  # before the completion
        _request(6, name="Graffiti Removal", status="new", opened=5, family="Graffiti"),
    )
    found = rereports(facts, RecurrenceParams(radius_m=50, window_days=30))
    assert list(found.pairs["rereport_id"]) == [2]
    assert found.completed == 1
    assert found.rereported == 1
    assert found.completions.loc[0, "first_after_days"] == pytest.approx(10)


def test_related_types_count_only_when_asked() -> None:
    facts = _facts(
        _request(1, opened=0, closed=2),
        _request(2, name="Street Light Knock Downs", status="new", opened=5),
    )
    assert rereports(facts).rereported == 0
    assert rereports(facts, RecurrenceParams(related=True)).rereported == 1


def test_the_job_s_own_requests_and_the_city_s_work_orders_are_not_re_reports() -> None:
    facts = _facts(
        _request(1, opened=0, closed=2, job=7),
        _request(2, opened=0.5, closed=3, job=7),  # same job: completes once, at its last close
        _request(3, status="new", opened=4, job=7),
        _request(4, status="new", opened=5, public=False),  # an internal work order
    )
    found = rereports(facts)
    assert found.completed == 1
    assert found.rereported == 0


def test_counts_by_crew_and_ward_add_up() -> None:
    facts = _facts(
        _request(1, opened=0, closed=2),
        _request(2, opened=0, closed=2, north_m=500),
        _request(3, status="new", opened=6),
    )
    table = rereports(facts).by("crew")
    assert table.to_dict("records") == [
        {"crew": "crew:EL-1", "completed": 2, "rereported": 1, "rereports": 1, "share": 0.5}
    ]


def test_a_bad_window_names_the_fix() -> None:
    with pytest.raises(InputError, match="positive"):
        RecurrenceParams(window_days=0)


def test_wilson_interval_matches_the_textbook_values() -> None:
    low, high = wilson(np.array([8]), np.array([10]))
    assert (round(low[0], 3), round(high[0], 3)) == (0.490, 0.943)


def test_the_median_interval_needs_six_values_and_brackets_the_median() -> None:
    assert np.isnan(median_interval(np.arange(5.0))[0])
    low, high = median_interval(np.arange(1.0, 101.0))
    assert low < 50.5 < high
    assert (low, high) == (40.0, 61.0)  # order statistics 40 and 61, as in the tables


def _closures(ward: int, days: list[float], on_time: bool = True) -> list[dict[str, object]]:
    rows = []
    for k, d in enumerate(days):
        created = T0 + pd.Timedelta(hours=k)
        closed = created + pd.Timedelta(days=d)
        rows.append(
            {
                "service_name": "Pothole",
                "ward": ward,
                "status": "completed",
                "created_at": created,
                "closed_at": closed,
                "due_at": closed + pd.Timedelta(hours=1 if on_time else -1),
            }
        )
    return rows


def test_a_ward_twice_as_slow_is_called_slower_and_a_small_ward_is_not_ranked() -> None:
    rng = np.random.default_rng(3)
    rows = (
        _closures(1, list(rng.uniform(1, 3, 60)))
        + _closures(2, list(rng.uniform(1, 3, 60)))
        + _closures(3, list(rng.uniform(5, 7, 60)), on_time=False)
        + _closures(4, [30.0] * 5)
    )
    table = equity_table(pd.DataFrame(rows), EquityParams(min_completed=20)).set_index("ward")
    assert table.loc[3, "verdict"] == "slower, less often on time"
    assert table.loc[4, "verdict"] == "too few to rank"
    assert table.loc[3, "median_gap_days"] > 0 > table.loc[1, "median_gap_days"]
    gaps = ward_gaps(table.reset_index())
    assert list(gaps["ward"]) == [1, 2, 3]  # ward 4 is left off the map's shading


def test_the_equity_export_puts_each_ward_s_figures_on_its_outline() -> None:
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    outlines = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"area_id": "3"}, "geometry": square},
            {"type": "Feature", "properties": {"area_id": "4"}, "geometry": square},
        ],
    }
    wards = pd.DataFrame({"ward": [3], "median_gap_days": [2.5], "on_time_gap": [np.nan]})
    out = equity_geojson(outlines, wards)
    assert [f["properties"] for f in out["features"]] == [
        {"ward": "3", "median_gap_days": 2.5, "on_time_gap": None},
        {"ward": "4"},  # no figures: too few to rank
    ]
    svg = choropleth_svg(outlines, {3: 2.5}, unit="days", worse="slower")
    assert svg.count("<polygon") == 2
    assert "#e3e7eb" in svg  # ward 4 is grey


def test_the_report_lists_the_busiest_types_and_sums_the_rest_in_one_row() -> None:
    by_type = pd.DataFrame(
        {
            "service_name": [f"type {k}" for k in range(30)],
            "requests": [30 - k for k in range(30)],
            "completed": [1] * 30,
            "closed_not_fixed": [0] * 30,
        }
    )
    shown = top_types(by_type, rows=25)
    assert len(shown) == 26
    assert shown.iloc[-1]["service_name"] == "5 other types"
    assert shown["requests"].sum() == by_type["requests"].sum()
