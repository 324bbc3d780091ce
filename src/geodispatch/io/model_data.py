"""Read a city's 311 export (Boston layout) into the training frame of ``learn.frame``.

Models train on the export itself, not the database: it keeps the city's own labels
(closure notes naming the original case, closed times of every request) that intake folds
away, and its bytes give each artefact a content hash to say what it was trained on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geodispatch.domain.errors import InputError
from geodispatch.intake.city_export import BOSTON_TIME_FORMAT, field_map
from geodispatch.intake.normalize import BOSTON_PLACEHOLDER
from geodispatch.io.tables import file_sha256
from geodispatch.learn.frame import FRAME_COLUMNS

__all__ = ["file_sha256", "normalise_ward", "read_training_frame"]


def _time(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column.str.strip(), format=BOSTON_TIME_FORMAT, errors="coerce")


def normalise_ward(column: pd.Series) -> pd.Series:
    """``Ward 17``, ``04``, ``17`` -> ``17``; anything else -> empty text."""
    digits = column.fillna("").astype(str).str.extract(r"(\d+)")[0]
    return digits.fillna("").map(lambda d: str(int(d)) if d else "")


def read_training_frame(path: Path) -> pd.DataFrame:
    """The export at ``path`` as a training frame (one row per request).

    Raises
    ------
    InputError
        The file is missing or is not a Boston-layout export.
    """
    if not path.is_file():
        raise InputError(f"model data: no file {path}; give a 311 export (.csv or .csv.gz)")
    records = pd.read_csv(path, dtype=str, keep_default_na=False, low_memory=False)
    names = field_map(records.columns)

    def get(field: str) -> pd.Series:
        return records[names[field]] if field in names else pd.Series("", index=records.index)

    lat = pd.to_numeric(get("lat"), errors="coerce")
    lon = pd.to_numeric(get("lon"), errors="coerce")
    placeholder = np.isclose(lat, BOSTON_PLACEHOLDER[0], atol=1e-4) & np.isclose(
        lon, BOSTON_PLACEHOLDER[1], atol=1e-4
    )
    lat, lon = lat.mask(placeholder), lon.mask(placeholder)
    neighborhood = records["neighborhood"] if "neighborhood" in records else get("zipcode")
    frame = pd.DataFrame(
        {
            "case_id": get("source_id").str.strip(),
            "created_at": _time(get("created")),
            "due_at": _time(get("due")),
            "closed_at": _time(get("closed")),
            "service_type": get("service_name").str.strip(),
            "category": get("category").str.strip(),
            "department": get("department").str.strip(),
            "description": get("description").str.strip(),
            "ward": normalise_ward(get("ward")),
            "neighborhood": neighborhood.str.strip(),
            "source": get("channel").str.strip(),
            "lat": lat,
            "lon": lon,
            "address": get("address").str.strip(),
            "closure_note": get("closure_note").str.strip(),
        }
    )
    bad = frame["created_at"].isna()
    if bad.all():
        raise InputError(
            f"model data {path.name}: no row has a readable open time "
            f"(expected {BOSTON_TIME_FORMAT}); check the open_dt column"
        )
    frame = frame.loc[~bad & (frame["service_type"] != "")]
    return frame.sort_values(["created_at", "case_id"], kind="stable").reset_index(drop=True)[
        list(FRAME_COLUMNS)
    ]
