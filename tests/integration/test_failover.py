"""Failover between a route's connectors: an unambiguous failure moves a message to the next connector,
a circuit breaker shared by all functions moves the traffic, a probe brings it back; an unconfirmed
submission never moves (the SMS would arrive twice)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from local.events import ack
from local.testing import poll
from smsgw.dispatch import breaker, repository
from smsgw.dispatch import connectors as dispatch_connectors
from smsgw.messages import repository as messages
from smsgw.routing import service as routing
from tests.integration.test_dispatch import accept, configure, dispatch, message, receive_batch, sim_messages
from tests.integration.test_routing_dispatch import (
    second_carrier,  # noqa: F401 - a fixture
    view,
)

GB = "447700900000"


@pytest.fixture
def two_carriers(aws, account, carrier_env, second_carrier, monkeypatch):  # noqa: F811
    """Route GB to the default connector, then `b`; the breaker opens after 2 failures."""
    monkeypatch.setenv("BREAKER_FAILURES", "2")
    monkeypatch.setenv("BREAKER_PAUSE_SECONDS", "1")
    from smsgw.core.memo import forget_all

    forget_all()
    routing.set_connector("b", "simulator", second_carrier.url, "smsgw/b", 10.0, "signature")
    routing.set_route("gb", ["default", "b"], country="GB")
    return carrier_env, second_carrier


def drain(aws) -> None:
    """Dispatch every record now in the send queue (and those it enqueues), as the event source would."""
    while (event := receive_batch(aws))["Records"]:
        ack(aws.send_queue_url, event, dispatch(event))


def dispatch_once(aws) -> dict[str, Any]:
    event = receive_batch(aws)
    answer = dispatch(event)
    ack(aws.send_queue_url, event, answer)
    return answer


def submissions(simulator) -> int:
    """Every submission the simulator answered, whatever the answer."""
    import requests

    stats = requests.get(f"{simulator.url}/_sim/stats", timeout=5).json()
    return sum(stats[k] for k in ("accepted", "failed", "throttled", "rejected", "invalid", "unauthorized"))


def events(aws, message_id: str) -> list[str]:
    return [e["status"] for e in message(aws, message_id)["events"]]


def test_a_carrier_error_moves_the_message_to_the_next_connector_at_once(aws, account, two_carriers):
    first, second = two_carriers
    configure(first, fail_next=1)  # HTTP 500: the carrier answered, nothing was sent
    message_id = accept(account, to=GB)
    drain(aws)
    assert sim_messages(first) == []
    assert [m["to"] for m in sim_messages(second)] == [GB]
    stored = message(aws, message_id)
    assert (stored["status"], stored["connector"]) == ("submitted", "b")
    assert events(aws, message_id) == ["queued", "failed_over", "submitted"]
    assert "failed_connectors" not in stored  # forgotten once it went through
    # Its owner sees each attempt: where it went and how it ended.
    attempts = view(account, message_id)["carrier_attempts"]
    assert [(a["connector"], a["outcome"]) for a in attempts] == [
        ("default", "failed_over"),
        ("b", "submitted"),
    ]
    assert "http 500" in attempts[0]["detail"]


def test_an_open_breaker_sends_the_traffic_to_the_next_connector_and_a_probe_brings_it_back(
    aws, account, two_carriers
):
    first, second = two_carriers
    configure(first, fail_rate=1.0)
    for _ in range(2):  # two failures open the breaker (BREAKER_FAILURES=2)
        accept(account, to=GB)
        drain(aws)
    assert breaker.is_open("default")
    assert len(sim_messages(second)) == 2

    # While it is open, new traffic goes straight to b: the failing carrier is not tried.
    configure(first, fail_rate=0.0)
    tried_before = submissions(first)
    later = accept(account, to=GB)
    drain(aws)
    assert message(aws, later)["connector"] == "b"
    assert "failed_over" not in events(aws, later)
    assert submissions(first) == tried_before

    # After the pause one probe goes to the default; it works, the breaker closes, traffic returns.
    def probed() -> Any:
        message_id = accept(account, to=GB)
        drain(aws)
        return message(aws, message_id)["connector"] == "default" or None

    poll(probed, timeout=10, interval=0.3, what="a probe to the recovered connector")
    assert not breaker.is_open("default", time.time() + breaker.CACHE_SECONDS + 1)
    returned = accept(account, to=GB)
    drain(aws)
    assert message(aws, returned)["connector"] == "default"


def test_a_message_that_failed_on_every_connector_retries_with_backoff_from_the_first(
    aws, account, two_carriers
):
    first, second = two_carriers
    configure(first, fail_next=1)
    configure(second, fail_next=1)
    message_id = accept(account, to=GB)
    dispatch_once(aws)  # default fails → moved to b
    answer = dispatch_once(aws)  # b fails too → the record fails (backoff), the round restarts
    assert len(answer["batchItemFailures"]) == 1
    stored = message(aws, message_id)
    assert stored["status"] == "queued"
    assert "failed_connectors" not in stored
    attempts = view(account, message_id)["carrier_attempts"]
    assert [(a["connector"], a["outcome"]) for a in attempts] == [
        ("default", "failed_over"),
        ("b", "carrier_error"),
    ]


def test_an_unconfirmed_submission_stays_with_its_connector_even_when_it_is_open(aws, account, two_carriers):
    message_id = accept(account, to=GB)
    claimed = messages.load(message_id)
    assert claimed is not None
    unconfirmed = dataclasses.replace(
        claimed, unconfirmed_since="2026-12-03T10:00:00.000+00:00", connector="b"
    )
    for _ in range(2):
        breaker.failed("b", time.time())
    known = {c.name: c for c in routing.connectors()}
    chosen = dispatch_connectors.choose(unconfirmed, ["default", "b"], known, time.time())
    assert getattr(chosen, "name", None) == "b"


def test_when_every_connector_of_the_route_is_open_the_message_waits(aws, account, two_carriers):
    now = time.time()
    for name in ("default", "b"):
        for _ in range(2):
            breaker.failed(name, now)
    message_id = accept(account, to=GB)
    dispatch_once(aws)
    assert message(aws, message_id)["status"] == "queued"
    assert receive_batch(aws)["Records"] == []  # re-enqueued with a delay until a probe is due


def test_one_probe_at_a_time_and_only_an_open_breaker_closes(aws, two_carriers):
    now = time.time()
    assert repository.close_breaker("default") is False  # nothing open: nothing to close
    for _ in range(2):
        breaker.failed("default", now)
    assert repository.claim_probe("default", now + 5, probe_until=now + 8) is True
    assert repository.claim_probe("default", now + 6, probe_until=now + 9) is False  # the first one's
    assert repository.claim_probe("default", now + 9, probe_until=now + 12) is True  # its time is up
    assert repository.close_breaker("default") is True
    assert repository.read_breaker("default")["state"] == "closed"
