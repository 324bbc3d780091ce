"""Train, evaluate, show and use the learned models (triage, time to close, duplicates).

Training reads a city export, holds out its last months (a time split, never random),
writes each model to the models folder with a manifest and a model card. Using a model
goes through :func:`load_model`, which logs and returns None when the folder is empty or a
file is refused, so every caller falls back to the rule or to no suggestion.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import sklearn

from geodispatch.config import Settings, get_settings
from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import OPEN_STATUSES
from geodispatch.io import model_store
from geodispatch.io.model_data import file_sha256, read_training_frame
from geodispatch.learn import close_time, duplicates, triage
from geodispatch.learn.card import render_card
from geodispatch.learn.evaluation import (
    DuplicateResult,
    Evaluation,
    choose_threshold,
    evaluate_close_time,
    evaluate_triage,
    model_jobs,
    rule_jobs,
    score_grouping,
)
from geodispatch.learn.frame import FRAME_COLUMNS, TimeSplit
from geodispatch.services.workflow import database_url
from geodispatch.storage import sla_repo
from geodispatch.storage.db import session_scope

log = logging.getLogger(__name__)

#: Bumped whenever a model's inputs or stored layout change; older files are refused.
SCHEMA_VERSION: Final = 1


class ModelName(StrEnum):
    """The models geodispatch trains."""

    TRIAGE = "triage"
    CLOSE_TIME = "close_time"
    DUPLICATES = "duplicates"


FEATURES: Final[dict[ModelName, list[str]]] = {
    ModelName.TRIAGE: list(triage.TRIAGE_FEATURES),
    ModelName.CLOSE_TIME: list(close_time.CLOSE_FEATURES),
    ModelName.DUPLICATES: list(duplicates.PAIR_FEATURES),
}

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Fitted:
    """Models fitted on the training months of a split, ready to score its test months."""

    split: TimeSplit
    frame: pd.DataFrame
    triage: Any
    close_time: close_time.CloseTimeModel
    duplicates: Any
    threshold: float


def fit_on_split(
    data: Path,
    *,
    seed: int = 0,
    test_months: int = 2,
    models: tuple[ModelName, ...] = tuple(ModelName),
    progress: Progress | None = None,
) -> Fitted:
    """Fit the chosen models on the export's months before its last ``test_months``."""
    say = progress or (lambda _: None)
    frame = read_training_frame(data)
    split = TimeSplit.last_months(frame, test_months)
    train = split.train(frame).reset_index(drop=True)
    fitted_triage = fitted_close = fitted_dup = None
    threshold = 0.0
    if ModelName.TRIAGE in models:
        say("triage")
        fitted_triage = triage.fit(train, seed)
    if ModelName.CLOSE_TIME in models:
        say("time to close")
        fitted_close = close_time.fit(train, split.cutoff, seed)
    if ModelName.DUPLICATES in models:
        say("duplicate pairs")
        pairs = duplicates.candidate_pairs(train)
        fitted_dup = duplicates.fit(pairs, duplicates.pair_labels(train, pairs), seed)
        say("duplicate threshold")
        threshold = choose_threshold(train, fitted_dup)
    return Fitted(split, frame, fitted_triage, fitted_close, fitted_dup, threshold)  # type: ignore[arg-type]


def evaluate(fitted: Fitted, data: Path, progress: Progress | None = None) -> Evaluation:
    """Score each fitted model on the held-out months, beside its baseline."""
    say = progress or (lambda _: None)
    frame, split = fitted.frame, fitted.split
    train = split.train(frame).reset_index(drop=True)
    test = split.test(frame).reset_index(drop=True)
    triage_result = close_result = dup_result = None
    if fitted.triage is not None:
        say("evaluate triage")
        triage_result = evaluate_triage(fitted.triage, train, test)
    if fitted.close_time is not None:
        say("evaluate time to close")
        close_result = evaluate_close_time(fitted.close_time, frame, split)
    if fitted.duplicates is not None:
        say("evaluate duplicates")
        dup_result = DuplicateResult(
            threshold=fitted.threshold,
            model=score_grouping(test, model_jobs(test, fitted.duplicates, fitted.threshold)),
            rule=score_grouping(test, rule_jobs(test)),
            train_model=score_grouping(
                train, model_jobs(train, fitted.duplicates, fitted.threshold)
            ),
            train_rule=score_grouping(train, rule_jobs(train)),
        )
    return Evaluation(split, data.name, triage_result, close_result, dup_result)


