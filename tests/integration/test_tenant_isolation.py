"""Issue 11, security 1 and 3: no tenant takes another's inbound SMS or sends as another's number.

A phone routes its SMS to an account (and may be its `from`) only after the account proved it holds
the phone (a code sent to it by SMS, sent back to /sms/register); SMS sent *to* a number go only to the
account that owns it; numbers the gateway receives on cannot be registered at all."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest

from smsgw.accounts import service as accounts
from smsgw.carrier.vonage import sign_params
from tests.conftest import (
    CARRIER_SIGNATURE_METHOD,
    CARRIER_SIGNATURE_SECRET,
    LambdaContext,
    api_event,
    code_sent_to,
    load_handler,
    register_phone,
)

REGISTER = "/communication/nexmo/sms/register"
HOOK_A = "https://93.184.215.14/hooks/a"
HOOK_B = "https://93.184.215.14/hooks/b"
GATEWAY_NUMBER = "3197010240299"  # the shared number the carrier delivers replies to
PHONE_A, PHONE_B = "31612345678", "31687654321"


@pytest.fixture
def tenants(aws, carrier_env, monkeypatch):
    from smsgw.core.memo import forget_all

    monkeypatch.setenv("GATEWAY_NUMBERS", f"+{GATEWAY_NUMBER}")
    forget_all()
    a = accounts.create_account("tenant-a", balance="10", senders=["ALPHA"], rate_limit_per_second=1000)
    b = accounts.create_account("tenant-b", balance="10", rate_limit_per_second=1000)
    return a, b


def register(account_id: str, **fields: str) -> dict[str, Any]:
    event = api_event("POST", REGISTER, form=fields, account_id=account_id)
    response = load_handler("numbers").lambda_handler(event, LambdaContext())
    return {"status": response["statusCode"], **json.loads(response["body"])}


def inbound(msisdn: str, to: str, text: str, message_id: str) -> None:
    params = {
        "msisdn": msisdn,
        "to": to,
        "messageId": message_id,
        "text": text,
        "type": "text",
        "api-key": "simkey01",
        "message-timestamp": "2026-11-25 10:00:00",
        "timestamp": str(int(time.time())),
        "nonce": os.urandom(4).hex(),
    }
    params["sig"] = sign_params(params, CARRIER_SIGNATURE_SECRET, CARRIER_SIGNATURE_METHOD)
    response = load_handler("inbound").lambda_handler(
        api_event("POST", "/carrier/inbound", json_body=params), LambdaContext()
    )
    assert response["statusCode"] == 200, response["body"]


def routed_to(aws, message_id: str) -> str | None:
    [item] = [i for i in aws.items("INBOUND#") if message_id in i.get("carrier_message_ids", [])]
    return item.get("account_id")


def send(account, sender: str) -> dict[str, Any]:
    event = api_event(
        "POST",
        "/communication/nexmo/sms/send",
        form={"from": sender, "to": "447700900000", "text": "hi"},
        account_id=account.account_id,
    )
    response = load_handler("send").lambda_handler(event, LambdaContext())
    return json.loads(response["body"])["messages"][0]


# --- 1. inbound routing and proof of possession ---------------------------------------------------------------


def test_the_number_the_gateway_receives_on_cannot_be_registered(aws, tenants):
    _, b = tenants
    for to in (GATEWAY_NUMBER, f"+{GATEWAY_NUMBER}"):
        refused = register(b.account_id, to=to, callback_url=HOOK_B)
        assert refused["status"] == 403
        assert "receives" in refused["error"]
    assert aws.items("NUMBER#") == []
    assert aws.items("MSG#") == []  # no code SMS either
    inbound("447700900123", GATEWAY_NUMBER, "my OTP reply", "gw-1")
    assert routed_to(aws, "gw-1") is None  # kept unrouted, never B's


def test_a_registered_phone_never_takes_sms_sent_to_it(aws, tenants):
    a, b = tenants
    register_phone(b.account_id, PHONE_B, HOOK_B)
    inbound("447700900123", PHONE_B, "to B's phone", "to-phone-1")
    assert routed_to(aws, "to-phone-1") is None
    inbound(PHONE_B, GATEWAY_NUMBER, "from B's phone", "from-phone-1")
    assert routed_to(aws, "from-phone-1") == b.account_id
    del a


def test_sms_to_an_owned_number_go_to_its_owner_only(aws, tenants):
    from smsgw.numbers import repository

    a, b = tenants
    repository.claim_owned(a.account_id, "447700900999", "GB", {}, "2026-01-01T00:00:00Z")
    assert register(b.account_id, to="447700900999", callback_url=HOOK_B)["status"] == 403
    inbound("447700900123", "447700900999", "reply to A", "owned-1")
    assert routed_to(aws, "owned-1") == a.account_id


def test_a_phone_routes_only_after_the_code_sent_to_it_comes_back(aws, tenants):
    _, b = tenants
    sent = register(b.account_id, to=PHONE_B, callback_url=HOOK_B)
    assert sent["status"] == 202
    assert aws.items("NUMBER#") == []
    inbound(PHONE_B, GATEWAY_NUMBER, "before proof", "before-1")
    assert routed_to(aws, "before-1") is None

    wrong = register(b.account_id, to=PHONE_B, callback_url=HOOK_B, code="000000")
    if code_sent_to(PHONE_B) == "000000":  # one in a million
        pytest.skip("the random code was 000000")
    assert (wrong["status"], wrong["field"]) == (400, "code")
    assert aws.items("NUMBER#") == []

    right = register(b.account_id, to=PHONE_B, callback_url=HOOK_B, code=code_sent_to(PHONE_B))
    assert (right["status"], right["message"]) == (201, "Your callback url is registered.")
    again = register(b.account_id, to=PHONE_B, callback_url=HOOK_B, code=code_sent_to(PHONE_B))
    assert again["status"] in (200, 201)  # held now: the callback is replaced, nothing else changes
    [number] = aws.items("NUMBER#")
    assert (number["account_id"], number["kind"]) == (b.account_id, "registered")


def test_the_account_cannot_read_the_code_it_asked_for(aws, tenants):
    _, b = tenants
    register(b.account_id, to=PHONE_B, callback_url=HOOK_B)
    code = code_sent_to(PHONE_B)
    handler = load_handler("messages")
    listing = handler.lambda_handler(api_event("GET", "/messages", account_id=b.account_id), LambdaContext())
    assert code not in listing["body"]
    [sms] = json.loads(listing["body"])["messages"]
    assert sms["text"] is None
    one = handler.lambda_handler(
        api_event("GET", f"/messages/{sms['message_id']}", account_id=b.account_id), LambdaContext()
    )
    assert one["statusCode"] == 200
    assert code not in one["body"]


def test_a_code_is_burnt_after_five_wrong_tries(aws, tenants):
    _, b = tenants
    register(b.account_id, to=PHONE_B, callback_url=HOOK_B)
    code = code_sent_to(PHONE_B)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert register(b.account_id, to=PHONE_B, callback_url=HOOK_B, code=wrong)["status"] == 400
    late = register(b.account_id, to=PHONE_B, callback_url=HOOK_B, code=code)
    assert (late["status"], late["field"]) == (400, "code")
    assert aws.items("NUMBER#") == []


def test_codes_per_phone_are_capped_per_day(aws, tenants):
    _, b = tenants
    for _ in range(5):
        assert register(b.account_id, to=PHONE_B, callback_url=HOOK_B)["status"] == 202
    sixth = register(b.account_id, to=PHONE_B, callback_url=HOOK_B)
    assert sixth["status"] == 429
    assert len(aws.items("MSG#")) == 5


def test_an_expired_code_is_refused(aws, tenants, monkeypatch):
    _, b = tenants
    register(b.account_id, to=PHONE_B, callback_url=HOOK_B)
    code = code_sent_to(PHONE_B)
    from smsgw.numbers import register as registration

    monkeypatch.setattr(registration.time, "time", lambda: 4_000_000_000.0)
    expired = register(b.account_id, to=PHONE_B, callback_url=HOOK_B, code=code)
    assert (expired["status"], expired["field"]) == (400, "code")
    assert "expired" in expired["error"]


# --- 3. senders --------------------------------------------------------------------------------------------------


def test_a_number_another_account_holds_is_never_an_allowed_sender(aws, tenants):
    a, b = tenants
    register_phone(a.account_id, PHONE_A, HOOK_A)
    # B has an empty allow-list; before, that allowed any sender, another tenant's number included.
    refused = send(b, PHONE_A)
    assert (refused["status"], refused["field"]) == ("15", "from")
    assert send(a, PHONE_A)["status"] == "0"


def test_an_empty_allow_list_allows_names_and_the_accounts_own_numbers_only(aws, tenants):
    _, b = tenants
    assert send(b, "BRAVO")["status"] == "0"
    assert send(b, "31600000000")["status"] == "15"  # a number nobody proved is theirs
    register_phone(b.account_id, PHONE_B, HOOK_B)
    assert send(b, PHONE_B)["status"] == "0"


def test_an_allow_list_naming_another_accounts_number_does_not_allow_it(aws, carrier_env):
    a = accounts.create_account("holder", balance="10", rate_limit_per_second=1000)
    register_phone(a.account_id, PHONE_A, HOOK_A)
    b = accounts.create_account("listed", balance="10", senders=[PHONE_A], rate_limit_per_second=1000)
    refused = send(b, PHONE_A)
    assert (refused["status"], refused["field"]) == ("15", "from")
