"""SendFunction through API Gateway events: what a KPN client sees, and what is stored, charged and queued."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.conftest import LambdaContext, api_event, load_handler, response_header

SEND = "/communication/nexmo/sms/send"


def send(account_id: str, *, form=None, json_body=None, headers=None, raw_body=None, expires_at=None) -> dict:
    handler = load_handler("send")
    event = api_event(
        "POST",
        SEND,
        form=form,
        json_body=json_body,
        headers=headers,
        account_id=account_id,
        raw_body=raw_body,
        expires_at=expires_at,
    )
    response = handler.lambda_handler(event, LambdaContext())
    response["json"] = json.loads(response["body"]) if response.get("body") else None
    return response


def balance(aws, account_id: str) -> Decimal:
    return aws.table.get_item(Key={"pk": f"ACCOUNT#{account_id}", "sk": "ACCOUNT"})["Item"]["balance"]


def test_form_send_is_accepted_charged_stored_and_queued(aws, account):
    response = send(account.account_id, form={"from": "ACME", "to": "447700900000", "text": "Hello"})
    assert response["statusCode"] == 200
    body = response["json"]
    assert body["message-count"] == "1"
    [part] = body["messages"]
    assert part["status"] == "0"
    assert part["to"] == "447700900000"
    assert part["message-price"] == "0.04200000"  # GB from the rate card
    assert part["remaining-balance"] == "9.95800000"
    assert all(isinstance(v, str) for v in part.values())
    assert balance(aws, account.account_id) == Decimal("9.958")
    [stored] = aws.items("MSG#")
    assert stored["status"] == "queued"
    assert stored["message_id"] == part["message-id"]
    assert stored["text"] == "Hello"
    assert aws.queued_bodies() == [{"message_id": part["message-id"]}]


def test_json_send_with_advanced_keys_and_long_text_answers_one_element_per_part(aws, account):
    text = "x" * 161  # two GSM-7 parts
    response = send(
        account.account_id,
        json_body={
            "from": "31612345678",
            "to": "31612345679",
            "text": text,
            "client-ref": "order-7",
            "ttl": 60000,
            "status-report-req": True,
        },
    )
    assert response["statusCode"] == 200, response["json"]
    body = response["json"]
    assert body["message-count"] == "2"
    ids = [m["message-id"] for m in body["messages"]]
    assert len(set(ids)) == 2
    assert all(m["client-ref"] == "order-7" for m in body["messages"])
    assert all(m["message-price"] == "0.07490000" for m in body["messages"])  # NL per part
    assert balance(aws, account.account_id) == Decimal("10") - Decimal("0.1498")
    [stored] = aws.items("MSG#")
    assert stored["parts"] == 2
    assert stored["params"]["client-ref"] == "order-7"
    assert stored["params"]["ttl"] == "60000"


@pytest.mark.parametrize(
    ("fields", "field", "status"),
    [
        ({"to": "447700900000", "text": "hi"}, "from", "2"),
        ({"from": "ACME", "text": "hi"}, "to", "2"),
        ({"from": "ACME", "to": "12", "text": "hi"}, "to", None),
        ({"from": "ACME", "to": "447700900000"}, "text", None),
        ({"from": "ACME", "to": "447700900000", "text": "zażółć"}, "text", None),
        ({"from": "ACME", "to": "447700900000", "text": "x" * 3201}, "text", None),
        ({"from": "ACME", "to": "447700900000", "text": "hi", "ttl": "5"}, "ttl", "16"),
        ({"from": "ACME", "to": "447700900000", "text": "hi", "message-class": "9"}, "message-class", "20"),
        (
            {"from": "ACME", "to": "447700900000", "text": "hi", "callback": "http://example.com/dlr"},
            "callback",
            "23",
        ),
        (
            {"from": "ACME", "to": "447700900000", "text": "hi", "callback": "https://127.0.0.1/x"},
            "callback",
            "23",
        ),
        ({"from": "ACME", "to": "447700900000", "text": "hi", "client_ref": "typo"}, "client_ref", None),
        ({"from": "ACME", "to": "447700900000", "text": "hi", "type": "vcard"}, "type", None),
        ({"from": "ACME", "to": "447700900000", "type": "binary", "body": "zz"}, "body", None),
        ({"from": "TOOLONGSENDER1", "to": "447700900000", "text": "hi"}, "from", None),
        ({"from": "OTHER", "to": "447700900000", "text": "hi"}, "from", "15"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_nothing_happens(aws, account, fields, field, status):
    response = send(account.account_id, form=fields)
    assert response["statusCode"] == 400, response["json"]
    [element] = response["json"]["messages"]
    assert element["field"] == field
    assert element["error-text"]
    assert element["status"] != "0"
    if status:
        assert element["status"] == status
    assert aws.items("MSG#") == []
    assert balance(aws, account.account_id) == Decimal("10")
    assert aws.queued_bodies() == []


def test_malformed_json_is_400(aws, account):
    response = send(account.account_id, raw_body="{not json", headers={"Content-Type": "application/json"})
    assert response["statusCode"] == 400
    assert response["json"]["messages"][0]["status"] in {"2", "3"}
    assert aws.items("MSG#") == []


def test_insufficient_balance_is_status_9_and_nothing_queued(aws, account):
    from smsgw.accounts import service

    poor = service.create_account("poor", balance="0.05", senders=[])
    response = send(poor.account_id, form={"from": "ACME", "to": "31612345679", "text": "hi"})
    assert response["statusCode"] == 200
    [element] = response["json"]["messages"]
    assert element["status"] == "9"
    assert "balance" in element["error-text"]
    assert aws.items("MSG#") == []
    assert aws.queued_bodies() == []
    assert balance(aws, poor.account_id) == Decimal("0.05")


def test_idempotency_key_replays_the_first_answer_and_sends_nothing_more(aws, account):
    form = {"from": "ACME", "to": "447700900000", "text": "Hello"}
    first = send(account.account_id, form=form, headers={"Idempotency-Key": "k-1"})
    again = send(account.account_id, form=form, headers={"idempotency-key": "k-1"})
    assert first["statusCode"] == again["statusCode"] == 200
    assert again["json"] == first["json"]
    assert len(aws.items("MSG#")) == 1
    assert len(aws.queued_bodies()) == 1
    assert balance(aws, account.account_id) == Decimal("9.958")

    other = send(account.account_id, form={**form, "text": "Different"}, headers={"Idempotency-Key": "k-1"})
    assert other["statusCode"] == 400
    assert other["json"]["field"] == "Idempotency-Key"
    assert len(aws.items("MSG#")) == 1


def test_same_idempotency_key_from_another_account_is_independent(aws, account):
    from smsgw.accounts import service

    other = service.create_account("other", balance="5", senders=[])
    form = {"from": "ACME", "to": "447700900000", "text": "Hello"}
    a = send(account.account_id, form=form, headers={"Idempotency-Key": "shared"})
    b = send(other.account_id, form=form, headers={"Idempotency-Key": "shared"})
    assert a["json"]["messages"][0]["message-id"] != b["json"]["messages"][0]["message-id"]
    assert len(aws.items("MSG#")) == 2


def test_rate_limit_answers_429_with_retry_after_and_stores_nothing(aws, account, monkeypatch):
    from smsgw.accounts import service

    limited = service.create_account("limited", balance="5", senders=[], rate_limit_per_second=2)
    monkeypatch.setattr(service.time, "time", lambda: 1_800_000_000.5)
    form = {"from": "ACME", "to": "447700900000", "text": "Hello"}
    assert send(limited.account_id, form=form)["statusCode"] == 200
    assert send(limited.account_id, form=form)["statusCode"] == 200
    third = send(limited.account_id, form=form)
    assert third["statusCode"] == 429
    assert response_header(third, "Retry-After") == "1"
    assert len(aws.items("MSG#")) == 2
    assert balance(aws, limited.account_id) == Decimal("5") - 2 * Decimal("0.042")


def test_disabled_account_is_403(aws, account):
    from smsgw.accounts import service

    service.set_disabled(account.account_id, True)
    response = send(account.account_id, form={"from": "ACME", "to": "447700900000", "text": "hi"})
    assert response["statusCode"] == 403
    assert "disabled" in response["json"]["error"]
    assert aws.items("MSG#") == []


def test_queue_failure_refunds_and_forgets_the_message(aws, account, monkeypatch):
    from smsgw import queues

    def broken(*args, **kwargs):
        raise RuntimeError("sqs down")

    monkeypatch.setattr(queues, "enqueue_dispatch", broken)
    response = send(account.account_id, form={"from": "ACME", "to": "447700900000", "text": "hi"})
    assert response["statusCode"] == 503
    assert response_header(response, "Retry-After") == "1"
    assert aws.items("MSG#") == []
    assert balance(aws, account.account_id) == Decimal("10")


def test_an_unsupported_content_type_is_415_naming_it(aws, account):
    response = send(account.account_id, raw_body="from=ACME", headers={"Content-Type": "text/plain"})
    assert response["statusCode"] == 415
    [element] = response["json"]["messages"]
    assert (element["status"], element["field"]) == ("3", "Content-Type")
    assert aws.items("MSG#") == []


def test_malformed_json_names_the_body(aws, account):
    response = send(account.account_id, raw_body='{"from": ', headers={"Content-Type": "application/json"})
    assert response["statusCode"] == 400
    assert response["json"]["messages"][0]["field"] == "body"


def test_an_unknown_parameter_lists_every_known_one_with_send_at(aws, account):
    response = send(
        account.account_id, form={"from": "ACME", "to": "447700900000", "text": "Hi", "colour": "red"}
    )
    assert response["statusCode"] == 400
    [element] = response["json"]["messages"]
    assert element["field"] == "colour"
    for known in ("send-at", "send_at", "urgent", "client-ref", "callback"):
        assert f"{known}," in element["error-text"] or f"{known})" in element["error-text"], known


@pytest.mark.parametrize(
    ("callback", "words"),
    [
        ("https://[::1", "is not a valid URL"),  # Python's urlsplit: "Invalid IPv6 URL"
        ("https://example.com:99999/x", "port"),  # Python: "Port out of range 0-65535"
        ("https://example.com:abc/x", "port"),  # Python: "Port could not be cast to integer value as 'abc'"
    ],
)
def test_a_bad_callback_url_is_named_in_plain_words(aws, account, callback, words):
    response = send(
        account.account_id, form={"from": "ACME", "to": "447700900000", "text": "Hi", "callback": callback}
    )
    [element] = response["json"]["messages"]
    assert element["field"] == "callback"
    text = element["error-text"]
    assert words in text
    for python in ("Invalid IPv6 URL", "out of range", "could not be cast", "ValueError"):
        assert python not in text
    assert "https://example.com/delivery-receipts" in text or "e.g." in text or "such as" in text


def test_an_unknown_field_is_refused_by_name_even_when_its_json_value_is_null(aws, account):
    # A null counts as absent, but a misspelt name must not pass because its value was empty.
    response = send(
        account.account_id,
        json_body={"from": "ACME", "to": "447700900000", "text": "hi", "client_ref": None},
    )
    assert response["statusCode"] == 400, response["json"]
    [element] = response["json"]["messages"]
    assert element["field"] == "client_ref"
    assert "client-ref" in element["error-text"]
    assert aws.items("MSG#") == []
