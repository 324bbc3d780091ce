"""A small real fixture: a slice of the bundled 2011 Boston export."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geodispatch.services import models

EXPORT = (
    Path(__file__).resolve().parents[2] / "data" / "boston" / "311_service_requests_2011.csv.gz"
)
TYPES = (
    "Street Light Outages",
    "Major System Failure",
    "Street Light Knock Downs",
    "Graffiti Removal",
    "Tree Emergencies",
    "Schedule a Bulk Item Pickup",
    "Request for Pothole Repair",
)


@pytest.fixture(scope="session")
def small_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seven types of Jul-Oct 2011 in six wards as a Boston-layout .csv.gz (a few thousand)."""
    records = pd.read_csv(EXPORT, dtype=str, keep_default_na=False)
    ward = records["ward"].str.extract(r"(\d+)")[0].fillna("0").astype(int)
    keep = (
        records["type"].isin(TYPES)
        & ward.isin([3, 4, 5, 16, 17, 18])
        & (records["open_dt"] < "2011-11-01")
    )
    path = tmp_path_factory.mktemp("export") / "small_2011.csv.gz"
    records.loc[keep].to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def trained(small_export: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three models trained on the small export (seed 7, last month held out)."""
    out = tmp_path_factory.mktemp("models")
    models.train(small_export, out, seed=7, test_months=1)
    return out
