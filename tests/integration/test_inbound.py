"""Inbound SMS through InboundFunction (moto): verified, deduplicated, reassembled, routed and forwarded
signed; STOP/START; `inbound: yes`; GET /inbound."""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

import pytest
from standardwebhooks import Webhook

from local.events import function_url_event
from local.testing import poll
from smsgw.accounts import service as accounts
from smsgw.carrier.vonage import sign_params
from smsgw.core.memo import forget_all
from tests.conftest import (
    CARRIER_SIGNATURE_METHOD,
    CARRIER_SIGNATURE_SECRET,
    LambdaContext,
    Receiver,
    api_event,
    drain_queue,
    load_handler,
    register_phone,
    sqs_event,
)

PHONE = "31612345678"  # the customer's own phone, registered with /register
NUMBER = "3197010240299"  # a number messages are sent to


def register(account_id: str, to: str, callback_url: str) -> dict[str, Any]:
    return register_phone(account_id, to, callback_url)


def own(account_id: str, number: str, callback_url: str) -> None:
    """A virtual number the account bought through the gateway (SMS *to* it reach callback_url)."""
    from smsgw.numbers import repository

    repository.claim_owned(account_id, number, "NL", {}, "2026-01-01T00:00:00Z")
    assert repository.update_settings(
        account_id, number, {"callback_url": callback_url}, [], "2026-01-01T00:00:00Z"
    )


def sends(env) -> list[dict[str, Any]]:
    """The messages the account sent (not the code SMS that registering a phone sends)."""
    return [m for m in env.items("MSG#") if m.get("purpose") != "verification"]


def inbound(
    fields: dict[str, str], *, sign: bool = True, method: str = "POST", via: str = "api"
) -> tuple[int, dict[str, Any]]:
    """An inbound SMS as the carrier sends it: through API Gateway, or to the function's URL."""
    params = {"api-key": "simkey01", "type": "text", "message-timestamp": "2026-11-25 10:00:00", **fields}
    if sign:
        params = {**params, "timestamp": str(int(time.time())), "nonce": os.urandom(4).hex()}
        params["sig"] = sign_params(params, CARRIER_SIGNATURE_SECRET, CARRIER_SIGNATURE_METHOD)
    make = function_url_event if via == "url" else api_event
    event = (
        make("POST", "/carrier/inbound", json_body=params)
        if method == "POST"
        else make("GET", "/carrier/inbound", query=params)
    )
    response = load_handler("inbound").lambda_handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def deliver_webhooks() -> None:
    drain_queue(os.environ["WEBHOOK_QUEUE_URL"], "webhook")


def parts_of(
    text: str, ref: str, sender: str = PHONE, to: str = NUMBER, size: int = 5
) -> list[dict[str, str]]:
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    return [
        {
            "msisdn": sender,
            "to": to,
            "messageId": f"{ref}-p{n}",
            "text": chunk,
            "concat": "true",
            "concat-ref": ref,
            "concat-total": str(len(chunks)),
            "concat-part": str(n),
        }
        for n, chunk in enumerate(chunks, start=1)
    ]


@pytest.mark.parametrize("via", ["api", "url"])
def test_a_reply_from_a_registered_phone_reaches_its_callback_signed(env, owner, receiver: Receiver, via):
    register(owner.account_id, PHONE, receiver.url)
    status, body = inbound({"msisdn": PHONE, "to": NUMBER, "messageId": "c-1", "text": "Yes please"}, via=via)
    assert (status, body) == (200, {"result": "received"})
    deliver_webhooks()
    [request] = receiver.requests
    payload = Webhook(owner.webhook_secret).verify(request.body, request.headers)
    assert (payload["msisdn"], payload["to"], payload["text"], payload["keyword"]) == (
        PHONE,
        NUMBER,
        "Yes please",
        "YES",
    )
    assert payload["messageId"] == "c-1"
    assert payload["inbound_id"]
    assert payload["incomplete"] is False


