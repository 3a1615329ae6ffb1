"""The Vonage SMS API's wire protocol (contract §1, §2, §5, §6): status codes and failures,
parameters, signatures, authentication, validation, part splitting and the answer body."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

# --- status codes (contract §2) ---------------------------------------------------------------------------

STATUS_TEXT = {
    "1": "Throttled",
    "2": "Missing Parameters",
    "3": "Invalid Parameters",
    "4": "Bad Credentials",
    "5": "Internal Error",
    "6": "Invalid Message",
    "7": "Number Barred",
    "8": "Partner Account Barred",
    "9": "Partner Quota Violation",
    "10": "Too Many Existing Binds",
    "11": "Account Not Enabled For HTTP",
    "12": "Message Too Long",
    "13": "Communication Failed",
    "14": "Invalid Signature",
    "15": "Invalid Sender Address",
    "16": "Invalid TTL",
    "17": "Message Blocked by Provider",
    "19": "Facility Not Allowed",
    "20": "Invalid Message Class",
    "22": "Invalid Network Code",
    "23": "Invalid Callback Url",
    "29": "Non-Whitelisted Destination",
    "32": "Signature And API Secret Disallowed",
    "33": "Number De-activated",
    "34": "Invalid or Missing Msisdn Param",
}
THROTTLED = "1"
MISSING = "2"
INVALID = "3"
BAD_CREDENTIALS = "4"
TOO_LONG = "12"
BAD_SIGNATURE = "14"
SIGNATURE_AND_SECRET = "32"
AUTH_STATUSES = frozenset({BAD_CREDENTIALS, BAD_SIGNATURE, SIGNATURE_AND_SECRET})


class SmsFailure(Exception):
    """A per-message error, answered as Vonage does: HTTP 200 with a non-zero `status` element."""

    def __init__(self, status: str, error_text: str | None = None) -> None:
        self.status = status
        self.error_text = error_text or STATUS_TEXT.get(status, "Error")
        super().__init__(f"status {status}: {self.error_text}")

    def response(self, to: str | None = None) -> dict[str, object]:
        """The body; `to` is echoed for message-level outcomes (throttled, rejected), not request errors."""
        element = {"status": self.status, "error-text": self.error_text}
        if to:
            element["to"] = to
        return {"message-count": "1", "messages": [element]}


class MalformedRequest(ValueError):
    """The body cannot be read at all (bad JSON, not an object, not UTF-8): answered with HTTP 400."""


# --- parameters (§1) --------------------------------------------------------------------------------------


def wire_string(value: object) -> str | None:
    """JSON bodies may carry numbers and booleans; on the wire every value is a string."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def parse_json_object(text: str) -> dict[str, Any]:
    """A JSON object body (empty = `{}`); anything else raises `MalformedRequest`."""
    if not text.strip():
        return {}
    try:
        decoded = json.loads(text)
    except ValueError as exc:
        raise MalformedRequest(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(decoded, dict):
        raise MalformedRequest("the JSON body must be an object")
    return decoded


def parse_params(query: str, body: bytes, content_type: str | None) -> dict[str, str]:
    """Query string and body (form-encoded or JSON) merged into one `name -> string` map, body first.

    A repeated name keeps its first value.
    """
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(name, value)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRequest("the body is not UTF-8") from exc
    from_body: dict[str, str] = {}
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        for name, raw in parse_json_object(text).items():
            string_value = wire_string(raw)
            if string_value is not None:
                from_body[name] = string_value
    else:
        for name, value in parse_qsl(text, keep_blank_values=True):
            from_body.setdefault(name, value)
    params.update(from_body)
    return params


# --- signatures (§5) --------------------------------------------------------------------------------------

SIGNATURE_METHODS = ("md5hash", "md5", "sha1", "sha256", "sha512")
SIGNATURE_MAX_SKEW_SECONDS = 300


def signature_base(params: Mapping[str, str]) -> str:
    """`&k1=v1&k2=v2…`, keys sorted, `sig` left out, `&` and `=` in values replaced by `_`."""
    return "".join(
        f"&{key}={params[key].replace('&', '_').replace('=', '_')}" for key in sorted(params) if key != "sig"
    )


def sign(params: Mapping[str, str], secret: str, method: str) -> str:
    """Lower-case hex `sig` over `params` (which must already hold `timestamp`).

    `md5hash` is md5(base + secret); `md5`/`sha1`/`sha256`/`sha512` are HMACs keyed by the secret
    (the official SDK's "md5" is HMAC-MD5).
    """
    base = signature_base(params)
    if method == "md5hash":
        return hashlib.md5((base + secret).encode("utf-8"), usedforsecurity=False).hexdigest()
    if method not in SIGNATURE_METHODS:
        raise ValueError(f"unknown signature method {method!r}; use one of {', '.join(SIGNATURE_METHODS)}")
    return hmac.new(secret.encode("utf-8"), base.encode("utf-8"), method).hexdigest()


def check_signature(params: Mapping[str, str], secret: str, method: str) -> bool:
    """Whether `params["sig"]` signs the other params; compared case-insensitively, in constant time."""
    expected = sign(params, secret, method)
    return hmac.compare_digest(params.get("sig", "").lower().encode(), expected.encode())


# --- authentication (§1) ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiCredentials:
    """The account the simulator accepts. With no `api_key` it is open: any credentials pass."""

    api_key: str | None = None
    api_secret: str | None = None
    signature_secret: str | None = None
    signature_method: str = "md5"


def credentials_match(given: str | None, expected: str | None) -> bool:
    """Constant-time equality; nothing matches a missing value."""
    return (
        given is not None and expected is not None and hmac.compare_digest(given.encode(), expected.encode())
    )


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """`Authorization: Basic base64(key:secret)` → (key, secret); a malformed one → ("", "")."""
    if not authorization or authorization[:6].lower() != "basic ":
        return None
    try:
        key, _, secret = base64.b64decode(authorization[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    return (key, secret)


def authenticate(
    params: Mapping[str, str], authorization: str | None, credentials: ApiCredentials, now: float
) -> str:
    """Check a `/sms/json` request's credentials; return how: `secret`, `basic` or `signature`.

    Raises `SmsFailure`: status 2 (no api_key/api_secret), 4 (bad credentials), 14 (bad, missing or
    stale signature — `timestamp` must be within 5 minutes of `now`), 32 (a signature *and* a secret).
    """
    basic = basic_credentials(authorization)
    if "sig" in params:
        if "api_secret" in params or basic is not None:
            raise SmsFailure(SIGNATURE_AND_SECRET)
        if not params.get("api_key"):
            raise SmsFailure(MISSING, "Missing api_key")
        if credentials.api_key is None:
            return "signature"
        if not credentials_match(params["api_key"], credentials.api_key):
            raise SmsFailure(BAD_CREDENTIALS)
        if not (
            credentials.signature_secret
            and _fresh(params.get("timestamp"), now)
            and check_signature(params, credentials.signature_secret, credentials.signature_method)
        ):
            raise SmsFailure(BAD_SIGNATURE)
        return "signature"
    if basic is not None:
        (key, secret), mode = basic, "basic"
    else:
        key, secret, mode = params.get("api_key", ""), params.get("api_secret", ""), "secret"
        if not key:
            raise SmsFailure(MISSING, "Missing api_key")
        if not secret:
            raise SmsFailure(MISSING, "Missing api_secret")
    if credentials.api_key is None:
        return mode
    if not (
        credentials_match(key, credentials.api_key) and credentials_match(secret, credentials.api_secret)
    ):
        raise SmsFailure(BAD_CREDENTIALS)
    return mode


def _fresh(timestamp: str | None, now: float) -> bool:
    try:
        return abs(now - int(timestamp or "")) <= SIGNATURE_MAX_SKEW_SECONDS
    except ValueError:
        return False


# --- validation and parts (§1, §6) ------------------------------------------------------------------------

MESSAGE_TYPES = ("text", "unicode", "binary")
MAX_TEXT_CHARS = 3200
MAX_BINARY_OCTETS = 140
TO_PATTERN = re.compile(r"\d{7,15}")
HEX_PATTERN = re.compile(r"(?:[0-9A-Fa-f]{2})*")


def validate_submission(params: Mapping[str, str]) -> None:
    """Raise `SmsFailure` 2 (missing `from`/`to`/`text`/`body`), 3 (bad `to`/`type`/hex) or 12 (too long)."""
    kind = params.get("type") or "text"
    required = ("from", "to", "body" if kind == "binary" else "text")
    for name in required:
        if not params.get(name):
            raise SmsFailure(MISSING, f"Missing {name} param")
    if not TO_PATTERN.fullmatch(params["to"]):
        raise SmsFailure(INVALID, "Invalid to param")
    if kind not in MESSAGE_TYPES:
        raise SmsFailure(INVALID, "Invalid type param")
    if kind == "binary":
        for name in ("udh", "body"):
            if not HEX_PATTERN.fullmatch(params.get(name, "")):
                raise SmsFailure(INVALID, f"Invalid {name} param")
        if (len(params.get("udh", "")) + len(params["body"])) // 2 > MAX_BINARY_OCTETS:
            raise SmsFailure(TOO_LONG, "Message too long")
    elif len(params["text"]) > MAX_TEXT_CHARS:
        raise SmsFailure(TOO_LONG, "Message too long")


GSM_EXTENSION = frozenset("|^€{}[]~\\\f")
PART_LIMITS = {"text": (160, 153), "unicode": (70, 67)}  # (single message, each part of a long one)


def _units(char: str, kind: str) -> int:
    """Septets (GSM-7: extension characters take an escape too) or UTF-16 code units (UCS-2)."""
    if kind == "unicode":
        return len(char.encode("utf-16-le")) // 2
    return 2 if char in GSM_EXTENSION else 1


def split_text(text: str, kind: str = "text") -> list[str]:
    """Split `text` as the carrier does; a character (escape pair, surrogate pair) is never cut in two."""
    single, per_part = PART_LIMITS[kind]
    if sum(_units(char, kind) for char in text) <= single:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for char in text:
        units = _units(char, kind)
        if used + units > per_part:
            parts.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += units
    parts.append("".join(current))
    return parts


def count_parts(params: Mapping[str, str]) -> int:
    """How many SMS a validated submission becomes (binary: always one)."""
    kind = params.get("type") or "text"
    if kind == "binary":
        return 1
    return len(split_text(params["text"], kind))


def success_response(elements: list[dict[str, str]]) -> dict[str, object]:
    return {"message-count": str(len(elements)), "messages": elements}
