"""Who may use the account routes, decided on every request (issue 11 items 4 and 5):

- a disabled account gets 403 "disabled" on every bearer-token route within seconds, whatever API
  Gateway cached of the authorizer's answer, and a send is refused as "disabled", never "top up";
- an expired token gets 401 on every route, even when the authorizer's Allow is still cached;
- /sms/json refuses a disabled account at once (Vonage status 8);
- the account's request rate limit applies on every account route (429 with Retry-After).

In every case nothing is stored, charged or queued.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import LambdaContext, api_event, load_handler, response_header

SEND = "/communication/nexmo/sms/send"
REGISTER = "/communication/nexmo/sms/register"
OWNED = "/communication/nexmo/phone-numbers/account/numbers"
UPDATE = "/communication/nexmo/phone-numbers/number/update"
HOOK = "https://93.184.215.14/hooks/inbound"  # a public address: no DNS lookup in tests
SCHEDULE = {
    "name": "digest",
    "recipients": ["447700900001"],
    "from": "ACME",
    "text": "Good morning",
    "schedule": "cron(0 8 * * ? *)",
}

# (route family, handler, method, path, request) — one or more routes of each family.
ROUTES: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("send", "send", "POST", SEND, {"form": {"from": "ACME", "to": "447700900000", "text": "hi"}}),
    ("register", "numbers", "POST", REGISTER, {"form": {"to": "31612345679", "callback_url": HOOK}}),
    ("numbers", "numbers", "GET", OWNED, {}),
    ("numbers", "numbers", "POST", UPDATE, {"form": {"country": "NL", "msisdn": "3197010240299"}}),
    ("messages", "messages", "GET", "/messages", {}),
    ("messages", "messages", "GET", "/messages/01JAAAAAAAAAAAAAAAAAAAAAAA", {}),
    ("inbound", "messages", "GET", "/inbound", {}),
    ("schedules", "schedules", "POST", "/schedules", {"json_body": SCHEDULE}),
    ("schedules", "schedules", "GET", "/schedules", {}),
]
IDS = [f"{family}:{method} {path}" for family, _, method, path, _ in ROUTES]


def call(handler: str, method: str, path: str, account_id: str, expires_at: int | None = None, **request):
    event = api_event(method, path, account_id=account_id, expires_at=expires_at, **request)
    response = load_handler(handler).lambda_handler(event, LambdaContext())
    response["json"] = json.loads(response["body"]) if response.get("body") else None
    return response


def balance(aws, account_id: str) -> Decimal:
    return aws.table.get_item(Key={"pk": f"ACCOUNT#{account_id}", "sk": "ACCOUNT"})["Item"]["balance"]


def nothing_done(aws, account_id: str, starting_balance: Decimal = Decimal("10")) -> None:
    for prefix in ("MSG#", "NUMBER#", "SCHEDULE#"):
        assert aws.items(prefix) == [], prefix
    assert aws.queued_bodies() == []
    assert balance(aws, account_id) == starting_balance


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The accounts service's clock (its caches and expiry checks), moved by the test."""
    from smsgw.accounts import service

    fake = Clock()
    monkeypatch.setattr(service, "_seconds", fake, raising=False)  # raising=False: also before the fix
    return fake


@pytest.mark.parametrize(("family", "handler", "method", "path", "request_"), ROUTES, ids=IDS)
def test_a_disabled_account_is_refused_on_every_route_within_seconds(
    aws, account, clock, family, handler, method, path, request_
):
    from smsgw.accounts import service

    # A warm function: the account was read moments ago (and API Gateway cached the authorizer's Allow).
    assert call("messages", "GET", "/messages", account.account_id)["statusCode"] == 200
    service.set_disabled(account.account_id, True)
    clock.now += 6  # well within the promised 10 s
    response = call(handler, method, path, account.account_id, **request_)
    assert response["statusCode"] == 403, response["json"]
    assert "disabled" in response["json"]["error"]
    nothing_done(aws, account.account_id)


