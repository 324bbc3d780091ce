"""Ward summary: counts by ward × type, their rate of change, and each ward's hotspots.

A council member asks "what is happening in my ward": how many reports of each kind, is
it getting worse, and where are the places that keep coming back. These are tidy frames
(one row per ward, or per ward and type) for tables, charts and exports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binom

from geodispatch.analysis.emerging import Trend
from geodispatch.analysis.grid_scan import bh_reject
from geodispatch.domain.errors import SchemaError

__all__ = ["WardSummary", "summarise_wards"]

_NO_WARD = "none"


@dataclass(frozen=True, slots=True)
class WardSummary:
    """Tidy ward tables.

    Attributes
    ----------
    by_ward_type
        ward, service_code, service_name, requests, open, recent, previous, change,
        change_q, changed: reports in the whole period, still open, in the recent window
        and in the window of the same length before it; ``change`` = recent / previous − 1
        (NaN when there were none before); ``changed`` is True when the difference is
        significant (binomial test of recent vs previous, Benjamini–Hochberg ``change_q`` <
        0.05 over all ward × type rows).
    by_ward
        The same counts per ward, plus hotspots (active, of one type), mixed_hotspots (all
        types together), emerging (typed ones new or intensifying) and top_hotspots (the
        strongest few, typed first, as text: "#12 Pothole Repair ×8.1 (new)").
    window_days, as_of
        The recent window and its end.
    """

    by_ward_type: pd.DataFrame
    by_ward: pd.DataFrame
    window_days: float
    as_of: pd.Timestamp | None


def summarise_wards(
    requests: pd.DataFrame,
    hotspots: pd.DataFrame,
    *,
    as_of: pd.Timestamp | None = None,
    window_days: float = 90.0,
    top: int = 3,
    fdr_q: float = 0.05,
) -> WardSummary:
    """Ward × type counts with their change, and per-ward hotspot counts.

    Parameters
    ----------
    requests
        ``ward`` (text or number; missing = no ward), ``service_code``, ``service_name``,
        ``created_at`` (UTC) and ``is_open``.
    hotspots
        Stored hotspots: ``id``, ``service_name``, ``wards`` (';'-separated), ``ratio``,
        ``q_value``, ``trend``, ``n_reports``.
    as_of
        End of the recent window (default: the newest request).
    window_days
        Length of the recent window and of the one before it it is compared with.
    top
        Hotspots listed per ward, strongest (smallest q, then largest ratio) first.
    fdr_q
        False discovery rate for flagging a change as significant.
    """
    missing = [
        c
        for c in ("ward", "service_code", "service_name", "created_at", "is_open")
        if c not in requests.columns
    ]
    if missing:
        raise SchemaError(f"ward summary needs request column(s) {', '.join(missing)}")
    frame = requests.copy()
    frame["ward"] = _ward_text(frame["ward"])
    created = pd.to_datetime(frame["created_at"], utc=True)
    if as_of is None:
        as_of = created.max() if len(created) else None
    window = pd.Timedelta(days=window_days)
    if as_of is not None:
        frame["recent"] = (created > as_of - window) & (created <= as_of)
        frame["previous"] = (created > as_of - 2 * window) & (created <= as_of - window)
    else:
        frame["recent"] = False
        frame["previous"] = False
    by_type = (
        frame.groupby(["ward", "service_code"], dropna=False)
        .agg(
            service_name=("service_name", "first"),
            requests=("service_code", "size"),
            open=("is_open", "sum"),
            recent=("recent", "sum"),
            previous=("previous", "sum"),
        )
        .reset_index()
    )
    by_type = _with_change(by_type, fdr_q=fdr_q)
    by_type = by_type.sort_values(["ward", "requests"], ascending=[True, False], kind="stable")

    by_ward = (
        by_type.groupby("ward")[["requests", "open", "recent", "previous"]].sum().reset_index()
    )
    by_ward = _with_change(by_ward, fdr_q=fdr_q)
    by_ward = by_ward.join(_ward_hotspots(hotspots, top=top), on="ward")
    by_ward["hotspots"] = by_ward["hotspots"].fillna(0).astype("int64")
    by_ward["mixed_hotspots"] = by_ward["mixed_hotspots"].fillna(0).astype("int64")
    by_ward["emerging"] = by_ward["emerging"].fillna(0).astype("int64")
    by_ward["top_hotspots"] = by_ward["top_hotspots"].fillna("")
    order = by_ward["ward"].map(_ward_order)
    by_ward = by_ward.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
    return WardSummary(
        by_ward_type=by_type.reset_index(drop=True),
        by_ward=by_ward,
        window_days=window_days,
        as_of=as_of,
    )


def _ward_text(ward: pd.Series) -> pd.Series:
    """Ward labels as text ('7', not 7.0); missing becomes 'none'."""
    numeric = pd.to_numeric(ward, errors="coerce")
    text = ward.astype("string").str.strip()
    as_int = numeric.dropna()
    whole = as_int == np.floor(as_int)
    text.loc[as_int.index[whole]] = as_int[whole].astype("int64").astype(str)
    return text.fillna(_NO_WARD).replace("", _NO_WARD).astype(str)


def _ward_order(label: str) -> tuple[int, float, str]:
    """Numeric wards in number order, named ones after, 'none' last."""
    if label == _NO_WARD:
        return (2, 0.0, label)
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _with_change(frame: pd.DataFrame, *, fdr_q: float) -> pd.DataFrame:
    out = frame.copy()
    recent = out["recent"].to_numpy(dtype=np.int64)
    previous = out["previous"].to_numpy(dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["change"] = np.where(previous > 0, recent / np.maximum(previous, 1) - 1.0, np.nan)
    total = recent + previous
    # two-sided binomial test of recent vs previous at equal rates
    low = binom.cdf(np.minimum(recent, previous), total, 0.5)
    p = np.where(total > 0, np.minimum(1.0, 2 * low), 1.0)
    reject, q = bh_reject(p, q=fdr_q)
    out["change_q"] = q
    out["changed"] = reject & (total > 0)
    return out


def _ward_hotspots(hotspots: pd.DataFrame, *, top: int) -> pd.DataFrame:
    """Per ward: hotspot count, emerging count and the strongest few as text."""
    columns = ["hotspots", "mixed_hotspots", "emerging", "top_hotspots"]
    if hotspots.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="ward"))
    frame = hotspots.copy()
    frame["ward"] = frame["wards"].fillna("").astype(str).str.split(";")
    frame = frame.explode("ward")
    frame = frame[frame["ward"] != ""]
    if frame.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="ward"))
    frame["mixed"] = frame["service_code"].isna() if "service_code" in frame else False
    # typed hotspots first: "potholes at X" is actionable, "many kinds of reports" less so
    frame = frame.sort_values(
        ["mixed", "q_value", "ratio"], ascending=[True, True, False], kind="stable"
    )
    emerging = frame["trend"].isin([Trend.NEW.value, Trend.INTENSIFYING.value]) & ~frame["mixed"]
    label = (
        "#"
        + frame["id"].astype(str)
        + " "
        + frame["service_name"].fillna("All types").replace("", "All types")
        + " ×"
        + frame["ratio"].map(lambda r: f"{r:.1f}")
        + frame["trend"].map(lambda t: f" ({t})" if t else "")
    )
    grouped = frame.assign(label=label, is_emerging=emerging, typed=~frame["mixed"]).groupby("ward")
    return pd.DataFrame(
        {
            "hotspots": grouped["typed"].sum(),
            "mixed_hotspots": grouped["mixed"].sum(),
            "emerging": grouped["is_emerging"].sum(),
            "top_hotspots": grouped["label"].agg(lambda s: "; ".join(s.head(top))),
        }
    )
