"""Fixtures for the hotspot tests: synthetic point fields and a small real Boston database."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodispatch.config import Settings, get_settings
from geodispatch.services.geo import service_area

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
BOSTON_2011 = DATA / "boston" / "311_service_requests_2011.csv.gz"
T0 = pd.Timestamp("2024-01-01", tz="UTC")


def uniform(
    rng: np.random.Generator,
    n: int,
    *,
    side: float,
    x0: float = 0.0,
    y0: float = 0.0,
    code: str = "pothole",
    days: float = 360.0,
) -> pd.DataFrame:
    """n reports spread uniformly over a square, at uniform times over ``days``."""
    return pd.DataFrame(
        {
            "x": x0 + rng.uniform(0, side, n),
            "y": y0 + rng.uniform(0, side, n),
            "service_code": code,
            "created_at": T0 + pd.to_timedelta(rng.uniform(0, days, n), unit="D"),
        }
    )


def disc(
    rng: np.random.Generator,
    n: int,
    *,
    x: float,
    y: float,
    radius: float,
    code: str = "pothole",
    start_day: float = 0.0,
    end_day: float = 360.0,
) -> pd.DataFrame:
    """n reports in a disc, at uniform times in [start_day, end_day)."""
    r = radius * np.sqrt(rng.uniform(0, 1, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    return pd.DataFrame(
        {
            "x": x + r * np.cos(angle),
            "y": y + r * np.sin(angle),
            "service_code": code,
            "created_at": T0 + pd.to_timedelta(rng.uniform(start_day, end_day, n), unit="D"),
        }
    )


def boston_subset(path: Path, every: int, *, offset: int = 0) -> Path:
    """Every ``every``-th record (from ``offset``) of the real Boston 2011 export."""
    with (
        gzip.open(BOSTON_2011, "rt", encoding="utf-8", newline="") as source,
        path.open("w", encoding="utf-8", newline="") as target,
    ):
        reader = csv.reader(source)
        writer = csv.writer(target)
        writer.writerow(next(reader))
        for n, record in enumerate(reader):
            if n % every == offset:
                writer.writerow(record)
    return path


def heat_points(page: str) -> list[list[float]]:
    """The (lat, lon, requests) entries of a rendered map's heat layer.

    The page writes them as an origin, a unit and (lat step, lon step, requests) from
    one point to the next (``CompactHeatMap``); this adds the steps up again.
    """
    start = page.index("})(", page.index("L.heatLayer(")) + len("})(")
    origin_end = page.index("]", start) + 1
    origin = json.loads(page[start:origin_end])
    unit_end = page.index(",", origin_end + 1)
    unit = float(page[origin_end + 1 : unit_end])
    steps_end = page.index("]", unit_end) + 1
    steps = json.loads(page[unit_end + 1 : steps_end])
    grid = np.cumsum(np.reshape(steps, (-1, 3))[:, :2], axis=0)
    return [
        [round(origin[0] + lat * unit, 6), round(origin[1] + lon * unit, 6), float(w)]
        for (lat, lon), w in zip(grid.tolist(), steps[2::3], strict=True)
    ]


def report(
    source_id: str,
    lon: float,
    lat: float,
    code: str = "PWDx_Pothole",
    when: str = "2011-11-20T09:00:00-05:00",
) -> dict[str, object]:
    """One Open311 request as a resident's app would send it."""
    return {
        "service_request_id": source_id,
        "service_code": code,
        "service_name": code.removeprefix("PWDx_"),
        "description": "reported again",
        "requested_datetime": when,
        "status": "open",
        "lat": lat,
        "long": lon,
    }


def city_with_busy_corner(
    corner: tuple[float, float], *, seed: int, address: str, description: str
) -> list[dict[str, object]]:
    """A city of pothole, graffiti and litter reports, and 40 potholes at ``corner`` (lon, lat).

    The corner's potholes come three weeks apart (40 incidents, not one merged job) and 16
    of them carry ``address`` and ``description``, so a refresh makes the corner a stored
    area hotspot (potholes over-represented against the other types there) whose most
    reported address is ``address`` with 16 reports.
    """
    rng = np.random.default_rng(seed)
    background = [
        report(f"BG-{code}-{k}", lon, lat, code)
        for code in ("PWDx_Pothole", "PWDx_Graffiti", "PWDx_Litter")
        for k, (lon, lat) in enumerate(points_in_city(rng, 300))
    ]
    days = pd.Timestamp("2010-01-04T09:00:00-05:00") + pd.to_timedelta(np.arange(40) * 21, "D")
    busy = []
    offsets = rng.normal(0, 0.0001, (40, 2))
    for k, ((dx, dy), day) in enumerate(zip(offsets, days, strict=True)):
        item = report(f"CORNER-{k}", corner[0] + dx, corner[1] + dy, when=day.isoformat())
        item["address"] = address if k < CORNER_ADDRESS_REPORTS else f"{k} Corner Side St"
        item["description"] = description if k < CORNER_ADDRESS_REPORTS else "reported again"
        busy.append(item)
    return background + busy


def points_in_city(rng: np.random.Generator, n: int) -> list[tuple[float, float]]:
    """``n`` random (lon, lat) points in central Boston that intake accepts (inside the city)."""
    area = service_area(Settings(data_dir=DATA))
    assert area is not None
    chosen: list[tuple[float, float]] = []
    while len(chosen) < n:
        lons, lats = rng.uniform(-71.12, -71.03, n), rng.uniform(42.30, 42.37, n)
        inside = area.contains(lons, lats)
        chosen += list(zip(lons[inside].tolist(), lats[inside].tolist(), strict=True))
    return chosen[:n]


#: Reports at the busy corner that carry its address (the hotspot's most reported one).
CORNER_ADDRESS_REPORTS = 16


@pytest.fixture
def hs_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for a fresh SQLite database in tmp_path, also exported for the CLI."""
    settings = Settings(home=tmp_path / "home", data_dir=DATA)
    monkeypatch.setenv("GEODISPATCH_HOME", str(settings.home))
    monkeypatch.setenv("GEODISPATCH_DATA_DIR", str(DATA))
    monkeypatch.delenv("GEODISPATCH_DB_URL", raising=False)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def boston_db(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A database holding every 4th real Boston 2011 request (14.6k) and their hotspots."""
    from geodispatch.services.hotspots import refresh_hotspots
    from geodispatch.services.intake import import_file

    folder = tmp_path_factory.mktemp("boston")
    settings = Settings(home=folder / "home", data_dir=DATA)
    import_file(
        boston_subset(folder / "boston_2011_sample.csv", 4), source="boston", settings=settings
    )
    refresh_hotspots(settings=settings)
    return settings


#: A resident's description that tries to run script in a map popup.
XSS_DESCRIPTION = '<script>alert("pwned")</script> pothole again'
