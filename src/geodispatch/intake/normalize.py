"""Turn source rows, already renamed to canonical raw fields, into requests and rejected rows.

Every source format (city export, Open311, mapped CSV) first renames its columns to the
raw fields in :data:`RAW_FIELDS`; :func:`canonicalize` then validates all of them the same
way. Hard problems (no id, no type, no valid open time, bytes that are not text, fields too
long, a point that is no place in the service area) reject the row with a fix; soft
location problems (no point, the source's placeholder) keep the request with its location
marked unknown and a note, so a real report is never lost for want of a map pin.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import numpy as np
import pandas as pd

from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import (
    REJECTED_COLUMNS,
    REQUEST_COLUMNS,
    IntakeResult,
    LocationStatus,
    RequestStatus,
)
from geodispatch.intake.text import printable

#: Raw fields a source maps its columns to; only ``source_id``, ``service_name`` and
#: ``created`` are required.
RAW_FIELDS: Final = (
    "source_id",
    "service_name",
    "service_code",
    "department",
    "queue",
    "category",
    "description",
    "address",
    "zipcode",
    "lat",
    "lon",
    "created",
    "due",
    "closed",
    "status",
    "closure_note",
    "ward",
    "channel",
)
REQUIRED_RAW: Final = ("source_id", "service_name", "created")

#: Longest text accepted per field; longer values are rejected with a fix, not cut. They
#: match the storage columns (a test checks it), so a value that passes always fits.
FIELD_LIMITS: Final[Mapping[str, int]] = {
    "description": 10_000,
    "closure_note": 10_000,
    "address": 500,
    "source_id": 100,
    "service_code": 80,
    "channel": 60,
}
DEFAULT_LIMIT: Final = 200

#: The point Boston's system writes when it does not know where a request is (City Hall).
BOSTON_PLACEHOLDER: Final = (42.3594, -71.0587)

_SURROGATE = re.compile("[\ud800-\udfff]")  # undecodable bytes and lone JSON escapes
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1d\x1f\x7f]")
_BAD_CHARS = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1d\x1f\x7f]")
#: Times outside these years are typing errors, not 311 requests.
_EARLIEST = pd.Timestamp("1900-01-01")
_LATEST = pd.Timestamp("2200-01-01")
#: An offset after a clock time: Z, UTC/GMT, +02:00, -0400 or -04 (as PostgreSQL prints).
_OFFSET_PATTERN = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)\s*$"
_ZIP = r"^(\d{1,5})(?:\.\d*)?(?:-\d{4})?$"
_CLOSED_WORDS = r"(?:closed|resolved|completed|complete|done|fixed)\b"
_WARD_DIGITS = r"(\d{1,3})"


@dataclass(frozen=True, slots=True)
class AreaCheck:
    """The service area as intake sees it: what to call it, and a vectorised point test.

    ``contains`` takes WGS84 longitude and latitude arrays and answers True where a point
    lies inside the area (the service layer builds it from the city's wards and a margin).
    """

    name: str
    contains: Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True, slots=True)
class IntakeOptions:
    """How to read one source's values.

    ``tz`` is the zone of times written without an offset. ``placeholders`` are points that
    mean "location unknown". ``bounds`` (min lon, min lat, max lon, max lat) is the service
    source's box; points outside it are kept as unknown locations. ``area`` is the city's
    service area: a point outside it (or not finite, or off the globe) rejects the row.
    ``time_format`` speeds up and tightens parsing when the source always writes one format.
    """

    source: str
    tz: str = "America/New_York"
    placeholders: tuple[tuple[float, float], ...] = ()
    bounds: tuple[float, float, float, float] | None = None
    area: AreaCheck | None = None
    time_format: str | None = None
    field_names: Mapping[str, str] | None = None  # raw field -> the source's column name
    now: datetime | None = None  # for "opened in the future" checks; default: utcnow

    def column(self, raw_field: str) -> str:
        """The source's name for a raw field, for messages a user can act on."""
        return (self.field_names or {}).get(raw_field, raw_field)


StatusRule = Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True, slots=True)
class RowCheck:
    """A source-specific problem per row: rows where ``mask`` is true are rejected."""

    mask: np.ndarray
    field: str
    problem: str
    fix: str


