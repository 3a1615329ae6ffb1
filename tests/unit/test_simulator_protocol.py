"""The carrier simulator's wire protocol as pure functions: parameters, signatures, auth, validation, parts."""

from __future__ import annotations

import base64
import json

import pytest

from simulator import protocol
from simulator.protocol import ApiCredentials, MalformedRequest, SmsFailure

# contracts/vonage-sms.md §5, worked vector
VECTOR = {
    "api_key": "abcd1234",
    "from": "AcmeInc",
    "text": "Hi & bye = ok",
    "timestamp": "1700000000",
    "to": "447700900000",
}
VECTOR_SECRET = "mysecret"
VECTOR_BASE = "&api_key=abcd1234&from=AcmeInc&text=Hi _ bye _ ok&timestamp=1700000000&to=447700900000"
VECTOR_SIGS = {
    "md5hash": "dfc5bccdb4a6edc879b424a2e4cf64d1",
    "sha256": "600031fb80907cfb2d42b132b2ba5a8baf267525a2c2c7c1b6bef553fff42052",
    "md5": "28f2b45a30e4fa6ff13ea7eb811fe0fd",
}

NOW = 1_700_000_100.0  # 100 s after the vector's timestamp
ACCOUNT = ApiCredentials("abcd1234", "topsecret99", VECTOR_SECRET, "sha256")


def failure_of(call, *args) -> SmsFailure:
    with pytest.raises(SmsFailure) as caught:
        call(*args)
    return caught.value


# --- signatures -------------------------------------------------------------------------------------------


def test_signature_base_sorts_keys_and_replaces_separators_in_values():
    assert protocol.signature_base(VECTOR) == VECTOR_BASE
    assert protocol.signature_base({**VECTOR, "sig": "ignored"}) == VECTOR_BASE


@pytest.mark.parametrize(("method", "expected"), VECTOR_SIGS.items())
def test_sign_matches_the_contract_vector(method, expected):
    assert protocol.sign(VECTOR, VECTOR_SECRET, method) == expected


@pytest.mark.parametrize("method", protocol.SIGNATURE_METHODS)
def test_check_signature_accepts_its_own_signature_in_any_case_and_nothing_else(method):
    sig = protocol.sign(VECTOR, VECTOR_SECRET, method)
    assert protocol.check_signature({**VECTOR, "sig": sig}, VECTOR_SECRET, method)
    assert protocol.check_signature({**VECTOR, "sig": sig.upper()}, VECTOR_SECRET, method)
    assert not protocol.check_signature({**VECTOR, "sig": sig, "text": "Hi"}, VECTOR_SECRET, method)
    assert not protocol.check_signature({**VECTOR, "sig": sig}, "othersecret", method)
    assert not protocol.check_signature(VECTOR, VECTOR_SECRET, method)


def test_the_methods_give_different_signatures():
    assert len({protocol.sign(VECTOR, VECTOR_SECRET, method) for method in protocol.SIGNATURE_METHODS}) == 5


def test_unknown_signature_method_is_refused():
    with pytest.raises(ValueError, match="sha3"):
        protocol.sign(VECTOR, VECTOR_SECRET, "sha3")


# --- parameters -------------------------------------------------------------------------------------------


def test_form_body_and_query_merge_with_the_body_winning():
    params = protocol.parse_params(
        "api_key=k&to=111", b"to=447700900000&text=Hi+%26+bye&from=Acme", "application/x-www-form-urlencoded"
    )
    assert params == {"api_key": "k", "to": "447700900000", "text": "Hi & bye", "from": "Acme"}


def test_json_body_values_become_wire_strings():
    body = json.dumps({"to": 447700900000, "status-report-req": True, "ttl": 90000, "udh": None, "x": [1]})
    params = protocol.parse_params("", body.encode(), "application/json; charset=utf-8")
    assert params == {"to": "447700900000", "status-report-req": "true", "ttl": "90000", "x": "[1]"}


def test_no_content_type_is_read_as_a_form():
    assert protocol.parse_params("", b"from=Acme", None) == {"from": "Acme"}


