"""The Vonage SMS API client (`POST {base_url}/sms/json`, `contracts/vonage-sms.md`) and the pieces of
the Vonage wire protocol KPN's wrapper shares: posting a form, reading the send response, signing.

No retries here: one `submit` is one HTTP request (the dispatcher retries). A read timeout raises
`CarrierTransientError` although the carrier may have accepted the message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from smsgw.carrier.base import (
    CarrierTransientError,
    Submission,
    SubmitResult,
    SubmittedPart,
    error_for_http,
    error_for_status,
    parse_retry_after,
)
from smsgw.carrier.signing import SIGNATURE_METHODS, sign_params

SEND_PATH = "/sms/json"
DEFAULT_TIMEOUT = (3.05, 10.0)  # (connect, read) seconds
Timeout = tuple[float, float]


def new_session() -> requests.Session:
    session = requests.Session()
    session.headers["Accept"] = "application/json"
    return session


def post_form(
    session: requests.Session,
    url: str,
    form: Mapping[str, str],
    timeout: Timeout,
    headers: Mapping[str, str] | None = None,
) -> requests.Response:
    """POST a form body once; a network failure or timeout becomes `CarrierTransientError`."""
    try:
        return session.post(url, data=dict(form), headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise CarrierTransientError(
            f"{type(exc).__name__} calling the carrier: {exc}", ambiguous=_maybe_delivered(exc)
        ) from exc


def _maybe_delivered(exc: requests.RequestException) -> bool:
    """Could the carrier have received (and accepted) the request? Not when no connection was made."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        return "NewConnectionError" not in repr(exc) and "Failed to establish" not in str(exc)
    return isinstance(exc, (requests.Timeout, requests.exceptions.ChunkedEncodingError))


def json_body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def error_detail(response: requests.Response) -> str:
    """What a non-200 answer says: an Apigee fault, an OAuth error, KPN's envelope or the body's start."""
    body = json_body(response)
    if isinstance(body, dict):
        fault = body.get("fault")
        if isinstance(fault, dict) and fault.get("faultstring"):
            return str(fault["faultstring"])
        for key in ("Error", "error-text", "message", "error", "title"):
            if body.get(key):
                return str(body[key])
    text = response.text.strip()[:200]
    return text or response.reason or f"HTTP {response.status_code}"


def parse_sms_response(response: requests.Response) -> SubmitResult:
    """Read a `/sms/json` (or KPN send) answer: every part accepted → `SubmitResult`, else a `CarrierError`.

    When some parts were accepted and another was not, the error for the first failed part is
    raised with the accepted parts in `accepted_parts`: they were sent and will be charged.
    """
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if response.status_code != 200:
        raise error_for_http(response.status_code, error_detail(response), retry_after)
    body = json_body(response)
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        # A 200 the carrier sent is likely an acceptance we cannot read: resubmitting could send it twice.
        raise CarrierTransientError(
            "the carrier's answer has no readable messages", http_status=200, ambiguous=True
        )
    accepted: list[SubmittedPart] = []
    failed: dict[str, Any] | None = None
    for element in messages:
        if str(element.get("status")) == "0" and element.get("message-id"):
            accepted.append(
                SubmittedPart(
                    carrier_message_id=str(element["message-id"]),
                    network=_string(element.get("network")),
                    price=_string(element.get("message-price")),
                )
            )
        elif failed is None:
            failed = element
    if failed is None:
        return SubmitResult(parts=tuple(accepted))
    status = _string(failed.get("status"))
    if not status or status == "0":
        raise CarrierTransientError(
            "the carrier's answer has a part without a status or message-id",
            http_status=200,
            accepted_parts=tuple(accepted),
        )
    raise error_for_status(
        status, _string(failed.get("error-text")), accepted_parts=tuple(accepted), retry_after=retry_after
    )


def _string(value: object) -> str | None:
    return None if value is None else str(value)


class VonageCarrier:
    """Vonage's SMS API, authenticated with `api_secret` in the form body, or signed with `signature_secret`.

    When signing, the request carries `api_key`, `timestamp` and `sig`, never a secret.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str | None = None,
        signature_secret: str | None = None,
        signature_method: str = "md5",
        *,
        session: requests.Session | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is required")
        if not (api_secret or signature_secret):
            raise ValueError("api_secret or signature_secret is required")
        if signature_method not in SIGNATURE_METHODS:
            raise ValueError(f"signature_method must be one of {', '.join(SIGNATURE_METHODS)}")
        self.url = base_url.rstrip("/") + SEND_PATH
        self._credentials = {"api_key": api_key}
        if not signature_secret:
            self._credentials["api_secret"] = str(api_secret)
        self._signature_secret = signature_secret
        self._signature_method = signature_method
        self._session = session or new_session()
        self._timeout = timeout
        self._clock = clock

    def submit(self, submission: Submission) -> SubmitResult:
        form = {**submission.form(), **self._credentials}
        if self._signature_secret:
            form["timestamp"] = str(int(self._clock()))
            form["sig"] = sign_params(form, self._signature_secret, self._signature_method)
        return parse_sms_response(post_form(self._session, self.url, form, self._timeout))
