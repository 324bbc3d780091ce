"""Duplicate scoring: the chance that a new report is the same problem as an earlier one.

Labels come from the city's own closure notes: a case closed as a duplicate often names the
original case ("Duplicate of Existing Case See CRM#364817"); :func:`named_originals` reads
those ids. Candidate pairs are reports of the same category (street lights, sanitation, ...)
within :data:`PAIR_RADIUS_M` and :data:`PAIR_WINDOW` of each other, so related types (an
outage and a knock-down of one light) and reports 30-100 m apart can pair up, which the
30 m same-type rule cannot. A gradient-boosted classifier scores each pair from distance,
time gap, same type / address, text similarity, whether the earlier case was still open
and how many callers reported the spot already.
"""

from __future__ import annotations

import re
from typing import Final

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from geodispatch.domain.errors import InputError
from geodispatch.learn.frame import local_xy

PAIR_RADIUS_M: Final = 250.0
PAIR_WINDOW: Final = pd.Timedelta(days=45)
PAIR_CATEGORICAL: Final = ("type_b", "category")
PAIR_NUMERIC: Final = (
    "distance_m",
    "gap_hours",
    "same_type",
    "same_address",
    "text_similarity",
    "a_open",
    "callers",
)
PAIR_FEATURES: Final = PAIR_CATEGORICAL + PAIR_NUMERIC

_DUPLICATE_NOTE = re.compile(
    r"duplicate|case exists already|already (?:been )?(?:reported|exists)|same as", re.IGNORECASE
)
#: A full case id (12 digits) or the short CRM number (6 digits) the notes often give.
_CASE_NUMBER = re.compile(r"(?<!\d)(\d{12}|\d{6})(?!\d)")


def is_duplicate_note(note: str) -> bool:
    """True when a closure note says the case duplicates another."""
    return bool(_DUPLICATE_NOTE.search(note))


def named_originals(note: str, prefix: str = "101000") -> list[str]:
    """Case ids a duplicate note names, in order; short 6-digit numbers get ``prefix``.

    Boston's case ids are ``101000`` followed by the 6-digit CRM number staff quote.
    """
    if not is_duplicate_note(note):
        return []
    return [m if len(m) == 12 else prefix + m for m in _CASE_NUMBER.findall(note)]


def city_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """(case_a, case_b) named pairs: ``case_b``'s note names ``case_a``, both in ``frame``."""
    known = set(frame["case_id"])
    rows = []
    for case, note in zip(frame["case_id"], frame["closure_note"], strict=True):
        for original in named_originals(str(note)):
            if original in known and original != case:
                rows.append((original, case))
                break
    return pd.DataFrame(rows, columns=["case_a", "case_b"]).drop_duplicates()


def _tokens(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9]+", text.lower()))


def _address_key(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^0-9a-z]+", " ", text.lower())).strip()


def candidate_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """Candidate pairs of one category, near in space and time, with their features.

    ``a`` (earlier) and ``b`` (later) are row positions.

    ``frame`` must be sorted by ``created_at``; pairs with unknown points match on the same
    address text.
    """
    x, y = local_xy(frame["lat"].to_numpy(), frame["lon"].to_numpy())
    created = frame["created_at"].to_numpy()
    keys = frame["address"].fillna("").map(_address_key).to_numpy()
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    for _, rows in frame.groupby("category", sort=False):
        where = frame.index.get_indexer(rows.index)
        located = np.isfinite(x[where]) & np.isfinite(y[where])
        if located.sum() >= 2:
            pos = where[located]
            found = cKDTree(np.c_[x[pos], y[pos]]).query_pairs(PAIR_RADIUS_M, output_type="ndarray")
            left.append(pos[found[:, 0]])
            right.append(pos[found[:, 1]])
        unlocated = pd.Series(where[~located]).groupby(keys[where[~located]])
        for key, members in unlocated:
            if key and len(members) > 1:
                m = members.to_numpy()
                i, j = np.triu_indices(len(m), k=1)
                left.append(m[i])
                right.append(m[j])
    if not left:
        return pd.DataFrame(columns=["a", "b", *PAIR_FEATURES])
    a = np.concatenate(left)
    b = np.concatenate(right)
    a, b = np.minimum(a, b), np.maximum(a, b)  # frame is in arrival order: a came first
    gap = (created[b] - created[a]) / np.timedelta64(1, "h")
    keep = gap <= PAIR_WINDOW / pd.Timedelta(hours=1)
    a, b, gap = a[keep], b[keep], gap[keep]
    return pair_features(frame, a, b, x, y)


