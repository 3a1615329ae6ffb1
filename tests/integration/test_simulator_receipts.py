"""The carrier simulator's delivery receipts, received by a real local HTTP server standing in for the gateway.

Time for delays and retries is a `ManualTimer` the tests move by hand, so a 5 s backoff costs nothing;
everything else is waited for with a deadline.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from simulator.protocol import check_signature
from simulator.receipts import ManualTimer
from simulator.server import start_simulator

REPO = Path(__file__).resolve().parents[2]
KEY, SECRET = "abcd1234", "topsecret99"
SIG_SECRET, SIG_METHOD = "sigsecret-123", "sha256"
CLIENT_ID, CLIENT_SECRET = "kpn-client", "kpn-client-secret"
TO, FROM = "447700900000", "AcmeInc"
RECEIPT_FIELDS = {
    "msisdn",
    "to",
    "network-code",
    "messageId",
    "price",
    "status",
    "err-code",
    "api-key",
    "scts",
    "message-timestamp",
}
SIGNATURE_FIELDS = {"timestamp", "nonce", "sig"}
DEADLINE = 5.0
T = TypeVar("T")


def eventually(read: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """Read until `done(value)`, for at most `DEADLINE` seconds."""
    deadline = time.monotonic() + DEADLINE
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {DEADLINE} s for {what}; last saw {value!r}")
        time.sleep(0.005)


# --- the gateway stand-in -------------------------------------------------------------------------------------


class Receiver:
    """An HTTP server recording every request (parsed as GET query, form or JSON) and answering from a script.

    `answers` holds the statuses of the next answers (then 204); while `gate` is clear, answers wait.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: deque[int] = deque()
        self.gate = threading.Event()
        self.gate.set()
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._record()

            def do_POST(self) -> None:
                self._record()

            def _record(self) -> None:
                url = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                content_type = self.headers.get("Content-Type", "")
                if self.command == "GET":
                    params = dict(parse_qsl(url.query, keep_blank_values=True))
                elif content_type == "application/json":
                    params = json.loads(body)
                else:
                    params = dict(parse_qsl(body.decode(), keep_blank_values=True))
                with receiver._cond:
                    receiver.requests.append(
                        {
                            "method": self.command,
                            "path": url.path,
                            "content_type": content_type,
                            "params": params,
                        }
                    )
                    receiver._cond.notify_all()
                receiver.gate.wait(DEADLINE * 2)
                with receiver._cond:
                    status = receiver.answers.popleft() if receiver.answers else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def server_bind(self) -> None:  # no reverse DNS lookup of 127.0.0.1
                socketserver.TCPServer.server_bind(self)

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/carrier/dlr"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    def wait_for(self, count: int) -> list[dict[str, Any]]:
        """The first `count` requests, once they have arrived."""
        with self._cond:
            arrived = self._cond.wait_for(lambda: len(self.requests) >= count, DEADLINE)
            assert arrived, f"expected {count} receipts, got {len(self.requests)}: {self.requests}"
            return list(self.requests[:count])

    def params(self) -> list[dict[str, str]]:
        with self._cond:
            return [request["params"] for request in self.requests]

    def stop(self) -> None:
        self.gate.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


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
    """Start simulators (signed receipts to the receiver, no delay, one sender thread); stop them all after."""
    started = []

    def make(**config: Any):
        settings = {
            "api_key": KEY,
            "api_secret": SECRET,
            "signature_secret": SIG_SECRET,
            "signature_method": SIG_METHOD,
            "kpn_client_id": CLIENT_ID,
            "kpn_client_secret": CLIENT_SECRET,
            "dlr_url": receiver.url,
            "dlr_delay_ms": [0, 0],
            "dlr_workers": 1,
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


def send(http, sim, text="Hello", **extra):
    params = {"api_key": KEY, "api_secret": SECRET, "from": FROM, "to": TO, "text": text, **extra}
    response = http.post(f"{sim.url}/sms/json", data=params, timeout=5)
    assert response.status_code == 200
    assert {element["status"] for element in response.json()["messages"]} == {"0"}, response.text
    return [element["message-id"] for element in response.json()["messages"]]


def configure(http, sim, **settings):
    response = http.put(f"{sim.url}/_sim/config", json=settings, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def dlrs(http, sim) -> list[dict[str, Any]]:
    return http.get(f"{sim.url}/_sim/dlrs", timeout=5).json()["dlrs"]


def settled_dlrs(http, sim, count: int) -> list[dict[str, Any]]:
    """`GET /_sim/dlrs` once nothing is pending or in flight; it must then list `count` receipts."""
    eventually(sim.state.receipts.idle, bool, "the receipts to settle")
    records = dlrs(http, sim)
    assert len(records) == count, records
    return records


def stats(http, sim) -> dict[str, int]:
    return http.get(f"{sim.url}/_sim/stats", timeout=5).json()


def dlr_stats(http, sim) -> dict[str, int]:
    return {name: value for name, value in stats(http, sim).items() if "dlr" in name}


def signed_by_the_carrier(params: dict[str, str]) -> bool:
    return check_signature(params, SIG_SECRET, SIG_METHOD)


# --- what a send brings back ----------------------------------------------------------------------------------


def test_a_long_message_brings_one_signed_receipt_per_part(http, sim, receiver):
    before = int(time.time())
    ids = send(http, sim, text="a" * 400, **{"client-ref": "order-7"})
    assert len(ids) == 3

    received = [request["params"] for request in receiver.wait_for(3)]
    assert [params["messageId"] for params in received] == ids  # one sender thread: in part order
    for request in receiver.requests:
        assert (request["method"], request["path"], request["content_type"]) == (
            "POST",
            "/carrier/dlr",
            "application/json",
        )
    for params in received:
        assert set(params) == RECEIPT_FIELDS | {"client-ref"} | SIGNATURE_FIELDS
        assert all(isinstance(value, str) for value in params.values())
        assert signed_by_the_carrier(params)
        assert {
            name: params[name] for name in ("msisdn", "to", "status", "err-code", "api-key", "client-ref")
        } == {
            "msisdn": TO,
            "to": FROM,
            "status": "delivered",
            "err-code": "0",
            "api-key": KEY,
            "client-ref": "order-7",
        }
        assert (params["network-code"], params["price"]) == ("20416", "0.03330000")
        assert before <= int(params["timestamp"]) <= time.time()
        assert re.fullmatch(r"\d{10}", params["scts"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", params["message-timestamp"])
    assert len({params["nonce"] for params in received}) == 3

    records = settled_dlrs(http, sim, 3)
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
    assert dlr_stats(http, sim) == {"dlrs_sent": 3, "dlrs_failed": 0, "dlrs_skipped": 0, "dlr_attempts": 3}


def test_the_send_answer_does_not_wait_for_the_receipt(http, sim, receiver):
    receiver.gate.clear()  # the gateway takes the receipt but does not answer yet
    [message_id] = send(http, sim)
    [request] = receiver.wait_for(1)
    assert request["params"]["messageId"] == message_id
    assert dlrs(http, sim) == []  # still in flight
    receiver.gate.set()
    assert settled_dlrs(http, sim, 1)[0]["ok"] is True


def test_receipts_wait_for_their_delay(http, make_sim, receiver, timer):
    sim = make_sim(dlr_delay_ms=[60_000, 60_000])
    send(http, sim)
    assert sim.state.receipts.due_in() == [60.0]
    assert receiver.requests == []
    timer.advance(60)
    receiver.wait_for(1)
    assert sim.state.receipts.due_in() == []


@pytest.mark.parametrize(
    ("method", "http_method", "content_type"),
    [
        ("POST-JSON", "POST", "application/json"),
        ("POST", "POST", "application/x-www-form-urlencoded"),
        ("GET", "GET", ""),
    ],
)
def test_receipt_encodings(http, sim, receiver, method, http_method, content_type):
    configure(http, sim, dlr_method=method)
    [message_id] = send(http, sim, text="Hi & bye = ok", **{"client-ref": "a&b=c ü"})

    [request] = receiver.wait_for(1)
    assert (request["method"], request["content_type"]) == (http_method, content_type)
    assert request["params"]["messageId"] == message_id
    assert request["params"]["client-ref"] == "a&b=c ü"
    assert signed_by_the_carrier(request["params"])
    assert settled_dlrs(http, sim, 1)[0]["method"] == method


def test_unsigned_when_there_is_no_signature_secret(http, make_sim, receiver):
    sim = make_sim(signature_secret=None)
    send(http, sim)
    [request] = receiver.wait_for(1)
    assert set(request["params"]) == RECEIPT_FIELDS


def test_the_callback_param_wins_over_dlr_url(http, sim, receiver):
    other = Receiver()
    try:
        send(http, sim, callback=other.url)
        [request] = other.wait_for(1)
        assert signed_by_the_carrier(request["params"])
        assert settled_dlrs(http, sim, 1)[0]["url"] == other.url
        assert receiver.requests == []
    finally:
        other.stop()


def test_no_receipts_when_not_asked_for_or_nowhere_to_send(http, make_sim, receiver):
    sim = make_sim(dlr_url=None)
    send(http, sim, text="a" * 200)  # two parts, no callback, no dlr_url
    configure(http, sim, dlr_url=receiver.url)
    send(http, sim, **{"status-report-req": "false"})
    send(http, sim, **{"status-report-req": "0"})
    [message_id] = send(http, sim, **{"status-report-req": "true"})

    [request] = receiver.wait_for(1)
    assert request["params"]["messageId"] == message_id
    settled_dlrs(http, sim, 1)
    assert dlr_stats(http, sim) == {"dlrs_sent": 1, "dlrs_failed": 0, "dlrs_skipped": 4, "dlr_attempts": 1}


def test_a_kpn_submission_brings_receipts_with_the_api_key(http, make_sim, receiver):
    for api_key, expected in [(KEY, KEY), (None, CLIENT_ID)]:
        sim = make_sim(api_key=api_key)
        token = http.post(
            f"{sim.url}/oauth/client_credential/accesstoken?grant_type=client_credentials",
            data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
            timeout=5,
        ).json()["access_token"]
        answer = http.post(
            f"{sim.url}/communication/nexmo/sms/send",
            data={"from": FROM, "to": TO, "text": "Hello"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()
        receiver.wait_for(1)
        sim.stop()
        [params] = receiver.params()
        assert (params["messageId"], params["api-key"]) == (answer["messages"][0]["message-id"], expected)
        receiver.requests.clear()


def test_basic_auth_submissions_carry_the_basic_api_key(http, make_sim, receiver):
    sim = make_sim(api_key=None)  # an open account: any key passes, the receipt names the one used
    response = http.post(
        f"{sim.url}/sms/json", data={"from": FROM, "to": TO, "text": "Hi"}, auth=("basickey", "x"), timeout=5
    )
    assert response.json()["messages"][0]["status"] == "0"
    [request] = receiver.wait_for(1)
    assert request["params"]["api-key"] == "basickey"


# --- the mix: statuses, intermediates, duplicates, order ------------------------------------------------------------


def test_dlr_next_gives_the_next_parts_their_statuses(http, sim, receiver):
    assert configure(http, sim, dlr_next=["failed", "expired"])["dlr_next"] == ["failed", "expired"]
    first = send(http, sim, text="a" * 200)
    assert http.get(f"{sim.url}/_sim/config", timeout=5).json()["dlr_next"] == []
    second = send(http, sim)

    received = receiver.wait_for(3)
    by_id = {request["params"]["messageId"]: request["params"] for request in received}
    assert [(by_id[i]["status"], by_id[i]["err-code"]) for i in [*first, *second]] == [
        ("failed", "8"),
        ("expired", "2"),
        ("delivered", "0"),
    ]


def test_the_status_weights(http, sim, receiver):
    configure(http, sim, dlr_statuses={"rejected": 1, "delivered": 0})
    send(http, sim)
    [request] = receiver.wait_for(1)
    assert (request["params"]["status"], request["params"]["err-code"]) == ("rejected", "6")


def test_the_seed_decides_the_mix(http, make_sim):
    mix = {"dlr_statuses": {"delivered": 1, "failed": 1, "expired": 1, "unknown": 1}, "dlr_intermediate": 0.5}
    outcomes = []
    for _ in range(2):
        sim = make_sim(seed=7, **mix)
        ids = send(http, sim, text="a" * 2000)
        assert len(ids) == 14
        eventually(sim.state.receipts.idle, bool, "the receipts to settle")
        fields = [record["fields"] for record in dlrs(http, sim)]
        outcomes.append([(ids.index(receipt["messageId"]), receipt["status"]) for receipt in fields])
        sim.stop()
    assert outcomes[0] == outcomes[1]
    statuses = {status for _, status in outcomes[0]}
    assert {"delivered", "failed", "expired", "unknown"} <= statuses
    assert {"accepted", "buffered"} & statuses


@pytest.mark.parametrize(
    ("reorder", "final", "order"),
    [
        (False, "delivered", ["accepted", "delivered"]),
        (True, "delivered", ["delivered", "accepted"]),
        (False, "expired", ["buffered", "expired"]),
    ],
)
def test_an_intermediate_receipt_before_or_after_the_final_one(
    http, sim, receiver, timer, reorder, final, order
):
    configure(http, sim, dlr_intermediate=1, dlr_reorder=reorder, dlr_next=[final], dlr_delay_ms=[1000, 1000])
    [message_id] = send(http, sim)

    assert sim.state.receipts.due_in() == [1.0]
    timer.advance(1)
    receiver.wait_for(1)
    eventually(sim.state.receipts.due_in, lambda due: due == [1.0], "the second receipt to be scheduled")
    timer.advance(1)
    received = [request["params"] for request in receiver.wait_for(2)]
    assert [params["status"] for params in received] == order
    assert {params["messageId"] for params in received} == {message_id}
    assert all(signed_by_the_carrier(params) for params in received)
    assert [record["fields"]["status"] for record in settled_dlrs(http, sim, 2)] == order


def test_dlr_reorder_rate_sends_a_share_of_intermediate_receipts_late(http, make_sim, receiver):
    sim = make_sim(seed=7, dlr_delay_ms=[0, 0])
    configure(http, sim, dlr_intermediate=1, dlr_reorder_rate=0.5)
    for n in range(20):
        send(http, sim, text=f"m{n}")
    records = settled_dlrs(http, sim, 40)
    by_part: dict[str, list[str]] = {}
    for record in records:
        by_part.setdefault(record["fields"]["messageId"], []).append(record["fields"]["status"])
    orders = Counter(tuple(statuses) for statuses in by_part.values())
    assert set(orders) == {("accepted", "delivered"), ("delivered", "accepted")}
    assert 3 <= orders["delivered", "accepted"] <= 17


def test_duplicates_are_the_same_receipt_twice(http, sim, receiver):
    configure(http, sim, dlr_duplicate_rate=1)
    [message_id] = send(http, sim)

    first, second = (request["params"] for request in receiver.wait_for(2))
    same = {name: value for name, value in first.items() if name not in SIGNATURE_FIELDS}
    assert same["messageId"] == message_id
    assert {name: value for name, value in second.items() if name not in SIGNATURE_FIELDS} == same
    assert first["nonce"] != second["nonce"]
    assert signed_by_the_carrier(first)
    assert signed_by_the_carrier(second)
    settled_dlrs(http, sim, 2)
    assert stats(http, sim)["dlrs_sent"] == 2


# --- retries ----------------------------------------------------------------------------------------------------


def test_a_receipt_answered_500_is_retried_after_5_seconds(http, sim, receiver, timer):
    receiver.answers.extend([500])
    send(http, sim)

    receiver.wait_for(1)
    [record] = eventually(lambda: dlrs(http, sim), lambda records: len(records) == 1, "the first attempt")
    assert (record["attempts"], record["last_status"], record["ok"]) == (1, 500, False)
    assert sim.state.receipts.due_in() == [5.0]
    assert dlr_stats(http, sim) == {"dlrs_sent": 0, "dlrs_failed": 0, "dlrs_skipped": 0, "dlr_attempts": 1}

    timer.advance(5)
    first, second = (request["params"] for request in receiver.wait_for(2))
    assert second["messageId"] == first["messageId"]
    assert second["nonce"] != first["nonce"]  # signed afresh for each attempt
    assert signed_by_the_carrier(second)
    [record] = eventually(lambda: dlrs(http, sim), lambda records: records[0]["ok"], "the retry to succeed")
    assert (record["attempts"], record["last_status"], record["fields"]) == (2, 204, second)
    assert dlr_stats(http, sim) == {"dlrs_sent": 1, "dlrs_failed": 0, "dlrs_skipped": 0, "dlr_attempts": 2}


def test_backoff_doubles_up_to_the_cap_and_gives_up_after_dlr_retry_attempts(http, sim, receiver, timer):
    configure(http, sim, dlr_retry=4, dlr_retry_max_ms=15_000)
    receiver.answers.extend([503, 429, 502, 500])
    send(http, sim)

    for attempt, wait in enumerate([5.0, 10.0, 15.0], start=1):
        receiver.wait_for(attempt)
        eventually(sim.state.receipts.due_in, lambda due: due == [wait], f"retry {attempt} in {wait} s")  # noqa: B023
        timer.advance(wait)
    receiver.wait_for(4)
    [record] = eventually(lambda: dlrs(http, sim), lambda records: records[0]["attempts"] == 4, "4 attempts")
    assert (record["last_status"], record["ok"]) == (500, False)
    assert sim.state.receipts.due_in() == []
    assert dlr_stats(http, sim) == {"dlrs_sent": 0, "dlrs_failed": 1, "dlrs_skipped": 0, "dlr_attempts": 4}


def test_a_4xx_answer_is_not_retried(http, sim, receiver):
    receiver.answers.extend([400])
    send(http, sim)
    [record] = settled_dlrs(http, sim, 1)
    assert (record["attempts"], record["last_status"], record["ok"]) == (1, 400, False)
    assert dlr_stats(http, sim)["dlrs_failed"] == 1


def test_an_unreachable_gateway_is_retried(http, make_sim, timer):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sim = make_sim(dlr_url=f"http://127.0.0.1:{port}/carrier/dlr", dlr_retry=2)
    send(http, sim)

    [record] = eventually(lambda: dlrs(http, sim), lambda records: len(records) == 1, "the first attempt")
    assert (record["attempts"], record["last_status"], record["ok"]) == (1, None, False)
    assert "ConnectionRefused" in record["error"]
    eventually(sim.state.receipts.due_in, lambda due: due == [5.0], "the retry")
    timer.advance(5)
    eventually(lambda: dlrs(http, sim), lambda records: records[0]["attempts"] == 2, "the second attempt")
    assert dlr_stats(http, sim)["dlrs_failed"] == 1


# --- reset and stop ---------------------------------------------------------------------------------------------


def test_reset_forgets_receipts_and_cancels_pending_ones(http, sim, receiver, timer):
    send(http, sim)
    settled_dlrs(http, sim, 1)
    configure(http, sim, dlr_delay_ms=[1000, 1000])
    send(http, sim, text="cancelled")
    assert sim.state.receipts.due_in() == [1.0]

    assert http.post(f"{sim.url}/_sim/reset", timeout=5).json() == {"reset": True}
    assert sim.state.receipts.due_in() == []
    assert dlrs(http, sim) == []
    assert set(dlr_stats(http, sim).values()) == {0}

    configure(http, sim, dlr_delay_ms=[2000, 2000])
    [after] = send(http, sim, text="after the reset")
    timer.advance(2)  # the cancelled receipt would have been due first
    received = receiver.wait_for(2)
    assert received[1]["params"]["messageId"] == after
    assert [record["fields"]["messageId"] for record in settled_dlrs(http, sim, 1)] == [after]
    assert len(receiver.requests) == 2


def test_a_receipt_in_flight_during_a_reset_is_not_recorded_nor_retried(http, sim, receiver):
    receiver.gate.clear()
    receiver.answers.extend([500])  # would be retried, were it still remembered
    send(http, sim)
    receiver.wait_for(1)
    http.post(f"{sim.url}/_sim/reset", timeout=5)
    receiver.gate.set()

    eventually(sim.state.receipts.idle, bool, "the receipt in flight to end")
    assert dlrs(http, sim) == []
    assert sim.state.receipts.due_in() == []
    assert set(dlr_stats(http, sim).values()) == {0}


def test_stop_ends_the_sender_at_once_even_with_a_receipt_in_flight(http, make_sim, receiver):
    sim = make_sim(dlr_workers=3, dlr_timeout_ms=60_000)
    receiver.gate.clear()  # the gateway never answers
    send(http, sim)
    receiver.wait_for(1)
    configure(http, sim, dlr_delay_ms=[60_000, 60_000])
    send(http, sim, text="pending")
    assert len([thread for thread in sim_threads() if "-webhook-" in thread.name]) == 3

    stopper = threading.Thread(target=sim.stop)
    stopper.start()
    stopper.join(DEADLINE)
    assert not stopper.is_alive(), "stop() waited for the gateway"
    assert sim_threads() == []
    assert sim.state.receipts.due_in() == []


def test_a_simulator_that_never_sent_a_receipt_starts_no_sender_thread(http, make_sim):
    sim = make_sim(dlr_url=None)
    send(http, sim)
    assert [thread.name for thread in sim_threads()] == ["carrier-simulator"]


# --- POST /_sim/dlr ---------------------------------------------------------------------------------------------


def send_dlr(http, sim, **body):
    return http.post(f"{sim.url}/_sim/dlr", json=body, timeout=5)


def test_a_receipt_on_demand(http, make_sim, receiver):
    sim = make_sim(dlr_url=None)
    ids = send(
        http, sim, text="a" * 200, callback=receiver.url, **{"client-ref": "r-1", "status-report-req": "0"}
    )
    assert receiver.requests == []

    response = send_dlr(http, sim, messageId=ids[1], status="failed")
    assert response.status_code == 200, response.text
    record = response.json()["dlr"]
    [request] = receiver.wait_for(1)
    params = request["params"]
    assert record["fields"] == params
    assert (record["ok"], record["attempts"], record["last_status"]) == (True, 1, 204)
    assert (params["messageId"], params["status"], params["err-code"], params["client-ref"]) == (
        ids[1],
        "failed",
        "8",
        "r-1",
    )
    assert signed_by_the_carrier(params)
    assert dlrs(http, sim) == [record]

    again = send_dlr(
        http,
        sim,
        messageId=ids[0],
        status="bogus",
        **{"err-code": 99, "client-ref": None, "_method": "GET", "_sign": False},
    )
    assert again.status_code == 200, again.text
    params = receiver.wait_for(2)[1]["params"]
    assert receiver.requests[1]["method"] == "GET"
    assert (params["status"], params["err-code"]) == ("bogus", "99")
    assert set(params) == RECEIPT_FIELDS  # no client-ref, no signature
    assert stats(http, sim)["dlrs_sent"] == 2


def test_a_receipt_on_demand_to_another_url_and_refusals(http, sim, receiver):
    [message_id] = send(http, sim, **{"status-report-req": "false"})
    other = Receiver()
    try:
        response = send_dlr(http, sim, messageId=message_id, _url=other.url)
        assert response.status_code == 200
        assert other.wait_for(1)[0]["params"]["messageId"] == message_id
    finally:
        other.stop()

    for body, status, field in [
        ({}, 400, "messageId"),
        ({"messageId": "nope"}, 404, "messageId"),
        ({"messageId": message_id, "_method": "PUT"}, 400, "_method"),
        ({"messageId": message_id, "_url": "ftp://x"}, 400, "_url"),
        ({"messageId": message_id, "_sign": "no"}, 400, "_sign"),
        ({"messageId": message_id, "_delay": 1}, 400, "_delay"),
        ({"messageId": message_id, "status": ["failed"]}, 400, "status"),
    ]:
        refused = send_dlr(http, sim, **body)
        assert refused.status_code == status, body
        assert refused.json()["error"].startswith(f"{field}: "), refused.json()
    configure(http, sim, dlr_url=None)
    assert send_dlr(http, sim, messageId=message_id).json()["error"].startswith("_url: ")
    assert receiver.requests == []


# --- settings ---------------------------------------------------------------------------------------------------


def test_receipt_settings_defaults_and_refusals(http, make_sim):
    sim = make_sim(dlr_url=None, dlr_delay_ms=[50, 200], dlr_workers=4)
    current = http.get(f"{sim.url}/_sim/config", timeout=5).json()
    assert {name: value for name, value in current.items() if name.startswith("dlr_")} == {
        "dlr_url": None,
        "dlr_method": "POST-JSON",
        "dlr_statuses": {"delivered": 1.0},
        "dlr_next": [],
        "dlr_intermediate": 0.0,
        "dlr_reorder": False,
        "dlr_reorder_rate": 0.0,
        "dlr_duplicate_rate": 0.0,
        "dlr_delay_ms": [50, 200],
        "dlr_retry": 3,
        "dlr_retry_base_ms": 5000,
        "dlr_retry_max_ms": 900_000,
        "dlr_timeout_ms": 5000,
    }
    assert (
        configure(http, sim, dlr_method="post", dlr_url="https://gw.example/carrier/dlr")["dlr_method"]
        == "POST"
    )
    for bad in [
        {"dlr_url": "ftp://gw/dlr"},
        {"dlr_url": "http://"},
        {"dlr_url": "http://gw:port/"},
        {"dlr_method": "PUT"},
        {"dlr_statuses": {}},
        {"dlr_statuses": {"accepted": 1}},
        {"dlr_statuses": {"delivered": 0}},
        {"dlr_statuses": {"delivered": -1}},
        {"dlr_statuses": ["delivered"]},
        {"dlr_next": ["sent"]},
        {"dlr_next": "failed"},
        {"dlr_intermediate": 1.5},
        {"dlr_reorder": 1},
        {"dlr_duplicate_rate": -0.1},
        {"dlr_delay_ms": [200, 50]},
        {"dlr_delay_ms": [50]},
        {"dlr_delay_ms": 50},
        {"dlr_retry": 0},
        {"dlr_retry_base_ms": -1},
        {"dlr_timeout_ms": 0},
    ]:
        response = http.put(f"{sim.url}/_sim/config", json=bad, timeout=5)
        assert response.status_code == 400, bad
        [field] = bad
        assert response.json()["error"].startswith(f"{field}: "), response.json()
    assert http.get(f"{sim.url}/_sim/config", timeout=5).json()["dlr_url"] == "https://gw.example/carrier/dlr"
    assert configure(http, sim, dlr_url=None)["dlr_url"] is None


def test_reset_with_config_restores_the_receipt_settings(http, sim, receiver):
    configure(http, sim, dlr_next=["failed"], dlr_method="GET", dlr_url=None)
    http.post(f"{sim.url}/_sim/reset", json={"config": True}, timeout=5)
    current = http.get(f"{sim.url}/_sim/config", timeout=5).json()
    assert (current["dlr_next"], current["dlr_method"], current["dlr_url"]) == ([], "POST-JSON", receiver.url)
    send(http, sim)
    assert receiver.wait_for(1)[0]["params"]["status"] == "delivered"


# --- python -m simulator --------------------------------------------------------------------------------------------


def test_module_cli_sends_signed_receipts_to_dlr_url(http, receiver):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "--api-key",
            KEY,
            "--api-secret",
            SECRET,
            "--signature-secret",
            SIG_SECRET,
            "--signature-method",
            SIG_METHOD,
            "--dlr-url",
            receiver.url,
            "--dlr-method",
            "POST",
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
            f"{url}/sms/json",
            data={"api_key": KEY, "api_secret": SECRET, "from": FROM, "to": TO, "text": "Hi"},
            timeout=5,
        ).json()
        [request] = receiver.wait_for(1)
        assert request["content_type"] == "application/x-www-form-urlencoded"
        assert request["params"]["messageId"] == answer["messages"][0]["message-id"]
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


def test_module_cli_refuses_a_bad_dlr_url():
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--dlr-url", "ftp://gw/dlr"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 2
    assert "argument --dlr-url: must be an http:// or https:// URL" in result.stderr
    assert result.stdout == ""
