"""Learned models: deterministic training, safe loading, and a product that runs without them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from geodispatch.analysis.dedup import group_by_score
from geodispatch.cli import app
from geodispatch.config import Settings
from geodispatch.io import model_store
from geodispatch.io.model_data import read_training_frame
from geodispatch.learn.duplicates import named_originals
from geodispatch.learn.frame import TimeSplit
from geodispatch.services import models

ONE_MODEL_EACH = tuple(models.ModelName)


def test_every_model_and_card_is_written(trained: Path) -> None:
    for name in ONE_MODEL_EACH:
        assert (trained / f"{name}.skops").is_file()
        assert "## " in (trained / f"{name}.md").read_text(encoding="utf-8")
        manifest = json.loads((trained / f"{name}.json").read_text(encoding="utf-8"))
        assert manifest["seed"] == 7
        assert len(manifest["data_sha256"]) == 64


def test_training_twice_with_one_seed_gives_the_same_predictions(
    small_export: Path, trained: Path, tmp_path: Path
) -> None:
    models.train(small_export, tmp_path, seed=7, test_months=1)
    frame = read_training_frame(small_export).tail(200)
    first = models.suggest_types(frame, folder=trained)
    second = models.suggest_types(frame, folder=tmp_path)
    assert first == second
    history = read_training_frame(small_export)
    a = models.predict_close(frame, history, folder=trained)
    b = models.predict_close(frame, history, folder=tmp_path)
    assert a is not None
    assert b is not None
    np.testing.assert_array_equal(a.breach_probability, b.breach_probability)
    np.testing.assert_array_equal(a.high_hours, b.high_hours)
    for name in ONE_MODEL_EACH:
        left = json.loads((trained / f"{name}.json").read_text(encoding="utf-8"))
        right = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
        for key in ("trained_at", "artefact_sha256"):
            left.pop(key), right.pop(key)
        assert left == right


def test_suggestions_are_three_types_with_probabilities(small_export: Path, trained: Path) -> None:
    frame = read_training_frame(small_export).tail(50)
    suggestions = models.suggest_types(frame, folder=trained)
    assert all(len(row) == 3 for row in suggestions)
    assert all(1 >= row[0].probability >= row[1].probability >= 0 for row in suggestions)


def test_a_tampered_artefact_is_refused(trained: Path, tmp_path: Path, caplog) -> None:
    for path in trained.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    skops_file = tmp_path / "triage.skops"
    data = bytearray(skops_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    skops_file.write_bytes(bytes(data))
    with pytest.raises(model_store.ModelRefusedError, match="does not match the SHA-256"):
        model_store.load(
            tmp_path, "triage", models.SCHEMA_VERSION, models.FEATURES[models.ModelName.TRIAGE]
        )
    assert models.load_model(models.ModelName.TRIAGE, tmp_path) is None
    assert "does not match" in caplog.text


def test_a_model_for_other_features_is_refused(trained: Path, tmp_path: Path) -> None:
    for path in trained.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    manifest_file = tmp_path / "close_time.json"
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    manifest["features"] = [*manifest["features"], "weather"]
    manifest_file.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(model_store.ModelRefusedError, match="Retrain"):
        model_store.load(
            tmp_path,
            "close_time",
            models.SCHEMA_VERSION,
            models.FEATURES[models.ModelName.CLOSE_TIME],
        )
    shown = {info.name: info for info in models.show(tmp_path)}
    assert shown["close_time"].problem
    assert not shown["triage"].problem


def test_the_product_runs_with_the_models_folder_empty(small_export: Path, tmp_path: Path) -> None:
    frame = read_training_frame(small_export).tail(20)
    assert models.suggest_types(frame, folder=tmp_path) == [[] for _ in range(20)]
    assert models.predict_close(frame, frame, folder=tmp_path) is None
    now = pd.Timestamp(frame["created_at"].max())
    assert models.likely_to_breach(frame, frame, now, folder=tmp_path).empty
    assert all(not info.present for info in models.show(tmp_path))
    np.testing.assert_array_equal(models.breach_weights(np.array([np.nan, np.nan])), [1.0, 1.0])
    result = CliRunner().invoke(app, ["models", "show", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "absent" in result.output


def test_the_time_split_trains_only_on_earlier_months(small_export: Path) -> None:
    frame = read_training_frame(small_export)
    split = TimeSplit.last_months(frame, 1)
    assert split.train(frame)["created_at"].max() < split.test(frame)["created_at"].min()
    assert split.cutoff == pd.Timestamp("2011-10-01")


@pytest.mark.parametrize(
    ("note", "ids"),
    [
        ("Case Closed Duplicate of Existing Case See CRM#364817 on W.O.#3454 ", ["101000364817"]),
        (
            "Case Closed Case Resolved   This is a duplicate and refer to cn#101000349305. ",
            ["101000349305"],
        ),
        (
            "Case Closed Duplicate of Existing Case THIS COMPLAINT IS THE SAME AS C.R.M.#336986 ",
            ["101000336986"],
        ),
        ("Case Closed Duplicate of Existing Case ", []),
        ("Case Closed Case Resolved replaced 100 amp fuse 123456", []),
    ],
)
def test_duplicate_notes_name_their_original(note: str, ids: list[str]) -> None:
    assert named_originals(note) == ids


def test_each_report_joins_the_job_of_its_best_scoring_earlier_report() -> None:
    job = group_by_score(
        4,
        earlier=np.array([0, 1, 0, 2]),
        later=np.array([1, 2, 2, 3]),
        score=np.array([0.9, 0.2, 0.6, 0.1]),
        threshold=0.5,
    )
    np.testing.assert_array_equal(job, [0, 0, 0, 3])


def test_open_requests_get_a_predicted_close_time_only_with_a_model(
    trained: Path, tmp_path: Path
) -> None:
    now = pd.Timestamp("2025-01-06 15:00", tz="UTC")
    stored = pd.DataFrame(
        {
            "request_id": [1, 2],
            "service_name": ["Street Light Outages", "Graffiti Removal"],
            "department": ["PWDx", "PWDx"],
            "ward": [3, 17],
            "address": ["1 Main St", "2 Main St"],
            "created_at": [now - pd.Timedelta(hours=1), now - pd.Timedelta(days=2)],
            "due_at": [now + pd.Timedelta(days=5), now + pd.Timedelta(days=1)],
            "closed_at": [pd.NaT, now - pd.Timedelta(hours=3)],
            "status": ["new", "completed"],
        }
    )
    with_model = Settings(home=tmp_path / "home", models_dir=trained)
    expected = models.expected_close_times(stored, now=now.to_pydatetime(), settings=with_model)
    assert list(expected) == [1]
    assert expected[1] > now.to_pydatetime()
    without = Settings(home=tmp_path / "home", models_dir=tmp_path / "empty")
    assert models.expected_close_times(stored, now=now.to_pydatetime(), settings=without) == {}
