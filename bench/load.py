"""The load generator: a separate process that talks to the servers over
loopback only. ``python -m bench.load <spec.json>`` runs the phase the spec
names and prints its result as one JSON line (``bench.run`` writes the specs).

One asyncio loop, raw HTTP/1.1 on keep-alive connections (no client library
between us and the figures: a request costs this process a few tens of
microseconds), ``websockets`` for graphql-transport-ws. Every phase is bounded
by a duration and by a count; nothing here waits without a timeout.

Phases:
- ``http``: runs in order, each ``concurrency`` closed-loop connections for
  ``duration`` seconds (the first ``warmup`` seconds are not counted); runs of
  the same name are rounds of one figure (interleaved with the baseline's):
  requests per second, p50/p99 latency, statuses, the webhook outcomes, the SQL
  statements per request (``X-Bench-Queries``) and Stripe calls.
- ``push``: ``others`` idle subscriptions, then one subscriber that, payment
  after payment, subscribes, receives the current state, has a signed
  ``payment_intent.succeeded`` posted and waits for the push: the time from the
  moment the webhook is sent (stamped before its request is written) to the
  moment the subscriber reads the push, which includes the webhook's own
  processing (the push is sent when its transaction commits); the time from
  the webhook's response is kept beside it (``from_response_*``).
- ``memory``: the server's resident memory (VmRSS) before and after opening
  ``count`` idle subscriptions.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import os
import resource
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect as ws_connect

from bench import objects

FIXTURES = Path(__file__).resolve().parent.parent / "stripe_emulator" / "fixtures.json"
API_VERSION = "2026-10-28.endive"
SUBSCRIBE = "subscription($id: ID!) { paymentStatus(paymentId: $id) { id status amount failureCode } }"


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# ---------------------------------------------------------------- webhooks


class EventFactory:
    """Signed Stripe events in the pinned API version's shape: a
    ``payment_intent.succeeded`` per payment, its PaymentIntent Stripe's own
    example object with our values (no latest_charge: nothing to fetch)."""

    def __init__(self, secret: str, run_id: str):
        self.secret = secret.encode()
        self.run_id = run_id
        self.intent = json.loads(FIXTURES.read_text())["resources"]["payment_intent"]

    def body(self, payment: dict, *, event_id: str | None = None, created: int | None = None) -> bytes:
        obj = copy.copy(self.intent)
        obj.update(
            id=payment["intent"], amount=payment["amount"], currency=payment["currency"], status="succeeded",
            amount_received=payment["amount"], last_payment_error=None, next_action=None, canceled_at=None,
            latest_charge=None, metadata={"payment_id": payment["id"]}, created=int(time.time()) - 60,
        )
        event = {
            "id": event_id or f"evt_bench_{self.run_id}_{payment['intent']}",
            "object": "event",
            "api_version": API_VERSION,
            "created": created or int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "payment_intent.succeeded",
        }
        return json.dumps(event).encode()

    def signature(self, body: bytes) -> str:
        """Stripe-Signature, as Stripe makes it (a fresh timestamp per delivery)."""
        timestamp = str(int(time.time()))
        mac = hmac.new(self.secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={mac}"

    def bodies(self, payment: dict) -> list[bytes]:
        """The new events of one payment, in the order Stripe sends them."""
        return [self.body(payment)]


class PaymentEventFactory(EventFactory):
    """A real card payment's events (``bench.objects``): ``charge.succeeded``, then
    ``payment_intent.succeeded`` with a customer, a payment method and
    ``latest_charge``; the same bytes whichever server they are sent to."""

    def __init__(self, secret: str, run_id: str, created: int):
        super().__init__(secret, run_id)
        self.created = created

    def bodies(self, payment: dict) -> list[bytes]:
        return [json.dumps(e).encode() for e in objects.payment_events(payment, self.run_id, self.created)]

    def body(self, payment: dict, *, event_id: str | None = None, created: int | None = None) -> bytes:
        intent_event = objects.payment_events(payment, self.run_id, self.created)[1]
        if event_id:
            intent_event["id"] = event_id
        return json.dumps(intent_event).encode()


def http_request(method: str, host: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if method != "GET" or body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


class Connection:
    """One keep-alive HTTP/1.1 connection, reopened when the server closes it."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(raw)
        try:
            status, headers, body = await asyncio.wait_for(read_response(self.reader), 30)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process so far (``/proc/<pid>/stat``)."""
    if not pid:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


# ------------------------------------------------------------------- http


class RequestSource:
    """What each request of a run sends: ``static`` (the same request every
    time), ``webhook_new`` (each payment's event once, then the run ends),
    ``webhook_redeliver`` (the events already delivered, again and again: Stripe's
    redeliveries) and ``webhook_bare`` (the same bodies as the webhook, to the
    baseline view)."""

    def __init__(self, spec: dict, state: dict):
        self.kind = spec["kind"]
        self.host = f"{spec['host']}:{spec['port']}"
        self.path = spec["path"]
        self.index = 0
        if self.kind == "static":
            self.raw = http_request(
                spec.get("method", "POST"), self.host, self.path, spec.get("body", "").encode(), spec.get("headers")
            )
            return
        self.factory: EventFactory = state["factory"]
        if self.kind == "webhook_new":
            self.payments = state["payments"]
            self.start = state.setdefault("next_payment", 0)
        elif self.kind == "webhook_redeliver":
            self.bodies = state["delivered"]
            if not self.bodies:
                raise RuntimeError("nothing was delivered yet: run webhook_new first")
        elif self.kind == "webhook_bare":
            self.payments = state["payments"]
        self.state = state

    def next(self) -> tuple[bytes, Any] | None:
        if self.kind == "static":
            return self.raw, None
        if self.kind == "webhook_new":
            queue = self.state.setdefault("queue", [])  # a payment's events not sent yet
            if not queue:
                position = self.state["next_payment"]
                if position >= len(self.payments):
                    return None
                self.state["next_payment"] = position + 1
                queue.extend(self.factory.bodies(self.payments[position]))
            body = queue.pop(0)
        elif self.kind == "webhook_redeliver":
            body = self.bodies[self.index % len(self.bodies)]
            self.index += 1
        else:  # webhook_bare: the same request as a new event's, never processed
            body = self.factory.body(self.payments[self.index % len(self.payments)], event_id="evt_bench_bare")
            self.index += 1
        headers = {"Content-Type": "application/json", "Stripe-Signature": self.factory.signature(body)}
        return http_request("POST", self.host, self.path, body, headers), body


async def run_http(spec: dict, state: dict) -> dict:
    source = RequestSource(spec, state)
    duration, warmup, concurrency = spec["duration"], spec.get("warmup", 0.5), spec["concurrency"]
    max_requests = spec.get("max_requests", 10**9)
    samples: list[tuple[float, float]] = []  # (completed at, latency)
    statuses: Counter = Counter()
    outcomes: Counter = Counter()
    queries: list[int] = []
    stripe_calls = 0
    errors: list[str] = []
    delivered = state.setdefault("delivered", []) if source.kind == "webhook_new" else None
    fake_before = fake_stripe_calls(spec.get("stripe_stats_url"))
    cpu_before = cpu_seconds(spec.get("server_pid"))
    started = time.perf_counter()
    measure_from = started + warmup
    deadline = started + duration
    sent = 0

    async def worker() -> None:
        nonlocal stripe_calls, sent
        connection = Connection(spec["host"], spec["port"])
        try:
            while time.perf_counter() < deadline and sent < max_requests:
                item = source.next()
                if item is None:
                    return
                sent += 1
                raw, body = item
                t0 = time.perf_counter()
                try:
                    status, headers, answer = await connection.request(raw)
                except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                t1 = time.perf_counter()
                statuses[status] += 1
                if t1 >= measure_from:
                    samples.append((t1, t1 - t0))
                    if "x-bench-queries" in headers:
                        queries.append(int(headers["x-bench-queries"]))
                stripe_calls += int(headers.get("x-bench-stripe-calls", "0"))
                if source.kind.startswith("webhook") and source.kind != "webhook_bare":
                    try:
                        outcome = json.loads(answer).get("outcome", "?")
                    except (ValueError, AttributeError):  # not our JSON (dj-stripe answers its trigger's id)
                        outcome = "accepted" if status == 200 else "?"
                    outcomes[outcome] += 1
                    if delivered is not None and status == 200 and outcome in ("processed", "ignored", "accepted"):
                        delivered.append(body)
                if status >= 400 and len(errors) < 5:
                    errors.append(f"HTTP {status}: {answer[:300]!r}")
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu_after = cpu_seconds(spec.get("server_pid"))
    fake_after = fake_stripe_calls(spec.get("stripe_stats_url"))
    measured = [s for s in samples if s[0] >= measure_from]
    window_end = max((s[0] for s in measured), default=measure_from)
    return {
        "name": spec["name"],
        "kind": source.kind,
        "concurrency": concurrency,
        "window": max(window_end - measure_from, 1e-9) if measured else 0.0,
        "latencies": [s[1] * 1000 for s in measured],
        "statuses": statuses,
        "outcomes": outcomes,
        "queries": queries,
        "stripe_calls": stripe_calls,
        "errors": errors,
        "completed": sum(statuses.values()),
        "server_cpu_s": None if cpu_before is None or cpu_after is None else cpu_after - cpu_before,
        "fake_stripe_calls": None if fake_before is None or fake_after is None else fake_after - fake_before,
    }


def summarize(parts: list[dict]) -> dict:
    """One figure from the rounds of a run (interleaved with its baseline's, so
    that whatever else the machine does weighs on both alike)."""
    latencies = [x for p in parts for x in p["latencies"]]
    queries = [x for p in parts for x in p["queries"]]
    window = sum(p["window"] for p in parts)
    statuses: Counter = sum((p["statuses"] for p in parts), Counter())
    outcomes: Counter = sum((p["outcomes"] for p in parts), Counter())
    errors = [e for p in parts for e in p["errors"]]
    cpu = [p["server_cpu_s"] for p in parts]
    fake = [p.get("fake_stripe_calls") for p in parts]
    completed = sum(p["completed"] for p in parts)
    return {
        "name": parts[0]["name"],
        "kind": parts[0]["kind"],
        "concurrency": parts[0]["concurrency"],
        "rounds": len(parts),
        "requests": len(latencies),
        "window_s": round(window, 3),
        "rps": len(latencies) / window if latencies and window else None,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "statuses": {str(k): v for k, v in statuses.items()},
        "outcomes": dict(outcomes),
        "queries_mean": sum(queries) / len(queries) if queries else None,
        "queries_max": max(queries) if queries else None,
        "queries_min": min(queries) if queries else None,
        "stripe_calls": sum(p["stripe_calls"] for p in parts),
        # The server process's CPU time per request (warm-ups included): what one request costs it.
        "server_cpu_ms_per_request": sum(cpu) * 1000 / completed if None not in cpu and completed else None,
        "completed": completed,
        # Calls the fake Stripe answered during the rounds (bench.fake_stripe), per request.
        "fake_stripe_calls_per_request": sum(fake) / completed if None not in fake and completed else None,
        "errors": errors[:5],
        "error_count": len(errors),
    }


def fake_stripe_calls(url: str | None) -> int | None:
    """The calls the fake Stripe answered so far (read between runs, never inside one)."""
    if not url:
        return None
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())["calls"]


async def phase_http(spec: dict) -> dict:
    """``runs`` in order; runs of the same name (rounds) make one figure. Each
    ``stream`` (one per server) has its own place in the payments and its own
    delivered events: the same events, in the same order, to every server."""
    if spec.get("events") == "payment":
        factory = PaymentEventFactory(spec["webhook_secret"], spec["run_id"], spec["created"])
    else:
        factory = EventFactory(spec["webhook_secret"], spec["run_id"]) if spec.get("webhook_secret") else None
    streams: dict[str, dict] = {}
    parts: dict[str, list[dict]] = {}
    for run in spec["runs"]:
        state = streams.setdefault(run.get("stream", ""), {"factory": factory, "payments": spec.get("payments", [])})
        parts.setdefault(run["name"], []).append(await run_http({"host": spec["host"], **run}, state))
        await asyncio.sleep(spec.get("pause", 0.2))
    return {"runs": [summarize(p) for p in parts.values()]}


# ---------------------------------------------------------------- websockets


async def open_subscription(port: int, cookie: str, payment_id: str, op_id: str = "1", timeout: float = 20):
    """A graphql-transport-ws connection with one paymentStatus subscription
    whose first message (the current state) has arrived."""
    ws = await ws_connect(
        f"ws://127.0.0.1:{port}/graphql/",
        subprotocols=["graphql-transport-ws"],
        additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"},
        open_timeout=timeout,
        ping_interval=None,  # idle: no traffic of ours
        max_queue=None,
    )
    try:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": {"id": payment_id}}}))
        first = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        data = (first.get("payload") or {}).get("data") or {}
        if first.get("type") != "next" or not data.get("paymentStatus"):
            raise RuntimeError(f"subscription refused: {first}")
    except BaseException:
        await ws.close()
        raise
    return ws


async def open_many(port: int, cookie: str, payment_ids: list[str], *, parallel: int, deadline: float) -> tuple[list, list[str]]:
    semaphore = asyncio.Semaphore(parallel)
    sockets: list = []
    errors: list[str] = []

    async def one(payment_id: str) -> None:
        async with semaphore:
            if time.perf_counter() > deadline:
                errors.append("deadline")
                return
            try:
                sockets.append(await open_subscription(port, cookie, payment_id))
            except Exception as exc:  # counted and reported, never hidden
                errors.append(f"{type(exc).__name__}: {exc}")

    await asyncio.gather(*(one(p) for p in payment_ids))
    return sockets, errors


async def close_all(sockets: list) -> None:
    async def close(ws) -> None:
        try:
            await asyncio.wait_for(ws.close(), 5)
        except Exception:
            pass

    for start in range(0, len(sockets), 500):
        await asyncio.gather(*(close(ws) for ws in sockets[start : start + 500]))


async def phase_push(spec: dict) -> dict:
    """Latency from the webhook being sent (stamped just before its request is
    written) to the subscriber's message being read (stamped by a task that does
    nothing but read it), both in this process."""
    if spec.get("events") == "payment":  # a real card payment's: charge.succeeded, then the intent's
        factory = PaymentEventFactory(spec["webhook_secret"], spec["run_id"], spec["created"])
    else:
        factory = EventFactory(spec["webhook_secret"], spec["run_id"])
    deadline = time.perf_counter() + spec["max_seconds"]
    others, open_errors = await open_many(
        spec["ws_port"], spec["cookie"], spec["others"], parallel=spec.get("parallel", 64), deadline=deadline
    )
    ws = await open_subscription(spec["ws_port"], spec["cookie"], spec["measured"][0]["id"], op_id="warm")
    await ws.send(json.dumps({"id": "warm", "type": "complete"}))
    arrivals: asyncio.Queue = asyncio.Queue()

    async def reader() -> None:
        try:
            async for message in ws:
                arrivals.put_nowait((time.perf_counter(), json.loads(message)))
        except Exception:
            pass

    reader_task = asyncio.create_task(reader())
    webhook = Connection("127.0.0.1", spec["http_port"])
    host = f"127.0.0.1:{spec['http_port']}"
    after_response: list[float] = []
    after_request: list[float] = []
    lost = 0
    failures: list[str] = []
    stripe_calls = 0

    async def next_for(op_id: str, timeout: float) -> tuple[float, dict] | None:
        end = time.perf_counter() + timeout
        while (left := end - time.perf_counter()) > 0:
            try:
                stamp, message = await asyncio.wait_for(arrivals.get(), left)
            except asyncio.TimeoutError:
                return None
            if message.get("id") == op_id:
                return stamp, message
        return None

    for index, payment in enumerate(spec["measured"][1:]):
        if time.perf_counter() > deadline:
            break
        op_id = f"m{index}"
        await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": {"id": payment["id"]}}}))
        first = await next_for(op_id, 10)
        if first is None or first[1].get("type") != "next":
            failures.append(f"no current state for {payment['id']}: {first}")
            continue
        *before, body = factory.bodies(payment)
        for earlier in before:  # charge.succeeded: the card and receipt, no change of status (no push)
            raw = http_request("POST", host, "/api/payments/webhook/", earlier,
                               {"Content-Type": "application/json", "Stripe-Signature": factory.signature(earlier)})
            status, headers, answer = await webhook.request(raw)
            stripe_calls += int(headers.get("x-bench-stripe-calls", "0"))
            if status != 200:
                failures.append(f"webhook HTTP {status}: {answer[:200]!r}")
        raw = http_request("POST", host, "/api/payments/webhook/", body,
                           {"Content-Type": "application/json", "Stripe-Signature": factory.signature(body)})
        t_request = time.perf_counter()
        status, headers, answer = await webhook.request(raw)
        t_response = time.perf_counter()
        stripe_calls += int(headers.get("x-bench-stripe-calls", "0"))
        if status != 200:
            failures.append(f"webhook HTTP {status}: {answer[:200]!r}")
        pushed = await next_for(op_id, 5)
        if pushed is None:
            lost += 1
        else:
            stamp, message = pushed
            state = ((message.get("payload") or {}).get("data") or {}).get("paymentStatus") or {}
            if state.get("status") != "SUCCEEDED":
                failures.append(f"unexpected push {message}")
            after_response.append((stamp - t_response) * 1000)
            after_request.append((stamp - t_request) * 1000)
        await ws.send(json.dumps({"id": op_id, "type": "complete"}))
        await asyncio.sleep(spec.get("gap", 0.005))

    webhook.close()
    reader_task.cancel()
    await ws.close()
    await close_all(others)
    return {
        "others_open": len(others),
        "others_failed": len(open_errors),
        "open_errors": open_errors[:5],
        "samples": len(after_response),
        "lost": lost,
        "failures": failures[:5],
        "failure_count": len(failures),
        # From the moment the webhook is sent: the figure.
        "p50_ms": percentile(after_request, 50),
        "p99_ms": percentile(after_request, 99),
        "max_ms": max(after_request) if after_request else None,
        "min_ms": min(after_request) if after_request else None,
        # From the moment its response is read (the figure until 2026-12-02): can be
        # negative, the push leaves at the commit, before the view returns.
        "from_response_p50_ms": percentile(after_response, 50),
        "from_response_p99_ms": percentile(after_response, 99),
        "stripe_calls": stripe_calls,
    }


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


async def phase_memory(spec: dict) -> dict:
    pid, port, cookie = spec["server_pid"], spec["ws_port"], spec["cookie"]
    deadline = time.perf_counter() + spec["max_seconds"]
    # Warm up: every code path of a subscription has run once, its imports and caches are made.
    warm, warm_errors = await open_many(port, cookie, spec["payments"][: spec.get("warm", 50)], parallel=25, deadline=deadline)
    await close_all(warm)
    await asyncio.sleep(spec.get("settle", 2))
    before = rss_kb(pid)
    started = time.perf_counter()
    sockets, errors = await open_many(port, cookie, spec["payments"], parallel=spec.get("parallel", 100), deadline=deadline)
    opened_in = time.perf_counter() - started
    kinds = Counter(e.split(":")[0] for e in warm_errors + errors)
    await asyncio.sleep(spec.get("settle", 2))
    after = rss_kb(pid)
    await close_all(sockets)
    return {
        "count": len(sockets),
        "failed": len(errors) + len(warm_errors),
        "errors": (warm_errors + errors)[:5],
        "error_kinds": dict(kinds),
        "opened_in_s": round(opened_in, 2),
        "parallel": spec.get("parallel", 100),
        "rss_before_kb": before,
        "rss_after_kb": after,
        "per_subscription_kb": (after - before) / len(sockets) if sockets else None,
    }


PHASES = {"http": phase_http, "push": phase_push, "memory": phase_memory}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench.load <spec.json>", file=sys.stderr)
        return 2
    raise_nofile()
    spec = json.loads(Path(argv[1]).read_text())
    result = asyncio.run(PHASES[spec["phase"]](spec))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
