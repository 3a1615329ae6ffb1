"""Settings: one pydantic model, read once from the environment, cached.

A plain pydantic model validated from `os.environ` (each field's alias is its variable): it does what
pydantic-settings did here, and saves every cold start ~35 ms of imports (docs/benchmarks.md).
"""

from __future__ import annotations

import os
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from smsgw.core.memo import per_process


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    stage: str = Field(default="dev", alias="STAGE")
    table_name: str = Field(default="smsgw", alias="TABLE_NAME")
    send_queue_url: str = Field(default="", alias="SEND_QUEUE_URL")

    carrier_provider: str = Field(default="simulator", alias="CARRIER_PROVIDER")
    carrier_base_url: str = Field(default="http://127.0.0.1:8025", alias="CARRIER_BASE_URL")
    # Name of a Secrets Manager secret holding the carrier credentials as JSON; never the values.
    carrier_secret_name: str = Field(default="", alias="CARRIER_SECRET_NAME")
    # Where the carrier should send delivery receipts (our /carrier/dlr); empty: its account default.
    carrier_receipt_url: str = Field(default="", alias="CARRIER_RECEIPT_URL")
    # Signed /sms/json requests: how far their timestamp may be from our clock.
    vonage_signature_max_skew_seconds: int = Field(
        default=300, gt=0, alias="VONAGE_SIGNATURE_MAX_SKEW_SECONDS"
    )
    # Signed carrier webhooks (receipts, inbound): how far their timestamp may be from our clock.
    carrier_webhook_max_age_seconds: int = Field(default=300, gt=0, alias="CARRIER_WEBHOOK_MAX_AGE_SECONDS")
    # Accept carrier webhooks that nothing authenticates when the carrier secret has neither a
    # signature_secret nor a webhook_token: anyone could then forge STOP, HELP and receipts. Off by default.
    allow_unsigned_carrier_webhooks: bool = Field(default=False, alias="ALLOW_UNSIGNED_CARRIER_WEBHOOKS")
    carrier_rate_per_second: float = Field(default=30.0, gt=0, alias="CARRIER_RATE_PER_SECOND")
    # Pace this fraction below the carrier's rate: timing jitter between a slot and the carrier's clock
    # would otherwise put rate + 1 submissions in some second now and then (measured: docs/benchmarks.md).
    carrier_rate_headroom: float = Field(default=0.03, ge=0, lt=0.5, alias="CARRIER_RATE_HEADROOM")

    token_ttl_seconds: int = Field(default=3600, gt=60, alias="TOKEN_TTL_SECONDS")
    default_rate_limit_per_second: int = Field(default=30, gt=0, alias="DEFAULT_RATE_LIMIT_PER_SECOND")
    default_price: Decimal = Field(default=Decimal("0.07"), alias="DEFAULT_PRICE_PER_PART")
    # Hosts a callback may use over plain http and on a private address (the local stack's 127.0.0.1).
    callback_allow_http_hosts: tuple[str, ...] = Field(default=(), alias="CALLBACK_ALLOW_HTTP_HOSTS")

    dispatch_max_wait_seconds: float = Field(default=10.0, ge=0, alias="DISPATCH_MAX_WAIT_SECONDS")
    dispatch_max_receives: int = Field(default=8, gt=0, alias="DISPATCH_MAX_RECEIVES")
    # A batch's records dispatched at once (threads; edges/records/dispatch.py says why).
    dispatch_records_at_once: int = Field(default=10, ge=1, le=10, alias="DISPATCH_RECORDS_AT_ONCE")
    # WebhookFunction POSTs a batch's records at once (each mostly waits for a customer's server).
    webhook_records_at_once: int = Field(default=10, ge=1, le=10, alias="WEBHOOK_RECORDS_AT_ONCE")
    # Circuit breaker per connector (dispatch/breaker.py): this many failures within the window open it;
    # after the pause one probe at a time tries it again.
    # How long a function keeps the connectors and routes it read (smsgw.routing).
    routing_cache_seconds: float = Field(default=30.0, ge=0, alias="ROUTING_CACHE_SECONDS")
    breaker_failures: int = Field(default=5, ge=1, alias="BREAKER_FAILURES")
    breaker_window_seconds: float = Field(default=60.0, gt=0, alias="BREAKER_WINDOW_SECONDS")
    breaker_pause_seconds: float = Field(default=30.0, gt=0, alias="BREAKER_PAUSE_SECONDS")
    dispatch_lease_seconds: int = Field(default=120, gt=0, alias="DISPATCH_LEASE_SECONDS")
    # The send path enqueues before it stores: a record whose message is not stored this long after it
    # was sent belongs to a send that was refused or died half-way, and is dropped.
    dispatch_orphan_grace_seconds: int = Field(default=30, ge=1, alias="DISPATCH_ORPHAN_GRACE_SECONDS")
    # After a submission without an answer (a timeout, a crash after the carrier's acceptance), wait this
    # long for the carrier's receipt before submitting again (docs/reliability.md).
    dispatch_reconcile_seconds: int = Field(default=300, ge=0, alias="DISPATCH_RECONCILE_SECONDS")
    message_retention_days: int = Field(default=90, gt=0, alias="MESSAGE_RETENTION_DAYS")

    # EventBridge Scheduler: one-time sends (send_at) and recurring schedules live in this group and
    # target these queues through this role; a run the target refused lands in the DLQ.
    schedule_group_name: str = Field(default="default", alias="SCHEDULE_GROUP_NAME")
    scheduler_role_arn: str = Field(default="", alias="SCHEDULER_ROLE_ARN")
    send_queue_arn: str = Field(default="", alias="SEND_QUEUE_ARN")
    schedule_run_queue_arn: str = Field(default="", alias="SCHEDULE_RUN_QUEUE_ARN")
    schedule_dead_letter_queue_arn: str = Field(default="", alias="SCHEDULE_DLQ_ARN")
    # How far ahead send_at may be, and how far in the past it may be (then it is sent at once).
    schedule_horizon_days: int = Field(default=365, gt=0, alias="SCHEDULE_HORIZON_DAYS")
    send_at_grace_seconds: int = Field(default=60, ge=0, alias="SEND_AT_GRACE_SECONDS")
    # Recurring schedules per account: how many may be active, how many recipients per minute they may
    # reach together (recipients ÷ the shortest time between runs), and after how many consecutive
    # runs the balance could not pay for a schedule pauses itself.
    schedule_max_active: int = Field(default=20, gt=0, alias="SCHEDULE_MAX_ACTIVE")
    schedule_max_recipients_per_minute: int = Field(
        default=1000, gt=0, alias="SCHEDULE_MAX_RECIPIENTS_PER_MINUTE"
    )
    schedule_pause_after_unpaid_runs: int = Field(default=1, gt=0, alias="SCHEDULE_PAUSE_AFTER_UNPAID_RUNS")
    inbound_queue_url: str = Field(default="", alias="INBOUND_QUEUE_URL")
    # A concatenated inbound message still missing parts after this long is forwarded as it is, flagged.
    inbound_concat_timeout_seconds: int = Field(
        default=300, ge=1, le=900, alias="INBOUND_CONCAT_TIMEOUT_SECONDS"
    )
    # Replies to a send with `inbound: yes` go to its callback for this long.
    conversation_days: int = Field(default=7, gt=0, alias="CONVERSATION_DAYS")
    # Proving possession of a phone before /sms/register routes its SMS (docs/security.md): the code's
    # sender, how long a code is valid, codes per phone and account per day, wrong codes per code.
    verification_sender: str = Field(default="smsgw", alias="VERIFICATION_SENDER")
    verification_code_seconds: int = Field(default=600, ge=60, alias="VERIFICATION_CODE_SECONDS")
    verification_codes_per_day: int = Field(default=5, ge=1, alias="VERIFICATION_CODES_PER_DAY")
    verification_max_attempts: int = Field(default=5, ge=1, alias="VERIFICATION_MAX_ATTEMPTS")
    # Numbers the carrier delivers inbound SMS to that are not bought through the gateway (a shared long
    # number, a short code): no account can register them.
    gateway_numbers: tuple[str, ...] = Field(default=(), alias="GATEWAY_NUMBERS")
    # Auto-replies (the HELP answer) per day: to one recipient from one number, and from one number.
    # Above them no reply is sent (a metric and a log line say so); the inbound is still stored and forwarded.
    auto_reply_max_per_recipient_per_day: int = Field(
        default=3, ge=0, alias="AUTO_REPLY_MAX_PER_RECIPIENT_PER_DAY"
    )
    auto_reply_max_per_number_per_day: int = Field(
        default=1000, ge=0, alias="AUTO_REPLY_MAX_PER_NUMBER_PER_DAY"
    )
    help_reply: str = Field(
        default="Reply STOP to stop receiving messages from this number, START to receive them again.",
        alias="HELP_REPLY",
    )

    webhook_queue_url: str = Field(default="", alias="WEBHOOK_QUEUE_URL")
    webhook_dlq_url: str = Field(default="", alias="WEBHOOK_DLQ_URL")
    # Retries stop this long after a delivery's first attempt (after a replay: the replay's first).
    webhook_retry_horizon_seconds: int = Field(default=86_400, ge=0, alias="WEBHOOK_RETRY_HORIZON_SECONDS")
    # The first wait between attempts (then doubling to 15 min); tests of the local stack shorten it.
    webhook_retry_start_seconds: float = Field(default=5.0, ge=1, alias="WEBHOOK_RETRY_START_SECONDS")
    webhook_connect_timeout_seconds: float = Field(default=3.0, gt=0, alias="WEBHOOK_CONNECT_TIMEOUT_SECONDS")
    # How long the receiver may take to answer (read timeout).
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, alias="WEBHOOK_TIMEOUT_SECONDS")
    webhook_retention_days: int = Field(default=30, gt=0, alias="WEBHOOK_RETENTION_DAYS")

    @field_validator("callback_allow_http_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(host.strip().lower() for host in value.split(",") if host.strip())
        return value

    @field_validator("gateway_numbers", mode="before")
    @classmethod
    def _split_numbers(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(n.strip().removeprefix("+") for n in value.split(",") if n.strip())
        return value


@per_process
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
