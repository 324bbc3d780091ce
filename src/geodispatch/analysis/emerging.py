"""Emerging hotspots: which places are new, intensifying, persistent or diminishing.

A manager's question is not only "where is it bad" but "where did it get bad lately". The
recent window (default the last 90 days) is scanned against the long-run surface of the
same request type scaled to the window, so a place that suddenly collects reports stands
out even if it was quiet for two years. Every candidate place (each long-run hotspot and
each place found only in the recent window) is then tested on its *share* of recent
reports against the city-wide recent share of its type, with the binomial distribution:

- **new**: recent share significantly high, and before the window the place had no
  significant excess of its own;
- **intensifying**: recent share significantly high, and it was already a hotspot before;
- **diminishing**: a long-run hotspot whose recent share is significantly low;
- **persistent**: a long-run hotspot whose recent share is what the city-wide trend of its
  type predicts.

Comparing with the type's own city-wide share means a city-wide surge (snow, a storm, a
new reporting app) does not turn every hotspot "emerging". Up and down tests are each
controlled with Benjamini–Hochberg over all places of a run.

Where the places come from (:mod:`geodispatch.analysis.hotspots`): a new corner can touch
or sit inside an old hotspot of the same type, where the recent window sees one cluster
whose share, as a whole, is the old hotspot's. So the share is also tested window by
window (:func:`~geodispatch.analysis.grid_scan.share_scan`, the same binomial question
asked of every 75 m and 225 m window, FDR over all of them), clusters are cut between
separate cores, and the cells where the recent share jumps form a place of their own.
A recent cluster away from every old hotspot must be significant at a few window
centres, not one (:attr:`EmergingParams.min_new_cells`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy.stats import binom, poisson

from geodispatch.analysis.grid_scan import bh_reject
from geodispatch.domain.errors import InputError

__all__ = ["EmergingParams", "PlaceTrends", "Trend", "classify_places"]


class Trend(StrEnum):
    """How a hotspot's recent reports compare with its history."""

    NEW = "new"
    INTENSIFYING = "intensifying"
    PERSISTENT = "persistent"
    DIMINISHING = "diminishing"

    @property
    def is_emerging(self) -> bool:
        """True for the labels a manager should look at first (new or intensifying)."""
        return self in (Trend.NEW, Trend.INTENSIFYING)


@dataclass(frozen=True, slots=True)
class EmergingParams:
    """How the recent window is chosen and tested.

    Attributes
    ----------
    window_days
        Length of the recent window ending at ``as_of`` (default 90 days, a season).
    fdr_q
        False discovery rate for the recent scan and for the share tests (default 0.05).
    min_recent_reports
        A place found only in the recent window needs at least this many recent reports in
        one scan window (default 5, as the long-run scan).
    min_ratio
        ...and at least this many times what the long-run surface predicts for the window
        (default 2, the same effect-size floor as the long-run scan: an odds ratio under
        the case-control test).
    min_rate_ratio
        Effect-size floor of the trend: a place is new or intensifying only when its
        recent rate is at least this many times its earlier rate, relative to the type's
        city-wide change (default 2: it doubled); diminishing when at most the inverse. A
        statistically certain 20 % drift of a busy hotspot is not news to a manager.
    prior_alpha
        Before the window, a place "was already a hotspot" when its count then is above
        expectation at this level (one-sided Poisson, default 0.05) and meets the same
        effect-size floor; that separates *intensifying* from *new*.
    min_new_cells
        A recent-window cluster that touches no long-run hotspot must be significant at
        this many window centres (default 3). The recent scan controls false discoveries
        over cells, and a true place spans dozens of them, so a lone chance cell rides
        along with every few true ones; alone it would be a "new hotspot" of its own.
    core_gap_m
        Cores of one recent cluster (cells whose smallest window is significant) farther
        apart than this are separate corners, and the cluster is cut between them
        (default 50 m). Large windows bridge two new corners 150-200 m apart, or a new
        corner and an old hotspot next to it, into one cluster centred at neither.
    """

    window_days: float = 90.0
    fdr_q: float = 0.05
    min_recent_reports: int = 5
    min_ratio: float = 2.0
    min_rate_ratio: float = 2.0
    prior_alpha: float = 0.05
    min_new_cells: int = 3
    core_gap_m: float = 50.0

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.window_days <= 3660:
            problems.append(f"window_days must be in [1, 3660]. Got {self.window_days} instead.")
        if not 0 < self.fdr_q <= 0.5:
            problems.append(f"fdr_q must be in (0, 0.5]. Got {self.fdr_q} instead.")
        if self.min_recent_reports < 1:
            problems.append(
                f"min_recent_reports must be at least 1. Got {self.min_recent_reports} instead."
            )
        if self.min_ratio < 1:
            problems.append(f"min_ratio must be at least 1. Got {self.min_ratio} instead.")
        if self.min_rate_ratio < 1:
            problems.append(
                f"min_rate_ratio must be at least 1. Got {self.min_rate_ratio} instead."
            )
        if not 0 < self.prior_alpha <= 0.5:
            problems.append(f"prior_alpha must be in (0, 0.5]. Got {self.prior_alpha} instead.")
        if self.min_new_cells < 1:
            problems.append(f"min_new_cells must be at least 1. Got {self.min_new_cells} instead.")
        if not 0 <= self.core_gap_m <= 1000:
            problems.append(
                f"core_gap_m must be in [0, 1000] metres. Got {self.core_gap_m} instead."
            )
        if problems:
            raise InputError("EmergingParams: " + " ".join(problems))

    def core_reach(self, cell_m: float) -> int:
        """How many cells each core grows by before cores are grouped (half the gap)."""
        return round(self.core_gap_m / (2 * cell_m))


