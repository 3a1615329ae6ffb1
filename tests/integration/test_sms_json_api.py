"""SmsJsonFunction (POST /sms/json, Vonage's SMS API) through API Gateway events and through the
official vonage SDK (over a local TLS front): what a Vonage client sees, and what is stored,
charged and queued."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from smsgw.carrier.vonage import sign_params
from smsgw.core.memo import forget_all
from tests.conftest import LambdaContext, api_event, b64, load_handler, response_header
from tests.e2e.vonage_tls import FrontRequest, FrontResponse, TlsFront

PATH = "/sms/json"
MESSAGE = {"from": "ACME", "to": "447700900000", "text": "Hello"}
GB_PRICE = Decimal("0.042")  # the rate card's price for 44…


@pytest.fixture(autouse=True)
def _fresh_auth_caches() -> Iterator[None]:
    forget_all()
    yield
    forget_all()


@pytest.fixture
def creds(aws) -> Any:
    """An account that signs with HMAC-SHA256, and all its credentials."""
    from smsgw.accounts import service

    return service.create_account("acme", balance="10", senders=["ACME"], signature_method="sha256")


def call(
    *,
    form: dict[str, str] | None = None,
    json_body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    event = api_event(
        "POST", PATH, form=form, json_body=json_body, raw_body=raw_body, headers=headers, query=query
    )
    response = load_handler("sms_json").lambda_handler(event, LambdaContext())
    response["json"] = json.loads(response["body"])
    return response


def with_secret(creds: Any, **fields: str) -> dict[str, str]:
    return {**MESSAGE, **fields, "api_key": creds.api_key, "api_secret": creds.api_secret}


def signed(creds: Any, timestamp: int | None = None, **fields: str) -> dict[str, str]:
    params = {**MESSAGE, **fields, "api_key": creds.api_key, "timestamp": str(timestamp or int(time.time()))}
    return {**params, "sig": sign_params(params, creds.signature_secret, creds.signature_method)}


def basic(creds: Any) -> dict[str, str]:
    return {"Authorization": "Basic " + b64(f"{creds.api_key}:{creds.api_secret}")}


def balance(aws, account_id: str) -> Decimal:
    return aws.table.get_item(Key={"pk": f"ACCOUNT#{account_id}", "sk": "ACCOUNT"})["Item"]["balance"]


def assert_accepted(aws, creds: Any, response: dict[str, Any], text: str = "Hello") -> dict[str, Any]:
    """HTTP 200, the KPN route's body, and the message stored (without credentials), charged, queued."""
    assert response["statusCode"] == 200
    body = response["json"]
    assert body["message-count"] == "1", body
    [part] = body["messages"]
    assert part["status"] == "0"
    assert part["to"] == "447700900000"
    assert part["message-price"] == "0.04200000"
    assert part["remaining-balance"] == "9.95800000"
    assert all(isinstance(value, str) for value in part.values())
    [stored] = aws.items("MSG#")
    assert stored["message_id"] == part["message-id"]
    assert (stored["text"], stored["status"]) == (text, "queued")
    for secret in (creds.api_secret, creds.signature_secret):
        assert secret not in json.dumps(stored, default=str)
    assert not {"api_key", "api_secret", "sig", "timestamp", "nonce"} & set(stored.get("params", {}))
    assert balance(aws, creds.account_id) == Decimal("10") - GB_PRICE
    assert aws.queued_bodies() == [{"message_id": part["message-id"]}]
    return part


def assert_refused(aws, creds: Any, response: dict[str, Any], status: str, field: str | None = None) -> str:
    """HTTP 200 with one Vonage error element, and nothing stored, charged or queued."""
    assert response["statusCode"] == 200
    body = response["json"]
    assert body["message-count"] == "1"
    [element] = body["messages"]
    assert element["status"] == status, element
    assert element["error-text"]
    assert all(isinstance(value, str) for value in element.values())
    if field is not None:
        assert element.get("field") == field
    assert aws.items("MSG#") == []
    assert balance(aws, creds.account_id) == Decimal("10")
    assert aws.queued_bodies() == []
    return str(element["error-text"])


# --- accepted ------------------------------------------------------------------------------------


def test_form_with_key_and_secret_is_accepted_like_the_kpn_send(aws, creds):
    assert_accepted(aws, creds, call(form=with_secret(creds)))


def test_json_with_basic_auth_is_accepted(aws, creds):
    """The Node SDK's way: a JSON body (numbers allowed) and a Basic header."""
    response = call(json_body={**MESSAGE, "to": 447700900000}, headers=basic(creds))
    assert_accepted(aws, creds, response)


