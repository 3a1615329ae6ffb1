"""The one error table: how a domain error becomes the answer of a route's wire (`Wire`, chosen per router).

`error_answer` is the one place a domain error becomes HTTP; every refusal is logged by `log_refusal`.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Final

from aws_lambda_powertools.event_handler import Response, content_types

from smsgw.core.errors import (
    INVALID_PARAMETER,
    NUMBER_BARRED,
    PARTNER_QUOTA,
    THROTTLED,
    BadRequest,
    Conflict,
    Forbidden,
    InsufficientBalance,
    InvalidToken,
    NotFound,
    PreconditionFailed,
    RateLimited,
    SendRefused,
    SendThrottled,
    ServiceUnavailable,
    SmsgwError,
    Unauthorized,
)
from smsgw.numbers.errors import NumbersApiError
from smsgw.observability import logger, mask_numbers_in


class Wire(Enum):
    """How a router's routes answer errors (chosen per router, see ApiRouter)."""

    GATEWAY = "gateway"  # {"status", "error", "field"} with the HTTP status of HTTP_STATUS
    NEXMO = "nexmo"  # KPN's send: Nexmo's body; the HTTP status of NEXMO_HTTP_STATUS
    VONAGE = "vonage"  # Vonage's /sms/json: Nexmo's body, always HTTP 200 (contract §2; SDKs read the body)
    NUMBERS = "numbers"  # the Phone Numbers API: {"error-code", "error-code-label", "field"}


# The gateway's own answers (and the Numbers API's for errors that are not its own); most specific first.
HTTP_STATUS: Final[tuple[tuple[type[SmsgwError], int], ...]] = (
    (BadRequest, 400),
    (Unauthorized, 401),
    (InsufficientBalance, 402),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PreconditionFailed, 412),
    (RateLimited, 429),
    (ServiceUnavailable, 503),
    (SendRefused, 400),
)

# KPN's send answers a refusal with Nexmo's body and these HTTP statuses (else 400), as KPN does;
# a send throttled by the account's velocity limit (status 1) is 429 with Retry-After.
NEXMO_HTTP_STATUS: Final = {NUMBER_BARRED: 403, PARTNER_QUOTA: 200, THROTTLED: 429}

# The Vonage status for a domain error on the SMS APIs: 1 throttled, 3 invalid parameter, 4 bad
# credentials, 8 account barred, 9 no balance, 5 anything else (internal/temporary).
VONAGE_STATUS: Final[tuple[tuple[type[SmsgwError], str], ...]] = (
    (RateLimited, "1"),
    (Unauthorized, "4"),
    (Forbidden, "8"),
    (InsufficientBalance, PARTNER_QUOTA),
    (BadRequest, INVALID_PARAMETER),
)


def http_status(error: SmsgwError) -> int:
    return next((status for kind, status in HTTP_STATUS if isinstance(error, kind)), 500)


def vonage_status(error: SmsgwError) -> str:
    own: str | None = getattr(error, "vonage_status", None)
    if own:
        return own
    return next((status for kind, status in VONAGE_STATUS if isinstance(error, kind)), "5")


def nexmo_error_body(vonage_status: str, error_text: str, field: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"status": vonage_status, "error-text": error_text}
    if field:
        element["field"] = field
    return {"message-count": "1", "messages": [element]}


def log_refusal(http_status: int, reason: str, field: str | None = None, code: str | None = None) -> None:
    """Every refused request is logged with why (numbers masked): a 4xx is the client's to fix, but an
    operator asked "why did my sends stop" needs to see them. 401/403/429 at WARNING (auth, abuse)."""
    extra: dict[str, Any] = {"http_status": http_status, "reason": mask_numbers_in(reason)}
    if field:
        extra["field"] = field
    if code:
        extra["code"] = code
    if http_status in (401, 403, 429):
        logger.warning("request refused", extra=extra)
    else:
        logger.info("request refused", extra=extra)


def error_answer(wire: Wire, error: SmsgwError) -> Response:
    """The answer to a domain error on a route of `wire`: the one place errors become HTTP."""
    answer = _error_answer_for(wire, error)
    if answer.status_code < 500:
        code = vonage_status(error) if wire is Wire.VONAGE or isinstance(error, SendRefused) else None
        log_refusal(
            answer.status_code if answer.status_code != 200 else http_status(error),
            error.message,
            error.field,
            code,
        )
    return answer


def _error_answer_for(wire: Wire, error: SmsgwError) -> Response:
    headers: dict[str, str] = {}
    retry_after = getattr(error, "retry_after", None)
    if isinstance(error, RateLimited | ServiceUnavailable | SendThrottled) or (
        isinstance(error, NumbersApiError) and retry_after
    ):
        headers["Retry-After"] = str(retry_after)
    if isinstance(error, NumbersApiError):
        if error.status_code >= 500:
            logger.error("numbers request failed", extra={"error": error.message})
        return json_response(error.status_code, error.body(), headers)
    status = http_status(error)
    if status >= 500:
        logger.error("request failed", extra={"error": error.message})
    if wire is Wire.VONAGE or isinstance(error, SendRefused):
        code = vonage_status(error)
        text = (
            f"Throttled: {error.message}"
            if code == "1" and not isinstance(error, SendRefused)
            else error.message
        )
        if wire is not Wire.VONAGE:
            return json_response(
                NEXMO_HTTP_STATUS.get(code, 400), nexmo_error_body(code, text, error.field), headers
            )
        return json_response(200, nexmo_error_body(code, text, error.field), headers)
    if isinstance(error, InvalidToken):
        headers["WWW-Authenticate"] = 'Bearer realm="smsgw", error="invalid_token"'
    elif isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="smsgw"'
    return error_response(status, error.message, error.field, **headers)


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers=headers or {},
    )


def error_response(status: int, message: str, field: str | None = None, **headers: str) -> Response:
    body: dict[str, Any] = {"status": status, "error": message}
    if field:
        body["field"] = field
    return json_response(status, body, {k.replace("_", "-"): v for k, v in headers.items()})
