"""The built React client at / (config/client.py): its files through WhiteNoise,
index.html for / and the client's routes, and every path of the server keeps
its meaning. A fake build in a temporary directory stands in for client/dist
(the real build is what the browser suite loads)."""

from __future__ import annotations

import pytest
from django.test import Client

ASSET = "assets/index-AbCdEf12.js"
INDEX = b"<!doctype html><title>client</title><div id=root></div>"


@pytest.fixture
def dist(tmp_path, settings):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_bytes(INDEX)
    (tmp_path / ASSET).write_text("console.log('client')")
    (tmp_path / "robots.txt").write_text("User-agent: *\n")
    settings.CLIENT_DIST_DIR = tmp_path
    return tmp_path


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def client(request, settings, dist):
    """A new test client loads the middleware again, with this test's settings."""
    settings.DEBUG = request.param
    return Client()


@pytest.mark.parametrize("path", ["/", "/checkout/success", "/checkout/success/?session_id=cs_1", "/payment/return?payment_intent=pi_1"])
def test_the_index_answers_the_root_and_the_client_routes(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response.content == INDEX
    assert response["Cache-Control"] == "no-cache"  # a new build is seen at the next load


def test_hashed_assets_are_served_immutable(client):
    response = client.get("/" + ASSET)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"console.log('client')"
    assert response["Content-Type"].startswith("text/javascript")
    assert "immutable" in response["Cache-Control"]
    assert "Access-Control-Allow-Origin" not in response  # the page's own files, not for other origins


def test_other_files_of_the_build_are_served_but_not_forever(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/assets/missing.js", "/assets/", "/favicon.ico", "/deep/missing.png", "/api/nothing", "/_emulator/nothing/at/all"])
def test_a_missing_file_or_server_path_is_a_404_not_the_index(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.content != INDEX


def test_path_traversal_out_of_the_build_is_refused(client, dist):
    (dist.parent / "secret.txt").write_text("the-content-of-a-file-beside-the-build")
    for path in ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"]:
        response = client.get(path)
        assert response.status_code == 404, path
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"the-content-of-a-file-beside-the-build" not in body


@pytest.mark.parametrize("path, status, location", [("/graphql", 301, "/graphql/"), ("/admin", 301, "/admin/"), ("/admin/", 302, "/admin/login/?next=/admin/")])
def test_the_server_paths_keep_their_meaning(client, path, status, location):
    response = client.get(path)
    assert (response.status_code, response["Location"]) == (status, location)


@pytest.mark.django_db
def test_graphql_and_health_are_not_the_client(client):
    assert client.get("/graphql/?query={__typename}", HTTP_ACCEPT="application/json").json() == {"data": {"__typename": "Query"}}
    assert client.get("/healthz").json()["status"] == "ok"


def test_other_methods_on_a_client_route_are_refused(client):
    assert client.post("/checkout/success").status_code in {403, 405}  # CSRF first, or 405: never the page
    assert Client(enforce_csrf_checks=False).put("/").status_code == 405


def test_without_a_build_the_root_says_how_to_get_it(settings, tmp_path):
    settings.CLIENT_DIST_DIR = tmp_path / "not-built"
    response = Client().get("/")
    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert b"make run" in response.content and b"npm ci" in response.content
    assert Client().get("/assets/index-AbCdEf12.js").status_code == 404


def test_the_compressed_variant_goes_to_clients_that_accept_it(client, dist):
    import gzip

    source = b"console.log('client');\n" * 200
    (dist / ASSET).write_bytes(source)
    (dist / (ASSET + ".gz")).write_bytes(gzip.compress(source))  # what make's build step writes
    zipped = client.get("/" + ASSET, HTTP_ACCEPT_ENCODING="gzip, br")
    assert zipped["Content-Encoding"] == "gzip"
    assert zipped["Vary"] == "Accept-Encoding"
    assert gzip.decompress(b"".join(zipped.streaming_content)) == source
    plain = client.get("/" + ASSET)
    assert "Content-Encoding" not in plain
    assert b"".join(plain.streaming_content) == source