def test_form_with_basic_auth_is_accepted(aws, creds):
    """The Python SDK's way: a form body and a Basic header."""
    assert_accepted(aws, creds, call(form=MESSAGE, headers=basic(creds)))


def test_json_with_key_and_secret_in_the_body_is_accepted(aws, creds):
    assert_accepted(aws, creds, call(json_body=with_secret(creds)))


def test_credentials_in_the_query_string_are_accepted(aws, creds):
    query = {"api_key": creds.api_key, "api_secret": creds.api_secret}
    assert_accepted(aws, creds, call(form=MESSAGE, query=query))


def test_a_signed_request_is_accepted(aws, creds):
    assert_accepted(aws, creds, call(form=signed(creds)))


def test_a_signed_json_request_with_a_nonce_is_accepted(aws, creds):
    assert_accepted(aws, creds, call(json_body=signed(creds, nonce="n-1")))


def test_a_long_message_answers_one_element_per_part(aws, creds):
    response = call(form=with_secret(creds, text="x" * 161))
    assert response["json"]["message-count"] == "2"
    assert [m["status"] for m in response["json"]["messages"]] == ["0", "0"]
    assert len(aws.items("MSG#")) == 1


# --- refused: HTTP 200, a Vonage status, nothing stored --------------------------------------------


def refusal_cases(creds: Any) -> dict[str, tuple[dict[str, Any], str, str | None]]:
    """name → (call kwargs, Vonage status, field)."""
    old = int(time.time()) - 301
    sig_and_secret = {**signed(creds), "api_secret": creds.api_secret}
    return {
        "no credentials": ({"form": MESSAGE}, "2", "api_key"),
        "no secret": ({"form": {**MESSAGE, "api_key": creds.api_key}}, "2", "api_secret"),
        "wrong secret": ({"form": {**with_secret(creds), "api_secret": "wrong"}}, "4", None),
        "unknown key": ({"form": {**with_secret(creds), "api_key": "nobody12"}}, "4", None),
        "wrong basic": ({"form": MESSAGE, "headers": {"Authorization": "Basic " + b64("x:y")}}, "4", None),
        "forged sig": ({"form": {**signed(creds), "text": "Changed"}}, "14", "sig"),
        "stale sig": ({"form": signed(creds, timestamp=old)}, "14", "timestamp"),
        "future sig": ({"form": signed(creds, timestamp=int(time.time()) + 301)}, "14", "timestamp"),
        "sig and secret": ({"form": sig_and_secret}, "32", "api_secret"),
        "missing to": ({"form": {k: v for k, v in with_secret(creds).items() if k != "to"}}, "2", "to"),
        "bad to": ({"form": with_secret(creds, to="12")}, "34", "to"),
        "bad ttl": ({"form": with_secret(creds, ttl="5")}, "16", "ttl"),
        "bad message-class": ({"form": with_secret(creds, **{"message-class": "9"})}, "20", "message-class"),
        "bad callback": ({"form": with_secret(creds, callback="http://example.com/x")}, "23", "callback"),
        "unknown param": ({"form": with_secret(creds, client_ref="typo")}, "3", "client_ref"),
        "sender not allowed": ({"form": with_secret(creds, **{"from": "OTHER"})}, "15", "from"),
        "too long": ({"form": with_secret(creds, text="x" * 3201)}, "12", "text"),
        "non-GSM text": ({"form": with_secret(creds, text="zażółć")}, "3", "text"),
        "malformed JSON": ({"raw_body": "{oops", "headers": {"Content-Type": "application/json"}}, "3", None),
        "JSON list value": ({"json_body": {**with_secret(creds), "text": ["a", "b"]}}, "3", "text"),
    }


CASES = [
    "no credentials",
    "no secret",
    "wrong secret",
    "unknown key",
    "wrong basic",
    "forged sig",
    "stale sig",
    "future sig",
    "sig and secret",
    "missing to",
    "bad to",
    "bad ttl",
    "bad message-class",
    "bad callback",
    "unknown param",
    "sender not allowed",
    "too long",
    "non-GSM text",
    "malformed JSON",
    "JSON list value",
]


@pytest.mark.parametrize("case", CASES)
def test_refusals_answer_http_200_with_the_vonage_status_and_change_nothing(aws, creds, case):
    kwargs, status, field = refusal_cases(creds)[case]
    response = call(**kwargs)
    assert_refused(aws, creds, response, status, field)


def test_the_refusal_cases_are_all_tested(creds):
    assert sorted(refusal_cases(creds)) == sorted(CASES)


