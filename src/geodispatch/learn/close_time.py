"""Time to close and breach risk, from what is known when a request arrives.

Close times are censored: a request still open when the data ends has no close time, only
a lower bound (its age then). Quantile regression handles this without dropping those rows:
the pinball loss of quantile q depends on an observation only through whether it lies above
or below the predicted quantile, so a censored row whose age at the data's end already
exceeds the quantile counts exactly as its true (unknown) close time would. Open rows are
kept with their age as the target; :func:`censoring_check` reports how many of them sit
below the upper quantile, the only ones whose true value could change the fit.

Breach risk (closed after the due time) is a classifier on the same features; a row open
at the data's end counts as a breach if its due time had passed, and is left out if not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from geodispatch.domain.errors import InputError

CATEGORICAL: Final = ("service_type", "category", "ward", "source")
NUMERIC: Final = ("sla_hours", "hour", "weekday", "backlog_type", "backlog_category")
CLOSE_FEATURES: Final = CATEGORICAL + NUMERIC
#: Quantiles of the close time: the low and high ends of the 80 % interval and the median.
QUANTILES: Final = (0.1, 0.5, 0.9)


def features(frame: pd.DataFrame, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Model inputs for each row of ``frame``.

    ``backlog_type`` / ``backlog_category`` count the requests of the same type / category
    open when the row arrived, counted in ``history`` (default: ``frame`` itself), i.e.
    created before it and not yet closed then.
    """
    history = frame if history is None else history
    created = frame["created_at"]
    sla = (frame["due_at"] - created).dt.total_seconds() / 3600
    out = pd.DataFrame({c: frame[c].fillna("").astype(str) for c in CATEGORICAL}, index=frame.index)
    out["sla_hours"] = sla.to_numpy(dtype=float)
    out["hour"] = created.dt.hour.to_numpy(dtype=float)
    out["weekday"] = created.dt.day_of_week.to_numpy(dtype=float)
    for column, name in (("service_type", "backlog_type"), ("category", "backlog_category")):
        out[name] = _backlog(frame, history, column)
    return out


def _backlog(frame: pd.DataFrame, history: pd.DataFrame, column: str) -> np.ndarray:
    counts = np.zeros(len(frame))
    far = np.datetime64("2262-01-01")
    for key, rows in frame.groupby(column, sort=False):
        past = history.loc[history[column] == key]
        opened = np.sort(past["created_at"].to_numpy())
        closed = np.sort(past["closed_at"].to_numpy().astype("datetime64[ns]"))
        closed = np.where(np.isnat(closed), far, closed)
        closed.sort()
        at = rows["created_at"].to_numpy()
        n = np.searchsorted(opened, at, side="left") - np.searchsorted(closed, at, side="right")
        counts[frame.index.get_indexer(rows.index)] = np.maximum(n, 0)
    return counts


