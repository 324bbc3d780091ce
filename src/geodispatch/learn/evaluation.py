"""Held-out figures of each model on a time split, beside their baselines.

Every function here trains on the months before the split and scores the months after;
the same results fill the model cards, ``geodispatch models evaluate`` and the bench.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from geodispatch.analysis.dedup import DedupParams, group_by_score, group_reports
from geodispatch.learn import close_time, duplicates, triage
from geodispatch.learn.frame import TimeSplit, local_xy
from geodispatch.learn.metrics import (
    Estimate,
    auc,
    brier,
    calibration_table,
    mean_of,
    proportion,
)


@dataclass(frozen=True, slots=True)
class TriageResult:
    """Top-1 / top-3 accuracy of the model and the ward baseline.

    On all test rows, and on rows whose description is not just the type's own name.
    """

    top1: Estimate
    top3: Estimate
    baseline_top1: Estimate
    baseline_top3: Estimate
    free_text_top1: Estimate
    free_text_top3: Estimate
    by_ward: dict[str, Estimate]


def evaluate_triage(pipeline: Pipeline, train: pd.DataFrame, test: pd.DataFrame) -> TriageResult:
    """Score a triage pipeline trained on ``train`` against the test rows."""
    suggested = [[s.service_type for s in row] for row in triage.top_k(pipeline, test)]
    truth = test["service_type"]
    model = triage.hit_rates(truth, suggested)
    base = triage.hit_rates(truth, triage.ward_baseline(train, test))
    free = (test["description"].str.lower() != truth.str.lower()).to_numpy()
    free_hits = triage.hit_rates(
        truth[free], [s for s, f in zip(suggested, free, strict=True) if f]
    )
    hit1 = np.array([t == s[0] for t, s in zip(truth, suggested, strict=True)])
    by_ward = {
        str(w): proportion(int(hit1[idx].sum()), len(idx))
        for w, idx in pd.Series(np.arange(len(test))).groupby(test["ward"].to_numpy())
    }
    return TriageResult(
        top1=proportion(model.top1, model.n),
        top3=proportion(model.top3, model.n),
        baseline_top1=proportion(base.top1, base.n),
        baseline_top3=proportion(base.top3, base.n),
        free_text_top1=proportion(free_hits.top1, free_hits.n),
        free_text_top3=proportion(free_hits.top3, free_hits.n),
        by_ward=by_ward,
    )


@dataclass(frozen=True, slots=True)
class CloseTimeResult:
    """Time-to-close figures on the held-out months.

    MAE and coverage on requests closed by the data's end; AUC, Brier and calibration on
    requests whose breach is known.
    """

    mae_hours: Estimate
    baseline_mae_hours: Estimate
    coverage80: Estimate
    never_closed: int
    breach_auc: Estimate
    breach_brier: Estimate
    baseline_brier: Estimate
    calibration: list[tuple[str, int, float, float]]
    censored_below_high: float
    breach_auc_by_ward: dict[str, Estimate]


def evaluate_close_time(
    model: close_time.CloseTimeModel,
    frame: pd.DataFrame,
    split: TimeSplit,
) -> CloseTimeResult:
    """Score a close-time model trained with labels read at ``split.cutoff``."""
    train, test = split.train(frame), split.test(frame)
    x = close_time.features(test, history=frame)
    prediction = close_time.predict(model, x)
    hours, observed = close_time.hours_to_close(test, split.end)
    baseline = close_time.type_median_baseline(train, test, split.cutoff)
    inside = (hours >= prediction.low_hours) & (hours <= prediction.high_hours)
    breached, known = close_time.breach_labels(test, split.end)
    has_due = x["sla_hours"].notna().to_numpy()
    known = known & has_due
    train_breached, train_known = close_time.breach_labels(train, split.cutoff)
    rate = float(train_breached[train_known].mean())
    wards = test["ward"].to_numpy()
    by_ward = {
        str(w): auc(
            breached[known & (wards == w)], prediction.breach_probability[known & (wards == w)]
        )
        for w in sorted(set(wards[known]))
    }
    train_x = close_time.features(train)
    train_pred = close_time.predict(model, train_x)
    train_hours, train_observed = close_time.hours_to_close(train, split.cutoff)
    return CloseTimeResult(
        mae_hours=mean_of(np.abs(prediction.median_hours - hours)[observed]),
        baseline_mae_hours=mean_of(np.abs(baseline - hours)[observed]),
        coverage80=proportion(int(inside[observed].sum()), int(observed.sum())),
        never_closed=int((~observed).sum()),
        breach_auc=auc(breached[known], prediction.breach_probability[known]),
        breach_brier=brier(breached[known], prediction.breach_probability[known]),
        baseline_brier=brier(breached[known], np.full(int(known.sum()), rate)),
        calibration=calibration_table(breached[known], prediction.breach_probability[known]),
        censored_below_high=close_time.censoring_check(train_pred, train_hours, train_observed),
        breach_auc_by_ward=by_ward,
    )


@dataclass(frozen=True, slots=True)
class GroupingScore:
    """How one grouping of a period's reports agrees with the city's notes.

    ``recall``: city-named pairs put in one job. ``confirmed``: merges (reports joined to an
    earlier report's job) that the city's notes call duplicates (the report is closed as a
    duplicate, or named as one, of a job member).
    """

    recall: Estimate
    confirmed: Estimate
    merges: int


def score_grouping(part: pd.DataFrame, job: np.ndarray) -> GroupingScore:
    """Score ``job`` (per row of ``part``, the position of its job's first report)."""
    ids = part["case_id"].to_numpy()
    position = {c: i for i, c in enumerate(ids)}
    named = duplicates.city_pairs(part)
    together = [
        job[position[a]] == job[position[b]]
        for a, b in zip(named["case_a"], named["case_b"], strict=True)
    ]
    pairs = set(zip(named["case_a"], named["case_b"], strict=True))
    pairs |= {(b, a) for a, b in pairs}
    said_duplicate = part["closure_note"].fillna("").map(duplicates.is_duplicate_note).to_numpy()
    merges = confirmed = 0
    for _, members in pd.Series(np.arange(len(part))).groupby(job):
        rows = members.to_numpy()
        for b in rows[1:]:
            merges += 1
            confirmed += bool(said_duplicate[b]) or any(
                (ids[b], ids[o]) in pairs for o in rows if o != b
            )
    return GroupingScore(
        recall=proportion(int(sum(together)), len(together)),
        confirmed=proportion(confirmed, merges),
        merges=merges,
    )


def rule_jobs(part: pd.DataFrame, params: DedupParams | None = None) -> np.ndarray:
    """The 30 m / 14 day same-type rule's jobs for ``part`` (positions of first reports)."""
    x, y = local_xy(part["lat"].to_numpy(), part["lon"].to_numpy())
    reports = pd.DataFrame(
        {
            "request_id": np.arange(len(part)) + 1,
            "service_code": part["service_type"].to_numpy(),
            "x": x,
            "y": y,
            "created_at": part["created_at"].to_numpy(),
            "address": part["address"].fillna("").to_numpy(),
        }
    )
    jobs = pd.DataFrame(columns=["job_id", "service_code", "x", "y", "last_report_at", "address"])
    groups = group_reports(reports, jobs, params)["group"].to_numpy()
    first: dict[int, int] = {}
    out = np.arange(len(part))
    for i, label in enumerate(groups):
        out[i] = first.setdefault(int(label), i)
    return out


def model_jobs(part: pd.DataFrame, pipeline: Pipeline, threshold: float) -> np.ndarray:
    """Jobs for ``part`` by duplicate score at ``threshold``."""
    pairs = duplicates.candidate_pairs(part)
    scores = duplicates.score(pipeline, pairs)
    return group_by_score(
        len(part), pairs["a"].to_numpy(int), pairs["b"].to_numpy(int), scores, threshold
    )


#: Thresholds tried when choosing one on the training months.
THRESHOLDS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


def choose_threshold(part: pd.DataFrame, pipeline: Pipeline) -> float:
    """The threshold with the best harmonic mean of recall and confirmed share on ``part``.

    ``part`` is the training months: the held-out months never choose it.
    """
    pairs = duplicates.candidate_pairs(part)
    scores = duplicates.score(pipeline, pairs)
    best, best_value = THRESHOLDS[0], -1.0
    for threshold in THRESHOLDS:
        job = group_by_score(
            len(part), pairs["a"].to_numpy(int), pairs["b"].to_numpy(int), scores, threshold
        )
        result = score_grouping(part, job)
        r, c = result.recall.value, result.confirmed.value
        value = 2 * r * c / (r + c) if r + c > 0 else 0.0
        if value > best_value:
            best, best_value = threshold, value
    return best


@dataclass(frozen=True, slots=True)
class DuplicateResult:
    """Held-out grouping by the model and by the 30 m / 14 day rule on the same months."""

    threshold: float
    model: GroupingScore
    rule: GroupingScore
    train_model: GroupingScore
    train_rule: GroupingScore


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Every held-out figure, with the split they come from."""

    split: TimeSplit
    data_file: str
    triage: TriageResult | None
    close_time: CloseTimeResult | None
    duplicates: DuplicateResult | None