def test_a_disabled_account_is_status_8(aws, creds):
    from smsgw.accounts import service

    service.set_disabled(creds.account_id, True)
    text = assert_refused(aws, creds, call(form=with_secret(creds)), "8")
    assert "Partner Account Barred" in text
    assert_refused(aws, creds, call(form=signed(creds)), "8")


def test_insufficient_balance_is_status_9(aws):
    from smsgw.accounts import service

    poor = service.create_account("poor", balance="0.01", senders=[])
    response = call(form={**MESSAGE, "api_key": poor.api_key, "api_secret": poor.api_secret})
    assert response["statusCode"] == 200
    [element] = response["json"]["messages"]
    assert element["status"] == "9"
    assert aws.items("MSG#") == []
    assert aws.queued_bodies() == []
    assert balance(aws, poor.account_id) == Decimal("0.01")


def test_over_the_request_rate_is_status_1_throttled_and_nothing_is_stored(aws, monkeypatch):
    from smsgw.accounts import service

    limited = service.create_account("limited", balance="5", senders=[], rate_limit_per_second=2)
    monkeypatch.setattr(service.time, "time", lambda: 1_800_000_000.5)
    form = {**MESSAGE, "api_key": limited.api_key, "api_secret": limited.api_secret}
    assert [call(form=form)["json"]["messages"][0]["status"] for _ in range(2)] == ["0", "0"]
    third = call(form=form)
    assert third["statusCode"] == 200
    [element] = third["json"]["messages"]
    assert element["status"] == "1"
    assert element["error-text"].startswith("Throttled")
    assert response_header(third, "Retry-After") == "1"
    assert len(aws.items("MSG#")) == 2
    assert balance(aws, limited.account_id) == Decimal("5") - 2 * GB_PRICE


def test_a_throttled_signed_request_can_be_retried_as_it_is(aws, creds, monkeypatch):
    from smsgw.accounts import service

    params = signed(creds)
    # This second's request counter is full (the send reads it with the balance, before anything).
    monkeypatch.setattr(service, "_seconds", lambda: 1_800_000_000.5)
    aws.table.update_item(
        Key={"pk": f"ACCOUNT#{creds.account_id}", "sk": "ACCOUNT"},
        UpdateExpression="SET #window = :full",
        ExpressionAttributeNames={"#window": "requests#1800000000"},
        ExpressionAttributeValues={":full": creds.rate_limit_per_second},
    )
    assert call(form=params)["json"]["messages"][0]["status"] == "1"
    monkeypatch.undo()
    assert_accepted(aws, creds, call(form=params))


def test_a_replayed_signed_request_is_status_14_and_sends_nothing_more(aws, creds):
    params = signed(creds)
    first = assert_accepted(aws, creds, call(form=params))
    replay = call(form=params)
    assert replay["statusCode"] == 200
    [element] = replay["json"]["messages"]
    assert (element["status"], element["field"]) == ("14", "sig")
    [stored] = aws.items("MSG#")
    assert stored["message_id"] == first["message-id"]
    assert aws.queued_bodies() == []


def test_a_refused_signed_request_can_be_retried_once_fixed_elsewhere(aws, creds):
    """A refusal releases the signature: the same signed request runs once the balance allows it."""
    from smsgw.accounts import service

    params = signed(creds)
    aws.table.update_item(
        Key={"pk": f"ACCOUNT#{creds.account_id}", "sk": "ACCOUNT"},
        UpdateExpression="SET balance = :zero",
        ExpressionAttributeValues={":zero": Decimal("0")},
    )
    assert call(form=params)["json"]["messages"][0]["status"] == "9"
    service.top_up(creds.account_id, "10")
    second = call(form=params)
    assert second["json"]["messages"][0]["status"] == "0"


def test_idempotency_key_replays_the_first_answer_also_for_a_re_signed_retry(aws, creds):
    key = {"Idempotency-Key": "order-42"}
    first = call(form=signed(creds, timestamp=int(time.time()) - 1), headers=key)
    again = call(form=signed(creds), headers=key)  # a new timestamp, so a new signature
    exact_copy = call(form=signed(creds), headers=key)  # the same signature, the same key
    assert first["json"]["messages"][0]["status"] == "0"
    assert again["json"] == first["json"] == exact_copy["json"]
    assert len(aws.items("MSG#")) == 1
    assert len(aws.queued_bodies()) == 1


