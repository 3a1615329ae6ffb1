"""Bad input on every route is a 4xx naming what to fix, never a 5xx, and nothing is half-written:
content types (form, multipart form, JSON, anything else), huge and deeply nested bodies,
out-of-range dates, forged cursors and schedules too large to store."""

from __future__ import annotations

import base64
import json
import urllib.parse
from typing import Any

import boto3
import pytest

from tests.conftest import REGION, LambdaContext, api_event, load_handler

SEND = "/communication/nexmo/sms/send"
REGISTER = "/communication/nexmo/sms/register"
NUMBERS = "/communication/nexmo/phone-numbers/number"
TOKEN = "/oauth/client_credential/accesstoken"
HOOK = "https://93.184.215.14/hooks/inbound"  # a public address: no DNS lookup in tests

# Every route that takes a form body, with the function that serves it.
FORM_ROUTES = [
    (SEND, "send"),
    (REGISTER, "numbers"),
    (f"{NUMBERS}/update", "numbers"),
    (f"{NUMBERS}/buy", "numbers"),
    (f"{NUMBERS}/cancel", "numbers"),
    (TOKEN, "token"),
    ("/sms/json", "sms_json"),
    ("/schedules", "schedules"),
]
BODY_ROUTES = [*FORM_ROUTES, ("/carrier/inbound", "inbound"), ("/carrier/dlr", "delivery_receipt")]


