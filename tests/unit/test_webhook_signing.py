"""Outbound webhooks are signed per Standard Webhooks: any receiver's `standardwebhooks` verifies them."""

from __future__ import annotations

import base64
import json
import secrets
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from smsgw.webhooks.transport import signed_headers

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
BODY = json.dumps({"type": "message.status", "data": {"message_id": "01J", "status": "delivered"}})


def test_a_receiver_verifies_the_signature_and_gets_the_payload():
    now = time.time()
    headers = signed_headers(SECRET, "01JDELIVERY", now, BODY)
    assert headers["webhook-id"] == "01JDELIVERY"
    assert headers["webhook-timestamp"] == str(int(now))
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("smsgw-webhooks/")
    assert Webhook(SECRET).verify(BODY.encode(), headers) == json.loads(BODY)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, headers: (body.replace("delivered", "failed"), headers),
        lambda body, headers: (body, {**headers, "webhook-id": "01JOTHER"}),
        lambda body, headers: (
            body,
            {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 1)},
        ),
    ],
    ids=["body", "id", "timestamp"],
)
def test_any_change_breaks_the_signature(tamper):
    body, headers = tamper(BODY, signed_headers(SECRET, "01JDELIVERY", time.time(), BODY))
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body, headers)


def test_another_secret_does_not_verify():
    headers = signed_headers(SECRET, "01JDELIVERY", time.time(), BODY)
    other = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(BODY, headers)


def test_the_signature_is_the_documented_hmac():
    """v1 = base64(HMAC-SHA256(key = base64-decoded secret, "id.timestamp.body")), for receivers without the library."""
    import hashlib
    import hmac

    headers = signed_headers(SECRET, "01JDELIVERY", 1_700_000_000.9, BODY)
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    expected = hmac.new(key, f"01JDELIVERY.1700000000.{BODY}".encode(), hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected).decode()
