"""The gateway's carrier clients (smsgw.carrier) against the real carrier simulator."""

from __future__ import annotations

import threading

import pytest
import requests
import responses

from simulator.server import start_simulator
from smsgw.carrier.base import (
    CarrierRejected,
    CarrierThrottled,
    CarrierTransientError,
    Submission,
    SubmitResult,
    SubmittedPart,
    parse_retry_after,
)
from smsgw.carrier.factory import make_carrier
from smsgw.carrier.kpn import KpnCarrier
from smsgw.carrier.vonage import VonageCarrier, sign_params

KEY, SECRET, SIG_SECRET = "abcd1234", "topsecret99", "sigsecret-123"
CLIENT_ID, CLIENT_SECRET = "kpn-client", "kpn-client-secret"
TO = "447700900000"
HELLO = Submission(sender="AcmeInc", to=TO, text="Hello")


@pytest.fixture
def sim():
    with start_simulator(
        api_key=KEY,
        api_secret=SECRET,
        signature_secret=SIG_SECRET,
        kpn_client_id=CLIENT_ID,
        kpn_client_secret=CLIENT_SECRET,
    ) as handle:
        yield handle


@pytest.fixture
def control(sim):
    """The simulator's control API."""

    class Control:
        def messages(self):
            return requests.get(f"{sim.url}/_sim/messages", timeout=5).json()["messages"]

        def stats(self):
            return requests.get(f"{sim.url}/_sim/stats", timeout=5).json()

        def configure(self, **settings):
            requests.put(f"{sim.url}/_sim/config", json=settings, timeout=5).raise_for_status()

        def expire_tokens(self):
            requests.post(f"{sim.url}/_sim/tokens/expire", timeout=5).raise_for_status()

    return Control()


@pytest.fixture
def vonage(sim):
    return VonageCarrier(sim.url, KEY, api_secret=SECRET)


@pytest.fixture
def kpn(sim):
    return KpnCarrier(sim.url, CLIENT_ID, CLIENT_SECRET)


def part_ids(result: SubmitResult) -> list[str]:
    return [part.carrier_message_id for part in result.parts]


# --- Vonage -----------------------------------------------------------------------------------------------


def test_vonage_submit_sends_the_message_and_returns_its_part(vonage, control):
    params = {
        "client-ref": "order-1",
        "ttl": "90000",
        "status-report-req": "1",
        "callback": "https://x.test/dlr",
    }
    result = vonage.submit(Submission(sender="AcmeInc", to=TO, text="Hi & bye = ok", params=params))

    [record] = control.messages()
    assert result == SubmitResult(parts=(SubmittedPart(record["message-id"], "20416", "0.03330000"),))
    assert {key: record[key] for key in ("from", "to", "text", "type", "api", "auth", *params)} == {
        "from": "AcmeInc",
        "to": TO,
        "text": "Hi & bye = ok",
        "type": "text",
        "api": "vonage",
        "auth": "secret",
        **params,
    }


@pytest.mark.parametrize(("text", "kind", "parts"), [("a" * 400, "text", 3), ("ж" * 71, "unicode", 2)])
def test_vonage_long_message_returns_every_part_in_order(vonage, control, text, kind, parts):
    result = vonage.submit(Submission(sender="AcmeInc", to=TO, text=text, type=kind))
    [record] = control.messages()
    assert part_ids(result) == record["message-ids"]
    assert len(result.parts) == parts
    assert {part.price for part in result.parts} == {"0.03330000"}


def test_vonage_binary_message(vonage, control):
    params = {"udh": "0605040B8423F0", "body": "C0FFEE", "protocol-id": "127"}
    result = vonage.submit(Submission(sender="AcmeInc", to=TO, text=None, type="binary", params=params))
    [record] = control.messages()
    assert part_ids(result) == [record["message-id"]]
    assert (record["type"], record["text"], record["udh"], record["body"]) == (
        "binary",
        None,
        "0605040B8423F0",
        "C0FFEE",
    )


@pytest.mark.parametrize("method", ["md5hash", "md5", "sha1", "sha256", "sha512"])
def test_vonage_signed_submit_never_sends_the_secret(method):
    with start_simulator(api_key=KEY, signature_secret=SIG_SECRET, signature_method=method) as signed_sim:
        carrier = VonageCarrier(signed_sim.url, KEY, signature_secret=SIG_SECRET, signature_method=method)
        result = carrier.submit(Submission(sender="AcmeInc", to=TO, text="Hi & bye = ok"))
        [record] = requests.get(f"{signed_sim.url}/_sim/messages", timeout=5).json()["messages"]
    assert part_ids(result) == [record["message-id"]]
    assert record["auth"] == "signature"
    assert "api_secret" not in record
    assert {"api_key", "timestamp", "sig"} <= set(record)


