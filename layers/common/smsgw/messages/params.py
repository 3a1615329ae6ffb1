"""Validate a whole send request: `validate_send(raw) -> ValidatedSend` or the first InvalidField.

The parameters are Vonage's (`contracts/vonage-sms.md` §1, `kpn.md` A.3), by their wire names.
Plain functions, not a pydantic model: every field needs its own Vonage status code and its own
"what to fix" message, the accepted spellings are narrower than pydantic's lax coercions
(`status-report-req` takes true/false/1/0, not yes/on), and checks run in a fixed order so the
first error is the useful one. The route's pydantic `SendRequest` (models.py) documents the
body for OpenAPI and hands us its `wire_fields()`.

Rules
    * An empty value (``client-ref=``) or JSON ``null`` counts as absent. JSON booleans become
      ``true``/``false`` and integers their digits; lists and objects are refused.
    * Unknown names are refused, naming the field and suggesting the closest known one
      (``client_ref`` -> ``client-ref``): a typo must not be silently dropped. `api_key`,
      `api_secret`, `sig`, `timestamp` and `nonce` are authentication, checked elsewhere, and
      are ignored here. Fields of types smsgw does not send (`title`, `url`, `vcard`, `vcal`)
      and `trusted-number`/`pool-id` (settings of the operator's carrier account, not a
      tenant's) are refused with a reason.
    * Checks run in this order: field names, `from`, `to`, `type`, the content, then the
      advanced keys in `ADVANCED_PARAMS` order.
    * `type`: text (default) | unicode | binary, case-insensitive; wappush, vcal and vcard are
      refused as unsupported.
    * text/unicode: `text` is required (status 2), `udh` and `body` are refused. binary: `body`
      is required, `udh` optional, and `text` is **ignored** (the official Python SDK requires
      a `text` even for binary messages).
    * Advanced keys, normalised to their wire strings:
      `ttl` ms 20000-604800000 (status 16); `status-report-req` true/false/1/0 -> "true"/"false";
      `callback` SSRF-checked URL, max 100 (status 23); `message-class` 0-3 (status 20);
      `protocol-id` 0-255; `validity` ms 1-604800000 (a wappush field in Vonage's spec,
      forwarded as given); `client-ref` and `account-ref` up to 100 characters (Vonage's current
      limit; KPN's page still says 40 for client-ref), `entity-id` and `content-id` (India DLT
      ids, 19 digits) up to 50; all printable. No defaults are filled in: absent stays absent.
    * `params` holds the advanced keys given, plus `udh`/`body` for binary; `type`, `text`,
      `from` and `to` are fields of their own. `callback` is the client's receipt URL: the
      dispatcher gives the carrier the gateway's own DLR URL, not this one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from smsgw.accounts.vonage_auth import AUTH_FIELDS
from smsgw.core.addresses import Destination, parse_destination, validate_sender
from smsgw.core.errors import INVALID_MESSAGE_CLASS, INVALID_PARAMETER, INVALID_TTL, InvalidField
from smsgw.core.wire import single_string
from smsgw.messages.encoding import MAX_PARTS, Segmentation, validate_binary, validate_text
from smsgw.urlsafety import check_callback_url

MessageType = Literal["text", "unicode", "binary"]
UrlCheck = Callable[[str], str]

MESSAGE_TYPES: Final[tuple[MessageType, ...]] = ("text", "unicode", "binary")
UNSUPPORTED_TYPES: Final = ("wappush", "vcal", "vcard")
UNSUPPORTED_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "title": "a wappush field, and smsgw does not send type=wappush",
        "url": "a wappush field, and smsgw does not send type=wappush",
        "vcard": "for type=vcard, which smsgw does not send",
        "vcal": "for type=vcal, which smsgw does not send",
        "trusted-number": "a setting of the operator's carrier account (fraud protection)",
        "pool-id": "a setting of the operator's carrier account (number pools)",
    }
)

TTL_MIN_MS: Final = 20_000
TTL_MAX_MS: Final = 604_800_000
CLIENT_REF_MAX: Final = 100
ACCOUNT_REF_MAX: Final = 100
DLT_ID_MAX: Final = 50

_DIGITS = re.compile(r"[0-9]{1,15}")
_BOOLEANS: Final = {"true": "true", "1": "true", "false": "false", "0": "false"}


@dataclass(frozen=True, slots=True)
class ValidatedSend:
    """A send request, checked and normalised. `text` is None for binary; `params` is read-only."""

    sender: str
    destination: Destination
    type: MessageType
    text: str | None
    segmentation: Segmentation
    params: Mapping[str, str]

    @property
    def udh(self) -> str | None:
        return self.params.get("udh")

    @property
    def body(self) -> str | None:
        return self.params.get("body")


def validate_send(
    raw: Mapping[str, object], *, check_url: UrlCheck | None = None, max_parts: int = MAX_PARTS
) -> ValidatedSend:
    """Check every parameter of a send and normalise it; raises the first InvalidField.

    `check_url` validates `callback` (default: `check_callback_url` with its defaults, which
    resolves DNS; pass one with the operator's `allow_http_hosts`, or a fake in tests).
    """
    fields = _wire_fields(raw)
    sender = validate_sender(fields.get("from", ""))
    destination = parse_destination(fields.get("to", ""))
    message_type = parse_type(fields.get("type"))
    params: dict[str, str] = {}
    text: str | None = None
    if message_type == "binary":
        segmentation = validate_binary(fields.get("udh"), fields.get("body"))
        params.update((key, fields[key]) for key in ("udh", "body") if key in fields)
    else:
        for key in ("udh", "body"):
            if key in fields:
                raise InvalidField(key, f"{key} is only used with type=binary: remove it or set type=binary")
        text = fields.get("text")
        segmentation = validate_text(text, message_type, max_parts=max_parts)
    checks = ADVANCED_PARAMS if check_url is None else {**ADVANCED_PARAMS, "callback": check_url}
    params.update((key, check(fields[key])) for key, check in checks.items() if key in fields)
    return ValidatedSend(
        sender=sender,
        destination=destination,
        type=message_type,
        text=text,
        segmentation=segmentation,
        params=MappingProxyType(params),
    )


def parse_type(value: str | None) -> MessageType:
    """`type`: text (the default when absent), unicode or binary."""
    if value is None:
        return "text"
    lowered = value.lower()
    for message_type in MESSAGE_TYPES:
        if lowered == message_type:
            return message_type
    if lowered in UNSUPPORTED_TYPES:
        raise InvalidField("type", f"type={lowered} is not supported by smsgw: use text, unicode or binary")
    raise InvalidField("type", f"type must be text, unicode or binary (got {value[:20]!r})")


def validate_ttl(value: str) -> str:
    """`ttl`: milliseconds the carrier keeps trying, 20000-604800000 (status 16)."""
    return _integer("ttl", value, TTL_MIN_MS, TTL_MAX_MS, INVALID_TTL, unit=" milliseconds")


def boolean(field: str, value: str) -> str:
    """true/false/1/0 in any case, normalised to "true"/"false"."""
    try:
        return _BOOLEANS[value.lower()]
    except KeyError:
        raise InvalidField(field, f"{field} must be true or false (or 1 or 0)") from None


def validate_status_report_req(value: str) -> str:
    """`status-report-req`: a boolean."""
    return boolean("status-report-req", value)


def validate_message_class(value: str) -> str:
    """`message-class`: 0-3 (status 20)."""
    return _integer("message-class", value, 0, 3, INVALID_MESSAGE_CLASS)


def validate_protocol_id(value: str) -> str:
    """`protocol-id`: the TP-PID octet, 0-255."""
    return _integer("protocol-id", value, 0, 255)


def validate_validity(value: str) -> str:
    """`validity`: milliseconds, 1-604800000."""
    return _integer("validity", value, 1, TTL_MAX_MS, unit=" milliseconds")


def _reference(field: str, limit: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if len(value) > limit:
            raise InvalidField(field, f"{field} is {len(value)} characters; the maximum is {limit}")
        if not value.isprintable():
            raise InvalidField(field, f"{field} must not contain control characters or line breaks")
        return value

    return check


ADVANCED_PARAMS: Final[Mapping[str, Callable[[str], str]]] = MappingProxyType(
    {
        "ttl": validate_ttl,
        "status-report-req": validate_status_report_req,
        "callback": check_callback_url,
        "message-class": validate_message_class,
        "protocol-id": validate_protocol_id,
        "validity": validate_validity,
        "client-ref": _reference("client-ref", CLIENT_REF_MAX),
        "account-ref": _reference("account-ref", ACCOUNT_REF_MAX),
        "entity-id": _reference("entity-id", DLT_ID_MAX),
        "content-id": _reference("content-id", DLT_ID_MAX),
    }
)
KNOWN_FIELDS: Final = frozenset({"from", "to", "text", "type", "udh", "body", *ADVANCED_PARAMS})
# What a client may send besides: the send path takes these out before validating the message.
SEND_OPTIONS: Final = ("send-at", "send_at", "urgent")


def _wire_fields(raw: Mapping[str, object]) -> dict[str, str]:
    """The message parameters as strings, absent ones dropped; refuses unknown names."""
    fields: dict[str, str] = {}
    for key, value in raw.items():
        if key in AUTH_FIELDS:
            continue
        if key in UNSUPPORTED_FIELDS:
            raise InvalidField(key, f"{key} is not supported: it is {UNSUPPORTED_FIELDS[key]}")
        if key not in KNOWN_FIELDS:
            raise InvalidField(key, _unknown(key))
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int | float):
            value = str(value)
        if value is None or value == "":
            continue
        fields[key] = single_string(key, value)
    return fields


def _unknown(key: str) -> str:
    message = f"unknown parameter {key[:40]!r}"
    known = sorted({*KNOWN_FIELDS, *SEND_OPTIONS})
    close = difflib.get_close_matches(key.lower().replace("_", "-"), known, n=1, cutoff=0.75)
    if close:
        return f"{message}: did you mean {close[0]!r}?"
    return f"{message}: remove it (known parameters: {', '.join(known)})"


def _integer(
    field: str, value: str, low: int, high: int, status: str = INVALID_PARAMETER, *, unit: str = ""
) -> str:
    wanted = f"{field} must be a whole number from {low} to {high}{unit}"
    if not _DIGITS.fullmatch(value):
        raise InvalidField(field, f"{wanted} (got {value[:20]!r})", status)
    number = int(value)
    if not low <= number <= high:
        raise InvalidField(field, f"{wanted} (got {number})", status)
    return str(number)
