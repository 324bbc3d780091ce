"""Place names a city's residents write: aliases, landmarks, neighbourhoods, other towns.

One city-editable table (``data/geocoding/boston_places.csv`` for Boston) holds rows of
five kinds, each with the ``source`` it came from:

- ``street_alias``: a local street name and the indexed street it means
  (``Mass Ave`` → ``Massachusetts Ave``);
- ``place_alias``: a local place name and the neighbourhood(s) it means
  (``JP`` → ``Jamaica Plain``; several separated by ``|``);
- ``landmark``: a named place (City Hall, a park, a T station) and its point (``lon``/``lat``);
- ``outside_place``: a town beside the city and its ZIP codes (space-separated): an address
  there is outside the service area, never snapped inside;
- ``city_zip``: a ZIP of the city the address index holds no point in, and its place.

The geocoder reads these as evidence: a ZIP, a neighbourhood and a town named in the text
must agree with the answer, or the answer is flagged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import numpy as np
import pandas as pd
import shapely

from geodispatch.domain.errors import InputError, SchemaError
from geodispatch.geo.address import street_key
from geodispatch.geo.crs import DEFAULT_WORKING_CRS, lonlat_to_working

PLACE_COLUMNS: Final = ("kind", "name", "means", "lon", "lat", "source")


class PlaceKind(StrEnum):
    """What a row of the place table says."""

    STREET_ALIAS = "street_alias"
    PLACE_ALIAS = "place_alias"
    LANDMARK = "landmark"
    OUTSIDE_PLACE = "outside_place"
    CITY_ZIP = "city_zip"


@dataclass(frozen=True, slots=True)
class Landmark:
    """A named place and its point in the working CRS."""

    name: str
    x: float
    y: float
    source: str


@dataclass(frozen=True, slots=True)
class PlaceBook:
    """The place table, keyed as the parser keys text (see :func:`street_key`).

    ``street_aliases`` maps an alias key to a street key; ``place_aliases`` a place key to
    the place keys it means; ``outside`` a town's key to its name; ``outside_zips`` a ZIP
    of another town to that town's name; ``city_zips`` a city ZIP without indexed points to
    the place key it belongs to; ``landmarks`` a name key to its point.
    """

    street_aliases: Mapping[str, str] = field(default_factory=dict)
    place_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    landmarks: Mapping[str, Landmark] = field(default_factory=dict)
    outside: Mapping[str, str] = field(default_factory=dict)
    outside_zips: Mapping[str, str] = field(default_factory=dict)
    city_zips: Mapping[str, str] = field(default_factory=dict)

    @property
    def place_keys(self) -> frozenset[str]:
        """Every place name key the table knows (aliases and other towns)."""
        return frozenset(self.place_aliases) | frozenset(self.outside)


def places_from_frame(frame: pd.DataFrame, *, working_crs: str = DEFAULT_WORKING_CRS) -> PlaceBook:
    """Read a place table (see the module docstring) into a :class:`PlaceBook`.

    Raises
    ------
    SchemaError
        When a column is missing.
    InputError
        When a row has an unknown kind, an empty name or meaning, a landmark without a
        valid point, or a ZIP that is not five digits; the message names the row (1-based,
        header excluded), the field, the value and the fix.
    """
    missing = [c for c in PLACE_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"place table: no column {', '.join(map(repr, missing))} (found "
            f"{', '.join(map(str, frame.columns))}); it needs {', '.join(PLACE_COLUMNS)}"
        )
    text = frame[list(PLACE_COLUMNS)].fillna("").astype(str)
    street_aliases: dict[str, str] = {}
    place_aliases: dict[str, tuple[str, ...]] = {}
    landmarks: dict[str, Landmark] = {}
    outside: dict[str, str] = {}
    outside_zips: dict[str, str] = {}
    city_zips: dict[str, str] = {}
    kinds = ", ".join(k.value for k in PlaceKind)
    for row, (kind_text, name, means, lon, lat, source) in enumerate(
        text.itertuples(index=False, name=None), start=1
    ):
        name, means = name.strip(), means.strip()
        try:
            kind = PlaceKind(kind_text.strip())
        except ValueError:
            raise InputError(
                f"place table row {row}: kind {kind_text!r} is not one of {kinds}; fix the kind"
            ) from None
        if not name:
            raise InputError(f"place table row {row}: name is empty; write the place's name")
        key = street_key(name)
        if kind is PlaceKind.LANDMARK:
            landmarks[key] = _landmark(row, name, lon, lat, source, working_crs)
            continue
        if not means:
            raise InputError(
                f"place table row {row} ({name}): means is empty; write what {kind.value} "
                f"{name!r} stands for"
            )
        if kind is PlaceKind.STREET_ALIAS:
            street_aliases[key] = street_key(means)
        elif kind is PlaceKind.PLACE_ALIAS:
            place_aliases[key] = tuple(street_key(m) for m in means.split("|") if m.strip())
        elif kind is PlaceKind.OUTSIDE_PLACE:
            outside[key] = name
            for zipcode in means.split():
                outside_zips[_zip(row, zipcode, "means")] = name
        else:
            city_zips[_zip(row, name, "name")] = street_key(means)
    return PlaceBook(street_aliases, place_aliases, landmarks, outside, outside_zips, city_zips)


def _landmark(row: int, name: str, lon: str, lat: str, source: str, working_crs: str) -> Landmark:
    try:
        lon_f, lat_f = float(lon), float(lat)
    except ValueError:
        lon_f = lat_f = math.nan
    if not (-180 <= lon_f <= 180 and -90 <= lat_f <= 90):
        raise InputError(
            f"place table row {row} ({name}): lon/lat {lon!r}/{lat!r} is not a WGS84 point; "
            "write the landmark's longitude and latitude in degrees"
        )
    x, y = lonlat_to_working(np.array([lon_f]), np.array([lat_f]), working_crs)
    return Landmark(name, float(x[0]), float(y[0]), source.strip())


def _zip(row: int, value: str, column: str) -> str:
    zipcode = value.strip()
    if not (len(zipcode) == 5 and zipcode.isdigit()):
        raise InputError(
            f"place table row {row}: {column} {value!r} is not a ZIP code; write five digits"
        )
    return zipcode


def area_shapes(ids: Sequence[Any], geometries: Sequence[Any]) -> dict[str, Any]:
    """Area name → polygon, the form the geocoder takes neighbourhoods in."""
    return {str(i): g for i, g in zip(ids, geometries, strict=True)}


def service_area_of(geometries: Sequence[Any], *, margin_m: float = 50.0) -> Any:
    """The city's service area from its ward (or other covering) polygons, with a margin.

    The margin keeps addresses on piers and shore roads drawn just outside a ward inside.
    """
    return shapely.buffer(shapely.union_all(np.asarray(geometries, dtype=object)), margin_m)


class ServiceArea:
    """The city's service area, answering "is this point inside?" in about a microsecond.

    A grid of ``cell_m`` cells is classified once: wholly inside, wholly outside, or
    crossed by the boundary; only points in boundary cells get the exact polygon test.
    """

    def __init__(self, area: Any, *, cell_m: float = 250.0) -> None:
        self.area = area
        shapely.prepare(area)
        x0, y0, x1, y1 = shapely.bounds(area)
        self.x0, self.y0, self.cell = float(x0), float(y0), float(cell_m)
        self.nx = int(np.ceil((x1 - x0) / cell_m)) + 1
        self.ny = int(np.ceil((y1 - y0) / cell_m)) + 1
        i, j = np.meshgrid(np.arange(self.nx), np.arange(self.ny), indexing="ij")
        boxes = shapely.box(
            x0 + i.ravel() * cell_m,
            y0 + j.ravel() * cell_m,
            x0 + (i.ravel() + 1) * cell_m,
            y0 + (j.ravel() + 1) * cell_m,
        )
        inside = shapely.contains(area, boxes)
        touches = shapely.intersects(area, boxes)
        self.grid = np.where(inside, 1, np.where(touches, 2, 0)).reshape(self.nx, self.ny)

    def contains(self, x: float, y: float) -> bool:
        """True when the point lies in the area."""
        i = int((x - self.x0) // self.cell)
        j = int((y - self.y0) // self.cell)
        if not (0 <= i < self.nx and 0 <= j < self.ny):
            return False
        code = self.grid[i, j]
        if code != 2:
            return bool(code)
        return bool(shapely.contains_xy(self.area, x, y))

    def distance(self, x: float, y: float) -> float:
        """Metres from the point to the area (0 inside)."""
        return float(shapely.distance(self.area, shapely.Point(x, y)))
