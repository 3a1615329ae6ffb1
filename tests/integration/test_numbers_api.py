"""NumbersFunction through API Gateway events under moto: KPN's /sms/register, the Phone Numbers API against
the real carrier simulator, and `route_for` / `holds_number` for the inbound intake and the send path."""

from __future__ import annotations

import json
import socket
from typing import Any

import boto3
import pytest
import requests

from simulator.server import start_simulator
from smsgw.core.memo import forget_all
from tests.conftest import (
    REGION,
    LambdaContext,
    api_event,
    code_sent_to,
    load_handler,
    register_phone,
    response_header,
)

REGISTER = "/communication/nexmo/sms/register"
NUMBERS = "/communication/nexmo/phone-numbers"
UPDATE, OWNED, SEARCH = f"{NUMBERS}/number/update", f"{NUMBERS}/account/numbers", f"{NUMBERS}/number/search"
BUY, CANCEL = f"{NUMBERS}/number/buy", f"{NUMBERS}/number/cancel"
SUCCESS = {"error-code": "200", "error-code-label": "success"}
REGISTERED = {"message": "Your callback url is registered."}
PHONE = "31612345678"
HOOK = "https://93.184.215.14/hooks/inbound"  # a public address: no DNS lookup in tests
GB_MOBILE, GB_MOBILE_2, GB_LANDLINE = "447700900001", "447700900002", "442079460001"


