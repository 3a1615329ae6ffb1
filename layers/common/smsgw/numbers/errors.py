"""Errors of the Phone Numbers API, answered in Vonage's shape by the numbers router:

    {"error-code": "404", "error-code-label": "number not found", "field": "msisdn"}

`error-code` is the HTTP status, or the carrier's own code when it refused (e.g. "420");
`field` (ours, not Vonage's) names the request parameter at fault, when there is one.
"""

from __future__ import annotations

from typing import Any

from smsgw.core.errors import SmsgwError


class NumbersApiError(SmsgwError):
    def __init__(
        self,
        status_code: int,
        label: str,
        *,
        error_code: str | None = None,
        field: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(label)
        self.status_code = status_code
        self.error_code = error_code or str(status_code)
        self.field = field
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error-code": self.error_code, "error-code-label": self.message}
        if self.field:
            body["field"] = self.field
        return body


def invalid(field: str, label: str) -> NumbersApiError:
    """Bad input: 400 naming the parameter."""
    return NumbersApiError(400, label, field=field)


def not_found(msisdn: str) -> NumbersApiError:
    """The number is not one this account bought through the gateway (never says whose it is)."""
    return NumbersApiError(
        404,
        f"number not found: {msisdn} is not a number this account owns; buy it first "
        "(POST number/buy) or list yours (GET account/numbers)",
        field="msisdn",
    )


def not_available(msisdn: str) -> NumbersApiError:
    """Buying a number the gateway already gave another account: what the carrier answers for a
    number that is not for sale (420), without asking it and without saying whose it is."""
    return NumbersApiError(
        420,
        f"Action failed: {msisdn} is not available; search for another (GET number/search)",
        field="msisdn",
    )
