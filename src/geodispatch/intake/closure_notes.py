"""What a source's closure note says happened: fixed, nothing to do, duplicate, elsewhere.

A city's export says "Closed" for a pothole filled and for a car that was not there; only
the note tells them apart. :func:`classify` reads each note with a city's ordered rules (a
TOML file: Boston's ships in ``closure_rules/boston.toml``; a city points
``GEODISPATCH_CLOSURE_RULES`` at its own) and gives a :class:`ClosureClass`, which maps to
our :class:`~geodispatch.domain.requests.RequestStatus`. :func:`cited_case_ids` finds the
original case a duplicate note names, so the duplicate can be linked to it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import RequestStatus


class ClosureClass(StrEnum):
    """What a closed request's note says became of it."""

    COMPLETED = "completed"
    NOT_FOUND = "not_found"  # looked, nothing to fix (no violation, nothing out)
    NOT_AT_LOCATION = "not_at_location"  # not where reported (vehicle not at location)
    GONE = "gone"  # was there, had gone when the crew came
    ALREADY_FIXED = "already_fixed"  # fixed by someone else or before the visit
    NO_ACCESS = "no_access"  # could not get in or reach it
    DUPLICATE = "duplicate"  # another case carries the problem
    NOT_CITY = "not_city"  # another agency, a utility or a private owner
    INVALID = "invalid"  # opened in error, cancelled, closed without a finding
    NOTED = "noted"  # answered or postponed by the office, no work recorded

    @property
    def status(self) -> RequestStatus:
        """The request status this outcome stores as."""
        return CLASS_STATUS.get(self, RequestStatus.CLOSED_NO_ACTION)

    @property
    def label(self) -> str:
        """Plain-language label for tables and reports."""
        return CLASS_LABELS[self]

    @property
    def without_work(self) -> bool:
        """True when the note says no crew did work (every class but completed)."""
        return self is not ClosureClass.COMPLETED


CLASS_STATUS: Final = {
    ClosureClass.COMPLETED: RequestStatus.COMPLETED,
    ClosureClass.DUPLICATE: RequestStatus.CLOSED_DUPLICATE,
    ClosureClass.NOT_CITY: RequestStatus.CLOSED_NOT_CITY,
}
CLASS_LABELS: Final = {
    ClosureClass.COMPLETED: "Completed",
    ClosureClass.NOT_FOUND: "No action: nothing found",
    ClosureClass.NOT_AT_LOCATION: "No action: not at location",
    ClosureClass.GONE: "No action: gone",
    ClosureClass.ALREADY_FIXED: "No action: already fixed",
    ClosureClass.NO_ACCESS: "No action: no access",
    ClosureClass.DUPLICATE: "Duplicate",
    ClosureClass.NOT_CITY: "Not the city's responsibility",
    ClosureClass.INVALID: "Invalid / cancelled",
    ClosureClass.NOTED: "Noted, no work recorded",
}

#: Boston's rules, shipped with the package.
BOSTON_RULES: Final = "boston.toml"


@dataclass(frozen=True, slots=True)
class ClosureRule:
    """One ordered rule: notes matching ``pattern`` are ``closure_class``."""

    closure_class: ClosureClass
    pattern: re.Pattern[str]
    why: str = ""


