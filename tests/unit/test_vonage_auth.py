"""Vonage SMS API authentication for /sms/json: key+secret, Basic, signatures (contract §1, §5)."""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal

import pytest

from smsgw.accounts import vonage_auth
from smsgw.accounts.models import Account
from smsgw.core.errors import SendRefused
from smsgw.edges.errors import Wire, error_answer

KEY = "abcd1234"
SECRET = "s3cr3t-api-secret"
SIGNATURE_SECRET = "mysecret"
NOW = 1_700_000_000

# The contract's worked vector (§5).
VECTOR = {
    "api_key": KEY,
    "from": "AcmeInc",
    "text": "Hi & bye = ok",
    "timestamp": "1700000000",
    "to": "447700900000",
}
VECTOR_SIGS = {
    "md5hash": "dfc5bccdb4a6edc879b424a2e4cf64d1",
    "sha256": "600031fb80907cfb2d42b132b2ba5a8baf267525a2c2c7c1b6bef553fff42052",
    "md5": "28f2b45a30e4fa6ff13ea7eb811fe0fd",  # HMAC-MD5, the official SDK's "md5"
}


def make_account(method: str = "md5hash", **overrides: object) -> Account:
    fields: dict[str, object] = {
        "account_id": "01ACCOUNT",
        "name": "acme",
        "client_id": "client",
        "client_secret_hash": "x",
        "api_key": KEY,
        "api_secret_hash": hashlib.sha256(SECRET.encode()).hexdigest(),
        "signature_secret": SIGNATURE_SECRET,
        "signature_method": method,
        "balance": Decimal(10),
        "rate_limit_per_second": 30,
        "created_at": "2026-01-01T00:00:00+00:00",
        **overrides,
    }
    return Account(**fields)


def auth(
    params: dict[str, str],
    authorization: str | None = None,
    *,
    account: Account | None = None,
    now: float = NOW,
    max_skew: int = vonage_auth.MAX_SKEW_SECONDS,
) -> vonage_auth.VonageCaller:
    known = account or make_account()
    return vonage_auth.authenticate(
        params,
        authorization,
        lookup=lambda key: known if key == known.api_key else None,
        now=now,
        max_skew=max_skew,
    )


def refusal(params: dict[str, str], authorization: str | None = None, **kwargs: object) -> SendRefused:
    with pytest.raises(SendRefused) as caught:
        auth(params, authorization, **kwargs)  # type: ignore[arg-type]
    assert (
        error_answer(Wire.VONAGE, caught.value).status_code == 200
    )  # /sms/json answers refusals with HTTP 200
    return caught.value


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


MESSAGE = {"from": "ACME", "to": "447700900000", "text": "Hello"}


# --- key + secret ---------------------------------------------------------------------------------


def test_key_and_secret_as_parameters():
    caller = auth({**MESSAGE, "api_key": KEY, "api_secret": SECRET})
    assert caller.mode == "secret"
    assert caller.account.api_key == KEY
    assert caller.sig is None


def test_basic_authorization_header():
    caller = auth(MESSAGE, basic(KEY, SECRET))
    assert caller.mode == "basic"
    assert caller.account.api_key == KEY


def test_basic_header_scheme_is_case_insensitive():
    assert auth(MESSAGE, "basic " + basic(KEY, SECRET)[6:]).mode == "basic"


def test_a_bearer_header_is_not_vonage_credentials():
    rejection = refusal(MESSAGE, "Bearer some-token")
    assert (rejection.vonage_status, rejection.field) == ("2", "api_key")


@pytest.mark.parametrize(
    ("params", "authorization"),
    [
        ({"api_key": KEY, "api_secret": "wrong-secret"}, None),
        ({"api_key": "unknown1", "api_secret": SECRET}, None),
        ({}, basic(KEY, "wrong-secret")),
        ({}, basic("unknown1", SECRET)),
        ({}, "Basic not-base64!"),
        ({}, "Basic " + base64.b64encode(b"no-colon").decode()),
        ({"api_key": "k" * 65, "api_secret": SECRET}, None),
    ],
)
def test_unknown_key_or_wrong_secret_is_status_4_without_saying_which(params, authorization):
    rejection = refusal({**MESSAGE, **params}, authorization)
    assert rejection.vonage_status == "4"
    assert rejection.message.startswith("Bad Credentials")
    assert rejection.field is None


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "api_key"), ({"api_secret": SECRET}, "api_key"), ({"api_key": KEY}, "api_secret")],
)
def test_missing_credentials_are_status_2(params, field):
    rejection = refusal({**MESSAGE, **params})
    assert rejection.vonage_status == "2"
    assert rejection.message == f"Missing {field}"
    assert rejection.field == field


