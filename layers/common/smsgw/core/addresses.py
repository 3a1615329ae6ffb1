"""Recipient (`to`) and sender (`from`) addresses, normalised to what the carrier accepts.

Vonage wants both in international format without ``+`` or ``00`` (`contracts/vonage-sms.md`
§1, `kpn.md` A.3). The rules we apply:

`to` (`parse_destination`)
    * Surrounding whitespace is ignored and one leading ``+`` is dropped (``+447700900000`` and
      ``447700900000`` are the same number).
    * A leading ``00`` is refused rather than stripped: it is a dialling prefix, not part of the
      number, and the carrier would refuse it too; the error says to drop it. Any other leading
      ``0`` (a national number) is refused as well: add the country code.
    * Then ``[0-9]{7,15}`` (ASCII digits only; no spaces, dashes or brackets).
    * `phonenumbers` must know the country calling code and find the length possible for that
      country (`is_possible_number`). We do **not** require `is_valid_number`: it rejects the
      ranges reserved for tests and fiction, e.g. Ofcom's 447700900000 to 447700900999 (the
      contract's own example) and NANP 555-01xx, and the ranges carriers add before the
      metadata catches up. The carrier decides routability (status 6) for such numbers.
    * `country` is the ISO 3166-1 alpha-2 region: `region_code_for_number` when the number is
      valid, otherwise the main region of its calling code (44 → GB, 1 → US, 7 → RU).
    * Non-geographic calling codes (+800, +808, +870, +881 to +883, +888, +979) are refused: they
      have no country, and smsgw prices and routes by country.
    * Missing → status "2"; every other failure → status "34" (Invalid or Missing Msisdn).

`from` (`validate_sender`)
    * Spaces are removed (Vonage ignores them in alphanumeric senders): ``"Acme Inc"`` is sent as
      ``AcmeInc``.
    * With at least one letter it is alphanumeric: 1 to 11 of ``[A-Za-z0-9]``.
    * Otherwise numeric: an optional leading ``+`` (dropped) and 1 to 15 ASCII digits, in
      international format: a leading ``00`` or ``0`` is refused.
    * Missing → status "2"; anything else invalid → status "15" (Invalid Sender Address).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import phonenumbers
from phonenumbers import NumberParseException, ValidationResult

from smsgw.core.errors import INVALID_MSISDN, INVALID_SENDER, MISSING_PARAMETER, InvalidField

EXAMPLE_MSISDN: Final = "447700900000"
MAX_ALPHANUMERIC_SENDER: Final = 11
MAX_NUMERIC_SENDER: Final = 15

_DIGITS = re.compile(r"[0-9]+")
_ALPHANUMERIC = re.compile(r"[A-Za-z0-9]+")
_MSISDN = re.compile(r"[0-9]{7,15}")

_LENGTH_PROBLEMS: Final = {
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "is too short (the area code is missing)",
    ValidationResult.TOO_SHORT: "is too short",
    ValidationResult.TOO_LONG: "is too long",
}


@dataclass(frozen=True, slots=True)
class Destination:
    """A recipient: `msisdn` is E.164 digits without '+', `country` its ISO 3166-1 alpha-2 code."""

    msisdn: str
    country: str


def parse_destination(to: str) -> Destination:
    """Normalise and check the `to` parameter (see the module docstring)."""
    value = to.strip()
    if not value:
        raise InvalidField(
            "to",
            f"to is required: the recipient in international format, e.g. {EXAMPLE_MSISDN}",
            MISSING_PARAMETER,
        )
    digits = value.removeprefix("+")
    if not _DIGITS.fullmatch(digits):
        raise _bad_to(
            "to must contain only digits (international format, optionally with a leading '+'): "
            "remove spaces, dashes, brackets and letters"
        )
    if digits.startswith("00"):
        raise _bad_to("to must not start with the dialling prefix 00: drop it and keep the country code")
    if digits.startswith("0"):
        raise _bad_to("to looks like a national number (leading 0): use the country code instead of the 0")
    if not _MSISDN.fullmatch(digits):
        raise _bad_to(f"to has {len(digits)} digits; a number in international format has 7 to 15")
    try:
        number = phonenumbers.parse("+" + digits)
    except NumberParseException as exc:
        raise _bad_to("to does not start with a known country calling code") from exc
    calling_code = number.country_code or 0
    region = phonenumbers.region_code_for_country_code(calling_code)
    if region in (phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY, phonenumbers.UNKNOWN_REGION):
        raise _bad_to(
            f"to is a non-geographic number (+{calling_code}): smsgw sends to numbers of a country only"
        )
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != ValidationResult.IS_POSSIBLE:
        problem = _LENGTH_PROBLEMS.get(reason, "has an impossible length")
        raise _bad_to(f"to {problem} for a +{calling_code} ({region}) number: check the digits")
    if phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_number(number) or region
    return Destination(msisdn=digits, country=region)


def validate_sender(sender: str) -> str:
    """Normalise and check the `from` parameter; returns what to send (see the module docstring)."""
    value = sender.replace(" ", "")
    if not value:
        raise InvalidField(
            "from",
            "from is required: an alphanumeric sender ID (up to 11 letters and digits) "
            "or a number in international format",
            MISSING_PARAMETER,
        )
    if value.startswith("+") or _DIGITS.fullmatch(value):
        return _numeric_sender(value.removeprefix("+"))
    if not _ALPHANUMERIC.fullmatch(value):
        bad = next(c for c in value if not _ALPHANUMERIC.fullmatch(c))
        raise InvalidField(
            "from",
            f"from may contain only the letters A-Z, a-z and digits 0-9 (found {bad!r}); "
            "a numeric sender may start with '+'",
            INVALID_SENDER,
        )
    if len(value) > MAX_ALPHANUMERIC_SENDER:
        raise InvalidField(
            "from",
            f"from is {len(value)} characters; an alphanumeric sender ID has at most "
            f"{MAX_ALPHANUMERIC_SENDER}: shorten it",
            INVALID_SENDER,
        )
    return value


def _numeric_sender(digits: str) -> str:
    if not _DIGITS.fullmatch(digits):
        raise InvalidField(
            "from",
            "from starts with '+' so it must be a number: only digits may follow the '+'",
            INVALID_SENDER,
        )
    if digits.startswith("0"):
        problem = "the dialling prefix 00" if digits.startswith("00") else "a national number (leading 0)"
        raise InvalidField(
            "from",
            f"from is {problem}: a numeric sender is in international format, starting with the country code",
            INVALID_SENDER,
        )
    if len(digits) > MAX_NUMERIC_SENDER:
        raise InvalidField(
            "from",
            f"from has {len(digits)} digits; a numeric sender has at most {MAX_NUMERIC_SENDER}",
            INVALID_SENDER,
        )
    return digits


def _bad_to(message: str) -> InvalidField:
    return InvalidField("to", message, INVALID_MSISDN)
