"""The carrier wire protocol as pure functions: no sockets, no clocks, no state.

Vonage SMS API (`contracts/vonage-sms.md`): parameters (§1), authentication and signatures (§1, §5),
validation, part splitting (§6), response bodies (§2), the delivery receipts (§3) and inbound
messages (§4) the carrier sends: their fields, their signature (§5), their encoding (GET, POST
form, POST JSON) and the retry backoff; the Numbers API (§7): a deterministic pool of numbers per
country, search filters, pages, owned-number listings and error bodies. KPN (`contracts/kpn.md`):
the OAuth token body (A.7) and the Apigee faults (A.8); its numbers wrapper (A.10) is the same.
The server (`simulator.server`) and the sender (`simulator.receipts`) own time, randomness and state:
every function here is given the time, nonce or choice it needs.

This is an independent implementation of the protocol (the gateway has its own), so the tests of
one check the other. Standard library only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

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


# --- KPN: OAuth token and Apigee faults (kpn.md A.7, A.8) --------------------------------------------------

INVALID_CLIENT = {"ErrorCode": "invalid_client", "Error": "ClientId is Invalid"}
INVALID_TOKEN = {
    "fault": {
        "faultstring": "Invalid Access Token",
        "detail": {"errorcode": "keymanagement.service.invalid_access_token"},
    }
}
EXPIRED_TOKEN = {
    "fault": {
        "faultstring": "Access Token expired",
        "detail": {"errorcode": "keymanagement.service.access_token_expired"},
    }
}
_TOKEN_ALPHABET = string.ascii_letters + string.digits


def unsupported_grant(grant_type: str | None) -> dict[str, str]:
    return {"ErrorCode": "unsupported_grant_type", "Error": f"Unsupported grant type : {grant_type or ''}"}


def bearer_token(authorization: str | None) -> str | None:
    if not authorization or authorization[:7].lower() != "bearer ":
        return None
    return authorization[7:].strip() or None


def new_access_token() -> str:
    """28 letters and digits, as Apigee mints them."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(28))


def token_response(
    access_token: str, client_id: str, lifetime_seconds: int, issued_at_ms: int
) -> dict[str, str]:
    """KPN's (Apigee's) client-credentials answer: every value a string, `issued_at` in ms."""
    return {
        "refresh_token_expires_in": "0",
        "api_product_list": "[SMS Nexmo]",
        "organization_name": "kpn",
        "developer_email": "developer@example.com",
        "token_type": "Bearer",
        "issued_at": str(issued_at_ms),
        "client_id": client_id,
        "access_token": access_token,
        "application_name": "smsgw-simulator",
        "level": "demo",
        "scope": "",
        "expires_in": str(lifetime_seconds),
        "refresh_token": "",
        "refresh_count": "0",
        "status": "approved",
    }


# --- delivery receipts (§3) and signed webhooks (§5) -------------------------------------------------------

DLR_INTERMEDIATE_STATUSES = ("accepted", "buffered")
DLR_FINAL_STATUSES = ("delivered", "expired", "failed", "rejected", "unknown")
DLR_STATUSES = DLR_INTERMEDIATE_STATUSES + DLR_FINAL_STATUSES
# The `err-code` a receipt carries for each status unless told otherwise (the codes are §3's table).
DLR_ERR_CODES = {
    "accepted": "0",
    "buffered": "0",
    "delivered": "0",  # Delivered
    "expired": "2",  # Absent Subscriber-Temporary: the handset stayed off until the validity ran out
    "failed": "8",  # Network Error
    "rejected": "6",  # Anti-Spam Rejection
    "unknown": "1",  # Unknown
}
DLR_METHODS = ("POST-JSON", "POST", "GET")
DLR_RETRY_STATUSES = frozenset({429})  # and every 5xx, and no answer at all (§3, Retries)


def wants_receipt(params: Mapping[str, str]) -> bool:
    """`status-report-req` defaults to true; "false" and "0" turn receipts off (§1)."""
    return params.get("status-report-req", "").strip().lower() not in ("false", "0")


