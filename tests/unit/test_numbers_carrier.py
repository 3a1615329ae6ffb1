"""The carrier's Numbers API clients (smsgw.carrier.numbers) against recorded HTTP answers, and how the
numbers service turns carrier errors into Vonage-shaped answers."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from smsgw.carrier.base import CarrierRejected, CarrierThrottled, CarrierTransientError
from smsgw.carrier.numbers import KpnNumbers, VonageNumbers, make_numbers_carrier
from smsgw.numbers import service

BASE = "https://rest.example"
KPN_BASE = "https://api.kpn.example"
KPN = f"{KPN_BASE}/communication/nexmo/phone-numbers"
SUCCESS = {"error-code": "200", "error-code-label": "success"}
GB = {"country": "GB", "msisdn": "447700900001", "type": "mobile-lvn", "cost": "1.00", "features": ["SMS"]}


def query(call) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def form(call) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(call.request.body or "").items()}


@pytest.fixture
def vonage():
    return VonageNumbers(BASE, "key12345", "secret")


@pytest.fixture
def kpn():
    return KpnNumbers(KPN_BASE, "client", "client-secret")


def token(rsps, value="tok-1"):
    rsps.post(
        f"{KPN_BASE}/oauth/client_credential/accesstoken",
        json={"access_token": value, "expires_in": "3599", "token_type": "Bearer"},
    )


# --- Vonage ------------------------------------------------------------------------------------------------------


@responses.activate
def test_vonage_search_sends_credentials_and_filters_as_query_and_reads_the_list(vonage):
    responses.get(f"{BASE}/number/search", json={"count": 42, "numbers": [GB]})
    found = vonage.search("GB", type="mobile-lvn", pattern="4477", search_pattern="0", size="5")
    assert found.count == 42
    assert [dict(n) for n in found.numbers] == [GB]
    [call] = responses.calls
    assert query(call) == {
        "api_key": "key12345",
        "api_secret": "secret",
        "country": "GB",
        "type": "mobile-lvn",
        "pattern": "4477",
        "search_pattern": "0",
        "size": "5",
    }


@responses.activate
def test_vonage_search_without_numbers_is_an_empty_list(vonage):
    responses.get(f"{BASE}/number/search", json={"count": 0})
    found = vonage.search("GB")
    assert (found.count, found.numbers) == (0, ())


@pytest.mark.parametrize("action", ["buy", "cancel"])
@responses.activate
def test_vonage_buy_and_cancel_post_a_form_with_credentials_in_the_query(vonage, action):
    responses.post(f"{BASE}/number/{action}", json=SUCCESS)
    getattr(vonage, action)("GB", "447700900001")
    [call] = responses.calls
    assert form(call) == {"country": "GB", "msisdn": "447700900001"}
    assert query(call) == {"api_key": "key12345", "api_secret": "secret"}
    assert "api_secret" not in (call.request.body or "")


@responses.activate
def test_a_success_wrapped_in_an_array_as_kpn_documents_it_is_success(vonage):
    responses.post(f"{BASE}/number/buy", json=[SUCCESS])
    vonage.buy("GB", "447700900001")


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (420, {"error-code": "420", "error-code-label": "method failed"}, CarrierRejected, "420"),
        (200, {"error-code": "420", "error-code-label": "method failed"}, CarrierRejected, "420"),
        (400, {"error-code": "400", "error-code-label": "bad msisdn"}, CarrierRejected, "400"),
        (
            401,
            {"error-code": "401", "error-code-label": "authentication failed"},
            CarrierTransientError,
            "401",
        ),
        (404, {"fault": {"faultstring": "ApplicationNotFound"}}, CarrierTransientError, None),
        (500, {"error-code": "500", "error-code-label": "internal error"}, CarrierTransientError, "500"),
        (503, "down", CarrierTransientError, None),
        (200, {"something": "else"}, CarrierTransientError, None),
        (200, "not json", CarrierTransientError, None),
    ],
)
@responses.activate
def test_vonage_buy_errors(vonage, status, body, kind, code):
    if isinstance(body, str):
        responses.post(f"{BASE}/number/buy", body=body, status=status)
    else:
        responses.post(f"{BASE}/number/buy", json=body, status=status)
    with pytest.raises(kind) as caught:
        vonage.buy("GB", "447700900001")
    assert type(caught.value) is kind
    assert caught.value.status == code
    assert caught.value.http_status == status


@responses.activate
def test_vonage_throttling_is_carrier_throttled_with_retry_after(vonage):
    responses.get(f"{BASE}/number/search", json={}, status=429, headers={"Retry-After": "7"})
    with pytest.raises(CarrierThrottled) as caught:
        vonage.search("GB")
    assert caught.value.retry_after == 7


@responses.activate
def test_vonage_network_failure_is_transient(vonage):
    responses.post(f"{BASE}/number/cancel", body=requests.ConnectionError("refused"))
    with pytest.raises(CarrierTransientError, match="ConnectionError"):
        vonage.cancel("GB", "447700900001")


@responses.activate
def test_vonage_unreadable_list_is_transient(vonage):
    responses.get(f"{BASE}/account/numbers", json={"count": 1, "numbers": "nope"})
    with pytest.raises(CarrierTransientError):
        vonage.owned()


@responses.activate
def test_vonage_owned_lists_the_carrier_accounts_numbers(vonage):
    responses.get(f"{BASE}/account/numbers", json={"count": 1, "numbers": [GB]})
    found = vonage.owned(pattern="447700900001", search_pattern="0")
    assert found.count == 1
    assert query(responses.calls[0])["pattern"] == "447700900001"


# --- KPN ---------------------------------------------------------------------------------------------------------


@responses.activate
def test_kpn_uses_its_paths_and_a_bearer_token_minted_once(kpn):
    token(responses)
    responses.get(f"{KPN}/number/search", json={"count": 1, "numbers": [GB]})
    responses.post(f"{KPN}/number/buy", json=SUCCESS)
    responses.post(f"{KPN}/number/cancel", json=SUCCESS)
    assert kpn.search("GB", size="1").count == 1
    kpn.buy("GB", "447700900001")
    kpn.cancel("GB", "447700900001")
    paths = [urlsplit(call.request.url).path for call in responses.calls]
    assert paths == [
        "/oauth/client_credential/accesstoken",
        "/communication/nexmo/phone-numbers/number/search",
        "/communication/nexmo/phone-numbers/number/buy",
        "/communication/nexmo/phone-numbers/number/cancel",
    ]
    for call in responses.calls[1:]:
        assert call.request.headers["Authorization"] == "Bearer tok-1"
        assert "api_key" not in call.request.url
    assert form(responses.calls[2]) == {"country": "GB", "msisdn": "447700900001"}


@responses.activate
def test_kpn_remints_a_refused_token_and_retries_once(kpn):
    token(responses, "old")
    token(responses, "new")
    fault = {
        "fault": {
            "faultstring": "Access Token expired",
            "detail": {"errorcode": "keymanagement.service.access_token_expired"},
        }
    }
    responses.post(f"{KPN}/number/buy", json=fault, status=401)
    responses.post(f"{KPN}/number/buy", json=SUCCESS)
    kpn.buy("NL", "3197010000003")
    auth = [c.request.headers.get("Authorization") for c in responses.calls if "number/buy" in c.request.url]
    assert auth == ["Bearer old", "Bearer new"]


@responses.activate
def test_kpn_a_token_refused_twice_is_transient(kpn):
    token(responses, "a")
    token(responses, "b")
    responses.post(
        f"{KPN}/number/cancel", json={"fault": {"faultstring": "Invalid Access Token"}}, status=401
    )
    with pytest.raises(CarrierTransientError):
        kpn.cancel("NL", "3197010000003")
    assert sum("number/cancel" in c.request.url for c in responses.calls) == 2


# --- factory -----------------------------------------------------------------------------------------------------


def test_factory_needs_the_api_secret_even_when_sms_are_signed():
    with pytest.raises(ValueError, match="api_secret"):
        make_numbers_carrier("vonage", BASE, {"api_key": "k", "signature_secret": "s"})
    client = make_numbers_carrier(
        "simulator", BASE, {"api_key": "k", "api_secret": "s", "signature_secret": "x"}
    )
    assert isinstance(client, VonageNumbers)
    assert isinstance(
        make_numbers_carrier("kpn", KPN_BASE, {"client_id": "c", "client_secret": "s"}), KpnNumbers
    )
    with pytest.raises(ValueError, match="unknown carrier provider"):
        make_numbers_carrier("twilio", BASE, {})
    with pytest.raises(ValueError, match="base_url"):
        make_numbers_carrier("vonage", "", {"api_key": "k", "api_secret": "s"})


# --- carrier errors as the API answers them ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (CarrierRejected("method failed", status="420", http_status=420), 420, "420"),
        (CarrierRejected("method failed", status="420", http_status=200), 420, "420"),
        (CarrierRejected("bad", status="400", http_status=400), 400, "400"),
        (CarrierRejected("odd", status="1234", http_status=200), 420, "1234"),
        (CarrierRejected("odd", status=None, http_status=422), 422, "422"),
        (CarrierTransientError("down", http_status=500), 502, "502"),
        (CarrierTransientError("timeout"), 502, "502"),
        (CarrierThrottled("slow down", http_status=429, retry_after=3), 503, "503"),
    ],
)
def test_carrier_failures_become_vonage_shaped_errors(error, status, code):
    failure = service.carrier_failure(error, "purchase of 447700900001")
    assert failure.status_code == status
    assert failure.error_code == code
    body = failure.body()
    assert body["error-code"] == code
    assert "purchase of 447700900001" in body["error-code-label"]
    if isinstance(error, CarrierThrottled):
        assert failure.retry_after == 3
        assert "retry" in body["error-code-label"]
    else:
        assert error.error_text in body["error-code-label"]
        assert failure.retry_after is None
