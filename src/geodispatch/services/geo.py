"""Put requests on the map and in their areas: geocode, reverse-geocode, assign wards/layers.

``locate`` is the one step intake runs after storing an import (and the CLI runs over the
whole database): requests without a source point are geocoded from their address text,
pin-only requests get the nearest known address, and every request of the import gets the
area of each configured layer (ward, precinct, neighbourhood, ...). Indexes are built once
per process and reused.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from geodispatch.config import AreaLayer, Settings, get_settings
from geodispatch.domain.errors import InputError
from geodispatch.geo.address_index import AddressIndex, tables_from_requests
from geodispatch.geo.crs import to_working
from geodispatch.geo.geocode import NONE, Geocoder, OfflineGeocoder
from geodispatch.geo.wards import AreaIndex
from geodispatch.intake.normalize import BOSTON_PLACEHOLDER
from geodispatch.io.address_files import (
    read_address_index,
    read_geocoded_requests,
    write_index_tables,
)
from geodispatch.io.boundaries import read_boundaries
from geodispatch.io.online_geocode import FallbackGeocoder, nominatim
from geodispatch.storage import geo_repo
from geodispatch.storage.db import Session, session_scope, upgrade

#: Called with (items done, items in all) as a step advances.
Progress = Callable[[int, int | None], None]

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
    addresses: Path, intersections: Path, stamp: tuple[float, float], crs: str
) -> OfflineGeocoder:
    del stamp  # part of the cache key only: a rebuilt file is read again
    return OfflineGeocoder(read_address_index(addresses, intersections, working_crs=crs))


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
    stamp = (_mtime(addresses), _mtime(intersections))
    return _offline(addresses, intersections, stamp, settings.working_crs)


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
    cache = geo_repo.SqlGeocodeCache(session, now=datetime.now(UTC))
    online = nominatim(
        cache, user_agent=settings.online_user_agent, bounds=_service_bounds(offline.index)
    )
    return FallbackGeocoder(offline, online)


@functools.cache
def _area_index(
    path: Path, id_column: str, crs: str | None, stamp: float, working: str
) -> AreaIndex:
    del stamp
    layer = read_boundaries(path, id_column=id_column, crs=crs)
    return AreaIndex(to_working(layer, working), working_crs=working)


def area_layers(settings: Settings) -> tuple[list[tuple[AreaLayer, AreaIndex]], list[str]]:
    """Prepared configured layers, and a note for each layer whose file is missing."""
    ready = []
    notes = []
    for layer in settings.area_layers:
        path = settings.data_path(layer.path)
        if not path.exists():
            notes.append(f"layer {layer.name!r}: {path} does not exist; not assigned")
            continue
        index = _area_index(path, layer.id_column, layer.crs, _mtime(path), settings.working_crs)
        ready.append((layer, index))
    return ready, notes


# the locate step ----------------------------------------------------------------------------


def locate(
    session: Session,
    settings: Settings,
    *,
    import_id: int | None = None,
    redo: bool = False,
    progress: Progress | None = None,
) -> LocateSummary:
    """Geocode, describe pins and assign areas, for one import's requests or for all.

    Nothing is lost when the address index or a layer file is missing: the step is skipped
    with a note in the summary.
    """
    summary = LocateSummary()
    pending = geo_repo.requests_to_geocode(session, import_id=import_id, redo=redo)
    pins = geo_repo.requests_to_reverse(session, import_id=import_id)
    if len(pending) or len(pins):
        try:
            offline = offline_geocoder(settings)
        except InputError as exc:
            summary.notes.append(f"geocoding skipped: {exc}")
        else:
            if len(pending):
                _geocode(session, settings, pending, summary, progress)
            if len(pins):
                near = offline.reverse(
                    pins["lon"].to_numpy(dtype=float),
                    pins["lat"].to_numpy(dtype=float),
                    max_distance_m=REVERSE_WITHIN_M,
                )
                found = (near["match"] != NONE).to_numpy()
                labels = [f"near {a}" for a in near["address"][found]]
                geo_repo.save_nearest_addresses(session, pins["id"][found].tolist(), labels)
                summary.pins_described = int(found.sum())
    _assign(session, settings, import_id, summary)
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
    geo_repo.save_geocodes(session, pending["id"].tolist(), results)
    placed = (results["match"] != NONE).to_numpy()
    summary.geocoded += int(placed.sum())
    summary.not_found += int((~placed).sum())
    summary.flagged += int((results["flag"] != "").to_numpy().sum())
    for match, n in results["match"].value_counts().items():
        summary.by_match[str(match)] = summary.by_match.get(str(match), 0) + int(n)


def _assign(
    session: Session, settings: Settings, import_id: int | None, summary: LocateSummary
) -> None:
    layers, notes = area_layers(settings)
    summary.notes.extend(notes)
    if not layers:
        return
    points = geo_repo.request_points(session, import_id=import_id)
    if points.empty:
        return
    lon = points["lon"].to_numpy(dtype=float)
    lat = points["lat"].to_numpy(dtype=float)
    ids = points["id"].to_numpy(dtype=np.int64)
    for layer, index in layers:
        areas = index.assign(lon, lat)
        geo_repo.save_areas(
            session,
            layer.name,
            ids,
            areas,
            import_id=import_id,
            ward_layer=layer.name == "ward",
        )
        assigned = int(areas["area_id"].notna().sum())
        summary.assigned[layer.name] = assigned
        summary.unassigned[layer.name] = len(areas) - assigned


# user actions -------------------------------------------------------------------------------


def geocode_requests(
    *, redo: bool = False, settings: Settings | None = None, progress: Progress | None = None
) -> LocateSummary:
    """Geocode stored requests without a point, then assign every request its areas.

    ``redo`` geocodes again every request whose point did not come from the source.
    """
    settings = settings or get_settings()
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        return locate(session, settings, redo=redo, progress=progress)


def assign_all_areas(*, settings: Settings | None = None) -> LocateSummary:
    """Assign every stored request to the areas of every configured layer."""
    settings = settings or get_settings()
    upgrade(settings.database_url)
    summary = LocateSummary()
    with session_scope(settings.database_url) as session:
        _assign(session, settings, None, summary)
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


def _mtime(path: Path) -> float:
    return path.stat().st_mtime if path.exists() else 0.0