def call(
    method: str,
    path: str,
    account_id: str,
    *,
    form: dict[str, str] | None = None,
    json_body: Any = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    event = api_event(method, path, form=form, json_body=json_body, query=query, account_id=account_id)
    response = load_handler("numbers").lambda_handler(event, LambdaContext())
    response["json"] = json.loads(response["body"]) if response.get("body") else None
    return response


def numbers_items(aws) -> list[dict[str, Any]]:
    return aws.items("NUMBER#")


@pytest.fixture
def acme(aws):
    from smsgw.accounts import service

    return service.create_account("acme", balance="10", rate_limit_per_second=1000)


@pytest.fixture
def rival(aws):
    from smsgw.accounts import service

    return service.create_account("rival", balance="10", rate_limit_per_second=1000)


class SpyCarrier:
    """The configured carrier client, with every call recorded (to prove when the carrier is not asked)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[str, tuple]] = []
        self.before: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args))
            if name in self.before:
                self.before[name](*args)
            return method(*args, **kwargs)

        return recorded


@pytest.fixture
def sim(carrier_env, monkeypatch):
    """The simulator behind the numbers service (Vonage protocol, credentials from moto's Secrets Manager)."""
    from smsgw.numbers import service

    forget_all()
    spy = SpyCarrier(service._carrier())
    monkeypatch.setattr(service, "_carrier", lambda: spy)
    carrier_env.spy = spy
    yield carrier_env
    forget_all()


def sim_numbers(sim) -> list[dict[str, Any]]:
    return requests.get(f"{sim.url}/_sim/numbers", timeout=5).json()["numbers"]


def buy(account_id: str, msisdn: str = GB_MOBILE, country: str = "GB") -> dict[str, Any]:
    return call("POST", BUY, account_id, form={"country": country, "msisdn": msisdn})


# --- POST /communication/nexmo/sms/register -------------------------------------------------------------------


def test_register_sends_a_code_then_201_with_it_then_200_replaces_the_callback(aws, acme):
    first = call("POST", REGISTER, acme.account_id, form={"to": PHONE, "callback_url": HOOK})
    assert first["statusCode"] == 202
    assert "code" in first["json"]["message"]
    assert PHONE in first["json"]["message"]
    assert numbers_items(aws) == []  # nothing routes until the phone proved it is theirs
    confirmed = call(
        "POST",
        REGISTER,
        acme.account_id,
        form={"to": PHONE, "callback_url": HOOK, "code": code_sent_to(PHONE)},
    )
    assert (confirmed["statusCode"], confirmed["json"]) == (201, REGISTERED)
    [item] = numbers_items(aws)
    assert (item["account_id"], item["kind"], item["callback_url"], item["country"]) == (
        acme.account_id,
        "registered",
        HOOK,
        "NL",
    )

    replaced = call("POST", REGISTER, acme.account_id, form={"to": "+" + PHONE, "callback_url": HOOK + "/v2"})
    assert (replaced["statusCode"], replaced["json"]) == (200, REGISTERED)
    [again] = numbers_items(aws)
    assert again["callback_url"] == HOOK + "/v2"
    assert again["created_at"] == item["created_at"]


def test_register_takes_json_too(aws, acme):
    response = call("POST", REGISTER, acme.account_id, json_body={"to": int(PHONE), "callback_url": HOOK})
    assert response["statusCode"] == 202, response["json"]
    code = code_sent_to(PHONE)
    response = call(
        "POST",
        REGISTER,
        acme.account_id,
        json_body={"to": int(PHONE), "callback_url": HOOK, "code": code},
    )
    assert response["statusCode"] == 201, response["json"]
    assert numbers_items(aws)[0]["msisdn"] == PHONE


def test_a_number_registered_by_another_account_is_403_and_stays_theirs(aws, acme, rival):
    register_phone(acme.account_id, PHONE, HOOK)
    response = call("POST", REGISTER, rival.account_id, form={"to": PHONE, "callback_url": HOOK + "/evil"})
    assert response["statusCode"] == 403
    assert "another account" in response["json"]["error"]
    assert acme.account_id not in response["body"]
    assert "acme" not in response["body"]
    [item] = numbers_items(aws)
    assert (item["account_id"], item["callback_url"]) == (acme.account_id, HOOK)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"callback_url": HOOK}, "to"),
        ({"to": "0612345678", "callback_url": HOOK}, "to"),
        ({"to": "31-6123", "callback_url": HOOK}, "to"),
        ({"to": PHONE}, "callback_url"),
        ({"to": PHONE, "callback_url": "http://93.184.215.14/in"}, "callback_url"),
        ({"to": PHONE, "callback_url": "https://127.0.0.1/in"}, "callback_url"),
        ({"to": PHONE, "callback_url": "https://10.0.0.8/in"}, "callback_url"),
        ({"to": PHONE, "callback_url": "https://169.254.169.254/latest/meta-data/"}, "callback_url"),
        ({"to": PHONE, "callback_url": "https://[::1]/in"}, "callback_url"),
        ({"to": PHONE, "callback_url": HOOK, "number": "1"}, "number"),
    ],
)
def test_register_bad_input_is_400_naming_the_field_and_stores_nothing(aws, acme, fields, field):
    response = call("POST", REGISTER, acme.account_id, form=fields)
    assert response["statusCode"] == 400, response["json"]
    assert response["json"]["field"] == field
    assert response["json"]["error"]
    assert numbers_items(aws) == []


def test_an_inbound_callback_error_names_its_field_and_an_inbound_example(aws, acme):
    """Not the send's delivery-receipt example, not Python's parser wording."""
    for url in ("ftp://example.com/in", "https://[::1"):
        response = call("POST", REGISTER, acme.account_id, form={"to": PHONE, "callback_url": url})
        error = response["json"]["error"]
        assert error.startswith("callback_url "), error
        assert "delivery-receipts" not in error
        assert "inbound" in error
        assert "Invalid IPv6 URL" not in error


def test_register_refuses_a_host_name_resolving_to_a_private_address(aws, acme, monkeypatch):
    from smsgw import urlsafety

    looked_up: list[str] = []
    monkeypatch.setattr(urlsafety, "resolve_host", lambda host: looked_up.append(host) or ["10.1.2.3"])
    response = call(
        "POST", REGISTER, acme.account_id, form={"to": PHONE, "callback_url": "https://hooks.example/in"}
    )
    assert response["statusCode"] == 400
    assert response["json"]["field"] == "callback_url"
    assert looked_up == ["hooks.example"]
    assert numbers_items(aws) == []