def pair_features(
    frame: pd.DataFrame, a: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray
) -> pd.DataFrame:
    """Features of the pairs (``a`` earlier, ``b`` later) given as row positions."""
    created = frame["created_at"].to_numpy()
    closed = frame["closed_at"].to_numpy()
    types = frame["service_type"].to_numpy()
    keys = frame["address"].fillna("").map(_address_key).to_numpy()
    tokens = frame["description"].fillna("").map(_tokens).to_numpy()
    distance = np.hypot(x[a] - x[b], y[a] - y[b])
    similarity = np.array(
        [
            len(tokens[i] & tokens[j]) / max(1, len(tokens[i] | tokens[j]))
            for i, j in zip(a, b, strict=False)
        ]
    )
    out = pd.DataFrame(
        {
            "a": a,
            "b": b,
            "type_b": types[b],
            "category": frame["category"].to_numpy()[b],
            "distance_m": np.where(np.isfinite(distance), distance, -1.0),
            "gap_hours": (created[b] - created[a]) / np.timedelta64(1, "h"),
            "same_type": (types[a] == types[b]).astype(float),
            "same_address": ((keys[a] == keys[b]) & (keys[a] != "")).astype(float),
            "text_similarity": similarity,
            "a_open": ~(closed[a] <= created[b]),
        }
    )
    out["a_open"] = out["a_open"].astype(float)
    near = (
        (out["distance_m"].between(0, 30)) & (out["gap_hours"] <= 14 * 24) & (out["same_type"] > 0)
    )
    out["callers"] = out["b"].map(out.loc[near].groupby("b").size()).fillna(0).to_numpy(float)
    return out


def pair_labels(frame: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """1 where the city's notes name one case of the pair as the other's original."""
    named = city_pairs(frame)
    ids = frame["case_id"].to_numpy()
    wanted = set(zip(named["case_a"], named["case_b"], strict=True))
    wanted |= {(b, a) for a, b in wanted}
    return np.array(
        [(ids[i], ids[j]) in wanted for i, j in zip(pairs["a"], pairs["b"], strict=True)],
        dtype=int,
    )


def fit(pairs: pd.DataFrame, labels: np.ndarray, seed: int) -> Pipeline:
    """Train the pair classifier."""
    if labels.sum() < 5 or labels.sum() == len(labels):
        raise InputError(
            f"duplicate scoring: {int(labels.sum())} city-named duplicate pairs among "
            f"{len(labels):,} candidates; need at least 5 of each kind. Train on an export "
            "whose closure notes name the original case."
        )
    encoder = ColumnTransformer(
        [
            (
                "cat",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=np.nan,
                    min_frequency=20,
                    max_categories=250,
                ),
                list(PAIR_CATEGORICAL),
            ),
            ("num", "passthrough", list(PAIR_NUMERIC)),
        ]
    )
    model = HistGradientBoostingClassifier(
        categorical_features=[True] * len(PAIR_CATEGORICAL) + [False] * len(PAIR_NUMERIC),
        max_iter=150,
        max_leaf_nodes=15,
        learning_rate=0.1,
        random_state=seed,
    )
    pipeline = Pipeline([("features", encoder), ("model", model)])
    return pipeline.fit(pairs.loc[:, list(PAIR_FEATURES)], labels)


def score(pipeline: Pipeline, pairs: pd.DataFrame) -> np.ndarray:
    """Probability that each pair is one problem."""
    if pairs.empty:
        return np.zeros(0)
    return np.asarray(pipeline.predict_proba(pairs.loc[:, list(PAIR_FEATURES)])[:, 1])
