"""Oversized request bodies are refused with 413 and a clear message, before being read."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from geodispatch.api import create_app
from geodispatch.api.limits import FORM_LIMIT
from geodispatch.config import Settings
from tests.workflow.workflow_helpers import (
    import_and_group,
    item,
    make_routes,
    make_settings,
    pin_of,
)

V2 = "/open311/v2"
KEY = {"api_key": "geodispatch-demo"}
PHOTO_MAX = 200_000


def small_photo_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, photo_max_bytes=PHOTO_MAX)


def test_an_open311_post_over_the_form_limit_is_refused_in_the_spec_format(
    tmp_path: Path,
) -> None:
    settings = small_photo_settings(tmp_path)
    import_and_group(settings, [item("a")])
    client = TestClient(create_app(settings))
    huge = {
        "service_code": "pothole",
        "lat": "42.33",
        "long": "-71.06",
        "description": "x" * 100_000,
    }
    answer = client.post(f"{V2}/requests.json", data=KEY | huge)
    assert answer.status_code == 413
    (error,) = answer.json()
    assert error["code"] == 413
    assert error["description"].startswith("the request body is 100 kB; this endpoint takes")
    assert "shorten the text" in error["description"]
    xml = client.post(f"{V2}/requests.xml", data=KEY | huge)
    assert ET.fromstring(xml.content).findtext("error/code") == "413"
    assert len(client.get(f"{V2}/requests.json").json()) == 1  # nothing was stored


def test_a_crew_photo_over_the_limit_is_refused_and_the_stop_is_unchanged(
    tmp_path: Path,
) -> None:
    settings = small_photo_settings(tmp_path)
    routes = make_routes(settings, crews=1, stops_per_crew=1)
    stop_id = routes["C01"][0][0]
    client = TestClient(create_app(settings))
    login = client.post("/crew/login", data={"code": "C01", "pin": pin_of(0)}).json()
    auth = {"Authorization": f"Bearer {login['token']}"}
    answer = client.post(
        f"/crew/stops/{stop_id}/updates",
        data={"outcome": "done", "version": "1"},
        files={"photo": ("big.jpg", b"\xff" * (PHOTO_MAX + 100_000), "image/jpeg")},
        headers=auth,
    )
    assert answer.status_code == 413
    assert "a photo of at most 200 kB" in answer.json()["detail"]
    assert "send a smaller photo" in answer.json()["detail"]
    route = client.get("/crew/route", params={"date": "2025-01-10"}, headers=auth).json()
    assert (route["stops"][0]["status"], route["stops"][0]["version"]) == ("planned", 1)
    big_login = client.post("/crew/login", data={"code": "C01", "pin": "1" * 70_000})
    assert big_login.status_code == 413  # only the update route takes a photo-sized body


def test_a_body_without_a_length_is_cut_off_once_it_passes_the_limit(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def endless() -> dict[str, Any]:  # a client streaming 16 kB chunks forever
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"a=" + b"x" * 16_000, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"{V2}/requests.json",
        "raw_path": f"{V2}/requests.json".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, endless, send))
    assert sent[0]["status"] == 413
    assert pulled == FORM_LIMIT // 16_002 + 1  # read up to the limit, not a byte further
    assert b"passed 66 kB" in sent[1]["body"]
