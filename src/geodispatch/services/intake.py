"""Import files and payloads into the database, accounting for every row.

Every new or updated request is stored with its ward (and other areas) computed from the
point it came with; then the same transaction geocodes the requests that came without
coordinates and assigns their areas.

An import runs in one transaction: if the process dies half-way, nothing of it is kept and
importing again gives exactly the database a clean import gives. Re-importing the same
file changes nothing; an updated row updates its request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import pandas as pd

from geodispatch.config import Settings, get_settings
from geodispatch.domain.accounts import Action, StaffUser, require
from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import ImportRecord, IntakeResult, RejectedRow
from geodispatch.intake import city_export, generic_csv, open311
from geodispatch.intake.catalogue import derive_catalogue, sla_targets
from geodispatch.intake.closure_notes import ClosureRules
from geodispatch.intake.normalize import AreaCheck
from geodispatch.io.tables import file_sha256, iter_csv_chunks, open_binary, read_header
from geodispatch.services import clock
from geodispatch.services.closures import ClosureCounts, apply_closure_rules, closure_rules
from geodispatch.services.geo import (
    LocateSummary,
    area_check,
    intake_areas,
    locate,
    prepare_database,
)
from geodispatch.services.hotspots import tag_imported
from geodispatch.services.workflow import GroupingReport, group_new_requests
from geodispatch.storage import requests_repo as repo
from geodispatch.storage.db import Session, ensure_schema, session_scope

log = logging.getLogger(__name__)

#: Longest source name (the storage column's width).
SOURCE_MAX = 100

#: Called with (records done, records expected or None) as an import advances.
Progress = Callable[[int, int | None], None]


class InputFormat(StrEnum):
    """The kinds of input intake understands."""

    AUTO = "auto"
    CITY_EXPORT = "city_export"
    OPEN311 = "open311"
    CSV = "csv"


@dataclass(slots=True)
class ImportSummary:
    """What an import did: rows read, accepted (inserted/updated/unchanged), rejected."""

    import_id: int
    source: str
    file_name: str
    rows_read: int = 0
    accepted: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    location_unknown: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    unknown_location_by_reason: dict[str, int] = field(default_factory=dict)
    new_service_types: int = 0
    located: LocateSummary = field(default_factory=LocateSummary)
    in_hotspots: int = 0  # new or updated requests that fall in a stored hotspot
    grouping: GroupingReport = field(default_factory=GroupingReport)
    closures: ClosureCounts = field(default_factory=ClosureCounts)  # what closure notes say
    grouping_problem: str = ""  # why grouping did not run ('' when it did)

    def add(self, result: IntakeResult, counts: repo.UpsertCounts) -> None:
        """Fold one chunk's outcome into the totals."""
        self.rows_read += result.rows_read
        self.accepted += len(result.accepted)
        self.inserted += counts.inserted
        self.updated += counts.updated
        self.unchanged += counts.unchanged
        self.rejected += len(result.rejected)
        if not result.rejected.empty:
            reasons = result.rejected["problem"].map(_reason_key)
            for reason, n in reasons.value_counts().items():
                self.rejected_by_reason[str(reason)] = self.rejected_by_reason.get(
                    str(reason), 0
                ) + int(n)
        notes = result.accepted["location_note"]
        notes = notes[notes != ""]
        self.location_unknown += len(notes)
        for note, n in notes.map(_reason_key).value_counts().items():
            self.unknown_location_by_reason[str(note)] = self.unknown_location_by_reason.get(
                str(note), 0
            ) + int(n)


