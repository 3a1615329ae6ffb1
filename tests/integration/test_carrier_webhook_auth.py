"""Who may call /carrier/inbound and /carrier/dlr: the carrier's signature or the gateway's URL token,
and nobody else unless the operator opted out (AllowUnsignedCarrierWebhooks)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from smsgw.carrier.vonage import sign_params
from tests.conftest import REGION, LambdaContext, api_event, load_handler
from tests.integration.test_dispatch import accept, dispatch, receive_batch, sim_messages

TOKEN = "tok-" + "7" * 40
SIG_SECRET = "carrier-sig-secret"

INBOUND = {"msisdn": "447700900123", "to": "447700900999", "messageId": "c-1", "text": "STOP", "type": "text"}
DLR = {
    "messageId": "c-unknown",
    "status": "delivered",
    "err-code": "0",
    "msisdn": "447700900000",
    "to": "ACME",
}


def use_carrier_secret(monkeypatch: pytest.MonkeyPatch, secret: dict[str, str]) -> None:
    """A carrier secret under a fresh name (Powertools caches secrets by name for 5 minutes)."""
    from smsgw.core.memo import forget_all

    name = f"smsgw/carrier-{uuid.uuid4().hex[:8]}"
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=name, SecretString=json.dumps(secret)
    )
    monkeypatch.setenv("CARRIER_SECRET_NAME", name)
    forget_all()


def call(
    path: str, method: str, params: dict[str, str], query: dict[str, str] | None = None
) -> tuple[int, Any]:
    handler = "inbound" if path == "/carrier/inbound" else "delivery_receipt"
    if method == "GET":
        event = api_event("GET", path, query={**params, **(query or {})})
    else:
        event = api_event("POST", path, form=params, query=query)
    response = load_handler(handler).lambda_handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def written(aws) -> list[dict[str, Any]]:
    """Everything a carrier webhook could have written (the table holds nothing else in these tests)."""
    return [i for i in aws.table.scan()["Items"] if not i["pk"].startswith(("ACCOUNT", "KEY", "CLIENT"))]


ROUTES = [
    pytest.param("/carrier/inbound", "POST", INBOUND, id="inbound-POST"),
    pytest.param("/carrier/inbound", "GET", INBOUND, id="inbound-GET"),
    pytest.param("/carrier/dlr", "POST", DLR, id="dlr-POST"),
    pytest.param("/carrier/dlr", "GET", DLR, id="dlr-GET"),
]


@pytest.mark.parametrize(("path", "method", "params"), ROUTES)
def test_the_readme_recipe_secret_refuses_unauthenticated_webhooks(aws, monkeypatch, path, method, params):
    """A carrier secret with credentials only (no signature secret, no webhook token): 401, nothing written."""
    use_carrier_secret(monkeypatch, {"api_key": "k", "api_secret": "s"})
    status, body = call(path, method, params)
    assert status == 401, body
    assert "webhook_token" in body["error"]
    assert "signature_secret" in body["error"]
    assert written(aws) == []


@pytest.mark.parametrize(("path", "method", "params"), ROUTES)
def test_no_carrier_secret_at_all_refuses_too(aws, path, method, params):
    assert call(path, method, params)[0] == 401
    assert written(aws) == []


@pytest.mark.parametrize(("path", "method", "params"), ROUTES)
def test_the_operator_may_opt_out_explicitly(aws, monkeypatch, path, method, params):
    from smsgw.core.memo import forget_all

    monkeypatch.setenv("ALLOW_UNSIGNED_CARRIER_WEBHOOKS", "true")
    forget_all()
    status, body = call(path, method, params)
    assert status == 200, body
    assert written(aws) != []


@pytest.mark.parametrize(("path", "method", "params"), ROUTES)
def test_the_webhook_token_in_the_url_authenticates_a_carrier_that_cannot_sign(
    aws, monkeypatch, path, method, params
):
    use_carrier_secret(monkeypatch, {"client_id": "kpn", "client_secret": "s", "webhook_token": TOKEN})
    for wrong in (None, {"token": ""}, {"token": TOKEN[:-1]}, {"token": TOKEN + "x"}):
        status, body = call(path, method, params, query=wrong)
        assert status == 401, (wrong, body)
        assert TOKEN not in json.dumps(body)
    assert written(aws) == []
    status, body = call(path, method, params, query={"token": TOKEN})
    assert status == 200, body
    assert TOKEN not in json.dumps(written(aws), default=str)  # the token is never stored


def signed(params: dict[str, str]) -> dict[str, str]:
    fields = {**params, "timestamp": str(int(time.time())), "nonce": "n1"}
    return {**fields, "sig": sign_params(fields, SIG_SECRET, "sha256")}


@pytest.mark.parametrize(("path", "method", "params"), ROUTES)
def test_a_signature_secret_needs_a_valid_signature(aws, monkeypatch, path, method, params):
    use_carrier_secret(
        monkeypatch,
        {"api_key": "k", "api_secret": "s", "signature_secret": SIG_SECRET, "signature_method": "sha256"},
    )
    assert call(path, method, params)[0] == 401
    assert (
        call(
            path,
            method,
            {**signed(params), "text": "forged"}
            if "text" in params
            else {**signed(params), "status": "failed"},
        )[0]
        == 401
    )
    assert written(aws) == []
    assert call(path, method, signed(params))[0] == 200


def test_with_both_a_signature_and_a_token_either_authenticates(aws, monkeypatch):
    use_carrier_secret(
        monkeypatch,
        {
            "api_key": "k",
            "signature_secret": SIG_SECRET,
            "signature_method": "sha256",
            "webhook_token": TOKEN,
        },
    )
    assert call("/carrier/dlr", "POST", DLR)[0] == 401
    assert call("/carrier/dlr", "POST", DLR, query={"token": "nope"})[0] == 401
    # The carrier signs its own fields; the token it was given in the URL is not part of them.
    assert call("/carrier/dlr", "GET", signed(DLR), query={"token": TOKEN})[0] == 200
    assert call("/carrier/dlr", "POST", {**DLR, "messageId": "c-2"}, query={"token": TOKEN})[0] == 200


def test_dispatch_gives_the_carrier_a_receipt_url_with_the_token(aws, account, carrier_env, monkeypatch):
    use_carrier_secret(
        monkeypatch, {"api_key": "simkey01", "api_secret": "simsecret", "webhook_token": TOKEN}
    )
    monkeypatch.setenv("CARRIER_RECEIPT_URL", "https://gw.example.com/v1/carrier/dlr")
    from smsgw.core.memo import forget_all

    forget_all()
    accept(account, text="Hello")
    assert dispatch(receive_batch(aws)) == {"batchItemFailures": []}
    [submission] = sim_messages(carrier_env)
    url = urlsplit(submission["callback"])
    assert (url.scheme, url.netloc, url.path) == ("https", "gw.example.com", "/v1/carrier/dlr")
    assert parse_qs(url.query) == {"token": [TOKEN]}


def test_the_previous_token_is_accepted_while_rotating(aws, monkeypatch):
    use_carrier_secret(monkeypatch, {"webhook_token": "new-" + TOKEN, "previous_webhook_token": TOKEN})
    assert call("/carrier/dlr", "POST", DLR, query={"token": TOKEN})[0] == 200
    assert (
        call("/carrier/dlr", "POST", {**DLR, "messageId": "c-3"}, query={"token": "new-" + TOKEN})[0] == 200
    )
    assert (
        call("/carrier/dlr", "POST", {**DLR, "messageId": "c-4"}, query={"token": "old-" + TOKEN})[0] == 401
    )
