"""Any CSV with a column mapping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodispatch.domain.errors import InputError, SchemaError
from geodispatch.intake.generic_csv import ColumnMapping, parse

MAPPING = ColumnMapping(
    {
        "source_id": "ID",
        "service_name": "Type",
        "created": "Opened",
        "lat": "Y",
        "lon": "X",
        "address": "Where",
    }
)


def test_mapped_columns_become_requests() -> None:
    frame = pd.DataFrame(
        {
            "ID": ["7"],
            "Type": ["Dead tree"],
            "Opened": ["2024-03-01 10:00"],
            "Y": ["42.33"],
            "X": ["-71.06"],
            "Where": ["1 Main St"],
        },
        dtype=object,
    )
    result = parse(frame, np.array([2]), MAPPING, source="springfield")
    request = result.accepted.iloc[0]
    assert request["source"] == "springfield"
    assert request["service_name"] == "Dead tree"
    assert request["created_at"] == pd.Timestamp("2024-03-01 15:00", tz="UTC")


def test_a_mapping_must_name_the_required_fields() -> None:
    with pytest.raises(InputError, match=r"lacks required field.*created"):
        ColumnMapping({"source_id": "ID", "service_name": "Type"})


def test_a_mapping_to_columns_the_file_lacks_lists_what_the_file_has() -> None:
    frame = pd.DataFrame({"ID": ["7"], "Kind": ["x"], "Opened": ["2024-03-01"]}, dtype=object)
    with pytest.raises(SchemaError, match=r"service_name→'Type'.*Columns found: ID, Kind"):
        parse(
            frame,
            np.array([2]),
            ColumnMapping({"source_id": "ID", "service_name": "Type", "created": "Opened"}),
            source="x",
        )


def test_mapping_pairs_and_files(tmp_path: Path) -> None:
    assert (
        ColumnMapping.from_pairs(["source_id=ID", "service_name = Type", "created=Opened"]).columns[
            "service_name"
        ]
        == "Type"
    )
    with pytest.raises(InputError, match="not field=column"):
        ColumnMapping.from_pairs(["source_id"])
    toml = tmp_path / "map.toml"
    toml.write_text('[columns]\nsource_id = "ID"\nservice_name = "Type"\ncreated = "Opened"\n')
    assert ColumnMapping.from_toml(toml).columns["created"] == "Opened"