def call(
    function: str,
    method: str,
    path: str,
    *,
    account_id: str | None = None,
    body: str | None = None,
    content_type: str | None = None,
    query: dict[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    headers = {"Content-Type": content_type} if content_type else {}
    event = api_event(method, path, raw_body=body, headers=headers, query=query, account_id=account_id)
    if base64_body and body is not None:
        event["body"] = base64.b64encode(body.encode()).decode()
        event["isBase64Encoded"] = True
    response = load_handler(function).lambda_handler(event, LambdaContext())
    response["json"] = json.loads(response["body"]) if response.get("body") else None
    return response


def field_of(body: dict[str, Any]) -> str | None:
    """The field an error names, in the gateway's shape or Nexmo's/Vonage's."""
    if "messages" in body:
        return body["messages"][0].get("field")
    return body.get("field")


def refused(response: dict[str, Any], path: str) -> tuple[int, str | None]:
    """(HTTP status, field); /sms/json answers every refusal as HTTP 200 with a Vonage status, as Vonage."""
    if path == "/sms/json":
        assert response["statusCode"] == 200, response
        assert response["json"]["messages"][0]["status"] != "0", response["json"]
    return response["statusCode"], field_of(response["json"])


def multipart(fields: dict[str, str], boundary: str = "----PostmanBoundary7MA4YWxkTrZu0gW") -> str:
    lines = []
    for name, value in fields.items():
        lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"', "", value]
    return "\r\n".join([*lines, f"--{boundary}--", ""])


def nothing_written(aws) -> None:
    kinds = {item["pk"].split("#", 1)[0] for item in aws.table.scan()["Items"]}
    assert kinds <= {"ACCOUNT", "CLIENT", "APIKEY", "RATE", "TOKEN"}, kinds
    assert aws.queued_bodies() == []


@pytest.fixture
def acme(aws):
    from smsgw.accounts import service

    return service.create_account("acme", balance="10", senders=["ACME"], rate_limit_per_second=1000)


# --- content types ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "function"), FORM_ROUTES)
def test_multipart_without_a_boundary_is_400_naming_the_content_type(aws, acme, path, function):
    response = call(
        function,
        "POST",
        path,
        account_id=acme.account_id,
        body="to=447700900000&text=hi",
        content_type="multipart/form-data",
    )
    status, field = refused(response, path)
    assert status in (200, 400), response
    assert field == "Content-Type"
    nothing_written(aws)


@pytest.mark.parametrize(("path", "function"), FORM_ROUTES)
def test_an_unsupported_content_type_is_415_naming_the_accepted_ones(aws, acme, path, function):
    response = call(
        function, "POST", path, account_id=acme.account_id, body="<to>1</to>", content_type="text/xml"
    )
    status, field = refused(response, path)
    assert status in (200, 415), response
    assert field == "Content-Type"
    text = json.dumps(response["json"])
    assert "application/x-www-form-urlencoded" in text
    assert "multipart/form-data" in text
    assert "application/json" in text
    nothing_written(aws)


def test_a_postman_form_data_send_is_read_as_a_form(aws, acme):
    body = multipart({"from": "ACME", "to": "447700900000", "text": "Hello from Postman"})
    response = call(
        "send",
        "POST",
        SEND,
        account_id=acme.account_id,
        body=body,
        content_type="multipart/form-data; boundary=----PostmanBoundary7MA4YWxkTrZu0gW",
    )
    assert response["statusCode"] == 200, response["json"]
    assert response["json"]["messages"][0]["status"] == "0"
    [stored] = aws.items("MSG#")
    assert stored["text"] == "Hello from Postman"


def test_multipart_arrives_base64_encoded_when_api_gateway_treats_it_as_binary(aws, acme):
    body = multipart({"from": "ACME", "to": "447700900000", "text": "Grüße"}, boundary="b0undary")
    response = call(
        "send",
        "POST",
        SEND,
        account_id=acme.account_id,
        body=body,
        content_type='multipart/form-data; boundary="b0undary"',
        base64_body=True,
    )
    assert response["statusCode"] == 200, response["json"]
    assert aws.items("MSG#")[0]["text"] == "Grüße"


def test_a_postman_form_data_token_request(aws, acme):
    response = call(
        "token",
        "POST",
        TOKEN,
        body=multipart({"client_id": acme.client_id, "client_secret": acme.client_secret}),
        content_type="multipart/form-data; boundary=----PostmanBoundary7MA4YWxkTrZu0gW",
        query={"grant_type": "client_credentials"},
    )
    assert response["statusCode"] == 200, response["json"]
    assert response["json"]["token_type"] == "Bearer"


def test_a_postman_form_data_register(aws, acme):
    response = call(
        "numbers",
        "POST",
        REGISTER,
        account_id=acme.account_id,
        body=multipart({"to": "31612345678", "callback_url": HOOK}),
        content_type="multipart/form-data; boundary=----PostmanBoundary7MA4YWxkTrZu0gW",
    )
    assert response["statusCode"] == 202, response["json"]  # the code SMS is on its way


def test_a_postman_form_data_sms_json(aws, acme):
    response = call(
        "sms_json",
        "POST",
        "/sms/json",
        body=multipart(
            {
                "api_key": acme.api_key,
                "api_secret": acme.api_secret,
                "from": "ACME",
                "to": "447700900000",
                "text": "hi",
            }
        ),
        content_type="multipart/form-data; boundary=----PostmanBoundary7MA4YWxkTrZu0gW",
    )
    assert response["json"]["messages"][0]["status"] == "0", response["json"]


def test_a_postman_form_data_schedule_with_repeated_recipients(aws, acme):
    boundary = "xyz"
    parts = [
        ("name", "Digest"),
        ("recipients", "447700900001"),
        ("recipients", "447700900002"),
        ("from", "ACME"),
        ("text", "Good morning"),
        ("schedule", "cron(0 8 * * ? *)"),
        ("timezone", "Europe/Amsterdam"),
    ]
    lines = []
    for name, value in parts:
        lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"', "", value]
    body = "\r\n".join([*lines, f"--{boundary}--", ""])
    response = call(
        "schedules",
        "POST",
        "/schedules",
        account_id=acme.account_id,
        body=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response["statusCode"] == 201, response["json"]
    assert [r["to"] for r in response["json"]["recipients"]] == ["447700900001", "447700900002"]


@pytest.mark.parametrize(
    "body",
    [
        "no boundary in here at all",
        "--b\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n--b--\r\n",
    ],
)
def test_a_malformed_multipart_body_is_400(aws, acme, body):
    response = call(
        "send",
        "POST",
        SEND,
        account_id=acme.account_id,
        body=body,
        content_type="multipart/form-data; boundary=b",
    )
    assert response["statusCode"] == 400, response
    assert field_of(response["json"]) in ("body", "text")
    nothing_written(aws)


def test_a_form_data_value_that_is_not_utf8_is_400_naming_it(aws, acme):
    raw = b'--b\r\nContent-Disposition: form-data; name="text"\r\n\r\n\xff\xfe\r\n--b--\r\n'
    event = api_event(
        "POST",
        SEND,
        raw_body=raw,  # not text: the HTTP API hands it over base64-encoded
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        account_id=acme.account_id,
    )
    assert event["isBase64Encoded"]
    response = load_handler("send").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 400, response
    assert field_of(json.loads(response["body"])) == "text"
    nothing_written(aws)


@pytest.mark.parametrize(("path", "function"), BODY_ROUTES)
def test_a_body_that_is_not_base64_or_not_utf8_is_400_naming_the_body(aws, acme, path, function):
    event = api_event(
        "POST",
        path,
        raw_body="%%%not base64",
        headers={"Content-Type": "application/json"},
        account_id=acme.account_id,
    )
    event["isBase64Encoded"] = True
    response = load_handler(function).lambda_handler(event, LambdaContext())
    body = json.loads(response["body"])
    assert response["statusCode"] in (200, 400), response
    assert field_of(body) == "body"
    nothing_written(aws)


@pytest.mark.parametrize(("path", "function"), BODY_ROUTES)
@pytest.mark.parametrize("payload", ["[1, 2]", '"text"', "12", "null"])
def test_a_json_body_that_is_not_an_object_is_400_naming_the_body(aws, acme, path, function, payload):
    response = call(
        function, "POST", path, account_id=acme.account_id, body=payload, content_type="application/json"
    )
    status, field = refused(response, path)
    assert status in (200, 400), response
    assert field == "body"
    nothing_written(aws)


# --- huge and nested bodies -------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "function"), BODY_ROUTES)
def test_deeply_nested_json_is_400_naming_the_body(aws, acme, path, function):
    response = call(
        function,
        "POST",
        path,
        account_id=acme.account_id,
        body='{"text": ' + "[" * 100_000 + "]" * 100_000 + "}",
        content_type="application/json",
    )
    status, field = refused(response, path)
    assert status in (200, 400), response
    assert field == "body"
    assert "nested" in json.dumps(response["json"])
    nothing_written(aws)


@pytest.mark.parametrize("path", ["/carrier/inbound", "/carrier/dlr"])
def test_deeply_nested_json_without_a_content_type_is_400_on_the_carrier_webhooks(aws, path):
    function = "inbound" if path == "/carrier/inbound" else "delivery_receipt"
    response = call(function, "POST", path, body="{" * 5 + "[" * 100_000)
    assert response["statusCode"] == 400, response
    assert response["json"]["field"] == "body"


@pytest.mark.parametrize(("path", "function"), BODY_ROUTES)
def test_a_huge_body_is_413_naming_the_body(aws, acme, path, function):
    response = call(
        function,
        "POST",
        path,
        account_id=acme.account_id,
        body=json.dumps({"text": "x" * 2_000_000}),
        content_type="application/json",
    )
    status, field = refused(response, path)
    assert status in (200, 413), response
    assert field == "body"
    nothing_written(aws)


def test_json_with_nan_is_400_naming_the_body(aws, acme):
    response = call(
        "schedules",
        "POST",
        "/schedules",
        account_id=acme.account_id,
        body='{"name": NaN}',
        content_type="application/json",
    )
    assert response["statusCode"] == 400, response
    assert response["json"]["field"] == "body"


# --- dates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["since", "until"])
@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00Z", "1969-12-31Z", "1969-12-31T23:59:59Z", "10000-01-01"]
)
def test_a_date_filter_out_of_range_is_400_naming_it(aws, acme, field, value):
    response = call("messages", "GET", "/messages", account_id=acme.account_id, query={field: value})
    assert response["statusCode"] == 400, response
    assert response["json"]["field"] == field


def test_the_epoch_and_a_far_date_inside_the_ulid_range_are_fine(aws, acme):
    response = call(
        "messages",
        "GET",
        "/messages",
        account_id=acme.account_id,
        query={"since": "1970-01-01T00:00:00Z", "until": "9999-12-31T23:59:59+01:00"},
    )
    assert response["statusCode"] == 200, response
    assert response["json"]["messages"] == []


# --- cursors ----------------------------------------------------------------------------------------


def cursor_of(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def send_messages(acme, count: int) -> None:
    for n in range(count):
        form = urllib.parse.urlencode({"from": "ACME", "to": "447700900000", "text": f"m{n}"})
        response = call(
            "send",
            "POST",
            SEND,
            account_id=acme.account_id,
            body=form,
            content_type="application/x-www-form-urlencoded",
        )
        assert response["statusCode"] == 200, response


@pytest.fixture
def real_cursor(aws, acme) -> dict[str, Any]:
    send_messages(acme, 3)
    page = call("messages", "GET", "/messages", account_id=acme.account_id, query={"limit": "1"})["json"]
    cursor = page["next_cursor"]
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


@pytest.mark.parametrize(
    "forge",
    [
        lambda key: {**key, "gsi1sk": 1.5},
        lambda key: {**key, "pk": 7},
        lambda key: {**key, "sk": {"S": "MSG"}},
        lambda key: {**key, "gsi1sk": ["a", ["b", {"c": None}]]},
        lambda key: {**key, "gsi1sk": ""},
        lambda key: {**key, "gsi1sk": "x" * 5000},
        lambda key: {**key, "extra": "attribute"},
        lambda key: {k: v for k, v in key.items() if k != "sk"},
        lambda key: {**key, "gsi1pk": None},
        lambda key: [key],
        lambda key: 1.5,
    ],
)
def test_a_forged_cursor_is_400_naming_it(aws, acme, real_cursor, forge):
    response = call(
        "messages",
        "GET",
        "/messages",
        account_id=acme.account_id,
        query={"cursor": cursor_of(forge(real_cursor))},
    )
    assert response["statusCode"] == 400, response
    assert response["json"]["field"] == "cursor"


@pytest.mark.parametrize("cursor", ["%%%", "a", "\u00e9\u00e9", "eyJhIjoi"])
def test_an_undecodable_cursor_is_400_naming_it(aws, acme, cursor):
    for path in ("/messages", "/inbound", "/schedules"):
        response = call(
            "schedules" if path == "/schedules" else "messages",
            "GET",
            path,
            account_id=acme.account_id,
            query={"cursor": cursor},
        )
        assert response["statusCode"] == 400, (path, response)
        assert response["json"]["field"] == "cursor"


def test_a_cursor_cannot_page_into_another_accounts_messages(aws, acme):
    from smsgw.accounts import service

    rival = service.create_account("rival", balance="10", senders=["ACME"], rate_limit_per_second=1000)
    send_messages(rival, 3)
    page = call("messages", "GET", "/messages", account_id=rival.account_id, query={"limit": "1"})["json"]
    rivals = page["next_cursor"]
    response = call("messages", "GET", "/messages", account_id=acme.account_id, query={"cursor": rivals})
    assert response["statusCode"] == 400
    assert response["json"]["field"] == "cursor"
    # Their key with our index partition put in: still only our own (none) are read.
    key = json.loads(base64.urlsafe_b64decode(rivals + "=" * (-len(rivals) % 4)))
    ours = cursor_of({**key, "gsi1pk": f"ACCOUNT#{acme.account_id}#MSG"})
    response = call("messages", "GET", "/messages", account_id=acme.account_id, query={"cursor": ours})
    assert response["statusCode"] in (200, 400), response
    if response["statusCode"] == 200:
        assert response["json"]["messages"] == []


def test_a_cursor_outside_the_since_until_range_is_400(aws, acme, real_cursor):
    response = call(
        "messages",
        "GET",
        "/messages",
        account_id=acme.account_id,
        query={"cursor": cursor_of(real_cursor), "until": "2001-01-01T00:00:00Z"},
    )
    assert response["statusCode"] == 400, response
    assert response["json"]["field"] == "cursor"


def test_a_real_cursor_still_pages(aws, acme, real_cursor):
    response = call(
        "messages", "GET", "/messages", account_id=acme.account_id, query={"cursor": cursor_of(real_cursor)}
    )
    assert response["statusCode"] == 200, response
    assert len(response["json"]["messages"]) == 2


# --- a schedule too large to store -------------------------------------------------------------------


def big_schedule() -> dict[str, Any]:
    return {
        "name": "Too big",
        "recipients": [
            {"to": f"4477009{n:05d}", "note": "n" * 1000, "unused": "u" * 400} for n in range(500)
        ],
        "from": "ACME",
        "text": "Hello {{note}}",
        "type": "text",
        "schedule": "cron(0 8 * * ? *)",
        "timezone": "UTC",
    }


def test_a_schedule_too_large_to_store_is_400_naming_the_field_and_nothing_is_created(aws, acme):
    response = call(
        "schedules",
        "POST",
        "/schedules",
        account_id=acme.account_id,
        body=json.dumps(big_schedule()),
        content_type="application/json",
    )
    assert response["statusCode"] == 400, response
    assert response["json"]["field"] == "recipients"
    assert "400 KB" in response["json"]["error"]
    assert aws.items("SCHEDULE#") == []
    scheduler = boto3.client("scheduler", region_name=REGION)
    assert scheduler.list_schedules(GroupName="smsgw-test")["Schedules"] == []


def test_a_change_that_makes_a_schedule_too_large_is_400_and_changes_nothing(aws, acme):
    small = {**big_schedule(), "recipients": ["447700900001"], "text": "Hello"}
    created = call(
        "schedules",
        "POST",
        "/schedules",
        account_id=acme.account_id,
        body=json.dumps(small),
        content_type="application/json",
    )
    assert created["statusCode"] == 201, created
    schedule_id = created["json"]["schedule_id"]
    big = big_schedule()
    response = call(
        "schedules",
        "PATCH",
        f"/schedules/{schedule_id}",
        account_id=acme.account_id,
        body=json.dumps({"recipients": big["recipients"], "text": big["text"]}),
        content_type="application/json",
    )
    assert response["statusCode"] == 400, response
    assert response["json"]["field"] == "recipients"
    [stored] = aws.items("SCHEDULE#")
    assert stored["recipients"] == [{"to": "447700900001"}]


def test_until_before_since_is_400_naming_until(aws, acme):
    response = call(
        "messages",
        "GET",
        "/messages",
        account_id=acme.account_id,
        query={"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    )
    assert response["statusCode"] == 400, response
    assert response["json"]["field"] == "until"


@pytest.mark.parametrize(
    ("function", "method", "path", "field"),
    [
        ("messages", "GET", "/messages/,\u00f4\u008e\u00aa", "message_id"),
        ("messages", "DELETE", "/messages/,\u00f4\u008e\u00aa", "message_id"),
        ("messages", "GET", "/inbound/\u0091\u00ac", "inbound_id"),
        ("schedules", "GET", "/schedules/d\u00f0\u00b3\u0091\u00ac", "schedule_id"),
        ("schedules", "PATCH", "/schedules/d\u00f0\u00b3\u0091\u00ac", "schedule_id"),
    ],
)
def test_an_id_with_characters_no_id_has_is_400_naming_it_not_405(aws, acme, function, method, path, field):
    response = call(
        function, method, path, account_id=acme.account_id, body="{}", content_type="application/json"
    )
    assert response["statusCode"] == 400, response
    assert response["json"]["field"] == field
