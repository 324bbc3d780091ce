"""Put requests on the map and in their areas: geocode, reverse-geocode, assign wards/layers.

Intake stores every request with the area of each configured layer (ward, precinct,
neighbourhood, ...) computed from the point it arrived with (:func:`intake_areas`, written
in the same insert). ``locate`` then runs once per import (and the CLI runs it over the
whole database): requests without a source point are geocoded from their address text and
get their areas, and pin-only requests get the nearest known address. The address index is
loaded only when some request needs it; indexes are built once per process and reused.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geodispatch.config import AreaLayer, Settings, get_settings
from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import LocationStatus
from geodispatch.geo import crs as crs_module
from geodispatch.geo import wards as wards_module
from geodispatch.geo.address_index import AddressIndex, tables_from_requests
from geodispatch.geo.crs import lonlat_to_working, to_working
from geodispatch.geo.geocode import NONE, Geocoder, OfflineGeocoder
from geodispatch.geo.places import area_shapes, service_area_of
from geodispatch.geo.service_area import ServiceArea
from geodispatch.geo.wards import AREA_COLUMNS, AreaIndex, WardParams, combine_layers
from geodispatch.intake.normalize import BOSTON_PLACEHOLDER, AreaCheck
from geodispatch.io import boundaries as boundaries_module
from geodispatch.io.address_files import (
    read_address_index,
    read_geocoded_requests,
    read_place_table,
    write_index_tables,
)
from geodispatch.io.boundaries import read_boundaries
from geodispatch.io.built_cache import cache_key, load_or_build
from geodispatch.io.online_geocode import FallbackGeocoder, nominatim
from geodispatch.services import clock
from geodispatch.storage import geo_repo
from geodispatch.storage.db import Session, ensure_schema, session_scope

#: Called with (items done, items in all) as a step advances.
Progress = Callable[[int, int | None], None]

#: Modules whose code decides what a cached area layer holds.
_AREA_CODE = (wards_module, boundaries_module, crs_module)

#: How far a map pin may be from an indexed address for that address to describe it.
REVERSE_WITHIN_M = 60.0


@dataclass(slots=True)
class LocateSummary:
    """What one locate run did."""

    geocoded: int = 0
    not_found: int = 0
    flagged: int = 0
    by_match: dict[str, int] = field(default_factory=dict)
    pins_described: int = 0
    assigned: dict[str, int] = field(default_factory=dict)
    unassigned: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def tried(self) -> int:
        """Addresses geocoding was asked about."""
        return self.geocoded + self.not_found


@dataclass(frozen=True, slots=True)
class BuildSummary:
    """What building an address index from geocoded requests produced."""

    rows_read: int
    rows_used: int
    addresses: int
    intersections: int
    files: tuple[Path, Path]


# indexes, built once per process -------------------------------------------------------------


@functools.cache
def _offline(
    addresses: Path,
    intersections: Path,
    places: Path | None,
    stamp: tuple[float, ...],
    crs: str,
    cache_dir: Path | None,
    layers: tuple[tuple[str, Path, str, str | None, float], ...],
) -> OfflineGeocoder:
    del stamp  # part of the cache key only: a rebuilt file is read again
    index = read_address_index(addresses, intersections, working_crs=crs, cache_dir=cache_dir)
    book = read_place_table(places, working_crs=crs) if places is not None else None
    neighbourhoods = None
    service_area = None
    for name, path, id_column, layer_crs, mtime in layers:
        area = _area_index(path, id_column, layer_crs, mtime, crs, cache_dir)
        if name == "neighborhood":
            neighbourhoods = area_shapes(area.ids, area.geometries)
        else:
            service_area = service_area_of(area.geometries)
    return OfflineGeocoder(
        index, places=book, neighbourhoods=neighbourhoods, service_area=service_area
    )


def offline_geocoder(settings: Settings | None = None) -> OfflineGeocoder:
    """The offline geocoder over the configured address index (cached per file version).

    Raises
    ------
    InputError
        When the configured address index file does not exist.
    """
    settings = settings or get_settings()
    addresses = settings.data_path(settings.address_index)
    intersections = settings.data_path(settings.intersection_index)
    named = str(settings.place_table) not in ("", ".")
    places = settings.data_path(settings.place_table) if named else None
    stamp = (_mtime(addresses), _mtime(intersections), _mtime(places) if places else 0.0)
    # the ward layer bounds the service area; neighbourhood names are place evidence
    layers = tuple(
        (layer.name, path, layer.id_column, layer.crs, _mtime(path))
        for layer in settings.area_layers
        if layer.name in ("ward", "neighborhood")
        and (path := settings.data_path(layer.path)).exists()
    )
    return _offline(
        addresses,
        intersections,
        places,
        stamp,
        settings.working_crs,
        _cache_dir(settings),
        layers,
    )


def geocoder(settings: Settings, session: Session) -> Geocoder:
    """Offline geocoder, plus the configured online one for what it cannot place."""
    offline = offline_geocoder(settings)
    if not settings.online_geocoder:
        return offline
    if settings.online_geocoder.lower() != "nominatim":
        raise InputError(
            f"GEODISPATCH_ONLINE_GEOCODER={settings.online_geocoder!r} is not supported; "
            "use 'nominatim' or leave it empty (offline only)"
        )
    cache = geo_repo.SqlGeocodeCache(session, now=clock.now(settings))
    online = nominatim(
        cache, user_agent=settings.online_user_agent, bounds=_service_bounds(offline.index)
    )
    return FallbackGeocoder(offline, online)


@functools.cache
def _area_index(
    path: Path, id_column: str, crs: str | None, stamp: float, working: str, cache_dir: Path | None
) -> AreaIndex:
    """A layer ready for assignment, its lookup grid built (loaded from the cache if there)."""
    del stamp

    def build() -> AreaIndex:
        layer = read_boundaries(path, id_column=id_column, crs=crs)
        index = AreaIndex(to_working(layer, working), working_crs=working)
        index.grid  # noqa: B018 (built once here, then every batch takes the fast path)
        return index

    key = cache_key([path], f"{id_column}|{crs}|{working}|{WardParams()}", _AREA_CODE)
    return load_or_build(cache_dir, f"areas-{path.stem}", key, build, expect=AreaIndex)


def area_layers(settings: Settings) -> tuple[list[tuple[AreaLayer, AreaIndex]], list[str]]:
    """Prepared configured layers, and a note for each layer whose file is missing."""
    ready = []
    notes = []
    for layer in settings.area_layers:
        path = settings.data_path(layer.path)
        if not path.exists():
            notes.append(f"layer {layer.name!r}: {path} does not exist; not assigned")
            continue
        index = _area_index(
            path,
            layer.id_column,
            layer.crs,
            _mtime(path),
            settings.working_crs,
            _cache_dir(settings),
        )
        ready.append((layer, index))
    return ready, notes


@functools.cache
def _service_area(
    path: Path, id_column: str, crs: str | None, stamp: float, working: str, margin_m: float
) -> ServiceArea:
    del stamp  # part of the cache key only: a replaced boundary file is read again
    layer = read_boundaries(path, id_column=id_column, crs=crs)
    return ServiceArea.from_polygons(to_working(layer, working), margin_m=margin_m)


def service_area(settings: Settings) -> ServiceArea | None:
    """The city's wards (the layer named 'ward', else the first layer) plus the margin.

    None when no layer file exists: then intake checks only that points are on Earth.
    """
    layers = sorted(settings.area_layers, key=lambda layer: layer.name != "ward")
    for layer in layers:
        path = settings.data_path(layer.path)
        if path.exists():
            return _service_area(
                path,
                layer.id_column,
                layer.crs,
                _mtime(path),
                settings.working_crs,
                settings.service_area_margin_m,
            )
    return None


def area_check(settings: Settings) -> AreaCheck | None:
    """The service area in the form intake takes (None without a boundary file)."""
    area = service_area(settings)
    return None if area is None else AreaCheck(area.name, area.contains)


# area columns -------------------------------------------------------------------------------


def area_columns(
    lon: np.ndarray, lat: np.ndarray, settings: Settings, summary: LocateSummary
) -> pd.DataFrame:
    """:data:`AREA_COLUMNS` of requests at these WGS84 points; counted in ``summary``.

    With no usable layer every column is empty (the notes say which file is missing).
    """
    layers, notes = area_layers(settings)
    summary.notes.extend(n for n in notes if n not in summary.notes)
    if not layers:
        return _no_areas(len(lon))
    x, y = lonlat_to_working(
        np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), settings.working_crs
    )
    assigned = {}
    for layer, index in layers:
        areas = index.assign_xy(x, y)
        assigned[layer.name] = areas
        found = int(areas["area_id"].notna().sum())
        summary.assigned[layer.name] = summary.assigned.get(layer.name, 0) + found
        summary.unassigned[layer.name] = summary.unassigned.get(layer.name, 0) + len(x) - found
    return combine_layers(assigned, ward_layer="ward")


def intake_areas(
    settings: Settings, summary: LocateSummary
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The area columns of canonical request rows, for intake to store with the rows.

    Rows without a point but with an address text are left empty: :func:`locate` geocodes
    them right after and assigns their areas then.
    """

    def derive(rows: pd.DataFrame) -> pd.DataFrame:
        waiting = (
            (rows["location_status"] == LocationStatus.UNKNOWN.value) & (rows["address"] != "")
        ).to_numpy()
        keep = ~waiting
        found = area_columns(
            rows["lon"].to_numpy(dtype=float)[keep],
            rows["lat"].to_numpy(dtype=float)[keep],
            settings,
            summary,
        )
        if keep.all():
            return found
        out = _no_areas(len(rows))
        ward = out["ward"].array.copy()
        ward[keep] = found["ward"].array
        out["ward"] = ward
        for column in AREA_COLUMNS[1:]:
            values = out[column].to_numpy(dtype=object, copy=True)
            values[keep] = found[column].to_numpy(dtype=object)
            out[column] = values
        return out

    return derive


