"""The city-editable place table: rows read as evidence, bad rows refused with the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from geodispatch.domain.errors import InputError, SchemaError
from geodispatch.geo.geocode import OfflineGeocoder
from geodispatch.geo.places import PlaceKind, ServiceArea, places_from_frame
from geodispatch.io.address_files import read_address_index, read_place_table
from tests.conftest import DATA


def _table(*rows: tuple[str, str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [(*row, "test") for row in rows], columns=["kind", "name", "means", "lon", "lat", "source"]
    )


def test_each_kind_of_row_is_read_under_its_key() -> None:
    book = places_from_frame(
        _table(
            ("street_alias", "Mass Ave", "Massachusetts Avenue", "", ""),
            ("place_alias", "Allston/Brighton", "Allston|Brighton", "", ""),
            ("landmark", "City Hall", "", "-71.058", "42.3603"),
            ("outside_place", "Cambridge", "02138 02139", "", ""),
            ("city_zip", "02137", "Hyde Park", "", ""),
        )
    )
    assert book.street_aliases == {"MASS AVE": "MASSACHUSETTS AVE"}
    assert book.place_aliases == {"ALLSTON/BRIGHTON": ("ALLSTON", "BRIGHTON")}
    assert book.landmarks["CITY HALL"].name == "City Hall"
    assert book.outside_zips == {"02138": "Cambridge", "02139": "Cambridge"}
    assert book.city_zips == {"02137": "HYDE PARK"}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("street_aliass", "Mass Ave", "x", "", ""), "row 1: kind 'street_aliass' is not one of"),
        (("landmark", "City Hall", "", "north", ""), r"row 1 \(City Hall\): lon/lat 'north'"),
        (("outside_place", "Cambridge", "0213", "", ""), "row 1: means '0213' is not a ZIP"),
        (("place_alias", "JP", "", "", ""), r"row 1 \(JP\): means is empty"),
        (("street_alias", " ", "Main St", "", ""), "row 1: name is empty"),
    ],
)
def test_a_bad_row_is_refused_naming_row_field_value_and_fix(
    row: tuple[str, str, str, str, str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        places_from_frame(_table(row))


def test_a_table_without_its_columns_is_refused() -> None:
    with pytest.raises(SchemaError, match="no column 'source'"):
        places_from_frame(pd.DataFrame(columns=["kind", "name", "means", "lon", "lat"]))


def test_the_shipped_boston_table_reads_and_has_every_kind() -> None:
    book = read_place_table(DATA / "geocoding" / "boston_places.csv")
    assert {"MASS AVE", "COMM AVE", "DOT AVE", "MLK BLVD"} <= set(book.street_aliases)
    assert {"CITY HALL", "BOSTON CMN", "PARK ST STA"} <= set(book.landmarks)
    assert {"JP", "SOUTHIE"} <= set(book.place_aliases)
    assert book.outside_zips["02139"] == "Cambridge"
    assert len(PlaceKind) == 5


def test_an_openaddresses_file_with_capital_headers_loads_as_the_index(tmp_path: Path) -> None:
    path = tmp_path / "city_of_boston.csv"
    path.write_text(
        "LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH\n"
        "-71.1447,42.2839,39,Lorraine St,,Roslindale,,MA,02131,,a1\n"
        "-71.1450,42.2841,41,Lorraine St,,Roslindale,,MA,02131,,a2\n"
    )
    coder = OfflineGeocoder(read_address_index(path))
    result = coder.geocode_one("41 Lorraine St, Roslindale")
    assert (result.match, result.matched) == ("exact", "41 Lorraine St 02131")


def test_the_service_area_grid_answers_as_the_polygon_does() -> None:
    area = shapely.buffer(shapely.Point(1_000.0, 1_000.0), 600.0)
    fast = ServiceArea(area, cell_m=100.0)
    rng = np.random.default_rng(7)
    xs, ys = rng.uniform(0, 2_000, 2_000), rng.uniform(0, 2_000, 2_000)
    exact = shapely.contains_xy(area, xs, ys)
    assert [fast.contains(x, y) for x, y in zip(xs, ys, strict=True)] == exact.tolist()
    assert fast.distance(1_000.0, 1_700.0) == pytest.approx(100.0, abs=0.5)