@pytest.mark.parametrize(
    ("body", "complaint"),
    [(b"{not json", "not valid JSON"), (b"[1, 2]", "must be an object"), (b'{"text": "\xff"}', "not UTF-8")],
)
def test_unreadable_bodies_are_malformed(body, complaint):
    with pytest.raises(MalformedRequest, match=complaint):
        protocol.parse_params("", body, "application/json")


# --- authentication ---------------------------------------------------------------------------------------


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def signed(params: dict[str, str], secret: str = VECTOR_SECRET, method: str = "sha256") -> dict[str, str]:
    return {**params, "sig": protocol.sign(params, secret, method)}


def test_key_and_secret_as_params_authenticate():
    params = {"api_key": "abcd1234", "api_secret": "topsecret99"}
    assert protocol.authenticate(params, None, ACCOUNT, NOW) == "secret"


def test_basic_auth_authenticates():
    assert protocol.authenticate({}, basic("abcd1234", "topsecret99"), ACCOUNT, NOW) == "basic"


def test_a_fresh_valid_signature_authenticates():
    assert protocol.authenticate(signed(VECTOR), None, ACCOUNT, NOW) == "signature"


@pytest.mark.parametrize(
    ("params", "authorization", "status", "error_text"),
    [
        ({"api_key": "abcd1234", "api_secret": "wrong-secret"}, None, "4", "Bad Credentials"),
        ({"api_key": "someone", "api_secret": "topsecret99"}, None, "4", "Bad Credentials"),
        ({}, basic("abcd1234", "nope"), "4", "Bad Credentials"),
        ({}, "Basic !!!not-base64", "4", "Bad Credentials"),
        ({"api_secret": "topsecret99"}, None, "2", "Missing api_key"),
        ({"api_key": "abcd1234"}, None, "2", "Missing api_secret"),
        ({**signed(VECTOR), "text": "tampered"}, None, "14", "Invalid Signature"),
        (signed(VECTOR, "othersecret"), None, "14", "Invalid Signature"),
        (signed(VECTOR, method="md5"), None, "14", "Invalid Signature"),
        (signed({**VECTOR, "timestamp": "1699999000"}), None, "14", "Invalid Signature"),  # 11 min old
        ({**signed(VECTOR), "api_secret": "topsecret99"}, None, "32", "Signature And API Secret Disallowed"),
        (signed(VECTOR), basic("abcd1234", "topsecret99"), "32", "Signature And API Secret Disallowed"),
        (signed({**VECTOR, "api_key": "someone"}), None, "4", "Bad Credentials"),
    ],
)
def test_bad_credentials_give_the_carrier_status(params, authorization, status, error_text):
    failure = failure_of(protocol.authenticate, params, authorization, ACCOUNT, NOW)
    assert (failure.status, failure.error_text) == (status, error_text)
    assert failure.response() == {
        "message-count": "1",
        "messages": [{"status": status, "error-text": error_text}],
    }


def test_an_open_account_takes_any_credentials_but_still_refuses_signature_and_secret():
    anyone = ApiCredentials()
    assert protocol.authenticate({"api_key": "x", "api_secret": "y"}, None, anyone, NOW) == "secret"
    assert protocol.authenticate({"api_key": "x", "sig": "whatever"}, None, anyone, NOW) == "signature"
    assert failure_of(protocol.authenticate, {"api_key": "x"}, None, anyone, NOW).status == "2"
    both = {"api_key": "x", "api_secret": "y", "sig": "z"}
    assert failure_of(protocol.authenticate, both, None, anyone, NOW).status == "32"


# --- validation -------------------------------------------------------------------------------------------

GOOD = {"from": "AcmeInc", "to": "447700900000", "text": "Hello"}