def test_plain_http_is_allowed_only_for_the_operators_hosts(aws, acme, monkeypatch):
    from smsgw.core.memo import forget_all

    local = {"to": PHONE, "callback_url": "http://127.0.0.1:8787/in"}
    assert call("POST", REGISTER, acme.account_id, form=local)["statusCode"] == 400
    monkeypatch.setenv("CALLBACK_ALLOW_HTTP_HOSTS", "127.0.0.1,localhost")
    forget_all()
    assert call("POST", REGISTER, acme.account_id, form=local)["statusCode"] == 202


def test_register_is_rate_limited_and_refused_for_a_disabled_account(aws, monkeypatch):
    from smsgw.accounts import service

    limited = service.create_account("limited", balance="1", rate_limit_per_second=1)
    monkeypatch.setattr(service.time, "time", lambda: 1_800_000_000.5)
    fields = {"to": PHONE, "callback_url": HOOK}
    assert call("POST", REGISTER, limited.account_id, form=fields)["statusCode"] == 202
    second = call("POST", REGISTER, limited.account_id, form={**fields, "to": "31612345679"})
    assert second["statusCode"] == 429
    assert response_header(second, "Retry-After") == "1"
    service.set_disabled(limited.account_id, True)
    forget_all()  # the clock is frozen here: the account read would never age
    disabled = call("POST", REGISTER, limited.account_id, form={**fields, "to": "31612345670"})
    assert disabled["statusCode"] == 403
    assert numbers_items(aws) == []
    assert [item["to"] for item in aws.items("MSG#")] == [PHONE]  # one code SMS, nothing else


def test_wrong_method_on_register_is_405(aws, acme):
    response = call("GET", REGISTER, acme.account_id)
    assert response["statusCode"] == 405
    assert response_header(response, "Allow") == "POST"


# --- route_for / holds_number ------------------------------------------------------------------------------------


def test_route_for_and_holds_number_a_registered_phone(aws, acme, rival):
    from smsgw.numbers.routing import NumberRoute, holds_number, route_for

    assert route_for(PHONE) is None
    assert holds_number(acme.account_id, PHONE) is False
    register_phone(acme.account_id, PHONE, HOOK)
    expected = NumberRoute(msisdn=PHONE, account_id=acme.account_id, kind="registered", callback_url=HOOK)
    assert route_for(PHONE) == expected
    assert route_for(f" +{PHONE} ") == expected
    assert route_for("ACME") is None
    assert holds_number(acme.account_id, PHONE) is True
    assert holds_number(acme.account_id, "+" + PHONE) is True
    assert holds_number(rival.account_id, PHONE) is False
    assert holds_number(acme.account_id, "ACME") is False
    assert holds_number(acme.account_id, "31612345679") is False


# --- Phone Numbers API against the simulator ---------------------------------------------------------------------


def test_search_answers_the_carriers_numbers_for_sale(sim, acme):
    response = call(
        "GET",
        SEARCH,
        acme.account_id,
        query={"country": "gb", "type": "mobile-lvn", "features": "sms", "size": "2"},
    )
    assert response["statusCode"] == 200, response["json"]
    body = response["json"]
    assert body["count"] >= 2
    assert [n["msisdn"] for n in body["numbers"]] == ["447700900000", GB_MOBILE]
    assert body["numbers"][0]["type"] == "mobile-lvn"
    assert body["numbers"][0]["cost"]
    assert sim.spy.calls == [("search", ("GB",))]


