"""What a carrier client is: the submission, its result, and the errors a submission can end in.

Errors sort a failure by what the caller should do with the message:
- `CarrierThrottled`: slow down and retry (status 1, HTTP 429; `retry_after` when the carrier said).
- `CarrierTransientError`: retry later; if it lasts, dead-letter it for the operator, but never fail
  the message (network errors, timeouts, HTTP 5xx, unreadable answers, statuses 5/10/13, and
  account-level problems the operator must fix: 4/8/9/11/14/32, HTTP 401/403/404).
- `CarrierRejected`: the carrier refused this message for good (every other non-zero status, and
  HTTP 400/413/422): the message ends `failed`.

Every error carries `accepted_parts`: the parts of the same submission the carrier did accept
(and will deliver and charge for) before or beside the part that failed. It is empty unless the
carrier accepted only some parts of a multi-part message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from time import time
from typing import Protocol

MESSAGE_TYPES = ("text", "unicode", "binary")
# Params the client itself sets (from the Submission fields or its credentials).
RESERVED_PARAMS = frozenset({"from", "to", "text", "type", "api_key", "api_secret", "sig", "timestamp"})


@dataclass(frozen=True)
class Submission:
    """One message to submit; the carrier splits it into parts itself."""

    sender: str  # "from"
    to: str  # E.164 digits, no "+"
    text: str | None
    type: str = "text"  # "text" | "unicode" | "binary"
    # Other Vonage params, already validated, sent as-is: ttl, status-report-req, callback,
    # message-class, udh, body, protocol-id, client-ref ...
    params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in MESSAGE_TYPES:
            raise ValueError(f"type must be one of {', '.join(MESSAGE_TYPES)}, not {self.type!r}")
        reserved = RESERVED_PARAMS.intersection(self.params)
        if reserved:
            raise ValueError(f"params must not set {', '.join(sorted(reserved))}: they are Submission fields")

    def form(self) -> dict[str, str]:
        """The send parameters as the carrier's form fields (credentials not included)."""
        fields = {"from": self.sender, "to": self.to, "type": self.type, **self.params}
        if self.text is not None:
            fields["text"] = self.text
        return fields


@dataclass(frozen=True)
class SubmittedPart:
    carrier_message_id: str
    network: str | None
    price: str | None  # as the carrier sent it (string)


@dataclass(frozen=True)
class SubmitResult:
    parts: tuple[SubmittedPart, ...]


class CarrierError(Exception):
    """A submission that did not fully succeed.

    `status`: the Vonage per-message status string, or None (HTTP or network failure);
    `error_text`: the carrier's words (or ours, for network failures);
    `http_status`: the HTTP status, or None when no response came;
    `accepted_parts`: parts the carrier accepted anyway (see the module docstring);
    `ambiguous`: no answer came, so the carrier may have accepted it (see `Carrier.submit`).
    """

    def __init__(
        self,
        error_text: str,
        *,
        status: str | None = None,
        http_status: int | None = None,
        accepted_parts: tuple[SubmittedPart, ...] = (),
        ambiguous: bool = False,
    ) -> None:
        self.error_text = error_text
        # True when the request may have reached the carrier and been accepted (no answer came back:
        # a read timeout, a connection dropped after sending): resubmitting could send it twice.
        self.ambiguous = ambiguous
        self.status = status
        self.http_status = http_status
        self.accepted_parts = accepted_parts
        where = [f"status {status}"] if status is not None else []
        if http_status is not None:
            where.append(f"HTTP {http_status}")
        super().__init__(f"{error_text} ({', '.join(where)})" if where else error_text)

    @property
    def authentication_failed(self) -> bool:
        """The carrier refused our credentials or signature (the operator must fix the carrier secret)."""
        return self.status in AUTHENTICATION_STATUSES or self.http_status in (401, 403)


class CarrierThrottled(CarrierError):
    """Status 1 or HTTP 429. `retry_after`: seconds, from a `Retry-After` header when there was one."""

    def __init__(
        self,
        error_text: str,
        *,
        status: str | None = None,
        http_status: int | None = None,
        accepted_parts: tuple[SubmittedPart, ...] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(error_text, status=status, http_status=http_status, accepted_parts=accepted_parts)
        self.retry_after = retry_after


class CarrierTransientError(CarrierError):
    """Retry later: the carrier or the network failed, or the account needs the operator's attention."""


class CarrierRejected(CarrierError):
    """Permanent and message-level: the message ends `failed`."""


class Carrier(Protocol):
    def submit(self, submission: Submission) -> SubmitResult:
        """Submit one message. Raises `CarrierError` (one of its three subclasses) when not all parts went."""
        ...


THROTTLED_STATUSES = frozenset({"1"})
# Invalid credentials, invalid signature.
AUTHENTICATION_STATUSES = frozenset({"4", "14"})
TRANSIENT_STATUSES = frozenset(
    {
        "5",  # internal error
        "10",  # too many existing binds
        "13",  # communication failed
        # account-level, the operator must fix: credentials, barred account, no credit, not
        # enabled for HTTP, signature, signature and secret together
        "4",
        "8",
        "9",
        "11",
        "14",
        "32",
    }
)
REJECTED_HTTP_STATUSES = frozenset({400, 413, 422})


def error_for_status(
    status: str,
    error_text: str | None,
    *,
    http_status: int | None = 200,
    accepted_parts: tuple[SubmittedPart, ...] = (),
    retry_after: float | None = None,
) -> CarrierError:
    """The error for a non-zero Vonage per-message `status`."""
    text = error_text or f"carrier status {status}"
    if status in THROTTLED_STATUSES:
        return CarrierThrottled(
            text,
            status=status,
            http_status=http_status,
            accepted_parts=accepted_parts,
            retry_after=retry_after,
        )
    kind = CarrierTransientError if status in TRANSIENT_STATUSES else CarrierRejected
    return kind(text, status=status, http_status=http_status, accepted_parts=accepted_parts)


def error_for_http(http_status: int, error_text: str, retry_after: float | None = None) -> CarrierError:
    """The error for an HTTP answer other than 200."""
    if http_status == 429:
        return CarrierThrottled(error_text, http_status=http_status, retry_after=retry_after)
    if http_status in REJECTED_HTTP_STATUSES:
        return CarrierRejected(error_text, http_status=http_status)
    return CarrierTransientError(error_text, http_status=http_status)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - (time() if now is None else now))