def _reason_key(problem: str) -> str:
    """Group messages that differ only by a quoted value or a number."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", problem)
    return re.sub(r"\d[\d,]*", "N", text)


def detect_format(path: Path) -> InputFormat:
    """Guess the input format from the file name and header."""
    name = path.name.lower()
    if name.endswith((".json", ".json.gz")):
        return InputFormat.OPEN311
    if city_export.is_city_export(read_header(path)):
        return InputFormat.CITY_EXPORT
    raise InputError(
        f"{path.name}: not a recognised export (no case_enquiry_id/open_dt/type columns) and "
        "not JSON. Import it with --format csv and a column mapping, e.g. --map "
        "source_id=ID --map service_name=Type --map created=Opened"
    )


def import_file(
    path: Path,
    *,
    fmt: InputFormat = InputFormat.AUTO,
    source: str | None = None,
    mapping: generic_csv.ColumnMapping | None = None,
    encoding: str = "utf-8",
    settings: Settings | None = None,
    progress: Progress | None = None,
    chunk_rows: int = 50_000,
    by: StaffUser | None = None,
) -> ImportSummary:
    """Import one file; every record ends up accepted or in ``rejected_rows``.

    The open reports are then grouped into jobs (a repeat report joins the open job of its
    problem), so every way in leaves the same state; ``summary.grouping`` says what happened.

    ``source`` names the id space: 'boston' for city exports and 'open311' for GeoReport
    JSON by default; a mapped CSV must name it (a file name is no id space: tomorrow's
    ``requests_2025-01-03.csv`` holds the same requests as today's). A signed-in ``by``
    must be allowed to import.
    """
    if by is not None:
        require(by, Action.IMPORT)
    settings = settings or get_settings()
    if fmt is InputFormat.AUTO:
        fmt = InputFormat.CSV if mapping is not None else detect_format(path)
    if fmt is InputFormat.CSV and mapping is None:
        raise InputError(
            f"{path.name}: a generic CSV needs a column mapping (--map or --mapping-file)"
        )
    source = (source or "").strip() or {
        InputFormat.CITY_EXPORT: "boston",
        InputFormat.OPEN311: "open311",
    }.get(fmt, "")
    if not source:
        raise InputError(
            f"{path.name}: name the source system of these rows (--source, e.g. the city's "
            "CRM name); rows are matched to earlier imports by source and id"
        )
    if len(source) > SOURCE_MAX:
        raise InputError(
            f"source name {source[:40]!r}… is {len(source)} characters; use at most {SOURCE_MAX}"
        )
    url = settings.database_url
    prepare_database(url)  # upgrade, and a clear error for a stale slot-0002 database
    now = clock.now(settings)
    with session_scope(url) as session:
        repo.mark_interrupted_imports(session, now=now)
        import_id = repo.start_import(
            session,
            source=source,
            kind=fmt.value,
            file_name=path.name,
            sha256=file_sha256(path),
            now=now,
        )
    summary = ImportSummary(import_id=import_id, source=source, file_name=path.name)
    total = _estimate_records(path) if progress else None
    with session_scope(url) as session:
        repo.claim_import(session, import_id)
        source_was_empty = not repo.source_has_requests(session, source)
        chunks = _parse_chunks(
            path,
            fmt,
            source=source,
            mapping=mapping,
            encoding=encoding,
            tz=settings.timezone,
            seen={},
            chunk_rows=chunk_rows,
            rules=closure_rules(settings),
            area=area_check(settings),
        )
        areas = intake_areas(settings, summary.located)
        for result in chunks:
            _store(session, result, summary, now=now, all_new=source_was_empty, areas=areas)
            if progress:
                progress(summary.rows_read, total)
        _refresh_catalogue(session, result_codes=None, now=now)
        locate(session, settings, import_id=import_id, summary=summary.located)
        summary.in_hotspots = tag_imported(session, import_id)
        summary.closures = apply_closure_rules(
            session, settings, import_id=import_id, source=source, now=now
        )
        repo.finish_import(
            session,
            import_id,
            now=clock.now(settings),
            counts={
                "rows_read": summary.rows_read,
                "accepted": summary.accepted,
                "inserted": summary.inserted,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "rejected": summary.rejected,
            },
        )
    summary.grouping = _group(settings, summary)
    return summary


def import_payload(
    items: list[object],
    *,
    source: str = "open311",
    name: str = "payload",
    settings: Settings | None = None,
    group: bool = True,
) -> ImportSummary:
    """Import GeoReport request objects received through the API or a form.

    Like :func:`import_file`, the open reports are then grouped into jobs (unless ``group``
    is False: a resident's report that joins the job they chose).
    """
    settings = settings or get_settings()
    url = settings.database_url
    prepare_database(url)  # upgrade, and a clear error for a stale slot-0002 database
    now = clock.now(settings)
    with session_scope(url) as session:
        import_id = repo.start_import(
            session, source=source, kind="open311", file_name=name, sha256="", now=now
        )
    summary = ImportSummary(import_id=import_id, source=source, file_name=name)
    with session_scope(url) as session:
        result = open311.parse(
            items, source=source, tz=settings.timezone, area=area_check(settings)
        )
        _store(session, result, summary, now=now, areas=intake_areas(settings, summary.located))
        _refresh_catalogue(session, result_codes=set(result.accepted["service_code"]), now=now)
        locate(session, settings, import_id=import_id, summary=summary.located)
        summary.in_hotspots = tag_imported(session, import_id)
        repo.finish_import(
            session,
            import_id,
            now=clock.now(settings),
            counts={
                "rows_read": summary.rows_read,
                "accepted": summary.accepted,
                "inserted": summary.inserted,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "rejected": summary.rejected,
            },
        )
    if group:
        summary.grouping = _group(settings, summary)
    return summary


def _group(settings: Settings, summary: ImportSummary) -> GroupingReport:
    """Group the open reports into jobs; a failure leaves the stored rows as they are.

    The import has committed by now, so its rows (and a POST's report, which must get its
    id) are kept whatever happens here: grouping runs again with the next import, POST or
    plan, and the summary says it did not run this time.
    """
    try:
        return group_new_requests(settings=settings)
    except Exception as exc:  # the stored rows must not turn into a 500 or a lost import
        log.exception("grouping after import %s failed", summary.import_id)
        summary.grouping_problem = (
            f"grouping into jobs did not run ({type(exc).__name__}); the rows are stored "
            "and will be grouped by the next import"
        )
        return GroupingReport()


def _store(
    session: Session,
    result: IntakeResult,
    summary: ImportSummary,
    *,
    now: datetime,
    all_new: bool = False,
    areas: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> None:
    accepted = result.accepted
    if not accepted.empty:
        added, renames = repo.add_new_service_types(session, derive_catalogue(accepted), now=now)
        summary.new_service_types += added
        if renames:
            accepted = accepted.assign(service_code=accepted["service_code"].replace(renames))
        counts = repo.upsert_requests(
            session,
            accepted,
            import_id=summary.import_id,
            priorities=repo.service_priorities(session),
            now=now,
            all_new=all_new,
            derive=areas,
        )
    else:
        counts = repo.UpsertCounts()
    repo.insert_rejected(
        session, result.rejected, import_id=summary.import_id, file_name=summary.file_name[-255:]
    )
    summary.add(result, counts)


def _refresh_catalogue(session: Session, *, result_codes: set[str] | None, now: datetime) -> None:
    repo.refresh_service_types(
        session,
        sla_targets(repo.sla_inputs(session, result_codes)),
        repo.request_counts_by_type(session),
        now=now,
    )


def _parse_chunks(
    path: Path,
    fmt: InputFormat,
    *,
    source: str,
    mapping: generic_csv.ColumnMapping | None,
    encoding: str,
    tz: str,
    seen: dict[str, int],
    rules: ClosureRules | None = None,
    chunk_rows: int,
    area: AreaCheck | None = None,
) -> Iterator[IntakeResult]:
    if fmt is InputFormat.OPEN311:
        with open_binary(path) as handle:
            text = _decode_json(handle.read(), encoding, name=path.name)
        items = open311.load_payload(text, name=path.name)
        for start in range(0, len(items), chunk_rows):
            yield open311.parse(
                items[start : start + chunk_rows],
                source=source,
                tz=tz,
                seen_ids=seen,
                first_line=start + 1,
                area=area,
            )
        return
    for chunk in iter_csv_chunks(path, chunk_rows=chunk_rows, encoding=encoding):
        if fmt is InputFormat.CITY_EXPORT:
            result = city_export.parse(
                chunk.frame,
                chunk.lines,
                source=source,
                tz=tz,
                seen_ids=seen,
                closure_rules=rules,
                area=area,
            )
        else:
            assert mapping is not None
            result = generic_csv.parse(
                chunk.frame, chunk.lines, mapping, source=source, tz=tz, seen_ids=seen, area=area
            )
        if chunk.malformed:
            malformed = pd.DataFrame(
                [
                    {
                        "source": source,
                        "line": m.line,
                        "field": "(record)",
                        "value": "",
                        "problem": m.problem,
                        "fix": m.fix,
                        "raw": m.raw,
                    }
                    for m in chunk.malformed
                ]
            )
            rejected = pd.concat([result.rejected, malformed], ignore_index=True)
            result = IntakeResult(result.accepted, rejected.sort_values("line", kind="stable"))
        yield result


def _decode_json(data: bytes, encoding: str, *, name: str) -> str:
    """A JSON document's text; bytes that are not in ``encoding`` are a clear error."""
    try:
        return data.decode("utf-8-sig" if encoding.lower().replace("-", "") == "utf8" else encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: byte {exc.start:,} is not {encoding} text (0x{data[exc.start]:02x}); "
            "JSON must be UTF-8: re-save the file as UTF-8, or pass --encoding if you know "
            "the one it was written in"
        ) from None


def _estimate_records(path: Path) -> int | None:
    """Approximate record count (lines minus header) for the progress bar."""
    if path.name.lower().endswith((".json", ".json.gz")):
        return None
    count = 0
    with open_binary(path) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            count += block.count(b"\n")
    return max(count - 1, 0)


def rejected_rows(
    *,
    source: str | None = None,
    file_name: str | None = None,
    limit: int = 100,
    offset: int = 0,
    import_id: int | None = None,
    settings: Settings | None = None,
) -> tuple[list[RejectedRow], int]:
    """Rejected rows by line, and how many there are.

    One import's, or by default those of the latest import of each file (earlier imports'
    rejects stay stored as history).
    """
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        return repo.list_rejected(
            session,
            source=source,
            file_name=file_name,
            limit=limit,
            offset=offset,
            import_id=import_id,
        )


def recent_imports(*, limit: int = 20, settings: Settings | None = None) -> list[ImportRecord]:
    """The latest imports with their counts, newest first."""
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        return repo.list_imports(session, limit=limit)


@dataclass(frozen=True, slots=True)
class UploadPreview:
    """What an uploaded file looks like before importing it."""

    path: Path
    fmt: InputFormat | None  # None: a CSV that needs a column mapping
    header: list[str]
    sample: pd.DataFrame


#: Longest upload the app accepts; bigger files go through the command line.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
_UPLOAD_SUFFIXES = (".csv", ".csv.gz", ".json", ".json.gz")


def save_upload(name: str, data: bytes, *, settings: Settings | None = None) -> Path:
    """Store an uploaded file under ``home/uploads`` with a safe name; returns its path.

    The same file name uploaded again replaces the earlier copy, so importing it again
    replaces that file's rejected rows rather than piling up new ones.
    """
    settings = settings or get_settings()
    base = Path(name).name.strip() or "upload.csv"
    lowered = base.lower()
    if not lowered.endswith(_UPLOAD_SUFFIXES):
        raise InputError(
            f"{base!r}: upload a .csv, .csv.gz or .json file (a city export, "
            "an Open311 requests.json, or any CSV with a column mapping)"
        )
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(
            f"{base!r} is {len(data) / 1e6:,.0f} MB; the app takes up to "
            f"{MAX_UPLOAD_BYTES // 1_000_000} MB. Import bigger files with "
            "'geodispatch import PATH'"
        )
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", base)[-120:]
    folder = settings.home / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe
    path.write_bytes(data)
    return path


def preview_upload(path: Path, *, rows: int = 5, encoding: str = "utf-8") -> UploadPreview:
    """The format intake recognises (None when a mapping is needed), header and first rows."""
    if path.name.lower().endswith((".json", ".json.gz")):
        with open_binary(path) as handle:
            items = open311.load_payload(
                _decode_json(handle.read(), encoding, name=path.name), name=path.name
            )
        sample = pd.DataFrame([i for i in items[:rows] if isinstance(i, dict)])
        return UploadPreview(path, InputFormat.OPEN311, list(sample.columns), sample)
    header = read_header(path, encoding=encoding)
    chunk = next(iter_csv_chunks(path, chunk_rows=rows, encoding=encoding, exact=True), None)
    sample = chunk.frame.head(rows) if chunk is not None else pd.DataFrame(columns=header)
    fmt = InputFormat.CITY_EXPORT if city_export.is_city_export(header) else None
    return UploadPreview(path, fmt, header, sample)
