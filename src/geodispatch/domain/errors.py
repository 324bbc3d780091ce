"""One error tree for geodispatch.

Every message says where, what, the value and what to do, so a dispatcher can fix the
input without reading code.
"""

from __future__ import annotations

from datetime import date


class GeodispatchError(Exception):
    """Base class of every error geodispatch raises on purpose."""


class InputError(GeodispatchError, ValueError):
    """Bad data or arguments; the message names where, what, the value and the fix."""


class SchemaError(InputError):
    """A frame or file lacks the columns a stage needs."""


class CRSError(InputError):
    """Geometry is in the wrong (or an undeclared) coordinate reference system."""


class ConfigError(GeodispatchError, ValueError):
    """A setting is missing or invalid."""


class PlanningError(GeodispatchError):
    """A routing problem cannot be built or solved as asked."""


class NotFoundError(GeodispatchError, LookupError):
    """A record the caller named does not exist."""


class TransitionError(GeodispatchError, ValueError):
    """A status change the workflow does not allow."""


class StaleVersionError(GeodispatchError):
    """An update was based on an old version of a record; reload and try again."""


class PermissionDeniedError(GeodispatchError, PermissionError):
    """The caller may not read or change this record."""


class ShiftOverError(InputError):
    """Every crew's shift has ended for the day asked; ``next_day`` is the day to plan instead."""

    def __init__(self, message: str, next_day: date) -> None:
        super().__init__(message)
        self.next_day = next_day


class TooManyAttemptsError(PermissionDeniedError):
    """Too many attempts from one place in a short time; ``retry_after_s`` says how long to wait."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