def test_buy_list_update_cancel(aws, sim, acme):
    from smsgw.numbers.routing import holds_number, route_for

    bought = buy(acme.account_id)
    assert (bought["statusCode"], bought["json"]) == (200, SUCCESS)
    [item] = numbers_items(aws)
    assert (item["kind"], item["account_id"], item["country"]) == ("owned", acme.account_id, "GB")
    assert (item["number_type"], item["features"]) == ("mobile-lvn", ["SMS", "VOICE"])  # from the carrier
    assert [n["msisdn"] for n in sim_numbers(sim)] == [GB_MOBILE]
    assert route_for(GB_MOBILE).kind == "owned"
    assert route_for(GB_MOBILE).callback_url is None
    assert holds_number(acme.account_id, GB_MOBILE)

    listed = call("GET", OWNED, acme.account_id)
    assert listed["json"] == {
        "count": 1,
        "numbers": [
            {"country": "GB", "msisdn": GB_MOBILE, "type": "mobile-lvn", "features": ["SMS", "VOICE"]}
        ],
    }

    settings = {
        "moHttpUrl": HOOK,
        "moSmppSysType": "inbound",
        "voiceCallbackType": "tel",
        "voiceCallbackValue": "31201234567",
        "voiceStatusCallback": "https://example.com/voice-status",
        "app_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    }
    updated = call("POST", UPDATE, acme.account_id, form={"country": "GB", "msisdn": GB_MOBILE, **settings})
    assert (updated["statusCode"], updated["json"]) == (200, SUCCESS)
    [number] = call("GET", OWNED, acme.account_id)["json"]["numbers"]
    assert {key: number[key] for key in settings} == settings
    assert route_for(GB_MOBILE).callback_url == HOOK

    cleared = call(
        "POST", UPDATE, acme.account_id, form={"country": "GB", "msisdn": GB_MOBILE, "moHttpUrl": ""}
    )
    assert cleared["statusCode"] == 200
    [number] = call("GET", OWNED, acme.account_id)["json"]["numbers"]
    assert "moHttpUrl" not in number
    assert number["voiceCallbackType"] == "tel"  # left out: unchanged
    assert route_for(GB_MOBILE).callback_url is None

    cancelled = call("POST", CANCEL, acme.account_id, form={"country": "GB", "msisdn": GB_MOBILE})
    assert (cancelled["statusCode"], cancelled["json"]) == (200, SUCCESS)
    assert numbers_items(aws) == []
    assert sim_numbers(sim) == []
    assert route_for(GB_MOBILE) is None
    assert call("GET", OWNED, acme.account_id)["json"] == {"count": 0, "numbers": []}
    again = call("POST", CANCEL, acme.account_id, form={"country": "GB", "msisdn": GB_MOBILE})
    assert again["statusCode"] == 404
    assert again["json"]["error-code"] == "404"


def test_another_accounts_number_is_not_found_or_not_available_and_the_carrier_is_not_asked(
    aws, sim, acme, rival
):
    assert buy(acme.account_id)["statusCode"] == 200
    calls_before = list(sim.spy.calls)

    update = call(
        "POST", UPDATE, rival.account_id, form={"country": "GB", "msisdn": GB_MOBILE, "moHttpUrl": HOOK}
    )
    assert update["statusCode"] == 404
    assert update["json"]["error-code"] == "404"
    assert update["json"]["error-code-label"].startswith("number not found")
    assert acme.account_id not in update["body"]

    cancel = call("POST", CANCEL, rival.account_id, form={"country": "GB", "msisdn": GB_MOBILE})
    assert (cancel["statusCode"], cancel["json"]["error-code"]) == (404, "404")

    taken = buy(rival.account_id)
    assert (taken["statusCode"], taken["json"]["error-code"]) == (420, "420")
    assert acme.account_id not in taken["body"]

    register = call("POST", REGISTER, rival.account_id, form={"to": GB_MOBILE, "callback_url": HOOK})
    assert register["statusCode"] == 403

    assert sim.spy.calls == calls_before
    assert call("GET", OWNED, rival.account_id)["json"]["count"] == 0
    [item] = numbers_items(aws)
    assert (item["account_id"], item.get("callback_url")) == (acme.account_id, None)
    assert [n["msisdn"] for n in sim_numbers(sim)] == [GB_MOBILE]


def test_a_phone_registered_by_another_account_cannot_be_bought(aws, sim, acme, rival):
    register_phone(acme.account_id, GB_MOBILE, HOOK)
    response = buy(rival.account_id)
    assert response["statusCode"] == 420
    assert sim.spy.calls == []
    assert numbers_items(aws)[0]["account_id"] == acme.account_id


def test_buying_your_own_number_again_succeeds_without_buying_twice(aws, sim, acme):
    assert buy(acme.account_id)["statusCode"] == 200
    calls = len(sim.spy.calls)
    again = buy(acme.account_id)
    assert (again["statusCode"], again["json"]) == (200, SUCCESS)
    assert len(sim.spy.calls) == calls


def test_registering_your_own_bought_number_sets_its_inbound_url(aws, sim, acme):
    buy(acme.account_id)
    response = call("POST", REGISTER, acme.account_id, form={"to": GB_MOBILE, "callback_url": HOOK})
    assert (response["statusCode"], response["json"]) == (200, REGISTERED)
    [item] = numbers_items(aws)
    assert (item["kind"], item["callback_url"]) == ("owned", HOOK)
    assert call("GET", OWNED, acme.account_id)["json"]["numbers"][0]["moHttpUrl"] == HOOK


def test_a_registered_phone_can_be_bought_by_its_own_account(aws, sim, acme):
    register_phone(acme.account_id, GB_MOBILE, HOOK)
    assert buy(acme.account_id)["statusCode"] == 200
    [item] = numbers_items(aws)
    assert (item["kind"], item["callback_url"], item["gsi1pk"]) == (
        "owned",
        HOOK,
        f"ACCOUNT#{acme.account_id}#NUMBER",
    )


def test_a_number_claimed_while_it_was_being_bought_is_cancelled_at_the_carrier(aws, sim, acme, rival):
    from smsgw.numbers import repository

    def rival_registers_first(country: str, msisdn: str) -> None:
        repository.register(rival.account_id, msisdn, country, HOOK, "2026-01-01T00:00:00Z")

    sim.spy.before["buy"] = rival_registers_first
    response = buy(acme.account_id)
    assert (response["statusCode"], response["json"]["error-code"]) == (420, "420")
    assert [name for name, _ in sim.spy.calls] == ["buy", "owned", "cancel"]
    assert sim_numbers(sim) == []  # not left bought for nobody
    [item] = numbers_items(aws)
    assert (item["account_id"], item["kind"]) == (rival.account_id, "registered")


def test_the_carrier_refusing_a_purchase_is_its_420_and_nothing_is_stored(aws, sim, acme):
    response = buy(acme.account_id, "447700123456")  # not for sale at the simulator
    assert response["statusCode"] == 420
    assert response["json"]["error-code"] == "420"
    assert "method failed" in response["json"]["error-code-label"]
    assert numbers_items(aws) == []


def test_a_failing_carrier_is_502_and_nothing_is_stored(aws, sim, acme):
    requests.put(f"{sim.url}/_sim/config", json={"numbers_fail_next": 1}, timeout=5).raise_for_status()
    response = buy(acme.account_id)
    assert response["statusCode"] == 502
    assert response["json"]["error-code"] == "502"
    assert numbers_items(aws) == []
    assert sim_numbers(sim) == []


def test_an_unreachable_carrier_is_502(aws, carrier_env, acme, monkeypatch):
    from smsgw.core.memo import forget_all

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setenv("CARRIER_BASE_URL", f"http://127.0.0.1:{probe.getsockname()[1]}")
    forget_all()
    search = call("GET", SEARCH, acme.account_id, query={"country": "GB"})
    bought = buy(acme.account_id)
    assert (search["statusCode"], bought["statusCode"]) == (502, 502)
    assert "carrier failed" in bought["json"]["error-code-label"]
    assert numbers_items(aws) == []
    forget_all()


@pytest.mark.parametrize(
    ("method", "path", "fields", "field"),
    [
        ("POST", BUY, {"msisdn": GB_MOBILE}, "country"),
        ("POST", BUY, {"country": "GB"}, "msisdn"),
        ("POST", BUY, {"country": "NL", "msisdn": GB_MOBILE}, "msisdn"),
        ("POST", BUY, {"country": "GB", "msisdn": GB_MOBILE, "target_api_key": "sub"}, "target_api_key"),
        ("POST", CANCEL, {"country": "GBR", "msisdn": GB_MOBILE}, "country"),
        (
            "POST",
            UPDATE,
            {"country": "GB", "msisdn": GB_MOBILE, "moHttpUrl": "https://10.0.0.1/in"},
            "moHttpUrl",
        ),
        (
            "POST",
            UPDATE,
            {"country": "GB", "msisdn": GB_MOBILE, "moHttpUrl": "http://93.184.215.14/"},
            "moHttpUrl",
        ),
        (
            "POST",
            UPDATE,
            {"country": "GB", "msisdn": GB_MOBILE, "voiceCallbackType": "pstn"},
            "voiceCallbackType",
        ),
        ("GET", SEARCH, {"type": "mobile-lvn"}, "country"),
        ("GET", SEARCH, {"country": "GB", "size": "101"}, "size"),
        ("GET", SEARCH, {"country": "GB", "search_pattern": "3"}, "search_pattern"),
        ("GET", OWNED, {"size": "0"}, "size"),
        ("GET", OWNED, {"index": "0"}, "index"),
        ("GET", OWNED, {"pattern": "44*"}, "pattern"),
        ("GET", OWNED, {"searchPattern": "1"}, "searchPattern"),
    ],
)
def test_bad_input_is_a_vonage_shaped_400_naming_the_field(aws, sim, acme, method, path, fields, field):
    if method == "GET":
        response = call(method, path, acme.account_id, query=fields)
    else:
        response = call(method, path, acme.account_id, form=fields)
    assert response["statusCode"] == 400, response["json"]
    assert response["json"]["error-code"] == "400"
    assert response["json"]["field"] == field
    assert response["json"]["error-code-label"]
    assert numbers_items(aws) == []
    assert sim.spy.calls == []


def test_update_or_cancel_of_an_own_number_in_another_country_is_400_naming_country(aws, sim, acme):
    us_number = "12125550100"
    assert buy(acme.account_id, us_number, "US")["statusCode"] == 200
    fields = {"country": "CA", "msisdn": us_number}  # NANP: Canada shares the calling code 1
    update = call("POST", UPDATE, acme.account_id, form={**fields, "moHttpUrl": HOOK})
    cancel = call("POST", CANCEL, acme.account_id, form=fields)
    for response in (update, cancel):
        assert response["statusCode"] == 400
        assert response["json"]["field"] == "country"
    assert numbers_items(aws)[0].get("callback_url") is None
    assert [n["msisdn"] for n in sim_numbers(sim)] == [us_number]


def test_owned_numbers_are_paged_and_filtered(aws, sim, acme):
    for msisdn in (GB_MOBILE, GB_MOBILE_2, GB_LANDLINE):
        assert buy(acme.account_id, msisdn)["statusCode"] == 200

    def listed(**query: str) -> tuple[int, list[str]]:
        body = call("GET", OWNED, acme.account_id, query=query)["json"]
        return body["count"], [n["msisdn"] for n in body["numbers"]]

    assert listed() == (3, [GB_LANDLINE, GB_MOBILE, GB_MOBILE_2])
    assert listed(size="2") == (3, [GB_LANDLINE, GB_MOBILE])
    assert listed(size="2", index="2") == (3, [GB_MOBILE_2])
    assert listed(size="2", index="3") == (3, [])
    assert listed(pattern="4477") == (2, [GB_MOBILE, GB_MOBILE_2])
    assert listed(pattern="4477", search_pattern="0") == (2, [GB_MOBILE, GB_MOBILE_2])
    assert listed(pattern="79460", search_pattern="1") == (1, [GB_LANDLINE])
    assert listed(pattern="02", search_pattern="2") == (1, [GB_MOBILE_2])
    assert listed(pattern="02", search_pattern="0") == (0, [])
    assert listed(country="NL") == (0, [])
    app = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    call("POST", UPDATE, acme.account_id, form={"country": "GB", "msisdn": GB_MOBILE_2, "app_id": app})
    assert listed(has_application="true") == (1, [GB_MOBILE_2])
    assert listed(has_application="false") == (2, [GB_LANDLINE, GB_MOBILE])
    assert listed(application_id=app) == (1, [GB_MOBILE_2])


def test_another_accounts_numbers_are_not_listed(aws, sim, acme, rival):
    buy(acme.account_id)
    call("POST", REGISTER, acme.account_id, form={"to": PHONE, "callback_url": HOOK})
    assert call("GET", OWNED, rival.account_id)["json"] == {"count": 0, "numbers": []}
    assert call("GET", OWNED, acme.account_id)["json"]["count"] == 1  # registered phones are not listed


# --- KPN as the carrier ------------------------------------------------------------------------------------------


def test_numbers_through_kpns_phone_numbers_api(aws, acme, monkeypatch):
    from smsgw.core.memo import forget_all

    with start_simulator(kpn_client_id="kpn-client", kpn_client_secret="kpn-secret") as kpn:
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="smsgw/kpn",
            SecretString=json.dumps({"client_id": "kpn-client", "client_secret": "kpn-secret"}),
        )
        monkeypatch.setenv("CARRIER_PROVIDER", "kpn")
        monkeypatch.setenv("CARRIER_BASE_URL", kpn.url)
        monkeypatch.setenv("CARRIER_SECRET_NAME", "smsgw/kpn")
        forget_all()
        try:
            found = call(
                "GET", SEARCH, acme.account_id, query={"country": "NL", "type": "landline", "size": "1"}
            )
            assert [n["msisdn"] for n in found["json"]["numbers"]] == ["31200000000"]
            assert buy(acme.account_id, "31200000000", "NL")["json"] == SUCCESS
            [number] = requests.get(f"{kpn.url}/_sim/numbers", timeout=5).json()["numbers"]
            assert (number["msisdn"], number["api"]) == ("31200000000", "kpn")
            assert numbers_items(aws)[0]["number_type"] == "landline"
            cancel = call("POST", CANCEL, acme.account_id, form={"country": "NL", "msisdn": "31200000000"})
            assert cancel["json"] == SUCCESS
            assert requests.get(f"{kpn.url}/_sim/numbers", timeout=5).json()["numbers"] == []
        finally:
            forget_all()