@pytest.mark.parametrize(
    ("params", "status", "error_text"),
    [
        ({"to": "447700900000", "text": "x"}, "2", "Missing from param"),
        ({"from": "Acme", "text": "x"}, "2", "Missing to param"),
        ({"from": "Acme", "to": "447700900000"}, "2", "Missing text param"),
        ({**GOOD, "text": ""}, "2", "Missing text param"),
        ({**GOOD, "type": "binary"}, "2", "Missing body param"),
        ({**GOOD, "to": "+447700900000"}, "3", "Invalid to param"),
        ({**GOOD, "to": "123456"}, "3", "Invalid to param"),
        ({**GOOD, "to": "1234567890123456"}, "3", "Invalid to param"),
        ({**GOOD, "type": "vcard"}, "3", "Invalid type param"),
        ({**GOOD, "type": "binary", "body": "zz"}, "3", "Invalid body param"),
        ({**GOOD, "type": "binary", "body": "0A", "udh": "050"}, "3", "Invalid udh param"),
        ({**GOOD, "type": "binary", "body": "00" * 135, "udh": "0500030A0201"}, "12", "Message too long"),
        ({**GOOD, "text": "a" * 3201}, "12", "Message too long"),
    ],
)
def test_invalid_submissions_give_status_and_reason(params, status, error_text):
    failure = failure_of(protocol.validate_submission, params)
    assert (failure.status, failure.error_text) == (status, error_text)


@pytest.mark.parametrize(
    "params",
    [
        GOOD,
        {**GOOD, "to": "1234567"},
        {**GOOD, "type": "unicode", "text": "Привет"},
        {"from": "Acme", "to": "447700900000", "type": "binary", "body": "00" * 134, "udh": "0500030A0201"},
        {**GOOD, "text": "a" * 3200},
    ],
)
def test_valid_submissions_pass(params):
    protocol.validate_submission(params)


# --- parts ------------------------------------------------------------------------------------------------


def septets(text: str) -> int:
    return sum(2 if char in protocol.GSM_EXTENSION else 1 for char in text)


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("", [0]),
        ("a" * 160, [160]),
        ("a" * 161, [153, 8]),
        ("a" * 306, [153, 153]),
        ("a" * 307, [153, 153, 1]),
        ("€" * 80, [80]),  # 160 septets
        ("€" * 81, [76, 5]),  # 162 septets: 76 × 2 = 152 per part, the 77th would not fit
        ("{}" * 40 + "a", [76, 5]),
        ("\f" * 80, [80]),
        ("a" * 152 + "€" + "a" * 10, [152, 11]),  # the escape pair is not cut in two
    ],
)
def test_gsm7_parts(text, sizes):
    parts = protocol.split_text(text)
    assert [len(part) for part in parts] == sizes
    assert "".join(parts) == text
    limit = 160 if len(parts) == 1 else 153
    assert all(septets(part) <= limit for part in parts)


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("ж" * 70, [70]),
        ("ж" * 71, [67, 4]),
        ("ж" * 134, [67, 67]),
        ("😀" * 35, [35]),  # 70 UTF-16 units
        ("😀" * 36, [33, 3]),  # 33 × 2 = 66 units, a surrogate pair is not cut
    ],
)
def test_unicode_parts(text, sizes):
    parts = protocol.split_text(text, "unicode")
    assert [len(part) for part in parts] == sizes
    assert "".join(parts) == text


def test_count_parts_by_type():
    assert protocol.count_parts({**GOOD, "text": "€" * 81}) == 2
    assert protocol.count_parts({**GOOD, "text": "a" * 100, "type": "unicode"}) == 2
    assert protocol.count_parts({**GOOD, "text": "a" * 100}) == 1
    assert protocol.count_parts({**GOOD, "type": "binary", "body": "00" * 140}) == 1


# --- bodies -----------------------------------------------------------------------------------------------


def test_throttled_response_is_all_strings_and_echoes_to():
    assert SmsFailure("1").response("447700900000") == {
        "message-count": "1",
        "messages": [{"status": "1", "error-text": "Throttled", "to": "447700900000"}],
    }


def test_token_response_is_kpn_shaped_and_all_strings():
    body = protocol.token_response("tok", "client-1", 3599, 1_700_000_000_123)
    assert all(isinstance(value, str) for value in body.values())
    assert body["access_token"] == "tok"
    assert body["expires_in"] == "3599"
    assert body["token_type"] == "Bearer"
    assert body["issued_at"] == "1700000000123"
    assert body["client_id"] == "client-1"
    assert body["status"] == "approved"


