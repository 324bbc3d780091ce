"""The monthly ward report for a council office: one self-contained, offline HTML page.

Built from a :class:`WardReport` (figures computed by ``services.reports``) with no template
engine: every text that came from data (type names, places) goes through
:func:`html.escape`, the map is an inline SVG drawn here from coordinates and ward numbers
only, and the page loads nothing from the network. No personal data: no names, no
descriptions, and places at block level ("100 block of Main St"), never a house number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any, Final

import pandas as pd

#: Colours of the map's points by what became of the request (colour-blind safe).
POINT_COLOURS: Final = {
    "open": "#d55e00",
    "completed": "#009e73",
    "closed without work": "#cc79a7",
    "other closure": "#999999",
}
MAP_WIDTH: Final = 640
MAP_HEIGHT: Final = 520


@dataclass(frozen=True, slots=True)
class WardReport:
    """Figures of one month in one or more wards, as the report and the app show them.

    Counts are of requests reported in the month (``requests``, ``completed``…), except
    ``open_at_end``/``overdue_at_end`` (all requests still open when the month ended) and
    ``closures`` (requests closed in the month, by what their note says).
    """

    wards: tuple[int, ...]
    month: str
    period_start: pd.Timestamp
    period_end: pd.Timestamp
    requests: int
    completed: int
    closed_not_fixed: int
    on_time_share: float | None
    median_days: float | None
    open_at_end: int
    overdue_at_end: int
    by_type: pd.DataFrame
    backlog: pd.DataFrame
    closures: pd.DataFrame
    rereports: pd.DataFrame
    rereported: int
    completions_followed: int
    hotspots: pd.DataFrame
    chronic: pd.DataFrame
    points: pd.DataFrame
    outlines: dict[str, Any] | None
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """'Ward 3 — November 2011' (wards joined when several)."""
        label = "Ward" if len(self.wards) == 1 else "Wards"
        month = pd.Period(self.month, freq="M").strftime("%B %Y")
        return f"{label} {', '.join(map(str, self.wards))} — {month}"

    @property
    def without_work(self) -> int:
        """Closures in the month whose note says no work was done."""
        if self.closures.empty:
            return 0
        return int(self.closures.loc[~self.closures["completed"], "closed"].sum())


_HOUSE_NUMBER = re.compile(r"^\s*(\d+)[A-Za-z]?(?:\s*-\s*\d+[A-Za-z]?)?\s+(.*)$")


def block_level(address: str) -> str:
    """An address reduced to its block: '1234 Blue Hill Ave' → '1200 block of Blue Hill Ave'.

    Text after the first comma (city, ZIP) is dropped; an address without a house number
    (an intersection) is kept as it is.
    """
    text = re.sub(r"\s+", " ", str(address or "")).split(",")[0].strip()
    match = _HOUSE_NUMBER.match(text)
    if not match:
        return text
    number = int(match.group(1))
    return f"{number // 100 * 100} block of {match.group(2).strip()}"


def _fmt_share(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.0%}"  # type: ignore[arg-type]


def _fmt_days(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.1f}"  # type: ignore[arg-type]


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:,.1f}"
    return str(value)


def html_table(
    frame: pd.DataFrame,
    columns: Sequence[tuple[str, str]],
    *,
    formats: dict[str, Any] | None = None,
    empty: str = "None this month.",
) -> str:
    """An escaped HTML table of ``frame``'s ``(column, heading)`` pairs."""
    if frame.empty:
        return f"<p class='empty'>{escape(empty)}</p>"
    formats = formats or {}
    head = "".join(f"<th>{escape(h)}</th>" for _, h in columns)
    rows = []
    for record in frame.to_dict("records"):
        cells = []
        for column, _ in columns:
            value = record.get(column)
            text = formats[column](value) if column in formats else _fmt(_plain(value))
            numeric = isinstance(_plain(value), int | float) and not isinstance(value, bool)
            cells.append(f"<td{' class=num' if numeric else ''}>{escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _plain(value: object) -> object:
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()  # numpy scalar → Python
    return value


def _rings(geometry: dict[str, Any]) -> Iterable[list[list[float]]]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    if kind == "Polygon":
        yield from coords
    elif kind == "MultiPolygon":
        for polygon in coords:
            yield from polygon


@dataclass(frozen=True, slots=True)
class _Frame:
    """Equirectangular projection of a lon/lat box onto the SVG's pixels."""

    west: float
    north: float
    kx: float
    scale: float
    width: float
    height: float

    @classmethod
    def around(cls, points: Sequence[Sequence[float]]) -> _Frame:
        lons = [float(p[0]) for p in points]
        lats = [float(p[1]) for p in points]
        pad_lon = (max(lons) - min(lons)) * 0.05 or 0.005
        pad_lat = (max(lats) - min(lats)) * 0.05 or 0.005
        west, east = min(lons) - pad_lon, max(lons) + pad_lon
        south, north = min(lats) - pad_lat, max(lats) + pad_lat
        kx = math.cos(math.radians((south + north) / 2))
        scale = min(MAP_WIDTH / ((east - west) * kx), MAP_HEIGHT / (north - south))
        return cls(west, north, kx, scale, (east - west) * kx * scale, (north - south) * scale)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.west) * self.kx * self.scale, (self.north - lat) * self.scale

    def inside(self, lon: float, lat: float) -> bool:
        x, y = self.xy(lon, lat)
        return 0 <= x <= self.width and 0 <= y <= self.height

    def path(self, ring: Sequence[Sequence[float]]) -> str:
        return " ".join("{:.1f},{:.1f}".format(*self.xy(float(p[0]), float(p[1]))) for p in ring)

    def open(self, label: str) -> str:
        return (
            f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {self.width:.0f} "
            f"{self.height:.0f}' width='{self.width:.0f}' height='{self.height:.0f}' role='img' "
            f"aria-label='{escape(label)}'><rect width='{self.width:.0f}' "
            f"height='{self.height:.0f}' fill='#f4f6f8'/>"
        )


