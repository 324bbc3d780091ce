"""The offline address index: address points and street intersections a city supplies.

Addresses come as an OpenAddresses-style table (``number, street, unit, city, postcode,
lon, lat``); intersections as ``street_a, street_b, city, postcode, lon, lat``. The index
keeps, in the metric working CRS:

- an exact table ``"<number> <street key>"`` → address points (one per ZIP);
- per street key and ZIP, the house numbers of each side (odd / even) in order, for
  interpolation on the same street and side;
- base names (street key without its suffix) → street keys, for a missing or wrong suffix;
- intersections keyed by their two street keys in alphabetical order;
- a k-d tree of all points for reverse geocoding.

:func:`tables_from_requests` builds both tables from a city's own geocoded 311 requests
(Boston publishes its SAM-geocoded point with every case), which is how the bundled Boston
index was made.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import median
from typing import Final, TypeVar

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geodispatch.domain.errors import SchemaError
from geodispatch.geo.address import (
    ADDRESS,
    INTERSECTION,
    AddressParser,
    normalize_zip,
    split_suffix,
    street_key,
)
from geodispatch.geo.crs import DEFAULT_WORKING_CRS, lonlat_to_working

ADDRESS_COLUMNS: Final = ("number", "street", "unit", "city", "postcode", "lon", "lat")
INTERSECTION_COLUMNS: Final = ("street_a", "street_b", "city", "postcode", "lon", "lat")
_INTERSECTION_NAMES = re.compile(r"(?i)^\s*INTERSECTION of (.+?) & (.+?)(?:\s{2,}|$)")
T = TypeVar("T")
_NUMBER = re.compile(r"^\s*(\d{1,6})\s*([A-Za-z]{0,2})(?:\s*-\s*(\d{1,6})?\s*[A-Za-z]{0,2})?")


@dataclass(slots=True)
class StreetSide:
    """House numbers of one side of one street in one ZIP, ascending, with their points.

    ``high`` is the top of a range entry (``31-33`` → 33), equal to ``numbers`` otherwise.
    """

    numbers: list[int] = field(default_factory=list)
    high: list[int] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)


@dataclass(slots=True)
class StreetInZip:
    """One street key inside one ZIP: both sides, the number range and a midpoint."""

    sides: tuple[StreetSide, StreetSide]  # even, odd
    low: int
    high: int
    mid_x: float
    mid_y: float
    count: int


class AddressIndex:
    """Address points and intersections of one city, ready for the geocoder.

    Build it with :meth:`from_frames`; it is immutable afterwards and safe to share.
    """

    def __init__(self) -> None:
        self.working_crs = DEFAULT_WORKING_CRS
        self.x = np.empty(0)
        self.y = np.empty(0)
        self.lon = np.empty(0)
        self.lat = np.empty(0)
        self.point_street: list[str] = []
        self.point_number: list[str] = []
        self.point_zip: list[str] = []
        self.exact: dict[str, list[int]] = {}
        self.streets: dict[str, dict[str, StreetInZip]] = {}
        self.display: dict[str, str] = {}
        self.bases: dict[str, list[str]] = {}
        self.zip_bases: dict[str, list[str]] = {}
        self.all_bases: list[str] = []
        self.locality_zips: dict[str, frozenset[str]] = {}
        self.zip_locality: dict[str, str] = {}
        self.intersections: dict[str, list[tuple[str, str, float, float]]] = {}
        self.intersection_streets: set[str] = set()
        self.street_ids: dict[str, np.ndarray] = {}
        self.tree: cKDTree | None = None

    # construction -------------------------------------------------------------------------

    @classmethod
    def from_frames(
        cls,
        addresses: pd.DataFrame,
        intersections: pd.DataFrame | None = None,
        *,
        working_crs: str = DEFAULT_WORKING_CRS,
    ) -> AddressIndex:
        """Index an address table (and optionally an intersections table).

        Raises
        ------
        SchemaError
            When a table lacks one of its columns (the message lists what was found).
        """
        _require(addresses, ADDRESS_COLUMNS, "address table")
        index = cls()
        index.working_crs = working_crs
        index._add_addresses(addresses)
        if intersections is not None and not intersections.empty:
            _require(intersections, INTERSECTION_COLUMNS, "intersection table")
            index._add_intersections(intersections)
        return index

    def _add_addresses(self, frame: pd.DataFrame) -> None:
        lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)
        numbers = _map_unique(frame["number"], _split_number)
        table = pd.DataFrame(
            {
                "low": np.array([n[0] for n in numbers], dtype=float),
                "suffix": [n[1] for n in numbers],
                "high": np.array([n[2] for n in numbers], dtype=float),
                "street": _map_unique(frame["street"], str.strip),
                "key": _map_unique(frame["street"], street_key),
                "city": _map_unique(frame["city"], street_key),
                "zip": _map_unique(frame["postcode"], normalize_zip),
                "lon": lon,
                "lat": lat,
            }
        )
        table = table[table["low"].notna() & np.isfinite(lon) & np.isfinite(lat)]
        table = table[table["street"] != ""]
        table["low"] = table["low"].astype(int)
        table["high"] = table["high"].fillna(table["low"]).astype(int).clip(lower=table["low"])
        table["number"] = table["low"].astype(str) + table["suffix"]
        # one point per number/street/ZIP: units of one building collapse to their median
        points = (
            table.groupby(["key", "zip", "number"], sort=True)
            .agg(
                low=("low", "first"),
                high=("high", "max"),
                lon=("lon", "median"),
                lat=("lat", "median"),
                street=("street", "first"),
                city=("city", "first"),
            )
            .reset_index()
        )
        self.lon = points["lon"].to_numpy(dtype=float)
        self.lat = points["lat"].to_numpy(dtype=float)
        self.x, self.y = lonlat_to_working(self.lon, self.lat, self.working_crs)
        self.point_street = _texts(points["key"])
        self.point_number = _texts(points["number"])
        self.point_zip = _texts(points["zip"])
        for i, (number, key) in enumerate(zip(self.point_number, self.point_street, strict=True)):
            self.exact.setdefault(f"{number} {key}", []).append(i)
        self.street_ids = {
            str(k): np.asarray(v, dtype=np.int64)
            for k, v in points.groupby("key", sort=False).indices.items()
        }
        for key, name in zip(self.point_street, _texts(points["street"]), strict=True):
            self.display.setdefault(key, _title(name))
        self._index_streets(points)
        localities: dict[str, set[str]] = defaultdict(set)
        for city, zipcode in zip(_texts(points["city"]), self.point_zip, strict=True):
            if city and zipcode:
                localities[city].add(zipcode)
        self.locality_zips = {k: frozenset(v) for k, v in localities.items()}
        counts = points.groupby(["zip", "city"]).size().reset_index(name="n")
        counts = counts[counts["city"] != ""].sort_values("n", ascending=False)
        self.zip_locality = dict(counts.drop_duplicates("zip")[["zip", "city"]].to_numpy())
        if len(self.x):
            self.tree = cKDTree(np.column_stack([self.x, self.y]))

    def _index_streets(self, points: pd.DataFrame) -> None:
        numeric = (
            points.assign(x=self.x, y=self.y)
            .groupby(["key", "zip", "low"], sort=True)
            .agg(high=("high", "max"), x=("x", "median"), y=("y", "median"))
            .reset_index()
        )
        keys = _texts(numeric["key"])
        zips = _texts(numeric["zip"])
        lows = numeric["low"].astype(int).tolist()
        highs = numeric["high"].astype(int).tolist()
        xs = numeric["x"].astype(float).tolist()
        ys = numeric["y"].astype(float).tolist()
        start = 0
        n = len(keys)
        while start < n:
            stop = start + 1
            while stop < n and keys[stop] == keys[start] and zips[stop] == zips[start]:
                stop += 1
            sides = (StreetSide(), StreetSide())
            for j in range(start, stop):
                side = sides[lows[j] % 2]
                side.numbers.append(lows[j])
                side.high.append(highs[j])
                side.x.append(xs[j])
                side.y.append(ys[j])
            self.streets.setdefault(keys[start], {})[zips[start]] = StreetInZip(
                sides=sides,
                low=lows[start],
                high=max(highs[start:stop]),
                mid_x=float(median(xs[start:stop])),
                mid_y=float(median(ys[start:stop])),
                count=stop - start,
            )
            start = stop
        zip_bases: dict[str, set[str]] = defaultdict(set)
        for key, by_zip in self.streets.items():
            base = split_suffix(key)[0]
            self.bases.setdefault(base, []).append(key)
            for zipcode in by_zip:
                zip_bases[zipcode].add(base)
        self.zip_bases = {z: sorted(b) for z, b in zip_bases.items()}
        self.all_bases = sorted(self.bases)

    def _add_intersections(self, frame: pd.DataFrame) -> None:
        lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)
        x, y = lonlat_to_working(lon, lat, self.working_crs)
        keys_a = _map_unique(frame["street_a"], street_key).tolist()
        keys_b = _map_unique(frame["street_b"], street_key).tolist()
        cities = _map_unique(frame["city"], street_key).tolist()
        zips = _map_unique(frame["postcode"], normalize_zip).tolist()
        names_a = _map_unique(frame["street_a"], str).tolist()
        names_b = _map_unique(frame["street_b"], str).tolist()
        for i in range(len(frame)):
            if not (np.isfinite(x[i]) and np.isfinite(y[i]) and keys_a[i] and keys_b[i]):
                continue
            self.intersections.setdefault(pair_key(keys_a[i], keys_b[i]), []).append(
                (cities[i], zips[i], float(x[i]), float(y[i]))
            )
            for key, name in ((keys_a[i], names_a[i]), (keys_b[i], names_b[i])):
                self.intersection_streets.add(key)
                self.display.setdefault(key, _title(name))
                base = split_suffix(key)[0]
                if key not in self.streets and key not in self.bases.get(base, []):
                    self.bases.setdefault(base, []).append(key)
        self.all_bases = sorted(self.bases)

    # queries used by the geocoder ---------------------------------------------------------

    @property
    def size(self) -> int:
        """Number of distinct address points."""
        return len(self.x)

    def known_street(self, key: str) -> bool:
        """True when the street key has address points or intersection records."""
        return key in self.streets or key in self.intersection_streets

    def localities(self) -> list[str]:
        """Locality keys the index knows (for the parser)."""
        return sorted(self.locality_zips)

    def street_points(self, key: str) -> np.ndarray:
        """Indices of the address points on a street, in every ZIP."""
        return self.street_ids.get(key, np.empty(0, dtype=np.int64))


def pair_key(a: str, b: str) -> str:
    """The key of the intersection of two streets, independent of their order."""
    return f"{a} & {b}" if a <= b else f"{b} & {a}"


def tables_from_requests(
    location: pd.Series,
    lon: pd.Series | np.ndarray,
    lat: pd.Series | np.ndarray,
    *,
    placeholders: tuple[tuple[float, float], ...] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Address and intersection tables from a city's own geocoded requests.

    Every request whose address text parses as a house-number address (or an
    ``INTERSECTION of A & B`` record) and whose point is real (finite, not one of
    ``placeholders``) contributes its point; each distinct address (number, street, ZIP) or
    street pair (with locality) gets the median of its points, and ``count`` says how many
    requests support it. Units are dropped: a building has one point.
    """
    lon_a = np.asarray(pd.to_numeric(pd.Series(lon), errors="coerce"), dtype=float)
    lat_a = np.asarray(pd.to_numeric(pd.Series(lat), errors="coerce"), dtype=float)
    good = np.isfinite(lon_a) & np.isfinite(lat_a)
    for plat, plon in placeholders:
        good &= ~(np.isclose(lat_a, plat, atol=1e-6) & np.isclose(lon_a, plon, atol=1e-6))
    text = location.fillna("").astype("str").to_numpy(dtype=object)
    parser = AddressParser()
    address_rows: list[tuple[str, str, str, str, float, float]] = []
    intersection_rows: list[tuple[str, str, str, float, float]] = []
    names: dict[str, str] = {}
    for i in np.flatnonzero(good):
        raw = str(text[i])
        parsed = parser.parse(raw)
        display = _display_parts(raw)
        if parsed.kind == ADDRESS and parsed.street:
            number = parsed.number_text
            if parsed.number_high is not None and parsed.number_high != parsed.number:
                number = f"{parsed.number}-{parsed.number_high}"
            names.setdefault(parsed.street, display[1] or parsed.street)
            address_rows.append(
                (number, parsed.street, display[2], parsed.zipcode, lon_a[i], lat_a[i])
            )
        elif parsed.kind == INTERSECTION and parsed.street and parsed.street2:
            written = _INTERSECTION_NAMES.match(raw)
            if written:
                names.setdefault(parsed.street, written.group(1).strip())
                names.setdefault(parsed.street2, written.group(2).strip())
            a, b = sorted((parsed.street, parsed.street2))
            intersection_rows.append((a, b, display[2], lon_a[i], lat_a[i]))
    addresses = pd.DataFrame(
        address_rows, columns=["number", "key", "city", "postcode", "lon", "lat"]
    )
    addresses = (
        addresses.groupby(["key", "number", "postcode"], sort=True)
        .agg(
            city=("city", "first"), lon=("lon", "median"), lat=("lat", "median"), n=("lon", "size")
        )
        .reset_index()
    )
    addresses["street"] = addresses["key"].map(lambda k: names.get(k, k))
    addresses["unit"] = ""
    addresses = addresses.rename(columns={"n": "count"})
    inter = pd.DataFrame(intersection_rows, columns=["street_a", "street_b", "city", "lon", "lat"])
    inter = (
        inter.groupby(["street_a", "street_b", "city"], sort=True)
        .agg(lon=("lon", "median"), lat=("lat", "median"), count=("lon", "size"))
        .reset_index()
    )
    inter["postcode"] = ""
    for column in ("street_a", "street_b"):
        inter[column] = inter[column].map(lambda k: names.get(k) or _title(k))
    return (
        addresses[[*ADDRESS_COLUMNS, "count"]].round({"lon": 6, "lat": 6}),
        inter[[*INTERSECTION_COLUMNS, "count"]].round({"lon": 6, "lat": 6}),
    )


