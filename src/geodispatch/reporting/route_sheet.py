"""A printable route sheet: one page per crew, every stop with its time and address.

Plain HTML with print CSS (A4/Letter, a page break between crews, no colours needed),
so a crew chief can print it from any browser. Every user-provided string is escaped.
"""

from __future__ import annotations

import html
from datetime import datetime

from geodispatch.domain.plans import CrewRoute, RoutePlan

_CSS = """
body { font: 11pt/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5em; }
h1 { font-size: 16pt; margin: 0 0 .2em; } h2 { font-size: 13pt; margin: 0 0 .3em; }
.meta { color: #333; margin-bottom: .6em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: .25em .4em; text-align: left; vertical-align: top; }
th { background: #eee; } td.num { text-align: right; white-space: nowrap; }
.crew { page-break-after: always; break-after: page; margin-bottom: 2em; }
.crew:last-child { page-break-after: auto; break-after: auto; }
.lunch td { background: #f7f7f7; font-style: italic; }
.done { width: 2.2em; }
@media print { body { margin: 0; } @page { size: auto; margin: 12mm; } }
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _t(value: datetime | None) -> str:
    return "" if value is None else f"{value:%H:%M}"


def route_sheet_html(plan: RoutePlan, *, crew_code: str | None = None, city: str = "") -> str:
    """The sheet for every crew with stops (or only ``crew_code``) as a full HTML page."""
    routes = [r for r in plan.routes if r.stops and (crew_code is None or r.crew.code == crew_code)]
    title = f"Route sheet {plan.plan_date:%A %Y-%m-%d}" + (f" · {city}" if city else "")
    body = "".join(_crew_section(r, title) for r in routes) or "<p>No stops planned.</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>"
    )


def _crew_section(route: CrewRoute, title: str) -> str:
    crew = route.crew
    lunch = ""
    if route.break_start is not None and crew.lunch is not None:
        lunch = f" · lunch {_t(route.break_start)} ({crew.lunch.minutes} min)"
    meta = (
        f"Yard: {_e(crew.depot.name)} · leave {_t(route.starts_at)} · back {_t(route.ends_at)}"
        f"{lunch}<br>{len(route.stops)} stops · driving {route.travel_s // 60} min · on site "
        f"{route.service_s // 60} min · skills {_e(', '.join(sorted(crew.skills)))}"
    )
    rows = []
    for stop in route.stops:
        if route.break_start is not None and stop.sequence == route.break_after + 1:
            rows.append(_lunch_row(route))
        window = ""
        if stop.order.window is not None:
            tz = stop.eta.tzinfo
            window = (
                f"{stop.order.window.start.astimezone(tz):%H:%M}-"
                f"{stop.order.window.end.astimezone(tz):%H:%M}"
            )
        rows.append(
            "<tr>"
            f"<td class='num'>{stop.sequence}</td><td class='num'>{_t(stop.eta)}</td>"
            f"<td>{_e(window)}</td><td class='num'>{stop.order.job_id}</td>"
            f"<td>{_e(stop.order.title)}</td><td>{_e(stop.order.address)}</td>"
            f"<td>P{int(stop.order.priority)}</td><td class='num'>{stop.service_s // 60}</td>"
            f"<td class='num'>{stop.travel_s // 60}</td><td class='done'>☐</td></tr>"
        )
    if route.break_start is not None and route.break_after >= len(route.stops):
        rows.append(_lunch_row(route))
    return (
        f"<section class='crew'><h1>{_e(title)}</h1>"
        f"<h2>Crew {_e(crew.code)}{' · ' + _e(crew.name) if crew.name else ''}</h2>"
        f"<div class='meta'>{meta}</div><table><thead><tr><th>#</th><th>ETA</th>"
        "<th>Appt.</th><th>Job</th><th>Work</th><th>Address</th><th>Pri.</th>"
        "<th>Min</th><th>Drive</th><th>Done</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
    )


def _lunch_row(route: CrewRoute) -> str:
    return (
        f"<tr class='lunch'><td></td><td class='num'>{_t(route.break_start)}</td>"
        "<td colspan='8'>Lunch break</td></tr>"
    )