def receipt_url(params: Mapping[str, str], default: str | None) -> str | None:
    """Where the receipts of a submission go: its `callback`, else the account's default URL."""
    return params.get("callback") or default or None


def scts(at: float) -> str:
    """The service-centre time stamp, `YYMMDDHHMM` in UTC."""
    return datetime.fromtimestamp(at, UTC).strftime("%y%m%d%H%M")


def message_timestamp(at: float) -> str:
    """`YYYY-MM-DD HH:MM:SS` in UTC."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")


def delivery_receipt(
    submission: Mapping[str, str],
    message_id: str,
    status: str,
    *,
    api_key: str,
    network: str,
    price: str,
    at: float,
    err_code: str | None = None,
) -> dict[str, str]:
    """The unsigned fields of one part's receipt, every value a string.

    `msisdn` is the recipient (the submission's `to`), `to` the sender (its `from`); `client-ref` is
    there only when the submission had one. `at` (unix seconds) gives `scts` and `message-timestamp`.
    """
    if status not in DLR_STATUSES:
        raise ValueError(f"unknown receipt status {status!r}; use one of {', '.join(DLR_STATUSES)}")
    fields = {
        "msisdn": submission.get("to", ""),
        "to": submission.get("from", ""),
        "network-code": network,
        "messageId": message_id,
        "price": price,
        "status": status,
        "err-code": DLR_ERR_CODES[status] if err_code is None else err_code,
        "api-key": api_key,
        "scts": scts(at),
        "message-timestamp": message_timestamp(at),
    }
    if submission.get("client-ref") is not None:
        fields["client-ref"] = submission["client-ref"]
    return fields


def delivery_receipts(
    submission: Mapping[str, str],
    message_ids: Sequence[str],
    statuses: Sequence[str],
    *,
    api_key: str,
    network: str,
    price: str,
    at: float,
) -> list[dict[str, str]]:
    """One receipt per part (the carrier reports each part of a long message on its own), in part order."""
    if len(statuses) != len(message_ids):
        raise ValueError(f"{len(message_ids)} parts but {len(statuses)} statuses")
    return [
        delivery_receipt(submission, message_id, status, api_key=api_key, network=network, price=price, at=at)
        for message_id, status in zip(message_ids, statuses, strict=True)
    ]


def sign_webhook(
    fields: Mapping[str, str], secret: str, method: str, timestamp: int, nonce: str
) -> dict[str, str]:
    """`fields` plus `timestamp`, `nonce` and a `sig` over all of them, as Vonage signs its webhooks (§5)."""
    signed = {name: value for name, value in fields.items() if name != "sig"}
    signed.update({"timestamp": str(timestamp), "nonce": nonce})
    signed["sig"] = sign(signed, secret, method)
    return signed


@dataclass(frozen=True)
class WebhookRequest:
    """An HTTP request ready to go: method, full URL, body (None for GET) and headers."""

    method: str
    url: str
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def webhook_request(url: str, fields: Mapping[str, str], encoding: str) -> WebhookRequest:
    """Encode a webhook's fields: `POST-JSON` (JSON object), `POST` (form) or `GET` (query string)."""
    if encoding == "POST-JSON":
        body = json.dumps(dict(fields), separators=(",", ":")).encode("utf-8")
        return WebhookRequest("POST", url, body, {"Content-Type": "application/json"})
    if encoding == "POST":
        body = urlencode(dict(fields)).encode("ascii")
        return WebhookRequest("POST", url, body, {"Content-Type": "application/x-www-form-urlencoded"})
    if encoding == "GET":
        separator = "&" if urlsplit(url).query else "?"
        return WebhookRequest("GET", f"{url}{separator}{urlencode(dict(fields))}")
    raise ValueError(f"unknown receipt method {encoding!r}; use one of {', '.join(DLR_METHODS)}")


def retryable(http_status: int | None) -> bool:
    """Whether the carrier tries a webhook again: no answer (None), HTTP 429 or any 5xx (§3, Retries)."""
    return http_status is None or http_status in DLR_RETRY_STATUSES or 500 <= http_status <= 599


def retry_delay(failed_attempts: int, base: float, cap: float) -> float:
    """The wait before the next try after `failed_attempts` (≥ 1) failures: base, 2·base, 4·base, … ≤ cap."""
    return min(base * 2 ** min(failed_attempts - 1, 64), cap)


# --- inbound SMS (§4; kpn.md A.6) ---------------------------------------------------------------------------

INBOUND_TYPES = MESSAGE_TYPES  # text | unicode | binary
MAX_CONCAT_PARTS = 255  # concat-total is one octet in the concatenation header


def inbound_keyword(text: str) -> str:
    """The first word of the whole message, upper-cased ("" for a message of blanks)."""
    words = text.split(maxsplit=1)
    return words[0].upper() if words else ""


def split_evenly(text: str, parts: int) -> list[str]:
    """`text` cut into `parts` non-empty pieces as equal as possible (the first ones one longer)."""
    if not 1 <= parts <= max(len(text), 1):
        raise ValueError(f"cannot cut {len(text)} characters into {parts} non-empty parts")
    size, longer = divmod(len(text), parts)
    pieces, start = [], 0
    for number in range(parts):
        end = start + size + (1 if number < longer else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


def new_inbound_message_id() -> str:
    """16 upper-case hex digits, as Vonage's inbound message ids look (never seeded: gateways dedupe by it)."""
    return secrets.token_hex(8).upper()


def inbound_messages(
    *,
    msisdn: str,
    to: str,
    texts: Sequence[str],
    message_ids: Sequence[str],
    api_key: str,
    at: float,
    kind: str = "text",
    concat_ref: str | None = None,
    data: str | None = None,
    udh: str | None = None,
) -> list[dict[str, str]]:
    """The unsigned fields of each part of one inbound message, in part order, every value a string.

    `texts` are the parts' texts (one for an unsplit message); `keyword` comes from all of them
    joined, and is the same in every part. `concat`, `concat-ref`, `concat-total` and `concat-part`
    (1-based) are there only for two or more parts. `timestamp` is `at` in unix seconds (signing
    replaces it with the signing time). Binary: `data` (hex) and `udh` (hex, when given); `text` and
    `keyword` only when there is a text.
    """
    if kind not in INBOUND_TYPES:
        raise ValueError(f"unknown type {kind!r}; use one of {', '.join(INBOUND_TYPES)}")
    if len(texts) != len(message_ids) or not texts:
        raise ValueError(f"{len(texts)} texts but {len(message_ids)} message ids")
    concatenated = len(texts) > 1
    if concatenated and not concat_ref:
        raise ValueError("a message of several parts needs a concat_ref")
    keyword = inbound_keyword("".join(texts))
    messages = []
    for number, (text, message_id) in enumerate(zip(texts, message_ids, strict=True), start=1):
        fields = {"msisdn": msisdn, "to": to, "messageId": message_id}
        if kind != "binary" or text:
            fields.update({"text": text, "keyword": keyword})
        fields["type"] = kind
        if kind == "binary":
            fields["data"] = data or ""
            if udh is not None:
                fields["udh"] = udh
        fields.update(
            {"api-key": api_key, "message-timestamp": message_timestamp(at), "timestamp": str(int(at))}
        )
        if concatenated:
            fields.update(
                {
                    "concat": "true",
                    "concat-ref": str(concat_ref),
                    "concat-total": str(len(texts)),
                    "concat-part": str(number),
                }
            )
        messages.append(fields)
    return messages


def parse_message_timestamp(value: str) -> float:
    """`YYYY-MM-DD HH:MM:SS` (UTC) → unix seconds; `ValueError` otherwise."""
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


# --- Numbers API (§7; kpn.md A.10) ---------------------------------------------------------------------------

NUMBER_TYPES = ("landline", "mobile-lvn", "landline-toll-free")
NUMBER_FEATURES = ("SMS", "VOICE", "MMS")
# country -> type -> (prefix, digits after it): fictitious or test ranges where there are some
# (NL 097 M2M numbers; Ofcom's drama ranges for GB; 555-01xx for the US).
NUMBER_RANGES: dict[str, dict[str, tuple[str, int]]] = {
    "NL": {"mobile-lvn": ("3197010", 6), "landline": ("3120", 7), "landline-toll-free": ("31800", 4)},
    "GB": {
        "mobile-lvn": ("447700900", 3),
        "landline": ("442079460", 3),
        "landline-toll-free": ("448081570", 3),
    },
    "US": {
        "mobile-lvn": ("120155501", 2),
        "landline": ("121255501", 2),
        "landline-toll-free": ("180055501", 2),
    },
}
NUMBER_TYPE_FEATURES = {
    "mobile-lvn": ["SMS", "VOICE"],
    "landline": ["VOICE"],
    "landline-toll-free": ["VOICE"],
}
NUMBER_COSTS = {"mobile-lvn": "1.00", "landline": "0.90", "landline-toll-free": "10.00"}
# Labels (Vonage's numbers spec names only 200 success, 401 and 420).
NUMBERS_SUCCESS = {"error-code": "200", "error-code-label": "success"}
NUMBERS_DEFAULT_SIZE = 10
NUMBERS_MAX_SIZE = 100
# What `/number/update` may set on an owned number ("" clears), and what `/account/numbers` shows.
NUMBER_SETTINGS = (
    "moHttpUrl",
    "moSmppSysType",
    "app_id",
    "voiceCallbackType",
    "voiceCallbackValue",
    "voiceStatusCallback",
    "messagesCallbackType",
    "messagesCallbackValue",
)
OWNED_NUMBER_FIELDS = (
    "country",
    "msisdn",
    "moHttpUrl",
    "type",
    "features",
    "messagesCallbackType",
    "messagesCallbackValue",
    "voiceCallbackType",
    "voiceCallbackValue",
    "app_id",
)
VOICE_CALLBACK_TYPES = ("sip", "tel", "app")


class NumbersFailure(Exception):
    """A Numbers API error: HTTP status and Vonage's `{"error-code", "error-code-label"}` body."""

    def __init__(self, http_status: int, label: str) -> None:
        self.http_status = http_status
        self.label = label
        super().__init__(f"{http_status} {label}")

    def body(self) -> dict[str, str]:
        return {"error-code": str(self.http_status), "error-code-label": self.label}


NUMBERS_UNAUTHORIZED = NumbersFailure(401, "authentication failed")
NUMBERS_METHOD_FAILED = NumbersFailure(420, "method failed")


def number_pool(country: str, size: int) -> list[dict[str, Any]]:
    """The numbers for sale in `country` (ISO-2, any case): up to `size` of each type, by msisdn.

    Deterministic: the same country and size always give the same numbers. An unknown country has none.
    """
    pool = []
    for kind, (prefix, digits) in NUMBER_RANGES.get(country.upper(), {}).items():
        for index in range(min(size, 10**digits)):
            pool.append(
                {
                    "country": country.upper(),
                    "msisdn": f"{prefix}{index:0{digits}d}",
                    "type": kind,
                    "cost": NUMBER_COSTS[kind],
                    "initialPrice": "0.00",
                    "features": list(NUMBER_TYPE_FEATURES[kind]),
                }
            )
    return sorted(pool, key=lambda number: number["msisdn"])


def _whole(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise NumbersFailure(400, f"invalid parameter: {name} must be a whole number from {low} to {high}")
    return int(raw)


def pattern_filter(params: Mapping[str, str]) -> Callable[[str], bool]:
    """`pattern` with `search_pattern` 0 (starts with, the default), 1 (contains) or 2 (ends with)."""
    pattern = params.get("pattern", "")
    mode = _whole(params, "search_pattern", 0, 0, 2)
    if not pattern:
        return lambda msisdn: True
    if mode == 0:
        return lambda msisdn: msisdn.startswith(pattern)
    if mode == 1:
        return lambda msisdn: pattern in msisdn
    return lambda msisdn: msisdn.endswith(pattern)


def numbers_page(numbers: Sequence[Mapping[str, Any]], params: Mapping[str, str]) -> dict[str, Any]:
    """`{"count": <all matches>, "numbers": [<page>]}` by `size` (default 10, at most 100) and `index`
    (1-based page). `numbers` is left out when the page is empty, as Vonage does."""
    size = _whole(params, "size", NUMBERS_DEFAULT_SIZE, 1, NUMBERS_MAX_SIZE)
    index = _whole(params, "index", 1, 1, 10**9)
    page = [dict(number) for number in numbers[(index - 1) * size : index * size]]
    return {"count": len(numbers), "numbers": page} if page else {"count": len(numbers)}


def search_numbers(pool: Sequence[Mapping[str, Any]], params: Mapping[str, str]) -> dict[str, Any]:
    """`GET /number/search` over the numbers still for sale: filters `type` (any when absent),
    `features` (comma-separated, the number has all), `pattern`/`search_pattern`, then the page."""
    kind = params.get("type", "")
    if kind and kind not in NUMBER_TYPES:
        raise NumbersFailure(400, f"invalid parameter: type must be one of {', '.join(NUMBER_TYPES)}")
    wanted = {feature.strip().upper() for feature in params.get("features", "").split(",") if feature.strip()}
    if wanted - set(NUMBER_FEATURES):
        raise NumbersFailure(400, f"invalid parameter: features must be among {', '.join(NUMBER_FEATURES)}")
    matches = pattern_filter(params)
    found = [
        number
        for number in pool
        if (not kind or number["type"] == kind)
        and wanted <= set(number["features"])
        and matches(number["msisdn"])
    ]
    return numbers_page(found, params)


def owned_number_listing(number: Mapping[str, Any]) -> dict[str, Any]:
    """How `/account/numbers` shows an owned number: the fields it has among `OWNED_NUMBER_FIELDS`."""
    return {name: number[name] for name in OWNED_NUMBER_FIELDS if number.get(name) is not None}


def list_owned_numbers(owned: Sequence[Mapping[str, Any]], params: Mapping[str, str]) -> dict[str, Any]:
    """`GET /account/numbers`: filters `country`, `pattern`/`search_pattern`, `application_id`,
    `has_application` (true/false), then the page."""
    country = params.get("country", "").upper()
    application_id = params.get("application_id", "")
    has_application = params.get("has_application", "").lower()
    if has_application not in ("", "true", "false"):
        raise NumbersFailure(400, "invalid parameter: has_application must be true or false")
    matches = pattern_filter(params)
    found = [
        owned_number_listing(number)
        for number in sorted(owned, key=lambda number: number["msisdn"])
        if (not country or number["country"] == country)
        and (not application_id or number.get("app_id") == application_id)
        and (not has_application or bool(number.get("app_id")) == (has_application == "true"))
        and matches(number["msisdn"])
    ]
    return numbers_page(found, params)


def number_target(params: Mapping[str, str]) -> tuple[str, str]:
    """(country upper-cased, msisdn) of a buy/cancel/update; a missing one is a 400."""
    for name in ("country", "msisdn"):
        if not params.get(name):
            raise NumbersFailure(400, f"missing parameter: {name}")
    return params["country"].upper(), params["msisdn"]


def number_changes(params: Mapping[str, str]) -> dict[str, str]:
    """The settings a `/number/update` changes (present in `params`; "" means clear)."""
    changes = {name: params[name] for name in NUMBER_SETTINGS if name in params}
    callback_type = changes.get("voiceCallbackType")
    if callback_type and callback_type not in VOICE_CALLBACK_TYPES:
        raise NumbersFailure(
            400, f"invalid parameter: voiceCallbackType must be one of {', '.join(VOICE_CALLBACK_TYPES)}"
        )
    return changes