def _display_parts(raw: str) -> tuple[str, str, str]:
    """(number, street, locality) as written in a Boston-style export line."""
    parts = [p.strip() for p in re.split(r"\s{2,}", raw.strip()) if p.strip()]
    head = parts[0] if parts else ""
    locality = parts[1] if len(parts) > 1 and not parts[1].isdigit() else ""
    match = re.match(r"^(\S+)\s+(.*)$", head)
    if not match or not match.group(1)[:1].isdigit():
        return "", "", locality
    return match.group(1), match.group(2), locality


def _texts(values: pd.Series) -> list[str]:
    """A text column as a list of Python strings (fast for Arrow-backed columns too)."""
    return values.to_numpy(dtype=object).tolist()  # type: ignore[no-any-return]


def _map_unique(values: pd.Series, func: Callable[[str], T]) -> np.ndarray:
    """``func`` of each value as text ("" for missing), computed once per distinct value.

    Index tables repeat the same street, locality and ZIP thousands of times, and reading
    pandas' Arrow-backed strings one by one is slow: factorizing first keeps the build fast.
    """
    codes, uniques = pd.factorize(values.fillna("").astype("str"))
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [func(str(u)) for u in uniques]
    mapped[-1] = func("")
    return mapped[codes]  # code -1 (missing) takes the last slot


def _split_number(text: str) -> tuple[float, str, float]:
    """(low, letter suffix, high) of a house-number cell such as ``31-33`` or ``644R``."""
    match = _NUMBER.match(text.upper())
    if match is None:
        return math.nan, "", math.nan
    low, suffix, high = match.groups()
    return float(low), suffix or "", float(high) if high else math.nan


def _title(name: str) -> str:
    """A readable street name for messages (keys are upper case): ``E 5TH ST`` → ``E 5th St``."""
    if not name.isupper():
        return name
    return " ".join(w.capitalize() if w[:1].isalpha() else w.lower() for w in name.split())


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{what}: no column {', '.join(map(repr, missing))} (found "
            f"{', '.join(map(str, frame.columns))}); an address table needs "
            f"{', '.join(columns)} (OpenAddresses layout)"
        )