def canonicalize(
    raw: pd.DataFrame,
    lines: np.ndarray,
    options: IntakeOptions,
    *,
    status_rule: StatusRule | None = None,
    seen_ids: dict[str, int] | None = None,
    original: pd.DataFrame | None = None,
    checks: Sequence[RowCheck] = (),
) -> IntakeResult:
    """Validate raw rows and return accepted requests (canonical columns) and rejected rows.

    ``raw`` holds strings under :data:`RAW_FIELDS` names; missing optional fields are
    treated as empty. ``lines`` gives each row's 1-based source line. ``original`` (same
    index) is the row as the source wrote it, kept with each rejected row so nothing is
    lost; by default the raw fields are kept. ``checks`` are source-specific problems found
    before the text existed (e.g. a JSON list where a scalar belongs); they apply first.
    Rows whose id was seen earlier in the same input (``seen_ids``, updated in place) are
    rejected.
    """
    if len(raw) != len(lines):
        raise InputError(f"canonicalize got {len(raw)} rows but {len(lines)} line numbers")
    frame = _as_raw_strings(raw)
    n = len(frame)
    reject = _Rejections(n, frame, lines, options, original)
    for check in checks:
        reject.add(check.mask, check.field, check.problem, check.fix)

    # 1. bytes that are not UTF-8, control characters, fields too long to be real
    _check_characters(frame, reject)
    as_text = _to_text(frame, reject.rejected)
    for name in RAW_FIELDS:
        limit = FIELD_LIMITS.get(name, DEFAULT_LIMIT)
        lengths = as_text[name].str.len().to_numpy(dtype=np.int64)
        bad = lengths > limit
        if bad.any():
            reject.add_each(
                bad,
                name,
                _too_long(lengths, limit),
                f"shorten the {options.column(name)} to {limit:,} characters or fewer",
            )
    text = pd.DataFrame({name: as_text[name].str.strip() for name in RAW_FIELDS}, index=frame.index)

    # 2. required identity and type
    reject.add(
        (text["source_id"] == "").to_numpy(),
        "source_id",
        "is empty",
        "give every row its case id; rows without one cannot be tracked or updated",
    )
    reject.add(
        (text["service_name"] == "").to_numpy(),
        "service_name",
        "is empty",
        "fill in the request type (e.g. 'Pothole Repair')",
    )

    # 3. times
    now = options.now or datetime.now(UTC)
    created = parse_times(text["created"], options.tz, options.time_format)
    reject.add(
        (text["created"] == "").to_numpy(),
        "created",
        "is empty",
        "give the date and time the request was opened, e.g. 2011-07-01 08:30:00",
    )
    reject.add(
        (created.isna() & (text["created"] != "")).to_numpy(),
        "created",
        "is not a date and time (years 1900-2199)",
        "write it as YYYY-MM-DD HH:MM:SS (ISO 8601)",
    )
    future = (created > pd.Timestamp(now + timedelta(days=1))).to_numpy(dtype=bool)
    reject.add(future, "created", "is in the future", "check the year and the time zone")
    due = parse_times(text["due"], options.tz, options.time_format)
    reject.add(
        (due.isna() & (text["due"] != "")).to_numpy(),
        "due",
        "is not a date and time (years 1900-2199)",
        "write it as YYYY-MM-DD HH:MM:SS, or leave it empty",
    )
    closed = parse_times(text["closed"], options.tz, options.time_format)
    reject.add(
        (closed.isna() & (text["closed"] != "")).to_numpy(),
        "closed",
        "is not a date and time (years 1900-2199)",
        "write it as YYYY-MM-DD HH:MM:SS, or leave it empty",
    )
    reject.add(
        (closed < created).to_numpy(dtype=bool),
        "closed",
        "is before the time the request was opened",
        "check both dates; a request cannot close before it opens",
    )

    # 4. location: a point that is no place in the service area is refused; a missing or
    # placeholder point is kept as unknown (with a note) rather than rejected
    misplaced = point_problems(text["lon"], text["lat"], options)
    reject.add_each(
        misplaced != "",
        "lat",
        lambda i: str(misplaced[i]),
        "check the coordinates (latitude first, WGS84 degrees), or leave them empty and "
        "give the address",
    )
    lon, lat, location_note = parse_location(text["lon"], text["lat"], options)

    status = status_rule(text) if status_rule is not None else default_status(text, closed)
    service_name = text["service_name"].str.replace(r"[ \t]+", " ", regex=True)
    codes = text["service_code"].where(
        text["service_code"] != "", service_name.map(_code_lookup(service_name))
    )
    out = pd.DataFrame(
        {
            "source": options.source,
            "source_id": text["source_id"],
            "line": lines.astype(np.int64),
            "service_name": service_name,
            "service_code": codes,
            "department": text["department"],
            "description": text["description"],
            "address": unescape_html(text["address"]),
            "zipcode": normalize_zip(text["zipcode"]),
            "lon": lon,
            "lat": lat,
            "location_status": np.where(
                np.isnan(lon), LocationStatus.UNKNOWN.value, LocationStatus.SOURCE.value
            ),
            "location_note": location_note,
            "source_ward": parse_ward(text["ward"]),
            "status": status.astype(object),
            "channel": text["channel"],
            "created_at": created,
            "due_at": due,
            "closed_at": closed,
            "closure_note": text["closure_note"],
            "row_hash": "",
            "queue": text["queue"],
            "category": text["category"],
        },
        index=frame.index,
    )
    if seen_ids is not None:  # last, so an invalid first copy does not claim the id
        _reject_repeated_ids(text["source_id"], lines, seen_ids, reject)
    keep = ~reject.rejected
    out = out.loc[keep].reset_index(drop=True)
    out["row_hash"] = row_hash(as_text.loc[keep])
    return IntakeResult(out, reject.frame())


