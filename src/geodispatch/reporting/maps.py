"""Manager maps with folium: ward choropleth, hotspot polygons, heat of the requests.

Built for what measured well (research note A4): aggregate layers whose size does not
grow with the number of requests (22 ward polygons, a few hundred hotspot polygons, one
GeoJSON per layer) plus a heat layer; individual request points only when few are
selected. A map never holds more than ``MapParams.max_objects`` folium objects.

Safety and offline use:

- every string that came from a resident or a data file (addresses, descriptions, type
  names, ward labels, the title) reaches the page as JSON data only, which the page's
  script shows as text (:mod:`geodispatch.reporting.map_text`); the page is rendered
  through a path that never reads output as a template;
- :func:`render_html` inlines the vendored Leaflet and Leaflet.heat (``assets/``) and
  drops folium's CDN links, so the file renders with no network; it refuses to emit a
  map that still references any remote script or stylesheet;
- base tiles are optional (:class:`TileSource`): without them the wards give context.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element
from folium.plugins import HeatMap
from folium.template import Template

from geodispatch.analysis.emerging import Trend
from geodispatch.domain.errors import InputError
from geodispatch.reporting.map_text import (
    MapText,
    TextBinding,
    TextLayerControl,
    inert_map,
    make_inert,
)

__all__ = [
    "TREND_COLOURS",
    "MapParams",
    "TileSource",
    "build_hotspot_map",
    "count_objects",
    "drawn_hotspots",
    "render_html",
]

#: Hotspot fill colour per trend ("" = not assessed).
TREND_COLOURS: Final[dict[str, str]] = {
    Trend.NEW.value: "#d7191c",
    Trend.INTENSIFYING.value: "#fdae61",
    Trend.PERSISTENT.value: "#7b3294",
    Trend.DIMINISHING.value: "#4d4d4d",
    "": "#bdbdbd",
}
_TREND_LABELS: Final = {
    Trend.NEW.value: "New",
    Trend.INTENSIFYING.value: "Intensifying",
    Trend.PERSISTENT.value: "Persistent",
    Trend.DIMINISHING.value: "Diminishing",
}
#: The version of the pages this module draws. Bump it when a change here changes the
#: page for the same data and settings: maps kept on disk (``services.hotspots``) carry
#: it in their key, so an upgrade draws them again instead of serving the old page.
PAGE_FORMAT: Final = 3  # 2: heat points as integer steps; 3: text as JSON data (MapText)
_HEAT_CSS: Final = ".leaflet-heatmap-layer{pointer-events:none;z-index:-1}"
_WARD_SCALE: Final = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")


@dataclass(frozen=True, slots=True)
class TileSource:
    """A base-map tile layer: URL template (``{z}/{x}/{y}``) and its attribution."""

    url: str
    attribution: str
    max_zoom: int = 19

    def __post_init__(self) -> None:
        if not all(part in self.url for part in ("{z}", "{x}", "{y}")):
            raise InputError(
                f"tile URL {self.url!r} needs {{z}}, {{x}} and {{y}} placeholders, e.g. "
                "http://localhost:8080/tiles/{z}/{x}/{y}.png"
            )
        if not self.attribution.strip():
            raise InputError("a tile layer needs an attribution (the tiles' licence asks it)")


@dataclass(frozen=True, slots=True)
class MapParams:
    """Limits and looks of the manager map.

    Attributes
    ----------
    max_objects
        Hard cap on folium objects (layers, markers): beyond ~5k a map stops being usable
        in a browser (default 5000). Building a bigger map raises an error.
    max_points
        Individual request points (with popups) are drawn only when the filter
        leaves at most this many; otherwise the heat layer alone shows them (default 2000).
    heat_radius
        Heat-map blur radius in pixels (default 12).
    heat_per_type_max
        Up to this many types each get their own heat layer (default 3); with more, one
        heat layer shows them all, because stacked heats hide the map.
    simplify_m
        Hotspot and ward outlines are simplified to this tolerance in metres before
        drawing (default 5 m: invisible at street zoom, halves the file).
    coordinate_decimals
        Decimals kept in coordinates (default 5, about 1 m).
    max_hotspots
        Hotspots drawn at most (default 300; None draws every one). Beyond a few hundred
        the city view is a carpet of dots that costs the browser more than it tells:
        measured on Boston 2011 (1,641 hotspots), drawing all of them doubles the map's
        size and its drawing time. Which ones are kept: see :func:`drawn_hotspots`.
    heat_cell_m
        Requests closer than this (a square of this side, in metres) are sent to the heat
        layer as one weighted point (default 40 m). Leaflet.heat itself merges points per
        12-pixel cell (radius + blur over 2), which is 42 m at zoom 15 in Boston, so up to
        that zoom the heat looks the same. Boston 2011: 57,778 requests become 28,399
        points at 20 m and 21,451 at 40 m (default map page 1.41 → 1.25 MB).
    """

    max_objects: int = 5000
    max_points: int = 2000
    heat_radius: int = 12
    heat_per_type_max: int = 3
    simplify_m: float = 5.0
    coordinate_decimals: int = 5
    max_hotspots: int | None = 300
    heat_cell_m: float = 40.0

    def __post_init__(self) -> None:
        if self.max_objects < 10:
            raise InputError(f"max_objects must be at least 10. Got {self.max_objects} instead.")
        if self.max_points < 0:
            raise InputError(f"max_points must be >= 0. Got {self.max_points} instead.")
        if not 1 <= self.coordinate_decimals <= 8:
            raise InputError(
                f"coordinate_decimals must be in [1, 8]. Got {self.coordinate_decimals} instead."
            )
        if self.max_hotspots is not None and self.max_hotspots < 1:
            raise InputError(
                f"max_hotspots must be at least 1 (None draws all). Got {self.max_hotspots} "
                "instead."
            )
        if not self.heat_cell_m >= 0:
            raise InputError(f"heat_cell_m must be >= 0. Got {self.heat_cell_m} instead.")


_EMERGING: Final = (Trend.NEW.value, Trend.INTENSIFYING.value)


def drawn_hotspots(hotspots: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    """The hotspots a map with room for ``limit`` draws: each type's strongest, in turn.

    Every type (and the all-types group) keeps its own strongest hotspots, new and
    intensifying ones first, then by significance (smallest q value, largest ratio):
    the first of every type, then the second of every type, and so on until ``limit``.
    So a type with few hotspots is never crowded out by a busy one, and what changed
    lately is always on the map. ``limit`` None (or no more hotspots than it) keeps all.
    The order of the rows kept is the input's.
    """
    if limit is None or len(hotspots) <= limit:
        return hotspots
    quiet = ~hotspots["trend"].isin(_EMERGING).to_numpy()
    ranked = pd.DataFrame(
        {
            "group": hotspots["service_code"].fillna("").astype(str).to_numpy(),
            "quiet": quiet,
            "q": hotspots["q_value"].astype(float).fillna(1.0).to_numpy(),
            "ratio": -hotspots["ratio"].astype(float).fillna(0.0).to_numpy(),
        }
    )
    ranked = ranked.sort_values(["quiet", "q", "ratio"], kind="stable")
    ranked["turn"] = ranked.groupby("group", sort=False).cumcount()
    chosen = ranked.sort_values(["turn", "quiet", "q", "ratio"], kind="stable").index[:limit]
    keep = np.zeros(len(hotspots), dtype=bool)
    keep[np.asarray(chosen)] = True
    return hotspots[keep]


def build_hotspot_map(
    *,
    hotspots: pd.DataFrame,
    requests: pd.DataFrame,
    wards: gpd.GeoDataFrame | None = None,
    ward_counts: pd.DataFrame | None = None,
    tiles: TileSource | None = None,
    params: MapParams | None = None,
    title: str = "",
) -> folium.Map:
    """The manager's hotspot map: ward choropleth, hotspots by trend, heat, layer per type.

    Parameters
    ----------
    hotspots
        Stored hotspots: ``id``, ``service_code`` (None = all types), ``service_name``,
        ``geometry`` (GeoJSON text, WGS84), ``trend``, ``wards``, ``n_reports``,
        ``expected``, ``ratio``, ``q_value``, ``distinct_addresses``, ``top_address``,
        ``top_address_reports``, ``first_report_at``, ``last_report_at``,
        ``months_with_reports``, ``months_active``, ``open_share``, ``n_recent``.
    requests
        The filtered requests: ``lon``, ``lat``, ``service_code``, ``service_name``;
        for point popups also ``address``, ``description``, ``status``, ``created_at``.
    wards
        Ward polygons (any CRS, reprojected to WGS84) with ``area_id``.
    ward_counts
        ``ward`` and ``requests`` for the choropleth.
    tiles
        Base map; None draws no tiles (works offline).
    params
        Limits and looks.
    title
        Shown in the legend (as text, see :mod:`geodispatch.reporting.map_text`).
    """
    params = params or MapParams()
    everything, hotspots = hotspots, drawn_hotspots(hotspots, params.max_hotspots)
    fmap = inert_map(
        tiles=None,
        prefer_canvas=True,
        control_scale=True,
        max_zoom=tiles.max_zoom if tiles else 19,
        zoom_start=12,
    )
    texts = MapText.of(fmap)
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles.url, attr=html.escape(tiles.attribution), name="Base map", control=False
        ).add_to(fmap)
    bounds = _bounds(requests, wards)
    if bounds is not None:
        fmap.fit_bounds(bounds)
    if wards is not None and not wards.empty:
        _ward_layer(wards, ward_counts, params, texts).add_to(fmap)

    codes = _type_order(everything, requests)
    show_points = len(requests) <= params.max_points
    typed = any(code is not None for code, _ in codes)
    # every drawn hotspot's feature at once (per type, pandas' row conversion costs more
    # than the rows: 50 types took 0.3 s for 300 hotspots)
    features = _hotspot_features(hotspots, params, texts)
    # hotspot layers first, request layers after: points stay clickable above polygons
    for code, name in codes:
        mask = _same_code(hotspots["service_code"], code).to_numpy()
        chosen = [f for f, keep in zip(features, mask.tolist(), strict=True) if keep]
        if not chosen:
            continue
        found = int(_same_code(everything["service_code"], code).sum())
        group = folium.FeatureGroup(
            name=texts.layer_name(_group_name(name, len(chosen), found)),
            show=code is not None or not typed,  # mixed-type hotspots start hidden
        )
        _hotspot_layer(chosen).add_to(group)
        group.add_to(fmap)
    typed_codes = [(code, name) for code, name in codes if code is not None]
    what = "heat and points" if show_points else "heat"
    if len(typed_codes) <= params.heat_per_type_max:
        layers = [(requests[requests["service_code"] == code], name) for code, name in typed_codes]
    else:  # many types: one heat of them all, or sixty stacked heats hide the city
        layers = [(requests, "All selected types")]
    for located, name in layers:
        if located.empty:
            continue
        group = folium.FeatureGroup(
            name=texts.layer_name(f"{name}: {len(located):,} requests ({what})")
        )
        _heat_layer(located, params).add_to(group)
        if show_points:
            _point_layer(located, params, texts).add_to(group)
        group.add_to(fmap)
    TextLayerControl(collapsed=len(codes) > 4).add_to(fmap)
    root: Any = fmap.get_root()
    # the heat canvas sits under the hotspots and points and lets clicks through to them
    root.header.add_child(Element(f"<style>{_HEAT_CSS}</style>"))
    root.html.add_child(
        Element(
            _legend_html(
                title=texts.card(title) if title else None,
                shown=len(requests),
                points=show_points,
                hotspots=(len(hotspots), len(everything)),
            )
        )
    )
    total = count_objects(fmap)
    if total > params.max_objects:
        raise InputError(
            f"the map would hold {total:,} objects, more than the {params.max_objects:,} a "
            "browser handles; narrow the filter (fewer types, a ward, a shorter period)"
        )
    return fmap


def count_objects(element: Any) -> int:
    """Folium objects in a map (every element below the root, recursively)."""
    children = getattr(element, "_children", {})
    return sum(1 + count_objects(child) for child in children.values())


def _same_code(column: pd.Series, code: str | None) -> pd.Series:
    if code is None:
        return column.isna()
    return column == code


def _type_order(hotspots: pd.DataFrame, requests: pd.DataFrame) -> list[tuple[str | None, str]]:
    """Types on the map (busiest first), then 'All types' hotspots if any."""
    names: dict[str, str] = {}
    counts: dict[str, int] = {}
    for code, name in zip(requests["service_code"], requests["service_name"], strict=True):
        names.setdefault(code, name)
        counts[code] = counts.get(code, 0) + 1
    for code, name in zip(hotspots["service_code"], hotspots["service_name"], strict=True):
        if code is not None and not (isinstance(code, float) and np.isnan(code)):
            names.setdefault(code, name)
            counts.setdefault(code, 0)
    ordered: list[tuple[str | None, str]] = [
        (code, names[code]) for code in sorted(names, key=lambda c: (-counts[c], names[c]))
    ]
    if hotspots["service_code"].isna().any():
        ordered.append((None, "All types"))
    return ordered


def _group_name(name: str, drawn: int, found: int) -> str:
    """A hotspot layer's name: its type and how many of its hotspots it draws."""
    plural = "s" if found != 1 else ""
    if drawn < found:
        return f"{name} (strongest {drawn} of {found} hotspot{plural})"
    return f"{name} ({found} hotspot{plural})"


