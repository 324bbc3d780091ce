"""Abuse limits: per-address rate limits, a failed-sign-in throttle before any crew lockout,
one refusal message for every sign-in failure, photos kept only for accepted updates."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from geodispatch.api import create_app
from geodispatch.config import Settings
from geodispatch.domain.errors import TooManyAttemptsError
from geodispatch.io.photos import prepare_photo
from geodispatch.services import field
from tests.workflow.workflow_helpers import import_and_group, item, make_routes, pin_of

V2 = "/open311/v2"


def sign_in(client: TestClient, code: str, pin: str, source: str = "198.51.100.7") -> object:
    return client.post(
        "/crew/login", data={"code": code, "pin": pin}, headers={"X-Forwarded-For": source}
    )


def proxied(settings: Settings, **limits: str) -> TestClient:
    """The API behind a trusted proxy (the test client), so each test names its addresses."""
    config = settings.model_copy(update={"trusted_proxies": "testclient", **limits})
    return TestClient(create_app(config))


def test_unknown_code_wrong_pin_and_locked_crew_all_read_the_same(settings: Settings) -> None:
    make_routes(settings, crews=2, stops_per_crew=1)
    client = proxied(settings)
    answers = [
        sign_in(client, "C01", "97531"),
        sign_in(client, "NO-SUCH-CREW", "97531", source="198.51.100.8"),
    ]
    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].json() == answers[1].json() == {"detail": field.REFUSED}
    assert "C01" not in field.REFUSED


def test_one_address_is_throttled_long_before_it_could_lock_a_crew_out(
    settings: Settings,
) -> None:
    make_routes(settings, crews=1, stops_per_crew=1)
    client = proxied(settings, rate_limit_sign_ins="1000/minute")
    statuses = [sign_in(client, "C01", "97531").status_code for _ in range(30)]
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}
    throttled = sign_in(client, "C01", pin_of(0))
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 60
    assert "too many failed sign-ins from this device or network" in throttled.json()["detail"]
    # the crew itself signs in from its own phone: the stranger locked nobody out
    assert sign_in(client, "C01", pin_of(0), source="203.0.113.5").status_code == 200


def test_a_sign_in_flood_from_one_address_is_cut_off_by_the_rate_limit(
    settings: Settings,
) -> None:
    make_routes(settings, crews=1, stops_per_crew=1)
    client = proxied(settings, rate_limit_sign_ins="3/minute")
    good = [sign_in(client, "C01", pin_of(0)).status_code for _ in range(5)]
    assert good == [200, 200, 200, 429, 429]
    limited = sign_in(client, "C01", pin_of(0))
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert "too many requests from your address" in limited.json()["detail"]
    assert sign_in(client, "C01", pin_of(0), source="203.0.113.5").status_code == 200


def test_posts_are_rate_limited_per_address_and_a_forged_forwarded_for_is_ignored(
    settings: Settings,
) -> None:
    import_and_group(settings, [item("a")])
    config = settings.model_copy(update={"rate_limit_posts": "2/minute"})
    client = TestClient(create_app(config))  # no trusted proxy: the header means nothing
    report = {"api_key": "geodispatch-demo", "service_code": "pothole"}
    statuses = [
        client.post(
            f"{V2}/requests.xml",
            data=report | {"lat": f"42.3{i}", "long": "-71.07"},
            headers={"X-Forwarded-For": f"10.9.9.{i}"},
        ).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 429, 429]
    refused = client.post(f"{V2}/requests.xml", data=report | {"lat": "42.35", "long": "-71.07"})
    assert refused.headers["content-type"].startswith("text/xml")
    assert b"<code>429</code>" in refused.content
    assert client.get(f"{V2}/requests.json").status_code == 200  # reading is not limited


def test_the_app_sign_in_goes_through_the_same_throttle(settings: Settings) -> None:
    make_routes(settings, crews=1, stops_per_crew=1)
    for _ in range(5):
        with pytest.raises(PermissionError):
            field.login("C01", "97531", source="app:192.0.2.1", settings=settings)
    with pytest.raises(TooManyAttemptsError):
        field.login("C01", pin_of(0), source="app:192.0.2.1", settings=settings)
    token, _expires, crew = field.login("C01", pin_of(0), source="app:192.0.2.2", settings=settings)
    assert crew.code == "C01"
    assert token


def png(size: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((size, size), 80).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def stored_photos(home: Path) -> list[Path]:
    return sorted((home / "photos").glob("*")) if (home / "photos").exists() else []


def test_refused_updates_leave_no_photo_on_disk(client: TestClient, settings: Settings) -> None:
    routes = make_routes(settings, crews=1, stops_per_crew=1)
    stop_id = routes["C01"][0][0]
    auth = ("C01", pin_of(0))
    attempts = [
        {"outcome": "unable", "version": "1"},  # "unable" needs a note
        {"outcome": "done", "version": "7"},  # stale version
        {"outcome": "fly", "version": "1"},  # no such outcome
        {"outcome": "arrive", "version": "1", "lat": "95", "long": "-71"},  # not on Earth
    ]
    for form in attempts:
        answer = client.post(
            f"/crew/stops/{stop_id}/updates",
            data=form,
            files={"photo": ("p.png", png(), "image/png")},
            auth=auth,
        )
        assert 400 <= answer.status_code < 500, (form, answer.text)
    assert stored_photos(settings.home) == []
    accepted = client.post(
        f"/crew/stops/{stop_id}/updates",
        data={"outcome": "arrive", "version": "1"},
        files={"photo": ("p.png", png(), "image/png")},
        auth=auth,
    )
    assert accepted.status_code == 200, accepted.text
    assert [p.name for p in stored_photos(settings.home)] == [
        accepted.json()["photo_ref"].split("/")[1]
    ]


def test_a_crew_over_its_daily_photo_quota_is_told_so_and_nothing_is_stored(
    settings: Settings,
) -> None:
    routes = make_routes(settings, crews=1, stops_per_crew=2)
    picture = png(128)
    stored_size = len(prepare_photo(picture).data)  # what one photo takes on disk
    config = settings.model_copy(update={"photo_daily_quota_bytes": stored_size * 3 // 2})
    client = TestClient(create_app(config))
    auth = ("C01", pin_of(0))
    first, second = (stop for stop, _job in routes["C01"])
    ok = client.post(
        f"/crew/stops/{first}/updates",
        data={"outcome": "arrive", "version": "1"},
        files={"photo": ("p.png", picture, "image/png")},
        auth=auth,
    )
    assert ok.status_code == 200, ok.text
    over = client.post(
        f"/crew/stops/{second}/updates",
        data={"outcome": "arrive", "version": "1"},
        files={"photo": ("p.png", picture, "image/png")},
        auth=auth,
    )
    assert over.status_code == 429, over.text
    assert "daily quota" in over.json()["detail"]
    assert "without the photo" in over.json()["detail"]
    assert int(over.headers["Retry-After"]) > 0
    assert len(stored_photos(settings.home)) == 1
    without = client.post(
        f"/crew/stops/{second}/updates", data={"outcome": "arrive", "version": "1"}, auth=auth
    )
    assert without.status_code == 200, without.text