def _too_long(lengths: np.ndarray, limit: int) -> Callable[[int], str]:
    return lambda i: f"is {lengths[i]:,} characters long; at most {limit:,} are allowed"


def _check_characters(frame: pd.DataFrame, reject: _Rejections) -> None:
    """Reject rows holding undecodable bytes or control characters, naming the field.

    Arrow-backed columns (from the fast CSV reader) cannot hold undecodable bytes and are
    scanned for control characters by Arrow. Python-string columns are scanned one joined
    row at a time and only the few suspicious rows are examined field by field.
    """
    n = len(frame)
    python_cols = [name for name in RAW_FIELDS if frame[name].dtype == object]
    suspicious: list[int] = []
    if python_cols:
        columns = [frame[name].tolist() for name in python_cols]
        suspicious = [
            i
            for i, values in enumerate(zip(*columns, strict=True))
            if _BAD_CHARS.search("\x1e".join(values))
        ]
    for name in RAW_FIELDS:
        column = frame[name]
        undecodable = np.zeros(n, dtype=bool)
        if column.dtype == object:
            control = np.zeros(n, dtype=bool)
            for i in suspicious:
                value = str(column.iat[i])
                undecodable[i] = bool(_SURROGATE.search(value))
                control[i] = bool(_CONTROL.search(value))
        else:
            control = column.str.contains(_CONTROL.pattern, regex=True).to_numpy(dtype=bool)
        reject.add(
            undecodable,
            name,
            "contains bytes that are not UTF-8 text",
            "save the file as UTF-8 (in Excel: 'CSV UTF-8'), or import it with "
            "--encoding cp1252 if it came from an older Windows program",
        )
        reject.add(
            control,
            name,
            "contains control characters (such as NUL bytes)",
            "remove the control characters; the file may be binary or corrupted",
        )


def _to_text(frame: pd.DataFrame, blank: np.ndarray) -> pd.DataFrame:
    """Columns as pandas' Arrow-backed strings for fast vectorised checks.

    Values of rows in ``blank`` (already rejected, possibly for undecodable bytes, which
    Arrow cannot hold) become empty strings; their original text stays with the rejection.
    """
    out = {}
    for name in RAW_FIELDS:
        column = frame[name]
        if column.dtype == object:
            if blank.any():
                column = column.where(~blank, "")
            column = column.astype("str")
        out[name] = column
    return pd.DataFrame(out, index=frame.index)


def _reject_repeated_ids(
    ids: pd.Series, lines: np.ndarray, seen_ids: dict[str, int], reject: _Rejections
) -> None:
    first_line = np.zeros(len(ids), dtype=np.int64)
    for i, sid in enumerate(ids.tolist()):
        if not sid or reject.rejected[i]:
            continue
        earlier = seen_ids.get(sid)
        if earlier is None:
            seen_ids[sid] = int(lines[i])
        else:
            first_line[i] = earlier
    reject.add_each(
        first_line > 0,
        "source_id",
        lambda i: f"repeats the id on line {first_line[i]}",
        "remove the repeated row, or give it its own case id",
    )