def _bounds(requests: pd.DataFrame, wards: gpd.GeoDataFrame | None) -> list[list[float]] | None:
    if wards is not None and not wards.empty:
        x0, y0, x1, y1 = wards.to_crs("EPSG:4326").total_bounds
    elif len(requests):
        x0, x1 = float(requests["lon"].min()), float(requests["lon"].max())
        y0, y1 = float(requests["lat"].min()), float(requests["lat"].max())
    else:
        return None
    return [[float(y0), float(x0)], [float(y1), float(x1)]]


def _ward_layer(
    wards: gpd.GeoDataFrame, ward_counts: pd.DataFrame | None, params: MapParams, texts: MapText
) -> folium.GeoJson:
    shapes = wards.to_crs("EPSG:4326")
    metric = wards.to_crs(wards.estimate_utm_crs()) if wards.crs is not None else wards
    simplified = metric.geometry.simplify(params.simplify_m).to_crs("EPSG:4326")
    counts: dict[str, int] = {}
    if ward_counts is not None and not ward_counts.empty:
        counts = {
            str(w): int(n)
            for w, n in zip(ward_counts["ward"], ward_counts["requests"], strict=True)
        }
    top = max(counts.values(), default=0)
    features = []
    for area_id, geometry in zip(shapes["area_id"], simplified, strict=True):
        n = counts.get(str(area_id), 0)
        level = 0 if top == 0 else min(len(_WARD_SCALE) - 1, int(n / top * (len(_WARD_SCALE) - 1)))
        features.append(
            {
                "type": "Feature",
                "geometry": _rounded(geometry.__geo_interface__, params.coordinate_decimals),
                "properties": {
                    "gd": texts.card(rows=[("Ward", area_id), ("Requests", f"{n:,}")]),
                    "fill": _WARD_SCALE[level],
                },
            }
        )
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=texts.layer_name("Wards (requests)"),
        style_function=_ward_style,
    )
    TextBinding("tooltip").add_to(layer)
    return layer


