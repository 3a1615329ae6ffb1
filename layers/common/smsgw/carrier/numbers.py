"""The carrier's Phone Numbers API (`contracts/vonage-sms.md` §7, `contracts/kpn.md` A.10): search the
numbers for sale, buy one, cancel one, and read the carrier account's own numbers.

- `vonage` and `simulator`: `GET {base_url}/number/search`, `POST /number/buy`, `POST /number/cancel`,
  `GET /account/numbers`, authenticated with `api_key`/`api_secret` as query parameters (the Numbers
  API takes no signatures, so these need `api_secret` even when SMS are signed); POST bodies are forms.
- `kpn`: the same operations under `{base_url}/communication/nexmo/phone-numbers/...` with KPN's
  bearer token (minted, cached and re-minted once on a token refusal exactly as `KpnCarrier` does).

Outcomes (Vonage answers `{"error-code": "200", "error-code-label": "success"}` on success):
- `CarrierTransientError`: the carrier did not answer, answered 5xx or unreadably, or refused *our*
  credentials (HTTP 401/403, a 4xx without Vonage's body such as an unknown path) — nothing the
  caller of the gateway can fix; the HTTP layer answers 502.
- `CarrierThrottled`: HTTP 429.
- `CarrierRejected`: the carrier refused the operation (HTTP 420 "Action failed", another 4xx with
  an `error-code`, or a 200 whose `error-code` is not "200"); `status` is the carrier's
  `error-code`, `error_text` its `error-code-label`, `http_status` its HTTP status.

No retries here: one call is one HTTP request (a re-mint of a refused KPN token aside).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from smsgw.carrier.base import (
    REJECTED_HTTP_STATUSES,
    CarrierError,
    CarrierRejected,
    CarrierThrottled,
    CarrierTransientError,
    parse_retry_after,
)
from smsgw.carrier.kpn import KpnCarrier, _token_refused
from smsgw.carrier.vonage import DEFAULT_TIMEOUT, Timeout, error_detail, json_body, new_session

SEARCH_PATH = "/number/search"
BUY_PATH = "/number/buy"
CANCEL_PATH = "/number/cancel"
OWNED_PATH = "/account/numbers"
KPN_PREFIX = "/communication/nexmo/phone-numbers"
PROVIDERS = ("vonage", "kpn", "simulator")


@dataclass(frozen=True)
class CarrierNumbers:
    """A page of numbers as the carrier listed them: `count` matching in all, `numbers` this page
    (each the carrier's own object: country, msisdn, type, features, cost, ...)."""

    count: int
    numbers: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)


class NumbersCarrier(Protocol):
    def search(self, country: str, **filters: str) -> CarrierNumbers:
        """Numbers for sale in `country` (filters: type, pattern, search_pattern, features, size, index)."""
        ...

    def buy(self, country: str, msisdn: str) -> None: ...

    def cancel(self, country: str, msisdn: str) -> None: ...

    def owned(self, **filters: str) -> CarrierNumbers:
        """The carrier account's own numbers (filters: pattern, search_pattern, size, index, country)."""
        ...


def _body(response: requests.Response) -> Any:
    """The JSON answer; a one-element array is unwrapped (KPN documents its answers wrapped in one)."""
    body = json_body(response)
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict):
        return body[0]
    return body


def numbers_error(response: requests.Response, action: str) -> CarrierError:
    """The error for an answer that is not success (see the module docstring)."""
    body = _body(response)
    code = str(body["error-code"]) if isinstance(body, dict) and body.get("error-code") is not None else None
    label = str(body.get("error-code-label") or "") if isinstance(body, dict) else ""
    status = response.status_code
    detail = label or error_detail(response)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return CarrierThrottled(f"{action}: {detail}", status=code, http_status=429, retry_after=retry_after)
    if status in (401, 403):
        return CarrierTransientError(
            f"{action}: the carrier refused the gateway's credentials ({detail})",
            status=code,
            http_status=status,
        )
    if status == 200 or (400 <= status < 500 and (code is not None or status in REJECTED_HTTP_STATUSES)):
        return CarrierRejected(detail, status=code, http_status=status)
    return CarrierTransientError(f"{action}: {detail}", status=code, http_status=status)


def _check_success(response: requests.Response, action: str) -> None:
    body = _body(response)
    if response.status_code == 200 and isinstance(body, dict) and str(body.get("error-code")) == "200":
        return
    if response.status_code == 200 and not (isinstance(body, dict) and "error-code" in body):
        raise CarrierTransientError(f"{action}: the carrier's answer has no error-code", http_status=200)
    raise numbers_error(response, action)


def _number_list(response: requests.Response, action: str) -> CarrierNumbers:
    if response.status_code != 200:
        raise numbers_error(response, action)
    body = _body(response)
    if not isinstance(body, dict):
        raise CarrierTransientError(f"{action}: the carrier's answer is not a JSON object", http_status=200)
    if "error-code" in body and str(body["error-code"]) != "200":
        raise numbers_error(response, action)
    numbers = body.get("numbers") or []  # Vonage leaves `numbers` out when there are none
    if not isinstance(numbers, list) or not all(isinstance(n, dict) for n in numbers):
        raise CarrierTransientError(
            f"{action}: the carrier's answer has no readable numbers", http_status=200
        )
    try:
        count = int(body.get("count", len(numbers)))
    except (TypeError, ValueError):
        count = len(numbers)
    return CarrierNumbers(count=count, numbers=tuple(numbers))


