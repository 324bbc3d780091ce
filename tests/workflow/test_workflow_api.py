"""Open311 GeoReport v2 and crew endpoints through HTTP, against the spec's draft schemas."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from PIL import Image

from geodispatch.api import create_app
from geodispatch.config import Settings
from geodispatch.domain.requests import RequestStatus as S
from geodispatch.services import field, workflow
from tests.workflow.workflow_helpers import import_and_group, item, job_of, make_routes, pin_of

DRAFT_FILE = (
    Path(__file__).resolve().parents[1] / "data" / "open311" / "georeport_v2-1_draft_openapi.yaml"
)
V2 = "/open311/v2"
KEY = {"api_key": "geodispatch-demo"}


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def draft() -> dict[str, Any]:
    return yaml.safe_load(DRAFT_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def check(draft: dict[str, Any], definition: str, value: Any) -> None:
    """Validate ``value`` against one of the draft's definitions (date-times checked)."""
    schema = {"definitions": draft["definitions"], "$ref": f"#/definitions/{definition}"}
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(value)


def post(client: TestClient, fmt: str = "json", **form: str) -> Any:
    return client.post(f"{V2}/requests.{fmt}", data=KEY | form)


def test_every_open311_json_answer_validates_against_the_draft(
    client: TestClient, settings: Settings, draft: dict[str, Any]
) -> None:
    import_and_group(settings, [item("a"), item("b", lat=42.33005), item("c", lat=42.34)])
    services = client.get(f"{V2}/services.json").json()
    assert {s["service_code"] for s in services} == {"pothole"}
    for service in services:
        check(draft, "Service", service)
    check(draft, "ServiceDefinition", client.get(f"{V2}/services/pothole.json").json())
    created = post(client, service_code="pothole", lat="42.3500", long="-71.0500").json()
    for answer in created:
        check(draft, "RequestResponse", answer)
    requests = client.get(f"{V2}/requests.json", params={"extensions": "true"}).json()
    assert len(requests) == 4
    for request in requests:
        check(draft, "Request", request)
    token = requests[0]["extended_attributes"]["source_id"]
    for answer in client.get(f"{V2}/tokens/{token}.json").json():
        check(draft, "TokenResponse", answer)
    one = client.get(f"{V2}/requests/{created[0]['service_request_id']}.json").json()
    check(draft, "Request", one[0])