@pytest.mark.parametrize(("family", "handler", "method", "path", "request_"), ROUTES, ids=IDS)
def test_an_expired_token_is_refused_on_every_route(aws, account, family, handler, method, path, request_):
    # API Gateway may still hand on its cached Allow for a token that has expired since.
    response = call(handler, method, path, account.account_id, expires_at=int(time.time()) - 1, **request_)
    assert response["statusCode"] == 401, response["json"]
    assert "expired" in response["json"]["error"]
    assert response_header(response, "WWW-Authenticate") == 'Bearer realm="smsgw", error="invalid_token"'
    nothing_done(aws, account.account_id)


def test_an_enabled_account_works_again_within_seconds(aws, account, clock):
    from smsgw.accounts import service

    service.set_disabled(account.account_id, True)
    assert call("messages", "GET", "/messages", account.account_id)["statusCode"] == 403
    service.set_disabled(account.account_id, False)
    clock.now += 6
    assert call("messages", "GET", "/messages", account.account_id)["statusCode"] == 200


def test_a_send_right_after_disabling_says_disabled_not_low_balance(aws, account, clock):
    """The charge refuses a disabled account at once; it must not answer Vonage status 9 "top up"."""
    from smsgw.accounts import service

    assert call("messages", "GET", "/messages", account.account_id)["statusCode"] == 200  # account cached
    service.set_disabled(account.account_id, True)
    response = call("send", "POST", SEND, account.account_id, **ROUTES[0][4])
    assert response["statusCode"] == 403, response["json"]
    assert "disabled" in response["json"]["error"]
    assert "balance" not in json.dumps(response["json"])
    nothing_done(aws, account.account_id)


def test_a_held_send_right_after_disabling_is_refused(aws, account, clock):
    """send_at stores a message without charging it: it checks the account itself."""
    from smsgw.accounts import service

    assert call("messages", "GET", "/messages", account.account_id)["statusCode"] == 200
    service.set_disabled(account.account_id, True)
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    form = {"from": "ACME", "to": "447700900000", "text": "later", "send-at": later}
    response = call("send", "POST", SEND, account.account_id, form=form)
    assert response["statusCode"] == 403, response["json"]
    nothing_done(aws, account.account_id)


def _sms_json(account: Any, **fields: str) -> dict[str, Any]:
    form = {
        "api_key": account.api_key,
        "api_secret": account.api_secret,
        "from": "ACME",
        "to": "447700900000",
    }
    event = api_event("POST", "/sms/json", form={**form, "text": "hi", **fields})
    response = load_handler("sms_json").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200
    [element] = json.loads(response["body"])["messages"]
    return element


@pytest.mark.parametrize("send_at", [None, "later"])
def test_sms_json_refuses_a_disabled_account_at_once(aws, account, clock, send_at):
    from smsgw.accounts import service

    assert _sms_json(account)["status"] == "0"  # the account is now cached by this warm function
    service.set_disabled(account.account_id, True)
    fields = (
        {"send-at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))} if send_at else {}
    )
    element = _sms_json(account, **fields)
    assert element["status"] == "8", element
    assert "disabled" in element["error-text"]
    assert len(aws.items("MSG#")) == 1  # only the first
    assert balance(aws, account.account_id) == Decimal("10") - Decimal(str(aws.items("MSG#")[0]["price"]))


@pytest.mark.parametrize(("family", "handler", "method", "path", "request_"), ROUTES, ids=IDS)
def test_the_rate_limit_applies_on_every_route(aws, clock, family, handler, method, path, request_):
    from smsgw.accounts import service

    limited = service.create_account("limited", balance="10", senders=["ACME"], rate_limit_per_second=1)
    clock.now = int(clock.now) + 0.1
    first = call("messages", "GET", "/messages", limited.account_id)
    assert first["statusCode"] == 200
    response = call(handler, method, path, limited.account_id, **request_)
    assert response["statusCode"] == 429, response["json"]
    assert response_header(response, "Retry-After") == "1"
    nothing_done(aws, limited.account_id)
    clock.now += 1  # the next second: allowed again
    assert call(handler, method, path, limited.account_id, **request_)["statusCode"] != 429