def test_vonage_signed_with_the_wrong_secret_is_an_account_problem(sim, control):
    carrier = VonageCarrier(sim.url, KEY, signature_secret="not-the-secret")
    with pytest.raises(CarrierTransientError) as caught:
        carrier.submit(HELLO)
    assert (caught.value.status, caught.value.error_text) == ("14", "Invalid Signature")
    assert control.messages() == []


def test_vonage_bad_credentials_are_transient_with_status_4(sim, control):
    carrier = VonageCarrier(sim.url, KEY, api_secret="wrong-secret")
    with pytest.raises(CarrierTransientError) as caught:
        carrier.submit(HELLO)
    error = caught.value
    assert (error.status, error.error_text, error.http_status, error.accepted_parts) == (
        "4",
        "Bad Credentials",
        200,
        (),
    )
    assert control.stats()["unauthorized"] == 1


def test_vonage_throttled_by_status_1(vonage, control):
    control.configure(throttle_next=1)
    with pytest.raises(CarrierThrottled) as caught:
        vonage.submit(HELLO)
    assert (caught.value.status, caught.value.error_text, caught.value.retry_after) == (
        "1",
        "Throttled",
        None,
    )
    assert control.messages() == []
    assert len(vonage.submit(HELLO).parts) == 1


def test_vonage_throttled_by_the_carriers_rate(vonage, control):
    control.configure(rate_per_second=1)
    vonage.submit(HELLO)
    with pytest.raises(CarrierThrottled):
        vonage.submit(HELLO)
    assert len(control.messages()) == 1


def test_vonage_http_500_is_transient(vonage, control):
    control.configure(fail_next=1)
    with pytest.raises(CarrierTransientError) as caught:
        vonage.submit(HELLO)
    assert (caught.value.status, caught.value.http_status, caught.value.error_text) == (
        None,
        500,
        "Internal Server Error",
    )
    assert len(vonage.submit(HELLO).parts) == 1


@pytest.mark.parametrize(
    ("status", "error", "error_text"),
    [
        ("6", CarrierRejected, "Invalid Message"),
        ("7", CarrierRejected, "Number Barred"),
        ("15", CarrierRejected, "Invalid Sender Address"),
        ("29", CarrierRejected, "Non-Whitelisted Destination"),
        ("5", CarrierTransientError, "Internal Error"),
        ("8", CarrierTransientError, "Partner Account Barred"),
        ("9", CarrierTransientError, "Partner Quota Violation"),
        ("13", CarrierTransientError, "Communication Failed"),
    ],
)
def test_vonage_error_statuses_are_sorted_by_what_to_do(vonage, control, status, error, error_text):
    control.configure(reject_next=1, error_status=status)
    with pytest.raises(error) as caught:
        vonage.submit(HELLO)
    assert type(caught.value) is error
    assert (caught.value.status, caught.value.error_text) == (status, error_text)


def test_vonage_invalid_recipient_is_rejected(vonage, control):
    with pytest.raises(CarrierRejected) as caught:
        vonage.submit(Submission(sender="AcmeInc", to="12ab", text="Hello"))
    assert (caught.value.status, caught.value.error_text) == ("3", "Invalid to param")
    assert control.messages() == []


def test_network_failure_and_timeout_are_transient(sim, control):
    control.configure(latency_ms=300)
    slow = VonageCarrier(sim.url, KEY, api_secret=SECRET, timeout=(1.0, 0.05))
    with pytest.raises(CarrierTransientError, match="ReadTimeout") as caught:
        slow.submit(HELLO)
    assert caught.value.http_status is None

    url = sim.url
    sim.stop()
    with pytest.raises(CarrierTransientError, match="ConnectionError") as caught:
        VonageCarrier(url, KEY, api_secret=SECRET).submit(HELLO)
    assert (caught.value.status, caught.value.http_status) == (None, None)


# --- what the simulator does not send: canned carrier answers ---------------------------------------------

CANNED = "http://carrier.test"


def canned(status=200, **kwargs):
    mock = responses.RequestsMock()
    mock.add(responses.POST, f"{CANNED}/sms/json", status=status, **kwargs)
    return mock


