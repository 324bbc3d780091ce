"""The closure-note classifier on real Boston notes and on a city's own rules file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import RequestStatus
from geodispatch.intake import city_export
from geodispatch.intake.closure_notes import ClosureClass, ClosureRules, classify, classify_note

LABELLED = Path(__file__).resolve().parents[1] / "data" / "boston_closure_notes_labelled.csv"


@pytest.fixture(scope="module")
def rules() -> ClosureRules:
    return ClosureRules.load()


@pytest.fixture(scope="module")
def sample(rules: ClosureRules) -> pd.DataFrame:
    frame = pd.read_csv(LABELLED, dtype=str, keep_default_na=False)
    return frame.assign(predicted=classify(frame["note"], rules))


def test_the_labelled_sample_holds_at_least_300_real_notes_with_known_labels(sample) -> None:
    assert len(sample) >= 300
    assert sample["case_enquiry_id"].is_unique
    assert set(sample["label"]) <= {c.value for c in ClosureClass}
    assert (sample["stratum"].str.startswith("heldout")).sum() >= 100


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        ("Case Closed Case Resolved not at location 9/20.", ClosureClass.NOT_AT_LOCATION),
        ("Case Closed Case Resolved Vehicle gone.", ClosureClass.GONE),
        ("Case Closed NOVIO: No Violation Found/No Cause", ClosureClass.NOT_FOUND),
        ("Case Closed Case Noted nothing out at this location.", ClosureClass.NOT_FOUND),
        ("Case Closed Case Resolved EVERYTHING ALREADY PICKED UP PB", ClosureClass.ALREADY_FIXED),
        ("Case Closed TFA: Tenant Failed Apt\\Was Not Home", ClosureClass.NO_ACCESS),
        ("Case Closed Duplicate of Existing Case CRM # 343677", ClosureClass.DUPLICATE),
        (
            "Case Closed Case Resolved case exists already; please follow case #287359",
            ClosureClass.DUPLICATE,
        ),
        ("Case Closed ROA: Refer to Other Agency/Division", ClosureClass.NOT_CITY),
        (
            "Case Closed Case Noted Private tree hanging over private property.",
            ClosureClass.NOT_CITY,
        ),
        ("Case Closed Case Invalid Opened in error.", ClosureClass.INVALID),
        ("Case Closed Case Noted", ClosureClass.NOTED),
        ("Case Closed Case Resolved replaced lamp", ClosureClass.COMPLETED),
        ("Case Closed Case Noted cart delivered 8/25/2011 serial #58331", ClosureClass.COMPLETED),
        ("Case Closed Case Resolved", ClosureClass.COMPLETED),
    ],
)
def test_real_boston_notes_read_as_what_they_say(rules, note, expected) -> None:
    assert classify_note(note, rules) is expected


def test_precision_by_outcome_on_the_labelled_notes_is_at_least_0_85(sample) -> None:
    to_status = {c.value: c.status for c in ClosureClass}
    truth = sample["label"].map(to_status)
    said = sample["predicted"].map(to_status)
    for status in (RequestStatus.COMPLETED, RequestStatus.CLOSED_NO_ACTION):
        chosen = said == status
        assert (truth[chosen] == status).mean() >= 0.85, status
    no_work = said != RequestStatus.COMPLETED
    assert (truth[no_work] != RequestStatus.COMPLETED).mean() >= 0.95


def test_abandoned_vehicle_notes_saying_not_at_location_are_all_caught(sample) -> None:
    vehicles = sample[sample["stratum"] == "abandoned_vehicles"]
    labelled = vehicles[vehicles["label"] == ClosureClass.NOT_AT_LOCATION.value]
    assert len(labelled) >= 20
    assert (labelled["predicted"] == ClosureClass.NOT_AT_LOCATION.value).all()


def test_the_city_export_stores_the_note_s_outcome_as_the_status() -> None:
    raw = pd.DataFrame(
        {
            "status": ["Closed", "Closed", "Closed", "Open"],
            "closed": ["2011-09-20 10:00:00"] * 3 + [""],
            "closure_note": [
                "Case Closed Case Resolved not at location 9/20.",
                "Case Closed Duplicate of Existing Case 101000349272",
                "Case Closed Case Resolved Lamp replaced",
                "",
            ],
        }
    )
    assert list(city_export.boston_status(raw)) == [
        "closed_no_action",
        "closed_duplicate",
        "completed",
        "new",
    ]


def test_a_city_s_own_rules_file_replaces_boston_s(tmp_path: Path) -> None:
    path = tmp_path / "calgary.toml"
    path.write_text(
        'name = "calgary"\n[[rule]]\nclass = "gone"\npattern = "GOA on arrival"\n',
        encoding="utf-8",
    )
    rules = ClosureRules.load(path)
    assert rules.name == "calgary"
    assert classify_note("Closed - GOA on arrival", rules) is ClosureClass.GONE
    assert classify_note("Case Resolved not at location", rules) is ClosureClass.COMPLETED


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[rule]]\nclass = "fixed"\npattern = "x"\n', "rule 1: class 'fixed' is not one of"),
        ('[[rule]]\nclass = "gone"\npattern = "(unclosed"\n', "rule 1: pattern '(unclosed'"),
        ('name = "x"\n', "no [[rule]] entries"),
        ("[[rule]\n", "not valid TOML"),
    ],
)
def test_a_bad_rules_file_names_the_rule_and_the_fix(text, message) -> None:
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("(", r"\(")):
        ClosureRules.from_toml(text, origin="city.toml")


def test_a_missing_rules_file_says_which_setting_to_change(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="GEODISPATCH_CLOSURE_RULES"):
        ClosureRules.load(tmp_path / "nowhere.toml")