def test_the_openapi_document_is_published_and_valid(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    validate(document)
    paths = set(document["paths"])
    assert {f"{V2}/requests.{{fmt}}", f"{V2}/discovery.{{fmt}}", "/crew/route"} <= paths


def test_post_needs_a_key_a_known_type_and_a_location(
    client: TestClient, settings: Settings
) -> None:
    import_and_group(settings, [item("a")])
    denied = client.post(f"{V2}/requests.json", data={"service_code": "pothole", "lat": "42.3"})
    assert denied.status_code == 403
    assert denied.json()[0]["code"] == 403
    unknown = post(client, service_code="moon-landing", lat="42.3", long="-71.0")
    assert unknown.status_code == 404
    nowhere = post(client, "xml", service_code="pothole")
    assert nowhere.status_code == 400
    error = ET.fromstring(nowhere.content).find("error")
    assert error is not None
    assert error.findtext("code") == "400"
    assert "give a location" in (error.findtext("description") or "")
    off_planet = post(client, service_code="pothole", lat="142", long="-71")
    assert off_planet.status_code == 400


def test_a_refused_post_names_the_argument_its_value_the_problem_and_the_fix(
    client: TestClient, settings: Settings
) -> None:
    import_and_group(settings, [item("a")])
    long_address = post(client, service_code="pothole", address_string="9 Elm St " * 70)
    assert long_address.status_code == 400
    (error,) = long_address.json()
    assert error["description"].startswith("the request was not accepted: address_string '9 Elm")
    assert "629 characters long; at most 500" in error["description"]  # stripped
    assert "(shorten the address to 500 characters or fewer)" in error["description"]
    control = post(
        client, "xml", service_code="pothole", lat="42.3", long="-71.06", description="a\x01b"
    )
    text = ET.fromstring(control.content).findtext("error/description") or ""
    assert text.startswith("the request was not accepted: description 'a\\x01b': ")
    assert "control characters" in text
    typo = post(client, service_code="pothole", lat="42.3", long="-71,06")
    assert "e.g. lat=42.3601 and long=-71.0589" in typo.json()[0]["description"]


def test_a_posted_report_near_an_open_job_joins_it_and_says_so(
    client: TestClient, settings: Settings
) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    ids = import_and_group(settings, [item("a", created=yesterday)])
    answer = post(
        client,
        service_code="pothole",
        lat="42.33003",
        long="-71.0600",
        description="<b>deep</b> & wide",
    ).json()[0]
    new_id = int(answer["service_request_id"])
    assert job_of(settings, new_id) == job_of(settings, ids["a"])
    shown = client.get(f"{V2}/requests/{new_id}.json").json()[0]
    assert shown["status"] == "open"
    assert "(2 reports of this problem)" in shown["status_notes"]
    xml = client.get(f"{V2}/requests/{new_id}.xml")
    assert xml.headers["content-type"].startswith("text/xml")
    assert b"&lt;b&gt;deep&lt;/b&gt; &amp; wide" in xml.content  # escaped, not markup
    parsed = ET.fromstring(xml.content)
    assert parsed.tag == "service_requests"
    assert parsed.findtext("request/description") == "<b>deep</b> & wide"


def test_status_notes_and_expected_datetime_follow_the_workflow(
    client: TestClient, settings: Settings
) -> None:
    ids = import_and_group(settings, [item("a", expected_datetime="2025-01-08T09:00:00-05:00")])
    job_id = job_of(settings, ids["a"])
    shown = client.get(f"{V2}/requests/{ids['a']}.json").json()[0]
    assert shown["expected_datetime"] == "2025-01-08T09:00:00-05:00"
    assert shown["status_notes"] == "New"
    workflow.transition_job(
        job_id,
        S.CLOSED_NOT_CITY,
        expected_version=1,
        actor="dispatch:ana",
        note="State highway: Bob at MassDOT (617-555-0100) takes it",
        public_note="Passed to MassDOT, who maintain this road.",
        settings=settings,
    )
    answer = client.get(f"{V2}/requests/{ids['a']}.json", params={"extensions": "true"})
    shown = answer.json()[0]
    assert shown["status"] == "closed"
    assert shown["status_notes"] == (
        "Closed: not the city's responsibility: Passed to MassDOT, who maintain this road."
    )
    assert shown["extended_attributes"]["status"] == "NOT_COUNCILS_RESPONSIBILITY"
    assert [n["description"] for n in shown["notes"]][-2:] == [
        "Closed: this is not the city's responsibility.",
        "Passed to MassDOT, who maintain this road.",
    ]
    assert "555-0100" not in answer.text  # the dispatcher's internal note stays internal
    updates = client.get(
        f"{V2}/servicerequestupdates.json",
        params={"start_date": "2000-01-01T00:00:00Z", "end_date": "2000-03-01T00:00:00Z"},
    )
    assert updates.json() == []
    recent = client.get(f"{V2}/servicerequestupdates.json")
    assert recent.json()[-1]["external_status_code"] == "NOT_COUNCILS_RESPONSIBILITY"
    assert recent.json()[-1]["description"] == "Closed: this is not the city's responsibility."
    assert "555-0100" not in recent.text


def test_a_crews_note_never_reaches_the_public_only_a_neutral_sentence_does(
    client: TestClient, settings: Settings
) -> None:
    routes = make_routes(settings, crews=1, stops_per_crew=1)
    stop_id, job_id = routes["C01"][0]
    crew = field.authenticate("C01", pin_of(0), settings=settings)
    private = "owner Mrs Smith at 12 Elm St (617-555-0199) let the dog out; come back"
    field.record_update(
        crew, stop_id, "unable", expected_version=1, note=private, settings=settings
    )
    (request_id,) = workflow.job_requests(job_id, settings=settings)
    assert private in {e.note for e in workflow.job_history(job_id, settings=settings)}  # staff
    answers = [
        client.get(f"{V2}/requests/{request_id}.json", params={"extensions": "true"}),
        client.get(f"{V2}/requests/{request_id}.xml", params={"extensions": "true"}),
        client.get(f"{V2}/requests.json", params={"extensions": "true"}),
        client.get(f"{V2}/servicerequestupdates.json"),
    ]
    for answer in answers:
        assert answer.status_code == 200
        assert "Smith" not in answer.text
        assert "555-0199" not in answer.text
    shown = answers[0].json()[0]
    assert shown["status_notes"] == "Reviewed"
    assert "The crew could not finish the work on this visit; it will be scheduled again." in [
        n["description"] for n in shown["notes"]
    ]


def test_requests_filter_page_and_refuse_bad_arguments(
    client: TestClient, settings: Settings
) -> None:
    ids = import_and_group(
        settings,
        [
            item(f"r{i}", lat=42.30 + i * 0.002, created=f"2025-01-0{i + 1}T09:00:00-05:00")
            for i in range(5)
        ],
    )
    workflow.transition_job(
        job_of(settings, ids["r0"]),
        S.CLOSED_NO_ACTION,
        expected_version=1,
        actor="d",
        note="fixed by the utility",
        settings=settings,
    )
    first = client.get(f"{V2}/requests.json", params={"page_size": "2"})
    assert first.headers["x-total-count"] == "5"
    assert [r["service_request_id"] for r in first.json()] == [str(ids["r4"]), str(ids["r3"])]
    third = client.get(f"{V2}/requests.json", params={"page_size": "2", "page": "3"}).json()
    assert [r["service_request_id"] for r in third] == [str(ids["r0"])]
    closed = client.get(f"{V2}/requests.json", params={"status": "closed"}).json()
    assert [r["service_request_id"] for r in closed] == [str(ids["r0"])]
    window = client.get(
        f"{V2}/requests.json",
        params={"start_date": "2025-01-02T00:00:00-05:00", "end_date": "2025-01-03T23:00:00-05:00"},
    ).json()
    assert len(window) == 2
    wanted = f"{ids['r1']},{ids['r2']}"
    picked = client.get(
        f"{V2}/requests.json", params={"service_request_id": wanted, "status": "closed"}
    ).json()  # the id list overrides every other argument
    assert sorted(r["service_request_id"] for r in picked) == sorted(wanted.split(","))
    empty_is_absent = client.get(f"{V2}/requests.json", params={"status": "", "page": ""})
    assert empty_is_absent.headers["x-total-count"] == "5"
    for bad in (
        {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"},
        {"status": "pending"},
        {"page_size": "5000"},
        {"start_date": "yesterday"},
        {"service_request_id": "12;DROP"},
    ):
        answer = client.get(f"{V2}/requests.json", params=bad)
        assert answer.status_code == 400, bad
        assert set(answer.json()[0]) == {"code", "description"}
    assert client.get(f"{V2}/requests/999999.json").status_code == 404
    assert client.get(f"{V2}/tokens/api-unknown.json").status_code == 404


def test_discovery_lists_both_formats(client: TestClient) -> None:
    doc = client.get(f"{V2}/discovery.json").json()
    assert doc["endpoints"][0]["formats"] == ["application/json", "text/xml"]
    assert doc["endpoints"][0]["url"].endswith("/open311/v2")
    root = ET.fromstring(client.get(f"{V2}/discovery.xml").content)
    assert [f.text for f in root.iter("format")] == ["application/json", "text/xml"]


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_crew_signs_in_reads_its_route_and_posts_done_with_a_photo(
    client: TestClient, settings: Settings
) -> None:
    routes = make_routes(settings, crews=2, stops_per_crew=1)
    assert client.post("/crew/login", data={"code": "C01", "pin": "0000"}).status_code == 401
    login = client.post("/crew/login", data={"code": "C01", "pin": pin_of(0)}).json()
    auth = {"Authorization": f"Bearer {login['token']}"}
    route = client.get("/crew/route", params={"date": "2025-01-10"}, headers=auth).json()
    stop = route["stops"][0]
    assert (route["crew"], stop["stop_id"], stop["version"]) == ("C01", routes["C01"][0][0], 1)
    done = client.post(
        f"/crew/stops/{stop['stop_id']}/updates",
        data={
            "outcome": "done",
            "version": "1",
            "note": "filled",
            "lat": str(stop["lat"]),
            "long": str(stop["long"]),
        },
        files={"photo": ("evil.php", photo(), "application/x-php")},
        headers=auth,
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["stop_status"], body["job_status"], body["flags"]) == ("done", "completed", [])
    assert body["photo_ref"].endswith(".png")  # our name and type, not the client's
    again = client.post(
        f"/crew/stops/{stop['stop_id']}/updates",
        data={"outcome": "done", "version": "1"},
        headers=auth,
    )
    assert again.status_code == 409
    assert "you had version 1" in again.json()["detail"]
    assert client.post("/crew/logout", headers=auth).status_code == 204
    assert client.get("/crew/route", headers=auth).status_code == 401


def test_a_crew_cannot_touch_another_crews_stop_or_act_without_signing_in(
    client: TestClient, settings: Settings
) -> None:
    routes = make_routes(settings, crews=2, stops_per_crew=1)
    other = routes["C02"][0][0]
    basic = ("C01", pin_of(0))
    answer = client.post(
        f"/crew/stops/{other}/updates", data={"outcome": "arrive", "version": "1"}, auth=basic
    )
    assert answer.status_code == 403
    assert client.get("/crew/route").status_code == 401
    wrong = client.get("/crew/route", auth=("C01", "975310"))
    assert wrong.status_code == 401
    assert client.get("/crew/route", headers={"Authorization": "Bearer nope"}).status_code == 401
