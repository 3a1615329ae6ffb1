"""MessagesFunction: a message's status and timeline, and the account's messages, for their owner only."""

from __future__ import annotations

import json

import pytest

from tests.conftest import LambdaContext, api_event, load_handler


def send(account, text="Hello", to="447700900000") -> dict:
    event = api_event(
        "POST",
        "/communication/nexmo/sms/send",
        form={"from": "ACME", "to": to, "text": text},
        account_id=account.account_id,
    )
    response = load_handler("send").lambda_handler(event, LambdaContext())
    return json.loads(response["body"])


def get(account_id: str, path: str, query: dict | None = None) -> tuple[int, dict]:
    event = api_event("GET", path, query=query, account_id=account_id)
    if path.startswith("/messages/"):
        event["pathParameters"] = {"message_id": path.split("/")[2]}
        event["resource"] = "/messages/{message_id}"
    response = load_handler("messages").lambda_handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def test_a_message_shows_its_status_parts_price_and_timeline(aws, account):
    sent = send(account, text="z" * 200)
    first_part = sent["messages"][0]["message-id"]
    status, body = get(account.account_id, f"/messages/{first_part}")
    assert status == 200
    assert body["status"] == "queued"
    assert (body["from"], body["to"]) == ("ACME", "447700900000")
    assert [p["message_id"] for p in body["parts"]] == [m["message-id"] for m in sent["messages"]]
    assert body["price"] == "0.08400000"
    assert [e["status"] for e in body["events"]] == ["queued"]
    # Any part id finds the same message.
    status, again = get(account.account_id, f"/messages/{sent['messages'][1]['message-id']}")
    assert again["message_id"] == body["message_id"]


def test_someone_elses_message_is_404(aws, account):
    from smsgw.accounts import service

    other = service.create_account("other", balance="1", senders=[])
    message_id = send(account)["messages"][0]["message-id"]
    status, body = get(other.account_id, f"/messages/{message_id}")
    assert status == 404
    assert message_id in body["error"]
    assert get(account.account_id, "/messages/01NOTHERE")[0] == 404


def test_listing_is_newest_first_filtered_and_paginated(aws, account):
    ids = [
        send(account, text=f"m{n}", to="447700900000" if n % 2 else "31612345679")["messages"][0][
            "message-id"
        ]
        for n in range(5)
    ]
    status, page = get(account.account_id, "/messages", {"limit": "2"})
    assert status == 200
    assert [m["message_id"] for m in page["messages"]] == [ids[4], ids[3]]
    seen = [m["message_id"] for m in page["messages"]]
    while page["next_cursor"]:
        status, page = get(account.account_id, "/messages", {"limit": "2", "cursor": page["next_cursor"]})
        seen += [m["message_id"] for m in page["messages"]]
    assert seen == list(reversed(ids))

    _, dutch = get(account.account_id, "/messages", {"to": "31612345679"})
    assert [m["message_id"] for m in dutch["messages"]] == [ids[4], ids[2], ids[0]]
    _, plus = get(account.account_id, "/messages", {"to": "+31612345679"})
    assert plus == dutch
    _, none = get(account.account_id, "/messages", {"status": "submitted"})
    assert none["messages"] == []
    _, future = get(account.account_id, "/messages", {"since": "2100-01-01T00:00:00Z"})
    assert future["messages"] == []
    _, past = get(account.account_id, "/messages", {"until": "2000-01-01T00:00:00+01:00"})
    assert past["messages"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"schedule_id": "s" * 65}, "schedule_id"),
        ({"schedule_id": "{'a': 1}"}, "schedule_id"),
        ({"to": "{'': '', 'x': ''}"}, "to"),
        ({"to": "0612 345 678"}, "to"),
        ({"from": "ACME, Inc"}, "from"),
        ({"since": "yesterday"}, "since"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ({"cursor": "%%%"}, "cursor"),
    ],
)
def test_bad_queries_are_400_naming_the_field(aws, account, query, field):
    status, body = get(account.account_id, "/messages", query)
    assert status == 400
    assert body["field"] == field


def test_an_unknown_status_filter_is_400_naming_the_allowed_values(aws, account):
    send(account)
    status, body = get(account.account_id, "/messages", {"status": "bogus"})
    assert status == 400
    assert body["field"] == "status"
    for allowed in ("queued", "delivered", "scheduled", "cancelled", "failed"):
        assert allowed in body["error"]


def test_a_message_still_before_the_carrier_shows_its_parts_with_the_message_status(aws, account):
    sent = send(account, text="z" * 200)
    _, body = get(account.account_id, f"/messages/{sent['messages'][0]['message-id']}")
    assert [part["status"] for part in body["parts"]] == ["queued", "queued"]


def test_empty_date_filters_mean_no_filter(aws, account):
    """As for the other filters, `since=` (a form left empty) is no filter, not a bad date."""
    message_id = send(account)["messages"][0]["message-id"]
    status, body = get(account.account_id, "/messages", {"since": "", "until": ""})
    assert status == 200
    assert [m["message_id"] for m in body["messages"]] == [message_id]


def test_a_cursor_from_another_account_is_refused(aws, account):
    from smsgw.accounts import service

    for n in range(3):
        send(account, text=f"m{n}")
    _, page = get(account.account_id, "/messages", {"limit": "1"})
    other = service.create_account("other", balance="1", senders=[])
    status, body = get(other.account_id, "/messages", {"cursor": page["next_cursor"]})
    assert (status, body["field"]) == (400, "cursor")


@pytest.mark.parametrize("path", ["/messages/" + "m" * 65, "/inbound/" + "i" * 65])
def test_an_id_longer_than_any_id_is_400_naming_it(aws, account, path):
    status, body = get(account.account_id, path)
    assert status == 400
    assert body["field"] == ("message_id" if path.startswith("/messages") else "inbound_id")


@pytest.mark.parametrize(
    ("path", "name"), [("/messages", "to"), ("/inbound", "cursor"), ("/messages", "limit")]
)
def test_a_filter_given_twice_is_400_naming_it(aws, account, path, name):
    # API Gateway (payload 2.0) joins repeated values with commas: "a,b" would read as one odd value.
    event = api_event("GET", path, query={name: "1,2"}, account_id=account.account_id)
    event["rawQueryString"] = f"{name}=1&{name}=2"
    response = load_handler("messages").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["field"] == name