def test_a_later_part_failing_raises_with_the_parts_that_were_accepted():
    ok = {"status": "0", "message-price": "0.0333", "network": "20416", "to": TO}
    body = {
        "message-count": "3",
        "messages": [
            {**ok, "message-id": "id-1"},
            {"status": "1", "error-text": "Throttled", "to": TO},
            {**ok, "message-id": "id-3"},
        ],
    }
    with canned(json=body), pytest.raises(CarrierThrottled) as caught:
        VonageCarrier(CANNED, KEY, api_secret=SECRET).submit(HELLO)
    assert caught.value.accepted_parts == (
        SubmittedPart("id-1", "20416", "0.0333"),
        SubmittedPart("id-3", "20416", "0.0333"),
    )


def test_http_429_is_throttled_with_retry_after():
    mock = canned(status=429, json={"title": "Too Many Requests"}, headers={"Retry-After": "7"})
    with mock, pytest.raises(CarrierThrottled) as caught:
        VonageCarrier(CANNED, KEY, api_secret=SECRET).submit(HELLO)
    error = caught.value
    assert (error.http_status, error.retry_after, error.error_text) == (429, 7.0, "Too Many Requests")


@pytest.mark.parametrize(
    ("status", "kwargs", "error"),
    [
        (200, {"body": "<html>maintenance</html>"}, CarrierTransientError),
        (200, {"json": {"message-count": "0", "messages": []}}, CarrierTransientError),
        (200, {"json": {"messages": [{"status": "0"}]}}, CarrierTransientError),
        (400, {"json": {"message": "bad request"}}, CarrierRejected),
        (401, {"json": {"error": "nope"}}, CarrierTransientError),
        (503, {"body": "unavailable"}, CarrierTransientError),
    ],
)
def test_unexpected_answers(status, kwargs, error):
    with canned(status=status, **kwargs), pytest.raises(error) as caught:
        VonageCarrier(CANNED, KEY, api_secret=SECRET).submit(HELLO)
    assert type(caught.value) is error
    assert caught.value.http_status == status


