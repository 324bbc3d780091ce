"""User text is data, never code: a catalogue of payloads through every way in and out.

Each payload goes in the way a resident, a data file, a crew or a dispatcher would send
it: an Open311 POST (the API's own app through FastAPI's TestClient), a city export, a
mapped CSV, a crew's note on a stop, a dispatcher's note on a job and a catalogue edit.
Then every output that shows it is read: the three maps (hotspots, route plan, crew
phone), the route sheet, the CSV and GeoJSON exports, the Open311 answers. Each must show
the payload as typed: never evaluated (``{{7*7}}`` is not 49, the ``lipsum`` payload
that ran ``id`` on the server does not give ``uid=``), never markup, never a formula.

The data is one real SQLite database built once for the module.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from geodispatch.api import create_app
from geodispatch.cli import app as cli_app
from geodispatch.cli import common as cli_common
from geodispatch.config import Settings, get_settings
from geodispatch.intake.generic_csv import ColumnMapping
from geodispatch.services import api_keys, board, catalogue, dispatch, field, performance, workflow
from geodispatch.services import hotspots as hotspot_service
from geodispatch.services.intake import import_file, import_payload
from geodispatch.storage.db import session_scope
from geodispatch.storage.tables import CrewRow, PlanRow, RequestRow, StopRow
from geodispatch.ui.map_frame import shown_map_page
from tests.app.conftest import open_app
from tests.conftest import DATA, ROOT, write_csv
from tests.hotspots.conftest import CORNER_ADDRESS_REPORTS, city_with_busy_corner
from tests.intake.boston_rows import HEADER_2011, row
from tests.security.map_pages import map_texts, page_outside_text

#: (tag, payload): each is sent as "<tag> <payload>", so evaluation would show "<tag> 49".
PAYLOADS = (
    ("P01", "{{7*7}}"),
    ("P02", "{{lipsum.__globals__.os.popen(dict(id=1)|join).read()}}"),
    ("P03", "{% if 7 %}RAN{% endif %}"),
    ("P04", "${7*7}"),
    ("P05", "<%= 7*7 %>"),
    ("P06", "#{7*7}"),
    ("P07", "<script>window.__xss=7</script>"),
    ("P08", "<img src=x onerror=window.__xss=8>"),
    ("P09", '"><svg onload=window.__xss=9>'),
    ("P10", "=cmd|' /C calc'!A0"),
    ("P11", "+1+cmd|' /C calc'!A0"),
    ("P12", "@SUM(1+1)*cmd|' /C calc'!A0"),
    ("P13", "'; DROP TABLE requests;--"),
    ("P14", "`${window.__xss=14}`"),
    ("P15", "[bold]RICH[/bold] [link=https://example.invalid]x[/link] [/]"),
)
TAGGED = tuple(f"{tag} {payload}" for tag, payload in PAYLOADS)
#: What the payloads would turn into if anything evaluated them.
EVALUATED = (
    *(f"{tag} 49" for tag, _ in PAYLOADS),
    "P03 RAN",
    "P15 RICH",
    "uid=",
    "SSTIADDR 49",
)
#: Markup that must never appear outside the page's text data.
LIVE_MARKUP = ("<script>window.__xss", "<img src=x", "<svg onload", "onerror=window", "__xss=")
#: The finding of issue 18, as posted.
ISSUE_DESCRIPTION = "SSTIDESC {{lipsum.__globals__.os.popen(dict(id=1)|join).read()}}"
ISSUE_ADDRESS = "SSTIADDR {{7*7}}"
#: Whole-cell spreadsheet formulas (a CSV cell starting with one is run by Excel/Calc).
FORMULAS = ("=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0")
ALL_TEXT = " · ".join(TAGGED)
POTHOLES = "PWDx_Pothole"
CORNER = (-71.0589, 42.3601)
V2 = "/open311/v2"
DAY = date(2026, 12, 7)
PIN = "24680"


@dataclass(frozen=True)
class World:
    """The seeded database and what the tests need to find in it."""

    settings: Settings
    plan_id: int
    crew: field.CrewIdentity
    posted: dict[str, int]  # tagged text -> request id, one Open311 POST each
    city_job: int
    generic_job: int
    hotspot_types: tuple[str, ...]


def _job(settings: Settings, source: str, source_id: str) -> int:
    with session_scope(settings.database_url) as session:
        job_id = session.scalar(
            select(RequestRow.job_id).where(
                RequestRow.source == source, RequestRow.source_id == source_id
            )
        )
    assert job_id is not None, (source, source_id)
    return int(job_id)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Every entry point fed the payload catalogue, one database, exported for the CLI."""
    home = tmp_path_factory.mktemp("payloads")
    settings = Settings(home=home, data_dir=DATA)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GEODISPATCH_HOME", str(home))
        patch.setenv("GEODISPATCH_DATA_DIR", str(DATA))
        patch.delenv("GEODISPATCH_DB_URL", raising=False)
        patch.setenv("GEODISPATCH_WARM_UP", "false")
        patch.chdir(ROOT)  # the app (AppTest) runs from the repository
        get_settings.cache_clear()
        yield _seed(settings, home)
    get_settings.cache_clear()


