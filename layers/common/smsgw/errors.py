"""Domain errors. Each maps to one HTTP status in smsgw.edges.http; handlers never catch. `ErrorResponse`
documents the body those answers carry."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SmsgwError(Exception):
    """Base class; `message` says what to fix."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(SmsgwError):
    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Unauthorized(SmsgwError):
    status_code = 401


class Forbidden(SmsgwError):
    status_code = 403


class AccountDisabled(Forbidden):
    """The account is disabled: 403 on every account route (status 8 on /sms/json), never "low balance"."""

    def __init__(self, message: str = "this account is disabled; ask the operator to enable it") -> None:
        super().__init__(message)


class NotFound(SmsgwError):
    status_code = 404


class Conflict(SmsgwError):
    status_code = 409


class LimitReached(Conflict):
    """An account limit (e.g. active schedules) would be exceeded: 409 naming the field to change."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PreconditionFailed(SmsgwError):
    status_code = 412

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class RateLimited(SmsgwError):
    status_code = 429

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(SmsgwError):
    status_code = 503

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InsufficientBalance(SmsgwError):
    """Reported Vonage-style (status "9") inside a 200, as the carrier API would."""

    status_code = 200


class ErrorResponse(BaseModel):
    """The JSON body of every error answer (except Nexmo's and Vonage's own shapes), for OpenAPI."""

    status: int
    error: str = Field(description="What went wrong and what to do about it")
    field: str | None = Field(default=None, description="The request field at fault, when there is one")
