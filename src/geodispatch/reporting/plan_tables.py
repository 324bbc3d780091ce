"""A day's plan as tidy tables for the dispatcher: crews, stops, jobs left out, changes.

Pure functions over :class:`~geodispatch.domain.plans.RoutePlan` and
:class:`~geodispatch.domain.plans.PlanDiff`. Times stay aware (the plan's zone, the city's);
screens format them. Values are data, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from geodispatch.domain.crews import Crew
from geodispatch.domain.plans import PlanDiff, RoutePlan, WorkOrder

__all__ = [
    "CHANGE_LABELS",
    "STOP_STATUS_LABELS",
    "change_table",
    "crew_table",
    "dropped_table",
    "reason_table",
    "stop_table",
]

#: How a stop's field status reads on a dispatcher's screen.
STOP_STATUS_LABELS = {
    "planned": "Planned",
    "arrived": "On site",
    "done": "Done",
    "unable": "Could not complete",
}

#: How a re-plan change reads on a dispatcher's screen.
CHANGE_LABELS = {
    "added": "Added to a route",
    "moved": "Moved to another crew",
    "retimed": "New time",
    "dropped": "Taken off the routes",
    "new": "New job",
}

#: The job columns every stop and left-out row carries (see :func:`_order_fields`).
_ORDER_COLUMNS = [
    "job_id",
    "service_code",
    "title",
    "address",
    "ward",
    "priority",
    "callers",
    "due_at",
]
_STOP_COLUMNS = [
    "crew",
    "sequence",
    "status",
    "eta",
    "departs_at",
    *_ORDER_COLUMNS,
    "late_min",
    "locked",
    "lon",
    "lat",
]


def _order_fields(order: WorkOrder) -> dict[str, object]:
    """The job facts a dispatcher reads in every plan table."""
    return {
        "job_id": order.job_id,
        "service_code": order.service_code,
        "title": order.title,
        "address": order.address,
        "ward": order.ward,
        "priority": f"P{int(order.priority)}",
        "callers": order.caller_count,
        "due_at": order.due_at,
    }


def stop_table(plan: RoutePlan) -> pd.DataFrame:
    """One row per stop, by crew and sequence, with the stop's field status label."""
    rows = [
        {
            "crew": route.crew.code,
            "sequence": stop.sequence,
            "status": STOP_STATUS_LABELS.get(stop.status, stop.status),
            "eta": stop.eta,
            "departs_at": stop.departs_at,
            **_order_fields(stop.order),
            "late_min": stop.late_s // 60,
            "locked": stop.locked,
            "lon": stop.order.lon,
            "lat": stop.order.lat,
        }
        for route in plan.routes
        for stop in route.stops
    ]
    frame = pd.DataFrame(rows, columns=_STOP_COLUMNS)
    frame["ward"] = frame["ward"].astype("Int64")
    return frame


def crew_table(plan: RoutePlan | None, crews: Sequence[Crew]) -> pd.DataFrame:
    """Each crew on shift with its route's progress: stops, done, on site, hours.

    Crews of the roster without a route in the plan are listed with zero stops, so the
    dispatcher sees who is idle; ``plan`` may be None (nothing planned yet).
    """
    routes = {r.crew.code: r for r in plan.routes} if plan is not None else {}
    rows = []
    for crew in sorted(crews, key=lambda c: c.code):
        route = routes.get(crew.code)
        stops = route.stops if route is not None else ()
        statuses = [s.status for s in stops]
        rows.append(
            {
                "crew": crew.code,
                "name": crew.name,
                "yard": crew.depot.name,
                "shift": f"{crew.shift_start:%H:%M}–{crew.shift_end:%H:%M}",
                "skills": ", ".join(sorted(crew.skills)),
                "stops": len(stops),
                "done": statuses.count("done"),
                "on_site": statuses.count("arrived"),
                "unable": statuses.count("unable"),
                "left": statuses.count("planned"),
                "finished_share": (
                    (statuses.count("done") + statuses.count("unable")) / len(stops)
                    if stops
                    else 0.0
                ),
                "work_h": round(route.service_s / 3600, 1) if route else 0.0,
                "drive_h": round(route.travel_s / 3600, 1) if route else 0.0,
                "back_at": route.ends_at if route and stops else None,
                "late_stops": sum(1 for s in stops if s.late_s > 0),
            }
        )
    return pd.DataFrame(rows)


_DROPPED_COLUMNS = ["reason", "detail", *_ORDER_COLUMNS, "reason_code"]


def dropped_table(plan: RoutePlan) -> pd.DataFrame:
    """Every job left out of the plan with its reason, most urgent first (P1, due soonest)."""
    rows = [
        {
            "reason": d.reason.label,
            "detail": d.detail,
            **_order_fields(d.order),
            "reason_code": d.reason.value,
        }
        for d in plan.dropped
    ]
    frame = pd.DataFrame(rows, columns=_DROPPED_COLUMNS)
    frame["ward"] = frame["ward"].astype("Int64")
    frame["due_at"] = pd.to_datetime(frame["due_at"], utc=True)
    return frame.sort_values(
        ["priority", "due_at", "job_id"], na_position="last", kind="stable"
    ).reset_index(drop=True)


def reason_table(dropped: pd.DataFrame) -> pd.DataFrame:
    """Jobs left out per reason (label and code), most common first."""
    if dropped.empty:
        return pd.DataFrame(columns=["reason", "reason_code", "jobs"])
    counted = dropped.groupby(["reason", "reason_code"]).size().rename("jobs").reset_index()
    return counted.sort_values("jobs", ascending=False, kind="stable").reset_index(drop=True)


def change_table(diff: PlanDiff) -> pd.DataFrame:
    """A re-plan's changes, one row per job: what happened, crews and times before/after."""
    rows = [
        {
            "job_id": c.job_id,
            "change": CHANGE_LABELS.get(c.kind, c.kind),
            "from_crew": c.from_crew or "",
            "to_crew": c.to_crew or "",
            "eta_before": c.eta_before,
            "eta_after": c.eta_after,
            "detail": c.detail,
        }
        for c in diff.changes
    ]
    return pd.DataFrame(
        rows,
        columns=["job_id", "change", "from_crew", "to_crew", "eta_before", "eta_after", "detail"],
    )
