"""Receive SMS through the local stack: register a callback, the carrier (simulator) delivers a long
reply in shuffled, duplicated parts, and the receiver gets it once, complete and signed; STOP/START."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from standardwebhooks import Webhook

from local.stack import LocalStack
from local.testing import Api, Simulator, poll
from tests.conftest import Receiver

pytestmark = pytest.mark.e2e
NUMBER = "3197010240299"


def phone() -> str:
    return "3161" + str(uuid.uuid4().int)[:7]  # a fresh "own phone" per test


def register(api: Api, simulator: Simulator, to: str, callback_url: str) -> requests.Response:
    """/sms/register with its proof of possession: the code reaches the phone (the simulator) by SMS."""
    fields = {"to": to, "callback_url": callback_url}
    headers = {"Authorization": f"Bearer {api.token()}"}
    sent = api.request("POST", "/communication/nexmo/sms/register", data=fields, headers=headers)
    assert sent.status_code == 202, sent.text

    def code() -> str | None:
        texts = [m["text"] for m in simulator.messages() if m["to"] == to and "code" in m["text"]]
        found = re.search(r"\b(\d{6})\b", texts[-1]) if texts else None
        return found.group(1) if found else None

    poll(lambda: code() is not None, timeout=30, what="the verification code SMS at the carrier")
    return api.request(
        "POST", "/communication/nexmo/sms/register", data={**fields, "code": code() or ""}, headers=headers
    )


def inject(simulator: Simulator, **message: object) -> dict:
    response = requests.post(f"{simulator.url}/_sim/inbound", json=message, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_long_shuffled_duplicated_reply_arrives_once_complete_and_signed(
    api: Api, simulator: Simulator, local_stack: LocalStack, receiver: Receiver
):
    own = phone()
    receiver.fail_times = 2  # the customer's server is down for a while (retried after ~1 s and ~2 s)
    registered = register(api, simulator, own, receiver.url)
    assert registered.status_code == 201, registered.text
    assert registered.json() == {"message": "Your callback url is registered."}

    text = "Thanks for the reminder! " * 12  # 300 characters: two GSM-7 parts
    sent = inject(
        simulator, **{"from": own, "to": NUMBER, "text": text, "split": True, "shuffle": True, "duplicate": 1}
    )
    assert len({m["messageId"] for m in sent["messages"]}) == 2

    poll(lambda: len(receiver.requests) >= 3, timeout=60, what="the inbound message at the callback")
    # Every part (and its duplicate) has been answered by the gateway: nothing more can come.
    poll(
        lambda: all(
            r["ok"] for r in requests.get(f"{simulator.url}/_sim/inbound", timeout=10).json()["inbound"]
        ),
        timeout=30,
        what="the carrier's parts to be acknowledged",
    )
    assert len(receiver.requests) == 3  # two refused while down, then one success: one message
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    request = receiver.requests[-1]
    payload = Webhook(local_stack.info["webhook_secret"]).verify(request.body, request.headers)
    assert (payload["msisdn"], payload["to"], payload["text"]) == (own, NUMBER, text)
    assert (payload["parts"], payload["incomplete"]) == (2, False)


def test_stop_then_send_is_refused_and_start_allows_it(api: Api, simulator: Simulator, receiver: Receiver):
    own = phone()
    assert register(api, simulator, own, receiver.url).status_code == 201  # the account may now send from it
    recipient = "4477009" + str(uuid.uuid4().int)[:5]
    accepted: list[str] = []

    def send(text: str) -> int:
        response = api.send(**{"from": own, "to": recipient, "text": text})
        if response.status_code == 200:
            accepted.append(text)
        return response.status_code

    assert send("Hello") == 200
    inject(simulator, **{"from": recipient, "to": own, "text": "STOP"})
    poll(lambda: send("Again") == 403, timeout=30, what="the STOP to take effect")
    refused = api.send(**{"from": own, "to": recipient, "text": "Again"}).json()["messages"][0]
    assert refused["status"] == "7"

    inject(simulator, **{"from": recipient, "to": own, "text": "START"})
    poll(lambda: send("Back") == 200, timeout=30, what="the START to take effect")
    # Leave nothing in flight for the next test: every accepted send has reached the carrier.
    poll(
        lambda: sorted(m["text"] for m in simulator.messages() if m["to"] == recipient) == sorted(accepted),
        timeout=60,
        what="the accepted sends to reach the carrier",
    )