def _code_lookup(names: pd.Series) -> dict[str, str]:
    return {name: service_code(name) for name in names.unique() if isinstance(name, str)}


def _as_raw_strings(raw: pd.DataFrame) -> pd.DataFrame:
    """Every raw field as strings, empty where the source has no value.

    Arrow-backed string columns stay as they are (they hold valid text by construction);
    anything else becomes Python strings, to be checked for undecodable bytes.
    """
    cols = {}
    for name in RAW_FIELDS:
        if name not in raw.columns:
            cols[name] = pd.Series("", index=raw.index, dtype="str")
            continue
        series = raw[name]
        if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
            cols[name] = series.fillna("") if series.hasnans else series
            continue
        series = series.astype(object)
        if pd.api.types.infer_dtype(series, skipna=False) not in {"string", "empty"}:
            series = series.map(lambda v: "" if v is None or _is_na(v) else str(v))
        cols[name] = series
    return pd.DataFrame(cols, index=raw.index)


class _Rejections:
    """Collects the first problem of each row; later problems of a rejected row are ignored."""

    def __init__(
        self,
        n: int,
        frame: pd.DataFrame,
        lines: np.ndarray,
        options: IntakeOptions,
        original: pd.DataFrame | None,
    ) -> None:
        self.rejected = np.zeros(n, dtype=bool)
        self.frame_ = frame
        self.original = original
        self.lines = lines
        self.options = options
        self.rows: list[dict[str, object]] = []

    def add(self, mask: np.ndarray, name: str, problem: str, fix: str) -> None:
        self.add_each(mask, name, lambda _i: problem, fix)

    def add_each(
        self, mask: np.ndarray, name: str, problem: Callable[[int], str], fix: str
    ) -> None:
        new = mask & ~self.rejected
        if not new.any():
            return
        column = self.options.column(name)
        for i in map(int, np.flatnonzero(new)):
            value = str(self.frame_[name].iat[i])
            if self.original is not None:
                row = self.original.iloc[i]
                raw = {
                    str(k): printable(str(v), 2000)
                    for k, v in row.items()
                    if v is not None and not _is_na(v) and str(v) != ""
                }
            else:
                raw = {
                    self.options.column(k): printable(str(self.frame_[k].iat[i]), 2000)
                    for k in RAW_FIELDS
                    if self.frame_[k].iat[i] != ""
                }
            self.rows.append(
                {
                    "source": self.options.source,
                    "line": int(self.lines[i]),
                    "field": column,
                    "value": printable(value, 500),
                    "problem": f"{column} {problem(i)}",
                    "fix": fix,
                    "raw": printable(json.dumps(raw, ensure_ascii=False)),
                }
            )
        self.rejected |= new

    def frame(self) -> pd.DataFrame:
        if not self.rows:
            return pd.DataFrame(
                {c: pd.Series(dtype="int64" if c == "line" else object) for c in REJECTED_COLUMNS}
            )
        return (
            pd.DataFrame(self.rows, columns=list(REJECTED_COLUMNS))
            .sort_values("line", kind="stable")
            .reset_index(drop=True)
        )


def parse_times(values: pd.Series, tz: str, time_format: str | None = None) -> pd.Series:
    """Parse text to UTC timestamps; values without an offset are local time in ``tz``.

    Ambiguous local times (the repeated hour when DST ends) are read as the first
    occurrence; times that do not exist (the skipped hour) move forward to the next valid
    instant. With ``time_format`` every value must match it exactly. Otherwise ISO 8601 is
    read fast and anything else (``-04`` offsets as PostgreSQL prints them, a ``UTC``
    suffix, other common spellings) one value at a time. Unparseable values, empty ones and
    years outside 1900-2199 become NaT: never an exception, so one odd value cannot stop
    an import.
    """
    values = values.astype("str")
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    nonempty = (values != "").to_numpy()
    if not nonempty.any():
        return out
    if time_format is not None:
        naive = pd.to_datetime(values[nonempty], format=time_format, errors="coerce")
        out[nonempty] = _localize(naive, tz)
        return out
    has_offset = nonempty & values.str.contains(_OFFSET_PATTERN, case=False, regex=True).to_numpy()
    local = nonempty & ~has_offset
    if local.any():
        out[local] = _localize(_fast(values[local], utc=False), tz)
    if has_offset.any():
        out[has_offset] = _in_range(_fast(values[has_offset], utc=True))
    slow = nonempty & out.isna().to_numpy()
    if slow.any():
        parsed = [_parse_one(v, tz) for v in values[slow]]
        out[slow] = pd.Series(
            [pd.NaT if p is None else p for p in parsed], index=out.index[slow], dtype=object
        ).astype("datetime64[us, UTC]")
    return out


