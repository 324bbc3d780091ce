"""The crew roster file: the bundled Boston roster loads, a bad value names line and column."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from geodispatch.domain.errors import InputError, SchemaError
from geodispatch.io.crew_roster import COLUMNS, read_roster
from tests.conftest import DATA


def test_the_boston_roster_has_twenty_crews_at_seven_yards():
    crews = read_roster(DATA / "boston/crews.csv")
    assert len(crews) == 20
    assert len({c.depot.name for c in crews}) == 7
    first = crews[0]
    assert (first.code, first.shift_start, first.shift_end) == ("ASP-1", time(7), time(15, 30))
    assert first.lunch is not None
    assert first.lunch.minutes == 30
    assert first.skills == frozenset({"asphalt", "general"})


def test_a_bad_value_names_the_line_column_and_value(tmp_path: Path):
    path = tmp_path / "roster.csv"
    path.write_text(
        ",".join(COLUMNS) + "\n"
        "A-1,Crew A,Yard,-71.06,42.35,general,07:00,15:30,11:30,13:30,30\n"
        "B-1,Crew B,Yard,-71.06,north,general,07:00,15:30,11:30,13:30,30\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"roster.csv line 3, column yard_lat: 'north'"):
        read_roster(path)
    (tmp_path / "short.csv").write_text("code,name\nA,B\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="missing column"):
        read_roster(tmp_path / "short.csv")
