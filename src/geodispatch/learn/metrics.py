"""Scores with confidence intervals: proportions (Wilson), means (bootstrap), AUC, Brier."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score


@dataclass(frozen=True, slots=True)
class Estimate:
    """A figure with its 95 % confidence interval and the sample it came from."""

    value: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}] (n={self.n:,})"


def proportion(hits: int, n: int) -> Estimate:
    """Share ``hits / n`` with its Wilson 95 % interval (sound for small samples)."""
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    z = 1.959964
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n)


def mean_of(values: np.ndarray, *, seed: int = 0, rounds: int = 400) -> Estimate:
    """Mean with a percentile-bootstrap 95 % interval."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, n, size=(rounds, n))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Estimate(float(values.mean()), float(low), float(high), n)


def auc(labels: np.ndarray, scores: np.ndarray, *, seed: int = 0, rounds: int = 200) -> Estimate:
    """ROC AUC with a bootstrap 95 % interval."""
    labels = np.asarray(labels, dtype=int)
    scores = np.asarray(scores, dtype=float)
    n = len(labels)
    if n == 0 or labels.min() == labels.max():
        return Estimate(math.nan, math.nan, math.nan, n)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        pick = rng.integers(0, n, size=n)
        if labels[pick].min() != labels[pick].max():
            values.append(roc_auc_score(labels[pick], scores[pick]))
    low, high = np.percentile(values, [2.5, 97.5])
    return Estimate(float(roc_auc_score(labels, scores)), float(low), float(high), n)


def brier(labels: np.ndarray, probabilities: np.ndarray, *, seed: int = 0) -> Estimate:
    """Brier score (mean squared error of probabilities) with a bootstrap interval."""
    err = (np.asarray(probabilities, dtype=float) - np.asarray(labels, dtype=float)) ** 2
    return mean_of(err, seed=seed)


def calibration_table(
    labels: np.ndarray, probabilities: np.ndarray, bins: int = 5
) -> list[tuple[str, int, float, float]]:
    """(bin, count, mean predicted, observed rate) per probability bin, for model cards."""
    labels = np.asarray(labels, dtype=float)
    probabilities = np.asarray(probabilities, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for low, high in itertools.pairwise(edges):
        inside = (probabilities >= low) & (
            (probabilities < high) if high < 1 else (probabilities <= high)
        )
        if inside.any():
            out.append(
                (
                    f"{low:.1f}-{high:.1f}",
                    int(inside.sum()),
                    float(probabilities[inside].mean()),
                    float(labels[inside].mean()),
                )
            )
    return out