@dataclass(frozen=True, slots=True)
class PlaceTrends:
    """Per place: trend label, the share test's p and q (the side that decided), priors.

    ``rate_ratio`` is the place's recent rate over its earlier rate, divided by the same
    ratio city-wide for its type (inf when it had no earlier reports).
    """

    trend: np.ndarray  # object array of Trend values ("" for a place to drop)
    p: np.ndarray
    q: np.ndarray
    rate_ratio: np.ndarray
    was_hotspot_before: np.ndarray


def classify_places(
    *,
    n_total: np.ndarray,
    n_recent: np.ndarray,
    expected_total: np.ndarray,
    share: np.ndarray,
    long_run: np.ndarray,
    params: EmergingParams,
    min_reports: int,
) -> PlaceTrends:
    """Label each place new / intensifying / persistent / diminishing.

    Parameters
    ----------
    n_total, n_recent
        Reports of the place's type inside its footprint over the whole period and in the
        recent window.
    expected_total
        What the long-run surface predicts for the footprint over the whole period.
    share
        The type's city-wide share of reports that fall in the recent window.
    long_run
        True for places that are long-run hotspots; False for places found only in the
        recent window. A recent-only place that is not new or intensifying gets "" (drop).
    params
        Test settings.
    min_reports
        Effect floor on the count before the window for "was already a hotspot".

    Notes
    -----
    Both share tests condition on the place's total, so they compare the *timing* of its
    reports with the city-wide timing of the type and are insensitive to how busy the
    place is. All places of one run form one family for each direction.
    """
    n_total = np.asarray(n_total, dtype=np.int64)
    n_recent = np.asarray(n_recent, dtype=np.int64)
    share = np.clip(np.asarray(share, dtype=np.float64), 0.0, 1.0)
    n = n_total.size
    if n == 0:
        empty = np.zeros(0)
        return PlaceTrends(np.zeros(0, dtype=object), empty, empty, empty, np.zeros(0, dtype=bool))
    testable = (share > 0) & (share < 1) & (n_total > 0)
    p_up = np.ones(n)
    p_down = np.ones(n)
    p_up[testable] = binom.sf(n_recent[testable] - 1, n_total[testable], share[testable])
    p_down[testable] = binom.cdf(n_recent[testable], n_total[testable], share[testable])
    up, q_up = bh_reject(p_up, q=params.fdr_q)
    down, q_down = bh_reject(p_down, q=params.fdr_q)
    n_before = n_total - n_recent
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.where(share < 1, share / (1 - share), np.inf)
        rate_ratio = np.where(n_before > 0, (n_recent / np.maximum(n_before, 1)) / odds, np.inf)
    up &= testable & (rate_ratio >= params.min_rate_ratio)
    down &= testable & ~up & (rate_ratio <= 1 / params.min_rate_ratio)

    expected_before = np.asarray(expected_total, dtype=np.float64) * (1.0 - share)
    p_before = poisson.sf(n_before - 1, expected_before)
    was_hotspot = (
        (n_before >= min_reports)
        & (n_before >= params.min_ratio * expected_before)
        & (p_before < params.prior_alpha)
    )

    trend = np.full(n, "", dtype=object)
    long_run = np.asarray(long_run, dtype=bool)
    trend[long_run] = Trend.PERSISTENT.value
    trend[long_run & down] = Trend.DIMINISHING.value
    trend[up & was_hotspot] = Trend.INTENSIFYING.value
    trend[up & ~was_hotspot] = Trend.NEW.value
    p = np.where(down, p_down, p_up)
    q = np.where(down, q_down, q_up)
    return PlaceTrends(trend, p, q, rate_ratio, was_hotspot)