def _ward_style(feature: dict[str, Any]) -> dict[str, Any]:
    return {
        "fillColor": feature["properties"]["fill"],
        "color": "#555555",
        "weight": 1,
        "fillOpacity": 0.45,
    }


_POPUP_FIELDS: Final = (
    ("label", "Hotspot"),
    ("type", "Type"),
    ("trend", "Trend"),
    ("wards", "Ward(s)"),
    ("reports", "Reports"),
    ("expected", "Expected"),
    ("ratio", "× expected"),
    ("addresses", "Distinct addresses"),
    ("top_address", "Most reported"),
    ("span", "First – last"),
    ("months", "Months with reports"),
    ("open", "Still open"),
    ("recent", "In recent window"),
    ("q", "q value"),
)


def _hotspot_features(
    hotspots: pd.DataFrame, params: MapParams, texts: MapText
) -> list[dict[str, Any]]:
    """One GeoJSON feature per hotspot row, in row order; its text is a card in ``texts``.

    ``gd`` is the popup's card (every field), ``tip`` the tooltip's (the label).
    """
    features = []
    for row in _records(hotspots):
        shown = _hotspot_properties(row)
        features.append(
            {
                "type": "Feature",
                "geometry": _rounded(json.loads(row["geometry"]), params.coordinate_decimals),
                "properties": {
                    "gd": texts.card(rows=[(alias, shown[f]) for f, alias in _POPUP_FIELDS]),
                    "tip": texts.card(str(shown["label"])),
                    "fill": shown["fill"],
                },
            }
        )
    return features


