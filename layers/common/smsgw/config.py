"""Settings: one frozen dataclass, read once from the environment, cached.

Each field names its variable and its bounds (`env(...)`); `get_settings()` parses them and refuses a
value that is not of the field's type or out of bounds with a `SettingsError` naming the variable. A
plain dataclass rather than a pydantic model: every function reads the settings, and building a
56-field model cost each cold start ~14 ms (docs/benchmarks.md §3).
"""

from __future__ import annotations

import dataclasses
import operator
import os
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from smsgw.core.memo import per_process


class SettingsError(ValueError):
    """An environment variable the gateway cannot use; the message names it."""


def env(
    name: str,
    *,
    default: Any,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    item: Callable[[str], str] | None = None,
) -> Any:
    """A setting read from the variable `name`; numbers within the bounds given; a tuple from a
    comma-separated list (each entry normalised by `item`, empty ones dropped)."""
    bounds = {"gt": gt, "ge": ge, "lt": lt, "le": le}
    return dataclasses.field(default=default, metadata={"env": name, "item": item, **bounds})


def _host(value: str) -> str:
    return value.strip().lower()


def _number(value: str) -> str:
    return value.strip().removeprefix("+")


_TRUE = {"1", "true", "yes", "on", "t", "y"}
_FALSE = {"0", "false", "no", "off", "f", "n"}


def _parse(kind: str, raw: str, field: dataclasses.Field[Any]) -> Any:
    if kind == "str":
        return raw
    if kind == "bool":
        word = raw.strip().lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
        raise ValueError(word)
    if kind == "int":
        return int(raw.strip())
    if kind == "float":
        return float(raw.strip())
    if kind == "Decimal":
        try:
            return Decimal(raw.strip())
        except InvalidOperation:
            raise ValueError(raw) from None
    normalise = field.metadata["item"] or str.strip
    return tuple(entry for entry in (normalise(part) for part in raw.split(",")) if entry)


# Each bound: its check and how a refusal says it.
_BOUNDS: dict[str, tuple[Callable[[Any, Any], bool], str]] = {
    "gt": (operator.gt, ">"),
    "ge": (operator.ge, ">="),
    "lt": (operator.lt, "<"),
    "le": (operator.le, "<="),
}
_EXPECTED = {
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
    "Decimal": "a decimal number",
}


