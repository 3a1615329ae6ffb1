"""Each connector's own carrier webhooks (/carrier/{connector}/dlr|inbound), verified with its own secret
as its webhook_auth says; /carrier/dlr and /carrier/inbound stay the default connector's.

The requests go over HTTP through local.wsgi (routed by template.yaml's events, as API Gateway routes
them) to the real handlers under moto; the carriers are simulators that sign their receipts and inbound
messages, or send them to a URL with a token."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import boto3
import pytest
import requests
from standardwebhooks import Webhook

from local.testing import poll
from local.wsgi import ApiGatewayApp
from smsgw.carrier.vonage import sign_params
from smsgw.core.memo import forget_all
from smsgw.routing import service as routing
from tests.conftest import CARRIER_SIGNATURE_METHOD, CARRIER_SIGNATURE_SECRET, REGION
from tests.integration.test_dispatch import accept, dispatch, message, receive_batch, sim_messages
from tests.integration.test_inbound import deliver_webhooks, own

B_SIGNATURE_SECRET = "b-signature-secret"
T_TOKEN = "t-tok-" + "5" * 40

DLR = {"messageId": "c-1", "status": "delivered", "err-code": "0", "msisdn": "447700900000", "to": "ACME"}
INBOUND = {"msisdn": "447700900123", "to": "3197010240299", "messageId": "i-1", "text": "Hi", "type": "text"}
WEBHOOKS = [
    pytest.param("dlr", "POST", DLR, id="dlr-POST"),
    pytest.param("dlr", "GET", DLR, id="dlr-GET"),
    pytest.param("inbound", "POST", INBOUND, id="inbound-POST"),
    pytest.param("inbound", "GET", INBOUND, id="inbound-GET"),
]


def secret(values: dict[str, str]) -> str:
    """A connector secret under a fresh name (Powertools caches secrets by name for 5 minutes)."""
    name = f"smsgw/connectors/{uuid.uuid4().hex[:8]}"
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=name, SecretString=json.dumps(values)
    )
    return name


@pytest.fixture
def gateway(aws) -> Iterator[str]:
    """The API over HTTP on a free port (local.wsgi: template.yaml's routes, the real handlers)."""

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, ApiGatewayApp(), handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, name="gateway", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def carrier_b(carrier_env) -> Iterator[Any]:
    """Connector `b`: a second simulator that signs its webhooks with its own secret."""
    from simulator.server import start_simulator

    with start_simulator(
        api_key="bkey0001",
        api_secret="bsecret",
        signature_secret=B_SIGNATURE_SECRET,
        signature_method="sha256",
    ) as sim:
        name = secret(
            {
                "api_key": "bkey0001",
                "api_secret": "bsecret",
                "signature_secret": B_SIGNATURE_SECRET,
                "signature_method": "sha256",
            }
        )
        routing.set_connector("b", "simulator", sim.url, name, 10.0, "signature")
        yield sim


@pytest.fixture
def carrier_t(carrier_env) -> Iterator[Any]:
    """Connector `t`: a carrier that cannot sign (as KPN), authenticated by the token in its URLs."""
    from simulator.server import start_simulator

    with start_simulator(api_key="tkey0001", api_secret="tsecret") as sim:
        name = secret({"api_key": "tkey0001", "api_secret": "tsecret", "webhook_token": T_TOKEN})
        routing.set_connector("t", "simulator", sim.url, name, 10.0, "url_token")
        yield sim


def signed(
    params: dict[str, str], signature_secret: str, method: str = CARRIER_SIGNATURE_METHOD
) -> dict[str, str]:
    fields = {**params, "timestamp": str(int(time.time())), "nonce": os.urandom(4).hex()}
    return {**fields, "sig": sign_params(fields, signature_secret, method)}


def call(
    gateway: str, path: str, method: str, params: dict[str, str], query: dict[str, str] | None = None
) -> tuple[int, Any]:
    if method == "GET":
        response = requests.get(f"{gateway}{path}", params={**params, **(query or {})}, timeout=10)
    else:
        response = requests.post(f"{gateway}{path}", data=params, params=query, timeout=10)
    return response.status_code, response.json()


def written(aws) -> list[dict[str, Any]]:
    """What a carrier webhook could have written (not the accounts and the configuration)."""
    return [
        item
        for item in aws.table.scan()["Items"]
        if not item["pk"].startswith(("ACCOUNT", "KEY", "CLIENT", "CONFIG#"))
    ]


def receipts_tried(sim) -> list[dict[str, Any]]:
    return requests.get(f"{sim.url}/_sim/dlrs", timeout=5).json()["dlrs"]


# --- dispatch gives each carrier its own receipt URL; its receipts come back there and apply ----------------


def test_each_carrier_gets_its_own_receipt_url_and_its_signed_receipts_apply(
    aws, account, carrier_env, carrier_b, gateway, monkeypatch
):
    monkeypatch.setenv("CARRIER_RECEIPT_URL", f"{gateway}/carrier/dlr")
    forget_all()
    routing.set_route("gb", ["b"], country="GB")
    to_gb = accept(account, to="447700900000")
    to_nl = accept(account, to="31612345678")
    dispatch(receive_batch(aws))
    dispatch(receive_batch(aws))

    [via_b] = sim_messages(carrier_b)
    [via_default] = sim_messages(carrier_env)
    assert via_b["callback"] == f"{gateway}/carrier/b/dlr"
    assert via_default["callback"] == f"{gateway}/carrier/dlr"  # the default's, as before
    for message_id in (to_gb, to_nl):
        poll(lambda m=message_id: message(aws, m)["status"] == "delivered", what=f"{message_id} delivered")
    assert [(r["url"], r["last_status"]) for r in receipts_tried(carrier_b)] == [
        (f"{gateway}/carrier/b/dlr", 200)
    ]


def test_a_url_token_carrier_gets_its_token_in_the_receipt_url_and_its_receipts_apply(
    aws, account, carrier_env, carrier_t, gateway, monkeypatch
):
    monkeypatch.setenv("CARRIER_RECEIPT_URL", f"{gateway}/carrier/dlr")
    forget_all()
    routing.set_route("gb", ["t"], country="GB")
    message_id = accept(account, to="447700900000")
    dispatch(receive_batch(aws))

    [submission] = sim_messages(carrier_t)
    url = urlsplit(submission["callback"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{gateway}/carrier/t/dlr"
    assert parse_qs(url.query) == {"token": [T_TOKEN]}
    poll(lambda: message(aws, message_id)["status"] == "delivered", what="the receipt applied")
    assert T_TOKEN not in json.dumps(written(aws), default=str)  # the token is never stored


def test_a_receipt_url_that_is_not_ours_is_left_to_the_carriers_dashboard(
    aws, account, carrier_env, carrier_b, monkeypatch
):
    """A CarrierReceiptUrl that is not …/carrier/dlr (a proxy): only the operator knows b's, in its dashboard."""
    monkeypatch.setenv("CARRIER_RECEIPT_URL", "https://proxy.example.com/receipts")
    forget_all()
    routing.set_route("gb", ["b"], country="GB")
    accept(account, to="447700900000")
    dispatch(receive_batch(aws))
    [submission] = sim_messages(carrier_b)
    assert "callback" not in submission


# --- each endpoint takes only its own connector's proof -------------------------------------------------------


@pytest.mark.parametrize(("kind", "method", "params"), WEBHOOKS)
def test_a_webhook_signed_with_another_connectors_secret_is_refused(
    aws, carrier_env, carrier_b, gateway, kind, method, params
):
    by_default, by_b = signed(params, CARRIER_SIGNATURE_SECRET), signed(params, B_SIGNATURE_SECRET)
    status, body = call(gateway, f"/carrier/b/{kind}", method, by_default)
    assert status == 401, body
    assert call(gateway, f"/carrier/{kind}", method, by_b)[0] == 401  # and the other way round
    assert call(gateway, f"/carrier/b/{kind}", method, params)[0] == 401  # unsigned
    assert call(gateway, f"/carrier/b/{kind}", method, {**by_b, "messageId": "forged"})[0] == 401
    assert written(aws) == []

    status, body = call(gateway, f"/carrier/b/{kind}", method, by_b)
    assert status == 200, body
    assert written(aws) != []


@pytest.mark.parametrize(("kind", "method", "params"), WEBHOOKS)
def test_a_url_token_connector_takes_its_token_and_nothing_else(
    aws, carrier_env, carrier_t, gateway, kind, method, params
):
    path = f"/carrier/t/{kind}"
    for wrong in (None, {"token": ""}, {"token": T_TOKEN[:-1]}, {"token": T_TOKEN + "x"}):
        status, body = call(gateway, path, method, params, query=wrong)
        assert status == 401, (wrong, body)
        assert T_TOKEN not in json.dumps(body)
    # A signature is no proof for a connector that authenticates by token, not even the default's.
    assert call(gateway, path, method, signed(params, CARRIER_SIGNATURE_SECRET))[0] == 401
    assert written(aws) == []

    status, body = call(gateway, path, method, params, query={"token": T_TOKEN})
    assert status == 200, body
    assert T_TOKEN not in json.dumps(written(aws), default=str)


def test_the_previous_token_of_a_url_token_connector_is_accepted_while_rotating(aws, carrier_env, gateway):
    name = secret(
        {"api_key": "k", "api_secret": "s", "webhook_token": "new-tok", "previous_webhook_token": "old-tok"}
    )
    routing.set_connector("t", "kpn", "https://api-prd.kpn.com", name, 10.0, "url_token")
    assert call(gateway, "/carrier/t/dlr", "POST", DLR, query={"token": "old-tok"})[0] == 200
    assert (
        call(gateway, "/carrier/t/dlr", "POST", {**DLR, "messageId": "c-2"}, query={"token": "new-tok"})[0]
        == 200
    )
    assert (
        call(gateway, "/carrier/t/dlr", "POST", {**DLR, "messageId": "c-3"}, query={"token": "older"})[0]
        == 401
    )


@pytest.mark.parametrize("webhook_auth", ["signature", "url_token"])
def test_a_connector_whose_secret_lacks_what_its_webhook_auth_needs_refuses_everything(
    aws, carrier_env, gateway, webhook_auth
):
    routing.set_connector(
        "c", "simulator", "https://c.example.com", secret({"api_key": "k"}), 10.0, webhook_auth
    )
    for params in (DLR, signed(DLR, CARRIER_SIGNATURE_SECRET)):
        status, body = call(gateway, "/carrier/c/dlr", "POST", params, query={"token": ""})
        assert status == 401, body
        assert ("signature_secret" if webhook_auth == "signature" else "webhook_token") in body["error"]
    assert written(aws) == []


@pytest.mark.parametrize(("kind", "method", "params"), WEBHOOKS)
def test_a_connector_without_webhook_auth_needs_the_operators_opt_out(
    aws, carrier_env, gateway, monkeypatch, kind, method, params
):
    routing.set_connector("n", "simulator", "https://n.example.com", secret({"api_key": "k"}), 10.0, "none")
    status, body = call(gateway, f"/carrier/n/{kind}", method, params)
    assert status == 401, body
    assert "AllowUnsignedCarrierWebhooks" in body["error"]
    assert written(aws) == []

    monkeypatch.setenv("ALLOW_UNSIGNED_CARRIER_WEBHOOKS", "true")
    forget_all()
    assert call(gateway, f"/carrier/n/{kind}", method, params)[0] == 200
    assert written(aws) != []


@pytest.mark.parametrize(("kind", "method", "params"), WEBHOOKS)
def test_an_unknown_connector_is_404_and_says_nothing_more(
    aws, carrier_env, carrier_b, gateway, monkeypatch, kind, method, params
):
    monkeypatch.setenv("ALLOW_UNSIGNED_CARRIER_WEBHOOKS", "true")  # 404 before anything is verified
    forget_all()
    answers = [
        call(gateway, f"/carrier/{name}/{kind}", method, proof)
        for name in ("nope", "c", "B", "b-")
        for proof in (params, signed(params, CARRIER_SIGNATURE_SECRET), signed(params, B_SIGNATURE_SECRET))
    ]
    assert {status for status, _ in answers} == {404}
    assert {json.dumps(body, sort_keys=True) for _, body in answers} == {
        json.dumps({"status": 404, "error": "no such carrier webhook"}, sort_keys=True)
    }
    assert written(aws) == []


def test_default_is_the_stacks_own_under_its_name_too(aws, carrier_env, gateway):
    """/carrier/default/dlr is /carrier/dlr: the stack's carrier secret, as before."""
    assert call(gateway, "/carrier/default/dlr", "POST", signed(DLR, CARRIER_SIGNATURE_SECRET))[0] == 200
    assert call(gateway, "/carrier/default/dlr", "POST", signed(DLR, B_SIGNATURE_SECRET))[0] == 401


# --- inbound at a connector's endpoint is routed as any -----------------------------------------------------


def test_an_inbound_sms_from_connector_b_is_accepted_and_routed_to_the_numbers_owner(
    aws, env, owner, carrier_b, gateway, receiver
):
    number = "3197010240299"
    own(owner.account_id, number, receiver.url)
    requests.put(
        f"{carrier_b.url}/_sim/config", json={"inbound_url": f"{gateway}/carrier/b/inbound"}, timeout=5
    ).raise_for_status()
    answer = requests.post(
        f"{carrier_b.url}/_sim/inbound",
        json={"from": "447700900123", "to": number, "text": "Hi there"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text

    def delivered() -> list[dict[str, Any]]:
        tried = requests.get(f"{carrier_b.url}/_sim/inbound", timeout=5).json()["inbound"]
        return [record for record in tried if record.get("last_status") == 200]

    [record] = poll(delivered, what="the inbound SMS acknowledged")
    assert record["url"] == f"{gateway}/carrier/b/inbound"
    deliver_webhooks()
    [request] = receiver.requests
    payload = Webhook(owner.webhook_secret).verify(request.body, request.headers)
    assert (payload["text"], payload["msisdn"], payload["to"]) == ("Hi there", "447700900123", number)