def test_a_long_reply_in_shuffled_parts_with_a_duplicate_is_delivered_once_complete(env, owner, receiver):
    register(owner.account_id, PHONE, receiver.url)
    text = "This reply is long enough to need several parts."
    parts = parts_of(text, ref="77")
    order = parts[:]
    random.Random(7).shuffle(order)
    outcomes = [inbound(p)[1]["result"] for p in [*order[:2], order[0], *order[2:]]]
    assert outcomes.count("duplicate") == 1
    assert outcomes.count("received") == 1
    deliver_webhooks()
    [request] = receiver.requests
    payload = json.loads(request.body)
    assert payload["text"] == text
    assert payload["parts"] == len(parts)
    assert payload["incomplete"] is False


def test_an_incomplete_set_is_forwarded_after_the_timeout_flagged(env, owner, receiver, monkeypatch):
    from smsgw.core.memo import forget_all

    monkeypatch.setenv("INBOUND_CONCAT_TIMEOUT_SECONDS", "1")
    forget_all()
    register(owner.account_id, PHONE, receiver.url)
    parts = parts_of("abcdefghijklmno", ref="9")  # 3 parts; the middle one never comes
    assert inbound(parts[0])[1]["result"] == "part"
    assert inbound(parts[2])[1]["result"] == "part"
    assert receiver.requests == []  # not before the timeout
    # The timeout is a delayed queue message (1 s here): wait for it, then let its function run.
    poll(
        lambda: sqs_event(os.environ["INBOUND_QUEUE_URL"])["Records"], timeout=10, what="the reassembly check"
    )
    drain_queue(os.environ["INBOUND_QUEUE_URL"], "inbound_reassembly")
    deliver_webhooks()
    [request] = receiver.requests
    payload = json.loads(request.body)
    assert (payload["text"], payload["incomplete"]) == ("abcdeklmno", True)
    # The missing part arriving late changes nothing: the set was already forwarded.
    assert inbound(parts[1])[1]["result"] == "part"
    deliver_webhooks()
    assert len(receiver.requests) == 1


def test_inbound_nobody_registered_is_kept_not_lost(env):
    assert (
        inbound({"msisdn": "447700900123", "to": "447700900999", "messageId": "c-9", "text": "hello?"})[0]
        == 200
    )
    [kept] = env.items("INBOUND#")
    assert (kept["text"], kept["gsi1pk"]) == ("hello?", "INBOUND#UNROUTED")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to": NUMBER, "messageId": "x", "text": "t"}, "msisdn"),
        ({"msisdn": PHONE, "messageId": "x", "text": "t"}, "to"),
        ({"msisdn": PHONE, "to": NUMBER, "text": "t"}, "messageId"),
        ({"msisdn": "abc", "to": NUMBER, "messageId": "x", "text": "t"}, "msisdn"),
        (
            {
                "msisdn": PHONE,
                "to": NUMBER,
                "messageId": "x",
                "text": "t",
                "concat": "true",
                "concat-ref": "1",
                "concat-total": "2",
                "concat-part": "3",
            },
            "concat-part",
        ),
    ],
)
def test_bad_inbound_is_400_naming_the_field_and_stores_nothing(env, fields, field):
    status, body = inbound(fields)
    assert (status, body["field"]) == (400, field)
    assert env.items("INBOUND") == []


def test_unsigned_or_forged_inbound_is_401(env):
    assert inbound({"msisdn": PHONE, "to": NUMBER, "messageId": "x", "text": "t"}, sign=False)[0] == 401
    unsigned = {"msisdn": PHONE, "to": NUMBER, "messageId": "x", "text": "t"}
    assert inbound(unsigned, sign=False, via="url")[0] == 401
    params = {
        "msisdn": PHONE,
        "to": NUMBER,
        "messageId": "x",
        "text": "t",
        "timestamp": str(int(time.time())),
        "sig": "0" * 64,
    }
    event = api_event("GET", "/carrier/inbound", query=params)
    assert load_handler("inbound").lambda_handler(event, LambdaContext())["statusCode"] == 401
    assert env.items("INBOUND") == []