def _no_areas(n: int) -> pd.DataFrame:
    """Area columns that say nothing was assigned (no layer, or not yet)."""
    empty = np.full(n, None, dtype=object)
    return pd.DataFrame(
        {
            "ward": pd.array([pd.NA] * n, dtype="Int64"),
            "ward_method": empty,
            "areas": empty.copy(),
            "area_note": empty.copy(),
        }
    )


# the locate step ----------------------------------------------------------------------------


def locate(
    session: Session,
    settings: Settings,
    *,
    import_id: int | None = None,
    redo: bool = False,
    progress: Progress | None = None,
    summary: LocateSummary | None = None,
) -> LocateSummary:
    """Geocode and assign areas to requests without a source point; describe map pins.

    Works on one import's requests or on all. Nothing is lost when the address index is
    missing: geocoding is skipped with a note and those requests keep "no location".
    """
    summary = summary if summary is not None else LocateSummary()
    pending = geo_repo.requests_to_geocode(session, import_id=import_id, redo=redo)
    pins = geo_repo.requests_to_reverse(session, import_id=import_id)
    offline: OfflineGeocoder | None = None
    if len(pending) or len(pins):
        try:
            offline = offline_geocoder(settings)
        except InputError as exc:
            summary.notes.append(f"geocoding skipped: {exc}")
    if len(pending):
        if offline is not None:
            _geocode(session, settings, pending, summary, progress)
        else:
            nowhere = np.full(len(pending), np.nan)
            geo_repo.save_areas(
                session, pending["id"].tolist(), area_columns(nowhere, nowhere, settings, summary)
            )
    if len(pins) and offline is not None:
        near = offline.reverse(
            pins["lon"].to_numpy(dtype=float),
            pins["lat"].to_numpy(dtype=float),
            max_distance_m=REVERSE_WITHIN_M,
        )
        found = (near["match"] != NONE).to_numpy()
        labels = [f"near {a}" for a in near["address"][found]]
        geo_repo.save_nearest_addresses(session, pins["id"][found].tolist(), labels)
        summary.pins_described = int(found.sum())
    return summary


