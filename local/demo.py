"""What `make run` adds to a deployed local stack: a second connector and its routes (through the smsgw
CLI), and the demo account's virtual number (bought as its owner would, through the Phone Numbers API)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from local.procs import StackError

Cli = Callable[..., str]  # LocalStack.cli: `smsgw <args>` against the stack


def add_connector(cli: Cli, name: str, url: str, secret_name: str, rate: str) -> None:
    """A simulator at `url` as the connector `name`, sending at most `rate` messages per second."""
    cli(
        "connectors",
        "set",
        name,
        "--protocol",
        "simulator",
        "--base-url",
        url,
        "--secret-name",
        secret_name,
        "--rate",
        rate,
        "--webhook-auth",
        "signature",
    )


def add_routes(cli: Cli, second: str) -> None:
    """GB prefers the default carrier, NL the connector `second`, each failing over to the other."""
    cli("routes", "set", "gb", "--country", "GB", "--connectors", f"default,{second}")
    cli("routes", "set", "nl", "--country", "NL", "--connectors", f"{second},default")


def buy_number(
    api_url: str,
    account: dict[str, Any],
    inbound_url: str,
    country: str = "NL",
    number_type: str = "mobile-lvn",
    features: str = "SMS",
    log: Callable[[str], None] = print,
) -> str:
    """Buy a virtual number for `account` as its owner would: a token, then the gateway's Phone Numbers
    API (search, buy — the gateway buys it at the carrier simulator — and `moHttpUrl` = `inbound_url`).
    Returns the msisdn."""

    def call(method: str, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = requests.request(method, url, timeout=60, **kwargs)
        except requests.RequestException as exc:
            raise StackError(f"{what} failed: {exc}") from None
        if response.status_code != 200:
            raise StackError(f"{what} failed: {response.status_code} {response.text}")
        return dict(response.json())

    token = call(
        "POST",
        f"{api_url}/oauth/client_credential/accesstoken",
        "the demo account's token",
        params={"grant_type": "client_credentials"},
        data={"client_id": account["client_id"], "client_secret": account["client_secret"]},
    )["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{api_url}/communication/nexmo/phone-numbers"
    found = call(
        "GET",
        f"{base}/number/search",
        "searching a number",
        headers=headers,
        params={"country": country, "type": number_type, "features": features, "size": 1},
    )
    if not found.get("numbers"):
        raise StackError(f"the carrier simulator has no {number_type} number in {country} for sale")
    msisdn = str(found["numbers"][0]["msisdn"])
    number = {"country": country, "msisdn": msisdn}
    call("POST", f"{base}/number/buy", f"buying {msisdn}", headers=headers, data=number)
    call(
        "POST",
        f"{base}/number/update",
        f"setting the moHttpUrl of {msisdn}",
        headers=headers,
        data={**number, "moHttpUrl": inbound_url},
    )
    log(f"the demo account owns {msisdn} (inbound SMS to {inbound_url})")
    return msisdn
