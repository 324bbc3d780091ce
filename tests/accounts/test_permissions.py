"""The permission table: what each role may see and do, as the README's table states it."""

from __future__ import annotations

import pytest

from geodispatch.domain.accounts import (
    ACTIONS,
    PAGES,
    Action,
    Page,
    Role,
    StaffUser,
    acting,
    allowed_wards,
    check_password,
    check_username,
    check_wards,
    parse_role,
    require,
    require_ward,
)
from geodispatch.domain.errors import InputError, PermissionDeniedError

DISPATCHER = StaffUser("ana", "Ana", Role.DISPATCHER)
SUPERVISOR = StaffUser("sam", "Sam", Role.SUPERVISOR)
MANAGER = StaffUser("mo", "Mo", Role.MANAGER)
ADMIN = StaffUser("root", "Root", Role.ADMIN)
COUNCIL = StaffUser("wu", "Councillor Wu", Role.COUNCIL, wards=(3, 8))


def test_council_is_read_only_and_sees_only_figures_and_its_wards_report() -> None:
    assert ACTIONS[Role.COUNCIL] == frozenset()
    assert PAGES[Role.COUNCIL] == {Page.PERFORMANCE, Page.COUNCIL}


def test_a_dispatcher_drafts_plans_but_a_supervisor_publishes_them() -> None:
    assert DISPATCHER.may(Action.PLAN_DAY)
    assert DISPATCHER.may(Action.REPLAN)
    assert not DISPATCHER.may(Action.PUBLISH_PLAN)
    assert SUPERVISOR.may(Action.PUBLISH_PLAN)
    assert ACTIONS[Role.DISPATCHER] < ACTIONS[Role.SUPERVISOR]


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.MANAGER, Role.COUNCIL])
def test_only_supervisors_managers_and_admins_edit_the_catalogue(role: Role) -> None:
    allowed = {r for r in Role if Action.SET_TYPE_PUBLIC in ACTIONS[r]}
    assert allowed == {Role.SUPERVISOR, Role.MANAGER, Role.ADMIN}
    assert (Action.EDIT_CATALOGUE in ACTIONS[role]) is (role in allowed)


def test_a_manager_does_not_run_the_days_dispatch() -> None:
    for action in (Action.PLAN_DAY, Action.PUBLISH_PLAN, Action.MOVE_JOBS, Action.MERGE_SPLIT):
        assert not MANAGER.may(action)
    assert MANAGER.may(Action.IMPORT)


def test_only_admins_manage_accounts_and_see_the_admin_page() -> None:
    assert {r for r in Role if Action.MANAGE_ACCOUNTS in ACTIONS[r]} == {Role.ADMIN}
    assert {r for r in Role if Page.ADMIN in PAGES[r]} == {Role.ADMIN}


def test_require_names_the_account_the_action_and_who_may() -> None:
    refused = r"ana \(dispatcher\) may not publish.*supervisor"
    with pytest.raises(PermissionDeniedError, match=refused):
        require(DISPATCHER, Action.PUBLISH_PLAN)
    assert require(SUPERVISOR, Action.PUBLISH_PLAN) is SUPERVISOR


def test_acting_checks_an_account_and_passes_system_names_through() -> None:
    assert acting(DISPATCHER, Action.MOVE_JOBS) == "ana"
    assert acting("plan:12", Action.MOVE_JOBS) == "plan:12"
    with pytest.raises(PermissionDeniedError):
        acting(COUNCIL, Action.MOVE_JOBS)


def test_council_is_scoped_to_its_wards() -> None:
    assert allowed_wards(COUNCIL, [1, 3, 5, 8]) == [3, 8]
    assert allowed_wards(MANAGER, [5, 1]) == [1, 5]
    require_ward(COUNCIL, 3)
    require_ward(MANAGER, None)
    with pytest.raises(PermissionDeniedError, match="wards 3, 8"):
        require_ward(COUNCIL, 5)
    with pytest.raises(PermissionDeniedError):
        require_ward(COUNCIL, None)  # city-wide figures


def test_account_fields_are_checked_with_a_fix_in_the_message() -> None:
    assert check_username(" Ana.Lopez ") == "ana.lopez"
    with pytest.raises(InputError, match="letters, digits"):
        check_username("Mayor Wu")
    with pytest.raises(InputError, match="12-256"):
        check_password("short")
    with pytest.raises(InputError, match="needs its wards"):
        check_wards(Role.COUNCIL, [])
    with pytest.raises(InputError, match="only council"):
        check_wards(Role.DISPATCHER, [3])
    assert check_wards(Role.COUNCIL, [8, 3, 3]) == (3, 8)
    assert parse_role("Supervisor") is Role.SUPERVISOR
    with pytest.raises(InputError, match="dispatcher, supervisor"):
        parse_role("mayor")
