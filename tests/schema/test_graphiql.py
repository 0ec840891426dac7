"""GraphiQL (DEBUG only) is our page: its assets are served by us, nothing
from a CDN; the real-browser checks are tests/browser/test_graphiql.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.test import Client

REPO = Path(__file__).resolve().parents[2]
CDNS = ("unpkg.com", "cdn.jsdelivr.net", "cdnjs.cloudflare.com", "fonts.googleapis.com")


@pytest.fixture
def page(settings, db) -> str:
    settings.DEBUG = True
    response = Client().get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    return response.content.decode()


def assets(page: str) -> list[str]:
    """What the page loads, but its icon (inline, a data: URL)."""
    return [a for a in re.findall(r'(?:src|href)="([^"]+)"', page) if not a.startswith("data:")]


def test_the_page_loads_only_our_static_files(page):
    assert len(assets(page)) == 7, assets(page)
    assert all(a.startswith("/static/graphiql/") for a in assets(page)), assets(page)
    assert not any(cdn in page for cdn in CDNS)


def test_the_page_reads_the_csrf_cookie_per_request(page):
    assert "fetch: fetchWithCsrfToken" in page
    fetch = page.split("function fetchWithCsrfToken", 1)[1].split("return window.fetch", 1)[0]
    assert 'Cookies.get("csrftoken")' in fetch


def test_every_asset_is_served_in_debug_and_not_otherwise(page, settings):
    client = Client()
    for asset in assets(page):
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert b"sourceMappingURL" not in b"".join(response.streaming_content)
    settings.DEBUG = False
    assert client.get("/static/graphiql/graphiql/graphiql.min.js").status_code == 404


def test_no_committed_file_names_a_cdn():
    """What the pre-stop check greps for: no CDN host outside *.md and tests/."""
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if name.endswith(".md") or name.startswith("tests/"):
            continue
        path = REPO / name
        if path.is_file():
            data = path.read_bytes()
            assert not any(cdn.encode() in data for cdn in CDNS), name
