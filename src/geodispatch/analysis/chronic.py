"""Chronic addresses: one place reporting the same problem month after month.

A building whose lift, or a complex whose dumpster, is reported again and again is a
different finding from an area hotspot: the answer is a call to one owner, not a crew
sweep of a neighbourhood. An address (normalised text, or the exact geocoded point when
there is no text) is chronic for a type when it holds at least ``min_incidents``
incidents of that type in at least ``min_months`` different calendar months. Each is
listed with its monthly history and its share of the type's incidents city-wide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from geodispatch.domain.errors import InputError, SchemaError

__all__ = ["CHRONIC_COLUMNS", "ChronicParams", "chronic_addresses", "normal_address"]

#: Columns of :func:`chronic_addresses`, with their meaning.
CHRONIC_COLUMNS: Final[dict[str, str]] = {
    "service_code": "request type",
    "address": "the address (normalised text; 'lon, lat' for a point without text)",
    "incidents": "incidents of the type at the address in the period",
    "requests": "requests behind them (duplicates and repeat callers included)",
    "months": "calendar months (city time) with at least one incident",
    "first_report": "UTC time of the first incident",
    "last_report": "UTC time of the last incident",
    "open": "incidents still open",
    "history": "incidents per month, oldest first, e.g. '2011-07: 3; 2011-09: 1'",
    "lon": "longitude of the address (mean of its reports)",
    "lat": "latitude",
}


@dataclass(frozen=True, slots=True)
class ChronicParams:
    """When an address counts as chronic for a type (defaults: 5 incidents, 3 months).

    An address holding incidents of ``placeholder_types`` or more different types is
    where a system puts "location unknown" (Boston's "1 City Hall Plz"), not a place: it
    is never chronic (the hotspot scan leaves such points out likewise).
    """

    min_incidents: int = 5
    min_months: int = 3
    placeholder_types: int = 15

    def __post_init__(self) -> None:
        if self.min_incidents < 2:
            raise InputError(
                f"ChronicParams.min_incidents must be at least 2. Got {self.min_incidents}."
            )
        if self.min_months < 1:
            raise InputError(f"ChronicParams.min_months must be at least 1. Got {self.min_months}.")


def normal_address(text: pd.Series) -> pd.Series:
    """Address text upper-cased with runs of blanks folded ('' for missing)."""
    return (
        text.astype("string")
        .fillna("")
        .str.strip()
        .str.upper()
        .str.replace(r"\s+", " ", regex=True)
    )


def chronic_addresses(
    frame: pd.DataFrame, *, params: ChronicParams | None = None, timezone: str = "UTC"
) -> pd.DataFrame:
    """Addresses with repeated incidents of one type over months, busiest first.

    ``frame`` holds one row per incident: ``service_code``, ``address``, ``lon``, ``lat``,
    ``created_at`` (UTC) and optionally ``requests`` (requests per incident, default 1)
    and ``is_open``. Returns :data:`CHRONIC_COLUMNS`.
    """
    params = params or ChronicParams()
    missing = [c for c in ("service_code", "address", "lon", "lat", "created_at") if c not in frame]
    if missing:
        raise SchemaError(
            f"chronic address input lacks column(s) {', '.join(missing)}; pass one row per "
            "incident with service_code, address, lon, lat and created_at"
        )
    located = frame["lon"].notna() & frame["lat"].notna()
    data = frame[located | (normal_address(frame["address"]) != "")]
    if data.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CHRONIC_COLUMNS})
    address = normal_address(data["address"])
    point = data["lon"].round(5).astype(str) + ", " + data["lat"].round(5).astype(str)
    key = address.where(address != "", point)
    created = pd.to_datetime(data["created_at"], utc=True)
    month = created.dt.tz_convert(timezone).dt.strftime("%Y-%m")
    work = pd.DataFrame(
        {
            "service_code": data["service_code"].astype(str).to_numpy(),
            "address": key.to_numpy(),
            "month": month.to_numpy(),
            "created_at": created.to_numpy(),
            "requests": (data["requests"] if "requests" in data else pd.Series(1, data.index))
            .fillna(1)
            .to_numpy(),
            "open": (
                data["is_open"] if "is_open" in data else pd.Series(data=False, index=data.index)
            )
            .astype(bool)
            .to_numpy(),
            "lon": data["lon"].to_numpy(dtype=float),
            "lat": data["lat"].to_numpy(dtype=float),
        }
    )
    types_at = work.groupby("address")["service_code"].nunique()
    placeholder = set(types_at.index[types_at >= params.placeholder_types])
    work = work[~work["address"].isin(placeholder)]
    by = work.groupby(["service_code", "address"], sort=False)
    stats = by.agg(
        incidents=("month", "size"),
        requests=("requests", "sum"),
        months=("month", "nunique"),
        first_report=("created_at", "min"),
        last_report=("created_at", "max"),
        open=("open", "sum"),
        lon=("lon", "mean"),
        lat=("lat", "mean"),
    )
    chosen = stats[
        (stats["incidents"] >= params.min_incidents) & (stats["months"] >= params.min_months)
    ]
    if chosen.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CHRONIC_COLUMNS})
    keys = pd.MultiIndex.from_frame(work[["service_code", "address"]])
    members = work[keys.isin(chosen.index)]
    per_month = members.groupby(["service_code", "address", "month"]).size()
    history = (
        per_month.rename("n")
        .reset_index()
        .assign(text=lambda f: f["month"] + ": " + f["n"].astype(str))
        .groupby(["service_code", "address"])["text"]
        .agg("; ".join)
    )
    out = chosen.assign(history=history.reindex(chosen.index).to_numpy()).reset_index()
    out["requests"] = out["requests"].astype(np.int64)
    out["open"] = out["open"].astype(np.int64)
    out = out.sort_values(["incidents", "months"], ascending=False, kind="stable")
    return out[list(CHRONIC_COLUMNS)].reset_index(drop=True)
