"""The inbound intake's AWS calls (issue 15: a routed single-part SMS in at most 3; it takes 2) and what makes them
few without changing where a message goes: the numbers' owners and the conversation remembered, but
checked inside the intake's one transaction (never stale), the webhook written with it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.client import BaseClient

from smsgw.accounts import service as accounts
from tests.integration.test_inbound import NUMBER, PHONE, deliver_webhooks, inbound, own, register, send


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The AWS operations made while the test runs (every botocore client, moto's included)."""
    calls: list[str] = []
    real = BaseClient._make_api_call

    def counted(self: Any, operation: str, params: Any) -> Any:
        calls.append(f"{self.meta.service_model.service_name}.{operation}")
        return real(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return calls


def texts(receiver) -> list[tuple[str, str]]:
    deliver_webhooks()
    return [(r.path, json.loads(r.body)["text"]) for r in receiver.requests]


def test_a_routed_single_part_sms_takes_two_aws_calls_and_so_does_its_resend(env, owner, receiver, aws_calls):
    register(owner.account_id, PHONE, receiver.url)
    assert inbound({"msisdn": PHONE, "to": NUMBER, "messageId": "n-1", "text": "first"})[0] == 200
    aws_calls.clear()  # a warm function: it has looked up who the numbers belong to
    fields = {"msisdn": PHONE, "to": NUMBER, "messageId": "n-2", "text": "second"}
    assert inbound(fields) == (200, {"result": "received"})
    assert aws_calls == ["dynamodb.TransactWriteItems", "sqs.SendMessage"]
    aws_calls.clear()
    # The carrier's resend: the first attempt may have died before queueing, so its delivery is queued
    # again; WebhookFunction POSTs it once all the same.
    assert inbound(fields) == (200, {"result": "duplicate"})
    assert aws_calls == ["dynamodb.TransactWriteItems", "sqs.SendMessage"]
    assert [text for _, text in texts(receiver)] == ["first", "second"]
    assert len(env.items("INBOUND#")) == 2


def test_a_reply_to_a_conversation_begun_after_earlier_sms_from_that_phone_goes_to_the_conversation(
    env, owner, receiver, aws_calls
):
    """The intake guesses the conversation from what it last saw and checks the guess in its transaction:
    a conversation begun since (or ended) costs one call more, never a wrong route."""
    other = "447700900777"
    register(owner.account_id, PHONE, receiver.url)
    assert inbound({"msisdn": other, "to": PHONE, "messageId": "c-1", "text": "who is this?"})[0] == 200
    [kept] = env.items("INBOUND#")
    assert kept.get("route") is None  # nobody's yet: kept, not forwarded
    assert send(owner, PHONE, other, headers={"inbound": "yes"})["messages"][0]["status"] == "0"
    assert inbound({"msisdn": other, "to": PHONE, "messageId": "c-2", "text": "Thanks!"})[0] == 200
    aws_calls.clear()
    assert inbound({"msisdn": other, "to": PHONE, "messageId": "c-3", "text": "Bye"})[0] == 200
    assert len(aws_calls) == 2
    assert [text for _, text in texts(receiver)] == ["Thanks!", "Bye"]
    routes = sorted((m["text"], m.get("route")) for m in env.items("INBOUND#"))
    assert routes == [("Bye", "conversation"), ("Thanks!", "conversation"), ("who is this?", None)]


def test_a_phone_registered_after_its_sms_was_kept_unrouted_is_routed_at_once(env, owner, receiver):
    """The cached "nobody's" never keeps a message unrouted: that outcome is checked with fresh reads."""
    assert inbound({"msisdn": PHONE, "to": NUMBER, "messageId": "u-1", "text": "anyone?"})[0] == 200
    register(owner.account_id, PHONE, receiver.url)
    assert inbound({"msisdn": PHONE, "to": NUMBER, "messageId": "u-2", "text": "now?"})[0] == 200
    assert [text for _, text in texts(receiver)] == ["now?"]


def test_a_numbers_new_callback_or_new_owner_takes_the_very_next_sms(env, owner, receiver, aws_calls):
    """The cached owners are only a guess the intake's transaction checks: a changed callback, or a number
    released and bought by another account, takes effect at once — never another tenant's SMS."""
    own(owner.account_id, NUMBER, f"{receiver.url}/old")
    assert inbound({"msisdn": PHONE, "to": NUMBER, "messageId": "w-1", "text": "one"})[0] == 200
    own(owner.account_id, NUMBER, f"{receiver.url}/new")
    assert inbound({"msisdn": PHONE, "to": NUMBER, "messageId": "w-2", "text": "two"})[0] == 200
    other = accounts.create_account("other", balance="1", senders=["OTHER"]).account_id
    env.table.update_item(  # released, then bought by another account (as claim_owned would store it)
        Key={"pk": f"NUMBER#{NUMBER}", "sk": "NUMBER"},
        UpdateExpression="SET account_id = :other, callback_url = :url",
        ExpressionAttributeValues={":other": other, ":url": f"{receiver.url}/other"},
    )
    assert inbound({"msisdn": PHONE, "to": NUMBER, "messageId": "w-3", "text": "three"})[0] == 200
    aws_calls.clear()
    assert inbound({"msisdn": PHONE, "to": NUMBER, "messageId": "w-4", "text": "four"})[0] == 200
    assert len(aws_calls) == 2  # the cache caught up: two calls again
    paths = [(path.rsplit("/", 1)[-1], text) for path, text in texts(receiver)]
    assert paths == [("old", "one"), ("new", "two"), ("other", "three"), ("other", "four")]
    owners = {m["text"]: m.get("account_id") for m in env.items("INBOUND#")}
    assert owners == {
        "one": owner.account_id,
        "two": owner.account_id,
        "three": other,
        "four": other,
    }


def test_stop_still_opts_out_and_is_stored(env, owner, receiver):
    """Keywords (and parts of long SMS) take the general path: its promises are unchanged."""
    register(owner.account_id, PHONE, receiver.url)
    assert inbound({"msisdn": PHONE, "to": NUMBER, "messageId": "s-1", "text": "STOP"})[0] == 200
    [kept] = env.items("INBOUND#")
    assert kept["opt"] == "stop"
    assert env.items(f"OPTOUT#{NUMBER}#{PHONE}")
