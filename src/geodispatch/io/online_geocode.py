"""Optional online geocoders (geopy), behind the same interface as the offline one.

Off by default: a city turns one on with ``GEODISPATCH_ONLINE_GEOCODER=nominatim``. It is
asked only for addresses the offline cascade could not place, each distinct address once:
answers (failures included) go into a cache (the ``geocode_cache`` table, reached through
the :class:`GeocodeCache` protocol the services layer provides). An online answer is never
trusted more than a middling offline one: it carries score 0.7 at best, and a point outside
the service area is refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from geodispatch.domain.errors import ConfigError
from geodispatch.geo.geocode import (
    EXACT,
    NONE,
    OUTSIDE_AREA,
    RESULT_COLUMNS,
    STREET_MATCH,
    Geocoder,
    Progress,
)

#: A geopy-style callable: query text -> a Location-like object (or None).
Lookup = Callable[[str], Any]

#: Nominatim address types that mean the point is the building itself.
_BUILDING_TYPES = frozenset({"house", "building", "residential", "apartments", "yes"})


class GeocodeCache(Protocol):
    """Where online answers are kept: normalised query -> one result row (a dict)."""

    def get_many(self, provider: str, queries: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Cached rows of :data:`RESULT_COLUMNS` for the queries already asked."""
        ...

    def put_many(self, provider: str, rows: dict[str, dict[str, Any]]) -> None:
        """Store new answers (query -> row)."""
        ...


def cache_key(text: str) -> str:
    """The cache key of an address: upper case, single spaces, no trailing punctuation."""
    return re.sub(r"\s+", " ", text.upper()).strip(" ,.")[:500]


class GeopyGeocoder:
    """One geopy geocoder (Nominatim by default) with a cache; slow, polite, optional.

    ``lookup`` is the geopy ``geocode`` method (wrapped in geopy's ``RateLimiter`` by
    :func:`nominatim`). ``bounds`` (min lon, min lat, max lon, max lat) is the service
    area; answers outside it are refused.
    """

    def __init__(
        self,
        name: str,
        lookup: Lookup,
        cache: GeocodeCache,
        *,
        bounds: tuple[float, float, float, float] | None = None,
        suffix: str = "",
    ) -> None:
        self.name = name
        self.lookup = lookup
        self.cache = cache
        self.bounds = bounds
        self.suffix = suffix

    def geocode(
        self,
        addresses: Sequence[str],
        *,
        zipcodes: Sequence[str] | None = None,
        progress: Progress | None = None,
    ) -> pd.DataFrame:
        """Ask the provider for each distinct address not yet in the cache."""
        keys = [
            cache_key(f"{a} {zipcodes[i] if zipcodes else ''}") for i, a in enumerate(addresses)
        ]
        known = self.cache.get_many(self.name, sorted(set(keys)))
        fresh: dict[str, dict[str, Any]] = {}
        todo = [k for k in dict.fromkeys(keys) if k not in known]
        for done, key in enumerate(todo, start=1):
            fresh[key] = self._ask(key)
            if progress is not None:
                progress(done, len(todo))
        if fresh:
            self.cache.put_many(self.name, fresh)
        rows = [known.get(k) or fresh[k] for k in keys]
        return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))

    def _ask(self, key: str) -> dict[str, Any]:
        query = f"{key}, {self.suffix}" if self.suffix else key
        try:
            location = self.lookup(query)
        except Exception as exc:  # geopy raises many kinds (timeouts, quota, service errors)
            return _failure(f"{self.name} could not be asked: {type(exc).__name__}: {exc}")
        if location is None:
            return _failure(f"{self.name} found nothing")
        lon, lat = float(location.longitude), float(location.latitude)
        if self.bounds is not None:
            x0, y0, x1, y1 = self.bounds
            if not (x0 <= lon <= x1 and y0 <= lat <= y1):
                return _failure(f"{self.name} answered a point outside the service area")
        raw = getattr(location, "raw", {}) or {}
        kind = str(raw.get("addresstype") or raw.get("type") or "")
        building = kind in _BUILDING_TYPES
        return {
            "lon": lon,
            "lat": lat,
            "match": EXACT if building else STREET_MATCH,
            "score": 0.7 if building else 0.4,
            "flag": "" if building else "low_confidence",
            "note": f"found by {self.name} ({kind or 'unknown type'})",
            "matched": str(getattr(location, "address", ""))[:300],
        }


class FallbackGeocoder:
    """The offline geocoder first; a second one only for the addresses it could not place."""

    def __init__(self, first: Geocoder, second: Geocoder) -> None:
        self.first = first
        self.second = second
        self.name = f"{first.name}+{second.name}"

    def geocode(
        self,
        addresses: Sequence[str],
        *,
        zipcodes: Sequence[str] | None = None,
        progress: Progress | None = None,
    ) -> pd.DataFrame:
        """Results of ``first``, with its ``none`` rows answered by ``second`` where it can."""
        out = self.first.geocode(addresses, zipcodes=zipcodes, progress=progress)
        # an address the offline geocoder placed outside the service area is not asked again
        flags = out["flag"].tolist()
        missing = [
            i
            for i, m in enumerate(out["match"])
            if m == NONE
            and flags[i] != OUTSIDE_AREA
            and isinstance(addresses[i], str)
            and addresses[i].strip()
        ]
        if not missing:
            return out
        retry = self.second.geocode(
            [addresses[i] for i in missing],
            zipcodes=[zipcodes[i] for i in missing] if zipcodes else None,
        )
        found = (retry["match"] != NONE).to_numpy()
        rows = [missing[i] for i in range(len(missing)) if found[i]]
        if rows:
            out.loc[rows, list(RESULT_COLUMNS)] = retry.loc[found, list(RESULT_COLUMNS)].to_numpy()
        notes = out["note"].astype(str).tolist()
        for i in np.flatnonzero(~found):  # both failed: keep both reasons
            row = missing[int(i)]
            notes[row] = f"{notes[row]}; {retry['note'].astype(str).iat[int(i)]}"
        out["note"] = notes
        return out


def nominatim(
    cache: GeocodeCache,
    *,
    user_agent: str,
    bounds: tuple[float, float, float, float] | None,
    suffix: str = "",
    min_delay_s: float = 1.0,
) -> GeopyGeocoder:
    """Nominatim (OpenStreetMap) through geopy, at most one request per ``min_delay_s``."""
    if not user_agent.strip():
        raise ConfigError(
            "Nominatim needs an identifying user agent; set GEODISPATCH_ONLINE_USER_AGENT"
        )
    from geopy.extra.rate_limiter import RateLimiter
    from geopy.geocoders import Nominatim

    service = Nominatim(user_agent=user_agent, timeout=10)
    lookup = RateLimiter(service.geocode, min_delay_seconds=min_delay_s, max_retries=1)
    return GeopyGeocoder("nominatim", lookup, cache, bounds=bounds, suffix=suffix)


def _failure(note: str) -> dict[str, Any]:
    return {
        "lon": math.nan,
        "lat": math.nan,
        "match": NONE,
        "score": 0.0,
        "flag": "",
        "note": note,
        "matched": "",
    }
