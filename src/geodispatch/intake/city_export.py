"""City open-data exports in Boston's layout (2011 and current column names).

Boston's yearly 311 export names its columns ``case_enquiry_id, open_dt, target_dt, ...``;
the current Analyze Boston schema renames ``target_dt`` to ``sla_target_dt`` and
``ontime`` to ``on_time`` and adds ``geom_4326``. Both map to the same raw fields. Times are
local (America/New_York) without offsets; the City Hall point means "location unknown".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache, partial
from typing import Final

import numpy as np
import pandas as pd

from geodispatch.domain.errors import SchemaError
from geodispatch.domain.requests import IntakeResult, RequestStatus
from geodispatch.intake import closure_notes
from geodispatch.intake.closure_notes import ClosureRules
from geodispatch.intake.normalize import BOSTON_PLACEHOLDER, AreaCheck, IntakeOptions, canonicalize

#: Raw field -> the column names it goes by in Boston's layouts (first match wins).
BOSTON_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "source_id": ("case_enquiry_id",),
    "service_name": ("type",),
    "department": ("subject",),
    "queue": ("queue",),
    "category": ("reason",),
    "description": ("case_title",),
    "address": ("location",),
    "zipcode": ("location_zipcode",),
    "lat": ("latitude",),
    "lon": ("longitude",),
    "created": ("open_dt",),
    "due": ("target_dt", "sla_target_dt"),
    "closed": ("closed_dt",),
    "status": ("case_status",),
    "closure_note": ("closure_reason",),
    "ward": ("ward",),
    "channel": ("source",),
}
REQUIRED: Final = ("case_enquiry_id", "open_dt", "type")

#: Greater Boston, generously: points outside are not the city's (lon/lat).
BOSTON_BOUNDS: Final = (-71.25, 42.20, -70.90, 42.43)
BOSTON_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"


def is_city_export(columns: Iterable[str]) -> bool:
    """True when a header looks like Boston's 311 export (either layout)."""
    names = set(columns)
    return all(c in names for c in REQUIRED)


def field_map(columns: Iterable[str]) -> dict[str, str]:
    """Raw field -> this file's column name; raises SchemaError listing what is missing."""
    names = list(columns)
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise SchemaError(
            f"this is not a Boston-style 311 export: no column {', '.join(map(repr, missing))} "
            f"(found {', '.join(names[:12])}{'…' if len(names) > 12 else ''}). "
            "Import it as a generic CSV with a column mapping (--format csv --map ...)."
        )
    found: dict[str, str] = {}
    for raw_field, candidates in BOSTON_COLUMNS.items():
        for candidate in candidates:
            if candidate in names:
                found[raw_field] = candidate
                break
    return found


def boston_status(raw: pd.DataFrame, rules: ClosureRules | None = None) -> pd.Series:
    """Our status from Boston's ``case_status`` and its closure note.

    A closed case's note is read by the closure rules (Boston's shipped ones unless a city's
    are given): "not at location", "no violation", duplicates and referrals get their "closed,
    not fixed" outcome, so compliance figures do not count them as work done; a closed case
    whose note fits no rule counts as completed.
    """
    word = raw["status"].str.strip().str.lower()
    closed = word.str.startswith("closed") | ((word == "") & (raw["closed"].str.strip() != ""))
    status = closure_notes.statuses(raw["closure_note"], closed, rules or _boston_rules())
    return status.fillna(RequestStatus.NEW.value).astype(object)


@cache
def _boston_rules() -> ClosureRules:
    return ClosureRules.load()


def parse(
    records: pd.DataFrame,
    lines: np.ndarray,
    *,
    source: str = "boston",
    tz: str = "America/New_York",
    seen_ids: dict[str, int] | None = None,
    closure_rules: ClosureRules | None = None,
    area: AreaCheck | None = None,
) -> IntakeResult:
    """Boston export records (strings, the file's own column names) -> IntakeResult.

    ``closure_rules`` read the closure notes (None: Boston's shipped rules).
    """
    mapping = field_map(records.columns)
    raw = pd.DataFrame(
        {raw_field: records[column] for raw_field, column in mapping.items()}, index=records.index
    )
    options = IntakeOptions(
        source=source,
        tz=tz,
        placeholders=(BOSTON_PLACEHOLDER,),
        bounds=BOSTON_BOUNDS,
        area=area,
        time_format=BOSTON_TIME_FORMAT,
        field_names=mapping,
    )
    return canonicalize(
        raw,
        lines,
        options,
        status_rule=partial(boston_status, rules=closure_rules),
        seen_ids=seen_ids,
        original=records,
    )