def _hotspot_layer(features: list[dict[str, Any]]) -> folium.GeoJson:
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        style_function=_hotspot_style,
        highlight_function=_hotspot_highlight,
    )
    TextBinding("popup").add_to(layer)
    TextBinding("tooltip", field="tip").add_to(layer)
    return layer


def _hotspot_properties(row: dict[str, Any]) -> dict[str, Any]:
    trend = str(row.get("trend") or "")
    first, last = row.get("first_report_at"), row.get("last_report_at")
    span = ""
    if isinstance(first, pd.Timestamp) and isinstance(last, pd.Timestamp):
        span = f"{first:%Y-%m-%d} – {last:%Y-%m-%d}"
    open_share = row.get("open_share")
    top_address = str(row.get("top_address") or "")
    top_n = int(row.get("top_address_reports") or 0)
    return {
        "label": f"#{row['id']} {row.get('service_name') or 'All types'}",
        "type": str(row.get("service_name") or "All types"),
        "trend": _TREND_LABELS.get(trend, "not assessed"),
        "fill": TREND_COLOURS.get(trend, TREND_COLOURS[""]),
        "wards": str(row.get("wards") or "").replace(";", ", "),
        "reports": int(row.get("n_reports") or 0),
        "expected": round(float(row.get("expected") or 0.0), 1),
        "ratio": round(float(row.get("ratio") or 0.0), 1),
        "addresses": int(row.get("distinct_addresses") or 0),
        "top_address": f"{top_address} ({top_n})" if top_address else "",
        "span": span,
        "months": f"{int(row.get('months_with_reports') or 0)} of "
        f"{int(row.get('months_active') or 0)}",
        "open": "" if open_share is None or pd.isna(open_share) else f"{open_share:.0%}",
        "recent": int(row.get("n_recent") or 0),
        "q": f"{float(row.get('q_value') or 1.0):.1e}",
    }