def _geocode(
    session: Session,
    settings: Settings,
    pending: pd.DataFrame,
    summary: LocateSummary,
    progress: Progress | None,
) -> None:
    coder = geocoder(settings, session)
    results = coder.geocode(
        pending["address"].tolist(), zipcodes=pending["zipcode"].tolist(), progress=progress
    )
    areas = area_columns(
        results["lon"].to_numpy(dtype=float),
        results["lat"].to_numpy(dtype=float),
        settings,
        summary,
    )
    geo_repo.save_geocodes(session, pending["id"].tolist(), results, areas)
    placed = (results["match"] != NONE).to_numpy()
    summary.geocoded += int(placed.sum())
    summary.not_found += int((~placed).sum())
    summary.flagged += int((results["flag"] != "").to_numpy().sum())
    for match, n in results["match"].value_counts().items():
        summary.by_match[str(match)] = summary.by_match.get(str(match), 0) + int(n)


def _assign(session: Session, settings: Settings, summary: LocateSummary) -> None:
    """Assign every stored request its areas again (after a boundary file changed)."""
    points = geo_repo.request_points(session)
    if points.empty:
        return
    areas = area_columns(
        points["lon"].to_numpy(dtype=float), points["lat"].to_numpy(dtype=float), settings, summary
    )
    geo_repo.save_areas(session, points["id"].to_numpy(dtype=np.int64), areas)