def _send(call: Callable[[], requests.Response]) -> requests.Response:
    try:
        return call()
    except requests.RequestException as exc:
        raise CarrierTransientError(f"{type(exc).__name__} calling the carrier: {exc}") from exc


class VonageNumbers:
    """Vonage's Numbers API (also the simulator's), `api_key`/`api_secret` in the query string."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        *,
        session: requests.Session | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        if not api_key or not api_secret:
            raise ValueError("api_key and api_secret are required for the Numbers API")
        self.base_url = base_url.rstrip("/")
        self._auth = {"api_key": api_key, "api_secret": api_secret}
        self._session = session or new_session()
        self._timeout = timeout

    def search(self, country: str, **filters: str) -> CarrierNumbers:
        return _number_list(self._get(SEARCH_PATH, {"country": country, **filters}), "number search")

    def owned(self, **filters: str) -> CarrierNumbers:
        return _number_list(self._get(OWNED_PATH, dict(filters)), "account numbers")

    def buy(self, country: str, msisdn: str) -> None:
        _check_success(self._post(BUY_PATH, {"country": country, "msisdn": msisdn}), "number buy")

    def cancel(self, country: str, msisdn: str) -> None:
        _check_success(self._post(CANCEL_PATH, {"country": country, "msisdn": msisdn}), "number cancel")

    def _get(self, path: str, params: Mapping[str, str]) -> requests.Response:
        url = self.base_url + path
        query = {**params, **self._auth}
        return _send(
            lambda: self._session.get(url, params=query, timeout=self._timeout, allow_redirects=False)
        )

    def _post(self, path: str, form: Mapping[str, str]) -> requests.Response:
        url = self.base_url + path
        return _send(
            lambda: self._session.post(
                url, params=self._auth, data=dict(form), timeout=self._timeout, allow_redirects=False
            )
        )


class KpnNumbers(KpnCarrier):
    """KPN's wrapper of the Numbers API: the same operations under `/communication/nexmo/phone-numbers`,
    with the bearer token a `KpnCarrier` mints (and re-mints once when KPN refuses it)."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, **kwargs: Any) -> None:
        super().__init__(base_url, client_id, client_secret, **kwargs)
        self.numbers_url = base_url.rstrip("/") + KPN_PREFIX

    def search(self, country: str, **filters: str) -> CarrierNumbers:
        return _number_list(self._call("GET", SEARCH_PATH, {"country": country, **filters}), "number search")

    def owned(self, **filters: str) -> CarrierNumbers:
        return _number_list(self._call("GET", OWNED_PATH, dict(filters)), "account numbers")

    def buy(self, country: str, msisdn: str) -> None:
        _check_success(self._call("POST", BUY_PATH, {"country": country, "msisdn": msisdn}), "number buy")

    def cancel(self, country: str, msisdn: str) -> None:
        _check_success(
            self._call("POST", CANCEL_PATH, {"country": country, "msisdn": msisdn}), "number cancel"
        )

    def _call(self, method: str, path: str, params: Mapping[str, str]) -> requests.Response:
        token = self._access_token()
        response = self._request(method, path, params, token)
        if _token_refused(response):
            self._forget(token)
            response = self._request(method, path, params, self._access_token())
        return response

    def _request(self, method: str, path: str, params: Mapping[str, str], token: str) -> requests.Response:
        url = self.numbers_url + path
        headers = {"Authorization": f"Bearer {token}"}
        if method == "GET":
            return _send(
                lambda: self._session.get(
                    url, params=dict(params), headers=headers, timeout=self._timeout, allow_redirects=False
                )
            )
        return _send(
            lambda: self._session.post(
                url, data=dict(params), headers=headers, timeout=self._timeout, allow_redirects=False
            )
        )


def make_numbers_carrier(provider: str, base_url: str, credentials: Mapping[str, str]) -> NumbersCarrier:
    """`vonage`/`simulator` need `api_key` and `api_secret`; `kpn` needs `client_id` and `client_secret`.

    Raises `ValueError` naming an unknown provider or the missing value (a deployment mistake).
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown carrier provider {provider!r}; use one of {', '.join(PROVIDERS)}")
    if not base_url:
        raise ValueError(f"carrier base_url is missing for provider {provider!r}")

    def credential(name: str) -> str:
        value = credentials.get(name)
        if not value:
            raise ValueError(
                f"carrier credential {name!r} is missing for provider {provider!r} (Numbers API)"
            )
        return value

    if provider == "kpn":
        return KpnNumbers(base_url, credential("client_id"), credential("client_secret"))
    return VonageNumbers(base_url, credential("api_key"), credential("api_secret"))