def test_parse_retry_after():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 25 Nov 2026 08:00:30 GMT", now=1795593600.0) == 30.0
    assert parse_retry_after("Wed, 25 Nov 2026 07:00:00 GMT", now=1795593600.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# --- KPN --------------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_kpn_submit_sends_with_a_bearer_token(kpn, control):
    result = kpn.submit(Submission(sender="AcmeInc", to=TO, text="a" * 200, params={"client-ref": "k1"}))
    [record] = control.messages()
    assert part_ids(result) == record["message-ids"]
    assert len(result.parts) == 2
    assert (record["api"], record["auth"], record["client-ref"]) == ("kpn", "bearer", "k1")


def test_kpn_token_is_minted_once_for_many_sends(kpn, control):
    for _ in range(3):
        kpn.submit(HELLO)
    assert control.stats()["tokens_issued"] == 1
    assert len(control.messages()) == 3


def test_kpn_concurrent_first_sends_share_one_token(kpn, control):
    errors = []

    def send():
        try:
            kpn.submit(HELLO)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == []
    assert control.stats()["tokens_issued"] == 1
    assert len(control.messages()) == 8


def test_kpn_token_is_reminted_before_it_expires(sim, control):
    clock = FakeClock()
    kpn = KpnCarrier(sim.url, CLIENT_ID, CLIENT_SECRET, clock=clock)  # 3599 s token, 300 s margin
    kpn.submit(HELLO)
    clock.now = 3298
    kpn.submit(HELLO)
    assert control.stats()["tokens_issued"] == 1
    clock.now = 3299
    kpn.submit(HELLO)
    assert control.stats()["tokens_issued"] == 2
    assert control.stats()["unauthorized"] == 0


def test_kpn_token_expired_at_the_carrier_is_reminted_once_on_401(kpn, control):
    kpn.submit(HELLO)
    control.expire_tokens()
    kpn.submit(HELLO)
    stats = control.stats()
    assert {
        key: stats[key]
        for key in (
            "accepted",
            "parts",
            "throttled",
            "failed",
            "rejected",
            "invalid",
            "unauthorized",
            "tokens_issued",
        )
    } == {
        "accepted": 2,
        "parts": 2,
        "throttled": 0,
        "failed": 0,
        "rejected": 0,
        "invalid": 0,
        "unauthorized": 1,
        "tokens_issued": 2,
    }


def test_kpn_token_refused_again_after_reminting_is_transient(kpn, control):
    control.configure(kpn_token_lifetime=0)  # every token is born expired
    with pytest.raises(CarrierTransientError) as caught:
        kpn.submit(HELLO)
    assert (caught.value.http_status, caught.value.error_text) == (401, "Access Token expired")
    assert control.stats()["tokens_issued"] == 2
    assert control.messages() == []


def test_kpn_bad_client_is_transient(sim, control):
    carrier = KpnCarrier(sim.url, CLIENT_ID, "wrong")
    with pytest.raises(CarrierTransientError) as caught:
        carrier.submit(HELLO)
    assert caught.value.http_status == 401
    assert "ClientId is Invalid" in caught.value.error_text
    assert control.messages() == []


def test_kpn_shares_the_send_answer_parsing(kpn, control):
    control.configure(throttle_next=1, reject_next=1)
    with pytest.raises(CarrierThrottled):
        kpn.submit(HELLO)
    with pytest.raises(CarrierRejected) as caught:
        kpn.submit(HELLO)
    assert (caught.value.status, caught.value.error_text) == ("6", "Invalid Message")


def test_kpn_token_fault_sent_as_http_500_is_also_reminted():
    fault = {
        "fault": {
            "faultstring": "Invalid Access Token",
            "detail": {"errorcode": "keymanagement.service.invalid_access_token"},
        }
    }
    ok = {
        "message-count": "1",
        "messages": [{"status": "0", "message-id": "m-1", "to": TO, "network": "20416"}],
    }
    with responses.RequestsMock() as mock:
        token = mock.post(
            f"{CANNED}/oauth/client_credential/accesstoken", json={"access_token": "t", "expires_in": "3599"}
        )
        mock.post(f"{CANNED}/communication/nexmo/sms/send", status=500, json=fault)
        mock.post(f"{CANNED}/communication/nexmo/sms/send", json=ok)
        result = KpnCarrier(CANNED, CLIENT_ID, CLIENT_SECRET).submit(HELLO)
    assert part_ids(result) == ["m-1"]
    assert token.call_count == 2


# --- Submission and factory -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"type": "vcard"}, "type must be one of"),
        ({"params": {"from": "x", "api_secret": "y"}}, "api_secret, from"),
    ],
)
def test_submission_refuses_what_the_client_sets_itself(kwargs, complaint):
    with pytest.raises(ValueError, match=complaint):
        Submission(sender="AcmeInc", to=TO, text="Hi", **kwargs)


def test_sign_params_matches_the_contract_vector():
    params = {
        "api_key": "abcd1234",
        "from": "AcmeInc",
        "text": "Hi & bye = ok",
        "timestamp": "1700000000",
        "to": TO,
    }
    assert sign_params(params, "mysecret", "md5hash") == "dfc5bccdb4a6edc879b424a2e4cf64d1"
    assert sign_params(params, "mysecret", "md5") == "28f2b45a30e4fa6ff13ea7eb811fe0fd"
    assert (
        sign_params(params, "mysecret", "sha256")
        == "600031fb80907cfb2d42b132b2ba5a8baf267525a2c2c7c1b6bef553fff42052"
    )


@pytest.mark.parametrize(
    ("provider", "credentials", "auth"),
    [
        ("simulator", {"api_key": KEY, "api_secret": SECRET}, "secret"),
        ("vonage", {"api_key": KEY, "signature_secret": SIG_SECRET}, "signature"),
        ("kpn", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, "bearer"),
    ],
)
def test_make_carrier_builds_a_working_client(sim, control, provider, credentials, auth):
    carrier = make_carrier(provider, sim.url + "/", credentials)
    assert len(carrier.submit(HELLO).parts) == 1
    assert control.messages()[0]["auth"] == auth


@pytest.mark.parametrize(
    ("provider", "credentials", "named"),
    [
        ("twilio", {}, "'twilio'"),
        ("vonage", {"api_secret": SECRET}, "'api_key'"),
        ("simulator", {"api_key": KEY}, "'api_secret'"),
        ("kpn", {"client_id": CLIENT_ID}, "'client_secret'"),
        ("vonage", {"api_key": KEY, "signature_secret": "s", "signature_method": "sha3"}, "signature_method"),
    ],
)
def test_make_carrier_names_what_is_wrong(provider, credentials, named):
    with pytest.raises(ValueError, match=named):
        make_carrier(provider, "http://carrier.test", credentials)
