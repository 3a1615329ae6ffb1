"""Inbound SMS is never lost and never doubled when a step fails once: the carrier's resend, or the
reassembly timeout, completes the same message (stored once, forwarded once)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from smsgw.inbound import repository
from smsgw.inbound import service as inbound_service
from tests.integration.test_inbound import (
    NUMBER,
    PHONE,
    deliver_webhooks,
    inbound,
    parts_of,
    register,
)


class Flaky(Exception):
    """A storage or queue error that happens once."""


def fail_once(
    monkeypatch: pytest.MonkeyPatch, target: Any, name: str, error: type[BaseException] = Flaky
) -> None:
    real = getattr(target, name)
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise error("injected")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, flaky)


def forwarded(receiver) -> list[dict[str, Any]]:
    deliver_webhooks()
    return [json.loads(r.body) for r in receiver.requests]


TEXT = "A reply long enough to need several parts."


def test_a_long_message_whose_store_fails_once_is_completed_by_the_carriers_resend(
    env, owner, receiver, monkeypatch
):
    register(owner.account_id, PHONE, receiver.url)
    parts = parts_of(TEXT, ref="41")
    for part in parts[:-1]:
        assert inbound(part) == (200, {"result": "part"})
    fail_once(monkeypatch, repository, "put_inbound")
    assert inbound(parts[-1])[0] == 500  # not acknowledged: the carrier resends it
    assert inbound(parts[-1]) == (200, {"result": "received"})
    assert inbound(parts[-1]) == (200, {"result": "duplicate"})
    [payload] = forwarded(receiver)
    assert (payload["text"], payload["incomplete"]) == (TEXT, False)
    assert len(env.items("INBOUND#")) == 1


def test_a_long_message_whose_store_failed_is_completed_by_the_reassembly_timeout(
    env, owner, receiver, monkeypatch
):
    register(owner.account_id, PHONE, receiver.url)
    parts = parts_of(TEXT, ref="42")
    for part in parts[:-1]:
        inbound(part)
    fail_once(monkeypatch, repository, "put_inbound")
    assert inbound(parts[-1])[0] == 500
    # The carrier gives up (or its resend is lost); the timeout check still finds every part stored.
    assert inbound_service.check_incomplete(PHONE, NUMBER, "42") is True
    assert inbound_service.check_incomplete(PHONE, NUMBER, "42") is False  # once
    [payload] = forwarded(receiver)
    assert (payload["text"], payload["incomplete"]) == (TEXT, False)
    assert len(env.items("INBOUND#")) == 1


def test_the_assembler_dying_after_the_store_forwards_it_once_on_the_timeout(
    env, owner, receiver, monkeypatch
):
    """A crash (the Lambda times out: no except clause runs) between storing and forwarding."""
    from smsgw.webhooks import service as webhooks

    register(owner.account_id, PHONE, receiver.url)
    parts = parts_of(TEXT, ref="43")
    for part in parts[:-1]:
        inbound(part)
    fail_once(monkeypatch, webhooks, "enqueue", error=SystemExit)
    with pytest.raises(SystemExit):
        inbound(parts[-1])
    assert inbound_service.check_incomplete(PHONE, NUMBER, "43") is True
    [payload] = forwarded(receiver)
    assert (payload["text"], payload["incomplete"]) == (TEXT, False)
    assert len(env.items("INBOUND#")) == 1


def test_a_single_part_whose_forward_fails_is_stored_once_on_the_resend(env, owner, receiver, monkeypatch):
    from smsgw.webhooks import queue

    register(owner.account_id, PHONE, receiver.url)
    fields = {"msisdn": PHONE, "to": NUMBER, "messageId": "one-1", "text": "Yes please"}
    fail_once(monkeypatch, queue, "send")  # queueing the webhook (the intake's last step)
    assert inbound(fields)[0] == 500
    assert forwarded(receiver) == []
    assert inbound(fields) == (200, {"result": "duplicate"})  # stored the first time; queued now
    assert inbound(fields) == (200, {"result": "duplicate"})
    [stored] = env.items("INBOUND#")
    [payload] = forwarded(receiver)
    assert (payload["text"], payload["inbound_id"]) == ("Yes please", stored["inbound_id"])


def test_a_single_part_whose_handler_died_before_queueing_is_forwarded_by_the_resend_at_once(
    env, owner, receiver, monkeypatch
):
    """The Lambda dies mid-way (no except clause runs): the message and its delivery are stored, the
    delivery is not queued. The carrier's resend is a duplicate, which queues the delivery its mark names:
    no lease to wait out, and it is POSTed once however often the carrier resends."""
    from smsgw.webhooks import queue

    register(owner.account_id, PHONE, receiver.url)
    fields = {"msisdn": PHONE, "to": NUMBER, "messageId": "one-2", "text": "Still there?"}
    fail_once(monkeypatch, queue, "send", error=SystemExit)
    with pytest.raises(SystemExit):
        inbound(fields)
    assert forwarded(receiver) == []
    assert inbound(fields) == (200, {"result": "duplicate"})
    assert inbound(fields) == (200, {"result": "duplicate"})
    [payload] = forwarded(receiver)
    assert payload["text"] == "Still there?"
    assert len(env.items("INBOUND#")) == 1