def test_disabled_account_is_status_8_after_its_credentials_are_checked():
    disabled = make_account(disabled=True)
    rejection = refusal({**MESSAGE, "api_key": KEY, "api_secret": SECRET}, account=disabled)
    assert rejection.vonage_status == "8"
    assert "Partner Account Barred" in rejection.message
    # A caller without the right secret learns nothing about the account's state.
    assert refusal({**MESSAGE, "api_key": KEY, "api_secret": "wrong"}, account=disabled).vonage_status == "4"


# --- signatures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(VECTOR_SIGS))
def test_the_contract_vector_is_accepted_for_each_method(method):
    caller = auth({**VECTOR, "sig": VECTOR_SIGS[method]}, account=make_account(method))
    assert caller.mode == "signature"
    assert caller.sig == VECTOR_SIGS[method]
    assert caller.timestamp == NOW


@pytest.mark.parametrize("method", sorted(VECTOR_SIGS))
def test_signature_matches_reproduces_the_contract_vector(method):
    assert vonage_auth.signature_matches(VECTOR, VECTOR_SIGS[method], SIGNATURE_SECRET, method)
    assert not vonage_auth.signature_matches(VECTOR, VECTOR_SIGS[method], "othersecret", method)


@pytest.mark.parametrize("method", ["sha1", "sha512"])
def test_other_hmac_methods_are_accepted(method):
    from smsgw.carrier.vonage import sign_params

    sig = sign_params(VECTOR, SIGNATURE_SECRET, method)
    assert auth({**VECTOR, "sig": sig}, account=make_account(method)).mode == "signature"


def test_an_uppercase_signature_is_accepted_and_recorded_lowercase():
    caller = auth({**VECTOR, "sig": VECTOR_SIGS["md5hash"].upper()})
    assert caller.sig == VECTOR_SIGS["md5hash"]


@pytest.mark.parametrize(
    "tampered",
    [
        {"text": "Hi & bye = OK"},
        {"to": "447700900001"},
        {"client-ref": "added"},
        {"sig": "0" * 32},
        {"sig": "dfc5bccdb4a6edc879b424a2e4cf64d"},  # one character short
        {"sig": "dfc5bccdb4a6edc879b424a2e4cf64dé"},  # not ASCII
    ],
)
def test_forged_or_tampered_signatures_are_status_14(tampered):
    rejection = refusal({**VECTOR, "sig": VECTOR_SIGS["md5hash"], **tampered})
    assert (rejection.vonage_status, rejection.field) == ("14", "sig")
    assert rejection.message == "Invalid Signature"


def test_a_signature_made_with_another_method_is_refused():
    rejection = refusal({**VECTOR, "sig": VECTOR_SIGS["md5"]}, account=make_account("md5hash"))
    assert rejection.vonage_status == "14"


@pytest.mark.parametrize(("now", "word"), [(NOW + 301, "old"), (NOW - 301, "in the future")])
def test_stale_and_future_timestamps_are_status_14(now, word):
    rejection = refusal({**VECTOR, "sig": VECTOR_SIGS["md5hash"]}, now=now)
    assert (rejection.vonage_status, rejection.field) == ("14", "timestamp")
    assert f"301 s {word}" in rejection.message


@pytest.mark.parametrize("now", [NOW + 300, NOW - 300])
def test_the_window_is_five_minutes_each_way(now):
    assert auth({**VECTOR, "sig": VECTOR_SIGS["md5hash"]}, now=now).mode == "signature"


