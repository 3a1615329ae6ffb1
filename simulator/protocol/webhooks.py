"""What the carrier sends the gateway: delivery receipts (contract §3) and inbound messages (§4), their
signature (§5), their encoding (GET, POST form, POST JSON) and the retry backoff."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from simulator.protocol.sms import MESSAGE_TYPES, sign

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
