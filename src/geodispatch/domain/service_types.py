"""The service-type catalogue: what each kind of request needs from the city."""

from __future__ import annotations

from dataclasses import dataclass

from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import Priority

#: Five years: cities do set multi-year targets (Boston's ADA ramp requests: 720 days).
MAX_SLA_HOURS = 5 * 365 * 24


@dataclass(frozen=True, slots=True)
class ServiceType:
    """One request type with its department, SLA target and the field work it needs.

    ``sla_hours`` is the target time from report to completion; ``None`` means the city sets
    no target for this type. ``field_work`` is False for types no crew visits (comments,
    notifications); dispatch leaves those out. ``public`` is False for the city's own work
    orders (Boston's "Pothole Repair (Internal)"): residents do not report them, so the public
    figures and the Open311 API leave them out while staff pages show them. ``edited`` marks
    values a person set, which re-imports keep.
    """

    code: str
    name: str
    department: str = ""
    queue: str = ""
    category: str = ""
    sla_hours: float | None = None
    service_minutes: int = 30
    skill: str = "general"
    priority: Priority = Priority.P3
    field_work: bool = True
    edited: bool = False
    public: bool = True
    max_age_days: int | None = None  # older jobs go to backlog review (None: the default)

    def __post_init__(self) -> None:
        if not self.code.strip():
            raise InputError(f"service type {self.name!r} has an empty code; give it a short code")
        if self.sla_hours is not None and not 0 < self.sla_hours <= MAX_SLA_HOURS:
            raise InputError(
                f"service type {self.code!r}: sla_hours must be in (0, {MAX_SLA_HOURS}]. Got "
                f"{self.sla_hours} instead; leave it empty when the city sets no target."
            )
        if not 1 <= self.service_minutes <= 24 * 60:
            raise InputError(
                f"service type {self.code!r}: service_minutes must be in [1, 1440]. Got "
                f"{self.service_minutes} instead."
            )
        if not self.skill.strip():
            raise InputError(f"service type {self.code!r}: skill is empty; use 'general'")