def _hotspot_style(feature: dict[str, Any]) -> dict[str, Any]:
    colour = feature["properties"]["fill"]
    # a thick outline keeps a 25 m hotspot visible as a dot at city zoom
    return {"fillColor": colour, "color": colour, "weight": 3, "fillOpacity": 0.55}


def _hotspot_highlight(_feature: dict[str, Any]) -> dict[str, Any]:
    return {"weight": 4, "fillOpacity": 0.75}


def _heat_layer(requests: pd.DataFrame, params: MapParams) -> HeatMap:
    decimals = min(params.coordinate_decimals, 4)  # 11 m: finer than the blur
    points, weights = _heat_cells(requests[["lat", "lon"]].to_numpy(dtype=float), params)
    points = np.round(points, decimals)
    data = [  # one shape for every row (folium checks the array): lat, lon, requests
        [lat, lon, int(w)] for (lat, lon), w in zip(points.tolist(), weights.tolist(), strict=True)
    ]
    layer: HeatMap = CompactHeatMap(
        data,
        decimals=decimals,
        radius=params.heat_radius,
        blur=params.heat_radius,
        min_opacity=0.2,
        max=_heat_max(points, weights),
    )
    return layer


class CompactHeatMap(HeatMap):
    """Folium's heat layer, its points written as small integers the page decodes.

    ``[42.2328, -71.1326, 1], `` is 24 characters a point; the map page carries tens of
    thousands (Boston: 21,451 weighted points, 510 KB, 40 % of the manager's map). Here
    the points are sorted and each written as its steps from the one before in units of
    ``10**-decimals`` degrees, with its weight: ``0,31,1`` (Boston: 153 KB). A few lines
    of script in the page turn them back into the ``[lat, lon, weight]`` list
    Leaflet.heat takes, before the layer is made; the layer draws the same points.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.heatLayer(
                (function (origin, unit, steps) {
                    var points = new Array(steps.length / 3), lat = 0, lon = 0;
                    for (var i = 0, k = 0; i < steps.length; i += 3, k += 1) {
                        lat += steps[i];
                        lon += steps[i + 1];
                        points[k] = [origin[0] + lat * unit, origin[1] + lon * unit, steps[i + 2]];
                    }
                    return points;
                })({{ this.origin|tojson }}, {{ this.unit|tojson }}, {{ this.steps }}),
                {{ this.options|tojavascript }}
            );
        {% endmacro %}
        """
    )

    def __init__(self, data: list[list[float]], *, decimals: int, **kwargs: Any) -> None:
        if not 0 <= decimals <= 8:
            raise InputError(f"CompactHeatMap: decimals must be 0–8. Got {decimals}.")
        if any(len(row) != 3 for row in data):
            raise InputError("CompactHeatMap: each point must be [lat, lon, weight].")
        rows = np.asarray(data, dtype=float).reshape(-1, 3)
        weights = rows[:, 2]
        if (weights < 0).any() or (weights != np.rint(weights)).any():
            raise InputError(
                "CompactHeatMap: weights must be whole numbers ≥ 0 (requests at a place)."
            )
        super().__init__(data, **kwargs)  # type: ignore[no-untyped-call]
        self.unit = 10.0**-decimals
        grid = np.rint(rows[:, :2] / self.unit).astype(np.int64)
        order = np.lexsort((grid[:, 1], grid[:, 0]))
        grid, weights = grid[order], np.rint(rows[order, 2]).astype(np.int64)
        origin = grid[0] if len(grid) else np.zeros(2, dtype=np.int64)
        steps = np.diff(grid, axis=0, prepend=origin[None, :])
        self.origin = [round(float(v) * self.unit, decimals) for v in origin]
        flat = np.column_stack([steps, weights]).ravel().tolist()
        self.steps = json.dumps(flat, separators=(",", ":"))  # no spaces: a third smaller