# user actions -------------------------------------------------------------------------------


def prepare_database(url: str) -> None:
    """Bring the schema up to date and check it holds what geocoding writes.

    Raises
    ------
    ConfigError
        When the database says its schema is current but lacks the columns of migration
        0002 (it was made with an earlier draft of that slot): recreate it.
    """
    ensure_schema(url)


def geocode_requests(
    *, redo: bool = False, settings: Settings | None = None, progress: Progress | None = None
) -> LocateSummary:
    """Geocode stored requests without a point and assign them their areas.

    ``redo`` geocodes again every request whose point did not come from the source.
    """
    settings = settings or get_settings()
    prepare_database(settings.database_url)
    with session_scope(settings.database_url) as session:
        return locate(session, settings, redo=redo, progress=progress)


def assign_all_areas(*, settings: Settings | None = None) -> LocateSummary:
    """Assign every stored request to the areas of every configured layer."""
    settings = settings or get_settings()
    prepare_database(settings.database_url)
    summary = LocateSummary()
    with session_scope(settings.database_url) as session:
        _assign(session, settings, summary)
    return summary


def geocode_addresses(
    addresses: list[str], *, zipcodes: list[str] | None = None, settings: Settings | None = None
) -> pd.DataFrame:
    """Geocode address strings with the offline index (no database involved)."""
    return offline_geocoder(settings).geocode(addresses, zipcodes=zipcodes)


def reverse_points(
    lon: list[float], lat: list[float], *, settings: Settings | None = None
) -> pd.DataFrame:
    """The nearest indexed address of each point."""
    return offline_geocoder(settings).reverse(
        np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), max_distance_m=REVERSE_WITHIN_M
    )


def build_index(
    source: Path,
    out_dir: Path,
    *,
    prefix: str = "boston",
    opened_before: str | None = None,
) -> BuildSummary:
    """Build address and intersection tables from a city's own geocoded export.

    Boston's 311 export carries the SAM-geocoded point of every case; the city's
    placeholder point (City Hall) is left out. ``opened_before`` (``YYYY-MM-DD``) keeps
    only the cases opened before that day.
    """
    rows = read_geocoded_requests(source)
    rows_read = len(rows)
    if opened_before:
        rows = rows[rows["open_dt"] < opened_before]
    addresses, intersections = tables_from_requests(
        rows["location"], rows["longitude"], rows["latitude"], placeholders=(BOSTON_PLACEHOLDER,)
    )
    files = write_index_tables(addresses, intersections, out_dir, prefix=prefix)
    return BuildSummary(
        rows_read=rows_read,
        rows_used=int(addresses["count"].sum() + intersections["count"].sum()),
        addresses=len(addresses),
        intersections=len(intersections),
        files=files,
    )


def _service_bounds(index: AddressIndex) -> tuple[float, float, float, float] | None:
    """The indexed area plus about 2 km, where online answers may fall."""
    if not index.size:
        return None
    pad = 0.02
    return (
        float(index.lon.min() - pad),
        float(index.lat.min() - pad),
        float(index.lon.max() + pad),
        float(index.lat.max() + pad),
    )


def _cache_dir(settings: Settings) -> Path:
    """Where built indexes are kept between processes."""
    return settings.home / "cache"


def _mtime(path: Path) -> float:
    return path.stat().st_mtime if path.exists() else 0.0