def train(
    data: Path,
    out: Path,
    *,
    seed: int = 0,
    test_months: int = 2,
    models: tuple[ModelName, ...] = tuple(ModelName),
    progress: Progress | None = None,
) -> Evaluation:
    """Evaluate on a time split, then refit on all months and write artefacts and cards.

    The shipped model uses every month (more data, the latest behaviour); its card reports
    the held-out figures of the same recipe fitted on the earlier months only.
    """
    say = progress or (lambda _: None)
    held_out = fit_on_split(data, seed=seed, test_months=test_months, models=models, progress=say)
    result = evaluate(held_out, data, progress=say)
    frame = held_out.frame
    end = held_out.split.end
    data_hash = file_sha256(data)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def manifest(name: ModelName, extra: dict[str, Any]) -> model_store.Manifest:
        return model_store.Manifest(
            name=str(name),
            schema_version=SCHEMA_VERSION,
            features=FEATURES[name],
            seed=seed,
            data_file=data.name,
            data_sha256=data_hash,
            trained_at=stamp,
            sklearn_version=sklearn.__version__,
            extra=extra,
        )

    if ModelName.TRIAGE in models:
        say("refit triage on all months")
        model_store.save(out, manifest(ModelName.TRIAGE, {}), triage.fit(frame, seed))
    if ModelName.CLOSE_TIME in models:
        say("refit time to close on all months")
        fitted = close_time.fit(frame, end, seed)
        stored = {"breach": fitted.breach} | {f"q{q}": p for q, p in fitted.quantiles.items()}
        model_store.save(out, manifest(ModelName.CLOSE_TIME, {}), stored)
    if ModelName.DUPLICATES in models:
        say("refit duplicate scoring on all months")
        pairs = duplicates.candidate_pairs(frame)
        fitted_dup = duplicates.fit(pairs, duplicates.pair_labels(frame, pairs), seed)
        extra = {"threshold": held_out.threshold}
        model_store.save(out, manifest(ModelName.DUPLICATES, extra), fitted_dup)
    for name in models:
        card = render_card(str(name), result, seed=seed, data_sha256=data_hash)
        (out / f"{name}.md").write_text(card, encoding="utf-8")
    return result