def ward_rings(outlines: dict[str, Any] | None) -> list[tuple[str, list[list[float]]]]:
    """(ward id, ring) of every polygon ring of the ward outlines GeoJSON."""
    out: list[tuple[str, list[list[float]]]] = []
    for feature in (outlines or {}).get("features", []):
        ward_id = str((feature.get("properties") or {}).get("area_id", ""))
        out.extend((ward_id, ring) for ring in _rings(feature.get("geometry") or {}))
    return out


def svg_map(
    outlines: dict[str, Any] | None,
    wards: Sequence[int],
    points: pd.DataFrame,
    hotspots: pd.DataFrame,
) -> str:
    """An inline SVG of the wards (selected ones outlined), request points and hotspots.

    Only numbers reach the SVG: coordinates, ward ids (as integers) and fixed colours.
    """
    chosen = {str(w) for w in wards}
    rings = ward_rings(outlines)
    focus = [pt for ward_id, ring in rings if ward_id in chosen for pt in ring]
    if not focus:
        focus = [[float(x), float(y)] for x, y in zip(points["lon"], points["lat"], strict=True)]
    if not focus:
        return "<p class='empty'>No map: no ward outline and no located request.</p>"
    frame = _Frame.around(focus)
    parts = [frame.open("Map of the ward: requests of the month and hotspots")]
    for selected, ring in sorted(((w in chosen, r) for w, r in rings), key=lambda r: r[0]):
        style = (
            "fill='#ffffff' stroke='#222' stroke-width='2'"
            if selected
            else "fill='#e3e7eb' stroke='#9aa5b1' stroke-width='0.8'"
        )
        parts.append(f"<polygon points='{frame.path(ring)}' {style}/>")
    for kind, colour in POINT_COLOURS.items():
        chosen_points = points[points["kind"] == kind]
        for lon, lat in zip(chosen_points["lon"], chosen_points["lat"], strict=True):
            if frame.inside(float(lon), float(lat)):
                x, y = frame.xy(float(lon), float(lat))
                parts.append(
                    f"<circle cx='{x:.1f}' cy='{y:.1f}' r='2.6' fill='{colour}' "
                    "fill-opacity='0.75'/>"
                )
    centres = zip(hotspots.get("centroid_lon", []), hotspots.get("centroid_lat", []), strict=True)
    for lon, lat in centres:
        x, y = frame.xy(float(lon), float(lat))
        parts.append(
            f"<circle cx='{x:.1f}' cy='{y:.1f}' r='9' fill='none' stroke='#e69f00' "
            "stroke-width='2.5'/>"
        )
    parts.append("</svg>")
    legend = "".join(
        f"<span class='key'><i style='background:{c}'></i>{escape(k)}</span>"
        for k, c in POINT_COLOURS.items()
    )
    legend += "<span class='key'><i class='ring'></i>hotspot</span>"
    return "".join(parts) + f"<div class='legend'>{legend}</div>"


