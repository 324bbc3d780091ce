"""CSV cells a spreadsheet would run as formulas are written as text; numbers stay numbers."""

from __future__ import annotations

import csv
import io

import pandas as pd

from geodispatch.reporting.csv_cells import inert_cell, inert_csv


def test_each_formula_start_gets_a_quote_and_plain_text_does_not() -> None:
    for text in ("=1+1", "+1", "-1+cmd", "@SUM(A1)", "\t=1", "\r=1"):
        assert inert_cell(text) == "'" + text
    assert inert_cell("12 Elm St") == "12 Elm St"
    assert inert_cell(-3) == -3  # a number is no formula


def test_a_frame_keeps_numbers_and_times_and_quotes_its_text() -> None:
    frame = pd.DataFrame(
        {
            "name": ["=cmd|' /C calc'!A0", "Pothole, deep"],
            "change": [-0.5, 2.0],
            "at": pd.to_datetime(["2026-12-01 08:00", "2026-12-02 09:30"], utc=True),
            "=label": ["a", "b"],
        }
    )
    text = inert_csv(frame, index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["name", "change", "at", "'=label"]
    assert rows[1] == ["'=cmd|' /C calc'!A0", "-0.5", "2026-12-01T08:00:00+0000", "a"]
    assert rows[2][0] == "Pothole, deep"  # the separator is quoted, not a new cell
    assert frame["name"].iloc[0] == "=cmd|' /C calc'!A0"  # the caller's frame is unchanged