def test_access_tokens_look_like_apigee_tokens():
    tokens = {protocol.new_access_token() for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(token) == 28 and token.isalnum() for token in tokens)


@pytest.mark.parametrize(
    ("authorization", "token"),
    [("Bearer abc", "abc"), ("bearer abc ", "abc"), ("Bearer ", None), ("Basic abc", None), (None, None)],
)
def test_bearer_token(authorization, token):
    assert protocol.bearer_token(authorization) == token


# --- delivery receipts (§3) -----------------------------------------------------------------------------------

AT = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
SUBMISSION = {
    "api_key": "abcd1234",
    "from": "AcmeInc",
    "to": "447700900000",
    "text": "Hi",
    "client-ref": "o-1",
}
RECEIPT_COMMON = {"api_key": "abcd1234", "network": "20416", "price": "0.03330000", "at": AT}


def test_one_receipt_per_part_with_the_part_message_ids_and_only_strings():
    ids = ["id-part-1", "id-part-2", "id-part-3"]
    receipts = protocol.delivery_receipts(
        SUBMISSION, ids, ["delivered", "failed", "delivered"], **RECEIPT_COMMON
    )

    assert [receipt["messageId"] for receipt in receipts] == ids
    assert [receipt["status"] for receipt in receipts] == ["delivered", "failed", "delivered"]
    assert receipts[0] == {
        "msisdn": "447700900000",  # the recipient
        "to": "AcmeInc",  # the sender of the submission
        "network-code": "20416",
        "messageId": "id-part-1",
        "price": "0.03330000",
        "status": "delivered",
        "err-code": "0",
        "api-key": "abcd1234",
        "client-ref": "o-1",
        "scts": "2311142213",
        "message-timestamp": "2023-11-14 22:13:20",
    }
    assert all(isinstance(value, str) for receipt in receipts for value in receipt.values())
    assert receipts[1]["err-code"] == "8"


def test_a_receipt_has_client_ref_only_when_the_submission_had_one():
    without = {name: value for name, value in SUBMISSION.items() if name != "client-ref"}
    receipt = protocol.delivery_receipt(without, "id-1", "delivered", **RECEIPT_COMMON)
    assert "client-ref" not in receipt
    assert (
        protocol.delivery_receipt({**without, "client-ref": ""}, "id-1", "delivered", **RECEIPT_COMMON)[
            "client-ref"
        ]
        == ""
    )


def test_receipts_need_a_status_for_every_part_and_known_statuses():
    with pytest.raises(ValueError, match="2 parts but 1 statuses"):
        protocol.delivery_receipts(SUBMISSION, ["a", "b"], ["delivered"], **RECEIPT_COMMON)
    with pytest.raises(ValueError, match="'sent'"):
        protocol.delivery_receipt(SUBMISSION, "a", "sent", **RECEIPT_COMMON)


@pytest.mark.parametrize(
    ("status", "err_code"),
    [
        ("delivered", "0"),
        ("accepted", "0"),
        ("buffered", "0"),
        ("expired", "2"),
        ("failed", "8"),
        ("rejected", "6"),
        ("unknown", "1"),
    ],
)
def test_err_code_follows_the_status(status, err_code):
    assert protocol.delivery_receipt(SUBMISSION, "a", status, **RECEIPT_COMMON)["err-code"] == err_code
    assert (
        protocol.delivery_receipt(SUBMISSION, "a", status, err_code="99", **RECEIPT_COMMON)["err-code"]
        == "99"
    )


@pytest.mark.parametrize(
    ("at", "scts", "timestamp"),
    [
        (AT, "2311142213", "2023-11-14 22:13:20"),
        (0.0, "7001010000", "1970-01-01 00:00:00"),
        (1_704_067_199.9, "2312312359", "2023-12-31 23:59:59"),  # seconds are cut, not rounded
    ],
)
def test_scts_and_message_timestamp_are_utc(at, scts, timestamp):
    assert protocol.scts(at) == scts
    assert protocol.message_timestamp(at) == timestamp


