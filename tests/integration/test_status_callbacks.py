"""Send → dispatch → carrier receipt → a signed status callback the client can verify (moto + simulator)."""

from __future__ import annotations

import json
import os

from standardwebhooks import Webhook

from smsgw.accounts import service as accounts
from tests.conftest import LambdaContext, Receiver, api_event, drain_queue, load_handler
from tests.integration.test_dispatch import dispatch, message, receive_batch
from tests.integration.test_receipts_api import dlr_fields, post_dlr


def send(account_id: str, **form: str) -> str:
    event = api_event(
        "POST",
        "/communication/nexmo/sms/send",
        form={"from": "ACME", "to": "447700900000", "text": "Hi", **form},
        account_id=account_id,
    )
    body = json.loads(load_handler("send").lambda_handler(event, LambdaContext())["body"])
    assert body["messages"][0]["status"] == "0", body
    return body["messages"][0]["message-id"]


def deliver_webhooks(aws) -> None:
    """What the webhook queue's event source does: hand the records to WebhookFunction."""
    drain_queue(os.environ["WEBHOOK_QUEUE_URL"], "webhook")


def test_a_delivered_message_calls_back_signed_with_the_carrier_fields(
    aws, carrier_env, callbacks_allowed, receiver: Receiver
):
    account = accounts.create_account("cb", balance="5", senders=[])
    message_id = send(account.account_id, callback=receiver.url, **{"client-ref": "order-9"})
    dispatch(receive_batch(aws))
    carrier_id = message(aws, message_id)["carrier_parts"][0]["carrier_message_id"]
    post_dlr(dlr_fields(carrier_id, "delivered"))
    deliver_webhooks(aws)

    [request] = receiver.requests
    payload = Webhook(account.webhook_secret).verify(request.body, request.headers)
    assert payload["message_id"] == message_id
    assert payload["status"] == payload["message_status"] == "delivered"
    assert payload["client-ref"] == "order-9"
    assert payload["carrier"]["messageId"] == carrier_id
    assert payload["carrier"]["network-code"] == "23410"

    # Its owner sees the callback and its attempt on the message.
    event = api_event("GET", f"/messages/{message_id}", account_id=account.account_id)
    event["pathParameters"] = {"message_id": message_id}
    view = json.loads(load_handler("messages").lambda_handler(event, LambdaContext())["body"])
    [callback] = view["callbacks"]
    assert (callback["state"], callback["url"]) == ("delivered", receiver.url)
    assert [a["http_status"] for a in callback["attempts"]] == [200]
    # A page of messages does not read them: null, not an empty list that would say "none".
    page = api_event("GET", "/messages", account_id=account.account_id)
    [listed] = json.loads(load_handler("messages").lambda_handler(page, LambdaContext())["body"])["messages"]
    assert listed["message_id"] == message_id
    assert listed["callbacks"] is None

    # The carrier resends the same receipt: no second callback.
    post_dlr(dlr_fields(carrier_id, "delivered"))
    deliver_webhooks(aws)
    assert len(receiver.requests) == 1


def test_the_account_status_url_is_the_default(aws, carrier_env, callbacks_allowed, receiver: Receiver):
    account = accounts.create_account("cb", balance="5", senders=[], status_url=receiver.url)
    message_id = send(account.account_id)
    dispatch(receive_batch(aws))
    carrier_id = message(aws, message_id)["carrier_parts"][0]["carrier_message_id"]
    post_dlr(dlr_fields(carrier_id, "accepted"))
    post_dlr(dlr_fields(carrier_id, "failed"))
    deliver_webhooks(aws)
    statuses = [json.loads(r.body)["status"] for r in receiver.requests]
    assert sorted(statuses) == ["accepted", "failed"]


def test_no_callback_url_means_no_webhook(aws, carrier_env, account):
    message_id = send(account.account_id)
    dispatch(receive_batch(aws))
    carrier_id = message(aws, message_id)["carrier_parts"][0]["carrier_message_id"]
    post_dlr(dlr_fields(carrier_id, "delivered"))
    assert aws.items("SUBJECT#") == []


def test_a_carrier_rejection_calls_back_failed(aws, carrier_env, callbacks_allowed, receiver: Receiver):
    import requests

    account = accounts.create_account("cb", balance="5", senders=[], status_url=receiver.url)
    requests.put(f"{carrier_env.url}/_sim/config", json={"reject_next": 1}, timeout=5).raise_for_status()
    message_id = send(account.account_id)
    dispatch(receive_batch(aws))
    deliver_webhooks(aws)
    [request] = receiver.requests
    payload = json.loads(request.body)
    assert (payload["message_id"], payload["status"]) == (message_id, "failed")


def test_what_is_posted_is_what_readme_says_receipts_not_the_handover(
    aws, carrier_env, callbacks_allowed, receiver: Receiver
):
    """README and docs/webhooks.md: each delivery receipt is POSTed, intermediate ones too (accepted,
    buffered); accepting and handing the message to the carrier (queued, submitted) are not: the send's
    answer and GET /messages/{id} say those."""
    account = accounts.create_account("cb", balance="5", senders=[])
    message_id = send(account.account_id, callback=receiver.url)
    dispatch(receive_batch(aws))
    assert message(aws, message_id)["status"] == "submitted"
    deliver_webhooks(aws)
    assert receiver.requests == []
    carrier_id = message(aws, message_id)["carrier_parts"][0]["carrier_message_id"]
    for status in ("accepted", "buffered", "delivered"):
        post_dlr(dlr_fields(carrier_id, status))
    deliver_webhooks(aws)
    assert [json.loads(r.body)["status"] for r in receiver.requests] == ["accepted", "buffered", "delivered"]