def test_the_window_is_configurable():
    params = {**VECTOR, "sig": VECTOR_SIGS["md5hash"]}
    assert auth(params, now=NOW + 10, max_skew=10).mode == "signature"
    assert refusal(params, now=NOW + 11, max_skew=10).vonage_status == "14"


@pytest.mark.parametrize("timestamp", [None, "", "soon", "1700000000.5", "-1700000000", "١٧٠٠٠٠٠٠٠٠"])
def test_a_missing_or_malformed_timestamp_is_status_14(timestamp):
    params = {**VECTOR, "sig": VECTOR_SIGS["md5hash"]}
    if timestamp is None:
        del params["timestamp"]
    else:
        params["timestamp"] = timestamp
    rejection = refusal(params)
    assert (rejection.vonage_status, rejection.field) == ("14", "timestamp")


def test_signature_with_a_secret_is_status_32():
    rejection = refusal({**VECTOR, "sig": VECTOR_SIGS["md5hash"], "api_secret": SECRET})
    assert (rejection.vonage_status, rejection.field) == ("32", "api_secret")


def test_signature_with_basic_auth_is_status_32():
    rejection = refusal({**VECTOR, "sig": VECTOR_SIGS["md5hash"]}, basic(KEY, SECRET))
    assert rejection.vonage_status == "32"


def test_signature_without_api_key_is_status_2():
    params = {k: v for k, v in VECTOR.items() if k != "api_key"}
    rejection = refusal({**params, "sig": VECTOR_SIGS["md5hash"]})
    assert (rejection.vonage_status, rejection.message) == ("2", "Missing api_key")


def test_signature_with_an_unknown_key_is_status_4():
    rejection = refusal({**VECTOR, "api_key": "unknown1", "sig": VECTOR_SIGS["md5hash"]})
    assert rejection.vonage_status == "4"


def test_an_account_without_a_signature_secret_cannot_sign():
    rejection = refusal({**VECTOR, "sig": VECTOR_SIGS["md5hash"]}, account=make_account(signature_secret=""))
    assert rejection.vonage_status == "14"


def test_a_signed_request_of_a_disabled_account_is_status_8():
    rejection = refusal({**VECTOR, "sig": VECTOR_SIGS["md5hash"]}, account=make_account(disabled=True))
    assert rejection.vonage_status == "8"


def test_a_nonce_is_signed_like_any_other_parameter():
    from smsgw.carrier.vonage import sign_params

    params = {**VECTOR, "nonce": "n-1"}
    sig = sign_params(params, SIGNATURE_SECRET, "sha256")
    assert auth({**params, "sig": sig}, account=make_account("sha256")).mode == "signature"
    assert (
        refusal({**params, "nonce": "n-2", "sig": sig}, account=make_account("sha256")).vonage_status == "14"
    )


# --- the official Python SDK's signature ----------------------------------------------------------


def sdk_signed_params(method: str, without: tuple[str, ...] = (), **message: object) -> dict[str, str]:
    """What vonage 4.x puts on the wire for a signed `sms.send` (its own signing code, unchanged);
    `without`: model fields an SDK release does not have."""
    from vonage_http_client import Auth
    from vonage_sms import SmsMessage

    sdk_auth = Auth(api_key=KEY, signature_secret=SIGNATURE_SECRET, signature_method=method)
    params = SmsMessage(**message).model_dump(by_alias=True)
    for name in without:
        del params[name]
    params["timestamp"] = NOW
    params["api_key"] = KEY
    params["sig"] = sdk_auth.sign_params(params)
    # requests leaves None out of a form and sends str() of the rest.
    return {key: str(value) for key, value in params.items() if value is not None}


@pytest.mark.parametrize("method", ["md5", "sha1", "sha256", "sha512"])
def test_the_python_sdk_signature_is_accepted(method):
    from smsgw.carrier.vonage import sign_params

    wire = sdk_signed_params(method, to="447700900000", from_="ACME", text="Hi & bye = ok")
    # The SDK hashed fields it never sent ("None"): a plain check of what arrived fails …
    unsigned = {k: v for k, v in wire.items() if k != "sig"}
    assert sign_params(unsigned, SIGNATURE_SECRET, method) != wire["sig"]
    # … and the SDK-compatible check accepts it.
    assert auth(wire, account=make_account(method)).mode == "signature"


