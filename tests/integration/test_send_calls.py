"""Issue 15: what one send costs in AWS calls, and the Idempotency-Key kept without Powertools.

A warm send makes 3 AWS calls (one consistent read of the balance, the recipient's opt-out and the
rate/velocity/spend counters; the dispatch record; the charge transaction), 4 with an Idempotency-Key
(its claim). Calls are counted at botocore's one entry point, so no client escapes the count.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import LambdaContext, api_event, load_handler

SEND = "/communication/nexmo/sms/send"
FORM = {"from": "ACME", "to": "447700900000", "text": "Hello"}


@pytest.fixture
def calls(aws, monkeypatch) -> Counter:
    """Every AWS API call made (service.operation), whichever client makes it."""
    from botocore.client import BaseClient

    counted: Counter = Counter()
    original = BaseClient._make_api_call

    def counting(self: Any, operation: str, params: Any) -> Any:
        counted[f"{self.meta.service_model.service_name}.{operation}"] += 1
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    return counted


def send(account_id: str, form: dict[str, str] | None = None, key: str | None = None, **context: Any) -> dict:
    headers = {"Idempotency-Key": key} if key else None
    event = api_event("POST", SEND, form=form or FORM, headers=headers, account_id=account_id)
    response = load_handler("send").lambda_handler(event, LambdaContext(**context))
    response["json"] = json.loads(response["body"]) if response.get("body") else None
    return response


def balance(aws, account_id: str) -> Decimal:
    return Decimal(
        aws.table.get_item(Key={"pk": f"ACCOUNT#{account_id}", "sk": "ACCOUNT"})["Item"]["balance"]
    )


@pytest.mark.parametrize("guards", [False, True], ids=["no guards", "velocity and daily cap"])
@pytest.mark.parametrize("key", [None, "k-1"], ids=["plain", "idempotency key"])
def test_a_warm_send_makes_three_aws_calls_four_with_an_idempotency_key(aws, account, calls, guards, key):
    from smsgw.accounts import guard_settings
    from smsgw.core.memo import forget_all

    if guards:
        guard_settings.set_guards(account.account_id, velocity=100, daily_cap="50")
        forget_all()
    assert send(account.account_id, key="warm-up" if key else None)["statusCode"] == 200  # caches filled
    calls.clear()
    response = send(account.account_id, key=key)
    assert response["statusCode"] == 200, response["json"]
    assert response["json"]["messages"][0]["status"] == "0"
    expected = {"dynamodb.BatchGetItem": 1, "sqs.SendMessage": 1, "dynamodb.TransactWriteItems": 1}
    if key:
        expected["dynamodb.PutItem"] = 1  # the key's claim
    assert dict(calls) == expected
    assert len(aws.items("MSG#")) == 2


def test_a_replay_gets_the_first_answer_even_after_the_balance_moved(aws, account):
    first = send(account.account_id, key="order-1")
    assert send(account.account_id)["statusCode"] == 200  # another send moves the balance
    again = send(account.account_id, key="order-1")
    assert again["json"] == first["json"]
    assert again["json"]["messages"][0]["remaining-balance"] == "9.95800000"
    assert len(aws.items("MSG#")) == 2
    assert len(aws.queued_bodies()) == 2


def test_a_key_still_in_progress_is_409_until_its_invocation_would_have_ended(
    aws, account, carrier_env, monkeypatch
):
    """The first request dies after claiming the key and before it charged (its claim is left): a retry is
    409 while that invocation could still be running, and runs — once — after it."""
    from smsgw import queues
    from smsgw.faults import InjectedCrash
    from smsgw.messages import idempotency

    real_enqueue = queues.enqueue_dispatch

    def dies(*args: Any, **kwargs: Any) -> None:
        raise InjectedCrash("the function died")

    monkeypatch.setattr(queues, "enqueue_dispatch", dies)
    with pytest.raises(InjectedCrash):
        send(account.account_id, key="order-2", remaining_ms=30_000)
    monkeypatch.setattr(queues, "enqueue_dispatch", real_enqueue)

    retry = send(account.account_id, key="order-2")
    assert retry["statusCode"] == 409, retry["json"]
    assert aws.items("MSG#") == []
    assert balance(aws, account.account_id) == Decimal("10")

    later = idempotency.time.time() + 31
    monkeypatch.setattr(idempotency.time, "time", lambda: later)
    after = send(account.account_id, key="order-2")
    assert after["statusCode"] == 200, after["json"]
    [stored] = aws.items("MSG#")
    assert after["json"]["messages"][0]["message-id"] == stored["message_id"]
    assert send(account.account_id, key="order-2")["json"] == after["json"]
    assert len(aws.items("MSG#")) == 1
    assert balance(aws, account.account_id) == Decimal("10") - Decimal(str(stored["price"]))


def test_a_refused_send_gives_its_key_back(aws, account):
    from smsgw.accounts import service

    poor = service.create_account("poor", balance="0.01", senders=["ACME"])
    refused = send(poor.account_id, key="order-3")
    assert refused["json"]["messages"][0]["status"] == "9"
    service.top_up(poor.account_id, "10")
    accepted = send(poor.account_id, key="order-3")
    assert accepted["json"]["messages"][0]["status"] == "0"
    assert len(aws.items("MSG#")) == 1


def test_a_refused_send_makes_no_dispatch_record_and_is_not_counted(aws, account, monkeypatch):
    """Refusals are decided on the one read before the enqueue: nothing queued, no counter moved."""
    from smsgw.accounts import service

    poor = service.create_account("poor", balance="0.01", senders=["ACME"], rate_limit_per_second=5)
    monkeypatch.setattr(service.time, "time", lambda: 1_800_000_000.5)  # one rate window
    assert send(poor.account_id)["json"]["messages"][0]["status"] == "9"
    assert aws.queued_bodies() == []
    [refused_on] = aws.items(f"ACCOUNT#{poor.account_id}")
    assert "requests#1800000000" not in refused_on
    service.top_up(poor.account_id, "10")
    assert send(poor.account_id)["json"]["messages"][0]["status"] == "0"
    [counted_on] = aws.items(f"ACCOUNT#{poor.account_id}")
    assert counted_on["requests#1800000000"] == 1  # the send rate is counted on the account item
    assert aws.items(f"RATE#{poor.account_id}") == []


def test_a_plain_send_writes_two_items_the_rate_window_rides_on_the_account(aws, account, monkeypatch):
    """The charge transaction holds the account (balance and this second's request count) and the
    message: a window item of its own would be a third item, two more write units per send."""
    from botocore.client import BaseClient

    transactions: list[list[dict[str, Any]]] = []
    original = BaseClient._make_api_call

    def recording(self: Any, operation: str, params: Any) -> Any:
        if operation == "TransactWriteItems":
            transactions.append(params["TransactItems"])
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    assert send(account.account_id)["json"]["messages"][0]["status"] == "0"
    [items] = transactions
    written = [action.get("Key") or action.get("Item") for item in items for action in item.values()]
    assert sorted(str(key["pk"]).split("#")[0] for key in written) == ["ACCOUNT", "MSG"]
    assert aws.items("RATE#") == []


def test_earlier_seconds_windows_are_removed_from_the_account_item(aws, account, monkeypatch):
    """Each second's count is an attribute of the account item; counts in later seconds remove the
    earlier ones, on the send routes and on the others, so the item does not grow."""
    from smsgw.accounts import service

    def windows() -> dict[str, Any]:
        [item] = aws.items(f"ACCOUNT#{account.account_id}")
        return {name: value for name, value in item.items() if name.startswith("requests#")}

    base = int(time.time())  # tokens are checked against this clock too
    for second in (base, base + 1):
        monkeypatch.setattr(service, "_seconds", lambda second=second: second + 0.5)
        for _ in range(2):
            assert send(account.account_id)["json"]["messages"][0]["status"] == "0"
    assert windows() == {f"requests#{base + 1}": 2}

    from tests.integration.test_account_access import call

    for second in (base + 5, base + 9, base + 12):
        monkeypatch.setattr(service, "_seconds", lambda second=second: second + 0.5)
        assert call("messages", "GET", "/messages", account.account_id)["statusCode"] == 200
        assert call("messages", "GET", "/messages", account.account_id)["statusCode"] == 200
    assert windows() == {f"requests#{base + 12}": 2}
    monkeypatch.setattr(service, "_seconds", lambda: base + 20.5)
    assert send(account.account_id)["json"]["messages"][0]["status"] == "0"
    assert windows() == {f"requests#{base + 20}": 1}