def _heat_cells(points: np.ndarray, params: MapParams) -> tuple[np.ndarray, np.ndarray]:
    """Points (lat, lon) merged per ``heat_cell_m`` square: their mean place and count.

    Leaflet.heat adds the weights of the points in each of its grid cells, so a weighted
    point draws what its requests drew one by one, while the page carries one entry.
    """
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) == 0 or params.heat_cell_m <= 0:
        return points, np.ones(len(points), dtype=np.int64)
    lat_step = params.heat_cell_m / 111_320.0
    lon_step = lat_step / max(0.1, float(np.cos(np.radians(np.median(points[:, 0])))))
    cells = np.floor(points / [lat_step, lon_step]).astype(np.int64)
    _, which, counts = np.unique(cells, axis=0, return_inverse=True, return_counts=True)
    which = which.ravel()
    mean = np.column_stack([np.bincount(which, weights=points[:, k]) / counts for k in range(2)])
    return mean, counts


def _heat_max(points: np.ndarray, weights: np.ndarray) -> float:
    """Intensity at which the heat saturates: a busy ~400 m square, not a single report.

    With Leaflet.heat's default of 1, every place with a report is equally red and a city
    turns into one blob; the 95th percentile of occupied squares keeps the contrast.
    """
    if len(points) == 0:
        return 1.0
    cells = np.floor(points / 0.004).astype(np.int64)
    _, which = np.unique(cells[:, 0] * 1_000_003 + cells[:, 1], return_inverse=True)
    counts = np.bincount(which.ravel(), weights=weights)
    return float(max(1.0, np.quantile(counts, 0.95)))


_POINT_FIELDS: Final = (
    ("type", "Type"),
    ("address", "Address"),
    ("description", "Description"),
    ("status", "Status"),
    ("created", "Opened"),
)