def _seed(settings: Settings, home: Path) -> World:
    # a city of pothole reports and one busy corner whose address is a spreadsheet formula
    reports = city_with_busy_corner(CORNER, seed=18, address=FORMULAS[0], description=ALL_TEXT)
    import_payload(reports, source="test", settings=settings)

    # 1. Open311 POST: one request per payload, 300 m apart, and the issue's own finding,
    # by a client with its own key (the demo key works only in demo mode)
    key = {"api_key": api_keys.create_key("payload client", settings=settings).secret}
    client = TestClient(create_app(settings))
    posted: dict[str, int] = {}
    points = [(42.318, -71.08)] + [(42.30 + 0.003 * k, -71.07) for k in range(len(TAGGED))]
    texts = [(ISSUE_DESCRIPTION, ISSUE_ADDRESS)] + [(t, t) for t in TAGGED]
    for (lat, lon), (description, address) in zip(points, texts, strict=True):
        answer = client.post(
            f"{V2}/requests.json",
            data=key
            | {
                "service_code": POTHOLES,
                "lat": str(lat),
                "long": str(lon),
                "description": description,
                "address_string": address,
            },
        )
        assert answer.status_code in (200, 201), answer.text
        posted[description] = int(answer.json()[0]["service_request_id"])

    # 2. the city's export: a type named by a formula, title and address full of payloads
    city = write_csv(
        home / "city.csv",
        HEADER_2011,
        [
            row(
                case_enquiry_id="101000000777",
                open_dt="2026-12-01 08:30:00",
                target_dt="2026-12-09 08:30:00",
                case_title=ALL_TEXT,
                type=FORMULAS[2],
                subject=FORMULAS[0],  # the department
                location=ALL_TEXT,
                latitude="42.3400",
                longitude="-71.0700",
            )
        ],
    )
    summary = import_file(city, source="boston", settings=settings)
    assert summary.rejected == 0, summary.rejected_by_reason

    # 3. a generic CSV, mapped column by column
    generic = write_csv(
        home / "generic.csv",
        ["ref", "kind", "text", "where", "y", "x", "opened"],
        [["G-1", FORMULAS[1], ALL_TEXT, ALL_TEXT, "42.3450", "-71.0750", "2026-12-02T09:00"]],
    )
    mapping = ColumnMapping(
        {
            "source_id": "ref",
            "service_name": "kind",
            "description": "text",
            "address": "where",
            "lat": "y",
            "lon": "x",
            "created": "opened",
        }
    )
    summary = import_file(generic, source="generic", mapping=mapping, settings=settings)
    assert summary.rejected == 0, summary.rejected_by_reason
    workflow.group_new_requests(settings=settings)

    # 4. a dispatcher's notes on the jobs: internal (status change) and public
    city_job = _job(settings, "boston", "101000000777")
    generic_job = _job(settings, "generic", "G-1")
    posted_jobs = [_job_of_request(settings, r) for r in posted.values()]
    planned = [city_job, generic_job, *posted_jobs[:4]]
    for job_id in planned:
        version = workflow.get_job(job_id, settings=settings).version
        for step in ("reviewed", "assigned"):
            version = workflow.transition_job(
                job_id,
                step,
                expected_version=version,
                actor="dispatch:test",
                note=ALL_TEXT,
                settings=settings,
            ).version
    workflow.add_public_note(city_job, ALL_TEXT, actor="dispatch:test", settings=settings)

    # 5. catalogue edits: a type's department is free text (one becomes a formula)
    catalogue.edit_type(POTHOLES, department=ALL_TEXT, settings=settings)
    by_name = {t.name: t.code for t, _ in catalogue.list_types(settings=settings)}
    catalogue.edit_type(by_name[FORMULAS[2]], department=FORMULAS[0], settings=settings)

    # a published plan for a crew whose yard name is a payload too
    with session_scope(settings.database_url) as session:
        plan = PlanRow(plan_date=DAY, status="published", created_at=datetime.now().astimezone())
        session.add(plan)
        crew = CrewRow(
            code="C01", name=ALL_TEXT, depot_name=ALL_TEXT, depot_lon=-71.06, depot_lat=42.33
        )
        session.add(crew)
        session.flush()
        for k, job_id in enumerate(planned):
            at = datetime(2026, 12, 7, 13 + k, tzinfo=datetime.now().astimezone().tzinfo)
            session.add(
                StopRow(
                    plan_id=plan.id,
                    crew_id=crew.id,
                    job_id=job_id,
                    sequence=k + 1,
                    eta=at,
                    departs_at=at,
                )
            )
        plan_id = int(plan.id)
    field.set_pin("C01", PIN, settings=settings)
    _, _, identity = field.login("C01", PIN, settings=settings)

    # 6. a crew's note on a stop
    day = field.crew_day(identity, day=DAY, settings=settings)
    first = day.stops[0]
    field.record_update(
        identity,
        first.stop_id,
        "arrive",
        expected_version=first.version,
        note=ALL_TEXT,
        lon=first.lon,
        lat=first.lat,
        settings=settings,
    )

    hotspot_service.refresh_hotspots(settings=settings)
    found = hotspot_service.list_hotspots(settings=settings)
    return World(
        settings=settings,
        plan_id=plan_id,
        crew=identity,
        posted=posted,
        city_job=city_job,
        generic_job=generic_job,
        hotspot_types=tuple(sorted({str(c) for c in found["service_code"].dropna()})),
    )


