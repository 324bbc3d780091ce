"""Hotspot actions: detect and store, tag requests, list, summarise by ward, map, export.

``refresh_hotspots`` runs the detector over the stored requests, keeps the ids of hotspots
that are still there, retires the rest, and tags every located request with the hotspot
it falls in. The manager page (and the CLI) call the read functions below; the map HTML
is cached per filter state and data version, so a page rerun does not rebuild it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import geodispatch
from geodispatch.analysis.chronic import ChronicParams, chronic_addresses
from geodispatch.analysis.emerging import EmergingParams, Trend
from geodispatch.analysis.hotspots import (
    ALL_TYPES,
    HotspotParams,
    detect_hotspots,
    hotspot_of_points,
    match_previous,
)
from geodispatch.analysis.incidents import incidents
from geodispatch.config import Settings, get_settings
from geodispatch.domain.accounts import Action, StaffUser, require
from geodispatch.domain.errors import InputError, NotFoundError
from geodispatch.geo.crs import WGS84, lonlat_to_working, to_working
from geodispatch.geo.wards import assign_areas
from geodispatch.io.boundaries import read_boundaries
from geodispatch.reporting.hotspot_export import (
    hotspots_csv,
    hotspots_geojson,
    stored_rows,
    stored_shapes,
)
from geodispatch.reporting.maps import (
    PAGE_FORMAT,
    MapParams,
    TileSource,
    build_hotspot_map,
    render_html,
)
from geodispatch.reporting.ward_summary import WardSummary, summarise_wards
from geodispatch.services import clock
from geodispatch.storage import hotspots_repo as repo
from geodispatch.storage import overview_repo
from geodispatch.storage.db import Session, ensure_schema, session_scope

#: Called with (steps done, steps in total) as a refresh advances.
Progress = Callable[[int, int | None], None]

#: The name of the configured area layer (``settings.area_layers``) that holds wards.
WARD_LAYER: Final = "ward"
_LAND_BUFFER_M: Final = 50.0  # streets on the city limit sit just outside the ward polygons


@dataclass(frozen=True, slots=True)
class RefreshSummary:
    """What a refresh found and stored."""

    run_id: int
    analysed: int
    excluded: int
    placeholder_points: int
    hotspots: int
    by_trend: dict[str, int]
    continued: int
    new: int
    retired: int
    tagged: int
    as_of: datetime | None
    window_start: datetime | None
    seconds: float
    wards_used: bool


@dataclass(frozen=True, slots=True)
class HotspotFilter:
    """What a manager selected; hashable, so map HTML can be cached per filter state.

    Empty tuples mean "all". ``trends`` filters hotspots only; ``since``/``until`` filter
    the requests drawn (hotspots describe the whole analysed period). Places where many
    types pile up together (``include_all_types``) and hotspots held by one address
    (``include_one_address``: those are chronic addresses) are left out unless asked;
    ``crew_activity`` adds the city's own work orders to the map as their own layers.
    """

    service_codes: tuple[str, ...] = ()
    wards: tuple[int, ...] = ()
    trends: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    include_all_types: bool = False
    include_one_address: bool = False
    crew_activity: bool = False

    def __post_init__(self) -> None:
        allowed = {t.value for t in Trend}
        unknown = [t for t in self.trends if t not in allowed]
        if unknown:
            raise InputError(
                f"unknown trend(s) {', '.join(unknown)}; use {', '.join(sorted(allowed))}"
            )
        if self.since and self.until and self.since > self.until:
            raise InputError(
                f"since ({self.since:%Y-%m-%d}) is after until ({self.until:%Y-%m-%d})"
            )


@dataclass(frozen=True, slots=True)
class HotspotRef:
    """The hotspot a point falls in, for tagging a new request on intake."""

    id: int
    service_code: str | None
    service_name: str
    trend: str
    ratio: float


def _ready(url: str) -> None:
    """Migrate the database once per process (and check the hotspot tables are there)."""
    ensure_schema(url)


def refresh_hotspots(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    as_of: datetime | None = None,
    params: HotspotParams | None = None,
    emerging: EmergingParams | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    by: StaffUser | None = None,
) -> RefreshSummary:
    """Detect hotspots over the stored requests of [since, until] and store them.

    Events are incidents of the types residents report: the requests of one job count
    once, a request closed as a duplicate adds nothing, and the catalogue's internal
    types (the city's own work orders) are left out. The trend window ends at ``as_of``
    (default ``until``, else the newest request: the data's last day). Hotspots that
    continue one already stored (same type, overlapping) keep its id; those gone are
    retired. Every located request, in the period or not, is then tagged with the
    hotspot of its own type it falls in, else with the all-types hotspot, else none.
    Requests at the City Hall placeholder have no location and never seed a hotspot.
    A signed-in ``by`` must be allowed to recompute hotspots.
    """
    if by is not None:
        require(by, Action.FIND_HOTSPOTS)
    settings = settings or get_settings()
    # busy places (all types together) are stored too, for the page to show when asked
    params = params or HotspotParams(all_types=True)
    emerging = emerging or EmergingParams()
    started = time.perf_counter()
    steps = 5
    tick = progress or (lambda _done, _total: None)
    url = settings.database_url
    _ready(url)
    now = clock.now(settings)
    settings_json = json.dumps(
        {"hotspots": asdict(params), "emerging": asdict(emerging)}, default=str
    )
    with session_scope(url) as session:
        run_id = repo.start_run(session, now=now, params=settings_json)
        requests = repo.load_requests(session, since=since, until=until)
        public = repo.type_visibility(session)
        previous = repo.load_hotspots(session)
    tick(1, steps)

    wards = _read_wards(settings)
    events = resident_incidents(requests, public)
    x, y = lonlat_to_working(
        events["lon"].to_numpy(), events["lat"].to_numpy(), settings.working_crs
    )
    points = pd.DataFrame(
        {
            "x": x,
            "y": y,
            "service_code": events["service_code"].to_numpy(),
            "created_at": events["created_at"].to_numpy(),
            "is_open": events["is_open"].to_numpy(),
            "address": events["address"].to_numpy(),
        }
    )
    land = None
    if wards is not None:
        land = shapely.union_all(wards.geometry.to_numpy()).buffer(_LAND_BUFFER_M)
    result = detect_hotspots(
        points,
        params=params,
        emerging=emerging,
        as_of=_analysis_date(as_of, until),
        land=land,
        timezone=settings.timezone,
        crs=settings.working_crs,
    )
    tick(2, steps)

    found = result.hotspots
    names = dict(zip(requests["service_code"], requests["service_name"], strict=True))
    table = stored_rows(found, wards, names)
    table["id"] = match_previous(
        gpd.GeoDataFrame(table, geometry=found.to_crs(WGS84).geometry.to_numpy(), crs=WGS84),
        stored_shapes(previous),
    ).to_numpy()
    tick(3, steps)

    with session_scope(url) as session:
        ids = repo.save_hotspots(session, table, run_id=run_id, now=now)
        table["id"] = ids
        repo.clear_request_hotspots(session)
        every = repo.load_requests(session, columns=("id", "service_code", "lon", "lat"))
        tags = tag_points(every["lon"], every["lat"], every["service_code"], table)
        tagged = int((tags >= 0).sum())
        keep = tags >= 0
        repo.set_request_hotspots(session, every["id"].to_numpy()[keep], tags[keep])
        tick(4, steps)
        repo.finish_run(
            session,
            run_id,
            now=clock.now(settings),
            period_start=since,
            as_of=_py(result.as_of),
            window_start=_py(result.window_start),
            requests_analysed=result.analysed,
            requests_excluded=result.excluded,
            hotspots=len(table),
            note=_run_note(result.placeholders, wards_used=wards is not None),
        )
    tick(5, steps)
    continued = int(pd.Series(table["id"]).isin(previous["id"]).sum()) if len(previous) else 0
    return RefreshSummary(
        run_id=run_id,
        analysed=result.analysed,
        excluded=result.excluded,
        placeholder_points=len(result.placeholders),
        hotspots=len(table),
        by_trend={str(k): int(v) for k, v in table["trend"].value_counts().items()},
        continued=continued,
        new=len(table) - continued,
        retired=len(previous) - continued,
        tagged=tagged,
        as_of=_py(result.as_of),
        window_start=_py(result.window_start),
        seconds=time.perf_counter() - started,
        wards_used=wards is not None,
    )


def _analysis_date(as_of: datetime | None, until: datetime | None) -> pd.Timestamp | None:
    """The end of the trend window: ``as_of``, else ``until``, else None (the newest event)."""
    chosen = as_of if as_of is not None else until
    return None if chosen is None else pd.Timestamp(chosen)


def _resident(codes: pd.Series, public: dict[str, bool]) -> np.ndarray:
    """Which rows are of types residents report (the catalogue's flag; unknown: resident)."""
    return np.array([public.get(str(c), True) for c in codes], dtype=bool)


def resident_incidents(requests: pd.DataFrame, public: dict[str, bool]) -> pd.DataFrame:
    """One row per incident of a type residents report, with its request count.

    The catalogue decides what is internal (``public`` False): those requests are crew
    work logs and stay out of problem hotspots. Of the rest, each job counts once, at
    its first request (:func:`geodispatch.analysis.incidents.incidents`).
    """
    kept = requests[_resident(requests["service_code"], public)]
    grouped = incidents(kept)
    out = kept[grouped.event].copy()
    out["requests"] = grouped.requests[grouped.incident[grouped.event]]
    return out.reset_index(drop=True)


def _py(value: pd.Timestamp | None) -> datetime | None:
    return None if value is None else value.to_pydatetime()


def _run_note(placeholders: pd.DataFrame, *, wards_used: bool) -> str:
    notes = []
    if len(placeholders):
        total = int(placeholders["reports"].sum())
        notes.append(
            f"{total:,} reports at {len(placeholders)} placeholder point(s) left out "
            "(one exact point with reports of many unrelated types)"
        )
    if not wards_used:
        notes.append("no ward layer found: land inferred from the reports, no ward per hotspot")
    return "; ".join(notes)


@dataclass(frozen=True, slots=True)
class _WardSource:
    """Where the ward polygons come from (hashable: a cache key)."""

    path: str
    id_column: str
    crs: str | None
    working_crs: str


def _ward_source(settings: Settings) -> _WardSource | None:
    """The configured ward layer (``settings.area_layers``), or None when absent."""
    for layer in settings.area_layers:
        if layer.name == WARD_LAYER:
            path = settings.data_path(layer.path)
            if path.exists():
                return _WardSource(str(path), layer.id_column, layer.crs, settings.working_crs)
    return None


def _read_wards(settings: Settings) -> gpd.GeoDataFrame | None:
    source = _ward_source(settings)
    return None if source is None else _cached_wards(source)


@functools.cache
def _cached_wards(source: _WardSource) -> gpd.GeoDataFrame:
    layer = read_boundaries(Path(source.path), id_column=source.id_column, crs=source.crs)
    return to_working(layer, source.working_crs)


def tag_points(
    lon: pd.Series | np.ndarray,
    lat: pd.Series | np.ndarray,
    service_code: pd.Series | np.ndarray,
    hotspots: pd.DataFrame,
) -> np.ndarray:
    """For each point: id of its own type's hotspot it is in, else the all-types one, else -1.

    ``hotspots`` are stored rows (``id``, ``service_code``, ``geometry`` as GeoJSON text);
    the rule is :func:`geodispatch.analysis.hotspots.hotspot_of_points`.
    """
    if hotspots.empty:
        return np.full(len(lon), -1, dtype=np.int64)
    return hotspot_of_points(
        np.asarray(lon, dtype=float),
        np.asarray(lat, dtype=float),
        np.asarray(service_code, dtype=object),
        polygons=shapely.from_geojson(hotspots["geometry"].to_numpy(dtype=object)),
        polygon_codes=hotspots["service_code"].to_numpy(dtype=object),
        ids=hotspots["id"].to_numpy(dtype=np.int64),
    )


def tag_requests(request_ids: list[int] | None = None, *, settings: Settings | None = None) -> int:
    """Tag requests (all located ones, or the given ids) with the hotspot they fall in.

    Call after importing new requests; returns how many landed in a hotspot.
    """
    settings = settings or get_settings()
    _ready(settings.database_url)
    with session_scope(settings.database_url) as session:
        hotspots = repo.load_hotspots(session)
        requests = repo.load_requests(session, columns=("id", "service_code", "lon", "lat"))
        if request_ids is not None:
            requests = requests[requests["id"].isin(request_ids)]
        tags = tag_points(requests["lon"], requests["lat"], requests["service_code"], hotspots)
        repo.set_request_hotspots(session, requests["id"].to_numpy(), tags)
        return int((tags >= 0).sum())


def tag_imported(session: Session, import_id: int) -> int:
    """Tag the requests an import just stored with the active hotspot each falls in.

    Called by intake inside the import's transaction, after the requests are located, so
    a new report of a known problem corner is linked to it at once, not at the next
    refresh. Only tags that change are written; nothing is read when no hotspot is
    stored. Returns how many of the import's requests lie in a hotspot.
    """
    if not repo.has_active_hotspots(session):
        return 0
    requests = repo.import_requests(session, import_id)
    if requests.empty:
        return 0
    hotspots = repo.hotspot_shapes(session, set(requests["service_code"]))
    tags = tag_points(requests["lon"], requests["lat"], requests["service_code"], hotspots)
    changed = tags != requests["hotspot_id"].to_numpy()
    repo.set_request_hotspots(session, requests["id"].to_numpy()[changed], tags[changed])
    return int((tags >= 0).sum())


def hotspot_at(
    lon: float, lat: float, service_code: str, *, settings: Settings | None = None
) -> HotspotRef | None:
    """The active hotspot a new report at (lon, lat) of this type falls in, if any."""
    settings = settings or get_settings()
    frame = _active_hotspots(settings)
    tag = int(tag_points(np.array([lon]), np.array([lat]), np.array([service_code]), frame)[0])
    if tag < 0:
        return None
    row = frame[frame["id"] == tag].iloc[0]
    return HotspotRef(
        id=tag,
        service_code=row["service_code"],
        service_name=str(row["service_name"]),
        trend=str(row["trend"]),
        ratio=float(row["ratio"]),
    )


def _active_hotspots(settings: Settings) -> pd.DataFrame:
    _ready(settings.database_url)
    with session_scope(settings.database_url) as session:
        return repo.load_hotspots(session)


def list_hotspots(
    selection: HotspotFilter | None = None, *, settings: Settings | None = None
) -> pd.DataFrame:
    """Active hotspots matching the filter, strongest first (smallest q, largest ratio)."""
    settings = settings or get_settings()
    selection = selection or HotspotFilter()
    _ready(settings.database_url)
    with session_scope(settings.database_url) as session:
        frame = repo.load_hotspots(session)
        tagged = repo.tagged_counts(session)
    frame["n_requests"] = frame["id"].map(tagged).fillna(0).astype("int64")
    return _select_hotspots(frame, selection)


#: A hotspot where one address holds at least this share of the incidents is that
#: address's finding (a chronic address), not an area's.
ONE_ADDRESS_SHARE: Final = 0.5


def _select_hotspots(frame: pd.DataFrame, selection: HotspotFilter) -> pd.DataFrame:
    frame = frame.assign(
        one_address=(
            frame["top_address_reports"].astype(float)
            >= ONE_ADDRESS_SHARE * frame["n_reports"].astype(float)
        ).to_numpy(dtype=bool)
    )
    keep = np.ones(len(frame), dtype=bool)
    if not selection.include_one_address:
        keep &= ~frame["one_address"].to_numpy(dtype=bool)
    codes = frame["service_code"]
    if selection.service_codes:
        keep &= codes.isin(selection.service_codes).to_numpy()
        if selection.include_all_types:
            keep |= codes.isna().to_numpy()
    elif not selection.include_all_types:
        keep &= codes.notna().to_numpy()
    if selection.wards:
        wanted = {str(w) for w in selection.wards}
        in_ward = [bool(wanted & set(str(s).split(";"))) for s in frame["wards"].fillna("")]
        keep &= np.asarray(in_ward, dtype=bool)
    if selection.trends:
        keep &= frame["trend"].isin(selection.trends).to_numpy()
    out = frame[keep]
    return out.sort_values(["q_value", "ratio"], ascending=[True, False], kind="stable")


def top_hotspots(
    n: int = 10,
    selection: HotspotFilter | None = None,
    *,
    per_type: bool = True,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """The ``n`` strongest hotspots (per type with ``per_type``), strongest first."""
    frame = list_hotspots(selection, settings=settings)
    if not per_type:
        return frame.head(n)
    key = frame["service_code"].fillna(ALL_TYPES)
    return frame.groupby(key, sort=False).head(n)


def emerging_hotspots(
    selection: HotspotFilter | None = None, *, settings: Settings | None = None
) -> pd.DataFrame:
    """New and intensifying hotspots (what changed lately), most certain first."""
    selection = selection or HotspotFilter()
    wanted = [
        t for t in (Trend.NEW, Trend.INTENSIFYING) if not selection.trends or t in selection.trends
    ]
    chosen = replace(selection, trends=tuple(t.value for t in wanted))
    if not wanted:
        return list_hotspots(chosen, settings=settings).head(0)
    frame = list_hotspots(chosen, settings=settings)
    return frame.sort_values(["trend_q", "ratio"], ascending=[True, False], kind="stable")


def ward_summary(
    selection: HotspotFilter | None = None,
    *,
    window_days: float = 90.0,
    as_of: datetime | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    top: int = 3,
    settings: Settings | None = None,
) -> WardSummary:
    """Requests by ward × type with their change over the last window, and ward hotspots.

    A request's ward is ours when assigned, else the city's; located requests with
    neither are placed with the ward polygons. ``as_of`` and ``until`` default to the end
    of the latest detection run, so the table describes the period the hotspots do.
    ``selection`` narrows both the requests (types, internal types unless crew activity
    is asked, dates) and the hotspots counted (every filter) to what the page shows.
    """
    settings = settings or get_settings()
    selection = selection or HotspotFilter()
    _ready(settings.database_url)
    with session_scope(settings.database_url) as session:
        run = repo.latest_run(session)
        if run is not None and run.as_of is not None:
            as_of = as_of or run.as_of
            until = until or run.as_of
        requests = repo.load_requests(
            session,
            since=selection.since or since,
            until=selection.until or until,
            service_codes=selection.service_codes or None,
            located_only=False,
        )
        public = repo.type_visibility(session)
        hotspots = _select_hotspots(repo.load_hotspots(session), selection)
    if not selection.crew_activity:
        requests = requests[_resident(requests["service_code"], public)]
    requests["ward"] = _request_wards(requests, settings)
    return summarise_wards(
        requests,
        hotspots,
        as_of=pd.Timestamp(as_of) if as_of is not None else None,
        window_days=window_days,
        top=top,
    )


def _request_wards(requests: pd.DataFrame, settings: Settings) -> pd.Series:
    return _located_wards(requests, _read_wards(settings), settings.working_crs)


def _located_wards(
    requests: pd.DataFrame, wards: gpd.GeoDataFrame | None, working_crs: str
) -> pd.Series:
    """Each request's ward: ours, else the city's, else the ward polygon its point is in."""
    ward = requests["ward"].astype("Int64").fillna(requests["source_ward"].astype("Int64"))
    out = ward.astype("string")
    missing = (ward.isna() & requests["lon"].notna()).to_numpy(dtype=bool)
    if missing.any() and wards is not None:
        placed = assign_areas(
            requests.loc[missing, "lon"].to_numpy(dtype=float),
            requests.loc[missing, "lat"].to_numpy(dtype=float),
            wards,
            working_crs=working_crs,
        )
        out.loc[missing] = placed["area_id"].to_numpy()
    return out


def hotspot_map_html(
    selection: HotspotFilter | None = None,
    *,
    tiles: TileSource | None = None,
    params: MapParams | None = None,
    settings: Settings | None = None,
) -> str:
    """The manager map for a filter as one offline HTML page, cached per filter state.

    The cache key includes a data version (latest run, request count and last update),
    so a refresh or an import gives a fresh map while page reruns reuse the HTML; built
    pages are also kept under ``settings.home/cache/maps`` for other processes. In
    Streamlit show it with ``st.components.v1.html(page, height=...)``: the page carries
    its own Leaflet, so it renders without network and sends nothing back to the script.
    """
    settings = settings or get_settings()
    selection = selection or HotspotFilter()
    url = settings.database_url
    _ready(url)
    with session_scope(url) as session:
        version = repo.data_version(session)
    return _map_html(
        url,
        version,
        selection,
        tiles,
        params or MapParams(),
        _ward_source(settings),
        settings.working_crs,
        str(settings.home / MAP_CACHE),
    )


#: Rendered maps kept on disk (under ``settings.home``), so a restarted server or a new
#: process serves a map built before (e.g. by ``geodispatch demo``) without rebuilding it.
MAP_CACHE: Final = Path("cache") / "maps"
_MAP_FILES_KEPT: Final = 24


@functools.lru_cache(maxsize=16)  # a few MB each
def _map_html(
    url: str,
    version: tuple[int, int, str],
    selection: HotspotFilter,
    tiles: TileSource | None,
    params: MapParams,
    wards: _WardSource | None,
    working_crs: str,
    cache_dir: str,
) -> str:
    # the drawing code's versions too: an upgrade never serves a page an older one drew
    drawn_by = (PAGE_FORMAT, geodispatch.__version__, importlib.metadata.version("folium"))
    key = repr((drawn_by, url, version, selection, tiles, params, wards, working_crs))
    path = Path(cache_dir) / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.html"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    page = _build_map_html(url, selection, tiles, params, wards, working_crs)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_text(page, encoding="utf-8")
        partial.replace(path)
        for old in sorted(path.parent.glob("*.html"), key=lambda p: p.stat().st_mtime)[
            :-_MAP_FILES_KEPT
        ]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only home still gets its map, just not kept
    return page


def _build_map_html(
    url: str,
    selection: HotspotFilter,
    tiles: TileSource | None,
    params: MapParams,
    source: _WardSource | None,
    working_crs: str,
) -> str:
    with session_scope(url) as session:
        hotspots = _select_hotspots(repo.load_hotspots(session), selection)
        requests, public = _selected_requests(
            session, selection, columns=(*repo.ANALYSIS_COLUMNS, "description")
        )
    requests = _with_crew_layer(requests, public, crew=selection.crew_activity)
    wards = None if source is None else _cached_wards(source)
    ward = _located_wards(requests, wards, working_crs)
    if selection.wards:
        keep = ward.isin([str(w) for w in selection.wards]).to_numpy(dtype=bool, na_value=False)
        requests, ward = requests[keep], ward[keep]
    ward_counts = None
    if len(requests):
        counted = ward.dropna().astype(str).value_counts().rename_axis("ward")
        ward_counts = counted.rename("requests").reset_index()
    fmap = build_hotspot_map(
        hotspots=hotspots,
        requests=requests,
        wards=wards,
        ward_counts=ward_counts,
        tiles=tiles,
        params=params,
        title=_map_title(selection),
    )
    return render_html(fmap)


def _selected_requests(
    session: Session, selection: HotspotFilter, *, columns: tuple[str, ...] = repo.ANALYSIS_COLUMNS
) -> tuple[pd.DataFrame, dict[str, bool]]:
    """The requests a filter selects (period, types, wards) and the catalogue's flags."""
    requests = repo.load_requests(
        session,
        since=selection.since,
        until=selection.until,
        service_codes=selection.service_codes or None,
        wards=selection.wards or None,
        columns=columns,
    )
    return requests, repo.type_visibility(session)


#: How the map names the layer of an internal type's requests (the city's own work).
CREW_LAYER: Final = "Crew activity: {name}"


def _with_crew_layer(
    requests: pd.DataFrame, public: dict[str, bool], *, crew: bool
) -> pd.DataFrame:
    """Resident requests, plus internal ones under a "crew activity" name when asked."""
    internal = ~_resident(requests["service_code"], public)
    if not crew:
        return requests[~internal]
    out = requests.copy()
    names = out.loc[internal, "service_name"].astype(str)
    out.loc[internal, "service_name"] = [CREW_LAYER.format(name=n) for n in names]
    return out


def _map_title(selection: HotspotFilter) -> str:
    parts = []
    if selection.wards:
        parts.append("ward " + ", ".join(map(str, selection.wards)))
    if selection.since or selection.until:
        since = f"{selection.since:%Y-%m-%d}" if selection.since else "start"
        until = f"{selection.until:%Y-%m-%d}" if selection.until else "now"
        parts.append(f"{since} – {until}")
    return "Hotspots" + (": " + "; ".join(parts) if parts else "")


@dataclass(frozen=True, slots=True)
class HotspotDetail:
    """One hotspot as a manager opens it: its row, its incidents and its requests.

    ``requests`` are those tagged with the hotspot (address, dates, status, description,
    job); ``incidents`` one row per job among them (duplicates folded in), with the
    number of requests each drew.
    """

    hotspot: pd.Series
    incidents: pd.DataFrame
    requests: pd.DataFrame


def hotspot_detail(hotspot_id: int, *, settings: Settings | None = None) -> HotspotDetail:
    """The hotspot ``hotspot_id`` with its incidents and requests, oldest first."""
    settings = settings or get_settings()
    _ready(settings.database_url)
    with session_scope(settings.database_url) as session:
        frame = repo.load_hotspots(session, active_only=False)
        requests = repo.hotspot_requests(session, hotspot_id)
    found = frame[frame["id"] == hotspot_id]
    if found.empty:
        raise NotFoundError(
            f"no hotspot #{hotspot_id}; refresh the list (hotspots are renumbered only "
            "when a place disappears)"
        )
    grouped = incidents(requests)
    events = requests[grouped.event].copy()
    events["requests"] = grouped.requests[grouped.incident[grouped.event]]
    return HotspotDetail(
        hotspot=found.iloc[0],
        incidents=events.reset_index(drop=True),
        requests=requests,
    )


def chronic_list(
    selection: HotspotFilter | None = None,
    *,
    params: ChronicParams | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Chronic addresses of resident types for the filter (types, wards, dates), busiest first.

    Counted in incidents (jobs), as hotspots are; internal work orders are left out.
    """
    settings = settings or get_settings()
    selection = selection or HotspotFilter()
    _ready(settings.database_url)
    with session_scope(settings.database_url) as session:
        requests, public = _selected_requests(session, selection)
    if selection.wards:
        ward = _request_wards(requests, settings)
        keep = ward.isin([str(w) for w in selection.wards]).to_numpy(dtype=bool, na_value=False)
        requests = requests[keep]
    events = resident_incidents(requests, public)
    found = chronic_addresses(events, params=params, timezone=settings.timezone)
    names = dict(zip(requests["service_code"], requests["service_name"], strict=True))
    found.insert(1, "service_name", found["service_code"].map(names))
    return found


@dataclass(frozen=True, slots=True)
class ExportResult:
    """Which files an export wrote and how many hotspots each holds."""

    hotspots: int
    files: list[Path] = field(default_factory=list)


def export_hotspots(
    *,
    geojson: Path | None = None,
    csv: Path | None = None,
    selection: HotspotFilter | None = None,
    settings: Settings | None = None,
) -> ExportResult:
    """Write the selected active hotspots as GeoJSON and/or CSV."""
    if geojson is None and csv is None:
        raise InputError("say where to export: pass a GeoJSON path, a CSV path or both")
    frame = list_hotspots(selection, settings=settings)
    written = []
    if geojson is not None:
        geojson.parent.mkdir(parents=True, exist_ok=True)
        geojson.write_text(hotspots_geojson(frame), encoding="utf-8")
        written.append(geojson)
    if csv is not None:
        csv.parent.mkdir(parents=True, exist_ok=True)
        csv.write_text(hotspots_csv(frame), encoding="utf-8")
        written.append(csv)
    return ExportResult(hotspots=len(frame), files=written)


def latest_run(settings: Settings | None = None) -> dict[str, object] | None:
    """The newest finished detection run (when, period, counts, note), or None."""
    settings = settings or get_settings()
    _ready(settings.database_url)
    with session_scope(settings.database_url) as session:
        run = repo.latest_run(session)
        if run is None:
            return None
        return {
            "id": run.id,
            "finished_at": run.finished_at,
            "as_of": run.as_of,
            "window_start": run.window_start,
            "requests_analysed": run.requests_analysed,
            "requests_excluded": run.requests_excluded,
            "hotspots": run.hotspots,
            "note": run.note,
        }


def hotspot_downloads(
    selection: HotspotFilter | None = None, *, settings: Settings | None = None
) -> tuple[str, str]:
    """The selected active hotspots as (CSV text, GeoJSON text), for download buttons."""
    frame = list_hotspots(selection, settings=settings)
    return hotspots_csv(frame), hotspots_geojson(frame)


@dataclass(frozen=True, slots=True)
class HotspotChoices:
    """What the manager's filters can offer: types with hotspots, wards, the data period."""

    types: dict[str, str]  # service code -> name, of types with active hotspots
    wards: list[int]
    first_report: datetime | None  # oldest stored request
    last_report: datetime | None  # newest stored request


def hotspot_choices(*, settings: Settings | None = None) -> HotspotChoices:
    """Types (with active hotspots), every ward, and the requests' period, for the filters."""
    settings = settings or get_settings()
    frame = _active_hotspots(settings)
    with session_scope(settings.database_url) as session:
        first, last = overview_repo.created_range(session)
    typed = frame[frame["service_code"].notna()]
    types = dict(zip(typed["service_code"], typed["service_name"], strict=True))
    # every ward of the layer: a ward without a hotspot still has its row in the table
    layer = _read_wards(settings)
    named = [] if layer is None else [str(w) for w in layer["area_id"]]
    listed = [w for text in frame["wards"].dropna() for w in str(text).split(";")]
    wards = sorted({int(w) for w in [*named, *listed] if w.isdigit()})
    return HotspotChoices(
        types=dict(sorted(types.items(), key=lambda kv: str(kv[1]))),
        wards=wards,
        first_report=_py(first),
        last_report=_py(last),
    )


def data_version(*, settings: Settings | None = None) -> tuple[int, int, str]:
    """A token that changes when requests or hotspots change (a cache key for screens)."""
    settings = settings or get_settings()
    _ready(settings.database_url)
    with session_scope(settings.database_url) as session:
        return repo.data_version(session)


def ward_outlines(*, settings: Settings | None = None) -> dict[str, object] | None:
    """The ward polygons as simplified WGS84 GeoJSON, for map context (None without a layer).

    Route and crew maps draw them faintly: with no base tiles (offline) they show where
    the stops are in the city.
    """
    settings = settings or get_settings()
    source = _ward_source(settings)
    return None if source is None else _outline_geojson(source)


@functools.cache
def _outline_geojson(source: _WardSource) -> dict[str, object]:
    wards = _cached_wards(source)
    simple = wards[["area_id", "geometry"]].assign(
        geometry=wards.geometry.simplify(15.0, preserve_topology=True)
    )
    out: dict[str, object] = json.loads(simple.to_crs(WGS84).to_json(drop_id=True))
    return out
