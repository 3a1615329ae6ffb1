"""The carrier simulator's Numbers API over HTTP: Vonage (key+secret or Basic) and KPN's wrapper (Bearer)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from simulator.server import start_simulator
from tests.integration.test_simulator_receipts import Receiver

KEY, SECRET = "abcd1234", "topsecret99"
CLIENT_ID, CLIENT_SECRET = "kpn-client", "kpn-client-secret"
KPN = "/communication/nexmo/phone-numbers"
SUCCESS = {"error-code": "200", "error-code-label": "success"}
METHOD_FAILED = {"error-code": "420", "error-code-label": "method failed"}
UNAUTHORIZED = {"error-code": "401", "error-code-label": "authentication failed"}
NL_MOBILE = "3197010000003"


@pytest.fixture
def sim():
    with start_simulator(
        api_key=KEY,
        api_secret=SECRET,
        signature_secret="sigsecret",
        kpn_client_id=CLIENT_ID,
        kpn_client_secret=CLIENT_SECRET,
        numbers_pool_size=20,
    ) as handle:
        yield handle


@pytest.fixture
def http():
    with requests.Session() as session:
        session.auth = (KEY, SECRET)
        yield session


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


def call(http, sim, path: str, **params: Any) -> requests.Response:
    """GET with a query (search, account/numbers) or POST a form (buy, cancel, update), as the SDK does."""
    if path.endswith(("/search", "/numbers")):
        return http.get(f"{sim.url}{path}", params=params, timeout=5)
    return http.post(f"{sim.url}{path}", data=params, timeout=5)


def msisdns(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [number["msisdn"] for number in response.json().get("numbers", [])]


def owned(http, sim) -> list[dict[str, Any]]:
    return http.get(f"{sim.url}/_sim/numbers", timeout=5).json()["numbers"]


# --- Vonage ---------------------------------------------------------------------------------------------------


def test_search_buy_list_update_cancel(http, sim, receiver):
    found = call(http, sim, "/number/search", country="NL", type="mobile-lvn", features="SMS", size=5)
    assert found.status_code == 200
    body = found.json()
    assert body["count"] == 20
    assert body["numbers"][3] == {
        "country": "NL",
        "msisdn": NL_MOBILE,
        "type": "mobile-lvn",
        "cost": "1.00",
        "initialPrice": "0.00",
        "features": ["SMS", "VOICE"],
    }

    buy = call(http, sim, "/number/buy", country="NL", msisdn=NL_MOBILE)
    assert (buy.status_code, buy.json()) == (200, SUCCESS)
    after = call(http, sim, "/number/search", country="NL", type="mobile-lvn", size=100)
    assert after.json()["count"] == 19
    assert NL_MOBILE not in msisdns(after)

    listed = call(http, sim, "/account/numbers")
    assert listed.json() == {
        "count": 1,
        "numbers": [
            {"country": "NL", "msisdn": NL_MOBILE, "type": "mobile-lvn", "features": ["SMS", "VOICE"]}
        ],
    }

    update = call(http, sim, "/number/update", country="NL", msisdn=NL_MOBILE, moHttpUrl=receiver.url)
    assert (update.status_code, update.json()) == (200, SUCCESS)
    assert call(http, sim, "/account/numbers").json()["numbers"][0]["moHttpUrl"] == receiver.url
    [number] = owned(http, sim)
    assert (number["moHttpUrl"], number["api"], number["cost"]) == (receiver.url, "vonage", "1.00")
    assert receiver.requests == []  # not checked unless numbers_check_mo_url

    cleared = call(http, sim, "/number/update", country="NL", msisdn=NL_MOBILE, moHttpUrl="")
    assert cleared.json() == SUCCESS
    assert "moHttpUrl" not in call(http, sim, "/account/numbers").json()["numbers"][0]

    cancel = call(http, sim, "/number/cancel", country="NL", msisdn=NL_MOBILE)
    assert (cancel.status_code, cancel.json()) == (200, SUCCESS)
    assert call(http, sim, "/account/numbers").json() == {"count": 0}  # no "numbers", as Vonage
    assert owned(http, sim) == []
    assert NL_MOBILE in msisdns(call(http, sim, "/number/search", country="NL", type="mobile-lvn", size=100))


def test_credentials_as_query_params_and_json_bodies_work_too(sim):
    auth = {"api_key": KEY, "api_secret": SECRET}
    found = requests.get(f"{sim.url}/number/search", params={**auth, "country": "GB"}, timeout=5)
    assert found.status_code == 200
    assert found.json()["count"] == 60
    buy = requests.post(
        f"{sim.url}/number/buy", params=auth, json={"country": "gb", "msisdn": 447700900002}, timeout=5
    )
    assert (buy.status_code, buy.json()) == (200, SUCCESS)
    assert [number["country"] for number in owned(requests, sim)] == ["GB"]


@pytest.mark.parametrize(
    "path", ["/number/search", "/number/buy", "/number/cancel", "/number/update", "/account/numbers"]
)
@pytest.mark.parametrize(
    "auth",
    [
        {"auth": (KEY, "wrong")},
        {"auth": ("someone", SECRET)},
        {"auth": None},
        {
            "auth": None,
            "params": {"api_key": KEY, "timestamp": "1700000000", "sig": "0" * 32},
        },  # no signatures here
    ],
)
def test_bad_credentials_are_a_401(sim, path, auth):
    method = "GET" if path.endswith(("/search", "/numbers")) else "POST"
    params = {**auth.get("params", {}), "country": "NL", "msisdn": NL_MOBILE}
    response = requests.request(method, f"{sim.url}{path}", params=params, auth=auth["auth"], timeout=5)
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)
    assert owned(requests, sim) == []
    assert requests.get(f"{sim.url}/_sim/stats", timeout=5).json()["unauthorized"] == 1


def test_420_when_the_number_cannot_be_bought_cancelled_or_updated(http, sim):
    assert call(http, sim, "/number/buy", country="NL", msisdn=NL_MOBILE).json() == SUCCESS
    for path, params in [
        ("/number/buy", {"country": "NL", "msisdn": NL_MOBILE}),  # already owned
        ("/number/buy", {"country": "GB", "msisdn": "447700123456"}),  # not in the pool
        ("/number/buy", {"country": "GB", "msisdn": "3197010000004"}),  # another country's number
        ("/number/buy", {"country": "NL", "msisdn": "3197010000020"}),  # beyond numbers_pool_size (20)
        ("/number/cancel", {"country": "NL", "msisdn": "3197010000004"}),  # not owned
        ("/number/cancel", {"country": "GB", "msisdn": NL_MOBILE}),  # owned, but not in that country
        (
            "/number/update",
            {"country": "NL", "msisdn": "3197010000004", "moHttpUrl": "https://gw.example/in"},
        ),
        ("/number/update", {"country": "NL", "msisdn": NL_MOBILE, "moHttpUrl": "not a url"}),
    ]:
        response = call(http, sim, path, **params)
        assert (response.status_code, response.json()) == (420, METHOD_FAILED), (path, params)
    assert [number["msisdn"] for number in owned(http, sim)] == [NL_MOBILE]
    assert "moHttpUrl" not in owned(http, sim)[0]


@pytest.mark.parametrize(
    ("path", "params", "label"),
    [
        ("/number/search", {"type": "mobile-lvn"}, "country"),
        ("/number/search", {"country": "NL", "size": "1000"}, "size"),
        ("/number/buy", {"country": "NL"}, "msisdn"),
        (
            "/number/update",
            {"country": "NL", "msisdn": NL_MOBILE, "voiceCallbackType": "pstn"},
            "voiceCallbackType",
        ),
        ("/account/numbers", {"has_application": "maybe"}, "has_application"),
    ],
)
def test_bad_parameters_are_a_400(http, sim, path, params, label):
    call(http, sim, "/number/buy", country="NL", msisdn=NL_MOBILE)
    response = call(http, sim, path, **params)
    assert response.status_code == 400
    assert response.json()["error-code"] == "400"
    assert label in response.json()["error-code-label"]


def test_a_wrong_method_is_a_405(http, sim):
    response = http.get(f"{sim.url}/number/buy", timeout=5)
    assert (response.status_code, response.headers["Allow"]) == (405, "POST")
    assert http.post(f"{sim.url}/number/search", timeout=5).status_code == 405


def test_numbers_fail_next_answers_500_then_recovers(http, sim):
    assert http.put(f"{sim.url}/_sim/config", json={"numbers_fail_next": 2}).json()["numbers_fail_next"] == 2
    answers = [
        call(http, sim, "/number/buy", country="NL", msisdn=NL_MOBILE),
        call(http, sim, "/account/numbers"),
        call(http, sim, "/number/buy", country="NL", msisdn=NL_MOBILE),
    ]
    assert [response.status_code for response in answers] == [500, 500, 200]
    assert answers[0].json() == {"error-code": "500", "error-code-label": "internal error"}
    assert http.get(f"{sim.url}/_sim/config").json()["numbers_fail_next"] == 0


def test_the_pool_size_is_a_setting(http, sim):
    assert call(http, sim, "/number/search", country="US", type="landline").json()["count"] == 20
    http.put(f"{sim.url}/_sim/config", json={"numbers_pool_size": 5})
    assert call(http, sim, "/number/search", country="US", type="landline").json()["count"] == 5
    for bad in (0, 10_001, "5"):
        assert http.put(f"{sim.url}/_sim/config", json={"numbers_pool_size": bad}).status_code == 400


def test_reset_keeps_owned_numbers_unless_asked(http, sim):
    call(http, sim, "/number/buy", country="NL", msisdn=NL_MOBILE)
    http.post(f"{sim.url}/_sim/reset", json={"config": True}, timeout=5)
    assert [number["msisdn"] for number in owned(http, sim)] == [NL_MOBILE]
    assert http.post(f"{sim.url}/_sim/reset", json={"numbers": True}, timeout=5).json() == {"reset": True}
    assert owned(http, sim) == []
    assert call(http, sim, "/account/numbers").json() == {"count": 0}


def test_checking_mo_http_url_as_vonage_does(http, sim, receiver):
    http.put(f"{sim.url}/_sim/config", json={"numbers_check_mo_url": True})
    call(http, sim, "/number/buy", country="NL", msisdn=NL_MOBILE)
    update = {"country": "NL", "msisdn": NL_MOBILE, "moHttpUrl": receiver.url}

    receiver.answers.extend([404])
    assert call(http, sim, "/number/update", **update).status_code == 420
    receiver.answers.extend([200])
    assert call(http, sim, "/number/update", **update).json() == SUCCESS
    assert [(request["method"], request["path"]) for request in receiver.requests] == [
        ("GET", "/carrier/dlr")
    ] * 2
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{probe.getsockname()[1]}/in"
    assert call(http, sim, "/number/update", **{**update, "moHttpUrl": nobody}).status_code == 420
    assert owned(http, sim)[0]["moHttpUrl"] == receiver.url
    assert (
        call(http, sim, "/number/update", **{**update, "moHttpUrl": ""}).json() == SUCCESS
    )  # clearing: no GET
    assert len(receiver.requests) == 2


def test_update_keeps_other_settings_and_lists_the_known_ones(http, sim):
    call(http, sim, "/number/buy", country="NL", msisdn=NL_MOBILE)
    settings = {"app_id": "app-1", "voiceCallbackType": "tel", "voiceCallbackValue": "31201234567"}
    assert call(http, sim, "/number/update", country="NL", msisdn=NL_MOBILE, **settings).json() == SUCCESS
    call(http, sim, "/number/update", country="NL", msisdn=NL_MOBILE, moHttpUrl="https://gw.example/in")
    [number] = call(http, sim, "/account/numbers", has_application="true").json()["numbers"]
    assert number == {
        "country": "NL",
        "msisdn": NL_MOBILE,
        "moHttpUrl": "https://gw.example/in",
        "type": "mobile-lvn",
        "features": ["SMS", "VOICE"],
        "voiceCallbackType": "tel",
        "voiceCallbackValue": "31201234567",
        "app_id": "app-1",
    }
    assert call(http, sim, "/account/numbers", has_application="false").json() == {"count": 0}


# --- KPN --------------------------------------------------------------------------------------------------------


@pytest.fixture
def kpn(sim):
    token = requests.post(
        f"{sim.url}/oauth/client_credential/accesstoken?grant_type=client_credentials",
        data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        timeout=5,
    ).json()["access_token"]
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        yield session


def test_kpn_wraps_the_same_operations_with_a_bearer_token(kpn, http, sim):
    found = call(kpn, sim, f"{KPN}/number/search", country="NL", type="landline", size=2)
    assert msisdns(found) == ["31200000000", "31200000001"]
    assert call(kpn, sim, f"{KPN}/number/buy", country="NL", msisdn="31200000001").json() == SUCCESS
    update = call(
        kpn, sim, f"{KPN}/number/update", country="NL", msisdn="31200000001", moHttpUrl="https://gw/in"
    )
    assert update.json() == SUCCESS
    listed = call(kpn, sim, f"{KPN}/account/numbers").json()
    assert listed["numbers"][0]["moHttpUrl"] == "https://gw/in"
    assert owned(http, sim)[0]["api"] == "kpn"
    assert msisdns(call(http, sim, "/account/numbers")) == ["31200000001"]  # one account behind both

    again = call(kpn, sim, f"{KPN}/number/buy", country="NL", msisdn="31200000001")
    assert (again.status_code, again.json()) == (420, METHOD_FAILED)
    assert call(kpn, sim, f"{KPN}/number/cancel", country="NL", msisdn="31200000001").json() == SUCCESS
    assert call(kpn, sim, f"{KPN}/account/numbers").json() == {"count": 0}


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", f"Basic {KEY}"])
def test_kpn_numbers_without_a_valid_token_is_an_apigee_401(sim, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(f"{sim.url}{KPN}/account/numbers", headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json()["fault"]["detail"]["errorcode"] == "keymanagement.service.invalid_access_token"


def test_kpn_numbers_with_an_expired_token(kpn, sim):
    assert call(kpn, sim, f"{KPN}/account/numbers").status_code == 200
    requests.post(f"{sim.url}/_sim/tokens/expire", timeout=5)
    response = call(kpn, sim, f"{KPN}/account/numbers")
    assert response.status_code == 401
    assert response.json()["fault"]["detail"]["errorcode"] == "keymanagement.service.access_token_expired"
