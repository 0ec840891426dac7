"""The emulator is a service of its own: nothing in it imports the product."""

from __future__ import annotations

import ast
import io
import json
import pkgutil
from pathlib import Path

import stripe_emulator
from stripe_emulator.http import App

PRODUCT = ("payments", "schema", "config", "events", "tests")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_the_emulator_never_imports_the_product():
    package = Path(stripe_emulator.__file__).parent
    modules = [package / f"{m.name}.py" for m in pkgutil.iter_modules([str(package)])]
    assert len(modules) > 10
    for module in modules:
        product = {name for name in _imports(module) if name.split(".")[0] in PRODUCT}
        assert not product, f"{module.name} imports {product}"


def _call(app: App, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[str, dict]:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "wsgi.input": io.BytesIO(b"")}
    environ.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()})
    status = []
    body = b"".join(app(environ, lambda s, h: status.append(s)))
    return status[0], json.loads(body)


def test_the_http_app_answers_stripe_paths_as_stripe_does(emulator):
    app = App(emulator, prefix="/_emulator")
    auth = {"Authorization": "Bearer sk_test_anything"}
    status, body = _call(app, "GET", "/_emulator/v1/balance", auth)
    assert status == "200 OK" and body["object"] == "balance"
    status, body = _call(app, "GET", "/_emulator/v1/balance")
    assert status == "401 Unauthorized" and body["error"]["type"] == "invalid_request_error"
    status, body = _call(app, "GET", "/_emulator/v1/nothing", auth)
    assert status == "404 Not Found"
    status, body = _call(app, "GET", "/_emulator/elsewhere", auth)
    assert status == "404 Not Found"
