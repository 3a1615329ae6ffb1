"""Domain errors. Each maps to one HTTP status in smsgw.edges.errors; handlers never catch.
`smsgw.core.error_body.ErrorResponse` documents the body those answers carry."""

from __future__ import annotations

from typing import ClassVar


class SmsgwError(Exception):
    """Base class; `message` says what to fix, `field` names the request field at fault (if one is)."""

    code: ClassVar[str] = "internal"
    field: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(SmsgwError):
    code: ClassVar[str] = "invalid"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Unauthorized(SmsgwError):
    code: ClassVar[str] = "unauthorized"


class InvalidToken(Unauthorized):
    """A bearer token that is malformed, unknown or expired (RFC 6750's `invalid_token`): get a new one."""


class Forbidden(SmsgwError):
    code: ClassVar[str] = "forbidden"


class AccountDisabled(Forbidden):
    """The account is disabled: 403 on every account route (status 8 on /sms/json), never "low balance"."""

    code: ClassVar[str] = "disabled"

    def __init__(self, message: str = "this account is disabled; ask the operator to enable it") -> None:
        super().__init__(message)


class NotFound(SmsgwError):
    code: ClassVar[str] = "not_found"


class Conflict(SmsgwError):
    code: ClassVar[str] = "conflict"


class LimitReached(Conflict):
    """An account limit (e.g. active schedules) would be exceeded: 409 naming the field to change."""

    code: ClassVar[str] = "limit_reached"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PreconditionFailed(SmsgwError):
    code: ClassVar[str] = "precondition_failed"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class RateLimited(SmsgwError):
    code: ClassVar[str] = "rate_limited"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(SmsgwError):
    code: ClassVar[str] = "unavailable"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InsufficientBalance(SmsgwError):
    """The balance does not cover it: Vonage status "9" on the SMS APIs (inside an HTTP 200, as they
    answer), 402 elsewhere."""

    code: ClassVar[str] = "insufficient_balance"


class DailyCapReached(InsufficientBalance):
    """The account's daily spend cap (a fraud guard) would be passed: the same Vonage status 9 as a low
    balance, with a message that says it is the cap and when it resets."""

    code: ClassVar[str] = "daily_cap_reached"


# Vonage SMS API statuses for a refused send (contracts/vonage-sms.md §2).
THROTTLED = "1"
MISSING_PARAMETER = "2"
INVALID_PARAMETER = "3"
INVALID_CREDENTIALS = "4"
NUMBER_BARRED = "7"
PARTNER_QUOTA = "9"
MESSAGE_TOO_LONG = "12"
INVALID_SENDER = "15"
INVALID_TTL = "16"
INVALID_MESSAGE_CLASS = "20"
INVALID_CALLBACK_URL = "23"
NON_WHITELISTED_DESTINATION = "29"
INVALID_MSISDN = "34"


class InvalidField(BadRequest, ValueError):
    """A bad request parameter, named: `field` is the wire name (`from`, `status-report-req`, ...),
    `message` says what to fix, `vonage_status` the Vonage status for it ("2" missing, "3" invalid,
    "12" too long, "15" sender, "16" TTL, "20" message class, "23" callback URL, "34" `to`).
    Also a `ValueError`, so it reads naturally in pure code and tests."""

    def __init__(self, field: str, message: str, vonage_status: str = INVALID_PARAMETER) -> None:
        super().__init__(message, field)
        self.field: str = field
        self.vonage_status = vonage_status

    def __repr__(self) -> str:
        return f"InvalidField({self.field!r}, {self.message!r}, vonage_status={self.vonage_status!r})"


class SendRefused(SmsgwError):
    """A send (or a Vonage-authenticated request) refused with a Vonage status: answered in Nexmo's body
    on the SMS APIs; the HTTP status for KPN's send is in the table of smsgw.edges.errors."""

    code: ClassVar[str] = "send_refused"

    def __init__(self, vonage_status: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.vonage_status = vonage_status
        self.field = field

    @classmethod
    def of(cls, error: InvalidField) -> SendRefused:
        return cls(error.vonage_status, error.message, error.field)


class SendThrottled(SendRefused):
    """A send refused for now (an account's velocity limit): Vonage status 1, retry after `retry_after`
    seconds (HTTP 429 with Retry-After on KPN's send)."""

    def __init__(self, message: str, retry_after: int, field: str | None = "to") -> None:
        super().__init__(THROTTLED, message, field)
        self.retry_after = retry_after
