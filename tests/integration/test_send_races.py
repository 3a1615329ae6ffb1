"""Sends racing between the send's one read and its charge transaction (issue 15 moved every refusal
onto that read): what the read allowed, the transaction still refuses by its conditions — nothing
charged, no message stored, the refusal named as if the read had seen it. And a held send's
Idempotency-Key answers again without a transaction."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from smsgw.accounts import guard_settings
from smsgw.accounts import service as accounts
from smsgw.core.memo import forget_all
from smsgw.messages import repository
from tests.integration.test_send_calls import balance, send


def between_read_and_charge(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None]) -> None:
    """Run `meanwhile` once, right after the next send's read (as a concurrent request would)."""
    real = repository.preflight
    pending = [meanwhile]

    def read_then_race(*args: Any, **kwargs: Any) -> Any:
        seen = real(*args, **kwargs)
        if pending:
            pending.pop()()
        return seen

    monkeypatch.setattr(repository, "preflight", read_then_race)


def messages_stored(aws) -> list[dict[str, Any]]:
    return [item for item in aws.items("MSG#") if item.get("sk") == "MSG"]


def test_a_balance_spent_after_the_read_is_refused_by_the_charge_and_nothing_is_stored(
    aws, account, monkeypatch
):
    def spend_it() -> None:
        aws.table.update_item(
            Key={"pk": f"ACCOUNT#{account.account_id}", "sk": "ACCOUNT"},
            UpdateExpression="SET balance = :zero",
            ExpressionAttributeValues={":zero": Decimal("0")},
        )

    between_read_and_charge(monkeypatch, spend_it)
    answer = send(account.account_id)
    [part] = answer["json"]["messages"]
    assert part["status"] == "9", answer["body"]  # Partner Quota Violation, as when the read sees it
    assert "balance" in part["error-text"]
    assert messages_stored(aws) == []
    assert balance(aws, account.account_id) == Decimal("0")


def test_the_rate_limit_reached_by_a_concurrent_send_after_the_read_is_still_429(aws, monkeypatch):
    limited = accounts.create_account("limited", balance="10", senders=["ACME"], rate_limit_per_second=1)
    second = int(time.time())
    monkeypatch.setattr(accounts, "_seconds", lambda: second + 0.5)  # both sends in one window, always
    between_read_and_charge(monkeypatch, lambda: send(limited.account_id, {**_form(), "text": "first"}))
    answer = send(limited.account_id, {**_form(), "text": "second"})
    assert answer["statusCode"] == 429, answer["body"]
    assert [m["text"] for m in messages_stored(aws)] == ["first"]


def test_a_velocity_limit_reached_after_the_read_refuses_the_send(aws, account, monkeypatch):
    guard_settings.set_guards(account.account_id, velocity=1)
    forget_all()
    between_read_and_charge(monkeypatch, lambda: send(account.account_id, {**_form(), "text": "first"}))
    answer = send(account.account_id, {**_form(), "text": "second"})
    assert answer["statusCode"] == 429, answer["body"]
    assert "velocity limit" in answer["json"]["messages"][0]["error-text"]
    assert "first" in [m["text"] for m in messages_stored(aws)]
    assert "second" not in [m["text"] for m in messages_stored(aws)]


def test_a_daily_cap_reached_after_the_read_refuses_the_send_naming_the_cap(aws, account, monkeypatch):
    guard_settings.set_guards(account.account_id, daily_cap="0.05")
    forget_all()
    between_read_and_charge(monkeypatch, lambda: send(account.account_id, {**_form(), "text": "first"}))
    answer = send(account.account_id, {**_form(), "text": "second"})
    [part] = answer["json"]["messages"]
    assert part["status"] == "9"
    assert "cap" in part["error-text"]
    assert [m["text"] for m in messages_stored(aws)] == ["first"]


def test_a_held_send_with_an_idempotency_key_answers_its_retry_the_same(aws, account):
    send_at = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0).isoformat()
    form = {**_form(), "send-at": send_at}
    first = send(account.account_id, form, key="held-1")
    again = send(account.account_id, form, key="held-1")
    assert first["statusCode"] == again["statusCode"] == 202, first["body"]
    assert json.loads(again["body"]) == json.loads(first["body"])
    assert [m["status"] for m in messages_stored(aws)] == ["scheduled"]


def test_held_sends_count_against_the_velocity_limit_when_they_are_accepted(aws, account):
    guard_settings.set_guards(account.account_id, velocity=1)
    forget_all()
    send_at = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0).isoformat()
    first = send(account.account_id, {**_form(), "send-at": send_at})
    second = send(account.account_id, {**_form(), "send-at": send_at, "text": "again"})
    assert first["statusCode"] == 202, first["body"]
    assert second["statusCode"] == 429, second["body"]
    assert "velocity limit" in second["json"]["messages"][0]["error-text"]
    assert len(messages_stored(aws)) == 1


def _form() -> dict[str, str]:
    return {"from": "ACME", "to": "447700900000", "text": "Hello"}


def test_a_key_kept_without_its_answer_is_answered_from_its_message_or_409_when_it_is_gone(aws, account):
    """Key items written before answers were kept name only their message: a retry is answered from it."""
    first = send(account.account_id, key="old-key")
    [item] = [i for i in aws.items("IDEMKEY#")]
    aws.table.update_item(Key={"pk": item["pk"], "sk": item["sk"]}, UpdateExpression="REMOVE #r",
                          ExpressionAttributeNames={"#r": "response"})  # fmt: skip
    again = send(account.account_id, key="old-key")
    assert again["statusCode"] == 200, again["body"]
    assert again["json"]["messages"][0]["message-id"] == first["json"]["messages"][0]["message-id"]
    assert len(messages_stored(aws)) == 1
    message_id = first["json"]["messages"][0]["message-id"].split("-")[0]
    aws.table.delete_item(Key={"pk": f"MSG#{message_id}", "sk": "MSG"})  # its retention ended
    gone = send(account.account_id, key="old-key")
    assert gone["statusCode"] == 409, gone["body"]


def test_an_idempotency_key_too_long_or_unprintable_is_400_naming_it(aws, account):
    for key in ("k" * 256, "tab\there"):
        answer = send(account.account_id, key=key)
        assert answer["statusCode"] == 400, answer["body"]
        assert "Idempotency-Key" in answer["body"]
    assert messages_stored(aws) == []
