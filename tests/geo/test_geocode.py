"""The offline cascade on a tiny hand-made city and on real Boston rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from geodispatch.domain.errors import InputError, SchemaError
from geodispatch.geo.address_index import AddressIndex, tables_from_requests
from geodispatch.geo.crs import lonlat_to_working, working_to_lonlat
from geodispatch.geo.geocode import GeocodeParams, OfflineGeocoder
from tests.conftest import BOSTON_2011

# A tiny city in metres (working CRS): Elm St runs east from X0 in 02131, number n at
# x = X0 + 5 n, even numbers 10 m north, odd 10 m south; 12-28 are missing (a gap to
# interpolate). Oak Ave crosses it at X0 + 300. A second Elm St lies 5 km away in 02124.
X0, Y0 = 230_000.0, 890_000.0


def _point(x: float, y: float) -> tuple[float, float]:
    lon, lat = working_to_lonlat(np.array([x]), np.array([y]))
    return float(lon[0]), float(lat[0])


def _row(number: str, street: str, city: str, postcode: str, x: float, y: float) -> dict:
    lon, lat = _point(x, y)
    return {
        "number": number,
        "street": street,
        "unit": "",
        "city": city,
        "postcode": postcode,
        "lon": lon,
        "lat": lat,
    }


@pytest.fixture(scope="module")
def tiny() -> OfflineGeocoder:
    rows = []
    for n in [*range(2, 12, 2), *range(30, 42, 2)]:
        rows.append(_row(str(n), "Elm St", "Roslindale", "02131", X0 + 5 * n, Y0 + 10))
    for n in range(1, 41, 2):
        rows.append(_row(str(n), "Elm St", "Roslindale", "02131", X0 + 5 * n, Y0 - 10))
    rows.append(_row("31-33", "Elm St", "Roslindale", "02131", X0 + 160, Y0 - 10))
    for n in range(2, 40, 2):
        rows.append(_row(str(n), "Oak Ave", "Roslindale", "02131", X0 + 300 + 10, Y0 + 5 * n))
    for n in range(2, 20, 2):
        rows.append(_row(str(n), "Elm St", "Dorchester", "02124", X0 + 5000 + 5 * n, Y0))
    rows.append(_row("7", "Birch Ter", "Roslindale", "02131", X0, Y0 + 400))
    for n in (2, 40):  # Ash St: two known numbers 38 apart, to interpolate across
        rows.append(_row(str(n), "Ash St", "Roslindale", "02131", X0 + 5 * n, Y0 + 600))
    for n in range(2, 10, 2):  # Pine St ends at Oak Ave; no crossing record
        rows.append(_row(str(n), "Pine St", "Roslindale", "02131", X0 + 250 + 5 * n, Y0 + 210))
    lon, lat = _point(X0 + 300, Y0)
    crossings = pd.DataFrame(
        [
            {
                "street_a": "Elm St",
                "street_b": "Oak Ave",
                "city": "Roslindale",
                "postcode": "",
                "lon": lon,
                "lat": lat,
            }
        ]
    )
    return OfflineGeocoder(AddressIndex.from_frames(pd.DataFrame(rows), crossings))


def _xy(result) -> tuple[float, float]:
    return result.x, result.y


@pytest.mark.parametrize(
    ("text", "match", "x", "y", "flag"),
    [
        ("4 Elm St  Roslindale  MA  02131", "exact", X0 + 20, Y0 + 10, ""),
        ("4 ELM STREET, Roslindale MA 2131", "exact", X0 + 20, Y0 + 10, ""),
        ("4 elm st apt 2 02131", "exact", X0 + 20, Y0 + 10, ""),
        ("4R Elm St 02131", "exact", X0 + 20, Y0 + 10, ""),
        ("20 Elm St 02131", "interpolated", X0 + 100, Y0 + 10, ""),
        ("20-22 Elm St Roslindale", "interpolated", X0 + 100, Y0 + 10, ""),
        ("33 Elm St 02131", "exact", X0 + 160, Y0 - 10, ""),
        ("4 Elm 02131", "fuzzy", X0 + 20, Y0 + 10, ""),
        ("4 Elmm St 02131", "fuzzy", X0 + 20, Y0 + 10, ""),
        ("22 Oak Avenue Roslindale", "exact", X0 + 310, Y0 + 110, ""),
        ("INTERSECTION of Elm St & Oak Ave  Roslindale  MA", "intersection", X0 + 300, Y0, ""),
        ("oak ave and elm street", "intersection", X0 + 300, Y0, ""),
        ("Birch Ter Roslindale", "street", X0, Y0 + 400, "low_confidence"),
        ("900 Elm St 02131", "street", None, None, "low_confidence"),
    ],
)
def test_messy_inputs_get_the_expected_match_type_and_place(
    tiny: OfflineGeocoder, text: str, match: str, x: float | None, y: float | None, flag: str
) -> None:
    result = tiny.geocode_one(text)
    assert result.match == match, result
    assert result.flag == flag, result
    if x is not None and y is not None:
        assert math.hypot(result.x - x, result.y - y) < 15, result


def test_a_street_in_two_zips_without_locality_is_flagged_ambiguous(tiny: OfflineGeocoder) -> None:
    result = tiny.geocode_one("4 Elm St")
    assert result.flag == "ambiguous"
    assert "also" in result.note
    assert "02124" in result.note + result.matched


def test_the_zip_settles_which_of_two_streets_is_meant(tiny: OfflineGeocoder) -> None:
    result = tiny.geocode_one("4 Elm St", zipcode="02124")
    assert (result.match, result.flag) == ("exact", "")
    assert math.hypot(result.x - (X0 + 5020), result.y - Y0) < 1


def test_an_answer_outside_the_zip_given_is_flagged_as_a_conflict(tiny: OfflineGeocoder) -> None:
    result = tiny.geocode_one("7 Birch Ter  Dorchester  MA  02124")
    assert result.match == "exact"
    assert result.flag == "conflict"
    assert "not indexed in 02124" in result.note
    assert "the match is in ZIP 02131" in result.note


def test_unknown_streets_and_empty_text_fail_with_a_reason(tiny: OfflineGeocoder) -> None:
    unknown = tiny.geocode_one("5 Zebulon Rd 02131")
    assert unknown.match == "none"
    assert "not in the address index" in unknown.note
    assert tiny.geocode_one("").note == "no address text"
    assert math.isnan(unknown.x)


def test_an_unrecorded_crossing_is_estimated_and_flagged(tiny: OfflineGeocoder) -> None:
    result = tiny.geocode_one("Pine St & Oak Ave")
    assert result.match == "intersection"
    assert result.flag == "low_confidence"
    assert "estimated" in result.note
    assert math.hypot(result.x - (X0 + 300), result.y - (Y0 + 200)) < 25
    assert tiny.geocode_one("Birch Ter & Elm St").match == "none"


def test_batch_results_are_wgs84_in_input_order(tiny: OfflineGeocoder) -> None:
    frame = tiny.geocode(["4 Elm St 02131", "nowhere", "4 Elm St 02131"])
    assert list(frame["match"]) == ["exact", "none", "exact"]
    lon, lat = _point(X0 + 20, Y0 + 10)
    assert frame["lon"].iat[0] == pytest.approx(lon, abs=1e-6)
    assert frame["lat"].iat[0] == pytest.approx(lat, abs=1e-6)
    with pytest.raises(InputError, match="2 ZIP codes"):
        tiny.geocode(["a", "b", "c"], zipcodes=["02131", ""])


def test_reverse_geocoding_names_the_nearest_address(tiny: OfflineGeocoder) -> None:
    near = _point(X0 + 21, Y0 + 12)
    far = _point(X0 + 2000, Y0 + 2000)
    out = tiny.reverse(np.array([near[0], far[0], np.nan]), np.array([near[1], far[1], np.nan]))
    assert out["address"].iat[0] == "4 Elm St 02131"
    assert list(out["match"]) == ["exact", "none", "none"]
    assert "away" in out["note"].iat[1]
    assert out["note"].iat[2] == "no location"


def test_params_are_checked() -> None:
    with pytest.raises(InputError, match="ambiguity_m must be in"):
        GeocodeParams(ambiguity_m=-1)


def test_an_address_table_without_its_columns_is_refused() -> None:
    with pytest.raises(SchemaError, match="no column 'postcode'"):
        AddressIndex.from_frames(
            pd.DataFrame({"number": [], "street": [], "unit": [], "city": [], "lon": [], "lat": []})
        )


@pytest.fixture(scope="module")
def boston() -> tuple[OfflineGeocoder, pd.DataFrame]:
    """An index of Jul-Oct 2011 and real Nov-Dec rows to geocode (the bench, in small)."""
    frame = pd.read_csv(
        BOSTON_2011,
        dtype=str,
        keep_default_na=False,
        usecols=["location", "latitude", "longitude", "open_dt"],
    )
    train = frame[frame["open_dt"] < "2011-11-01"]
    addresses, crossings = tables_from_requests(
        train["location"],
        train["longitude"],
        train["latitude"],
        placeholders=((42.3594, -71.0587),),
    )
    later = frame[(frame["open_dt"] >= "2011-12-01") & (frame["latitude"] != "42.3594")]
    return OfflineGeocoder(AddressIndex.from_frames(addresses, crossings)), later


@pytest.mark.parametrize(
    "variant",
    [str, str.lower, lambda s: s.replace("  ", " "), lambda s: s.split("  ")[0]],
    ids=["as written", "lower case", "single spaces", "street part only"],
)
def test_real_boston_addresses_land_near_the_citys_own_point(boston, variant) -> None:
    coder, later = boston
    sample = later[later["location"].str.match(r"^\d")].drop_duplicates("location").head(300)
    result = coder.geocode([variant(s) for s in sample["location"]])
    x0, y0 = lonlat_to_working(
        pd.to_numeric(sample["longitude"]).to_numpy(), pd.to_numeric(sample["latitude"]).to_numpy()
    )
    x1, y1 = lonlat_to_working(result["lon"].to_numpy(), result["lat"].to_numpy())
    error = np.hypot(x1 - x0, y1 - y0)
    placed = (result["match"] != "none").to_numpy()
    assert placed.mean() > 0.9
    assert np.nanmedian(error) < 30
    unflagged = (result["flag"] == "").to_numpy()
    assert np.mean(unflagged & placed & (error > 250)) < 0.02


def test_real_boston_intersections_come_from_the_citys_records(boston) -> None:
    coder, later = boston
    sample = later[later["location"].str.startswith("INTERSECTION")].drop_duplicates("location")
    sample = sample.head(200)
    result = coder.geocode(sample["location"].tolist())
    x0, y0 = lonlat_to_working(
        pd.to_numeric(sample["longitude"]).to_numpy(), pd.to_numeric(sample["latitude"]).to_numpy()
    )
    x1, y1 = lonlat_to_working(result["lon"].to_numpy(), result["lat"].to_numpy())
    recorded = (result["match"] == "intersection") & (result["flag"] == "")
    assert recorded.mean() > 0.6
    assert np.median(np.hypot(x1 - x0, y1 - y0)[recorded.to_numpy()]) < 20


@pytest.fixture(scope="module")
def southie() -> OfflineGeocoder:
    """Numbered streets 100 m apart (E First ... E Eighth St), Centre St, South St and
    Hancock St in 02127, numbers 2-40 along x; Centre St crosses South St (a record)."""
    rows = []
    ordinals = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth"]
    streets = [f"E {o} St" for o in ordinals] + ["Centre St", "South St", "Hancock St"]
    for k, street in enumerate(streets):
        for n in range(2, 42, 2):
            rows.append(_row(str(n), street, "South Boston", "02127", X0 + 5 * n, Y0 + 100 * k))
    lon, lat = _point(X0 + 100, Y0 + 850)
    crossing = {"street_a": "Centre St", "street_b": "South St", "city": "South Boston"}
    crossings = pd.DataFrame([{**crossing, "postcode": "", "lon": lon, "lat": lat}])
    return OfflineGeocoder(AddressIndex.from_frames(pd.DataFrame(rows), crossings))


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("12 E Fith St, South Boston, MA 02127", 4),  # a typo in a spelled-out ordinal
        ("12 east fourh street 02127", 3),
        ("12 W Eigth St South Boston", 7),  # and a wrong direction word
        ("12 Cenre St 02127", 8),  # Centre as the city writes it (its key says CTR)
        ("12 Sotuh St 02127", 9),  # South (its key says S)
    ],
)
def test_typos_in_ordinals_and_shortened_words_find_their_street(
    southie: OfflineGeocoder, text: str, row: int
) -> None:
    result = southie.geocode_one(text)
    assert result.match == "fuzzy", result
    assert math.hypot(result.x - (X0 + 60), result.y - (Y0 + 100 * row)) < 15, result


def test_a_name_read_loosely_is_placed_but_flagged_for_review(southie: OfflineGeocoder) -> None:
    result = southie.geocode_one("12 Ahnocck St")  # two letters swapped twice, no ZIP
    assert math.hypot(result.x - (X0 + 60), result.y - (Y0 + 1000)) < 15, result
    assert result.flag == "low_confidence"
    assert "read loosely as Hancock St" in result.note
    assert southie.geocode_one("12 Qxzvbn St 02127").match == "none"


def test_intersection_names_with_typos_are_confirmed_by_the_crossing_record(
    southie: OfflineGeocoder,
) -> None:
    result = southie.geocode_one("Centre Stfet & Sotuh St, South Boston")
    assert (result.match, result.flag) == ("intersection", "")
    assert math.hypot(result.x - (X0 + 100), result.y - (Y0 + 850)) < 1


def test_a_loose_reading_cannot_be_stricter_than_a_fuzzy_one() -> None:
    with pytest.raises(InputError, match="fuzzy_loose_similarity must not exceed"):
        GeocodeParams(fuzzy_min_similarity=0.7, fuzzy_loose_similarity=0.8)


def test_an_interpolation_across_a_wide_gap_needs_a_place_to_confirm_it(
    tiny: OfflineGeocoder,
) -> None:
    bare = tiny.geocode_one("20 Ash St")
    assert bare.match == "interpolated"
    assert bare.score == tiny.params.unconfirmed_score
    assert (bare.flag, "no ZIP or neighbourhood given confirms it" in bare.note) == (
        "low_confidence",
        True,
    )
    confirmed = tiny.geocode_one("20 Ash St 02131")
    assert (confirmed.match, confirmed.flag) == ("interpolated", ""), confirmed
    assert math.hypot(confirmed.x - (X0 + 100), confirmed.y - (Y0 + 600)) < 1
    tight = tiny.geocode_one("22 Oak Ave")  # a known number needs no confirming
    assert (tight.match, tight.flag) == ("exact", "")


def test_a_zip_the_city_does_not_have_is_named_and_flagged(tiny: OfflineGeocoder) -> None:
    result = tiny.geocode_one("7 Birch Ter 02999")
    assert result.flag == "low_confidence"
    assert "ZIP 02999 is not a ZIP of the service area" in result.note