def send(account, sender: str, to: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = api_event(
        "POST",
        "/communication/nexmo/sms/send",
        form={"from": sender, "to": to, "text": "Hi"},
        account_id=account.account_id,
        headers=headers,
    )
    response = load_handler("send").lambda_handler(event, LambdaContext())
    return {"status": response["statusCode"], **json.loads(response["body"])}


def test_stop_refuses_later_sends_from_that_number_and_start_allows_them(env, owner, receiver):
    register(owner.account_id, PHONE, receiver.url)  # a registered number may be used as sender
    recipient = "447700900555"
    assert send(owner, PHONE, recipient)["messages"][0]["status"] == "0"
    inbound({"msisdn": recipient, "to": PHONE, "messageId": "s-1", "text": "STOP"})
    balance = accounts.cached_account(owner.account_id)
    refused = send(owner, PHONE, recipient)
    assert refused["status"] == 403
    assert (refused["messages"][0]["status"], refused["messages"][0]["field"]) == ("7", "to")
    assert "STOP" in refused["messages"][0]["error-text"]
    assert len(sends(env)) == 1  # nothing stored (or charged) for the refused one
    assert balance.account_id
    inbound({"msisdn": recipient, "to": PHONE, "messageId": "s-2", "text": "start"})
    assert send(owner, PHONE, recipient)["messages"][0]["status"] == "0"


def test_inbound_yes_needs_a_registered_callback_and_routes_replies_to_it(env, owner, receiver):
    refused = send(owner, "ACME", "447700900777", headers={"inbound": "yes"})  # allowed, but no callback
    assert refused["status"] == 412
    assert refused["field"] == "inbound"
    # An alphanumeric sender cannot receive replies, so registering it (which fails) is not the advice.
    assert "to=ACME" not in refused["error"]
    assert "alphanumeric" in refused["error"]
    assert "from a number" in refused["error"]
    assert env.items("MSG#") == []

    register(owner.account_id, PHONE, receiver.url)
    assert send(owner, PHONE, "447700900777", headers={"inbound": "yes"})["messages"][0]["status"] == "0"
    inbound({"msisdn": "447700900777", "to": PHONE, "messageId": "r-1", "text": "Thanks!"})
    deliver_webhooks()
    [request] = receiver.requests
    assert json.loads(request.body)["text"] == "Thanks!"
    [kept] = env.items("INBOUND#")
    assert kept["route"] == "conversation"


def test_the_account_lists_its_inbound_and_sees_deliveries(env, owner, receiver):
    register(owner.account_id, PHONE, receiver.url)
    for n in range(3):
        inbound({"msisdn": PHONE, "to": NUMBER, "messageId": f"l-{n}", "text": f"m{n}"})
    deliver_webhooks()

    def get(path: str, query: dict | None = None, account=owner) -> tuple[int, dict]:
        event = api_event("GET", path, query=query, account_id=account.account_id)
        if path.count("/") == 2:
            event["pathParameters"] = {"inbound_id": path.rsplit("/", 1)[1]}
        response = load_handler("messages").lambda_handler(event, LambdaContext())
        return response["statusCode"], json.loads(response["body"])

    status, page = get("/inbound", {"limit": "2"})
    assert status == 200
    assert [m["text"] for m in page["inbound"]] == ["m2", "m1"]
    # The listing shows each message's deliveries to the callback, as GET /inbound/{id} does.
    assert [[d["state"] for d in m["deliveries"]] for m in page["inbound"]] == [["delivered"], ["delivered"]]
    _, rest = get("/inbound", {"limit": "2", "cursor": page["next_cursor"]})
    assert [m["text"] for m in rest["inbound"]] == ["m0"]
    inbound_id = page["inbound"][0]["inbound_id"]
    status, one = get(f"/inbound/{inbound_id}")
    assert status == 200
    [delivery] = one["deliveries"]
    assert delivery["state"] == "delivered"
    stranger = accounts.create_account("stranger", balance="1", senders=[])
    assert get(f"/inbound/{inbound_id}", account=stranger)[0] == 404


def test_help_is_answered_at_once_even_in_quiet_hours(env, owner, receiver):
    own(owner.account_id, PHONE, receiver.url)
    accounts.set_quiet_hours(owner.account_id, "00:00", "23:59")  # quiet (nearly) all day
    forget_all()
    recipient = "447700900556"
    inbound({"msisdn": recipient, "to": PHONE, "messageId": "h-1", "text": "HELP"})

    [reply] = [m for m in env.items("MSG#") if m["to"] == recipient]
    assert (reply["from"], reply["status"]) == (PHONE, "queued")  # sent now, not held until morning
    assert "STOP" in reply["text"]