def _job_of_request(settings: Settings, request_id: int) -> int:
    with session_scope(settings.database_url) as session:
        job_id = session.scalar(select(RequestRow.job_id).where(RequestRow.id == request_id))
    assert job_id is not None, request_id
    return int(job_id)


def assert_inert_map(page: str, expected: tuple[str, ...]) -> None:
    """A map page shows each expected text as typed, evaluates nothing, has no live markup."""
    for evaluated in EVALUATED:
        assert evaluated not in page, f"{evaluated!r} in the map: a payload was evaluated"
    outside = page_outside_text(page)
    for markup in LIVE_MARKUP:
        assert markup not in outside, f"{markup!r} in the map's own markup or script"
    # nothing a person typed is anywhere but in the text data the page shows as text
    assert "7*7" not in outside
    assert "lipsum" not in outside
    texts = "\n".join(map_texts(page))
    for text in expected:
        assert text in texts, f"{text!r} is not shown on the map"


# ---------------------------------------------------------------------------------- maps


def test_the_issue_18_finding_no_longer_runs_code_through_the_hotspot_map_cli(
    world: World,
) -> None:
    out = world.settings.home / "h.html"
    result = CliRunner().invoke(cli_app, ["hotspots", "map", str(out), "--type", POTHOLES])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "SSTIADDR 49" not in page
    assert "uid=" not in page
    assert_inert_map(page, (ISSUE_DESCRIPTION, ISSUE_ADDRESS, *TAGGED))