def _shade(value: float, limit: float) -> str:
    """Blue (below 0, better) to white to orange-red (above 0, worse)."""
    if math.isnan(value):
        return "#e3e7eb"
    t = max(-1.0, min(1.0, value / limit)) if limit > 0 else 0.0
    low, high = (33, 102, 172), (202, 0, 32)
    end = high if t > 0 else low
    mix = [round(255 + (c - 255) * abs(t)) for c in end]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def choropleth_svg(
    outlines: dict[str, Any] | None,
    values: dict[int, float],
    *,
    unit: str,
    worse: str,
    digits: int = 1,
) -> str:
    """Wards shaded by ``values`` (grey: no value, e.g. too few to rank), labelled by number.

    Positive values are shaded as worse (``worse`` says what that means in the legend).
    """
    rings = ward_rings(outlines)
    if not rings:
        return "<p class='empty'>No ward outlines to draw.</p>"
    frame = _Frame.around([pt for _, ring in rings for pt in ring])
    finite = [abs(v) for v in values.values() if not math.isnan(v)]
    limit = max(finite) if finite else 1.0
    parts = [frame.open("Wards shaded by their gap to the city")]
    labelled: dict[str, tuple[float, float, int]] = {}
    for ward_id, ring in rings:
        number = int(ward_id) if ward_id.isdigit() else None
        value = values.get(number, math.nan) if number is not None else math.nan
        parts.append(
            f"<polygon points='{frame.path(ring)}' fill='{_shade(value, limit)}' "
            "stroke='#52606d' stroke-width='0.8'/>"
        )
        if number is not None and len(ring) > labelled.get(ward_id, (0, 0, 0))[2]:
            xs, ys = zip(*(frame.xy(float(p[0]), float(p[1])) for p in ring), strict=True)
            labelled[ward_id] = (sum(xs) / len(xs), sum(ys) / len(ys), len(ring))
    for ward_id, (x, y, _) in labelled.items():
        parts.append(
            f"<text x='{x:.0f}' y='{y:.0f}' font-size='11' text-anchor='middle' "
            f"fill='#1f2933'>{int(ward_id)}</text>"
        )
    parts.append("</svg>")
    keys = (
        (_shade(limit, limit), f"{worse} (+{limit:.{digits}f} {unit})"),
        (_shade(-limit, limit), f"better (−{limit:.{digits}f} {unit})"),
        ("#e3e7eb", "too few to rank"),
    )
    swatch = "display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle"
    legend = "".join(
        f"<span><i style='{swatch};background:{colour}'></i>{escape(text)}</span>"
        for colour, text in keys
    )
    return "".join(parts) + f"<div style='font:12px sans-serif;color:#52606d'>{legend}</div>"


def equity_geojson(outlines: dict[str, Any] | None, wards: pd.DataFrame) -> dict[str, Any]:
    """The ward outlines with each ward's equity figures as properties (for GIS export)."""
    by_ward = {str(int(r["ward"])): r for r in wards.to_dict("records")}
    features = []
    for feature in (outlines or {}).get("features", []):
        ward_id = str((feature.get("properties") or {}).get("area_id", ""))
        row = by_ward.get(ward_id, {})
        properties = {"ward": ward_id} | {k: _json_value(v) for k, v in row.items() if k != "ward"}
        features.append(
            {"type": "Feature", "properties": properties, "geometry": feature.get("geometry")}
        )
    return {"type": "FeatureCollection", "features": features}


def _json_value(value: object) -> object:
    plain = _plain(value)
    if isinstance(plain, float) and math.isnan(plain):
        return None
    return plain