def load_model(name: ModelName, folder: Path | None = None) -> tuple[Any, dict[str, Any]] | None:
    """The stored model ``name`` and its manifest's extras, or None (logged).

    None when the folder has no such model or the file is refused; callers then use the
    rule or give no suggestion.
    """
    folder = folder if folder is not None else get_settings().models_dir
    try:
        obj, manifest = model_store.load(folder, str(name), SCHEMA_VERSION, FEATURES[name])
    except model_store.ModelRefusedError as exc:
        log.warning("model %s not used: %s", name, exc)
        return None
    return obj, dict(manifest.extra)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model as ``geodispatch models show`` lists it."""

    name: str
    present: bool
    manifest: model_store.Manifest | None
    problem: str


def show(folder: Path | None = None) -> list[ModelInfo]:
    """What is in the models folder, and whether each model would load."""
    folder = folder if folder is not None else get_settings().models_dir
    out = []
    for name in ModelName:
        try:
            manifest = model_store.read_manifest(folder, str(name))
            if manifest is not None:
                model_store.load(folder, str(name), SCHEMA_VERSION, FEATURES[name])
            out.append(ModelInfo(str(name), manifest is not None, manifest, ""))
        except model_store.ModelRefusedError as exc:
            out.append(ModelInfo(str(name), present=True, manifest=None, problem=str(exc)))
    return out


def suggest_types(
    requests: pd.DataFrame, k: int = 3, folder: Path | None = None
) -> list[list[triage.Suggestion]]:
    """Top-``k`` service types per request, or empty lists without a triage model.

    ``requests`` has ``description``, ``ward``, ``neighborhood`` and ``source``.
    Suggestions only: a person confirms the type.
    """
    loaded = load_model(ModelName.TRIAGE, folder)
    if loaded is None or requests.empty:
        return [[] for _ in range(len(requests))]
    return triage.top_k(loaded[0], requests, k)


def close_time_model(folder: Path | None = None) -> close_time.CloseTimeModel | None:
    """The stored time-to-close model, or None."""
    loaded = load_model(ModelName.CLOSE_TIME, folder)
    if loaded is None:
        return None
    stored = loaded[0]
    quantiles = {q: stored[f"q{q}"] for q in close_time.QUANTILES}
    return close_time.CloseTimeModel(quantiles=quantiles, breach=stored["breach"])


def predict_close(
    requests: pd.DataFrame, history: pd.DataFrame, folder: Path | None = None
) -> close_time.ClosePrediction | None:
    """Close-time predictions for training-frame rows, or None without a model.

    ``history`` holds recent requests, for the open-backlog inputs.
    """
    model = close_time_model(folder)
    if model is None or requests.empty:
        return None
    return close_time.predict(model, close_time.features(requests, history=history))


def breach_weights(probabilities: np.ndarray, *, strength: float = 1.0) -> np.ndarray:
    """Planner soft weights from breach probabilities: ``1 + strength * p``.

    The planner multiplies a work order's drop penalty by this, so a job likely to breach
    is the last one left out of a full day; 1.0 for all when there is no model.
    """
    if strength < 0:
        raise InputError(f"breach weight strength must be >= 0; got {strength}")
    clipped = np.clip(np.nan_to_num(probabilities, nan=0.0), 0.0, 1.0)
    return np.asarray(1.0 + strength * clipped, dtype=float)


def likely_to_breach(
    open_requests: pd.DataFrame,
    history: pd.DataFrame,
    now: pd.Timestamp,
    *,
    min_probability: float = 0.5,
    folder: Path | None = None,
) -> pd.DataFrame:
    """Open requests due by the end of tomorrow and likely to breach, riskiest first.

    Those with breach probability at or above ``min_probability``; empty without a model.
    """
    columns = ["case_id", "service_type", "ward", "due_at", "breach_probability", "p90_close_at"]
    end_of_tomorrow = now.normalize() + pd.Timedelta(days=2)
    due_soon = open_requests.loc[
        open_requests["due_at"].notna()
        & (open_requests["due_at"] >= now)
        & (open_requests["due_at"] < end_of_tomorrow)
    ]
    prediction = predict_close(due_soon, history, folder)
    if prediction is None:
        return pd.DataFrame(columns=columns)
    out = due_soon.assign(
        breach_probability=prediction.breach_probability,
        p90_close_at=due_soon["created_at"] + pd.to_timedelta(prediction.high_hours, unit="h"),
    )
    out = out.loc[out["breach_probability"] >= min_probability]
    return out.sort_values("breach_probability", ascending=False)[columns].reset_index(drop=True)


def _stored_as_frame(stored: pd.DataFrame, zone: str) -> pd.DataFrame:
    """Stored requests (``sla_repo.requests_frame``) as training-frame rows, local times.

    The store keeps no category or channel per request: those inputs are left blank, which
    the model reads as unknown.
    """

    def local(column: pd.Series) -> pd.Series:
        stamps = pd.to_datetime(column, utc=True)
        return stamps.dt.tz_convert(zone).dt.tz_localize(None)

    ward = stored["ward"].astype("Int64").astype("string").fillna("")
    frame = pd.DataFrame(
        {
            "case_id": stored["request_id"].astype(str),
            "created_at": local(stored["created_at"]),
            "due_at": local(stored["due_at"]),
            "closed_at": local(stored["closed_at"]),
            "service_type": stored["service_name"].fillna(""),
            "category": "",
            "department": stored["department"].fillna(""),
            "description": "",
            "ward": ward,
            "neighborhood": "",
            "source": "",
            "lat": np.nan,
            "lon": np.nan,
            "address": stored["address"].fillna(""),
            "closure_note": "",
        }
    )
    return frame.loc[:, list(FRAME_COLUMNS)]


def breach_watch(
    *,
    now: datetime,
    min_probability: float = 0.5,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Open requests due by the end of tomorrow that the model says will likely breach.

    For the Work & SLA page; empty (and logged) when there is no time-to-close model.
    """
    settings = settings or get_settings()
    if close_time_model(settings.models_dir) is None:
        return pd.DataFrame(columns=["request_id", "service_name", "ward", "due_at", "risk"])
    with session_scope(database_url(settings)) as session:
        stored = sla_repo.requests_frame(session, open_only=False)
    if stored.empty:
        return pd.DataFrame(columns=["request_id", "service_name", "ward", "due_at", "risk"])
    frame = _stored_as_frame(stored, settings.timezone)
    is_open = stored["status"].isin([s.value for s in OPEN_STATUSES]).to_numpy()
    local_now = pd.Timestamp(now).tz_convert(settings.timezone).tz_localize(None)
    watch = likely_to_breach(
        frame.loc[is_open],
        frame,
        local_now,
        min_probability=min_probability,
        folder=settings.models_dir,
    )
    by_id = stored.assign(case_id=stored["request_id"].astype(str)).set_index("case_id")
    return pd.DataFrame(
        {
            "request_id": watch["case_id"].astype(int).to_numpy(),
            "service_name": watch["service_type"].to_numpy(),
            "ward": watch["ward"].to_numpy(),
            "due_at": by_id.loc[watch["case_id"], "due_at"].to_numpy(),
            "risk": watch["breach_probability"].to_numpy(),
        }
    )


