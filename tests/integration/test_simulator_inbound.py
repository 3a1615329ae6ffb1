"""Inbound SMS from the carrier simulator (`POST /_sim/inbound`), received by a real local HTTP server.

Delays and retries run on a `ManualTimer`; everything else is waited for with a deadline.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from simulator.protocol import check_signature
from simulator.receipts import ManualTimer
from simulator.server import start_simulator
from tests.integration.test_simulator_receipts import REPO, Receiver, eventually

KEY, SECRET = "abcd1234", "topsecret99"
SIG_SECRET, SIG_METHOD = "sigsecret-123", "sha256"
SENDER, NUMBER = "31612345678", "3197010000001"
PART_FIELDS = {
    "msisdn",
    "to",
    "messageId",
    "text",
    "type",
    "keyword",
    "api-key",
    "message-timestamp",
    "timestamp",
}
CONCAT_FIELDS = {"concat", "concat-ref", "concat-total", "concat-part"}
SIGNATURE_FIELDS = {"nonce", "sig"}  # and `timestamp`, which an unsigned part has too
LONG = (
    "Reply STOP to opt out. " + "The quick brown fox jumps over the lazy dog. " * 8
)  # 383 chars: 3 GSM-7 parts


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def timer() -> ManualTimer:
    return ManualTimer()


def sim_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("carrier-simulator")]


@pytest.fixture
def make_sim(timer, receiver):
    """Simulators sending signed inbound messages to the receiver with four sender threads; all stopped after."""
    started = []

    def make(**config: Any):
        settings = {
            "api_key": KEY,
            "api_secret": SECRET,
            "signature_secret": SIG_SECRET,
            "signature_method": SIG_METHOD,
            "inbound_url": receiver.url,
            "dlr_workers": 4,
            **config,
        }
        handle = start_simulator(dlr_timer=timer, **settings)
        started.append(handle)
        return handle

    yield make
    for handle in started:
        handle.stop()
    assert sim_threads() == []


@pytest.fixture
def sim(make_sim):
    return make_sim()


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def inject(http, sim, text: str = "Hello", **options: Any) -> dict[str, Any]:
    response = http.post(
        f"{sim.url}/_sim/inbound", json={"from": SENDER, "to": NUMBER, "text": text, **options}
    )
    assert response.status_code == 200, response.text
    return response.json()


def inbound(http, sim) -> list[dict[str, Any]]:
    return http.get(f"{sim.url}/_sim/inbound", timeout=5).json()["inbound"]


def settled(http, sim, count: int) -> list[dict[str, Any]]:
    eventually(sim.state.webhooks.idle, bool, "the inbound parts to settle")
    records = inbound(http, sim)
    assert len(records) == count, records
    return records


def inbound_stats(http, sim) -> dict[str, int]:
    stats = http.get(f"{sim.url}/_sim/stats", timeout=5).json()
    return {name: value for name, value in stats.items() if name.startswith("inbound_")}


def signed_by_the_carrier(params: dict[str, str]) -> bool:
    return check_signature(params, SIG_SECRET, SIG_METHOD)


# --- parts, order, duplicates, drops ------------------------------------------------------------------------------


def test_a_long_message_arrives_as_signed_parts_in_the_given_order_with_duplicates(http, sim, receiver):
    before = int(time.time())
    answer = inject(http, sim, LONG, split=True, order=[3, 1, 2], duplicate=1)
    assert answer["order"] == [3, 3, 1, 1, 2, 2]
    assert (answer["url"], answer["method"], answer["concat_ref"]) == (receiver.url, "POST-JSON", "1")
    parts = answer["messages"]
    assert [part["concat-part"] for part in parts] == ["1", "2", "3"]
    assert "".join(part["text"] for part in parts) == LONG

    received = [request["params"] for request in receiver.wait_for(6)]  # four threads, yet in order
    assert [params["concat-part"] for params in received] == ["3", "3", "1", "1", "2", "2"]
    for request in receiver.requests:
        assert (request["method"], request["path"], request["content_type"]) == (
            "POST",
            "/carrier/dlr",  # the receiver's path; inbound_url is whatever the gateway's /carrier/inbound is
            "application/json",
        )
    for params in received:
        assert set(params) == PART_FIELDS | CONCAT_FIELDS | SIGNATURE_FIELDS
        assert all(isinstance(value, str) for value in params.values())
        assert signed_by_the_carrier(params)
        part = parts[int(params["concat-part"]) - 1]
        assert {name: params[name] for name in part if name != "timestamp"} == {
            name: value for name, value in part.items() if name != "timestamp"
        }
        assert (params["msisdn"], params["to"], params["type"], params["keyword"], params["api-key"]) == (
            SENDER,
            NUMBER,
            "text",
            "REPLY",
            KEY,
        )
        assert (params["concat"], params["concat-ref"], params["concat-total"]) == ("true", "1", "3")
        assert before <= int(params["timestamp"]) <= time.time()
    first, duplicate = received[0], received[1]
    assert first["messageId"] == duplicate["messageId"]  # a resend, as the carrier would
    assert first["nonce"] != duplicate["nonce"]  # signed afresh
    assert len({params["messageId"] for params in received}) == 3

    records = settled(http, sim, 6)
    assert [record["fields"] for record in records] == received
    for record in records:
        assert (record["url"], record["method"], record["attempts"], record["last_status"], record["ok"]) == (
            receiver.url,
            "POST-JSON",
            1,
            204,
            True,
        )
        assert before <= record["sent_at"] <= time.time()
    assert inbound_stats(http, sim) == {
        "inbound_injected": 1,
        "inbound_sent": 6,
        "inbound_failed": 0,
        "inbound_attempts": 6,
    }


def test_drop_leaves_parts_out(http, sim, receiver):
    answer = inject(http, sim, "abcdefghij", parts=4, drop=[2, 4])
    assert answer["order"] == [1, 3]
    assert len(answer["messages"]) == 4  # every part is named, sent or not
    settled(http, sim, 2)
    assert [params["concat-part"] for params in receiver.params()] == ["1", "3"]
    assert [params["text"] for params in receiver.params()] == ["abc", "gh"]
    assert [params["concat-total"] for params in receiver.params()] == ["4", "4"]


def test_a_short_message_is_one_part_without_concat_fields(http, sim, receiver):
    answer = inject(http, sim, "  stop all messages", split=True)
    assert (answer["concat_ref"], answer["order"]) == (None, [1])
    [request] = receiver.wait_for(1)
    assert set(request["params"]) == PART_FIELDS | SIGNATURE_FIELDS
    assert (request["params"]["text"], request["params"]["keyword"]) == ("  stop all messages", "STOP")


def test_shuffle_is_seeded(http, make_sim):
    orders = []
    for _ in range(2):
        sim = make_sim(seed=11)
        orders.append([inject(http, sim, "x" * 1000, split=True, shuffle=True)["order"] for _ in range(3)])
        sim.stop()
    assert orders[0] == orders[1]
    assert all(sorted(order) == list(range(1, 8)) for order in orders[0])
    assert any(order != sorted(order) for order in orders[0])


# --- encodings ------------------------------------------------------------------------------------------------


def units(text: str, kind: str) -> int:
    """GSM-7 septets (an extension character takes two) or UCS-2 code units (a surrogate pair takes two)."""
    if kind == "unicode":
        return len(text.encode("utf-16-le")) // 2
    return sum(2 if char in "|^€{}[]~\\" else 1 for char in text)


@pytest.mark.parametrize(
    ("kind", "text", "limit", "count"),
    [
        ("text", "€uro [prices] " * 20, 153, 3),  # 340 septets in 280 characters
        ("unicode", "Привет, мир! 😀 " * 10, 67, 3),  # 170 UCS-2 units in 160 characters
    ],
)
def test_text_and_unicode_parts_split_at_the_real_limits(http, sim, receiver, kind, text, limit, count):
    answer = inject(http, sim, text, type=kind, split=True)
    received = [request["params"] for request in receiver.wait_for(count)]
    texts = [params["text"] for params in received]
    assert "".join(texts) == text
    for part, following in itertools.pairwise(texts):
        assert units(part, kind) <= limit < units(part + following[0], kind)  # full: the next would not fit
    assert units(texts[-1], kind) <= limit
    assert {params["type"] for params in received} == {kind}
    assert [params["messageId"] for params in received] == [part["messageId"] for part in answer["messages"]]
    assert all(signed_by_the_carrier(params) for params in received)


def test_a_binary_message(http, sim, receiver):
    inject(http, sim, None, type="binary", data="0A1B2C", udh="0605040B8423F0")
    [request] = receiver.wait_for(1)
    params = request["params"]
    assert (params["type"], params["data"], params["udh"]) == ("binary", "0A1B2C", "0605040B8423F0")
    assert "text" not in params
    assert "concat" not in params
    assert signed_by_the_carrier(params)


@pytest.mark.parametrize(
    ("method", "http_method", "content_type"),
    [
        ("POST-JSON", "POST", "application/json"),
        ("POST", "POST", "application/x-www-form-urlencoded"),
        ("GET", "GET", ""),
    ],
)
def test_inbound_methods(http, sim, receiver, method, http_method, content_type):
    assert (
        http.put(f"{sim.url}/_sim/config", json={"inbound_method": method}).json()["inbound_method"] == method
    )
    inject(http, sim, "Hi & bye = ok ü", parts=2)
    received = receiver.wait_for(2)
    assert {(request["method"], request["content_type"]) for request in received} == {
        (http_method, content_type)
    }
    assert "".join(request["params"]["text"] for request in received) == "Hi & bye = ok ü"
    assert all(signed_by_the_carrier(request["params"]) for request in received)
    assert {record["method"] for record in settled(http, sim, 2)} == {method}


def test_per_message_method_url_signing_timestamp_api_key_and_fields(http, sim, receiver):
    other = Receiver()
    try:
        answer = inject(
            http,
            sim,
            "hello",
            url=other.url,
            method="POST",
            sign=False,
            message_timestamp="2024-02-29 23:59:58",
            api_key="otherkey",
            fields={"keyword": None, "network-code": "20416"},
        )
        [request] = other.wait_for(1)
    finally:
        other.stop()
    params = request["params"]
    assert request["content_type"] == "application/x-www-form-urlencoded"
    assert set(params) == PART_FIELDS - {"keyword"} | {"network-code"}  # unsigned
    assert (params["message-timestamp"], params["timestamp"], params["api-key"]) == (
        "2024-02-29 23:59:58",
        "1709251198",
        "otherkey",
    )
    assert answer["url"] == other.url
    assert receiver.requests == []


def test_unsigned_without_a_signature_secret(http, make_sim, receiver):
    sim = make_sim(signature_secret=None)
    inject(http, sim)
    [request] = receiver.wait_for(1)
    assert set(request["params"]) == PART_FIELDS


# --- where it goes --------------------------------------------------------------------------------------------


def test_an_owned_number_with_a_mo_http_url_gets_its_inbound_there(http, sim, receiver):
    other = Receiver()
    try:
        auth = (KEY, SECRET)
        buy = http.post(f"{sim.url}/number/buy", data={"country": "NL", "msisdn": NUMBER}, auth=auth)
        assert buy.status_code == 200, buy.text
        inject(http, sim, "to the account default")  # no moHttpUrl yet: inbound_url
        receiver.wait_for(1)
        update = {"country": "NL", "msisdn": NUMBER, "moHttpUrl": other.url}
        assert http.post(f"{sim.url}/number/update", data=update, auth=auth).status_code == 200
        assert inject(http, sim, "to the number's URL")["url"] == other.url
        assert other.wait_for(1)[0]["params"]["text"] == "to the number's URL"
        assert len(receiver.requests) == 1
    finally:
        other.stop()


def test_nowhere_to_send_and_bad_requests_are_refused(http, make_sim, receiver):
    sim = make_sim(inbound_url=None)
    for body, field in [
        ({"from": SENDER, "to": NUMBER, "text": "x"}, "url"),
        ({"to": NUMBER, "text": "x"}, "from"),
        ({"from": SENDER, "to": NUMBER, "text": "abc", "parts": 2, "order": [1]}, "order"),
        ({"from": SENDER, "to": NUMBER, "text": "x", "bogus": 1}, "bogus"),
    ]:
        response = http.post(f"{sim.url}/_sim/inbound", json=body, timeout=5)
        assert response.status_code == 400, body
        assert response.json()["error"].startswith(f"{field}: "), response.json()
    malformed = http.post(
        f"{sim.url}/_sim/inbound", data="{nope", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert inbound_stats(http, sim)["inbound_injected"] == 0
    assert receiver.requests == []


# --- retries, delays, reset -----------------------------------------------------------------------------------


def test_a_part_answered_500_is_retried_after_5_seconds_without_holding_back_the_next(
    http, sim, receiver, timer
):
    receiver.answers.extend([500])
    inject(http, sim, "abcd", parts=2)

    received = receiver.wait_for(2)  # part 2 left after part 1's first attempt, retry or not
    assert [request["params"]["concat-part"] for request in received] == ["1", "2"]
    eventually(lambda: sim.state.webhooks.due_in("inbound"), lambda due: due == [5.0], "the retry")
    timer.advance(5)
    third = receiver.wait_for(3)[2]["params"]
    assert (third["concat-part"], third["messageId"]) == ("1", received[0]["params"]["messageId"])
    assert signed_by_the_carrier(third)
    records = settled(http, sim, 2)
    assert [(record["attempts"], record["last_status"], record["ok"]) for record in records] == [
        (2, 204, True),
        (1, 204, True),
    ]
    assert inbound_stats(http, sim) == {
        "inbound_injected": 1,
        "inbound_sent": 2,
        "inbound_failed": 0,
        "inbound_attempts": 3,
    }


def test_inbound_retry_bounds_the_attempts_and_a_4xx_is_final(http, sim, receiver, timer):
    http.put(f"{sim.url}/_sim/config", json={"inbound_retry": 2, "inbound_retry_base_ms": 1000})
    receiver.answers.extend([503, 503, 404])
    inject(http, sim, "first")
    receiver.wait_for(1)
    eventually(lambda: sim.state.webhooks.due_in(), lambda due: due == [1.0], "the retry after 1 s")
    timer.advance(1)
    receiver.wait_for(2)
    eventually(lambda: inbound(http, sim), lambda records: records[0]["attempts"] == 2, "the second attempt")
    inject(http, sim, "second")
    receiver.wait_for(3)
    records = settled(http, sim, 2)
    assert [(record["attempts"], record["last_status"], record["ok"]) for record in records] == [
        (2, 503, False),
        (1, 404, False),
    ]
    assert inbound_stats(http, sim)["inbound_failed"] == 2


def test_delay_and_gap(http, sim, receiver, timer):
    inject(http, sim, "abc", parts=3, delay_ms=2000, gap_ms=500)
    assert sim.state.webhooks.due_in("inbound") == [2.0]
    timer.advance(2)
    receiver.wait_for(1)
    eventually(lambda: sim.state.webhooks.due_in(), lambda due: due == [0.5], "the second part")
    assert len(receiver.requests) == 1
    timer.advance(0.5)
    receiver.wait_for(2)
    eventually(lambda: sim.state.webhooks.due_in(), lambda due: due == [0.5], "the third part")
    timer.advance(0.5)
    assert [request["params"]["text"] for request in receiver.wait_for(3)] == ["a", "b", "c"]


def test_reset_forgets_inbound_and_cancels_pending_parts(http, sim, receiver):
    inject(http, sim)
    settled(http, sim, 1)
    inject(http, sim, "later", delay_ms=60_000)
    assert sim.state.webhooks.due_in("inbound") == [60.0]

    assert http.post(f"{sim.url}/_sim/reset", timeout=5).json() == {"reset": True}
    assert sim.state.webhooks.due_in() == []
    assert inbound(http, sim) == []
    assert set(inbound_stats(http, sim).values()) == {0}
    assert inject(http, sim, "abc", parts=2)["concat_ref"] == "1"  # the refs start again too


def test_inbound_and_receipts_share_the_sender_but_not_the_records(http, sim, receiver):
    http.put(f"{sim.url}/_sim/config", json={"dlr_url": receiver.url, "dlr_delay_ms": [0, 0]})
    sms = {"api_key": KEY, "api_secret": SECRET, "from": "AcmeInc", "to": "447700900000", "text": "Hi"}
    assert http.post(f"{sim.url}/sms/json", data=sms).json()["messages"][0]["status"] == "0"
    inject(http, sim)
    receiver.wait_for(2)
    eventually(sim.state.webhooks.idle, bool, "both to settle")
    assert [record["fields"].get("status") for record in http.get(f"{sim.url}/_sim/dlrs").json()["dlrs"]] == [
        "delivered"
    ]
    assert [record["fields"]["text"] for record in inbound(http, sim)] == ["Hello"]


def test_inbound_settings_defaults_and_refusals(http, make_sim):
    sim = make_sim(inbound_url=None)
    current = http.get(f"{sim.url}/_sim/config", timeout=5).json()
    assert {name: value for name, value in current.items() if name.startswith("inbound_")} == {
        "inbound_url": None,
        "inbound_method": "POST-JSON",
        "inbound_retry": 3,
        "inbound_retry_base_ms": 5000,
        "inbound_retry_max_ms": 900_000,
        "inbound_timeout_ms": 5000,
    }
    for bad in [
        {"inbound_url": "ftp://gw/in"},
        {"inbound_method": "PUT"},
        {"inbound_retry": 0},
        {"inbound_retry_base_ms": -1},
        {"inbound_timeout_ms": 0},
    ]:
        response = http.put(f"{sim.url}/_sim/config", json=bad, timeout=5)
        assert response.status_code == 400, bad
        assert response.json()["error"].startswith(f"{next(iter(bad))}: ")


# --- python -m simulator ----------------------------------------------------------------------------------------


def test_module_cli_sends_inbound_to_inbound_url(http, receiver):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "--signature-secret",
            SIG_SECRET,
            "--signature-method",
            SIG_METHOD,
            "--inbound-url",
            receiver.url,
            "--inbound-method",
            "GET",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = json.loads(process.stdout.readline())["simulator_url"]
        answer = http.post(
            f"{url}/_sim/inbound", json={"from": SENDER, "to": NUMBER, "text": "Hi"}, timeout=5
        )
        assert answer.status_code == 200, answer.text
        [request] = receiver.wait_for(1)
        assert request["method"] == "GET"
        assert request["params"]["messageId"] == answer.json()["messages"][0]["messageId"]
        assert request["params"]["api-key"] == "00000000"  # an open simulator names no account
        assert signed_by_the_carrier(request["params"])

        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        _, stderr = process.communicate(timeout=5)
        assert "Traceback" not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def test_module_cli_refuses_a_bad_inbound_url():
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--inbound-url", "ftp://gw/in"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 2
    assert "argument --inbound-url: must be an http:// or https:// URL" in result.stderr
