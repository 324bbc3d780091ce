"""Model artefacts on disk: skops files checked against a manifest before they load.

Each model ``NAME`` is two files in the models folder: ``NAME.skops`` (the fitted objects,
in skops' format, which rebuilds only allow-listed types and never unpickles) and
``NAME.json`` (the manifest: schema version, feature names, seed, training data hash and the
SHA-256 of the ``.skops`` file). Loading refuses a file whose hash, schema or features do
not match what the code expects, before any of its bytes are parsed; the model card
``NAME.md`` sits beside them.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import skops.io as sio

from geodispatch.domain.errors import InputError


class ModelRefusedError(InputError):
    """A model file is missing, altered, or made for another version of the code."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a model artefact is and how it was made (the ``.json`` beside it)."""

    name: str
    schema_version: int
    features: list[str]
    seed: int
    data_file: str
    data_sha256: str
    trained_at: str
    sklearn_version: str
    artefact_sha256: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save(folder: Path, manifest: Manifest, obj: object) -> Path:
    """Write ``obj`` and its manifest under ``folder``; returns the ``.skops`` path."""
    folder.mkdir(parents=True, exist_ok=True)
    data = sio.dumps(obj, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    path = folder / f"{manifest.name}.skops"
    path.write_bytes(data)
    stamped = Manifest(**{**asdict(manifest), "artefact_sha256": _sha256(data)})
    (folder / f"{manifest.name}.json").write_text(
        json.dumps(asdict(stamped), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return path


def read_manifest(folder: Path, name: str) -> Manifest | None:
    """The manifest of model ``name``, or None when the folder has no such model."""
    path = folder / f"{name}.json"
    if not path.is_file():
        return None
    try:
        return Manifest(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise ModelRefusedError(
            f"model {name}: manifest {path.name} is not a valid geodispatch manifest ({exc}); "
            "retrain with `geodispatch models train`"
        ) from None


#: Module prefixes whose types a model file may contain.
_ALLOWED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")
_ALLOWED_NAMES = frozenset({"functools.partial"})


def load(folder: Path, name: str, schema_version: int, features: list[str]) -> tuple[Any, Manifest]:
    """The fitted object of model ``name`` and its manifest, after every check passes.

    Raises
    ------
    ModelRefusedError
        No such model, its bytes differ from the manifest's hash, its schema version or
        feature list differ from the code's, or it holds types outside scikit-learn/numpy.
    """
    manifest = read_manifest(folder, name)
    path = folder / f"{name}.skops"
    if manifest is None or not path.is_file():
        raise ModelRefusedError(f"model {name}: no {name}.json/{name}.skops in {folder.name}/")
    data = path.read_bytes()
    if _sha256(data) != manifest.artefact_sha256:
        raise ModelRefusedError(
            f"model {name}: {path.name} does not match the SHA-256 in {name}.json (file altered "
            "or damaged); refusing to load it. Retrain with `geodispatch models train`."
        )
    if manifest.schema_version != schema_version or list(manifest.features) != list(features):
        raise ModelRefusedError(
            f"model {name}: made for schema {manifest.schema_version} with features "
            f"{manifest.features}; this code expects schema {schema_version} with {features}. "
            "Retrain with `geodispatch models train`."
        )
    untrusted = sio.get_untrusted_types(data=data)
    foreign = [
        t for t in untrusted if not t.startswith(_ALLOWED_PREFIXES) and t not in _ALLOWED_NAMES
    ]
    if foreign:
        raise ModelRefusedError(
            f"model {name}: {path.name} contains types outside scikit-learn/numpy "
            f"({', '.join(foreign[:5])}); refusing to load it"
        )
    return sio.loads(data, trusted=untrusted), manifest
