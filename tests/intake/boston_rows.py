"""Tiny Boston-layout rows for tests, written the way the city's export writes them."""

from __future__ import annotations

HEADER_2011 = [
    "case_enquiry_id",
    "open_dt",
    "target_dt",
    "closed_dt",
    "ontime",
    "case_status",
    "closure_reason",
    "case_title",
    "subject",
    "reason",
    "type",
    "queue",
    "department",
    "submittedphoto",
    "closedphoto",
    "location",
    "fire_district",
    "pwd_district",
    "city_council_district",
    "police_district",
    "neighborhood",
    "neighborhood_services_district",
    "ward",
    "precinct",
    "location_street_name",
    "location_zipcode",
    "latitude",
    "longitude",
    "source",
]


def row(**values: str) -> list[str]:
    """A 2011-layout row: a plausible open pothole report, with fields overridden."""
    base = {
        "case_enquiry_id": "101000000001",
        "open_dt": "2011-07-01 08:30:00",
        "target_dt": "2011-07-03 08:30:00",
        "closed_dt": "",
        "ontime": "ONTIME",
        "case_status": "Open",
        "closure_reason": "",
        "case_title": "Pothole",
        "subject": "Public Works Department",
        "reason": "Highway Maintenance",
        "type": "Request for Pothole Repair",
        "queue": "PWDx_District 1C: North Dorchester",
        "department": "PWDx",
        "location": "39 Lorraine St  Roslindale  MA  02131",
        "ward": "Ward 20",
        "location_zipcode": "2131.0",
        "latitude": "42.2839",
        "longitude": "-71.1447",
        "source": "Constituent Call",
    }
    base.update(values)
    return [base.get(name, "") for name in HEADER_2011]


def header_2025() -> list[str]:
    """The current Analyze Boston layout: renamed SLA/on-time columns, a WKB column."""
    renamed = {
        "target_dt": "sla_target_dt",
        "ontime": "on_time",
        "submittedphoto": "submitted_photo",
        "closedphoto": "closed_photo",
    }
    names = [renamed.get(n, n) for n in HEADER_2011]
    return ["", *names[:-1], "geom_4326", names[-1]]
