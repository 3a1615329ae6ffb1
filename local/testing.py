"""Client helpers for tests and benchmarks against a running local stack (see tests/e2e/conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

# API Gateway itself gives up after 29 s; a cold function on a loaded 2-core CI machine (after the burst
# test) once took over 15 s to answer /sms/register, so the tests wait as long as a real client could.
HTTP_TIMEOUT = 30.0


def poll(
    check: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.1, what: str = "condition"
) -> Any:
    """Call `check` until it returns something truthy; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Api:
    """The gateway's HTTP API, as a client of the demo account would call it."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.base = str(info["api_url"])
        self.client_id = info.get("client_id")
        self.client_secret = info.get("client_secret")
        self.http = requests.Session()
        self._token: str | None = None

    def url(self, path: str) -> str:
        return self.base + path

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return self.http.request(method, self.url(path), **kwargs)

    def token_response(
        self, client_id: str | None = None, client_secret: str | None = None
    ) -> requests.Response:
        return self.request(
            "POST",
            "/oauth/client_credential/accesstoken?grant_type=client_credentials",
            data={
                "client_id": client_id or self.client_id,
                "client_secret": client_secret or self.client_secret,
            },
        )

    def token(self) -> str:
        """A fresh access token for the demo account."""
        response = self.token_response()
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def send(self, *, token: str | None = None, **form: str) -> requests.Response:
        """POST /communication/nexmo/sms/send with `form` as the form body (a token is fetched once)."""
        if token is None:
            self._token = self._token or self.token()
            token = self._token
        return self.request(
            "POST", "/communication/nexmo/sms/send", data=form, headers={"Authorization": f"Bearer {token}"}
        )


class Simulator:
    """The carrier simulator's control API (`/_sim/*`)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def reset(self) -> None:
        self.http.post(f"{self.url}/_sim/reset", timeout=HTTP_TIMEOUT).raise_for_status()

    def configure(self, **settings: Any) -> None:
        """Change the simulator's runtime settings (`PUT /_sim/config`), e.g. `fail_rate=1.0`."""
        self.http.put(f"{self.url}/_sim/config", json=settings, timeout=HTTP_TIMEOUT).raise_for_status()

    def messages(self) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.url}/_sim/messages", timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        return list(response.json()["messages"])

    def wait_for(
        self, match: Callable[[dict[str, Any]], bool], *, timeout: float = 20.0
    ) -> list[dict[str, Any]]:
        """The received submissions that `match`, once there is at least one."""
        return list(
            poll(
                lambda: [m for m in self.messages() if match(m)],
                timeout=timeout,
                what="the carrier simulator to receive the message",
            )
        )
