"""Through the local stack: send → the carrier's signed receipt → `delivered` → a signed status callback."""

from __future__ import annotations

import json
import uuid

import pytest
from standardwebhooks import Webhook

from local.stack import LocalStack
from local.testing import Api, poll
from tests.conftest import Receiver

pytestmark = pytest.mark.e2e


def message_status(api: Api, message_id: str) -> dict:
    response = api.request(
        "GET", f"/messages/{message_id}", headers={"Authorization": f"Bearer {api.token()}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_message_is_delivered_and_the_callback_is_signed(
    api: Api, local_stack: LocalStack, receiver: Receiver
):
    ref = uuid.uuid4().hex[:12]
    sent = api.send(
        **{"from": "SMSGW", "to": "447700900000", "text": "Hi", "callback": receiver.url, "client-ref": ref}
    )
    assert sent.status_code == 200, sent.text
    message_id = sent.json()["messages"][0]["message-id"]

    view = poll(
        lambda: (m := message_status(api, message_id))["status"] == "delivered" and m,
        timeout=60,
        what="the message to be delivered",
    )
    assert view["parts"][0]["carrier_message_id"]
    assert [e["status"] for e in view["events"]][-1] == "delivered"

    poll(lambda: receiver.requests, timeout=60, what="the status callback")
    [request] = receiver.requests
    payload = Webhook(local_stack.info["webhook_secret"]).verify(request.body, request.headers)
    assert (payload["message_id"], payload["status"], payload["client-ref"]) == (message_id, "delivered", ref)


def test_a_receiver_failing_five_times_gets_exactly_one_successful_delivery(api: Api, receiver: Receiver):
    receiver.fail_times = 5
    sent = api.send(**{"from": "SMSGW", "to": "447700900000", "text": "Retry me", "callback": receiver.url})
    assert sent.status_code == 200, sent.text

    # Waits of about 1, 2, 4, 8 and 16 s (WebhookRetryStartSeconds=1 in the e2e stack).
    poll(lambda: len(receiver.requests) >= 6, timeout=120, what="the sixth attempt")
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1  # one delivery, retried
    assert len(receiver.requests) == 6
    bodies = {json.loads(r.body)["status"] for r in receiver.requests}
    assert bodies == {"delivered"}
