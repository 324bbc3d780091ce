"""Key figures as tidy frames: response times, backlog by age, monthly volumes.

Pure functions over a frame of request facts (no personal data needed): ``service_name``,
``ward``, ``department``, ``status``, ``created_at``, ``closed_at``, ``due_at`` (UTC).
Only requests closed as *completed* count toward response times: a duplicate closed in a
minute is not a fast repair, so outcomes that are not fixes are counted separately.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from geodispatch.domain.requests import OPEN_STATUSES, RequestStatus

#: Backlog age buckets (upper bounds in days) and their labels.
AGE_BUCKETS: Final = (7, 30, 90, 365)
AGE_LABELS: Final = ("≤ 7 days", "8–30 days", "31–90 days", "91–365 days", "> 1 year")

#: Status values that count as open (work still owed).
OPEN_VALUES: Final = frozenset(s.value for s in OPEN_STATUSES)
_OPEN = OPEN_VALUES
_NOT_FIXED = {
    RequestStatus.CLOSED_DUPLICATE.value,
    RequestStatus.CLOSED_NO_ACTION.value,
    RequestStatus.CLOSED_NOT_CITY.value,
}


def response_times(facts: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Per group: requests, completed, median and 90th-percentile days to complete, on time.

    ``on_time_share`` is the share of completed requests with a due time that were
    completed by it (NaN when none had one). ``closed_not_fixed`` counts duplicates,
    no-action and not-the-city closures, which are excluded from the time figures.
    """
    keys = list(by)
    frame = facts.copy()
    done = frame["status"] == RequestStatus.COMPLETED.value
    frame["days"] = np.where(
        done, (frame["closed_at"] - frame["created_at"]).dt.total_seconds() / 86_400, np.nan
    )
    has_due = done & frame["due_at"].notna()
    frame["on_time"] = np.where(
        has_due, (frame["closed_at"] <= frame["due_at"]).astype(float), np.nan
    )
    frame["completed"] = done.astype(int)
    frame["closed_not_fixed"] = frame["status"].isin(_NOT_FIXED).astype(int)
    grouped = frame.groupby(keys, dropna=False, sort=True)
    out = pd.DataFrame(
        {
            "requests": grouped.size(),
            "completed": grouped["completed"].sum(),
            "closed_not_fixed": grouped["closed_not_fixed"].sum(),
            "median_days": grouped["days"].median(),
            "p90_days": grouped["days"].quantile(0.9),
            "on_time_share": grouped["on_time"].mean(),
        }
    ).reset_index()
    return out.sort_values("requests", ascending=False, kind="stable").reset_index(drop=True)


def backlog_by_age(facts: pd.DataFrame, by: Sequence[str], *, now: pd.Timestamp) -> pd.DataFrame:
    """Open requests per group and age bucket (columns :data:`AGE_LABELS`), plus overdue."""
    keys = list(by)
    open_ = facts[facts["status"].isin(_OPEN)].copy()
    age_days = (now - open_["created_at"]).dt.total_seconds() / 86_400
    open_["age"] = pd.cut(age_days, bins=[-np.inf, *AGE_BUCKETS, np.inf], labels=AGE_LABELS)
    open_["overdue"] = (open_["due_at"].notna() & (open_["due_at"] < now)).astype(int)
    table = open_.pivot_table(
        index=keys,
        columns="age",
        values="status",
        aggfunc="count",
        observed=False,
        fill_value=0,
        dropna=False,
    )
    table = table.reindex(columns=list(AGE_LABELS), fill_value=0)
    table["open"] = table.sum(axis=1)
    table["overdue"] = open_.groupby(keys, dropna=False)["overdue"].sum()
    table["median_age_days"] = age_days.groupby([open_[k] for k in keys], dropna=False).median()
    table.columns.name = None
    out = table.reset_index()
    out = out[out["open"] > 0]
    return out.sort_values("open", ascending=False, kind="stable").reset_index(drop=True)


def monthly_volume(facts: pd.DataFrame, *, by: str | None = None, tz: str = "UTC") -> pd.DataFrame:
    """Requests opened and completed per calendar month (in ``tz``), optionally per ``by``."""
    frame = facts.copy()
    frame["month"] = frame["created_at"].dt.tz_convert(tz).dt.tz_localize(None).dt.to_period("M")
    keys = ["month", *([by] if by else [])]
    opened = frame.groupby(keys, dropna=False).size().rename("opened")
    completed = frame[frame["status"] == RequestStatus.COMPLETED.value].copy()
    completed["month"] = (
        completed["closed_at"].dt.tz_convert(tz).dt.tz_localize(None).dt.to_period("M")
    )
    closed = completed.groupby(keys, dropna=False).size().rename("completed")
    out = pd.concat([opened, closed], axis=1).fillna(0).astype(int).reset_index()
    out["month"] = out["month"].astype(str)
    return out.sort_values(keys).reset_index(drop=True)


def monthly_trends(facts: pd.DataFrame, *, tz: str = "UTC") -> pd.DataFrame:
    """Per calendar month (in ``tz``): opened, completed, on-time share and median days.

    ``opened`` counts requests by the month they were reported; the completion figures
    count requests completed as a fix in that month (by closing month), so the on-time
    share is what crews achieved that month.
    """
    volume = monthly_volume(facts, tz=tz)
    done = facts[facts["status"] == RequestStatus.COMPLETED.value].copy()
    columns = ["month", "opened", "completed", "on_time_share", "median_days"]
    if volume.empty:
        return pd.DataFrame(columns=columns)
    done["month"] = (
        done["closed_at"].dt.tz_convert(tz).dt.tz_localize(None).dt.to_period("M").astype(str)
    )
    done["days"] = (done["closed_at"] - done["created_at"]).dt.total_seconds() / 86_400
    has_due = done["due_at"].notna()
    done["on_time"] = np.where(has_due, (done["closed_at"] <= done["due_at"]).astype(float), np.nan)
    grouped = done.groupby("month")
    quality = pd.DataFrame(
        {"on_time_share": grouped["on_time"].mean(), "median_days": grouped["days"].median()}
    ).reset_index()
    out = volume.merge(quality, on="month", how="left")
    return out[columns].sort_values("month").reset_index(drop=True)