def test_idempotency_key_with_another_body_is_status_3_naming_it(aws, creds):
    key = {"Idempotency-Key": "order-42"}
    assert call(form=with_secret(creds), headers=key)["json"]["messages"][0]["status"] == "0"
    other = call(form=with_secret(creds, text="Different"), headers=key)
    assert other["statusCode"] == 200
    [element] = other["json"]["messages"]
    assert (element["status"], element["field"]) == ("3", "Idempotency-Key")
    assert len(aws.items("MSG#")) == 1


def test_queue_failure_is_status_5_and_refunds(aws, creds, monkeypatch):
    from smsgw import queues

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("sqs down")

    monkeypatch.setattr(queues, "enqueue_dispatch", broken)
    response = call(form=with_secret(creds))
    assert_refused(aws, creds, response, "5")


# --- OpenAPI -------------------------------------------------------------------------------------


def test_the_route_is_described_in_openapi(aws):
    # The document the API serves (ApiFunction's GET /openapi.json): 202 is a send held for later
    # (send_at, quiet hours), as the route answers it; every other answer is 200 with a Vonage status.
    response = load_handler("api").lambda_handler(api_event("GET", "/openapi.json"), LambdaContext())
    spec = json.loads(response["body"])
    operation = spec["paths"][PATH]["post"]
    assert set(operation["responses"]) == {"200", "202"}
    assert "application/x-www-form-urlencoded" in operation["requestBody"]["content"]
    text = json.dumps(spec)
    for name in (
        "api_key",
        "api_secret",
        "sig",
        "timestamp",
        "status-report-req",
        "error-text",
        "message-id",
    ):
        assert f'"{name}"' in text, name
    assert "Basic" in operation["description"]


# --- the official vonage SDK as the client -------------------------------------------------------


def lambda_forward(request: FrontRequest) -> FrontResponse:
    """The TLS front's request as API Gateway delivers it to SmsJsonFunction."""
    event = api_event(
        request.method,
        request.path,
        raw_body=request.body,
        headers=request.headers,
        query=request.query or None,
    )
    response = load_handler("sms_json").lambda_handler(event, LambdaContext())
    return FrontResponse(response["statusCode"], response["body"], response.get("headers") or {})


@pytest.fixture
def front(aws, monkeypatch) -> Iterator[TlsFront]:
    with TlsFront(lambda_forward) as tls:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_bundle))
        yield tls
    assert tls.errors == []


def vonage_client(front: TlsFront, **auth: str) -> Any:
    from vonage import Auth, HttpClientOptions, Vonage

    return Vonage(Auth(**auth), HttpClientOptions(rest_host=front.host, timeout=15))


def sdk_send(client: Any, **message: Any) -> Any:
    from vonage_sms import SmsMessage

    return client.sms.send(SmsMessage(**{"to": "447700900000", "from_": "ACME", "text": "Hello", **message}))


def test_the_sdk_with_key_and_secret_sends(aws, creds, front):
    response = sdk_send(vonage_client(front, api_key=creds.api_key, api_secret=creds.api_secret))

    [part] = response.messages
    assert (response.message_count, part.status, part.to) == ("1", "0", "447700900000")
    assert part.remaining_balance == "9.95800000"
    [stored] = aws.items("MSG#")
    assert part.message_id == stored["message_id"]
    [sent] = front.requests
    assert sent.header("Authorization") == "Basic " + b64(f"{creds.api_key}:{creds.api_secret}")
    assert sent.header("Content-Type") == "application/x-www-form-urlencoded"
    assert aws.queued_bodies() == [{"message_id": part.message_id}]


def test_the_sdk_signing_with_sha256_sends(aws, creds, front):
    client = vonage_client(
        front, api_key=creds.api_key, signature_secret=creds.signature_secret, signature_method="sha256"
    )
    response = sdk_send(client, text="Signed & sealed = delivered", client_ref="order-7")

    [part] = response.messages
    assert (part.status, part.client_ref) == ("0", "order-7")
    [stored] = aws.items("MSG#")
    assert (stored["message_id"], stored["text"]) == (part.message_id, "Signed & sealed = delivered")
    [sent] = front.requests
    assert "sig=" in sent.body
    assert "api_secret" not in sent.body
    assert sent.header("Authorization") is None


def test_the_sdk_sees_refusals_as_vonage_errors(aws, creds, front):
    from vonage_sms import SmsError

    with pytest.raises(SmsError, match="error code 4: Bad Credentials"):
        sdk_send(vonage_client(front, api_key=creds.api_key, api_secret="wrong-secret"))
    with pytest.raises(SmsError, match="error code 15"):
        sdk_send(vonage_client(front, api_key=creds.api_key, api_secret=creds.api_secret), from_="OTHER")
    assert aws.items("MSG#") == []
