"""The one error the send-path validators raise: a bad request parameter, named.

`InvalidField` is a `smsgw.errors.BadRequest` (so the central exception table answers 400 and
names the field) and a `ValueError` (so it reads naturally in pure code and tests).
`vonage_status` is the Vonage SMS API status for the per-message error element
(`contracts/vonage-sms.md` §2): "2" missing parameter, "3" invalid parameter, "12" message too
long, "15" invalid sender, "16" invalid TTL, "20" invalid message class, "23" invalid callback
URL, "34" invalid `to` (msisdn).
"""

from __future__ import annotations

from smsgw.errors import BadRequest

MISSING_PARAMETER = "2"
INVALID_PARAMETER = "3"
MESSAGE_TOO_LONG = "12"
INVALID_SENDER = "15"
INVALID_TTL = "16"
INVALID_MESSAGE_CLASS = "20"
INVALID_CALLBACK_URL = "23"
INVALID_MSISDN = "34"


class InvalidField(BadRequest, ValueError):
    """`field` is the wire name (`from`, `status-report-req`, ...); `message` says what to fix."""

    def __init__(self, field: str, message: str, vonage_status: str = INVALID_PARAMETER) -> None:
        super().__init__(message, field)
        self.field: str = field
        self.vonage_status = vonage_status

    def __repr__(self) -> str:
        return f"InvalidField({self.field!r}, {self.message!r}, vonage_status={self.vonage_status!r})"
