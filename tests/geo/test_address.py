"""The address tokenizer: real Boston text forms and messy variants."""

from __future__ import annotations

import pytest

from geodispatch.geo.address import AddressParser, normalize_zip, split_suffix, street_key

PARSER = AddressParser(["Roslindale", "Mattapan", "South Boston", "Hyde Park", "Boston"])


@pytest.mark.parametrize(
    ("text", "kind", "number", "suffix", "street", "locality", "zipcode", "unit"),
    [
        (
            "39 Lorraine St  Roslindale  MA  02131",
            "address",
            39,
            "",
            "LORRAINE ST",
            "ROSLINDALE",
            "02131",
            "",
        ),
        (
            "31-33 Rosaria St  Roslindale  MA  02131",
            "address",
            31,
            "",
            "ROSARIA ST",
            "ROSLINDALE",
            "02131",
            "",
        ),
        ("644R Dudley st", "address", 644, "R", "DUDLEY ST", "", "", ""),
        ("39 lorain street", "address", 39, "", "LORAIN ST", "", "", ""),
        (
            "39 Lorraine Street Apt 3 Roslindale MA 2131",
            "address",
            39,
            "",
            "LORRAINE ST",
            "ROSLINDALE",
            "02131",
            "3",
        ),
        (
            "39 Lorraine St, #2R, Boston, MA 02131.0",
            "address",
            39,
            "",
            "LORRAINE ST",
            "BOSTON",
            "02131",
            "2R",
        ),
        ("Norway Maple (83 Lewiston St)", "address", 83, "", "LEWISTON ST", "", "", ""),
        (
            "11hf Acadia St  South Boston  MA  02127",
            "address",
            11,
            "HF",
            "ACADIA ST",
            "S BOSTON",
            "02127",
            "",
        ),
        ("760 East Fifth Street South Boston", "address", 760, "", "E 5TH ST", "S BOSTON", "", ""),
        ("10 Blake Street Hyde Park", "address", 10, "", "BLAKE ST", "HYDE PARK", "", ""),
        (
            "Apt 3, 39 Lorraine St, Roslindale",
            "address",
            39,
            "",
            "LORRAINE ST",
            "ROSLINDALE",
            "",
            "3",
        ),
        ("Boylston St Boston MA", "street", None, "", "BOYLSTON ST", "BOSTON", "", ""),
        (
            "0 Clay St  Hyde Park  MA  02136",
            "street",
            None,
            "",
            "CLAY ST",
            "HYDE PARK",
            "02136",
            "",
        ),
    ],
)
def test_house_number_addresses_split_into_their_parts(
    text: str,
    kind: str,
    number: int | None,
    suffix: str,
    street: str,
    locality: str,
    zipcode: str,
    unit: str,
) -> None:
    parsed = PARSER.parse(text)
    assert (parsed.kind, parsed.number, parsed.number_suffix, parsed.street) == (
        kind,
        number,
        suffix,
        street,
    )
    assert (parsed.locality, parsed.zipcode, parsed.unit) == (locality, zipcode, unit)


@pytest.mark.parametrize(
    "text",
    [
        "INTERSECTION of Groveland St & River St  Mattapan  MA  ",
        "groveland st and river st mattapan",
        "Groveland Street / River Street",
        "corner of Groveland St at River St",
        "INTERSECTION of Groveland St &amp; River St  Mattapan  MA  ",
    ],
)
def test_intersections_in_every_spelling_give_the_two_street_keys(text: str) -> None:
    parsed = PARSER.parse(text)
    assert parsed.kind == "intersection"
    assert {parsed.street, parsed.street2} == {"GROVELAND ST", "RIVER ST"}


def test_blank_text_is_empty_not_an_error() -> None:
    assert PARSER.parse("   ").kind == "empty"


def test_street_keys_agree_however_the_name_is_written() -> None:
    assert street_key("E. Fifth Street") == street_key("east 5th st") == "E 5TH ST"
    assert street_key("Saint James Avenue") == street_key("St James Ave")
    assert split_suffix("COMMONWEALTH AVE W") == ("COMMONWEALTH", "AVE W")
    assert split_suffix("BROADWAY") == ("BROADWAY", "")


@pytest.mark.parametrize(
    ("raw", "expected"), [("2131.0", "02131"), ("02131", "02131"), ("2131", "02131"), ("x", "")]
)
def test_zip_codes_get_their_leading_zero_back(raw: str, expected: str) -> None:
    assert normalize_zip(raw) == expected


@pytest.mark.parametrize(
    ("text", "number", "street", "unit", "qualifier", "ignored"),
    [
        ("12 Lorraine St (near the school)", 12, "LORRAINE ST", "", "", "NEAR THE SCHOOL"),
        ("in front of 12 Elm St", 12, "ELM ST", "", "IN FRONT OF", ""),
        ("12 Elm St across from the park", 12, "ELM ST", "", "", "ACROSS FROM THE PARK"),
        ("43Mount Vernon St", 43, "MT VERNON ST", "", "", ""),
        ("Apt 3, 9-15 Orleans St", 9, "ORLEANS ST", "3", "", ""),
        ("#4 12 Elm St", 12, "ELM ST", "4", "", ""),
        ("Norway Maple (83 Lewiston St)", 83, "LEWISTON ST", "", "", ""),
    ],
)
def test_free_text_around_an_address_is_taken_off_and_kept(
    text: str, number: int, street: str, unit: str, qualifier: str, ignored: str
) -> None:
    parsed = AddressParser().parse(text)
    assert (parsed.kind, parsed.number, parsed.street) == ("address", number, street)
    assert (parsed.unit, parsed.qualifier, parsed.ignored) == (unit, qualifier, ignored)


def test_a_spaced_letter_range_reads_as_one_number() -> None:
    parsed = AddressParser().parse("190 A-192  Sydney St  Dorchester  MA  02125")
    assert (parsed.number, parsed.number_suffix, parsed.number_high) == (190, "A", 192)
    assert parsed.street == "SYDNEY ST"


def test_landmark_names_and_local_place_names_are_recognised() -> None:
    parser = AddressParser(["Jamaica Plain", "JP"], ["City Hall", "JFK/UMass Station"])
    assert parser.parse("near City Hall").kind == "landmark"
    assert parser.parse("JFK/UMass Station").street == "JFK/UMASS STA"
    assert parser.parse("12 Centre St JP").locality == "JP"