_CSS: Final = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2933;
max-width:980px;margin:24px auto;padding:0 16px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d9e2ec}
.sub{color:#52606d;margin:0 0 16px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
.tile{border:1px solid #d9e2ec;border-radius:6px;padding:8px 10px}
.tile b{display:block;font-size:22px}.tile span{color:#52606d;font-size:12px}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}
th,td{border-bottom:1px solid #e4e7eb;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f5f7fa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.empty{color:#7b8794;font-style:italic}.note{color:#52606d;font-size:12px}
.legend{font-size:12px;color:#52606d;margin-top:4px}
.key{margin-right:14px}.key i{display:inline-block;width:10px;height:10px;border-radius:50%;
margin-right:4px;vertical-align:middle}.key i.ring{border:2px solid #e69f00;background:none}
svg{max-width:100%;height:auto;border:1px solid #d9e2ec}
@media print{body{margin:0}h2{break-after:avoid}table{break-inside:auto}}
"""


#: Types the report lists by name; the rest share one row (their counts still add up).
TYPE_ROWS: Final = 25


def top_types(by_type: pd.DataFrame, rows: int = TYPE_ROWS) -> pd.DataFrame:
    """The ``rows`` busiest types, then one 'other types' row summing the rest's counts."""
    if len(by_type) <= rows:
        return by_type
    rest = by_type.iloc[rows:]
    other = {
        "service_name": f"{len(rest)} other types",
        "requests": int(rest["requests"].sum()),
        "completed": int(rest["completed"].sum()),
        "closed_not_fixed": int(rest["closed_not_fixed"].sum()),
    }
    return pd.concat([by_type.iloc[:rows], pd.DataFrame([other])], ignore_index=True)


def _tile(value: str, label: str, key: str) -> str:
    return (
        f"<div class='tile' data-figure='{escape(key)}'><b>{escape(value)}</b>"
        f"<span>{escape(label)}</span></div>"
    )


def render_html(report: WardReport, *, generated: str) -> str:
    """The report as one HTML page (inline CSS and SVG, no script, no network)."""
    r = report
    tiles = "".join(
        [
            _tile(f"{r.requests:,}", "requests reported", "requests"),
            _tile(f"{r.completed:,}", "completed as a fix", "completed"),
            _tile(_fmt_share(r.on_time_share), "completed on time", "on_time_share"),
            _tile(_fmt_days(r.median_days), "median days to complete", "median_days"),
            _tile(f"{r.open_at_end:,}", "open at month end", "open_at_end"),
            _tile(f"{r.overdue_at_end:,}", "overdue at month end", "overdue_at_end"),
            _tile(f"{r.without_work:,}", "closed without work", "without_work"),
            _tile(
                f"{r.rereported:,} of {r.completions_followed:,}",
                "completions re-reported within the window",
                "rereported",
            ),
        ]
    )
    by_type = html_table(
        top_types(r.by_type),
        [
            ("service_name", "Type"),
            ("requests", "Requests"),
            ("completed", "Completed"),
            ("closed_not_fixed", "Closed, not a fix"),
            ("median_days", "Median days"),
            ("p90_days", "90th pct days"),
            ("on_time_share", "On time"),
        ],
        formats={"on_time_share": _fmt_share, "median_days": _fmt_days, "p90_days": _fmt_days},
    )
    backlog = html_table(
        r.backlog,
        [("age", "Age at month end"), ("open", "Open"), ("overdue", "Overdue")],
        empty="Nothing was open at month end.",
    )
    closures = html_table(
        r.closures[~r.closures["completed"]] if not r.closures.empty else r.closures,
        [("outcome", "What the closing note says"), ("closed", "Requests")],
        empty="Every closure this month was a fix.",
    )
    rereports = html_table(
        r.rereports,
        [
            ("service_name", "Type"),
            ("completed", "Completed"),
            ("rereported", "Re-reported"),
            ("share", "Share"),
        ],
        formats={"share": _fmt_share},
        empty="No completion this month was followed by a new report nearby.",
    )
    hotspots = html_table(
        r.hotspots,
        [
            ("service_name", "Type"),
            ("trend", "Trend"),
            ("n_reports", "Reports"),
            ("ratio", "× expected"),
            ("place", "Around"),
        ],
        empty="No active hotspot in this ward.",
    )
    chronic = html_table(
        r.chronic,
        [("place", "Place"), ("service_name", "Type"), ("reports", "Reports (12 months)")],
        empty="No place with repeated reports of one type.",
    )
    notes = "".join(f"<p class='note'>{escape(n)}</p>" for n in r.notes)
    period = f"{r.period_start:%d %b %Y} – {r.period_end:%d %b %Y}"
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(r.title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(r.title)}</h1>"
        f"<p class='sub'>311 requests reported {escape(period)} · generated {escape(generated)}"
        " · no personal data</p>"
        f"<div class='tiles'>{tiles}</div>"
        f"<h2>Map</h2>{svg_map(r.outlines, r.wards, r.points, r.hotspots)}"
        f"<h2>Requests by type</h2>{by_type}"
        f"<h2>Backlog</h2>{backlog}"
        f"<h2>Closed without work</h2>{closures}"
        f"<h2>Re-reports after closure</h2>{rereports}"
        f"<h2>Hotspots</h2>{hotspots}"
        f"<h2>Chronic places</h2>{chronic}"
        f"{notes}</body></html>"
    )
