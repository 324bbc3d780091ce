"""A folium map of a day's plan: one colour and layer per crew, left-out jobs in grey.

Lines join the stops in order (straight segments: the plan knows travel times, not road
geometry). Every text a person typed (addresses, titles, crew names, reasons) reaches the
page only as JSON data its script shows as text (:mod:`geodispatch.reporting.map_text`),
never through folium's templates. :func:`route_map_html` renders the page through the
hotspot maps' offline renderer (:func:`geodispatch.reporting.maps.render_html`: vendored
Leaflet inlined, no remote script or stylesheet), so a crew chief's laptop without a
network still shows the routes (only the base-map tiles need one).
"""

from __future__ import annotations

import html
from itertools import cycle
from typing import Any

import folium

from geodispatch.domain.plans import CrewRoute, RoutePlan, WorkOrder
from geodispatch.reporting.map_text import (
    MapText,
    TextBinding,
    TextLayerControl,
    TextMarker,
    inert_map,
)
from geodispatch.reporting.maps import TileSource, render_html

#: Distinct, print-safe colours (ColorBrewer Dark2 + Set1).
PALETTE = (
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
    "#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf",
)  # fmt: skip


#: Stops a crew has reported on are drawn hollow, with the report in the tooltip.
_STATUS_NOTE = {"arrived": "on site", "done": "done", "unable": "could not complete"}
_YARD_STYLE = (
    "background:#222;color:#fff;font:bold 10px sans-serif;text-align:center;"
    "border-radius:3px;line-height:16px;width:44px"
)


def _e(value: object) -> str:
    return html.escape(str(value))


def _at(order: WorkOrder) -> tuple[float, float]:
    """(lat, lon) of a located work order."""
    assert order.lat is not None
    assert order.lon is not None
    return (order.lat, order.lon)


def route_map_html(
    plan: RoutePlan, *, tiles: TileSource | None = None, max_dropped: int = 300
) -> str:
    """The plan's map as one self-contained HTML page that needs no network to render."""
    return render_html(route_map(plan, tiles=tiles, max_dropped=max_dropped))


def route_map(
    plan: RoutePlan,
    *,
    tiles: TileSource | None = None,
    max_dropped: int = 300,
    outlines: dict[str, Any] | None = None,
) -> folium.Map:
    """The plan on a map: yards, numbered stops with ETA popups, dropped jobs with reasons.

    At most ``max_dropped`` left-out jobs are drawn (the most urgent): a backlog of
    thousands of markers makes a folium page too heavy to open. Without ``tiles`` no base
    map is drawn, so the page (rendered with ``reporting.maps.render_html``) needs no
    network; ``outlines`` (GeoJSON polygons, e.g. the wards) are drawn faintly for context.
    Stops a crew has reported on are drawn hollow.
    """
    points = [_at(s.order) for r in plan.routes for s in r.stops] + [
        (r.start_lat, r.start_lon) for r in plan.routes
    ]
    centre = (42.33, -71.07)
    if points:
        centre = (
            sum(p[0] for p in points) / len(points),
            sum(p[1] for p in points) / len(points),
        )
    fmap = inert_map(location=centre, zoom_start=12, tiles=None, control_scale=True)
    texts = MapText.of(fmap)
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles.url, attr=_e(tiles.attribution), name="Base map", control=False
        ).add_to(fmap)
    if outlines is not None:
        outline_layer(outlines).add_to(fmap)
    for route, colour in zip(plan.routes, cycle(PALETTE), strict=False):
        _add_route(fmap, texts, route, colour)
    located = sorted(
        (d for d in plan.dropped if d.order.located),
        key=lambda d: (int(d.order.priority), d.order.job_id),
    )
    if located and max_dropped > 0:
        shown = located[:max_dropped]
        name = f"Not planned ({len(located):,})"
        if len(shown) < len(located):
            name = f"Not planned (most urgent {len(shown)} of {len(located):,})"
        layer = folium.FeatureGroup(name=texts.layer_name(name), show=False)
        features = [
            _feature(
                texts,
                d.order,
                tip=f"job {d.order.job_id}: {d.reason.label}",
                title=d.order.title,
                lines=(
                    d.order.address,
                    f"P{int(d.order.priority)} · {d.reason.label}",
                    d.detail,
                ),
                style={"color": "#777777", "fillColor": "#777777", "radius": 4},
            )
            for d in shown
        ]
        _points(features).add_to(layer)
        layer.add_to(fmap)
    if points:
        lats = [p[0] for p in points]
        lons = [p[1] for p in points]
        fmap.fit_bounds([(min(lats), min(lons)), (max(lats), max(lons))])
    TextLayerControl(collapsed=True).add_to(fmap)
    return fmap


