"""Any CSV, given a mapping from our raw fields to its column names.

A city whose system is not Boston's says which of its columns holds the id, the type, the
open time and so on; everything else (validation, rejected rows, idempotency) is shared.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geodispatch.domain.errors import InputError, SchemaError
from geodispatch.domain.requests import IntakeResult
from geodispatch.intake.normalize import (
    RAW_FIELDS,
    REQUIRED_RAW,
    AreaCheck,
    IntakeOptions,
    canonicalize,
)


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which source column holds each raw field, plus how to read values.

    ``columns`` maps raw field names (``source_id``, ``service_name``, ``created``, ...) to
    the file's column names. ``time_format`` is a strptime pattern when the file writes
    times one fixed way; by default ISO 8601 and common variants are accepted.
    """

    columns: Mapping[str, str]
    time_format: str | None = None
    placeholders: tuple[tuple[float, float], ...] = ()
    bounds: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - set(RAW_FIELDS))
        if unknown:
            raise InputError(
                f"column mapping names unknown field(s) {', '.join(unknown)}; the fields are: "
                f"{', '.join(RAW_FIELDS)}"
            )
        missing = [f for f in REQUIRED_RAW if not self.columns.get(f)]
        if missing:
            raise InputError(
                f"column mapping lacks required field(s) {', '.join(missing)}; add e.g. "
                f"--map {missing[0]}=<your column name>"
            )

    @classmethod
    def from_pairs(cls, pairs: Iterable[str], **options: object) -> ColumnMapping:
        """Build from ``field=column`` strings as typed on the command line."""
        columns: dict[str, str] = {}
        for pair in pairs:
            name, sep, column = pair.partition("=")
            if not sep or not name.strip() or not column.strip():
                raise InputError(
                    f"mapping {pair!r} is not field=column; write e.g. source_id=Case ID"
                )
            columns[name.strip()] = column.strip()
        return cls(columns, **options)  # type: ignore[arg-type]

    @classmethod
    def from_toml(cls, path: Path) -> ColumnMapping:
        """Read ``[columns]`` (field = "column") and optional ``time_format`` from TOML."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"mapping file {path.name}: {exc}") from None
        columns = data.get("columns")
        if not isinstance(columns, dict):
            raise InputError(
                f'mapping file {path.name}: needs a [columns] table of field = "column name" lines'
            )
        return cls(
            {str(k): str(v) for k, v in columns.items()}, time_format=data.get("time_format")
        )

    def check_header(self, header: Iterable[str], *, name: str) -> None:
        """Raise SchemaError naming every mapped column the file does not have."""
        present = set(header)
        absent = {f: c for f, c in self.columns.items() if c not in present}
        if absent:
            listing = ", ".join(f"{f}→{c!r}" for f, c in absent.items())
            raise SchemaError(
                f"{name}: the mapping names column(s) the file does not have: {listing}. "
                f"Columns found: {', '.join(sorted(present))}"
            )


def parse(
    records: pd.DataFrame,
    lines: np.ndarray,
    mapping: ColumnMapping,
    *,
    source: str,
    tz: str = "America/New_York",
    seen_ids: dict[str, int] | None = None,
    area: AreaCheck | None = None,
) -> IntakeResult:
    """Mapped CSV records (strings) -> IntakeResult."""
    mapping.check_header(records.columns, name=source)
    raw = pd.DataFrame({f: records[c] for f, c in mapping.columns.items()}, index=records.index)
    options = IntakeOptions(
        source=source,
        tz=tz,
        placeholders=mapping.placeholders,
        bounds=mapping.bounds,
        area=area,
        time_format=mapping.time_format,
        field_names=dict(mapping.columns),
    )
    return canonicalize(raw, lines, options, seen_ids=seen_ids, original=records)
