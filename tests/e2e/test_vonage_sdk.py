"""The official vonage SDK, unchanged but for its host, against the local stack's POST /sms/json.

The SDK only speaks https, so a local TLS front (tests/e2e/vonage_tls.py) forwards
https://127.0.0.1:PORT/sms/json to {api_url}/sms/json. Needs SmsJsonFunction in template.yaml.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from local.stack import LocalStack
from local.testing import Api, Simulator
from tests.e2e.vonage_tls import TlsFront, forward_to

pytestmark = pytest.mark.e2e


@pytest.fixture
def front(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[TlsFront]:
    with TlsFront(forward_to(str(local_stack.info["api_url"]))) as tls:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_bundle))
        yield tls
    assert tls.errors == []


def vonage_client(front: TlsFront, **auth: str) -> Any:
    from vonage import Auth, HttpClientOptions, Vonage

    return Vonage(Auth(**auth), HttpClientOptions(rest_host=front.host, timeout=30))


def send(client: Any, text: str, **message: Any) -> Any:
    from vonage_sms import SmsMessage

    return client.sms.send(SmsMessage(to="447700900000", from_="SMSGW", text=text, **message))


def demo(local_stack: LocalStack, *keys: str) -> list[str]:
    missing = [key for key in keys if not local_stack.info.get(key)]
    if missing:
        pytest.fail(f"the local stack's demo account has no {', '.join(missing)}")
    return [str(local_stack.info[key]) for key in keys]


def test_the_sdk_with_key_and_secret_reaches_the_carrier_once(
    local_stack: LocalStack, front: TlsFront, simulator: Simulator
) -> None:
    api_key, api_secret = demo(local_stack, "api_key", "api_secret")
    text = f"Hello from the vonage SDK {uuid.uuid4().hex[:8]}"

    response = send(vonage_client(front, api_key=api_key, api_secret=api_secret), text, client_ref="sdk-1")

    [part] = response.messages
    assert (part.status, part.to, part.client_ref) == ("0", "447700900000", "sdk-1")
    assert part.message_id
    [received] = simulator.wait_for(lambda m: m.get("text") == text)
    # The carrier gets the gateway's message id as client-ref (receipts echo it: reconciliation);
    # the client's own client-ref stays in the gateway's answers and callbacks.
    assert (received["to"], received["from"], received["client-ref"]) == (
        "447700900000",
        "SMSGW",
        part.message_id,
    )
    [sent] = front.requests
    assert (sent.header("Authorization") or "").startswith("Basic ")


def test_the_sdk_signing_reaches_the_carrier(
    local_stack: LocalStack, front: TlsFront, simulator: Simulator
) -> None:
    api_key, secret, method = demo(local_stack, "api_key", "signature_secret", "signature_method")
    if method == "md5hash":
        pytest.fail("the demo account signs with md5hash, which the vonage 4.x SDK cannot do")
    text = f"Signed & sent = via the SDK {uuid.uuid4().hex[:8]}"

    response = send(
        vonage_client(front, api_key=api_key, signature_secret=secret, signature_method=method), text
    )

    assert response.messages[0].status == "0"
    simulator.wait_for(lambda m: m.get("text") == text)
    [sent] = front.requests
    assert "sig=" in sent.body
    assert sent.header("Authorization") is None


def test_the_sdk_gets_vonage_errors_in_http_200(
    local_stack: LocalStack, front: TlsFront, simulator: Simulator
) -> None:
    from vonage_sms import SmsError

    [api_key] = demo(local_stack, "api_key")

    with pytest.raises(SmsError, match="error code 4"):
        send(vonage_client(front, api_key=api_key, api_secret="not-the-secret"), "never sent")

    assert simulator.messages() == []


def test_sms_json_has_no_bearer_authorizer_and_answers_other_methods_405(api: Api) -> None:
    unauthenticated = api.request(
        "POST", "/sms/json", data={"from": "SMSGW", "to": "447700900000", "text": "x"}
    )
    assert unauthenticated.status_code == 200, unauthenticated.text
    assert unauthenticated.json()["messages"][0]["status"] == "2"

    wrong_method = api.request("GET", "/sms/json")
    assert wrong_method.status_code == 405, wrong_method.text
    assert wrong_method.headers["Allow"] == "POST"
