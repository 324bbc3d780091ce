"""Open311 GeoReport v2 requests (the ``GET requests.json`` shape) -> canonical requests.

The payload is a JSON array of request objects (or ``{"service_requests": [...]}``).
Datetimes carry offsets per the spec; any without one are read in the city's zone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import IntakeResult, RequestStatus
from geodispatch.intake.normalize import AreaCheck, IntakeOptions, RowCheck, canonicalize

#: Raw field -> GeoReport v2 request field.
OPEN311_FIELDS: Final[Mapping[str, str]] = {
    "source_id": "service_request_id",
    "service_name": "service_name",
    "service_code": "service_code",
    "department": "agency_responsible",
    "description": "description",
    "address": "address",
    "zipcode": "zipcode",
    "lat": "lat",
    "lon": "long",
    "created": "requested_datetime",
    "due": "expected_datetime",
    "closed": "updated_datetime",  # only when status is closed (see parse)
    "status": "status",
    "closure_note": "status_notes",
}


def load_payload(text: str, *, name: str = "payload") -> list[Any]:
    """Decode a GeoReport JSON document into its list of request objects.

    Raises InputError naming the line and column of a JSON syntax error, or the shape that
    was found instead of a list of requests.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{name}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
            "check for a missing comma or quote there (the spec's own examples write "
            "service codes like 006, which strict JSON forbids: quote them)"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("service_requests"), list):
        data = data["service_requests"]
    if not isinstance(data, list):
        raise InputError(
            f"{name}: expected a JSON array of service requests (GET requests.json), found "
            f"a {type(data).__name__}; export the requests list, not a single object"
        )
    return data


def parse(
    items: list[Any],
    *,
    source: str = "open311",
    tz: str = "America/New_York",
    seen_ids: dict[str, int] | None = None,
    area: AreaCheck | None = None,
    first_line: int = 1,
) -> IntakeResult:
    """GeoReport request objects -> IntakeResult; item N is reported as line N.

    A non-object item, or a field holding a list or object where the spec has a scalar,
    rejects that item with the field named.
    """
    rows: list[dict[str, str]] = []
    originals: list[dict[str, Any]] = []
    not_object = np.zeros(len(items), dtype=bool)
    structured: dict[str, np.ndarray] = {}
    for i, item in enumerate(items):
        row: dict[str, str] = {}
        if isinstance(item, dict):
            for raw_field, key in OPEN311_FIELDS.items():
                value = item.get(key)
                if isinstance(value, list | dict):
                    structured.setdefault(raw_field, np.zeros(len(items), dtype=bool))[i] = True
                    value = json.dumps(value, ensure_ascii=False)
                row[raw_field] = _scalar_text(value)
            originals.append(item)
        else:
            not_object[i] = True
            originals.append({"item": item})
        rows.append(row)
    checks = [
        RowCheck(
            not_object,
            "source_id",
            "is missing: the item is not a JSON object",
            "send each request as an object with the GeoReport fields",
        )
    ]
    checks += [
        RowCheck(
            mask,
            raw_field,
            "holds a list or object where the spec has a single value",
            f"send {OPEN311_FIELDS[raw_field]} as text or a number",
        )
        for raw_field, mask in structured.items()
    ]
    raw = pd.DataFrame(rows, columns=list(OPEN311_FIELDS), dtype=object).fillna("")
    # updated_datetime is the last change; it is the close time only of a closed request
    still_open = raw["status"].map(lambda v: str(v).strip().lower() != "closed")
    raw.loc[still_open, "closed"] = ""
    lines = np.arange(first_line, first_line + len(rows), dtype=np.int64)
    options = IntakeOptions(source=source, tz=tz, field_names=dict(OPEN311_FIELDS), area=area)
    original = pd.DataFrame(
        {"record": [json.dumps(o, ensure_ascii=False, default=str) for o in originals]},
        index=raw.index,
        dtype=object,
    )
    return canonicalize(
        raw,
        lines,
        options,
        status_rule=_open311_status,
        seen_ids=seen_ids,
        original=original,
        checks=checks,
    )


def _scalar_text(value: Any) -> str:
    """Text of a scalar JSON value (booleans as JSON writes them)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _open311_status(raw: pd.DataFrame) -> pd.Series:
    word = raw["status"].str.strip().str.lower()
    status = np.where(word == "closed", RequestStatus.COMPLETED.value, RequestStatus.NEW.value)
    return pd.Series(status, index=raw.index, dtype=object)
