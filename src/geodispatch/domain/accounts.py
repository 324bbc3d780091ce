"""Staff accounts: roles, the pages and actions each role may use, and the signed-in user.

The permission table is plain data so it can be read, tested and printed in the README;
services call :func:`require` before they change anything, and the app uses :func:`may`
to leave out pages and disable buttons. Council members are read-only and see only
their wards' figures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from geodispatch.domain.errors import InputError, PermissionDeniedError


class Role(StrEnum):
    """What a staff account is for; each role has a fixed set of pages and actions."""

    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    ADMIN = "admin"
    COUNCIL = "council"

    @property
    def label(self) -> str:
        """How the role reads on screen ("Dispatcher")."""
        return self.value.capitalize()


class Page(StrEnum):
    """The app's staff pages (the public page and the crew's PIN page need no account)."""

    PLAN = "plan"
    JOBS = "jobs"
    WORK = "work"
    OVERVIEW = "overview"
    IMPORT = "import"
    CATALOGUE = "catalogue"
    HOTSPOTS = "hotspots"
    PERFORMANCE = "performance"
    ACCOUNTABILITY = "accountability"
    COUNCIL = "council"
    ADMIN = "admin"
    CALL_TAKER = "call_taker"


class Action(StrEnum):
    """Things a page lets staff change; each one is checked again by the service."""

    PLAN_DAY = "plan the day (a draft plan)"
    REPLAN = "re-plan around an urgent job (a draft plan)"
    PUBLISH_PLAN = "publish a plan to the crews"
    MOVE_JOBS = "move a job's status (review, hold, close)"
    CLOSE_JOBS = "close a job (completed, no action, duplicate)"
    MERGE_SPLIT = "merge duplicate jobs or split a job"
    PUBLIC_NOTE = "write a note residents see"
    IMPORT = "import requests from a file"
    EDIT_CATALOGUE = "edit service types (SLA, skill, minutes, priority)"
    SET_TYPE_PUBLIC = "make a service type public or internal"
    FIND_HOTSPOTS = "recompute hotspots"
    MANAGE_ACCOUNTS = "manage staff accounts and API keys"


_DISPATCH_PAGES: Final = frozenset(
    {Page.PLAN, Page.JOBS, Page.WORK, Page.OVERVIEW, Page.IMPORT, Page.CATALOGUE, Page.CALL_TAKER}
)
_DISPATCH_ACTIONS: Final = frozenset(
    {
        Action.PLAN_DAY,
        Action.REPLAN,
        Action.MOVE_JOBS,
        Action.CLOSE_JOBS,
        Action.MERGE_SPLIT,
        Action.PUBLIC_NOTE,
        Action.IMPORT,
    }
)
_CATALOGUE_ACTIONS: Final = frozenset({Action.EDIT_CATALOGUE, Action.SET_TYPE_PUBLIC})

#: Pages each role sees (besides the public page, which everyone sees).
PAGES: Final[Mapping[Role, frozenset[Page]]] = {
    Role.DISPATCHER: _DISPATCH_PAGES,
    Role.SUPERVISOR: _DISPATCH_PAGES | {Page.HOTSPOTS, Page.PERFORMANCE, Page.ACCOUNTABILITY},
    Role.MANAGER: frozenset(Page) - {Page.ADMIN, Page.COUNCIL},
    Role.ADMIN: frozenset(Page) - {Page.COUNCIL},
    Role.COUNCIL: frozenset({Page.PERFORMANCE, Page.COUNCIL}),
}

#: Actions each role may take. Dispatchers draft plans and work the jobs; a supervisor
#: also publishes plans to the crews and edits the catalogue; a manager looks at
#: everything, sets the catalogue (what residents see, SLA targets) and imports data but
#: does not run the day's dispatch; an admin may do everything (an admin can give any
#: account any role, so a narrower admin would only pretend); council reads figures only.
ACTIONS: Final[Mapping[Role, frozenset[Action]]] = {
    Role.DISPATCHER: _DISPATCH_ACTIONS,
    Role.SUPERVISOR: _DISPATCH_ACTIONS | _CATALOGUE_ACTIONS | {Action.PUBLISH_PLAN},
    Role.MANAGER: _CATALOGUE_ACTIONS | {Action.IMPORT, Action.FIND_HOTSPOTS},
    Role.ADMIN: frozenset(Action),
    Role.COUNCIL: frozenset(),
}

#: Roles whose pages show residents' personal data (addresses, descriptions, notes).
SEES_PERSONAL_DATA: Final = frozenset(Role) - {Role.COUNCIL}

USERNAME_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
MIN_PASSWORD: Final = 12
MAX_PASSWORD: Final = 256


@dataclass(frozen=True, slots=True)
class StaffUser:
    """A signed-in staff account: who acts, with which role and (council) which wards."""

    username: str
    display_name: str
    role: Role
    wards: tuple[int, ...] = ()

    def may(self, action: Action) -> bool:
        """True when this account's role allows ``action``."""
        return may(self.role, action)

    def sees(self, page: Page) -> bool:
        """True when this account's role shows ``page``."""
        return page in PAGES[self.role]

    @property
    def ward_scoped(self) -> bool:
        """True when the account sees only its own wards' figures (council)."""
        return self.role is Role.COUNCIL


