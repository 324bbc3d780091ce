"""Read and write the address-index files a city supplies (or that we build).

Addresses: OpenAddresses-style CSV (``number, street, unit, city, postcode, lon, lat``,
optionally ``count``); intersections: ``street_a, street_b, city, postcode, lon, lat``.
Places (aliases, landmarks, neighbouring towns): ``kind, name, means, lon, lat, source``.
Plain or gzip-compressed CSV all work.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geodispatch.domain.errors import InputError, SchemaError
from geodispatch.geo import address, address_index
from geodispatch.geo.address_index import ADDRESS_COLUMNS, INTERSECTION_COLUMNS, AddressIndex
from geodispatch.geo.crs import DEFAULT_WORKING_CRS
from geodispatch.geo.places import PLACE_COLUMNS, PlaceBook, places_from_frame
from geodispatch.io.built_cache import cache_key, load_or_build

#: Modules whose code decides what a built address index holds.
_INDEX_CODE = (address, address_index)

#: Columns of a city export the index builder reads.
REQUEST_COLUMNS = ("location", "latitude", "longitude", "open_dt")


def read_address_index(
    addresses: Path,
    intersections: Path | None = None,
    *,
    working_crs: str = DEFAULT_WORKING_CRS,
    cache_dir: Path | None = None,
) -> AddressIndex:
    """Load the address table (and the intersections table if it exists) into an index.

    With ``cache_dir`` the built index is kept there, keyed by the files' content, and the
    next process loads it instead of building it again.

    Raises
    ------
    InputError
        When the address file is missing or is not a CSV with the OpenAddresses columns.
    """
    if not addresses.exists():
        raise InputError(
            f"address index {addresses} does not exist; build one with "
            "'geodispatch geocode build-index' or set GEODISPATCH_ADDRESS_INDEX"
        )
    sources = [addresses] + ([intersections] if intersections is not None else [])

    def build() -> AddressIndex:
        table = _read(addresses, ADDRESS_COLUMNS, "address index")
        inter = None
        if intersections is not None and intersections.exists():
            inter = _read(intersections, INTERSECTION_COLUMNS, "intersection index")
        return AddressIndex.from_frames(table, inter, working_crs=working_crs)

    key = cache_key(sources, working_crs, _INDEX_CODE)
    return load_or_build(cache_dir, "address-index", key, build, expect=AddressIndex)


def read_place_table(path: Path, *, working_crs: str = DEFAULT_WORKING_CRS) -> PlaceBook:
    """The city's alias / landmark / neighbouring-town table (see :mod:`geo.places`).

    Raises
    ------
    InputError
        When the file is missing, unreadable, lacks a column or has a bad row (the message
        names the row, the field, the value and the fix).
    """
    if not path.exists():
        raise InputError(
            f"place table {path} does not exist; set GEODISPATCH_PLACE_TABLE to the city's "
            f"CSV ({', '.join(PLACE_COLUMNS)}) or to an empty value to go without one"
        )
    return places_from_frame(_read(path, PLACE_COLUMNS, "place table"), working_crs=working_crs)


def write_index_tables(
    addresses: pd.DataFrame, intersections: pd.DataFrame, out_dir: Path, *, prefix: str
) -> tuple[Path, Path]:
    """Write both tables as ``<prefix>_addresses.csv.gz`` / ``<prefix>_intersections.csv.gz``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = (
        out_dir / f"{prefix}_addresses.csv.gz",
        out_dir / f"{prefix}_intersections.csv.gz",
    )
    for frame, path in zip((addresses, intersections), paths, strict=True):
        tmp = path.with_name(path.name + ".tmp")
        frame.to_csv(tmp, index=False, compression={"method": "gzip", "mtime": 0})
        tmp.replace(path)
    return paths


def read_geocoded_requests(path: Path) -> pd.DataFrame:
    """The columns of a Boston-style export the index builder needs, as text."""
    if not path.exists():
        raise InputError(f"request file {path} does not exist; check the path")
    return _read(path, REQUEST_COLUMNS, "request export", usecols=True)


def _read(
    path: Path, columns: tuple[str, ...], what: str, *, usecols: bool = False
) -> pd.DataFrame:
    try:
        header = pd.read_csv(path, nrows=0).columns
    except (UnicodeDecodeError, pd.errors.ParserError, OSError) as exc:
        raise InputError(f"{what} {path.name} is not a readable CSV ({exc})") from None
    # OpenAddresses writes its headers in capitals (NUMBER, STREET, ..., LON, LAT)
    names = {str(c).strip().lower(): c for c in header}
    missing = [c for c in columns if c not in names]
    if missing:
        raise SchemaError(
            f"{what} {path.name}: no column {', '.join(map(repr, missing))} (found "
            f"{', '.join(map(str, header[:12]))}); it needs {', '.join(columns)}"
        )
    frame = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        usecols=[names[c] for c in columns] if usecols else None,
    )
    return frame.rename(columns={names[c]: c for c in columns})
