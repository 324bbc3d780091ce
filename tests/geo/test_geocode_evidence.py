"""The geocoder is never confidently wrong: each example of issue 22 on the bundled index.

The geocoder here is the product's (``services.geo.offline_geocoder``): the bundled 2011
address index, the place table, the neighbourhood layer and the ward layer.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from geodispatch.config import Settings
from geodispatch.geo.crs import lonlat_to_working, working_to_lonlat
from geodispatch.geo.geocode import OfflineGeocoder
from geodispatch.intake.normalize import BOSTON_PLACEHOLDER
from geodispatch.services.geo import offline_geocoder
from tests.conftest import DATA

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def boston(tmp_path_factory: pytest.TempPathFactory) -> OfflineGeocoder:
    home = tmp_path_factory.mktemp("home")
    return offline_geocoder(Settings(data_dir=DATA, home=home))


def _metres(coder: OfflineGeocoder, a: tuple[float, float], lon: float, lat: float) -> float:
    x, y = lonlat_to_working(np.array([lon]), np.array([lat]), coder.index.working_crs)
    return math.hypot(a[0] - float(x[0]), a[1] - float(y[0]))


def test_a_zip_and_a_neighbourhood_that_disagree_are_flagged_with_both_named(
    boston: OfflineGeocoder,
) -> None:
    result = boston.geocode_one("70 Tremont St  Charlestown  MA  02135")
    assert result.flag == "conflict"
    assert "ZIP 02135 (Brighton) and Charlestown do not agree" in result.note
    assert "in Charlestown: 70 Tremont St 02129" in result.note


def test_an_address_in_another_town_is_outside_the_service_area(boston: OfflineGeocoder) -> None:
    for text in ("100 Main St, Cambridge", "100 Main St Somerville MA 02143", "5 Elm St 02139"):
        result = boston.geocode_one(text)
        assert (result.match, result.flag) == ("none", "outside_area"), text
        assert math.isnan(result.x)
        assert result.note.startswith("outside the service area")


def test_a_street_in_several_zips_with_nothing_to_choose_is_ambiguous(
    boston: OfflineGeocoder,
) -> None:
    result = boston.geocode_one("27 Albion St")
    assert result.flag == "ambiguous"
    assert "27 Albion St 02136" in result.note + result.matched
    assert "27 Albion St 02119" in result.note + result.matched
    chosen = boston.geocode_one("27 Albion St, Roxbury")
    assert (chosen.flag, chosen.zipcode) == ("", "02119")


def test_another_suffix_scores_under_the_review_threshold(boston: OfflineGeocoder) -> None:
    threshold = boston.params.low_confidence_below
    for text in ("16 Edgerly Pl", "16 Edgerly Pl  Boston  MA  02116"):
        result = boston.geocode_one(text)
        assert result.matched.startswith("16 Edgerly Rd"), result
        assert result.score < threshold, result
        assert result.flag != "", result


@pytest.mark.parametrize(
    ("text", "zips"),
    [
        ("12 Newbury St Back Bay", {"02116"}),
        ("300 Tremont St South End", {"02116", "02118"}),
        ("100 Centre St JP", {"02130"}),
        ("40 Jersey St Fenway", {"02215"}),
        ("10 Summer St Downtown", {"02110", "02111"}),
    ],
)
def test_neighbourhood_names_and_aliases_are_places_without_a_comma(
    boston: OfflineGeocoder, text: str, zips: set[str]
) -> None:
    result = boston.geocode_one(text)
    assert result.match != "none", result
    assert result.zipcode in zips, result
    assert "not known" not in result.note, result
    assert result.flag != "conflict", result


def test_an_unknown_word_after_the_street_does_not_stop_the_match(
    boston: OfflineGeocoder,
) -> None:
    result = boston.geocode_one("39 Lorraine St Funkytown")
    assert result.matched == "39 Lorraine St 02131"
    assert "ignored 'funkytown' after the street" in result.note


@pytest.mark.parametrize(
    ("text", "street"),
    [
        ("100 Mass Ave 02118", "Massachusetts Ave"),
        ("200 Comm Ave 02116", "Commonwealth Ave"),
        ("1000 Dot Ave 02125", "Dorchester Ave"),
        ("200 MLK Blvd 02119", "Martin Luther King Jr Blvd"),
    ],
)
def test_local_street_names_read_as_the_citys_names(
    boston: OfflineGeocoder, text: str, street: str
) -> None:
    result = boston.geocode_one(text)
    assert street in result.matched, result


def test_landmarks_are_placed_city_hall_where_the_city_puts_it(boston: OfflineGeocoder) -> None:
    hall = boston.geocode_one("City Hall")
    assert hall.match == "landmark"
    assert _metres(boston, (hall.x, hall.y), BOSTON_PLACEHOLDER[1], BOSTON_PLACEHOLDER[0]) < 200
    for text in ("Boston Common", "near Park Street Station", "South Station, Boston MA"):
        result = boston.geocode_one(text)
        assert (result.match, result.flag) == ("landmark", ""), text


def test_free_text_around_an_address_is_parsed_or_flagged(boston: OfflineGeocoder) -> None:
    pothole = boston.geocode_one("39 Lorraine St pothole")
    assert pothole.matched == "39 Lorraine St 02131"
    school = boston.geocode_one("39 Lorraine St (near the school)")
    assert school.matched == "39 Lorraine St 02131"
    assert "ignored 'near the school'" in school.note
    glued = boston.geocode_one("43Mount Vernon St")
    assert "Mount Vernon St" in glued.matched
    assert glued.flag == "ambiguous"  # the street is in four ZIPs
    unit_first = boston.geocode_one("Apt 3, 9-15 Orleans St")
    assert unit_first.matched.startswith("9 Orleans St 02128")
    near = boston.geocode_one("near Tremont St and Boylston St")
    assert near.match == "intersection"
    assert "placed at the place written after 'near'" in near.note


def test_a_street_known_only_from_intersections_is_placed_there_and_flagged(
    boston: OfflineGeocoder,
) -> None:
    result = boston.geocode_one("10 Bowker St")
    assert result.match == "street"
    assert result.flag in ("low_confidence", "ambiguous")
    assert "recorded crossing" in result.note
    assert "closest known name 'Bowker St'" not in result.note


def test_the_failure_message_never_names_the_street_itself_as_closest(
    boston: OfflineGeocoder,
) -> None:
    result = boston.geocode_one("5 Zzyzx Rd 02131")
    assert result.match == "none"
    assert "not in the address index" in result.note


def test_reverse_geocoding_says_nearest_unless_within_a_few_metres(
    boston: OfflineGeocoder,
) -> None:
    x, y = float(boston.index.x[0]), float(boston.index.y[0])
    lon, lat = working_to_lonlat(
        np.array([x, x + 25.0]), np.array([y, y]), boston.index.working_crs
    )
    out = boston.reverse(lon, lat)
    assert list(out["match"]) == ["exact", "nearest"]
    assert out["note"].iat[0] == ""
    assert re.fullmatch(r"nearest known address, \d+ m away", str(out["note"].iat[1]))


def test_missing_values_in_any_position_give_no_address_rows(boston: OfflineGeocoder) -> None:
    frame = boston.geocode(
        [math.nan, pd.NA, None, "39 Lorraine St"], zipcodes=[None, math.nan, pd.NA, pd.NA]
    )
    assert list(frame["note"][:3]) == ["no address text"] * 3
    assert frame["match"].iat[3] == "exact"
    assert boston.geocode_one(pd.NA).note == "no address text"  # type: ignore[arg-type]


def test_the_readme_examples_are_placed(boston: OfflineGeocoder) -> None:
    line = next(x for x in README.read_text().splitlines() if "geocode address" in x)
    examples = re.findall(r'"([^"]+)"', line)
    assert examples
    for text in examples:
        assert boston.geocode_one(text).match != "none", text


def test_the_shipped_aliases_name_indexed_streets_and_landmarks_lie_in_the_city(
    boston: OfflineGeocoder,
) -> None:
    for alias, street in boston.places.street_aliases.items():
        assert boston.index.known_street(street), (alias, street)
    area = boston.service_area
    for landmark in boston.places.landmarks.values():
        assert shapely.contains_xy(area, landmark.x, landmark.y), landmark.name