def _point_layer(requests: pd.DataFrame, params: MapParams, texts: MapText) -> folium.GeoJson:
    features = []
    for row in _records(requests):
        created = row.get("created_at")
        properties = {
            "type": str(row.get("service_name") or ""),
            "address": str(row.get("address") or ""),
            "description": str(row.get("description") or "")[:500],
            "status": str(row.get("status") or ""),
            "created": f"{created:%Y-%m-%d %H:%M}" if isinstance(created, pd.Timestamp) else "",
        }
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [
                        round(float(row["lon"]), params.coordinate_decimals),
                        round(float(row["lat"]), params.coordinate_decimals),
                    ],
                },
                "properties": {
                    "gd": texts.card(rows=[(alias, properties[f]) for f, alias in _POINT_FIELDS])
                },
            }
        )
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        marker=folium.CircleMarker(
            radius=5, weight=1.5, color="#222222", fill=True, fill_color="#ffffff", fill_opacity=0.9
        ),
    )
    TextBinding("popup").add_to(layer)
    return layer


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _rounded(geometry: dict[str, Any], decimals: int) -> dict[str, Any]:
    """A GeoJSON geometry with coordinates rounded (smaller files, no visible change)."""

    def walk(value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            if value and isinstance(value[0], (int, float)):
                return [round(float(v), decimals) for v in value]
            return [walk(v) for v in value]
        return value

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def _legend_html(*, title: int | None, shown: int, points: bool, hotspots: tuple[int, int]) -> str:
    """A small static legend: trend colours and what the heat shows (no external assets).

    ``title`` is the key of the title's card (the page's script writes it as text);
    ``hotspots`` is (drawn, found): when some are left out the legend says how many.
    """
    rows = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;'
        f'background:{TREND_COLOURS[key]};margin-right:6px"></span>{html.escape(label)}</div>'
        for key, label in _TREND_LABELS.items()
    )
    detail = f"{shown:,} requests: heat" + (" and points" if points else "")
    drawn, found = hotspots
    if drawn < found:
        detail += f"; strongest {drawn:,} of {found:,} hotspots drawn"
    heading = f'<b data-gd-text="{int(title)}"></b><br>' if title is not None else ""
    return (
        '<div style="position:fixed;bottom:28px;right:12px;z-index:1000;background:#fff;'
        'padding:8px 10px;border:1px solid #999;border-radius:4px;font:12px sans-serif">'
        f"{heading}<b>Hotspot trend</b>{rows}<div style='margin-top:4px'>"
        f"{html.escape(detail)}</div></div>"
    )


# --- offline rendering -------------------------------------------------------------------

_ASSETS: Final = resources.files("geodispatch.reporting") / "assets"
#: folium CDN files replaced by vendored ones (by file name in the URL).
_INLINE_JS: Final = {
    "leaflet.js": "leaflet/leaflet.js",
    "leaflet_heat.min.js": "leaflet-heat/leaflet-heat.js",
    "leaflet-heat.js": "leaflet-heat/leaflet-heat.js",
}
_INLINE_CSS: Final = {"leaflet.css": "leaflet/leaflet.css"}
#: folium defaults no map of ours needs (markers with icons, Bootstrap widgets).
_DROPPED: Final = (
    "jquery",
    "bootstrap",
    "awesome-markers",
    "awesome_markers",
    "fontawesome",
    "glyphicons",
    "leaflet.awesome.rotate",
)
_SCRIPT_SRC: Final = re.compile(r'<script\s+src="(?P<url>[^"]+)"\s*>\s*</script>', re.IGNORECASE)
_CSS_LINK: Final = re.compile(r'<link\s+[^>]*href="(?P<url>[^"]+)"[^>]*/?>', re.IGNORECASE)


@cache
def _asset(relative: str) -> str:
    return (_ASSETS / relative).read_text(encoding="utf-8")


@cache
def _leaflet_css() -> str:
    """Leaflet's CSS with its images as data URIs (the layer-control icon needs them)."""
    css = _asset("leaflet/leaflet.css")

    def inline(match: re.Match[str]) -> str:
        data = (_ASSETS / "leaflet" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)


def render_html(fmap: folium.Map) -> str:
    """The map as one self-contained HTML page that works with no network.

    Leaflet and Leaflet.heat are inlined from the vendored copies; folium's links to
    jQuery, Bootstrap and the marker icon fonts are dropped (no layer here uses them).

    Raises
    ------
    InputError
        If the page would still load any script or stylesheet from the network (a layer
        type this renderer does not know how to serve offline).
    """
    page = make_inert(fmap).render()
    page = _SCRIPT_SRC.sub(lambda m: _offline(m.group("url"), script=True), page)
    return _CSS_LINK.sub(lambda m: _offline(m.group("url"), script=False), page)


def _offline(url: str, *, script: bool) -> str:
    """The inline replacement of one remote asset link ('' for assets no map needs)."""
    name = url.rsplit("/", 1)[-1]
    if script and name in _INLINE_JS:
        return f"<script>{_asset(_INLINE_JS[name])}</script>"
    if not script and name in _INLINE_CSS:
        return f"<style>{_leaflet_css()}</style>"
    if any(word in url.lower() for word in _DROPPED):
        return ""
    raise InputError(f"the map needs {url}, which is not vendored for offline use")
