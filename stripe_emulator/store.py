"""Stripe's state in its own SQLite file.

A file of its own (not Django's database) so that the web server and a second
terminal's management command see the same Stripe, and so that our own
transaction rollbacks never undo what "Stripe" did.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from . import objects

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, json TEXT NOT NULL, created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
    body TEXT NOT NULL, request_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
    json TEXT NOT NULL, created INTEGER NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    event: dict[str, Any]
    delivered: bool
    attempts: int


class IdempotentResult(NamedTuple):
    fingerprint: str
    status: int
    body: str
    request_id: str


class Tx:
    """One serialized unit of work; ``request`` is recorded in the events it emits."""

    def __init__(self, conn: sqlite3.Connection, request: dict[str, str | None]) -> None:
        self._conn = conn
        self.request = request

    def get(self, object_id: str) -> dict[str, Any] | None:
        if object_id.startswith("evt_"):
            sql = "SELECT json FROM events WHERE id = ?"
        else:
            sql = "SELECT json FROM objects WHERE id = ?"
        row = self._conn.execute(sql, (object_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        self._conn.execute(
            "INSERT INTO objects (id, type, json, created) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET json = excluded.json",
            (obj["id"], obj["object"], json.dumps(obj), obj["created"]),
        )
        return obj

    def delete(self, object_id: str) -> None:
        self._conn.execute("DELETE FROM objects WHERE id = ?", (object_id,))

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo what is done inside when it raises, as Stripe undoes a request it refuses."""
        self._conn.execute("SAVEPOINT undo")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK TO undo")
            raise
        finally:
            self._conn.execute("RELEASE undo")

    def emit(
        self, type_: str, obj: dict[str, Any], previous_attributes: dict[str, Any] | None = None
    ) -> None:
        """Record an event carrying a snapshot of ``obj`` as it is now."""
        event = objects.event(type_, obj, self.request, previous_attributes)
        self._conn.execute(
            "INSERT INTO events (id, type, json, created) VALUES (?, ?, ?, ?)",
            (event["id"], type_, json.dumps(event), event["created"]),
        )

    def idempotent_result(self, key: str) -> IdempotentResult | None:
        row = self._conn.execute(
            "SELECT fingerprint, status, body, request_id FROM idempotency WHERE key = ?", (key,)
        ).fetchone()
        return IdempotentResult(*row) if row else None

    def remember(self, key: str, result: IdempotentResult) -> None:
        self._conn.execute("INSERT INTO idempotency VALUES (?, ?, ?, ?, ?)", (key, *result))

    def list_events(
        self,
        *,
        limit: int,
        before_seq: int | None,
        type_pattern: str | None,
        created: dict[str, int],
    ) -> list[dict[str, Any]]:
        """Newest first, as Stripe lists; ``type_pattern`` may end in ``*``."""
        clauses: list[str] = []
        args: list[str | int] = []
        if before_seq is not None:
            clauses.append("seq < ?")
            args.append(before_seq)
        if type_pattern:
            clauses.append("type GLOB ?")  # GLOB's * is Stripe's wildcard
            args.append(type_pattern)
        operators = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "="}
        for op, value in created.items():
            clauses.append(f"created {operators[op]} ?")
            args.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._conn.execute(
            f"SELECT json FROM events {where} ORDER BY seq DESC LIMIT ?", (*args, limit)
        )
        return [json.loads(row[0]) for row in rows]

    def list_objects(
        self,
        type_: str,
        filters: dict[str, str] | None = None,
        *,
        limit: int = -1,
        starting_after: str | None = None,
    ) -> list[dict[str, Any]]:
        """Objects of ``type_`` whose top-level fields equal ``filters``, newest first.

        Newest by rowid, which an update keeps: the order of creation, finer
        than ``created``'s seconds. ``limit`` -1 is SQLite's "no limit".
        """
        clauses = ["type = ?"]
        args: list[str | int] = [type_]
        for field, value in (filters or {}).items():
            clauses.append("json_extract(json, ?) = ?")
            args += [f"$.{field}", value]
        if starting_after is not None:
            clauses.append("rowid < (SELECT rowid FROM objects WHERE id = ?)")
            args.append(starting_after)
        rows = self._conn.execute(
            f"SELECT json FROM objects WHERE {' AND '.join(clauses)} ORDER BY rowid DESC LIMIT ?",
            (*args, limit),
        )
        return [json.loads(row[0]) for row in rows]

    def net_by_currency(self) -> dict[str, int]:
        """The sum of the balance transactions' nets, per currency."""
        rows = self._conn.execute(
            "SELECT json_extract(json, '$.currency'), SUM(json_extract(json, '$.net'))"
            " FROM objects WHERE type = 'balance_transaction' GROUP BY 1"
        )
        return {currency: int(net) for currency, net in rows}

    def record_delivery(self, event_id: str, *, delivered: bool) -> None:
        if delivered:  # Stripe's count of endpoints still to receive it
            self._conn.execute(
                "UPDATE events SET delivered = 1,"
                " json = json_set(json, '$.pending_webhooks', 0) WHERE id = ?",
                (event_id,),
            )
        self._conn.execute("UPDATE events SET attempts = attempts + 1 WHERE id = ?", (event_id,))

    def last_snapshot(self, object_id: str) -> dict[str, Any] | None:
        """``object_id`` as the latest event about it carried it."""
        row = self._conn.execute(
            "SELECT json_extract(json, '$.data.object') FROM events"
            " WHERE json_extract(json, '$.data.object.id') = ? ORDER BY seq DESC LIMIT 1",
            (object_id,),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def event_seq(self, event_id: str) -> int | None:
        row = self._conn.execute("SELECT seq FROM events WHERE id = ?", (event_id,)).fetchone()
        return row[0] if row else None


class Store:
    def __init__(self, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection per Store, shared by the process's threads under the
        # lock; other processes wait up to ``timeout`` seconds (SQLite's busy
        # timeout) for the write lock that BEGIN IMMEDIATE takes.
        self._conn = sqlite3.connect(
            path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self, request: dict[str, str | None] | None = None) -> Iterator[Tx]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn, request or {"id": None, "idempotency_key": None})
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def events(
        self, since_seq: int | None = None, *, pending_only: bool = False
    ) -> list[StoredEvent]:
        sql = "SELECT seq, json, delivered, attempts FROM events WHERE seq > ?"
        if pending_only:
            sql += " AND NOT delivered"
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY seq", (since_seq or 0,)).fetchall()
        return [
            StoredEvent(seq, json.loads(body), bool(done), tries) for seq, body, done, tries in rows
        ]
