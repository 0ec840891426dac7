"""Real Daphne processes for the tests that need real sockets: the server
serves config.asgi on the test database (a file for SQLite, the test database
on PostgreSQL), and a Browser speaks to it like the React app does."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.db import connection
from websockets.sync.client import connect

from tests.conftest import sign

ROOT = Path(__file__).resolve().parents[1]
# Daphne's access log line: 127.0.0.1:port - - [date] "GET /path" 200 31
_ACCESS = re.compile(r'^\S+ - - \[[^\]]*\] ".*" (\d{3}) ')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Server:
    """A Daphne process serving config.asgi on the test database."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = _free_port()
        self.log = log
        # The port it is reached on, as `make run PORT=...` says it: the emulator's public
        # URL (its pages' addresses), the redirect origins (Checkout's success_url) and
        # the emulator's webhook URL follow it.
        env = {**env, "PORT": str(self.port)}
        self.proc = subprocess.Popen(
            # A listen backlog above Twisted's default of 50, for the storm tests.
            [sys.executable, "-m", "daphne", "-e", f"tcp:port={self.port}:interface=127.0.0.1:backlog=1024",
             "config.asgi:application"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"daphne did not start:\n{log.read_text()}")

    def log_excerpt(self, limit: int = 300) -> str:
        """What a failed test shows of the server's log (tests/conftest.py): its
        log lines and tracebacks, and the access lines of 5xx answers (the last
        ``limit``); the 2xx-4xx access lines are left out."""
        lines = [
            line for line in self.log.read_text(errors="replace").splitlines()
            if not (m := _ACCESS.match(line)) or m.group(1).startswith("5")
        ]
        return "\n".join(lines[-limit:])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """As a crash would: no shutdown, no cleanup."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def server_starter(settings, tmp_path):
    """start(**env) -> Server, and a stop_all() to call at the end."""
    servers: list[Server] = []

    def start(**extra: str) -> Server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"))}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=_database_url(),
            STRIPE_EMULATOR_DB=settings.STRIPE_EMULATOR_DB,
            # As in the test settings: the test delivers the emulator's events, no thread of the
            # server, unless it asks for make run's behaviour (STRIPE_EMULATOR_AUTO_DELIVER="true").
            STRIPE_EMULATOR_AUTO_DELIVER="false",
            DEBUG="true",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",  # the access lines reach the log as they happen (log_excerpt)
        )
        env.update(extra)
        server = Server(env, tmp_path / f"daphne-{len(servers)}.log")
        servers.append(server)
        return server

    def stop_all() -> None:
        for server in servers:
            server.stop()

    start.servers = servers  # for the failure report's server logs (tests/conftest.py)
    return start, stop_all


class Browser:
    """An HTTP client with a cookie jar, like a browser tab of the React app."""

    def __init__(self, server: Server):
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        self.opener.open(f"{self.server.base}/graphql/?query=%7B__typename%7D").read()  # gets the csrftoken cookie
        request = urllib.request.Request(
            f"{self.server.base}/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.cookie("csrftoken"),
                     "Referer": self.server.base + "/graphql/"},
        )
        return json.loads(self.opener.open(request).read())

    def login(self, username: str, password: str) -> None:
        result = self.graphql(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { username } }",
            {"u": username, "p": password},
        )
        assert result["data"]["login"]["username"] == username, result

    @contextlib.contextmanager
    def websocket(self, server: Server | None = None):
        """A graphql-transport-ws connection, acknowledged, carrying this browser's cookies."""
        server = server or self.server
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        with connect(
            f"ws://127.0.0.1:{server.port}/graphql/",
            subprotocols=["graphql-transport-ws"],
            additional_headers={"Cookie": cookies, "Origin": server.base},
            open_timeout=10,
        ) as ws:
            ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
            yield ws


def post_webhook(server: Server, event: dict) -> int:
    body = json.dumps(event)
    request = urllib.request.Request(
        f"{server.base}/api/payments/webhook/", data=body.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": sign(body)},
    )
    return urllib.request.urlopen(request).status