def test_the_python_sdk_signature_with_optional_fields_is_accepted():
    wire = sdk_signed_params(
        "sha256",
        to="447700900000",
        from_="ACME",
        text="Hi",
        client_ref="order-7",
        ttl=60000,
        status_report_req=True,
    )
    assert wire["status-report-req"] == "True"
    assert auth(wire, account=make_account("sha256")).mode == "signature"


def test_a_python_sdk_model_without_trusted_number_is_accepted():
    wire = sdk_signed_params("md5", without=("trusted-number",), to="447700900000", from_="ACME", text="Hi")
    assert auth(wire, account=make_account("md5")).mode == "signature"


def test_a_tampered_python_sdk_request_is_refused():
    wire = sdk_signed_params("sha256", to="447700900000", from_="ACME", text="Hi")
    rejection = refusal({**wire, "text": "Hi!"}, account=make_account("sha256"))
    assert rejection.vonage_status == "14"


# --- what is stored -------------------------------------------------------------------------------


def test_credentials_are_not_message_fields():
    params = {**MESSAGE, "api_key": KEY, "api_secret": SECRET, "sig": "ab", "timestamp": "1", "nonce": "n"}
    assert vonage_auth.without_credentials(params) == MESSAGE


# --- single use (replay), with DynamoDB -----------------------------------------------------------


@pytest.fixture
def signed_caller(aws) -> vonage_auth.VonageCaller:
    return auth({**VECTOR, "sig": VECTOR_SIGS["md5hash"]})


def run_once(caller: vonage_auth.VonageCaller, key: str | None = None, now: float = NOW) -> None:
    with vonage_auth.single_use(caller, key, now=now):
        pass


def test_a_replayed_signature_is_status_14(signed_caller):
    run_once(signed_caller)
    with pytest.raises(SendRefused) as caught:
        run_once(signed_caller, now=NOW + 1)
    assert (caught.value.vonage_status, caught.value.field) == ("14", "sig")
    assert "already used" in caught.value.message


def test_an_uppercase_copy_of_a_used_signature_is_a_replay(aws):
    run_once(auth({**VECTOR, "sig": VECTOR_SIGS["md5hash"]}))
    with pytest.raises(SendRefused):
        run_once(auth({**VECTOR, "sig": VECTOR_SIGS["md5hash"].upper()}))


def test_a_refused_request_releases_its_signature(signed_caller):
    with pytest.raises(RuntimeError), vonage_auth.single_use(signed_caller, None, now=NOW):
        raise RuntimeError("refused further on (throttled, invalid, no balance)")
    run_once(signed_caller)  # the identical request may be retried


def test_a_replay_with_the_same_idempotency_key_passes_to_the_idempotency_layer(signed_caller):
    run_once(signed_caller, key="order-42")
    run_once(signed_caller, key="order-42", now=NOW + 5)
    for other in ("order-43", None):
        with pytest.raises(SendRefused):
            run_once(signed_caller, key=other, now=NOW + 5)


def test_a_refused_replay_does_not_release_the_first_requests_signature(signed_caller):
    run_once(signed_caller, key="order-42")
    with pytest.raises(RuntimeError), vonage_auth.single_use(signed_caller, "order-42", now=NOW):
        raise RuntimeError("the idempotent replay failed")
    with pytest.raises(SendRefused):
        run_once(signed_caller)


def test_a_signature_record_past_its_window_does_not_count(signed_caller, aws):
    run_once(signed_caller)
    [item] = aws.items("VSIG#")
    assert item["expires_at"] == NOW + vonage_auth.MAX_SKEW_SECONDS + 1
    # DynamoDB's TTL deletes late; an expired record is treated as absent (the timestamp check
    # refuses such an old request anyway).
    run_once(signed_caller, now=NOW + vonage_auth.MAX_SKEW_SECONDS + 2)


def test_unsigned_requests_record_nothing(aws):
    caller = auth({**MESSAGE, "api_key": KEY, "api_secret": SECRET})
    run_once(caller)
    run_once(caller)
    assert aws.items("VSIG#") == []
