"""Smoke test of the local stack: token -> send -> the carrier got it, exactly once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from local.stack import LocalStack
from local.testing import Api, Simulator, poll

pytestmark = pytest.mark.e2e


def test_local_json_describes_the_running_stack(local_stack: LocalStack) -> None:
    info = json.loads((local_stack.run_dir / "local.json").read_text())

    assert info["api_url"].startswith(f"{local_stack.endpoint_url}/_aws/execute-api/")
    assert info["api_url"].endswith("/$default")  # the HTTP API's stage: no segment on AWS
    for key in ("simulator_url", "endpoint_url", "client_id", "client_secret", "api_key", "api_secret"):
        assert info[key], key
    assert all(url.startswith("http://127.0.0.1:") for url in (info["simulator_url"], info["endpoint_url"]))


def test_token_then_send_reaches_the_carrier_exactly_once(
    api: Api, simulator: Simulator, local_stack: LocalStack, aws: Callable[[str], Any]
) -> None:
    text = f"Hello {uuid.uuid4().hex[:8]}"

    token = api.token()
    response = api.send(token=token, **{"from": "SMSGW", "to": "447700900000", "text": text})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["messages"][0]["status"] == "0", body
    received = simulator.wait_for(lambda m: m.get("text") == text)
    assert received[0]["to"] == "447700900000"
    assert received[0]["from"] == "SMSGW"
    # Once the dispatcher has deleted it from the queue nothing can redeliver it: count then.
    sqs = aws("sqs")
    queue_url = local_stack.resource_id("SendQueue")

    def queue_drained() -> bool:
        attrs = sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return all(int(v) == 0 for v in attrs.values())

    poll(queue_drained, what="the send queue to be empty")
    assert [m["text"] for m in simulator.messages()] == [text]


def test_send_without_a_token_is_refused(api: Api, simulator: Simulator) -> None:
    response = api.request(
        "POST", "/communication/nexmo/sms/send", data={"from": "SMSGW", "to": "447700900000"}
    )

    assert response.status_code == 401, response.text
    assert simulator.messages() == []


def test_a_refused_token_is_401_with_why_and_sends_nothing(api: Api, simulator: Simulator) -> None:
    """The HTTP API's authorizer lets a refused token through with its reason; the route answers 401."""
    response = api.request(
        "POST",
        "/communication/nexmo/sms/send",
        headers={"Authorization": "Bearer not-a-token"},
        data={"from": "SMSGW", "to": "447700900000", "text": "never"},
    )

    assert response.status_code == 401, response.text
    assert response.json()["error"].startswith("unknown access token"), response.text
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="smsgw", error="invalid_token"'
    assert simulator.messages() == []


def test_the_root_leads_to_the_docs_and_unknown_routes_say_so(api: Api) -> None:
    root = api.request("GET", "/", allow_redirects=False)
    assert root.status_code == 302, root.text
    docs = api.request("GET", "/docs", allow_redirects=False)
    assert docs.status_code == 200
    assert root.headers["Location"].endswith("/docs")
    assert root.headers["Location"] in docs.url
    assert api.request("GET", "/nowhere").status_code == 404
    wrong = api.request("GET", "/communication/nexmo/sms/send")
    assert wrong.status_code == 405, wrong.text
    assert wrong.headers["Allow"] == "POST"
