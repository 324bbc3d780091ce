"""The public map of residents' reports (issue 25): type, status and age, nothing personal.

Open reports and those closed lately, one dot each, coloured by where they stand. Type
names reach the page only as text data (:mod:`geodispatch.reporting.map_text`); render
with :func:`geodispatch.reporting.maps.render_html`, which needs no network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import folium

from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import RequestStatus
from geodispatch.reporting.map_text import MapText, TextBinding, inert_map
from geodispatch.reporting.route_map import outline_layer

#: Dot colour by what a resident would want to know: waiting, being worked, fixed, closed.
COLOURS: Final = {
    "waiting": "#c5221f",
    "in hand": "#e37400",
    "fixed": "#188038",
    "closed": "#5f6368",
}


def stage(status: RequestStatus) -> str:
    """The map's colour group of a status."""
    if status in (RequestStatus.NEW, RequestStatus.REVIEWED):
        return "waiting"
    if status.is_open:
        return "in hand"
    return "fixed" if status is RequestStatus.COMPLETED else "closed"


@dataclass(frozen=True, slots=True)
class PublicPoint:
    """One report as the public map shows it."""

    request_id: int
    service_name: str
    status: RequestStatus
    lat: float
    lon: float
    age_days: int


def public_map(
    points: Sequence[PublicPoint], *, outlines: dict[str, Any] | None = None
) -> folium.Map:
    """The reports as dots with a tooltip each (type, status, age, number).

    Raises
    ------
    InputError
        No report to draw.
    """
    if not points:
        raise InputError("no report matches these filters; choose another ward or type")
    lats = [p.lat for p in points]
    lons = [p.lon for p in points]
    fmap = inert_map(location=(lats[0], lons[0]), tiles=None, zoom_start=13, control_scale=True)
    texts = MapText.of(fmap)
    if outlines is not None:
        outline_layer(outlines).add_to(fmap)
    for p in points:
        age = "today" if p.age_days == 0 else f"{p.age_days} day{'s' if p.age_days != 1 else ''}"
        tooltip = texts.card(
            p.service_name,
            [("Status", p.status.label), ("Reported", age), ("Request", f"#{p.request_id}")],
        )
        dot = folium.CircleMarker(
            location=(p.lat, p.lon),
            radius=6,
            color="#fff",
            weight=1,
            fill=True,
            fill_color=COLOURS[stage(p.status)],
            fill_opacity=0.9,
        ).add_to(fmap)
        TextBinding("tooltip", tooltip).add_to(dot)
    fmap.fit_bounds([(min(lats), min(lons)), (max(lats), max(lons))], padding=(20, 20))
    return fmap


def age_days(created_at: datetime, now: datetime) -> int:
    """Whole days since a report was made (0 on the day)."""
    return max(0, (now - created_at).days)