# --- the API description ------------------------------------------------------------------------------------------


def test_every_route_is_documented_with_its_answers(aws):
    # The document users get (ApiFunction serves it; the numbers routes name their models as components).
    served = load_handler("api").lambda_handler(api_event("GET", "/openapi.json"), LambdaContext())
    schema = json.loads(served["body"])
    expected = {
        ("post", REGISTER): {"200", "201", "400", "401", "403", "429"},
        ("post", UPDATE): {"200", "400", "401", "403", "404", "429"},
        ("get", OWNED): {"200", "400", "401", "403", "429"},
        ("get", SEARCH): {"200", "400", "401", "403", "420", "429", "502", "503"},
        ("post", BUY): {"200", "400", "401", "403", "420", "429", "502", "503"},
        ("post", CANCEL): {"200", "400", "401", "403", "404", "420", "429", "502", "503"},
    }
    for (method, path), codes in expected.items():
        operation = schema["paths"][path][method]
        assert operation["summary"]
        assert codes <= set(operation["responses"]), (method, path)
    search_parameters = {p["name"] for p in schema["paths"][SEARCH]["get"]["parameters"]}
    assert search_parameters == {"country", "type", "pattern", "search_pattern", "features", "size", "index"}
    assert "moHttpUrl" in json.dumps(schema["components"]["schemas"]["UpdateNumberRequest"])
