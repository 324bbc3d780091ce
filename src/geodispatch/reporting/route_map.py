"""A folium map of a day's plan: one colour and layer per crew, left-out jobs in grey.

Lines join the stops in order (straight segments: the plan knows travel times, not road
geometry). Every text a person typed (addresses, titles, crew names, reasons) is escaped
before it reaches a popup or tooltip. :func:`route_map_html` renders the page through the
hotspot maps' offline renderer (:func:`geodispatch.reporting.maps.render_html`: vendored
Leaflet inlined, no remote script or stylesheet), so a crew chief's laptop without a
network still shows the routes (only the base-map tiles need one).
"""

from __future__ import annotations

import html
from itertools import cycle

import folium

from geodispatch.domain.plans import CrewRoute, RoutePlan, WorkOrder
from geodispatch.reporting.maps import render_html

#: Distinct, print-safe colours (ColorBrewer Dark2 + Set1).
PALETTE = (
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
    "#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf",
)  # fmt: skip


_YARD_STYLE = (
    "background:#222;color:#fff;font:bold 11px sans-serif;text-align:center;"
    "border:3px solid;border-radius:3px;padding:0 2px;white-space:nowrap;"
)


def _e(value: object) -> str:
    return html.escape(str(value))


def _at(order: WorkOrder) -> tuple[float, float]:
    """(lat, lon) of a located work order."""
    assert order.lat is not None
    assert order.lon is not None
    return (order.lat, order.lon)


def route_map_html(
    plan: RoutePlan, *, tiles: str | None = "OpenStreetMap", max_dropped: int = 300
) -> str:
    """The plan's map as one self-contained HTML page that needs no network to render."""
    return render_html(route_map(plan, tiles=tiles, max_dropped=max_dropped))


def route_map(
    plan: RoutePlan, *, tiles: str | None = "OpenStreetMap", max_dropped: int = 300
) -> folium.Map:
    """The plan on a map: yards, numbered stops with ETA popups, dropped jobs with reasons.

    At most ``max_dropped`` left-out jobs are drawn (the most urgent): a backlog of
    thousands of markers makes a folium page too heavy to open.
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
    fmap = folium.Map(location=centre, zoom_start=12, tiles=tiles, control_scale=True)
    for route, colour in zip(plan.routes, cycle(PALETTE), strict=False):
        _add_route(fmap, route, colour)
    located = sorted(
        (d for d in plan.dropped if d.order.located),
        key=lambda d: (int(d.order.priority), d.order.job_id),
    )
    if located:
        shown = located[:max_dropped]
        name = f"Not planned ({len(located):,})"
        if len(shown) < len(located):
            name = f"Not planned (most urgent {len(shown)} of {len(located):,})"
        layer = folium.FeatureGroup(name=name, show=False)
        for d in shown:
            folium.CircleMarker(
                location=_at(d.order),
                radius=4,
                color="#777777",
                fill=True,
                fill_opacity=0.6,
                tooltip=_e(f"job {d.order.job_id}: {d.reason.label}"),
                popup=folium.Popup(
                    f"<b>{_e(d.order.title)}</b><br>{_e(d.order.address)}<br>"
                    f"P{int(d.order.priority)} · {_e(d.reason.label)}<br>{_e(d.detail)}",
                    max_width=320,
                ),
            ).add_to(layer)
        layer.add_to(fmap)
    if points:
        lats = [p[0] for p in points]
        lons = [p[1] for p in points]
        fmap.fit_bounds([(min(lats), min(lons)), (max(lats), max(lons))])
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


def _add_route(fmap: folium.Map, route: CrewRoute, colour: str) -> None:
    crew = route.crew
    hours = route.travel_s / 3600
    layer = folium.FeatureGroup(name=_e(f"{crew.code}: {len(route.stops)} stops, {hours:.1f} h"))
    start = (route.start_lat, route.start_lon)
    yard = (crew.depot.lat, crew.depot.lon)
    # a plain Leaflet div icon: folium.Icon needs the marker-icon fonts from a CDN
    folium.Marker(
        location=start,
        tooltip=_e(f"{crew.code} starts {route.starts_at:%H:%M}"),
        icon=folium.DivIcon(
            html=f'<div style="{_YARD_STYLE}border-color:{colour}">{_e(crew.code)}</div>',
            icon_size=(44, 18),
            icon_anchor=(22, 9),
        ),
    ).add_to(layer)
    path = [start, *(_at(s.order) for s in route.stops), yard]
    if len(path) > 2:
        folium.PolyLine(path, color=colour, weight=3, opacity=0.8).add_to(layer)  # type: ignore[no-untyped-call]
    for stop in route.stops:
        window = ""
        if stop.order.window is not None:
            window = (
                f"<br>appointment {stop.order.window.start.astimezone(stop.eta.tzinfo):%H:%M}-"
                f"{stop.order.window.end.astimezone(stop.eta.tzinfo):%H:%M}"
            )
        folium.CircleMarker(
            location=_at(stop.order),
            radius=7,
            color=colour,
            fill=True,
            fill_opacity=0.9,
            tooltip=_e(f"{crew.code} #{stop.sequence} {stop.eta:%H:%M}"),
            popup=folium.Popup(
                f"<b>{_e(crew.code)} stop {stop.sequence}</b> · ETA {stop.eta:%H:%M}<br>"
                f"{_e(stop.order.title)} (job {stop.order.job_id}, P{int(stop.order.priority)})"
                f"<br>{_e(stop.order.address)}<br>{stop.service_s // 60} min on site{window}",
                max_width=320,
            ),
        ).add_to(layer)
    layer.add_to(fmap)
