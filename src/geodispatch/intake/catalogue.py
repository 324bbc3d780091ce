"""Build the service-type catalogue from the requests themselves.

For each type: department and queue (the most common), category, the SLA target (median
of the city's own due time minus open time, rounded to whole hours), and the field work it
needs. Boston's data carries no on-site durations or crew skills, so those come from the
documented defaults in :data:`WORK_RULES` (plus :data:`EMERGENCY` and
:data:`NOT_FIELD_WORK`), which a city edits in the catalogue; edited
values survive re-imports. Whether residents see a type (:func:`is_public`) follows the
city's own naming of its internal work orders, also editable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from geodispatch.domain.requests import Priority
from geodispatch.domain.service_types import ServiceType


@dataclass(frozen=True, slots=True)
class WorkRule:
    """Default field work for types whose category or name matches ``pattern``."""

    pattern: str
    skill: str
    service_minutes: int
    priority: Priority = Priority.P3


#: First match wins; checked against "category | name". Minutes are on-site time for a
#: typical job of the kind (assumptions to edit, not measurements); priority P2 marks
#: infrastructure that affects safety or many people, P3 everything else.
WORK_RULES: Final[tuple[WorkRule, ...]] = (
    WorkRule(r"\btrees?\b", "forestry", 90, Priority.P2),
    WorkRule(r"street ?light|light outage|lights|lighting", "electrical", 45, Priority.P2),
    WorkRule(
        r"traffic signal|signs? & signals|sign repair|new sign|signal|\bsigns?\b",
        "signs",
        30,
        Priority.P2,
    ),
    WorkRule(
        r"pothole|highway|sidewalk|pavement|roadway|curb|asphalt|utility call",
        "asphalt",
        40,
        Priority.P2,
    ),
    WorkRule(r"graffiti", "graffiti", 45),
    WorkRule(r"catch ?basin|sewer|water|hydrant|drain|manhole", "water", 60, Priority.P2),
    WorkRule(r"street cleaning|sweep|litter|dumping|debris|dead animal", "street_cleaning", 30),
    WorkRule(r"sanitation|recycl|trash|bulk item|missed|yard waste|cart", "sanitation", 15),
    WorkRule(r"abandoned (?:vehicle|bicycle)|parking|enforcement", "enforcement", 20),
    WorkRule(r"\bparks?\b|playground|cemetery", "parks", 60),
    WorkRule(
        r"housing|building|health|code enforcement|living conditions|rodent|mice|"
        r"bed bugs|heat|environmental|inspection|weights|permit|unsafe|electrical",
        "inspection",
        45,
    ),
)
DEFAULT_RULE: Final = WorkRule("", "general", 30, Priority.P3)

#: Types whose name says the situation is dangerous now: dispatched as P1 emergencies.
EMERGENCY: Final = r"emergenc|hazard|knock ?downs?|downed|make safe|unsafe|major system failure"

#: Types that are information, comments or office work, never a crew visit.
NOT_FIELD_WORK: Final = (
    r"comments?|notification|alert boston|current events|programs|valet|volunteer|"
    r"general request|information|office of the parking clerk|^administrative"
)


#: Types the city opens for its own crews' work, not residents' reports: Boston names them
#: "Pothole Repair (Internal)", "Street Light Outages (Internal)", "Sidewalk Repair
#: (Internal)". Migration 0007 applies the same rule to catalogues stored before the flag.
INTERNAL_SUFFIX: Final = "(internal)"


def is_public(name: str) -> bool:
    """False for an internal work-order type (its name ends in "(Internal)", any case).

    A default a city overrides in the catalogue (``geodispatch catalogue set CODE
    --internal`` or ``--public``); the override survives re-imports.
    """
    return not name.strip().lower().endswith(INTERNAL_SUFFIX)


def work_rule(category: str, name: str) -> WorkRule:
    """The default field work for a type, from its category and name.

    The skill and minutes come from the first matching :data:`WORK_RULES` entry; a name
    matching :data:`EMERGENCY` raises the priority to P1 whatever the skill.
    """
    text = f"{category} | {name}".lower()
    rule = next((r for r in WORK_RULES if re.search(r.pattern, text)), DEFAULT_RULE)
    if re.search(EMERGENCY, name.lower()):
        return WorkRule(rule.pattern, rule.skill, rule.service_minutes, Priority.P1)
    return rule


def needs_field_work(category: str, name: str) -> bool:
    """False for types that are information or comments rather than a place to visit."""
    return re.search(NOT_FIELD_WORK, f"{category} | {name}".lower()) is None


def derive_catalogue(requests: pd.DataFrame) -> list[ServiceType]:
    """One ServiceType per ``service_code`` seen in ``requests``.

    ``requests`` needs ``service_code, service_name, created_at, due_at`` and may carry
    ``department, queue, category``. The SLA target is the median of ``due_at - created_at`` over
    requests with a due time, rounded to whole hours (``None`` when no request has one).
    """
    if requests.empty:
        return []
    frame = requests.copy()
    for optional in ("department", "queue", "category"):
        if optional not in frame.columns:
            frame[optional] = ""
    frame["hours"] = (frame["due_at"] - frame["created_at"]).dt.total_seconds() / 3600.0
    targets = sla_targets(frame[["service_code", "hours"]])
    modes = {c: _modes(frame, c) for c in ("service_name", "department", "queue", "category")}
    out: list[ServiceType] = []
    for code in sorted(frame["service_code"].unique()):
        name = modes["service_name"].get(code, str(code))
        category = modes["category"].get(code, "")
        rule = work_rule(category, name)
        out.append(
            ServiceType(
                code=str(code),
                name=name,
                department=modes["department"].get(code, ""),
                queue=modes["queue"].get(code, ""),
                category=category,
                sla_hours=targets.get(str(code)),
                service_minutes=rule.service_minutes,
                skill=rule.skill,
                priority=rule.priority,
                field_work=needs_field_work(category, name),
                public=is_public(name),
            )
        )
    return out


def sla_targets(inputs: pd.DataFrame) -> dict[str, float | None]:
    """service_code -> SLA target in whole hours: the median of positive open-to-due times.

    ``inputs`` has ``service_code`` and ``hours``. Types whose requests carry no positive
    due time get ``None`` (no target).
    """
    positive = inputs[inputs["hours"] > 0]
    medians = positive.groupby("service_code")["hours"].median()
    out: dict[str, float | None] = {str(c): None for c in inputs["service_code"].unique()}
    out.update({str(c): float(max(1.0, np.round(h))) for c, h in medians.items()})
    return out


def _modes(frame: pd.DataFrame, column: str) -> dict[object, str]:
    """service_code -> most common non-empty value of ``column`` (ties: first by value)."""
    values = frame[["service_code", column]]
    values = values[values[column].astype(str) != ""]
    if values.empty:
        return {}
    counts = values.groupby(["service_code", column], sort=True).size()
    counts = counts.sort_values(ascending=False, kind="stable")
    top = counts[~counts.index.get_level_values(0).duplicated()]
    return {code: str(value) for code, value in top.index}
