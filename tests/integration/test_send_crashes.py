"""Issue 11 c: a send whose function dies half-way is never charged-and-forgotten, and a client that
retries with its Idempotency-Key gets the first message back instead of a second SMS."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
import pytest

from tests.conftest import REGION, LambdaContext, api_event, load_handler, sqs_event

SEND = "/communication/nexmo/sms/send"


def send(account, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = api_event(
        "POST",
        SEND,
        form={"from": "ACME", "to": "447700900000", "text": "your code is 1234"},
        headers=headers,
        account_id=account.account_id,
    )
    return load_handler("send").lambda_handler(event, LambdaContext())


def dispatch_everything(aws) -> None:
    handler = load_handler("dispatch")
    while (event := sqs_event(aws.send_queue_url))["Records"]:
        handler.lambda_handler(event, LambdaContext())
        sqs = boto3.client("sqs", region_name=REGION)
        for record in event["Records"]:
            sqs.delete_message(QueueUrl=aws.send_queue_url, ReceiptHandle=record["receiptHandle"])


def balance(aws, account) -> Decimal:
    item = aws.table.get_item(Key={"pk": f"ACCOUNT#{account.account_id}", "sk": "ACCOUNT"})["Item"]
    return Decimal(item["balance"])


def sim_texts(simulator) -> list[str]:
    import requests

    return [m["text"] for m in requests.get(f"{simulator.url}/_sim/messages", timeout=5).json()["messages"]]


def crash_with_key(aws, account, crash_at, key: str) -> None:
    """A send with this Idempotency-Key dies after the charge (its transaction already kept the key's
    answer, so a retry gets that answer: messages/idempotency.py)."""
    from smsgw.faults import InjectedCrash

    crash_at("send.after_charge")
    with pytest.raises(InjectedCrash):
        send(account, headers={"Idempotency-Key": key})
    crash_at(None)


def test_a_send_that_dies_after_the_charge_is_still_sent_once(aws, account, carrier_env, crash_at):
    crash_at("send.after_charge")
    from smsgw.faults import InjectedCrash

    with pytest.raises(InjectedCrash):
        send(account)
    crash_at(None)
    [stored] = aws.items("MSG#")
    assert stored["status"] == "queued"
    dispatch_everything(aws)
    assert sim_texts(carrier_env) == ["your code is 1234"]


def test_a_retry_with_the_same_idempotency_key_after_a_crash_gets_the_first_message(
    aws, account, carrier_env, crash_at
):
    before = balance(aws, account)
    crash_with_key(aws, account, crash_at, "order-42")

    retry = send(account, headers={"Idempotency-Key": "order-42"})
    assert retry["statusCode"] == 200, retry["body"]
    [stored] = aws.items("MSG#")
    assert json.loads(retry["body"])["messages"][0]["message-id"] == stored["message_id"]
    assert balance(aws, account) == before - Decimal(str(stored["price"]))
    dispatch_everything(aws)
    assert sim_texts(carrier_env) == ["your code is 1234"]


def test_the_same_idempotency_key_with_another_body_after_a_crash_is_refused(aws, account, crash_at):
    crash_with_key(aws, account, crash_at, "order-43")
    event = api_event(
        "POST",
        SEND,
        form={"from": "ACME", "to": "447700900000", "text": "another text"},
        headers={"Idempotency-Key": "order-43"},
        account_id=account.account_id,
    )
    response = load_handler("send").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 400
    assert "Idempotency-Key" in response["body"]
    assert len(aws.items("MSG#")) == 1


def test_crash_points_are_ignored_outside_the_local_emulator(aws, account, crash_at, monkeypatch):
    crash_at("send.after_charge")
    monkeypatch.setenv("LOCAL_EMULATOR", "false")
    assert send(account)["statusCode"] == 200