def hours_to_close(frame: pd.DataFrame, end: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """(hours from open to close or to ``end`` if still open then, observed-close flags).

    A close after ``end`` counts as not yet observed: training on the months before a cutoff
    must not see close times from after it.
    """
    closed_by_end = frame["closed_at"].where(frame["closed_at"] <= end)
    observed = closed_by_end.notna().to_numpy()
    stop = closed_by_end.fillna(end)
    hours = (stop - frame["created_at"]).dt.total_seconds().to_numpy() / 3600
    return np.maximum(hours, 0.0), observed


def breach_labels(frame: pd.DataFrame, end: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """(breached flags, known flags); known only for rows due by ``end``.

    Keeping rows due later but already closed would keep only the early closers of long-SLA
    types (all on time) and bias their risk down; selecting on the due time (an input, not
    the outcome) does not.
    """
    due = frame["due_at"]
    closed = frame["closed_at"].where(frame["closed_at"] <= end)
    breached = (closed > due).fillna(value=False).to_numpy(dtype=bool)
    open_late = (closed.isna() & (due < end)).to_numpy(dtype=bool)
    known = (due.notna() & (due <= end)).to_numpy(dtype=bool)
    return breached | open_late, known


def _encoder() -> ColumnTransformer:
    return ColumnTransformer(
        [
            (
                "cat",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=np.nan,
                    encoded_missing_value=np.nan,
                    min_frequency=20,
                    max_categories=250,
                ),
                list(CATEGORICAL),
            ),
            ("num", "passthrough", list(NUMERIC)),
        ]
    )


def _categorical_mask() -> list[bool]:
    return [True] * len(CATEGORICAL) + [False] * len(NUMERIC)


@dataclass(frozen=True, slots=True)
class CloseTimeModel:
    """Quantile regressors (log1p hours, one per :data:`QUANTILES`) and a breach classifier."""

    quantiles: dict[float, Pipeline]
    breach: Pipeline


#: Quantile regressors learn from rows followed up at least this long before the data's end.
MIN_FOLLOW_UP: Final = pd.Timedelta(days=28)


def fit(train: pd.DataFrame, end: pd.Timestamp, seed: int) -> CloseTimeModel:
    """Fit the quantile regressors and the breach classifier on ``train``.

    ``end`` is when the labels were read: closes after it are unknown. The quantile
    regressors use rows created at least :data:`MIN_FOLLOW_UP` before ``end`` (selected by
    arrival, not outcome), so their censored ages are long enough not to pull the
    quantiles down.
    """
    if len(train) < 50:
        raise InputError(f"time to close: {len(train)} training rows; need at least 50")
    x_all = features(train)
    mature = (train["created_at"] <= end - MIN_FOLLOW_UP).to_numpy()
    if mature.sum() < 50:
        raise InputError(
            f"time to close: {int(mature.sum())} rows were followed up for "
            f"{MIN_FOLLOW_UP.days}+ days; need at least 50. Train on a longer export."
        )
    x = x_all.loc[mature]
    hours, _ = hours_to_close(train.loc[mature], end)
    target = np.log1p(hours)
    quantiles = {}
    for q in QUANTILES:
        model = HistGradientBoostingRegressor(
            loss="quantile",
            quantile=q,
            categorical_features=_categorical_mask(),
            max_iter=120,
            max_leaf_nodes=15,
            learning_rate=0.1,
            random_state=seed,
        )
        quantiles[q] = Pipeline([("features", _encoder()), ("model", model)]).fit(x, target)
    breached, known = breach_labels(train, end)
    x = x_all
    has_due = x["sla_hours"].notna().to_numpy()
    classifier = HistGradientBoostingClassifier(
        categorical_features=_categorical_mask(),
        max_iter=150,
        max_leaf_nodes=15,
        random_state=seed,
    )
    breach = Pipeline([("features", _encoder()), ("model", classifier)])
    breach.fit(x.loc[known & has_due], breached[known & has_due])
    return CloseTimeModel(quantiles=quantiles, breach=breach)


@dataclass(frozen=True, slots=True)
class ClosePrediction:
    """Predicted hours to close (median and 80 % interval) and breach probability per row."""

    median_hours: np.ndarray
    low_hours: np.ndarray
    high_hours: np.ndarray
    breach_probability: np.ndarray


def predict(model: CloseTimeModel, x: pd.DataFrame) -> ClosePrediction:
    """Predictions for feature rows built by :func:`features`."""
    hours = {q: np.expm1(np.maximum(p.predict(x), 0.0)) for q, p in model.quantiles.items()}
    low = np.minimum(hours[0.1], hours[0.5])
    high = np.maximum(hours[0.9], hours[0.5])
    breach = model.breach.predict_proba(x)[:, 1]
    return ClosePrediction(hours[0.5], low, high, breach)


def type_median_baseline(train: pd.DataFrame, test: pd.DataFrame, end: pd.Timestamp) -> np.ndarray:
    """Baseline: each type's median hours to close among closed training rows."""
    hours, observed = hours_to_close(train, end)
    closed = pd.Series(hours[observed], index=train.index[observed])
    medians = closed.groupby(train.loc[observed, "service_type"]).median()
    fallback = float(np.median(hours[observed])) if observed.any() else 0.0
    return test["service_type"].map(medians).fillna(fallback).to_numpy(dtype=float)


def censoring_check(prediction: ClosePrediction, hours: np.ndarray, observed: np.ndarray) -> float:
    """Share of censored rows whose age at the data's end is below the predicted high end.

    Only those rows could move the upper quantile if their true close time were known; a
    small share means treating ages as targets barely biases the fit.
    """
    censored = ~observed
    if not censored.any():
        return 0.0
    return float((hours[censored] < prediction.high_hours[censored]).mean())
