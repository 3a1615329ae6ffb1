"""Auto-replies (the answer to HELP) are capped per recipient and per number per day; over the cap the
inbound is still stored and forwarded, only the reply is not sent."""

from __future__ import annotations

import pytest

from smsgw.inbound import repository
from tests.integration.test_inbound import (
    PHONE,
    deliver_webhooks,
    inbound,
    own,
)
from tests.integration.test_inbound_loss import fail_once


def replies_to(env, recipient: str) -> list[dict]:
    return [m for m in env.items("MSG#") if m.get("to") == recipient and m["sk"] == "MSG"]


def help_from(recipient: str, n: int) -> tuple[int, dict]:
    return inbound({"msisdn": recipient, "to": PHONE, "messageId": f"help-{recipient}-{n}", "text": "HELP"})


def test_help_floods_from_one_recipient_get_three_replies_a_day(env, owner, receiver):
    own(owner.account_id, PHONE, receiver.url)
    recipient = "447700900561"
    for n in range(6):
        assert help_from(recipient, n) == (200, {"result": "received"})
    assert len(replies_to(env, recipient)) == 3
    deliver_webhooks()
    assert len(receiver.requests) == 6  # every HELP is still stored and forwarded
    assert len(env.items("INBOUND#")) == 6


def test_help_from_many_recipients_is_capped_per_number(env, owner, receiver, monkeypatch):
    from smsgw.core.memo import forget_all

    monkeypatch.setenv("AUTO_REPLY_MAX_PER_NUMBER_PER_DAY", "2")
    forget_all()
    own(owner.account_id, PHONE, receiver.url)
    recipients = [f"44770090057{n}" for n in range(4)]
    for n, recipient in enumerate(recipients):
        assert help_from(recipient, n)[0] == 200
    assert sum(len(replies_to(env, r)) for r in recipients) == 2
    assert len(env.items("INBOUND#")) == 4


def test_a_resent_help_is_answered_once(env, owner, receiver, monkeypatch):
    own(owner.account_id, PHONE, receiver.url)
    recipient = "447700900581"
    fail_once(monkeypatch, repository, "finish_part")  # everything done, then the acknowledgment fails
    assert help_from(recipient, 1)[0] == 500
    assert help_from(recipient, 1) == (200, {"result": "received"})
    assert len(replies_to(env, recipient)) == 1


@pytest.mark.parametrize("text", ["STOP", "Hello"])
def test_other_inbound_sends_no_auto_reply(env, owner, receiver, text):
    own(owner.account_id, PHONE, receiver.url)
    inbound({"msisdn": "447700900591", "to": PHONE, "messageId": f"x-{text}", "text": text})
    assert replies_to(env, "447700900591") == []
