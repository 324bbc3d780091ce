"""The CSV reader: every record with its line, malformed records reported, both readers agree."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from geodispatch.io.tables import iter_csv_chunks


def read(path: Path, *, exact: bool) -> tuple[pd.DataFrame, list[int], list[tuple[int, str]]]:
    frames, lines, malformed = [], [], []
    for chunk in iter_csv_chunks(path, chunk_rows=2, exact=exact):
        frames.append(chunk.frame.astype(object))
        lines += chunk.lines.tolist()
        malformed += [(m.line, m.problem) for m in chunk.malformed]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return frame, lines, malformed


def test_clean_files_read_the_same_through_arrow_and_python(tmp_path: Path) -> None:
    path = tmp_path / "clean.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        handle.write('id,text\n1,"a, b"\n2,"say ""hi"""\n3,\n')
    fast, fast_lines, _ = read(path, exact=False)
    slow, slow_lines, _ = read(path, exact=True)
    assert (
        fast.to_dict("list")
        == slow.to_dict("list")
        == {"id": ["1", "2", "3"], "text": ["a, b", 'say "hi"', ""]}
    )
    assert fast_lines == slow_lines == [2, 3, 4]


def test_a_quoted_newline_keeps_line_numbers_right(tmp_path: Path) -> None:
    path = tmp_path / "multiline.csv"
    path.write_text('id,text\n1,"two\nlines"\n2,after\n', encoding="utf-8")
    frame, lines, _ = read(path, exact=False)
    assert frame["text"].tolist() == ["two\nlines", "after"]
    assert lines == [2, 4]


def test_records_with_the_wrong_number_of_fields_are_reported_and_reading_goes_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("id,text\n1,a\n2,b,c\n3,d\n4,e,,\n", encoding="utf-8")
    frame, lines, malformed = read(path, exact=False)
    assert frame["id"].tolist() == ["1", "3", "4"]  # trailing empty cells are tolerated
    assert lines == [2, 4, 5]
    assert malformed == [(3, "3 fields where the header has 2")]


def test_bytes_that_are_not_utf8_survive_for_intake_to_reject(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,text\n1,café\n".encode("cp1252"))
    frame, lines, _ = read(path, exact=False)
    assert frame["text"].iat[0] == "caf\udce9"
    assert lines == [2]


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffid,text\n1,a\n".encode())
    frame, _, _ = read(path, exact=False)
    assert list(frame.columns) == ["id", "text"]


def test_an_empty_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match="the file is empty"):
        list(iter_csv_chunks(path))


@pytest.mark.parametrize(
    ("late_record", "gz"),
    [
        ('"two\nlines",x', False),  # a record spanning lines
        ("only-one-field", True),  # the wrong number of fields
        ("caf\xe9-latin1,x", False),  # bytes that are not UTF-8
    ],
)
def test_a_problem_late_in_a_big_file_hands_over_to_the_exact_reader_mid_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, late_record: str, gz: bool
) -> None:
    # small Arrow batches, so that clean batches are read by Arrow before the problem one
    monkeypatch.setattr("geodispatch.io.tables._ARROW_BLOCK", 256)
    body = "".join(f"{n},row {n}\n" for n in range(200)) + late_record + "\n"
    body += "".join(f"{n},after {n}\n" for n in range(200, 260))
    data = ("id,text\n" + body).encode("latin-1" if "\xe9" in late_record else "utf-8")
    path = tmp_path / ("late.csv.gz" if gz else "late.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    fast = read(path, exact=False)
    slow = read(path, exact=True)
    assert fast[0].to_dict("list") == slow[0].to_dict("list")
    assert fast[1:] == slow[1:]
    assert fast[1][:3] == [2, 3, 4]
    assert fast[1][-1] == 263 if "\n" in late_record else 262
