"""Property: whatever the rows hold, intake never crashes and accounts for every row."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodispatch.intake import city_export, open311
from geodispatch.io.tables import iter_csv_chunks
from tests.intake.boston_rows import HEADER_2011, row

nasty_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            '"',
            '""',
            "a,b",
            "line\nbreak",
            "\x00",
            "\r",
            "&amp;",
            "<script>alert(1)</script>",
            "Ward",
            "Ward 99",
            "-0",
            "nan",
            "inf",
            "1e400",
            "2011-13-45 99:99:99",
            "2011-07-01",
            "2011-07-01T08:00:00Z",
        ]
    ),
    st.text(min_size=300, max_size=600),  # longer than most fields allow
)
numbers_or_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["forty-two", "", " 42.3 ", "42,3", "42.3594", "-71.0587"]),
)
dates_or_text = st.one_of(
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    st.sampled_from(
        [
            "",
            "yesterday",
            "2011-02-30 10:00:00",
            "2011-11-06 01:30:00",
            "2011-03-13 02:30:00",
            "9999-12-31 23:59:59",
        ]
    ),
)


@st.composite
def boston_rows(draw: st.DrawFn) -> list[str]:
    values = {
        "case_enquiry_id": draw(st.one_of(st.integers(1, 50).map(str), nasty_text)),
        "open_dt": draw(dates_or_text),
        "target_dt": draw(dates_or_text),
        "closed_dt": draw(dates_or_text),
        "type": draw(nasty_text),
        "case_status": draw(st.sampled_from(["Open", "Closed", "", "weird"])),
        "closure_reason": draw(nasty_text),
        "case_title": draw(nasty_text),
        "location": draw(nasty_text),
        "ward": draw(nasty_text),
        "location_zipcode": draw(nasty_text),
        "latitude": draw(numbers_or_text),
        "longitude": draw(numbers_or_text),
    }
    return row(**values)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(boston_rows(), max_size=25))
def test_every_row_is_accepted_or_rejected_never_lost(rows: list[list[str]]) -> None:
    frame = pd.DataFrame(rows, columns=HEADER_2011, dtype=object)
    lines = np.arange(2, 2 + len(rows))
    result = city_export.parse(frame, lines, seen_ids={})
    assert len(result.accepted) + len(result.rejected) == len(rows)
    assert sorted([*result.accepted["line"], *result.rejected["line"]]) == lines.tolist()
    assert result.rejected["problem"].map(bool).all()
    assert result.rejected["fix"].map(bool).all()
    assert result.accepted["created_at"].notna().all()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(boston_rows(), min_size=1, max_size=15),
    junk=st.lists(st.binary(max_size=40), max_size=4),
    encoding=st.sampled_from(["utf-8", "cp1252", "latin-1"]),
)
def test_a_file_of_malformed_bytes_is_read_record_by_record(
    tmp_path: Path, rows: list[list[str]], junk: list[bytes], encoding: str
) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER_2011)
    writer.writerows(rows)
    data = text.getvalue().encode(encoding, errors="replace")
    data += b"".join(j.replace(b"\n", b" ").replace(b"\r", b" ") + b"\n" for j in junk)
    path = tmp_path / f"fuzz-{abs(hash(data))}.csv"
    path.write_bytes(data)
    read = 0
    seen: dict[str, int] = {}
    for chunk in iter_csv_chunks(path, chunk_rows=7):
        result = city_export.parse(chunk.frame, chunk.lines, seen_ids=seen)
        assert len(result.accepted) + len(result.rejected) == len(chunk.frame)
        read += chunk.records
    assert read >= len(rows)  # junk lines become records too (rejected or malformed)


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(
        st.one_of(
            st.dictionaries(
                st.sampled_from(
                    [
                        "service_request_id",
                        "service_name",
                        "service_code",
                        "requested_datetime",
                        "lat",
                        "long",
                        "description",
                        "status",
                        "updated_datetime",
                    ]
                ),
                st.one_of(
                    st.none(),
                    st.booleans(),
                    st.integers(),
                    st.floats(),
                    nasty_text,
                    st.lists(st.integers(), max_size=2),
                ),
            ),
            st.integers(),
            st.text(max_size=5),
            st.none(),
        ),
        max_size=20,
    )
)
def test_any_open311_payload_is_accounted_for(items: list[object]) -> None:
    result = open311.parse(items, seen_ids={})
    assert len(result.accepted) + len(result.rejected) == len(items)