def _add_route(fmap: folium.Map, texts: MapText, route: CrewRoute, colour: str) -> None:
    crew = route.crew
    hours = route.travel_s / 3600
    layer = folium.FeatureGroup(
        name=texts.layer_name(f"{crew.code}: {len(route.stops)} stops, {hours:.1f} h")
    )
    start = (route.start_lat, route.start_lon)
    yard = (crew.depot.lat, crew.depot.lon)
    marker = TextMarker(  # a plain Leaflet DivIcon: icon fonts would need the network
        start, texts.card(crew.code), style=_YARD_STYLE, size=(44, 16), anchor=(22, 8)
    ).add_to(layer)
    TextBinding("tooltip", texts.card(f"{crew.code} starts {route.starts_at:%H:%M}")).add_to(marker)
    path = [start, *(_at(s.order) for s in route.stops), yard]
    if len(path) > 2:
        folium.PolyLine(path, color=colour, weight=3, opacity=0.8).add_to(layer)  # type: ignore[no-untyped-call]
    features = []
    for stop in route.stops:
        window = ""
        if stop.order.window is not None:
            window = (
                f"appointment {stop.order.window.start.astimezone(stop.eta.tzinfo):%H:%M}-"
                f"{stop.order.window.end.astimezone(stop.eta.tzinfo):%H:%M}"
            )
        done = f" · {_STATUS_NOTE[stop.status]}" if stop.status in _STATUS_NOTE else ""
        features.append(
            _feature(
                texts,
                stop.order,
                tip=f"{crew.code} #{stop.sequence} {stop.eta:%H:%M}{done}",
                title=f"{crew.code} stop {stop.sequence} · ETA {stop.eta:%H:%M}{done}",
                lines=(
                    f"{stop.order.title} (job {stop.order.job_id}, P{int(stop.order.priority)})",
                    stop.order.address,
                    f"{stop.service_s // 60} min on site",
                    window,
                ),
                style={
                    "color": colour,
                    "fillColor": "#ffffff" if stop.status in _STATUS_NOTE else colour,
                    "radius": 7,
                },
            )
        )
    if features:
        _points(features).add_to(layer)
    layer.add_to(fmap)


def outline_layer(outlines: dict[str, Any]) -> folium.GeoJson:
    """Polygons (wards) as thin grey context lines; they take no clicks.

    Only the shapes reach the page: the features' properties (text from a data file) are
    not shown, so they are left out.
    """
    shapes = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": feature.get("geometry"), "properties": {}}
            for feature in outlines.get("features", [])
        ],
    }
    return folium.GeoJson(
        shapes,
        name="Wards",
        control=False,
        interactive=False,
        style_function=_outline_style,
    )


def _outline_style(_feature: dict[str, Any]) -> dict[str, Any]:
    return {
        "color": "#9aa0a6",
        "weight": 1,
        "fill": True,
        "fillColor": "#f1f3f4",
        "fillOpacity": 0.5,
    }


def _feature(
    texts: MapText,
    order: WorkOrder,
    *,
    tip: str,
    title: str,
    lines: tuple[str, ...],
    style: dict[str, object],
) -> dict[str, Any]:
    """A GeoJSON point with its marker style; its tooltip and popup are cards in ``texts``."""
    lat, lon = _at(order)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": {
            "tip": texts.card(tip),
            "gd": texts.card(title, [("", line) for line in lines if line]),
            **style,
        },
    }


def _points(features: list[dict[str, Any]]) -> folium.GeoJson:
    """One GeoJSON layer of circle markers: a few templates instead of one per marker."""
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        marker=folium.CircleMarker(radius=6, weight=2, fill=True, fill_opacity=0.9),
        style_function=_marker_style,
    )
    TextBinding("tooltip", field="tip").add_to(layer)
    TextBinding("popup", maxWidth=320).add_to(layer)
    return layer


def _marker_style(feature: dict[str, Any]) -> dict[str, Any]:
    props = feature["properties"]
    return {
        "color": props["color"],
        "fillColor": props["fillColor"],
        "radius": props["radius"],
        "weight": 2,
        "fillOpacity": 0.9,
    }
