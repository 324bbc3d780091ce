"""Read a crew roster (CSV): code, name, yard and its point, skills, shift and lunch window.

The Boston demo roster is ``data/boston/crews.csv``; a city writes its own in the same
columns and seeds it with ``geodispatch crews seed --roster FILE``. Every bad value is
reported with its line, column, value and the fix.
"""

from __future__ import annotations

import csv
from datetime import time
from pathlib import Path
from typing import Final

from geodispatch.domain.crews import Crew, Depot, LunchBreak, parse_skills
from geodispatch.domain.errors import InputError, SchemaError

COLUMNS: Final = (
    "code",
    "name",
    "yard",
    "yard_lon",
    "yard_lat",
    "skills",
    "shift_start",
    "shift_end",
    "lunch_from",
    "lunch_to",
    "lunch_minutes",
)


def read_roster(path: Path) -> list[Crew]:
    """The crews of a roster file, in file order."""
    if not path.is_file():
        raise InputError(f"{path}: no such roster file; check the path")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SchemaError(
                f"{path.name}: missing column(s) {', '.join(missing)}; a roster has the "
                f"columns {', '.join(COLUMNS)}"
            )
        return [_crew(path.name, line, row) for line, row in enumerate(reader, start=2)]


def _crew(name: str, line: int, row: dict[str, str]) -> Crew:
    def bad(column: str, text: str, wanted: str) -> InputError:
        return InputError(
            f"{name} line {line}, column {column}: {text!r} is not {wanted}; fix the value"
        )

    def number(column: str) -> float:
        text = (row.get(column) or "").strip()
        try:
            return float(text)
        except ValueError:
            raise bad(column, text, "a number") from None

    def clock_time(column: str) -> time:
        text = (row.get(column) or "").strip()
        try:
            return time.fromisoformat(text)
        except ValueError:
            raise bad(column, text, "a time HH:MM") from None

    try:
        minutes = int(number("lunch_minutes")) if (row.get("lunch_minutes") or "").strip() else 0
        lunch = (
            LunchBreak(clock_time("lunch_from"), clock_time("lunch_to"), minutes)
            if minutes
            else None
        )
        return Crew(
            code=row["code"].strip(),
            name=row["name"].strip(),
            depot=Depot(row["yard"].strip(), number("yard_lon"), number("yard_lat")),
            shift_start=clock_time("shift_start"),
            shift_end=clock_time("shift_end"),
            lunch=lunch,
            skills=parse_skills(row["skills"]),
        )
    except InputError as exc:
        if str(exc).startswith(name):
            raise
        raise InputError(f"{name} line {line}: {exc}") from None
