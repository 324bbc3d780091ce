"""Open311 fixes of issue 18: safe headers, XML errors on .xml URLs, discovery from settings,
paged servicerequestupdates, media_url kept or refused."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from geodispatch.api import create_app
from geodispatch.config import Settings
from geodispatch.services import workflow
from tests.workflow.workflow_helpers import import_and_group, item, job_of

V2 = "/open311/v2"
KEY = {"api_key": "geodispatch-demo"}


def test_every_answer_carries_the_security_headers_and_no_server_banner(
    client: TestClient,
) -> None:
    for answer in (
        client.get(f"{V2}/services.json"),
        client.get(f"{V2}/requests.xml", params={"page": "0"}),
        client.get("/nowhere"),
        client.post("/crew/login", data={"code": "x", "pin": "1"}),
    ):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        csp = answer.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "server" not in answer.headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", f"{V2}/nothing.xml", 404),
        ("GET", "/nothing.xml", 404),
        ("DELETE", f"{V2}/requests.xml", 405),
        ("PUT", f"{V2}/services.xml", 405),
    ],
)
def test_errors_on_xml_urls_answer_xml_in_the_specs_shape(
    client: TestClient, method: str, path: str, status: int
) -> None:
    answer = client.request(method, path)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/xml")
    error = ET.fromstring(answer.content).find("error")
    assert error is not None
    assert error.findtext("code") == str(status)
    if status == 405:
        assert "GET" in answer.headers["allow"] or "POST" in answer.headers["allow"]


def test_json_urls_still_answer_json(client: TestClient) -> None:
    answer = client.get(f"{V2}/nothing.json")
    assert answer.status_code == 404
    assert answer.json() == [{"code": 404, "description": "Not Found"}]


def test_discovery_names_the_configured_address_never_the_host_header(settings: Settings) -> None:
    config = settings.model_copy(update={"public_base_url": "https://311.city.example/api/"})
    client = TestClient(create_app(config))
    answer = client.get(f"{V2}/discovery.json", headers={"Host": "evil.example"})
    url = answer.json()["endpoints"][0]["url"]
    assert url == "https://311.city.example/api/open311/v2"
    assert "evil" not in answer.text


def test_servicerequestupdates_pages_instead_of_stopping_silently(
    client: TestClient, settings: Settings
) -> None:
    ids = import_and_group(settings, [item(f"u{i}", lat=42.30 + i * 0.002) for i in range(5)])
    for request_id in ids.values():
        job = workflow.get_job(job_of(settings, request_id), settings=settings)
        workflow.transition_job(
            job.id, "reviewed", expected_version=job.version, actor="test", settings=settings
        )
    now = datetime.now(UTC)
    window = {
        "start_date": (now - timedelta(hours=1)).isoformat(),
        "end_date": (now + timedelta(hours=1)).isoformat(),
    }
    first = client.get(f"{V2}/servicerequestupdates.json", params=window | {"page_size": "3"})
    assert first.status_code == 200, first.text
    total = int(first.headers["X-Total-Count"])
    assert total >= 5
    assert len(first.json()) == 3
    assert first.headers["X-More-Pages"] == "true"
    link = first.headers["Link"]
    assert link.endswith('rel="next"')
    assert "page=2" in link
    assert "page_size=3" in link
    seen = [u["update_id"] for u in first.json()]
    page = 2
    while True:
        more = client.get(
            f"{V2}/servicerequestupdates.json",
            params=window | {"page_size": "3", "page": str(page)},
        )
        seen += [u["update_id"] for u in more.json()]
        if "X-More-Pages" not in more.headers:
            break
        page += 1
    assert len(seen) == len(set(seen)) == total


def test_media_url_is_stored_and_returned_or_refused_clearly(
    client: TestClient, settings: Settings
) -> None:
    import_and_group(settings, [item("a")])
    report = KEY | {"service_code": "pothole", "lat": "42.34", "long": "-71.07"}
    link = "https://photos.example.org/pothole%201.jpg?size=large"
    created = client.post(f"{V2}/requests.json", data=report | {"media_url": link})
    assert created.status_code == 200, created.text
    new_id = created.json()[0]["service_request_id"]
    shown = client.get(f"{V2}/requests/{new_id}.json").json()[0]
    assert shown["media_url"] == link
    xml = ET.fromstring(client.get(f"{V2}/requests/{new_id}.xml").content)
    assert xml.findtext("request/media_url") == link
    for bad, says in [
        ("javascript:alert(1)", "is not an http(s) link"),
        ("file:///etc/passwd", "is not an http(s) link"),
        ("https://", "is not an http(s) link"),
        ("https://a.example/" + "x" * 2100, "at most 2,000"),
    ]:
        refused = client.post(f"{V2}/requests.json", data=report | {"media_url": bad})
        assert refused.status_code == 400, bad
        assert says in refused.json()[0]["description"]