def may(role: Role, action: Action) -> bool:
    """True when ``role`` allows ``action`` (the permission table above)."""
    return action in ACTIONS[role]


def require(user: StaffUser, action: Action) -> StaffUser:
    """``user`` if its role allows ``action``; PermissionDeniedError naming both otherwise."""
    if not user.may(action):
        allowed = ", ".join(r.value for r in Role if may(r, action))
        raise PermissionDeniedError(
            f"{user.username} ({user.role.value}) may not {action.value}; "
            f"roles that may: {allowed}. Ask an admin to change the role if this is your work."
        )
    return user


def allowed_wards(user: StaffUser, wards: Iterable[int]) -> list[int]:
    """The wards among ``wards`` that ``user`` may see (all for staff, its own for council)."""
    known = sorted(set(wards))
    return [w for w in known if w in user.wards] if user.ward_scoped else known


def require_ward(user: StaffUser, ward: int | None) -> None:
    """Refuse a council member a city-wide view or another ward's figures."""
    if not user.ward_scoped:
        return
    if ward is None or ward not in user.wards:
        mine = ", ".join(str(w) for w in user.wards) or "none"
        raise PermissionDeniedError(
            f"{user.username} (council) sees only wards {mine}; choose one of them"
        )


def check_username(username: str) -> str:
    """The username, lower-cased; InputError when it is not 2-64 plain characters."""
    name = username.strip().lower()
    if not USERNAME_PATTERN.fullmatch(name):
        raise InputError(
            f"username {username[:70]!r} must be 2-64 characters: letters, digits and . _ @ -,"
            " starting with a letter or digit (e.g. 'ana.lopez')"
        )
    return name


def check_password(password: str) -> str:
    """The password; InputError when shorter than 12 or longer than 256 characters."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InputError(
            f"password must be {MIN_PASSWORD}-{MAX_PASSWORD} characters (got {len(password)});"
            " a passphrase of a few words is easiest"
        )
    return password


def check_wards(role: Role, wards: Iterable[int]) -> tuple[int, ...]:
    """Wards for an account: at least one for council, none for other roles."""
    chosen = tuple(sorted({int(w) for w in wards}))
    if role is Role.COUNCIL and not chosen:
        raise InputError("a council account needs its wards: give one or more (e.g. --ward 3)")
    if role is not Role.COUNCIL and chosen:
        raise InputError(
            f"only council accounts are scoped to wards; a {role.value} sees every ward "
            "(leave the wards out)"
        )
    if any(w < 1 for w in chosen):
        raise InputError(f"wards {list(chosen)} must be positive ward numbers")
    return chosen


def parse_role(text: str) -> Role:
    """The role named by ``text`` (any case); InputError listing the roles otherwise."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InputError(f"role {text[:40]!r} is not one of: {roles}") from None


def acting(actor: str | StaffUser, action: Action) -> str:
    """The audit name of whoever acts, checked for ``action`` when it is a signed-in account.

    Text is a system actor's name (``'plan:12'``, the CLI's operator) from trusted code.
    """
    if isinstance(actor, StaffUser):
        return require(actor, action).username
    return actor