def expected_close_times(
    requests: pd.DataFrame, *, now: datetime, settings: Settings | None = None
) -> dict[int, datetime]:
    """Predicted close time of each open request, for Open311's ``expected_datetime``.

    ``requests`` has ``request_id``, ``service_name``, ``department``, ``ward``,
    ``address``, ``created_at``, ``due_at``, ``closed_at`` (UTC) and ``status``. Each
    open request gets the first of its predicted median and 90 % close times still ahead of
    ``now``; requests without one (or every request, without a model) are left out, and the
    caller shows the SLA due time instead. The open backlog input counts the open requests
    given, not the full history.
    """
    settings = settings or get_settings()
    is_open = requests["status"].isin([s.value for s in OPEN_STATUSES]).to_numpy()
    if not is_open.any():
        return {}
    frame = _stored_as_frame(requests, settings.timezone)
    prediction = predict_close(frame.loc[is_open], frame.loc[is_open], settings.models_dir)
    if prediction is None:
        return {}
    created = pd.to_datetime(requests.loc[is_open, "created_at"], utc=True)
    median = created + pd.to_timedelta(prediction.median_hours, unit="h")
    high = created + pd.to_timedelta(prediction.high_hours, unit="h")
    at = pd.Timestamp(now)
    chosen = median.where(median > at, high.where(high > at))
    ids = requests.loc[is_open, "request_id"].to_numpy()
    return {
        int(i): stamp.floor("s").to_pydatetime()
        for i, stamp in zip(ids, chosen, strict=True)
        if not pd.isna(stamp)
    }
