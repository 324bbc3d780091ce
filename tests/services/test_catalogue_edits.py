"""Editing the catalogue from the app's table: all or nothing, errors that name the cell."""

from __future__ import annotations

import math

import pytest

from geodispatch.config import Settings
from geodispatch.domain.errors import InputError, NotFoundError
from geodispatch.domain.requests import Priority
from geodispatch.services import catalogue
from geodispatch.services.intake import import_payload
from tests.workflow.workflow_helpers import item


@pytest.fixture
def mixed(settings: Settings) -> Settings:
    """A residents' pothole type and the city's own pothole work-order type."""
    import_payload(
        [
            item("r1"),
            item("w1", lat=42.35, code="pothole-internal", name="Pothole Repair (Internal)"),
        ],
        source="test",
        settings=settings,
    )
    return settings


def types(settings: Settings) -> dict[str, object]:
    return {t.code: t for t, _ in catalogue.list_types(settings)}


def test_a_table_of_edits_is_stored_and_marked_edited(mixed: Settings) -> None:
    codes = sorted(types(mixed))
    resident, internal = (c for c in codes if "internal" not in c), "pothole-internal"
    resident_code = next(resident)
    saved = catalogue.edit_types(
        {
            resident_code: {"sla_hours": 48.0, "skill": " Asphalt ", "priority": 2},
            internal: {"public": True, "service_minutes": 45.0},
        },
        settings=mixed,
    )
    assert len(saved) == 2
    stored = types(mixed)
    assert stored[resident_code].sla_hours == 48.0
    assert stored[resident_code].skill == "asphalt"
    assert stored[resident_code].priority == Priority.P2
    assert stored[internal].public is True
    assert stored[internal].service_minutes == 45
    assert all(stored[c].edited for c in (resident_code, internal))


def test_an_empty_sla_cell_clears_the_target(mixed: Settings) -> None:
    code = next(iter(types(mixed)))
    catalogue.edit_types({code: {"sla_hours": 24.0}}, settings=mixed)
    catalogue.edit_types({code: {"sla_hours": math.nan}}, settings=mixed)
    assert types(mixed)[code].sla_hours is None


def test_field_work_and_the_age_limit_are_edited_and_an_empty_limit_means_the_default(
    mixed: Settings,
) -> None:
    code = next(iter(types(mixed)))
    catalogue.edit_types({code: {"field_work": False, "max_age_days": 45.0}}, settings=mixed)
    stored = types(mixed)[code]
    assert stored.field_work is False
    assert stored.max_age_days == 45
    catalogue.edit_types({code: {"max_age_days": math.nan}}, settings=mixed)
    assert types(mixed)[code].max_age_days is None
    with pytest.raises(InputError, match="whole days from 1 to 3650"):
        catalogue.edit_types({code: {"max_age_days": 2.5}}, settings=mixed)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("service_minutes", 0, "whole minutes from 1 to 1440"),
        ("service_minutes", 12.5, "whole minutes from 1 to 1440"),
        ("priority", 4, "priority must be 1, 2 or 3"),
        ("sla_hours", -1, "hours must be 0 or more"),
        ("sla_hours", "two days", "a number is needed"),
        ("skill", "  ", "a skill is needed"),
        ("public", "yes", "must be ticked or not"),
        ("name", "Potholes", "cannot be edited here"),
    ],
)
def test_a_bad_cell_is_refused_with_the_type_field_and_value_and_nothing_is_saved(
    mixed: Settings,
    field: str,
    value: object,
    says: str,
) -> None:
    first, second = sorted(types(mixed))[:2]
    with pytest.raises(InputError) as caught:
        catalogue.edit_types(
            {first: {"department": "Roads"}, second: {field: value}}, settings=mixed
        )
    assert says in str(caught.value)
    assert repr(second) in str(caught.value)
    assert types(mixed)[first].department != "Roads"  # the good row was not saved either


def test_an_unknown_type_is_refused_before_anything_is_saved(mixed: Settings) -> None:
    first = next(iter(types(mixed)))
    with pytest.raises(NotFoundError, match="no-such-type"):
        catalogue.edit_types(
            {first: {"department": "Roads"}, "no-such-type": {"priority": 1}}, settings=mixed
        )
    assert types(mixed)[first].department != "Roads"


def test_a_value_the_catalogue_refuses_saves_none_of_the_table(mixed: Settings) -> None:
    # the cell passes the table's own checks, but the type as a whole is invalid (SLA
    # above the catalogue's maximum): the row before it must not be stored either
    first, second = sorted(types(mixed))[:2]
    with pytest.raises(InputError, match="sla_hours"):
        catalogue.edit_types(
            {first: {"department": "Roads"}, second: {"sla_hours": 10**9}}, settings=mixed
        )
    assert types(mixed)[first].department != "Roads"
