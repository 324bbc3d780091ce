"""Keep built indexes on disk so a new process loads them instead of building them again.

Building the address index or an area layer's lookup grid takes a second or more; loading
the built object takes a fraction of that. Each entry is keyed by the content (SHA-256) of
its source files, the build parameters and the source code of the modules that build it,
so a changed data file or a code change is never served a stale object. Entries are
pickles written by this program under ``settings.home/cache`` (the folder that also holds
the database); anything unreadable there is rebuilt, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import os
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Final, TypeVar

T = TypeVar("T")

#: Bumped when the layout of cache entries changes.
CACHE_FORMAT: Final = 1


def cache_key(sources: Sequence[Path], params: str, code: Sequence[ModuleType]) -> str:
    """Hex digest of the source files' bytes, the parameters and the building modules."""
    digest = hashlib.sha256(f"{CACHE_FORMAT}|{params}".encode())
    for path in sources:
        digest.update(path.name.encode())
        if path.exists():
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    for module in code:
        source = inspect.getsourcefile(module)
        if source:
            digest.update(Path(source).read_bytes())
    return digest.hexdigest()[:32]


def load_or_build(
    cache_dir: Path | None,
    kind: str,
    key: str,
    build: Callable[[], T],
    *,
    expect: type[T],
) -> T:
    """The cached ``kind`` entry for ``key``, or ``build()`` stored for next time.

    Without a ``cache_dir`` nothing is cached. A failure to write the cache (read-only
    folder, full disk) only costs the next process the build. Older entries of the same
    kind are removed when a new one is written.
    """
    if cache_dir is None:
        return build()
    path = cache_dir / f"{kind}-{key}.pickle"
    if path.exists():
        try:
            with path.open("rb") as handle:
                value = pickle.load(handle)
            if isinstance(value, expect):
                return value
        except Exception:  # a truncated or foreign file is built again
            pass
    value = build()
    with contextlib.suppress(OSError):
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        for old in cache_dir.glob(f"{kind}-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    return value
