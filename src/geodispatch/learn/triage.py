"""Triage: which service type a report belongs to, as top-k suggestions a person confirms.

A linear model (logistic loss, SGD) over TF-IDF of the description's words and characters
plus one-hot ward, neighbourhood and channel. The baseline it must beat is the most frequent
type of the report's ward.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from geodispatch.domain.errors import InputError

#: Columns the triage pipeline reads.
TRIAGE_FEATURES: Final = ("description", "ward", "neighborhood", "source")
#: Types with fewer training rows than this are left out (too few to learn; no suggestion).
MIN_ROWS_PER_TYPE: Final = 5


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One suggested service type with the model's probability for it."""

    service_type: str
    probability: float


def build_pipeline(seed: int) -> Pipeline:
    """The untrained triage pipeline (deterministic for a given seed)."""
    features = ColumnTransformer(
        [
            (
                "words",
                TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=1500, sublinear_tf=True),
                "description",
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(3, 4),
                    min_df=3,
                    max_features=1500,
                    sublinear_tf=True,
                ),
                "description",
            ),
            (
                "place",
                OneHotEncoder(handle_unknown="ignore", min_frequency=5),
                ["ward", "neighborhood", "source"],
            ),
        ]
    )
    model = SGDClassifier(loss="log_loss", alpha=2e-6, max_iter=15, tol=None, random_state=seed)
    return Pipeline([("features", features), ("model", model)])


def _inputs(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[:, list(TRIAGE_FEATURES)].fillna("").astype(str)


def fit(train: pd.DataFrame, seed: int) -> Pipeline:
    """Train on ``train`` (a training frame); types with too few rows are dropped."""
    counts = train["service_type"].value_counts()
    keep = train["service_type"].isin(counts.index[counts >= MIN_ROWS_PER_TYPE])
    rows = train.loc[keep]
    if rows["service_type"].nunique() < 2:
        raise InputError(
            f"triage: need at least two service types with {MIN_ROWS_PER_TYPE}+ training rows; "
            f"got {rows['service_type'].nunique()}. Train on a longer export."
        )
    pipeline = build_pipeline(seed)
    pipeline.fit(_inputs(rows), rows["service_type"].to_numpy())
    return pipeline


def top_k(pipeline: Pipeline, frame: pd.DataFrame, k: int = 3) -> list[list[Suggestion]]:
    """The ``k`` most likely types per row, most likely first."""
    probabilities = pipeline.predict_proba(_inputs(frame))
    classes = pipeline.classes_
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return [
        [Suggestion(str(classes[j]), float(probabilities[i, j])) for j in row]
        for i, row in enumerate(order)
    ]


def ward_baseline(train: pd.DataFrame, test: pd.DataFrame, k: int = 3) -> list[list[str]]:
    """The baseline: the ``k`` most frequent types of each test row's ward in ``train``."""
    overall = train["service_type"].value_counts().index[:k].tolist()
    by_ward = {
        ward: rows["service_type"].value_counts().index[:k].tolist()
        for ward, rows in train.groupby("ward")
    }
    return [by_ward.get(w, overall) for w in test["ward"]]


@dataclass(frozen=True, slots=True)
class HitRates:
    """Top-1 and top-3 hits of suggestions against the true types."""

    top1: int
    top3: int
    n: int


def hit_rates(truth: pd.Series, suggested: list[list[str]]) -> HitRates:
    """Count rows whose true type is the first suggestion / among the first three."""
    top1 = sum(t == s[0] for t, s in zip(truth, suggested, strict=True) if s)
    top3 = sum(t in s[:3] for t, s in zip(truth, suggested, strict=True))
    return HitRates(top1=top1, top3=top3, n=len(suggested))
