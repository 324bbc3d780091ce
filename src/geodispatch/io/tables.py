"""Read delimited text files in chunks, keeping every record's line number.

Python's ``csv`` module is used rather than ``pandas.read_csv`` because intake must name
the line of every bad record and must not stop at the first malformed one. Bytes that are
not UTF-8 are kept (as surrogate escapes) so intake can reject exactly those rows.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from geodispatch.domain.errors import InputError
from geodispatch.intake.text import printable

#: Largest single field the reader accepts; intake rejects long fields far below this.
MAX_FIELD_CHARS = 1_000_000
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True, slots=True)
class MalformedRecord:
    """A record the CSV reader could not split into the header's columns."""

    line: int
    problem: str
    fix: str
    raw: str


@dataclass(slots=True)
class CsvChunk:
    """Up to ``chunk_rows`` well-formed records as strings, plus the malformed ones seen."""

    frame: pd.DataFrame
    lines: np.ndarray
    malformed: list[MalformedRecord] = field(default_factory=list)

    @property
    def records(self) -> int:
        """Records in this chunk, well-formed or not."""
        return len(self.frame) + len(self.malformed)


def open_binary(path: Path) -> BinaryIO:
    """Open a file for reading bytes, transparently un-gzipping ``.gz`` files."""
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path or the file name")
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def file_sha256(path: Path) -> str:
    """Hash of the file's bytes, to recognise the same file imported twice."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_header(path: Path, *, encoding: str = "utf-8") -> list[str]:
    """The column names of a delimited file (first record)."""
    with open_binary(path) as raw:
        text = io.TextIOWrapper(
            raw, encoding=_python_encoding(encoding), errors="surrogateescape", newline=""
        )
        try:
            return next(csv.reader(text))
        except StopIteration:
            raise InputError(f"{path.name}: the file is empty; export it again") from None


def iter_csv_chunks(
    path: Path, *, chunk_rows: int = 50_000, encoding: str = "utf-8", exact: bool = False
) -> Iterator[CsvChunk]:
    """Yield the file's records in chunks of strings, each with its 1-based start line.

    A record with the wrong number of fields, or one the CSV grammar cannot parse, is
    reported as a :class:`MalformedRecord`; reading goes on with the next record.

    Well-formed UTF-8 text (every record on one line, the header's number of fields, valid
    text) is read by Arrow's C++ reader, ten times faster. From the first Arrow batch that
    does not qualify on, or for the whole file with ``exact=True``, Python's ``csv`` module
    reads it record by record. Both readers give the same records and lines.
    """
    names = _unique_names(read_header(path, encoding=encoding))
    from_line = 2  # the header is line 1
    if not exact and encoding.lower().replace("-", "") in {"utf8", "utf8sig"}:
        arrow = _arrow_chunks(path, names)
        for chunk in arrow:
            if chunk is None:  # this batch needs the exact reader: go on with it from here
                break
            from_line = int(chunk.lines[-1]) + 1 if len(chunk.lines) else from_line
            yield chunk
        else:
            return
    yield from _python_chunks(path, chunk_rows=chunk_rows, encoding=encoding, from_line=from_line)


_ARROW_BLOCK = 1 << 24  # bytes per Arrow batch: ~40k Boston rows


def _arrow_reader(path: Path, names: list[str]) -> Any:
    compression = "gzip" if path.suffix == ".gz" else None
    stream = pa.input_stream(str(path), compression=compression)
    return pa_csv.open_csv(
        stream,
        read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, block_size=_ARROW_BLOCK),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _arrow_chunks(path: Path, names: list[str]) -> Iterator[CsvChunk | None]:
    """Arrow's batches as chunks, then ``None`` at the first batch it cannot read exactly.

    A batch needs the exact reader when it holds invalid UTF-8, a wrong number of fields,
    or a record that spans lines (Arrow cannot tell its line number).
    """
    next_line = 2  # the header is line 1
    batches: Iterator[Any] | None = None
    while True:
        try:  # opening the reader reads (and may fail on) the first batch
            batches = batches or iter(_arrow_reader(path, names))
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowInvalid, UnicodeDecodeError):
            yield None
            return
        if any(pc.any(pc.match_substring_regex(c, r"[\r\n]")).as_py() for c in batch.columns):
            yield None
            return
        frame = batch.to_pandas()
        frame.columns = names
        lines = np.arange(next_line, next_line + len(frame), dtype=np.int64)
        next_line += len(frame)
        yield CsvChunk(frame, lines)


class _LineSource:
    """The physical lines of a text stream, with the lines of the current record kept.

    When a record turns out to be an unclosed quote that swallowed the lines after it,
    those lines are pushed back and read again as records of their own.
    """

    def __init__(self, stream: io.TextIOBase) -> None:
        self.stream = stream
        self.pending: deque[str] = deque()
        self.record_lines: list[str] = []
        self.consumed = 0  # physical lines handed to the CSV reader so far

    def __iter__(self) -> _LineSource:
        return self

    def __next__(self) -> str:
        line = self.pending.popleft() if self.pending else next(self.stream)
        self.record_lines.append(line)
        self.consumed += 1
        return line

    def push_back(self, lines: list[str]) -> None:
        self.pending.extendleft(reversed(lines))
        self.consumed -= len(lines)


def _python_chunks(
    path: Path, *, chunk_rows: int, encoding: str, from_line: int = 2
) -> Iterator[CsvChunk]:
    """Records by Python's ``csv`` module, from physical line ``from_line`` on.

    The lines before ``from_line`` (one record each) were read already by Arrow.
    """
    with open_binary(path) as raw:
        text = io.TextIOWrapper(
            raw, encoding=_python_encoding(encoding), errors="surrogateescape", newline=""
        )
        source = _LineSource(text)
        reader = csv.reader(source, strict=False)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(f"{path.name}: the file is empty; export it again") from None
        except csv.Error as exc:
            raise InputError(f"{path.name}: the header line cannot be read ({exc})") from None
        names = _unique_names(header)
        width = len(names)
        while source.consumed + 1 < from_line and next(text, None) is not None:
            source.consumed += 1
        rows: list[list[str]] = []
        lines: list[int] = []
        malformed: list[MalformedRecord] = []
        while True:
            start = source.consumed + 1
            source.record_lines = []
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                malformed.append(
                    MalformedRecord(
                        start,
                        f"the CSV record cannot be read ({exc})",
                        "check quoting on this line: a field with a comma or quote must be quoted, "
                        "and quotes inside it doubled",
                        printable("".join(source.record_lines)),
                    )
                )
                continue
            if not record:  # a blank line is not a record
                continue
            if len(record) > width and all(not v.strip() for v in record[width:]):
                record = record[:width]  # trailing empty cells from spreadsheets
            spanned = source.record_lines
            unclosed = len(spanned) > 1 and "".join(spanned).count('"') % 2 == 1
            if len(spanned) > 1 and (unclosed or len(record) != width):
                # an opening quote never closed swallowed the lines after it: reject only
                # the line it starts on and read the others again as records of their own
                source.push_back(spanned[1:])
                malformed.append(
                    MalformedRecord(
                        start,
                        "a quote opened on this line is never closed, so the line cannot "
                        "be split into fields",
                        'close the quote, or double a quote that is part of the text ("")',
                        printable(spanned[0]),
                    )
                )
                continue
            if len(record) != width:
                malformed.append(
                    MalformedRecord(
                        start,
                        f"{len(record)} fields where the header has {width}",
                        "quote fields that contain commas, or remove the extra separators",
                        printable(",".join(record)),
                    )
                )
                continue
            rows.append(record)
            lines.append(start)
            if len(rows) + len(malformed) >= chunk_rows:
                yield _chunk(rows, lines, names, malformed)
                rows, lines, malformed = [], [], []
        if rows or malformed:
            yield _chunk(rows, lines, names, malformed)


def _python_encoding(encoding: str) -> str:
    """UTF-8 reads skip a byte-order mark, as spreadsheets write one."""
    return "utf-8-sig" if encoding.lower().replace("-", "") in {"utf8", "utf8sig"} else encoding


def _unique_names(header: list[str]) -> list[str]:
    """Column names with blanks named (``column_1``) and repeats numbered."""
    seen: dict[str, int] = {}
    names = []
    for i, name in enumerate(header):
        name = name.strip() or f"column_{i + 1}"
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(name if count == 0 else f"{name}.{count}")
    return names


def _chunk(
    rows: list[list[str]], lines: list[int], names: list[str], malformed: list[MalformedRecord]
) -> CsvChunk:
    frame = (
        pd.DataFrame(rows, columns=names, dtype=object)
        if rows
        else pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    )
    return CsvChunk(frame, np.asarray(lines, dtype=np.int64), malformed)
