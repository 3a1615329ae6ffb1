"""The sample events in events/ (also usable with `sam local invoke` where Docker exists) work as documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, LambdaContext, load_handler

EVENTS = ROOT / "events"


def load(path: Path, **replacements: str) -> dict:
    text = path.read_text()
    for placeholder, value in replacements.items():
        text = text.replace(f"REPLACE_{placeholder}", value)
    return json.loads(text)


@pytest.mark.parametrize(
    ("name", "status"),
    [("send/form.json", 200), ("send/json-advanced.json", 200), ("send/missing-to.json", 400)],
)
def test_send_events(aws, account, name, status):
    event = load(EVENTS / name, ACCOUNT_ID=account.account_id)
    response = load_handler("send").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == status, response["body"]
    if status == 200:
        assert json.loads(response["body"])["messages"][0]["status"] == "0"


@pytest.mark.parametrize(
    ("name", "status"),
    [("api/unknown-path.json", 404), ("api/wrong-method.json", 405), ("api/openapi.json", 200)],
)
def test_api_events(aws, name, status):
    response = load_handler("api").lambda_handler(load(EVENTS / name), LambdaContext())
    assert response["statusCode"] == status


def test_sms_json_event(aws, account):
    event = load(EVENTS / "sms_json/key-secret.json", API_KEY=account.api_key, API_SECRET=account.api_secret)
    response = load_handler("sms_json").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["messages"][0]["status"] == "0"


def test_token_and_authorizer_events(aws, account):
    event = load(
        EVENTS / "token/client-credentials.json",
        CLIENT_ID=account.client_id,
        CLIENT_SECRET=account.client_secret,
    )
    response = load_handler("token").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200
    token = json.loads(response["body"])["access_token"]
    policy = load_handler("authorizer").lambda_handler(
        load(EVENTS / "authorizer/request.json", TOKEN=token), LambdaContext()
    )
    assert policy["isAuthorized"] is True
    assert policy["context"]["account_id"] == account.account_id


def test_every_sample_event_is_covered():
    covered = {
        "send/form.json",
        "send/json-advanced.json",
        "send/missing-to.json",
        "api/unknown-path.json",
        "api/wrong-method.json",
        "api/openapi.json",
        "token/client-credentials.json",
        "authorizer/request.json",
        "dispatch/batch.json",
        "sms_json/key-secret.json",
    }
    assert {str(p.relative_to(EVENTS)) for p in EVENTS.rglob("*.json")} == covered


def test_dispatch_event(aws, account, carrier_env):
    import boto3
    import requests

    send_event = load(EVENTS / "send/form.json", ACCOUNT_ID=account.account_id)
    sent = json.loads(load_handler("send").lambda_handler(send_event, LambdaContext())["body"])
    assert "messages" in sent, sent
    message_id = sent["messages"][0]["message-id"]
    sqs = boto3.client("sqs", region_name="eu-west-1")
    [record] = sqs.receive_message(QueueUrl=aws.send_queue_url)["Messages"]
    event = load(
        EVENTS / "dispatch/batch.json", MESSAGE_ID=message_id, RECEIPT_HANDLE=record["ReceiptHandle"]
    )
    assert load_handler("dispatch").lambda_handler(event, LambdaContext()) == {"batchItemFailures": []}
    received = requests.get(f"{carrier_env.url}/_sim/messages", timeout=5).json()["messages"]
    assert [m["text"] for m in received] == ["Hello from smsgw"]