@dataclasses.dataclass(frozen=True)
class Settings:
    stage: str = env("STAGE", default="dev")
    table_name: str = env("TABLE_NAME", default="smsgw")
    send_queue_url: str = env("SEND_QUEUE_URL", default="")

    carrier_provider: str = env("CARRIER_PROVIDER", default="simulator")
    carrier_base_url: str = env("CARRIER_BASE_URL", default="http://127.0.0.1:8025")
    # Name of a Secrets Manager secret holding the carrier credentials as JSON; never the values.
    carrier_secret_name: str = env("CARRIER_SECRET_NAME", default="")
    # Where the carrier should send delivery receipts (our /carrier/dlr); empty: its account default.
    carrier_receipt_url: str = env("CARRIER_RECEIPT_URL", default="")
    # Signed /sms/json requests: how far their timestamp may be from our clock.
    vonage_signature_max_skew_seconds: int = env("VONAGE_SIGNATURE_MAX_SKEW_SECONDS", default=300, gt=0)
    # Signed carrier webhooks (receipts, inbound): how far their timestamp may be from our clock.
    carrier_webhook_max_age_seconds: int = env("CARRIER_WEBHOOK_MAX_AGE_SECONDS", default=300, gt=0)
    # Accept carrier webhooks that nothing authenticates when the carrier secret has neither a
    # signature_secret nor a webhook_token: anyone could then forge STOP, HELP and receipts. Off by default.
    allow_unsigned_carrier_webhooks: bool = env("ALLOW_UNSIGNED_CARRIER_WEBHOOKS", default=False)
    carrier_rate_per_second: float = env("CARRIER_RATE_PER_SECOND", default=30.0, gt=0)
    # Pace this fraction below the carrier's rate: timing jitter between a slot and the carrier's clock
    # would otherwise put rate + 1 submissions in some second now and then (measured: docs/benchmarks.md).
    carrier_rate_headroom: float = env("CARRIER_RATE_HEADROOM", default=0.03, ge=0, lt=0.5)

    token_ttl_seconds: int = env("TOKEN_TTL_SECONDS", default=3600, gt=60)
    default_rate_limit_per_second: int = env("DEFAULT_RATE_LIMIT_PER_SECOND", default=30, gt=0)
    default_price: Decimal = env("DEFAULT_PRICE_PER_PART", default=Decimal("0.07"))  # noqa: RUF009 - immutable
    # Hosts a callback may use over plain http and on a private address (the local stack's 127.0.0.1).
    callback_allow_http_hosts: tuple[str, ...] = env("CALLBACK_ALLOW_HTTP_HOSTS", default=(), item=_host)

    dispatch_max_wait_seconds: float = env("DISPATCH_MAX_WAIT_SECONDS", default=10.0, ge=0)
    dispatch_max_receives: int = env("DISPATCH_MAX_RECEIVES", default=8, gt=0)
    # A batch's records dispatched at once (threads; edges/records/dispatch.py says why).
    dispatch_records_at_once: int = env("DISPATCH_RECORDS_AT_ONCE", default=10, ge=1, le=10)
    # WebhookFunction POSTs a batch's records at once (each mostly waits for a customer's server).
    webhook_records_at_once: int = env("WEBHOOK_RECORDS_AT_ONCE", default=10, ge=1, le=10)
    # Circuit breaker per connector (dispatch/breaker.py): this many failures within the window open it;
    # after the pause one probe at a time tries it again.
    # How long a function keeps the connectors and routes it read (smsgw.routing).
    routing_cache_seconds: float = env("ROUTING_CACHE_SECONDS", default=30.0, ge=0)
    breaker_failures: int = env("BREAKER_FAILURES", default=5, ge=1)
    breaker_window_seconds: float = env("BREAKER_WINDOW_SECONDS", default=60.0, gt=0)
    breaker_pause_seconds: float = env("BREAKER_PAUSE_SECONDS", default=30.0, gt=0)
    dispatch_lease_seconds: int = env("DISPATCH_LEASE_SECONDS", default=120, gt=0)
    # The send path enqueues before it stores: a record whose message is not stored this long after it
    # was sent belongs to a send that was refused or died half-way, and is dropped.
    dispatch_orphan_grace_seconds: int = env("DISPATCH_ORPHAN_GRACE_SECONDS", default=30, ge=1)
    # After a submission without an answer (a timeout, a crash after the carrier's acceptance), wait this
    # long for the carrier's receipt before submitting again (docs/reliability.md).
    dispatch_reconcile_seconds: int = env("DISPATCH_RECONCILE_SECONDS", default=300, ge=0)
    message_retention_days: int = env("MESSAGE_RETENTION_DAYS", default=90, gt=0)

    # EventBridge Scheduler: one-time sends (send_at) and recurring schedules live in this group and
    # target these queues through this role; a run the target refused lands in the DLQ.
    schedule_group_name: str = env("SCHEDULE_GROUP_NAME", default="default")
    scheduler_role_arn: str = env("SCHEDULER_ROLE_ARN", default="")
    send_queue_arn: str = env("SEND_QUEUE_ARN", default="")
    schedule_run_queue_arn: str = env("SCHEDULE_RUN_QUEUE_ARN", default="")
    schedule_dead_letter_queue_arn: str = env("SCHEDULE_DLQ_ARN", default="")
    # How far ahead send_at may be, and how far in the past it may be (then it is sent at once).
    schedule_horizon_days: int = env("SCHEDULE_HORIZON_DAYS", default=365, gt=0)
    send_at_grace_seconds: int = env("SEND_AT_GRACE_SECONDS", default=60, ge=0)
    # Recurring schedules per account: how many may be active, how many recipients per minute they may
    # reach together (recipients ÷ the shortest time between runs), and after how many consecutive
    # runs the balance could not pay for a schedule pauses itself.
    schedule_max_active: int = env("SCHEDULE_MAX_ACTIVE", default=20, gt=0)
    schedule_max_recipients_per_minute: int = env("SCHEDULE_MAX_RECIPIENTS_PER_MINUTE", default=1000, gt=0)
    schedule_pause_after_unpaid_runs: int = env("SCHEDULE_PAUSE_AFTER_UNPAID_RUNS", default=1, gt=0)
    inbound_queue_url: str = env("INBOUND_QUEUE_URL", default="")
    # A concatenated inbound message still missing parts after this long is forwarded as it is, flagged.
    inbound_concat_timeout_seconds: int = env("INBOUND_CONCAT_TIMEOUT_SECONDS", default=300, ge=1, le=900)
    # Replies to a send with `inbound: yes` go to its callback for this long.
    conversation_days: int = env("CONVERSATION_DAYS", default=7, gt=0)
    # Proving possession of a phone before /sms/register routes its SMS (docs/security.md): the code's
    # sender, how long a code is valid, codes per phone and account per day, wrong codes per code.
    verification_sender: str = env("VERIFICATION_SENDER", default="smsgw")
    verification_code_seconds: int = env("VERIFICATION_CODE_SECONDS", default=600, ge=60)
    verification_codes_per_day: int = env("VERIFICATION_CODES_PER_DAY", default=5, ge=1)
    verification_max_attempts: int = env("VERIFICATION_MAX_ATTEMPTS", default=5, ge=1)
    # Numbers the carrier delivers inbound SMS to that are not bought through the gateway (a shared long
    # number, a short code): no account can register them.
    gateway_numbers: tuple[str, ...] = env("GATEWAY_NUMBERS", default=(), item=_number)
    # Auto-replies (the HELP answer) per day: to one recipient from one number, and from one number.
    # Above them no reply is sent (a metric and a log line say so); the inbound is still stored and forwarded.
    auto_reply_max_per_recipient_per_day: int = env("AUTO_REPLY_MAX_PER_RECIPIENT_PER_DAY", default=3, ge=0)
    auto_reply_max_per_number_per_day: int = env("AUTO_REPLY_MAX_PER_NUMBER_PER_DAY", default=1000, ge=0)
    help_reply: str = env(
        "HELP_REPLY",
        default="Reply STOP to stop receiving messages from this number, START to receive them again.",
    )

    webhook_queue_url: str = env("WEBHOOK_QUEUE_URL", default="")
    webhook_dlq_url: str = env("WEBHOOK_DLQ_URL", default="")
    # Retries stop this long after a delivery's first attempt (after a replay: the replay's first).
    webhook_retry_horizon_seconds: int = env("WEBHOOK_RETRY_HORIZON_SECONDS", default=86400, ge=0)
    # The first wait between attempts (then doubling to 15 min); tests of the local stack shorten it.
    webhook_retry_start_seconds: float = env("WEBHOOK_RETRY_START_SECONDS", default=5.0, ge=1)
    # The longest wait between attempts (SQS delays a message at most 15 min).
    webhook_retry_cap_seconds: float = env("WEBHOOK_RETRY_CAP_SECONDS", default=900.0, ge=1, le=900)
    webhook_connect_timeout_seconds: float = env("WEBHOOK_CONNECT_TIMEOUT_SECONDS", default=3.0, gt=0)
    # How long the receiver may take to answer (read timeout).
    webhook_timeout_seconds: float = env("WEBHOOK_TIMEOUT_SECONDS", default=10.0, gt=0)
    webhook_retention_days: int = env("WEBHOOK_RETENTION_DAYS", default=30, gt=0)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            name = field.metadata["env"]
            if name not in environ:
                continue
            raw = environ[name]
            try:
                value = _parse(str(field.type), raw, field)
            except ValueError:
                raise SettingsError(f"{name}={raw!r}: must be {_EXPECTED[str(field.type)]}") from None
            for key, (holds, symbol) in _BOUNDS.items():
                bound = field.metadata[key]
                if bound is not None and not holds(value, bound):
                    raise SettingsError(f"{name}={raw!r}: must be {symbol} {bound}")
            values[field.name] = value
        return cls(**values)


@per_process
def get_settings() -> Settings:
    return Settings.from_environ(os.environ)
