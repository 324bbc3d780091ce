"""Browser tests: a real Streamlit server on a seeded database, driven by Debian's Chromium.

Skipped when Chromium is not installed (``make test`` installs it with apt when it can).
Screenshots go to ``bench/output/screenshots`` for review.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = ROOT / "bench" / "output" / "screenshots"
#: Flags the machine notes require for headless Chromium with no network (see env notes).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class AppServer:
    """A running app: where it listens and which home (database) it uses."""

    url: str
    home: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_app(
    home: Path, *, warm_up: bool = False, demo_mode: bool = False
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``streamlit run app.py`` against ``home`` and wait until it answers.

    ``warm_up`` lets the app fill its pages' caches in the background (off in tests);
    ``demo_mode`` lets the demo's staff accounts sign in (as ``make run`` does).
    """
    port = _free_port()
    env = dict(
        os.environ,
        GEODISPATCH_HOME=str(home),
        GEODISPATCH_DATA_DIR=str(DATA),
        GEODISPATCH_WARM_UP=str(warm_up).lower(),
        GEODISPATCH_DEMO_MODE=str(demo_mode).lower(),
    )
    env.pop("GEODISPATCH_DB_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):  # the server needs a few seconds to start on a busy machine
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.25)
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited: {process.stderr.read().decode()[-2000:]}")
    process.kill()
    raise RuntimeError("streamlit did not answer its health check")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the whole session."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app on the full Boston sample, loaded the way ``make run`` loads it (demo mode)."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    home = tmp_path_factory.mktemp("demo-home")
    env = dict(
        os.environ,
        GEODISPATCH_HOME=str(home),
        GEODISPATCH_DATA_DIR=str(DATA),
        GEODISPATCH_DEMO_MODE="true",
    )
    env.pop("GEODISPATCH_DB_URL", None)
    subprocess.run(
        [sys.executable, "-m", "geodispatch.cli", "demo", "--if-empty"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    process, url = start_app(home, demo_mode=True)
    try:
        yield AppServer(url, home)
    finally:
        process.terminate()
        process.wait(timeout=30)


def screenshot(page: object, name: str) -> Path:
    """Save a full-page screenshot for review; returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


@dataclass
class OfflinePage:
    """A page in its own browser context that refuses every request off the machine."""

    context: Any
    page: Any
    refused: list[str]  # URLs the page tried to load from the network
    errors: list[str]  # uncaught script errors


def open_offline(browser: Any, path: Path) -> OfflinePage:
    """Open a local file with no network: file, data and blob URLs only."""
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    refused: list[str] = []
    errors: list[str] = []

    def offline(route: Any) -> None:
        if route.request.url.startswith(("file:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", offline)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri(), wait_until="load")
    return OfflinePage(context, page, refused, errors)


def sign_in(page: object, url: str, username: str, password: str) -> None:
    """Open the app's staff sign-in page and sign in; waits until the sign-out button shows.

    The sign-in lives in the browser tab's session: move on by the navigation links (a new
    ``goto`` starts a new session, signed out).
    """
    page.goto(f"{url}/sign_in", wait_until="domcontentloaded")  # type: ignore[attr-defined]
    page.get_by_label("Username", exact=True).fill(username)  # type: ignore[attr-defined]
    page.get_by_label("Password", exact=True).fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign out").wait_for(timeout=60_000)  # type: ignore[attr-defined]
