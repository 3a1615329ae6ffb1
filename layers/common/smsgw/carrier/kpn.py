"""KPN's wrapper of the Vonage SMS API (`contracts/kpn.md`): an OAuth client-credentials token, then
`POST {base_url}/communication/nexmo/sms/send` with `Authorization: Bearer`, answered as `/sms/json` is.

The token is cached in the process until `token_margin` seconds before it expires; one thread
mints while the others wait for it (single flight). A send refused for its token (HTTP 401, or
an Apigee access-token fault, which some KPN products send as HTTP 500) gets the token re-minted
and is tried once more.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

import requests

from smsgw.carrier.base import (
    CarrierThrottled,
    CarrierTransientError,
    Submission,
    SubmitResult,
    parse_retry_after,
)
from smsgw.carrier.vonage import (
    DEFAULT_TIMEOUT,
    Timeout,
    error_detail,
    json_body,
    new_session,
    parse_sms_response,
    post_form,
)

TOKEN_PATH = "/oauth/client_credential/accesstoken?grant_type=client_credentials"
SEND_PATH = "/communication/nexmo/sms/send"
DEFAULT_TOKEN_LIFETIME = 3599.0  # seconds, when the answer does not say


class KpnCarrier:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        token_margin: float = 300.0,
        session: requests.Session | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        base = base_url.rstrip("/")
        self.token_url = base + TOKEN_PATH
        self.send_url = base + SEND_PATH
        self._client = {"client_id": client_id, "client_secret": client_secret}
        self._token_margin = token_margin
        self._session = session or new_session()
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_fresh_until = 0.0

    def submit(self, submission: Submission) -> SubmitResult:
        form = submission.form()
        token = self._access_token()
        response = self._send(token, form)
        if _token_refused(response):
            self._forget(token)
            response = self._send(self._access_token(), form)
        return parse_sms_response(response)

    def _send(self, token: str, form: Mapping[str, str]) -> requests.Response:
        return post_form(
            self._session, self.send_url, form, self._timeout, {"Authorization": f"Bearer {token}"}
        )

    def _access_token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._token_fresh_until:
                started = self._clock()
                token, lifetime = self._mint()
                self._token, self._token_fresh_until = token, started + lifetime - self._token_margin
            return self._token

    def _forget(self, token: str) -> None:
        with self._lock:
            if self._token == token:  # another thread may have minted a new one already
                self._token = None

    def _mint(self) -> tuple[str, float]:
        response = post_form(self._session, self.token_url, self._client, self._timeout)
        if response.status_code != 200:
            detail = f"KPN token request refused: {error_detail(response)}"
            if response.status_code == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                raise CarrierThrottled(detail, http_status=429, retry_after=retry_after)
            raise CarrierTransientError(detail, http_status=response.status_code)
        body = json_body(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise CarrierTransientError("KPN token answer has no access_token", http_status=200)
        try:
            lifetime = float(body.get("expires_in", DEFAULT_TOKEN_LIFETIME))
        except (TypeError, ValueError):
            lifetime = DEFAULT_TOKEN_LIFETIME
        return token, lifetime


def _token_refused(response: requests.Response) -> bool:
    if response.status_code == 401:
        return True
    if response.status_code != 500:
        return False
    body = json_body(response)
    fault = body.get("fault") if isinstance(body, dict) else None
    detail = fault.get("detail") if isinstance(fault, dict) else None
    code = str(detail.get("errorcode", "")) if isinstance(detail, dict) else ""
    return "accesstoken" in code.replace("_", "").lower()
