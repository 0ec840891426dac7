"""Tests in a real browser: Chromium from Debian (`apt-get install -y chromium`,
which .ci/run does when it is missing) driven by Python Playwright with
executable_path, never Playwright's own browser download. Each test gets a
fresh browser context and page on one Chromium per module, next to the real
Daphne servers of tests/live_server.py (the start_server fixture); a static
site on another origin comes from `other_site`. A failing test leaves a
screenshot of its page in var/browser/. Everything is on 127.0.0.1: no
request leaves the machine."""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CLIENT_BUILD = Path(__file__).resolve().parents[2] / "client" / "dist" / "index.html"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "browser"
TIMEOUT_MS = 15_000  # every wait of a browser test is bounded by this


@pytest.fixture(scope="module")
def chromium():
    """One Chromium per module, not per session: Playwright's sync API keeps an
    event loop running in this thread while it is open, and pytest-django runs
    the non-database tests (some of which call asyncio.run) after these."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":  # .ci/run installs it: a CI run must not skip these silently
            pytest.fail(f"no Chromium at {CHROMIUM} in CI: .ci/run should have installed it")
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install -y chromium` (CI does) to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Python playwright is in requirements-dev.txt")
    # Playwright's sync API keeps its event loop "running" in this thread, which
    # Django's async-safety check mistakes for async code around every ORM call
    # of a test. The servers under test never see this variable (live_server drops it).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), timeout=TIMEOUT_MS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def built_client() -> Path:
    """The React client's build (client/dist), which make test makes before pytest."""
    if not CLIENT_BUILD.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("no client/dist in CI: make test builds the React client before pytest")
        pytest.skip("the React client is not built: `make client` (Node.js 20.19+ and npm), or `make test`")
    return CLIENT_BUILD


@pytest.fixture
def context(chromium):
    context = chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context):
    """A page that records every request it makes (page.requested: their URLs)."""
    page = context.new_page()
    page.requested = []
    page.on("request", lambda request: page.requested.append(request.url))
    page.on("websocket", lambda ws: page.requested.append(ws.url))
    return page


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if report.failed and report.when == "call" and page is not None and not page.is_closed():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid) + ".png")
        try:
            page.screenshot(path=str(path), full_page=True, timeout=5_000)
            report.sections.append(("browser", f"screenshot: {path}"))
        except Exception as error:  # the report must not hide the test's own failure
            report.sections.append(("browser", f"no screenshot: {error}"))


class StaticSite:
    """One HTML page at / on its own port: a front end on another origin."""

    def __init__(self, html: str):
        body = html.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(200 if self.path in {"/", "/index.html"} else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.origin = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def other_site() -> Iterator[Callable[[str], StaticSite]]:
    """other_site(html) -> a StaticSite serving it (stopped after the test)."""
    sites: list[StaticSite] = []

    def start(html: str) -> StaticSite:
        sites.append(StaticSite(html))
        return sites[-1]

    yield start
    for site in sites:
        site.stop()
