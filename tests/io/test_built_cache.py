"""Built indexes are kept on disk, keyed by their sources, and never served stale."""

from __future__ import annotations

from pathlib import Path

from geodispatch.geo import address
from geodispatch.io.address_files import read_address_index
from geodispatch.io.built_cache import cache_key, load_or_build
from tests.conftest import DATA


class _Builder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, int]:
        self.calls += 1
        return {"built": self.calls}


def test_a_second_load_reads_the_cache_and_a_changed_source_builds_again(tmp_path: Path) -> None:
    source = tmp_path / "streets.csv"
    source.write_text("number,street\n1,Main St\n")
    cache = tmp_path / "cache"
    build = _Builder()

    def load() -> dict[str, int]:
        key = cache_key([source], "EPSG:26986", [address])
        return load_or_build(cache, "streets", key, build, expect=dict)

    assert load() == {"built": 1}
    assert load() == {"built": 1}
    assert build.calls == 1
    source.write_text("number,street\n2,Main St\n")
    assert load() == {"built": 2}
    assert len(list(cache.glob("streets-*.pickle"))) == 1  # the stale entry is gone


def test_a_damaged_or_foreign_entry_is_built_again(tmp_path: Path) -> None:
    build = _Builder()
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "x-k1.pickle").write_bytes(b"not a pickle")
    assert load_or_build(cache, "x", "k1", build, expect=dict) == {"built": 1}
    assert load_or_build(cache, "x", "k1", build, expect=list) == {"built": 2}  # wrong type
    assert load_or_build(None, "x", "k1", build, expect=dict) == {"built": 3}  # no cache


def test_the_cached_address_index_answers_like_a_fresh_one(tmp_path: Path) -> None:
    folder = DATA / "geocoding"
    files = (folder / "boston_addresses.csv.gz", folder / "boston_intersections.csv.gz")
    fresh = read_address_index(*files)
    read_address_index(*files, cache_dir=tmp_path)
    cached = read_address_index(*files, cache_dir=tmp_path)
    assert list(tmp_path.glob("address-index-*.pickle"))
    assert cached.size == fresh.size
    assert cached.exact == fresh.exact
    assert cached.intersections == fresh.intersections
