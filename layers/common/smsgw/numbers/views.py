"""What the Phone Numbers API answers and takes, pydantic-free (smsgw.core.views): the numbers function
starts without pydantic. smsgw.numbers.models keeps the documentation models of the request bodies and
of the answers built as dicts (tests/unit/test_numbers_fields.py keeps both alike)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from smsgw.core.views import WIRE_CONFIG, wire_field
from smsgw.core.wire import wire_fields

REGISTERED_MESSAGE = "Your callback url is registered."
CODE_SENT_MESSAGE = (
    "A 6-digit code was sent by SMS to {to}. Register again with the same to and callback_url plus "
    "code=<the code> within 10 minutes to confirm this phone is yours."
)


REGISTER_FIELDS = frozenset({"to", "callback_url", "code"})
NUMBER_FIELDS = frozenset({"country", "msisdn"})
UPDATE_FIELDS = NUMBER_FIELDS | {
    "moHttpUrl",
    "moSmppSysType",
    "voiceCallbackType",
    "voiceCallbackValue",
    "voiceStatusCallback",
    "app_id",
}


class NotAString(ValueError):
    """A documented field whose value is a list or an object (the body is malformed)."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field}: Input should be a valid string")
        self.field = field


def request_fields(body: Mapping[str, Any], documented: frozenset[str]) -> dict[str, str]:
    """Every parameter the client sent, by its wire name, as a string; nulls are left out. A
    `documented` one must be one string or number; any other is kept as text, to be refused by name."""
    fields: dict[str, str] = {}
    for key, value in wire_fields(body).items():  # form fields unwrapped, numbers and booleans as text
        if value is None:
            continue
        if isinstance(value, str):
            fields[key] = value
        elif key in documented:
            raise NotAString(key)
        else:
            fields[key] = json.dumps(value)
    return fields


@dataclass(frozen=True, kw_only=True)
class OwnedNumber:
    """A number the account bought through the gateway, as Vonage lists it."""

    __pydantic_config__: ClassVar = WIRE_CONFIG

    country: str
    msisdn: str
    moHttpUrl: str | None = None
    type: str | None = wire_field("landline | landline-toll-free | mobile-lvn", default=None)
    features: list[str] = wire_field(default_factory=list)
    voiceCallbackType: str | None = None
    voiceCallbackValue: str | None = None
    voiceStatusCallback: str | None = None
    moSmppSysType: str | None = None
    app_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class OwnedNumbers:
    __pydantic_config__: ClassVar = WIRE_CONFIG

    count: int = wire_field("How many of the account's numbers match, on all pages")
    numbers: list[OwnedNumber]


def available_numbers(count: int, numbers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """`number/search`'s answer: the carrier's numbers as it lists them (documented by AvailableNumbers)."""
    return {
        "count": count,
        "numbers": [{key: value for key, value in number.items() if value is not None} for number in numbers],
    }


def success() -> dict[str, Any]:
    return {"error-code": "200", "error-code-label": "success"}
