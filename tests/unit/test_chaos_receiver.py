"""The chaos run's webhook receiver: fails a share of calls on purpose, verifies the rest, records all."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import requests
from standardwebhooks import Webhook

from chaos.receiver import ChaosReceiver

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def post(
    receiver: ChaosReceiver, payload: dict, secret: str | None = SECRET, webhook_id: str = "msg_1"
) -> int:
    body = json.dumps(payload)
    now = datetime.now(UTC)
    headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(now.timestamp()))}
    if secret:
        headers["webhook-signature"] = Webhook(secret).sign(webhook_id, now, body)
    return requests.post(f"{receiver.url}/status", data=body, headers=headers, timeout=5).status_code


def test_verified_calls_are_accepted_and_every_call_is_recorded():
    with ChaosReceiver(fail_rate=0.0) as receiver:
        receiver.secret = SECRET
        assert post(receiver, {"message_id": "m1", "status": "delivered"}) == 204
        assert (
            post(receiver, {"message_id": "m1"}, secret="whsec_" + base64.b64encode(b"x" * 32).decode())
            == 401
        )
        calls = receiver.calls()
    assert [(c["status"], c["body"], c["webhook_id"], c["path"]) for c in calls] == [
        (204, {"message_id": "m1", "status": "delivered"}, "msg_1", "/status"),
        (401, {"message_id": "m1"}, "msg_1", "/status"),
    ]


def test_a_fail_rate_of_one_answers_503_to_everything_and_records_it():
    with ChaosReceiver(fail_rate=1.0, seed=1) as receiver:
        receiver.secret = SECRET
        assert [post(receiver, {"n": n}) for n in range(3)] == [503, 503, 503]
        assert [c["status"] for c in receiver.calls()] == [503, 503, 503]
        assert receiver.last_call_at() > 0
