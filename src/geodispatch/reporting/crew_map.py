"""A crew's day on a phone: its stops in order on a small offline map, and navigation links.

The map shows only the crew's own stops (numbered, coloured by what the crew reported)
and the line between them; render it with :func:`geodispatch.reporting.maps.render_html`
so it needs no network. Titles and addresses reach the page only as JSON data its script
shows as text (:mod:`geodispatch.reporting.map_text`). Navigation links hand a stop's
coordinates to the phone's maps app, which knows the roads; addresses typed by residents
are never put into a URL.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlencode

import folium

from geodispatch.domain.errors import InputError
from geodispatch.reporting.map_text import MapText, TextBinding, inert_map
from geodispatch.reporting.maps import TileSource
from geodispatch.reporting.route_map import outline_layer

__all__ = ["STATUS_COLOURS", "MapStop", "crew_route_map", "navigation_links"]

#: Marker colour per stop status: the next stop stands out, finished ones fade.
STATUS_COLOURS: Final = {
    "next": "#0b57d0",
    "planned": "#5f6368",
    "arrived": "#e37400",
    "done": "#188038",
    "unable": "#c5221f",
}


@dataclass(frozen=True, slots=True)
class MapStop:
    """One stop as the crew map draws it."""

    sequence: int
    lon: float | None
    lat: float | None
    title: str
    address: str
    status: str
    eta: datetime | None = None

    @property
    def located(self) -> bool:
        """True when the stop has a point."""
        return self.lon is not None and self.lat is not None


def _check_point(lat: float, lon: float) -> None:
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise InputError(
            f"({lat}, {lon}) is not a WGS84 latitude/longitude; navigation needs degrees"
        )


def navigation_links(lat: float, lon: float) -> dict[str, str]:
    """Turn-by-turn links to a point for Google Maps and Apple Maps (driving).

    Built from the coordinates only: the phone's maps app finds the road there, and no
    text a resident typed ends up in a URL.
    """
    _check_point(lat, lon)
    point = f"{lat:.6f},{lon:.6f}"
    google = "https://www.google.com/maps/dir/?" + urlencode(
        {"api": "1", "destination": point, "travelmode": "driving"}
    )
    apple = "https://maps.apple.com/?" + urlencode({"daddr": point, "dirflg": "d"})
    return {"Google Maps": google, "Apple Maps": apple}


def crew_route_map(
    stops: Sequence[MapStop],
    *,
    start: tuple[float, float] | None = None,
    next_sequence: int | None = None,
    tiles: TileSource | None = None,
    outlines: dict[str, Any] | None = None,
) -> folium.Map:
    """The crew's stops, numbered in route order, joined by a line (lat, lon of ``start``).

    ``next_sequence`` marks the stop the crew should go to next. Stops without a point are
    left off the map (they stay in the list on the page). ``outlines`` (GeoJSON polygons,
    e.g. the wards) are drawn faintly for context when there are no base tiles.

    Raises
    ------
    InputError
        Neither a start nor any stop has a point.
    """
    located = [s for s in stops if s.located]
    points = [(float(s.lat), float(s.lon)) for s in located]  # type: ignore[arg-type]
    path = ([start] if start is not None else []) + points
    if not path:
        raise InputError("no stop has a point to draw; show the list of stops instead")
    fmap = inert_map(location=path[0], tiles=None, zoom_start=13, control_scale=True)
    texts = MapText.of(fmap)
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles.url, attr=html.escape(tiles.attribution), control=False
        ).add_to(fmap)
    if outlines is not None:
        outline_layer(outlines).add_to(fmap)
    if len(path) > 1:
        folium.PolyLine(path, color="#5f6368", weight=3, opacity=0.7).add_to(fmap)  # type: ignore[no-untyped-call]
    for stop, point in zip(located, points, strict=True):
        key = "next" if stop.sequence == next_sequence else stop.status
        colour = STATUS_COLOURS.get(key, STATUS_COLOURS["planned"])
        eta = f" · {stop.eta:%H:%M}" if stop.eta is not None else ""
        tooltip = texts.card(f"{stop.sequence}. {stop.title}{eta}", [("", stop.address)])
        marker = folium.Marker(  # a tooltip: the phone shows it on a tap
            location=point,
            icon=folium.DivIcon(
                html=(
                    f'<div style="background:{colour};color:#fff;border-radius:50%;width:26px;'
                    "height:26px;line-height:26px;text-align:center;font:bold 13px sans-serif;"
                    f'border:2px solid #fff;box-shadow:0 0 2px #000">{stop.sequence}</div>'
                ),
                icon_size=(30, 30),
                icon_anchor=(15, 15),
            ),
        ).add_to(fmap)
        TextBinding("tooltip", tooltip).add_to(marker)
    if start is not None:
        yard = folium.CircleMarker(location=start, radius=6, color="#222", fill=True)
        yard.add_to(fmap)
        TextBinding("tooltip", texts.card("Yard / start")).add_to(yard)
    lats = [p[0] for p in path]
    lons = [p[1] for p in path]
    fmap.fit_bounds([(min(lats), min(lons)), (max(lats), max(lons))], padding=(20, 20))
    return fmap