def _fast(values: pd.Series, *, utc: bool) -> pd.Series:
    """Vectorised ISO 8601 parse; values it cannot read (or a failed batch) become NaT."""
    try:
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=utc)
    except (ValueError, TypeError, OverflowError):
        parsed = pd.Series(pd.NaT, index=values.index)
    if not utc and isinstance(parsed.dtype, pd.DatetimeTZDtype):  # an offset slipped through
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    return parsed.astype("datetime64[us, UTC]" if utc else "datetime64[us]")


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    """Naive local times to UTC, within the plausible years."""
    naive = naive.astype("datetime64[us]")  # microseconds reach year 9999
    naive = naive.where((naive >= _EARLIEST) & (naive < _LATEST))
    aware = naive.dt.tz_localize(
        tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    )
    return aware.dt.tz_convert(UTC)


def _in_range(aware: pd.Series) -> pd.Series:
    return aware.where((aware >= _EARLIEST.tz_localize(UTC)) & (aware < _LATEST.tz_localize(UTC)))


def _parse_one(text: str, tz: str) -> pd.Timestamp | None:
    """One value in any spelling pandas understands; None when it is not a time."""
    try:
        stamp = pd.Timestamp(text.strip())
    except (ValueError, TypeError, OverflowError):
        return None
    if pd.isna(stamp):
        return None
    try:
        if stamp.tzinfo is None:
            if not _EARLIEST <= stamp < _LATEST:
                return None
            stamp = stamp.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        stamp = stamp.tz_convert(UTC)
    except (ValueError, TypeError, OverflowError):
        return None
    if not _EARLIEST.tz_localize(UTC) <= stamp < _LATEST.tz_localize(UTC):
        return None
    return stamp


def point_problems(lon_text: pd.Series, lat_text: pd.Series, options: IntakeOptions) -> np.ndarray:
    """Per row, why its given point is no place in the service area ('' when it is fine).

    Only rows with both coordinates as numbers are judged: a missing or unreadable value
    leaves the location unknown (see :func:`parse_location`), and so do 0,0 and the
    source's placeholders, which mean "no point". Infinite values, points off the globe
    and, with ``options.area``, points outside the city's service area are problems.
    """
    lon = pd.to_numeric(lon_text, errors="coerce").to_numpy(dtype=float, copy=True)
    lat = pd.to_numeric(lat_text, errors="coerce").to_numpy(dtype=float, copy=True)
    out = np.full(len(lon), "", dtype=object)
    with np.errstate(invalid="ignore"):
        given = ~np.isnan(lon) & ~np.isnan(lat)
        no_point = (lat == 0) & (lon == 0)
        for plat, plon in options.placeholders:
            no_point |= np.isclose(lat, plat, rtol=0, atol=1e-6) & np.isclose(
                lon, plon, rtol=0, atol=1e-6
            )
        judged = given & ~no_point
        finite = np.isfinite(lon) & np.isfinite(lat)
        on_earth = finite & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    shown = [f"{la!s}, {lo!s}" for la, lo in zip(lat_text, lon_text, strict=True)]
    for i in np.flatnonzero(judged & ~finite):
        out[i] = f"and longitude {shown[i][:60]!r} are not finite numbers"
    for i in np.flatnonzero(judged & finite & ~on_earth):
        out[i] = (
            f"and longitude {shown[i][:60]!r} are not a place on Earth (latitude is -90 to "
            "90, longitude -180 to 180)"
        )
    if options.area is not None and (judged & on_earth).any():
        check = judged & on_earth
        inside = np.zeros(len(lon), dtype=bool)
        inside[check] = options.area.contains(lon[check], lat[check])
        for i in np.flatnonzero(check & ~inside):
            out[i] = f"and longitude {shown[i][:60]!r} lie outside {options.area.name}"
    return out


