"""Equity: do some wards wait longer than others for the same work.

For each request type, each ward's median and 90th-percentile days to complete and its
on-time share are compared with the city-wide figure of that type. Each ward figure gets a
95 % confidence interval (distribution-free for the median, Wilson for the share), and the
gap is called a difference only when the interval excludes the city figure. A ward with
fewer than ``min_completed`` completions of a type is marked too small to rank instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy.stats import binom, norm

from geodispatch.domain.requests import RequestStatus

Z95: Final = float(norm.ppf(0.975))

EQUITY_COLUMNS: Final = (
    "service_name",
    "ward",
    "completed",
    "median_days",
    "median_low",
    "median_high",
    "city_median_days",
    "median_gap_days",
    "p90_days",
    "city_p90_days",
    "on_time_share",
    "on_time_low",
    "on_time_high",
    "city_on_time_share",
    "on_time_gap",
    "small_sample",
    "verdict",
)


@dataclass(frozen=True, slots=True)
class EquityParams:
    """Which requests count and how small a sample is too small to rank."""

    min_completed: int = 20


def wilson(successes: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95 % Wilson score interval of a share (NaN where n is 0)."""
    n = n.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = successes / n
        centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
        half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n**2)) / (1 + Z95**2 / n)
    return centre - half, centre + half


def median_interval(values: np.ndarray) -> tuple[float, float]:
    """95 % distribution-free interval of the median (order statistics, binomial)."""
    x = np.sort(values[~np.isnan(values)])
    n = len(x)
    if n < 6:  # no pair of order statistics reaches 95 % coverage below six values
        return float("nan"), float("nan")
    low = int(binom.ppf(0.025, n, 0.5))
    high = int(n - low)
    return float(x[max(low - 1, 0)]), float(x[min(high, n - 1)])


def equity_table(facts: pd.DataFrame, params: EquityParams | None = None) -> pd.DataFrame:
    """Per type and ward: time to complete and on-time share against the city's, with CIs.

    ``facts`` has ``service_name, ward, status, created_at, closed_at, due_at``. Only
    requests completed as a fix count (duplicates closed in a minute are no fast repair).
    ``verdict`` is ``slower``/``faster`` (median days' interval above/below the city's
    median), ``later``/``more on time`` (the same for the on-time share), ``in line``,
    or ``too few to rank``.
    """
    params = params or EquityParams()
    done = facts[
        (facts["status"] == RequestStatus.COMPLETED.value)
        & facts["closed_at"].notna()
        & facts["ward"].notna()
    ].copy()
    if done.empty:
        return pd.DataFrame(columns=list(EQUITY_COLUMNS))
    done["days"] = (done["closed_at"] - done["created_at"]).dt.total_seconds() / 86_400
    has_due = done["due_at"].notna()
    done["on_time"] = np.where(has_due, (done["closed_at"] <= done["due_at"]).astype(float), np.nan)
    city = done.groupby("service_name").agg(
        city_median_days=("days", "median"),
        city_p90_days=("days", lambda s: s.quantile(0.9)),
        city_on_time_share=("on_time", "mean"),
    )
    rows = []
    for (service, ward), group in done.groupby(["service_name", "ward"], sort=True):
        days = group["days"].to_numpy(float)
        low, high = median_interval(days)
        timed = group["on_time"].dropna()
        rows.append(
            {
                "service_name": service,
                "ward": int(str(ward)),
                "completed": len(group),
                "median_days": float(np.median(days)),
                "median_low": low,
                "median_high": high,
                "p90_days": float(np.quantile(days, 0.9)),
                "on_time_n": len(timed),
                "on_time_hits": float(timed.sum()),
            }
        )
    out = pd.DataFrame(rows).join(city, on="service_name")
    share_low, share_high = wilson(out["on_time_hits"].to_numpy(), out["on_time_n"].to_numpy())
    with np.errstate(invalid="ignore", divide="ignore"):
        out["on_time_share"] = out["on_time_hits"] / out["on_time_n"].replace(0, np.nan)
    out["on_time_low"], out["on_time_high"] = share_low, share_high
    out["median_gap_days"] = out["median_days"] - out["city_median_days"]
    out["on_time_gap"] = out["on_time_share"] - out["city_on_time_share"]
    out["small_sample"] = out["completed"] < params.min_completed
    out["verdict"] = [_verdict(r) for r in out.itertuples()]
    return out[list(EQUITY_COLUMNS)].reset_index(drop=True)


def _verdict(r: Any) -> str:
    if r.small_sample:
        return "too few to rank"
    said = []
    if r.median_low > r.city_median_days:
        said.append("slower")
    elif r.median_high < r.city_median_days:
        said.append("faster")
    if r.on_time_high < r.city_on_time_share:
        said.append("less often on time")
    elif r.on_time_low > r.city_on_time_share:
        said.append("more often on time")
    return ", ".join(said) or "in line"


def ward_gaps(table: pd.DataFrame) -> pd.DataFrame:
    """Per ward, over the types it can be ranked on: weighted gaps, slower/faster counts.

    The median-days and on-time gaps are weighted by completions; they shade the map.
    """
    ranked = table[~table["small_sample"]]
    if ranked.empty:
        return pd.DataFrame(
            columns=[
                "ward",
                "types",
                "completed",
                "median_gap_days",
                "on_time_gap",
                "slower",
                "faster",
            ]
        )
    weights = ranked["completed"]
    grouped = ranked.assign(
        w_gap=ranked["median_gap_days"] * weights,
        w_share=ranked["on_time_gap"].fillna(0) * weights,
        w_share_n=np.where(ranked["on_time_gap"].notna(), weights, 0),
        slower=ranked["verdict"].str.contains("slower").astype(int),
        faster=ranked["verdict"].str.contains("faster").astype(int),
    ).groupby("ward")
    out = pd.DataFrame(
        {
            "types": grouped.size(),
            "completed": grouped["completed"].sum(),
            "median_gap_days": grouped["w_gap"].sum() / grouped["completed"].sum(),
            "on_time_gap": grouped["w_share"].sum() / grouped["w_share_n"].sum().replace(0, np.nan),
            "slower": grouped["slower"].sum(),
            "faster": grouped["faster"].sum(),
        }
    ).reset_index()
    return out.sort_values("ward").reset_index(drop=True)