def test_the_hotspot_map_shows_every_payload_as_text(world: World) -> None:
    selection = hotspot_service.HotspotFilter(service_codes=world.hotspot_types)
    page = hotspot_service.hotspot_map_html(selection, settings=world.settings)
    # the corner's hotspot names its most reported address: a formula, shown as text
    # (addresses are stored normalised: upper case)
    assert_inert_map(page, (ALL_TEXT, f"{FORMULAS[0].upper()} ({CORNER_ADDRESS_REPORTS})"))
    every_type = hotspot_service.hotspot_map_html(settings=world.settings)
    # the types named by a formula (city export, mapped CSV) name their layers as text
    assert_inert_map(every_type, (FORMULAS[1], FORMULAS[2], ISSUE_ADDRESS))


def test_the_route_map_shows_every_payload_as_text(world: World) -> None:
    for page in (
        dispatch.plan_map_html(world.plan_id, settings=world.settings),
        board.plan_map_html(
            board.plan_board(world.plan_id, settings=world.settings), settings=world.settings
        ),
    ):
        assert_inert_map(page, (ALL_TEXT, *TAGGED[:3]))


def test_the_crew_phone_map_shows_every_payload_as_text(world: World) -> None:
    day = field.crew_day(world.crew, day=DAY, settings=world.settings)
    page = field.crew_map_html(day, settings=world.settings)
    assert page
    assert_inert_map(page, (ALL_TEXT,))


# ------------------------------------------------------------------------ other outputs


def test_the_route_sheet_escapes_every_payload(world: World) -> None:
    sheet = dispatch.plan_sheet_html(world.plan_id, settings=world.settings)
    for evaluated in EVALUATED:
        assert evaluated not in sheet
    for markup in LIVE_MARKUP[:3]:
        assert markup not in sheet
    assert "P07 &lt;script&gt;window.__xss=7&lt;/script&gt;" in sheet
    assert "P01 {{7*7}}" in sheet  # as typed: no template engine reads the sheet


def test_open311_answers_give_the_text_back_exactly_as_posted(world: World) -> None:
    client = TestClient(create_app(world.settings))
    for description, request_id in world.posted.items():
        answer = client.get(f"{V2}/requests/{request_id}.json")
        assert answer.status_code == 200, answer.text
        assert answer.json()[0]["description"] == description
        xml = client.get(f"{V2}/requests/{request_id}.xml")
        assert xml.status_code == 200, xml.text
        parsed = ET.fromstring(xml.content)
        assert parsed.findtext("request/description") == description


def _cells(text: str) -> list[str]:
    return [cell for line in csv.reader(io.StringIO(text)) for cell in line]


