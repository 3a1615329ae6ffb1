"""Validation of the Phone Numbers API parameters (`contracts/kpn.md` A.10, `vonage-sms.md` §7).

Every function takes the wire value (a string, or None when absent) and returns the normalised
value, or raises `NumbersApiError` 400 naming the parameter (`errors.invalid`). The rules:

- `country`: ISO 3166-1 alpha-2, any case (stored upper-case), a region `phonenumbers` knows.
- `msisdn`: the E.164 rules of `core.addresses.parse_destination` (digits, optional leading
  ``+``, 7–15 digits, a known calling code, a possible length), and a number *of* `country`
  (its calling code is the country's).
- `pattern`: 1–15 digits. `search_pattern`: 0 starts with (default), 1 contains, 2 ends with.
- `size`: 1–100 (default 10). `index`: the page, 1–100000 (default 1).
- `type`: landline | landline-toll-free | mobile-lvn. `features`: a comma-separated set of SMS,
  VOICE and MMS (any case, stored upper-case, duplicates refused).
- `moHttpUrl`: `urlsafety.check_callback_url` (https, a public address; plain http only for the
  operator's allow-listed hosts), at most `MAX_URL_LENGTH` characters.
- `voiceCallbackType`: sip | tel | app; `voiceCallbackValue`: 1–255 printable characters;
  `voiceStatusCallback`: an absolute http(s) URL (smsgw never calls it: it handles no voice);
  `moSmppSysType`: 1–32 of ``[A-Za-z0-9_-]``; `app_id`: a UUID (Vonage application ids are).
- `has_application`: true | false; `application_id`: a UUID.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterable, Mapping
from typing import Final
from urllib.parse import urlsplit

import phonenumbers

from smsgw.core.addresses import parse_destination
from smsgw.core.errors import InvalidField
from smsgw.numbers.errors import invalid
from smsgw.urlsafety import Resolver, check_callback_url

NUMBER_TYPES: Final = ("landline", "landline-toll-free", "mobile-lvn")
FEATURES: Final = ("SMS", "VOICE", "MMS")
VOICE_CALLBACK_TYPES: Final = ("sip", "tel", "app")
SEARCH_PATTERNS: Final = {"0": 0, "1": 1, "2": 2}
DEFAULT_SIZE: Final = 10
MAX_SIZE: Final = 100
MAX_INDEX: Final = 100_000
MAX_URL_LENGTH: Final = 2048
EXAMPLE_NUMBER: Final = "447700900001"
# Vonage's own authentication parameters: accepted (clients and SDKs send them) and ignored.
VONAGE_AUTH_PARAMS: Final = frozenset({"api_key", "api_secret"})

_DIGITS = re.compile(r"[0-9]{1,15}")
_SMPP_SYSTEM_TYPE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def refuse_unknown(params: Mapping[str, object], allowed: Collection[str]) -> None:
    """A misspelt parameter (`searchPattern` for `search_pattern`) is refused, not silently ignored."""
    unknown = sorted(set(params) - set(allowed) - VONAGE_AUTH_PARAMS)
    if unknown:
        raise invalid(
            unknown[0],
            f"unknown parameter {unknown[0]!r}: this route takes {', '.join(sorted(allowed))}",
        )


def _present(value: str | None) -> str | None:
    """None for an absent parameter; surrounding whitespace removed otherwise."""
    return None if value is None else value.strip()


def country(value: str | None) -> str:
    text = _present(value)
    if not text:
        raise invalid("country", "Missing parameter country: the ISO 3166-1 alpha-2 code, e.g. GB")
    code = text.upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise invalid("country", f"country {text!r} is not a two-letter ISO 3166-1 code such as GB or NL")
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise invalid("country", f"country {code} is not a known ISO 3166-1 country code")
    return code


def msisdn(value: str | None, country_code: str) -> str:
    """The number in E.164 digits; it must belong to `country_code` (already validated)."""
    text = _present(value)
    if not text:
        raise invalid(
            "msisdn", f"Missing parameter msisdn: the number in international format, e.g. {EXAMPLE_NUMBER}"
        )
    try:
        number = parse_destination(text).msisdn
    except InvalidField as error:  # its messages all start with "to "
        raise invalid("msisdn", "msisdn" + error.message.removeprefix("to")) from None
    calling_code = phonenumbers.parse("+" + number).country_code
    if phonenumbers.country_code_for_region(country_code) != calling_code:
        raise invalid(
            "msisdn",
            f"msisdn {number} is not a number of {country_code} (+{calling_code}): "
            f"send the country the number belongs to",
        )
    return number


def pattern(value: str | None) -> str | None:
    text = _present(value)
    if not text:
        return None
    if not _DIGITS.fullmatch(text):
        raise invalid("pattern", f"pattern {text!r} must be 1 to 15 digits (part of a number, without '+')")
    return text


def search_pattern(value: str | None) -> int:
    text = _present(value)
    if not text:
        return 0
    if text not in SEARCH_PATTERNS:
        raise invalid(
            "search_pattern",
            f"search_pattern must be 0 (starts with), 1 (contains) or 2 (ends with), not {text!r}",
        )
    return SEARCH_PATTERNS[text]


def _bounded_int(field: str, value: str | None, default: int, high: int) -> int:
    text = _present(value)
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > len(str(high)) or not 1 <= int(text) <= high:
        raise invalid(field, f"{field} must be a whole number from 1 to {high}, not {text!r}")
    return int(text)


def size(value: str | None) -> int:
    return _bounded_int("size", value, DEFAULT_SIZE, MAX_SIZE)


def index(value: str | None) -> int:
    return _bounded_int("index", value, 1, MAX_INDEX)


def number_type(value: str | None) -> str | None:
    text = _present(value)
    if not text:
        return None
    if text not in NUMBER_TYPES:
        raise invalid("type", f"type must be one of {', '.join(NUMBER_TYPES)}, not {text!r}")
    return text


def features(value: str | None) -> str | None:
    text = _present(value)
    if not text:
        return None
    names = [name.strip().upper() for name in text.split(",")]
    unknown = [name for name in names if name not in FEATURES]
    if unknown:
        raise invalid(
            "features",
            f"features is a comma-separated list of {', '.join(FEATURES)}; {unknown[0]!r} is not one",
        )
    if len(set(names)) != len(names):
        raise invalid("features", f"features names a feature twice: {text!r}")
    return ",".join(names)


def callback_url(
    value: str,
    field: str,
    allow_http_hosts: Iterable[str],
    resolve: Resolver | None = None,
) -> str:
    """A URL the gateway will call (inbound SMS): SSRF-safe, as the send `callback` is."""
    try:
        return check_callback_url(
            value,
            field=field,
            max_length=MAX_URL_LENGTH,
            allow_http_hosts=tuple(allow_http_hosts),
            resolve=resolve,
        )
    except InvalidField as error:
        raise invalid(field, error.message) from None


def voice_callback_type(value: str) -> str:
    if value not in VOICE_CALLBACK_TYPES:
        raise invalid(
            "voiceCallbackType",
            f"voiceCallbackType must be one of {', '.join(VOICE_CALLBACK_TYPES)}, not {value!r}",
        )
    return value


def voice_callback_value(value: str) -> str:
    if len(value) > 255 or not value.isprintable():
        raise invalid("voiceCallbackValue", "voiceCallbackValue must be at most 255 printable characters")
    return value


def voice_status_callback(value: str) -> str:
    parts = urlsplit(value)
    if (
        len(value) > MAX_URL_LENGTH
        or any(c.isspace() or not c.isprintable() for c in value)
        or parts.scheme.lower() not in ("http", "https")
        or not parts.netloc
    ):
        raise invalid(
            "voiceStatusCallback",
            f"voiceStatusCallback must be an absolute http(s) URL of at most {MAX_URL_LENGTH} characters",
        )
    return value


def smpp_system_type(value: str) -> str:
    if not _SMPP_SYSTEM_TYPE.fullmatch(value):
        raise invalid(
            "moSmppSysType", "moSmppSysType must be 1 to 32 letters, digits, '_' or '-', e.g. inbound"
        )
    return value


def application_id(value: str, field: str = "app_id") -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise invalid(field, f"{field} must be an application id (a UUID), not {value!r}") from None


def has_application(value: str | None) -> bool | None:
    text = _present(value)
    if not text:
        return None
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise invalid("has_application", f"has_application must be true or false, not {text!r}")
    return lowered == "true"