@dataclass(frozen=True, slots=True)
class ClosureRules:
    """A city's rules for reading closure notes, tried in order (first match wins)."""

    name: str
    rules: tuple[ClosureRule, ...]
    case_id: re.Pattern[str]
    short_length: int = 0
    short_prefix: str = ""
    recurrence_exclude: str = "(?!)"  # types that cannot recur (scheduled services)

    @classmethod
    def from_toml(cls, text: str, *, origin: str = "closure rules") -> ClosureRules:
        """Rules from TOML text; a bad class or pattern names the rule and the fix."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{origin}: not valid TOML ({exc})") from exc
        rules = []
        for number, item in enumerate(data.get("rule", []), start=1):
            where = f"{origin}: rule {number}"
            try:
                closure_class = ClosureClass(str(item.get("class", "")))
            except ValueError:
                raise InputError(
                    f"{where}: class {item.get('class')!r} is not one of "
                    f"{', '.join(c.value for c in ClosureClass)}"
                ) from None
            rules.append(
                ClosureRule(
                    closure_class,
                    _compile(str(item.get("pattern", "")), where),
                    item.get("why", ""),
                )
            )
        if not rules:
            raise InputError(f"{origin}: no [[rule]] entries; add at least one")
        ids = data.get("case_ids", {})
        return cls(
            name=str(data.get("name", origin)),
            rules=tuple(rules),
            case_id=_compile(str(ids.get("pattern", r"(?<!\d)(\d{6,})(?!\d)")), f"{origin}: ids"),
            short_length=int(ids.get("short_length", 0)),
            short_prefix=str(ids.get("short_prefix", "")),
            recurrence_exclude=_compile(
                str(data.get("recurrence", {}).get("exclude_types", "(?!)")),
                f"{origin}: recurrence",
            ).pattern,
        )

    @classmethod
    def load(cls, path: Path | None = None) -> ClosureRules:
        """Rules from ``path``, or Boston's shipped rules when None."""
        if path is None:
            text = resources.files(__package__).joinpath("closure_rules", BOSTON_RULES)
            return cls.from_toml(text.read_text(encoding="utf-8"), origin=BOSTON_RULES)
        if not path.is_file():
            raise InputError(
                f"closure rules file {path} does not exist; set GEODISPATCH_CLOSURE_RULES to a "
                "TOML file like geodispatch/intake/closure_rules/boston.toml, or unset it"
            )
        return cls.from_toml(path.read_text(encoding="utf-8"), origin=path.name)


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    if not pattern:
        raise InputError(f"{where}: empty pattern; give a regular expression")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise InputError(
            f"{where}: pattern {pattern!r} is not a regular expression ({exc})"
        ) from exc


def _clean(notes: pd.Series) -> pd.Series:
    return notes.fillna("").astype(str).str.replace(r"\s+", " ", regex=True).str.strip()


def classify(notes: pd.Series, rules: ClosureRules) -> pd.Series:
    """The :class:`ClosureClass` value of each closed request's note (completed when none fits).

    Vectorised over the frame: each rule is one regex pass over the notes not yet matched.
    """
    text = _clean(notes)
    out = np.full(len(text), ClosureClass.COMPLETED.value, dtype=object)
    open_ = np.ones(len(text), dtype=bool)
    for rule in rules.rules:
        if not open_.any():
            break
        hit = open_ & text.str.contains(rule.pattern, regex=True).to_numpy(dtype=bool)
        out[hit] = rule.closure_class.value
        open_ &= ~hit
    return pd.Series(out, index=notes.index, dtype=object)


def classify_note(note: str, rules: ClosureRules) -> ClosureClass:
    """One note's class (the same rules as :func:`classify`)."""
    return ClosureClass(str(classify(pd.Series([note]), rules).iat[0]))


def statuses(notes: pd.Series, closed: pd.Series, rules: ClosureRules) -> pd.Series:
    """Our status of each closed request from its note; ``None`` where ``closed`` is False."""
    classes = classify(notes.where(closed, ""), rules)
    status = classes.map(lambda c: ClosureClass(c).status.value)
    return status.where(closed, None)


def cited_case_ids(note: str, rules: ClosureRules) -> list[str]:
    """Source case ids a note names, short forms widened (Boston: 341591 → 101000341591)."""
    out: list[str] = []
    for match in rules.case_id.finditer(note or ""):
        found = match.group(1) if match.groups() else match.group(0)
        if rules.short_length and len(found) == rules.short_length:
            found = rules.short_prefix + found
        if found not in out:
            out.append(found)
    return out