def _assert_no_formula(cells: list[str]) -> None:
    live = [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r")) and _textual(c)]
    assert live == [], f"cells a spreadsheet would run as formulas: {live[:5]}"


def _textual(cell: str) -> bool:
    """A cell that is not a plain number (a negative number is no formula)."""
    try:
        float(cell)
    except ValueError:
        return True
    return False


def test_the_hotspot_csv_export_neutralises_formulas(world: World) -> None:
    out = world.settings.home / "hotspots.csv"
    geojson = world.settings.home / "hotspots.geojson"
    hotspot_service.export_hotspots(csv=out, geojson=geojson, settings=world.settings)
    cells = _cells(out.read_text(encoding="utf-8"))
    _assert_no_formula(cells)
    assert f"'{FORMULAS[0].upper()}" in cells  # shown as text, the formula not run
    # GeoJSON is data for GIS tools: the text stays exactly as typed
    features = json.loads(geojson.read_text(encoding="utf-8"))["features"]
    assert FORMULAS[0].upper() in {f["properties"]["top_address"] for f in features}


def test_the_performance_and_ward_tables_neutralise_formulas(world: World) -> None:
    figures = performance.performance(settings=world.settings)
    frames = [
        getattr(figures, f.name)
        for f in dataclasses.fields(figures)
        if isinstance(getattr(figures, f.name), pd.DataFrame)
    ]
    assert frames
    written = [performance.table_csv(frame) for frame in frames]
    cells = [cell for text in written for cell in _cells(text)]
    assert any(cell.endswith(FORMULAS[0]) for cell in cells)  # the formula department
    _assert_no_formula(cells)
    wards = hotspot_service.ward_summary(settings=world.settings)
    _assert_no_formula(_cells(performance.table_csv(wards.by_ward)))


def test_sql_in_text_is_stored_as_text(world: World) -> None:
    with session_scope(world.settings.database_url) as session:
        count = session.query(RequestRow).count()
        stored = session.scalar(
            select(RequestRow.description).where(
                RequestRow.id == world.posted["P13 '; DROP TABLE requests;--"]
            )
        )
    assert count > 340
    assert stored == "P13 '; DROP TABLE requests;--"


def test_the_catalogue_keeps_the_edited_department_as_typed(world: World) -> None:
    types = {t.code: t for t, _ in catalogue.list_types(settings=world.settings)}
    assert types[POTHOLES].department == ALL_TEXT
    assert re.search(r"\{\{7\*7\}\}", types[POTHOLES].department)


def test_the_cli_prints_payloads_as_typed_never_as_terminal_markup(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a wide terminal, whatever width the shared console took when it was first made
    monkeypatch.setattr(cli_common.console, "width", 4000)
    runner = CliRunner()
    for command in (
        ["jobs", "show", str(world.city_job)],
        ["plan", "show", str(world.plan_id)],
        ["hotspots", "top"],
        ["catalogue", "list"],
    ):
        result = runner.invoke(cli_app, command, env={"COLUMNS": "2000"})
        assert result.exit_code == 0, (command, result.output)
        for evaluated in EVALUATED:
            assert evaluated not in result.output, command
    listed = runner.invoke(cli_app, ["catalogue", "list"], env={"COLUMNS": "4000"})
    assert ALL_TEXT in listed.output  # the edited department, rich markup printed as typed


# ------------------------------------------------------------------------ the app's pages


def _page_texts(app: AppTest) -> list[str]:
    """Every text the page shows in markdown (titles, captions, notes, messages)."""
    kinds = ("markdown", "caption", "title", "subheader", "header", "error", "warning", "info")
    return [str(element.value) for kind in kinds for element in app.get(kind)]


def _assert_inert_page(app: AppTest) -> list[str]:
    """No payload evaluated or live on the page; returns the map pages it embeds."""
    assert not app.exception, [e.value for e in app.exception]
    for text in _page_texts(app):
        for evaluated in EVALUATED:
            assert evaluated not in text
        assert not re.search(r"(?<!\\)<(img|script|svg)", text)  # markdown source escaped
    maps = [shown_map_page(e.proto) for e in app.get("bidi_component")]
    return [page for page in maps if page is not None]


@pytest.mark.parametrize(
    ("role", "page"),
    [
        ("Manager", None),  # hotspots: the map
        ("Dispatcher", None),  # plan today: the route map
        ("Dispatcher", "app_pages/jobs.py"),
        ("Dispatcher", "app_pages/work.py"),
        ("Manager", "app_pages/performance.py"),
        ("Manager", "app_pages/catalogue.py"),
        ("Public", None),
    ],
)
def test_the_apps_pages_show_payloads_as_text(world: World, role: str, page: str | None) -> None:
    app = open_app(role, page)
    for shown in _assert_inert_page(app):
        assert_inert_map(shown, ())


def test_a_jobs_notes_and_address_on_the_work_page_are_escaped_markdown(world: World) -> None:
    app = open_app("Dispatcher", "app_pages/work.py")
    app.session_state["job-id"] = world.city_job
    app.run()
    _assert_inert_page(app)
    shown = [t for t in _page_texts(app) if "P07" in t]
    assert shown, "the job's address and note for residents are on the page"
    for text in shown:
        assert "\\<script\\>window" in text  # markdown shows the characters, never HTML
