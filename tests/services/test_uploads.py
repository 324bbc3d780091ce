"""Uploads from the app: safe names, size and type limits, a preview before importing."""

from __future__ import annotations

import pytest

from geodispatch.config import Settings
from geodispatch.domain.errors import InputError
from geodispatch.services.intake import InputFormat, preview_upload, save_upload
from tests.intake.boston_rows import HEADER_2011, row


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    import csv
    import io

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode()


def test_an_upload_lands_under_home_with_a_safe_name(settings: Settings) -> None:
    path = save_upload("../../etc/My export (May).csv", b"a,b\n1,2\n", settings=settings)
    assert path.parent == settings.home / "uploads"
    assert path.name == "My_export_May_.csv"


def test_uploads_of_other_types_are_refused_with_what_to_upload(settings: Settings) -> None:
    with pytest.raises(InputError, match=r"upload a \.csv"):
        save_upload("photo.png", b"\x89PNG", settings=settings)


def test_a_boston_export_is_recognised_and_a_foreign_csv_asks_for_a_mapping(
    settings: Settings,
) -> None:
    boston = save_upload("b.csv", csv_bytes(HEADER_2011, [row()]), settings=settings)
    assert preview_upload(boston).fmt is InputFormat.CITY_EXPORT
    other = save_upload("o.csv", csv_bytes(["ID", "Kind"], [["1", "x"]]), settings=settings)
    preview = preview_upload(other)
    assert preview.fmt is None
    assert preview.header == ["ID", "Kind"]
    assert preview.sample["Kind"].tolist() == ["x"]