def parse_location(
    lon_text: pd.Series, lat_text: pd.Series, options: IntakeOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates as floats (NaN when unknown) and, per row, why the location is unknown."""
    lon = pd.to_numeric(lon_text, errors="coerce").to_numpy(dtype=float, copy=True)
    lat = pd.to_numeric(lat_text, errors="coerce").to_numpy(dtype=float, copy=True)
    note = np.full(len(lon), "", dtype=object)

    def mark(mask: np.ndarray, why: str) -> None:
        note[mask & (note == "")] = why

    lon_txt = lon_text.to_numpy(dtype=object)
    lat_txt = lat_text.to_numpy(dtype=object)
    mark((lon_txt == "") & (lat_txt == ""), "no coordinates given")
    mark((lon_txt == "") | (lat_txt == ""), "only one of latitude and longitude given")
    for arr, txt, label in ((lat, lat_txt, "latitude"), (lon, lon_txt, "longitude")):
        for i in np.flatnonzero(np.isnan(arr) & (txt != "") & (note == "")):
            note[i] = f"{label} {str(txt[i])[:40]!r} is not a number"
    with np.errstate(invalid="ignore"):
        mark(~np.isfinite(lat) | ~np.isfinite(lon), "coordinates are not finite numbers")
        mark((np.abs(lat) > 90) | (np.abs(lon) > 180), "coordinates are outside the globe")
        mark((lat == 0) & (lon == 0), "coordinates are 0,0 (a default, not a place)")
        for plat, plon in options.placeholders:
            mark(
                np.isclose(lat, plat, rtol=0, atol=1e-6) & np.isclose(lon, plon, rtol=0, atol=1e-6),
                "placeholder point the source writes when the location is unknown",
            )
        if options.bounds is not None:
            x0, y0, x1, y1 = options.bounds
            mark(
                (lon < x0) | (lon > x1) | (lat < y0) | (lat > y1),
                "point lies outside the city's service area",
            )
    unknown = note != ""
    lon[unknown] = np.nan
    lat[unknown] = np.nan
    return lon, lat, note


def parse_ward(values: pd.Series) -> pd.Series:
    """Ward numbers from labels like 'Ward 17', '04' or '3'; <NA> when absent or invalid.

    Wards are numbered from 1; a label of 0 is a placeholder, not a ward.
    """
    digits = values.astype("str").str.extract(_WARD_DIGITS, expand=False)
    wards = pd.to_numeric(digits, errors="coerce").astype("Int64")
    return wards.where(wards > 0)


def normalize_zip(values: pd.Series) -> pd.Series:
    """Five-digit ZIPs, restoring leading zeros lost to float parsing ('2131.0' → '02131')."""
    digits = values.astype("str").str.extract(_ZIP, expand=False)
    return digits.str.zfill(5).fillna("")


def unescape_html(values: pd.Series) -> pd.Series:
    """Decode HTML entities some exports leave in text ('Main St &amp; Elm St')."""
    has_entity = values.str.contains("&", regex=False).to_numpy()
    if not has_entity.any():
        return values
    out = values.astype(object).copy()
    out[has_entity] = [html.unescape(v) for v in values[has_entity]]
    return out.astype("str")


def default_status(text: pd.DataFrame, closed: pd.Series) -> pd.Series:
    """Open/closed from a status word or a close time: closed means completed, else new."""
    word = text["status"].str.lower()
    is_closed = word.str.match(_CLOSED_WORDS) | (closed.notna() & (word == ""))
    return pd.Series(
        np.where(is_closed, RequestStatus.COMPLETED.value, RequestStatus.NEW.value),
        index=word.index,
        dtype=object,
    )


def service_code(name: str) -> str:
    """Our catalogue code for a type name: lower case words joined by dashes."""
    code = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return code[:80] or "unknown"


def row_hash(text: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash (hex) of each row's raw fields, to tell an updated row from a repeat."""
    if text.empty:
        return np.array([], dtype=object)
    hashed = pd.util.hash_pandas_object(text[list(RAW_FIELDS)], index=False)
    return np.array([f"{v:016x}" for v in hashed.to_numpy(dtype=np.uint64)], dtype=object)


def _is_na(value: object) -> bool:
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


CANONICAL_COLUMNS: Final = (*REQUEST_COLUMNS, "queue", "category")