@pytest.mark.parametrize("method", protocol.SIGNATURE_METHODS)
def test_a_signed_receipt_verifies_with_the_signature_check(method):
    fields = protocol.delivery_receipt(
        {**SUBMISSION, "client-ref": "a&b=c"}, "id-1", "delivered", **RECEIPT_COMMON
    )
    signed = protocol.sign_webhook(fields, VECTOR_SECRET, method, 1_700_000_000, "nonce-1")

    assert signed == {**fields, "timestamp": "1700000000", "nonce": "nonce-1", "sig": signed["sig"]}
    assert protocol.check_signature(signed, VECTOR_SECRET, method)
    assert not protocol.check_signature({**signed, "status": "failed"}, VECTOR_SECRET, method)
    assert not protocol.check_signature({**signed, "nonce": "nonce-2"}, VECTOR_SECRET, method)
    assert not protocol.check_signature(signed, "othersecret", method)
    assert fields == {
        name: value for name, value in signed.items() if name not in ("timestamp", "nonce", "sig")
    }


def test_signing_a_receipt_matches_the_contract_vector():
    params = {name: value for name, value in VECTOR.items() if name != "timestamp"}
    signed = protocol.sign_webhook(params, VECTOR_SECRET, "md5hash", 1_700_000_000, "n")
    assert signed["sig"] == protocol.sign({**VECTOR, "nonce": "n"}, VECTOR_SECRET, "md5hash")
    assert protocol.signature_base(signed) == "&api_key=abcd1234&from=AcmeInc&nonce=n&text=Hi _ bye _ ok" + (
        "&timestamp=1700000000&to=447700900000"
    )


@pytest.mark.parametrize(
    ("params", "wanted"),
    [
        ({}, True),
        ({"status-report-req": "true"}, True),
        ({"status-report-req": "1"}, True),
        ({"status-report-req": "false"}, False),
        ({"status-report-req": "FALSE"}, False),
        ({"status-report-req": "0"}, False),
    ],
)
def test_status_report_req_turns_receipts_off(params, wanted):
    assert protocol.wants_receipt(params) is wanted


def test_receipt_url_is_the_callback_else_the_default():
    assert protocol.receipt_url({"callback": "http://a/dlr"}, "http://b/dlr") == "http://a/dlr"
    assert protocol.receipt_url({}, "http://b/dlr") == "http://b/dlr"
    assert protocol.receipt_url({"callback": ""}, None) is None


def test_webhook_request_encodings():
    fields = {"messageId": "id-1", "status": "delivered", "client-ref": "a&b=c ü"}

    as_json = protocol.webhook_request("http://gw/carrier/dlr", fields, "POST-JSON")
    assert (as_json.method, as_json.url, dict(as_json.headers)) == (
        "POST",
        "http://gw/carrier/dlr",
        {"Content-Type": "application/json"},
    )
    assert json.loads(as_json.body or b"") == fields

    as_form = protocol.webhook_request("http://gw/carrier/dlr", fields, "POST")
    assert as_form.headers == {"Content-Type": "application/x-www-form-urlencoded"}
    assert protocol.parse_params("", as_form.body or b"", "application/x-www-form-urlencoded") == fields

    as_get = protocol.webhook_request("http://gw/carrier/dlr?k=v", fields, "GET")
    assert (as_get.method, as_get.body) == ("GET", None)
    base, _, query = as_get.url.partition("?")
    assert base == "http://gw/carrier/dlr"
    assert protocol.parse_params(query, b"", None) == {"k": "v", **fields}

    with pytest.raises(ValueError, match="PUT"):
        protocol.webhook_request("http://gw/", fields, "PUT")


@pytest.mark.parametrize(
    ("http_status", "again"),
    [
        (None, True),
        (429, True),
        (500, True),
        (503, True),
        (599, True),
        (200, False),
        (400, False),
        (401, False),
    ],
)
def test_retried_answers_are_none_429_and_5xx(http_status, again):
    assert protocol.retryable(http_status) is again


def test_retry_delay_starts_at_the_base_doubles_and_is_capped():
    assert [protocol.retry_delay(n, 5, 900) for n in range(1, 10)] == [5, 10, 20, 40, 80, 160, 320, 640, 900]
    assert protocol.retry_delay(10_000, 5, 900) == 900
