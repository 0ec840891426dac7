"""The "Against dj-stripe" phase's own parts (bench/peer.py, bench/objects.py,
bench/fake_stripe.py), without dj-stripe: the phase itself needs its
virtualenv and minutes of dj-stripe's migrations, so the smoke run leaves it
out (docs/benchmarks.md, "Against dj-stripe").

- the events are a real card payment's, and our strict webhook reader accepts
  them as the load process signs them (else ours would answer "invalid" and
  the comparison would be of a refusal);
- the fake Stripe is a process on loopback answering the very objects the
  events carry, expansions included, and counts what it cannot answer;
- no figure of dj-stripe's is typed in: without the phase's results, every
  dj-stripe row is empty and says why.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bench import objects, peer, run
from bench.load import PaymentEventFactory
from payments import gateway
from payments.errors import InvalidWebhook
from payments.conf import get_config

ROOT = Path(__file__).resolve().parents[2]
PAYMENT = {"id": "3f1c4b52-1111-4a4a-9a9a-0123456789ab", "intent": "pi_bench_0000042", "amount": 1999, "currency": "eur"}
CREATED = 1_780_000_000


def test_a_payment_sends_its_charge_then_its_intent_naming_customer_method_and_charge():
    charge_event, intent_event = objects.payment_events(PAYMENT, "r1", CREATED)
    assert [charge_event["type"], intent_event["type"]] == ["charge.succeeded", "payment_intent.succeeded"]
    intent, charge = intent_event["data"]["object"], charge_event["data"]["object"]
    assert intent["latest_charge"] == charge["id"] == "ch_bench_0000042"
    assert intent["customer"] == charge["customer"] == objects.CUSTOMER_ID
    assert intent["payment_method"] == charge["payment_method"] == "pm_bench_0000042"
    assert charge["payment_intent"] == intent["id"] == PAYMENT["intent"]
    assert charge["balance_transaction"] == "txn_bench_0000042"
    assert (intent["amount_received"], charge["amount_captured"]) == (1999, 1999)
    assert intent["status"] == charge["status"] == "succeeded"
    assert intent["metadata"] == {"payment_id": PAYMENT["id"]}
    assert intent["transfer_data"] is None and intent["next_action"] is None  # no example placeholders left


def test_our_webhook_reader_accepts_the_events_as_the_load_process_signs_them():
    factory = PaymentEventFactory(get_config().webhook_secret, "r1", CREATED)
    bodies = factory.bodies(PAYMENT)
    parsed = [gateway.parse_webhook(body, factory.signature(body)) for body in bodies]
    assert [e.type for e in parsed] == ["charge.succeeded", "payment_intent.succeeded"]
    intent = gateway.payment_intent_from_dict(parsed[1].object)
    assert (intent.id, intent.status, intent.amount_received, intent.latest_charge) == (
        PAYMENT["intent"], "succeeded", 1999, "ch_bench_0000042")
    with pytest.raises(InvalidWebhook):  # the signature is really checked
        gateway.parse_webhook(bodies[1], factory.signature(bodies[0]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def fake(tmp_path):
    port = _free_port()
    spec = tmp_path / "fake.json"
    spec.write_text(json.dumps({"port": port, "payments": [PAYMENT], "created": CREATED}))
    proc = subprocess.Popen([sys.executable, "-m", "bench.fake_stripe", str(spec)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/__bench/stats", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_fake_answers_the_objects_the_events_carry_and_counts_every_call(fake):
    charge_event, intent_event = objects.payment_events(PAYMENT, "r1", CREATED)
    assert _get(f"{fake}/v1/payment_intents/pi_bench_0000042") == (200, intent_event["data"]["object"])
    status, charge = _get(f"{fake}/v1/charges/ch_bench_0000042?expand%5B%5D=balance_transaction")
    assert status == 200
    assert charge["balance_transaction"] == objects.balance_transaction(PAYMENT, CREATED)
    assert {**charge, "balance_transaction": "txn_bench_0000042"} == charge_event["data"]["object"]
    assert _get(f"{fake}/v1/customers/cus_bench")[1]["id"] == objects.CUSTOMER_ID
    status, error = _get(f"{fake}/v1/charges/ch_someone_else")
    assert status == 404 and error["error"]["code"] == "resource_missing"
    stats = _get(f"{fake}/__bench/stats")[1]
    assert stats["by_route"] == {"GET /v1/payment_intents/:id": 1, "GET /v1/charges/:id": 1,
                                 "GET /v1/customers/:id": 1, "unknown": 1}
    assert stats["calls"] == 4 and stats["unknown"] == ["GET /v1/charges/ch_someone_else"]


def test_no_figure_of_dj_stripe_is_typed_in():
    """Without the phase's results (skipped: offline, or not asked for), every
    dj-stripe figure is empty and marked skipped; the old rows of part 2 have no
    dj-stripe baseline any more."""
    rows = run.figures({"djstripe": {"skipped": "offline"}})
    theirs = [r for r in rows if "dj-stripe" in r["figure"]]
    assert len(theirs) >= 3
    for r in theirs:
        assert (r["value"], r["baseline"], r["ratio"], r["skipped"]) == (None, None, None, "offline"), r
    for r in rows:
        if r["figure"].startswith("2. SQL per"):
            assert r["baseline"] is None and "dj-stripe" not in (r["goal"] or ""), r


def test_the_ratios_are_ours_over_dj_stripes_of_the_same_run():
    measured = {"djstripe": {
        "loadavg_before": "1.0", "loadavg_after": "2.0",
        "ours_new": {"queries_mean": 6.0, "server_cpu_ms_per_request": 8.0},
        "djstripe_new": {"queries_mean": 30.0, "server_cpu_ms_per_request": 40.0},
        "ours_duplicate": {"server_cpu_ms_per_request": 5.0},
        "djstripe_duplicate": {"server_cpu_ms_per_request": 10.0},
    }}
    rows = {r["figure"]: r for r in run.figures(measured)}
    sql = rows["7. Against dj-stripe: SQL per new event (mean)"]
    assert (sql["value"], sql["baseline"], sql["ratio"], sql["met"]) == (6.0, 30.0, 0.2, True)
    cpu = rows["7. Against dj-stripe: server CPU per new event"]
    assert (cpu["ratio"], cpu["met"], cpu["load"]) == (0.2, True, "1.0 -> 2.0")
    dup = rows["7. Against dj-stripe: server CPU per duplicate"]
    assert (dup["ratio"], dup["met"]) == (0.5, False)
    assert peer.problems(measured) == []


def test_without_its_registry_the_virtualenv_is_not_built_and_says_why(tmp_path, monkeypatch):
    """Offline (here: a package index that nobody answers on loopback), the
    phase gets a reason to print instead of a virtualenv, and no stamp is left
    to make a half-built one look ready."""
    from bench.djstripe import venv

    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    python, why = venv.ensure(lambda message: None, venv=tmp_path / "djstripe-venv")
    assert python is None
    assert "could not be built" in why
    assert not (tmp_path / "djstripe-venv" / ".installed").exists()
