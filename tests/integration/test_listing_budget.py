"""Bounded work per request (issue 11 item 5): a listing reads at most its budget of DynamoDB items and
calls, whatever the filter matches; what it could not read is behind `next_cursor`. DynamoDB calls are
counted with a botocore event hook on the client the handlers use."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from ulid import ULID

from tests.conftest import Aws, LambdaContext, api_event, load_handler

MATCH, OTHER = "31612345679", "447700900000"


@pytest.fixture
def calls(aws) -> Counter:
    """DynamoDB operations made through smsgw's client, by name."""
    from smsgw import db

    counted: Counter = Counter()
    db.dynamodb_client().meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: counted.update([model.name])
    )
    return counted


def store_messages(aws: Aws, account_id: str, recipients: list[str]) -> list[str]:
    """Stored messages (oldest first), as the send path stores them; returns their ids."""
    from smsgw.core.lifecycle import Status
    from smsgw.core.message import Event, Message
    from smsgw.messages import repository

    ids = []
    with aws.table.batch_writer() as batch:
        for n, to in enumerate(recipients):
            message_id = str(ULID.from_timestamp(1_800_000_000 + n))
            at = "2027-01-15T08:00:00.000+00:00"
            message = Message(
                message_id=message_id,
                account_id=account_id,
                sender="ACME",
                to=to,
                country="GB",
                text=f"m{n}",
                sms_type="text",
                params={},
                parts=1,
                part_ids=(message_id,),
                encoding="GSM-7",
                unit_price=Decimal("0.042"),
                price=Decimal("0.042"),
                currency="EUR",
                created_at=at,
                expires_at=1_900_000_000,
                status=Status.QUEUED,
                updated_at=at,
                events=(Event(at=at, status=Status.QUEUED),),
            )
            batch.put_item(Item=repository.to_item(message))
            ids.append(message_id)
    return ids


def list_messages(account_id: str, **query: str) -> dict[str, Any]:
    event = api_event("GET", "/messages", query=query, account_id=account_id)
    response = load_handler("messages").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def test_a_filter_matching_nothing_costs_one_query_not_one_per_message(aws, account, calls):
    store_messages(aws, account.account_id, [OTHER] * 300)
    calls.clear()
    page = list_messages(account.account_id, to=MATCH, limit="1")
    assert page == {"messages": [], "next_cursor": None}
    assert calls["Query"] <= 3  # before: 300 (Limit=1 per call, applied before the filter)


def test_when_the_budget_is_spent_the_page_ends_with_a_cursor(aws, account, calls, monkeypatch):
    from smsgw.messages import repository

    monkeypatch.setattr(repository, "READ_BUDGET_ITEMS", 100)
    ids = store_messages(aws, account.account_id, [MATCH] + [OTHER] * 299)  # the match is the oldest
    pages = []
    cursor: str | None = None
    while True:
        calls.clear()
        page = list_messages(
            account.account_id, to=MATCH, limit="10", **({"cursor": cursor} if cursor else {})
        )
        assert calls["Query"] <= repository.READ_BUDGET_QUERIES
        pages.append([m["message_id"] for m in page["messages"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10, "the cursor must move forward"
    assert pages[:2] == [[], []]  # budget spent, nothing matched yet: the client continues
    assert [m for p in pages for m in p] == [ids[0]]


@pytest.mark.parametrize("limit", [1, 7, 100])
def test_pages_of_a_filtered_listing_hold_every_match_once_newest_first(aws, account, calls, limit):
    recipients = [MATCH if n % 3 == 0 else OTHER for n in range(120)]
    ids = store_messages(aws, account.account_id, recipients)
    expected = [i for i, to in zip(ids, recipients, strict=True) if to == MATCH][::-1]
    seen: list[str] = []
    cursor: str | None = None
    requests = 0
    while True:
        calls.clear()
        page = list_messages(
            account.account_id, to=MATCH, limit=str(limit), **({"cursor": cursor} if cursor else {})
        )
        requests += 1
        assert calls["Query"] <= 3
        assert len(page["messages"]) <= limit
        seen += [m["message_id"] for m in page["messages"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert requests <= len(expected) // limit + 2


def test_the_account_numbers_listing_reads_a_bounded_number_of_items(aws, calls, monkeypatch):
    from smsgw.accounts import service
    from smsgw.numbers import repository

    acme = service.create_account("acme", balance="10", rate_limit_per_second=1000)
    for n in range(30):
        repository.claim_owned(acme.account_id, f"4477009{n:05d}", "GB", {}, "2027-01-15T08:00:00+00:00")
    monkeypatch.setattr(repository, "MAX_OWNED_LISTED", 10)
    monkeypatch.setattr(repository, "MAX_OWNED_QUERIES", 2)
    calls.clear()
    event = api_event(
        "GET",
        "/communication/nexmo/phone-numbers/account/numbers",
        query={"size": "100"},
        account_id=acme.account_id,
    )
    response = load_handler("numbers").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["count"] == 10
    assert calls["Query"] <= 2
