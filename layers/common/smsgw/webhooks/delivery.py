"""WebhookFunction's delivery of one queued attempt: claim, check the URL, POST signed, record.

WebhookFunction takes each queue record, claims the attempt (a conditional write with a lease),
re-checks the URL (DNS may have changed), POSTs the signed body, records the attempt and then:

- 2xx: delivered. Never sent again, whatever the queue delivers later.
- 410 Gone, a URL that is now refused (private/loopback/metadata address, not https), an
  account that no longer exists or cannot sign: failed at once (retrying cannot help).
- anything else (other 4xx, 3xx (never followed), 5xx, timeouts, connection errors): retried
  with backoff (`smsgw.webhooks.retry`) by queueing a new record with DelaySeconds and
  acknowledging this one, so waiting never uses up the record's receive count. Past the horizon
  the delivery fails: it enters the failed index and the dead-letter queue is told.
- an unexpected exception fails the record (partial batch failure): SQS delivers it again, and
  after the queue's maxReceiveCount moves it to the dead-letter queue.

Redriving the dead-letter queue into the webhook queue retries everything in it: a record that
failed processing is processed again, and a "delivery failed" notice replays its delivery.

Delivery is at least once: a Lambda that dies after the receiver answered but before the attempt
is recorded is taken over when its lease runs out, and the receiver gets the same `webhook-id`
again (receivers deduplicate on it, as Standard Webhooks asks).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from smsgw.accounts.service import recent_account
from smsgw.config import get_settings
from smsgw.core.errors import InvalidField, NotFound
from smsgw.observability import logger, metrics
from smsgw.urlsafety import Resolver, check_callback_url, resolve_host
from smsgw.webhooks import queue, repository
from smsgw.webhooks.models import DELIVERED, FAILED, PENDING
from smsgw.webhooks.retry import RetryPolicy
from smsgw.webhooks.service import expires_at, iso, queue_attempt, replay, requeue_if_lost
from smsgw.webhooks.transport import HttpTransport, Response, Transport, signed_headers

Clock = Callable[[], float]

MAX_ERROR_LENGTH = 500
# Status codes that end a delivery at once. 410 Gone: the receiver says this URL will never take
# it (Standard Webhooks: "the endpoint should be disabled"); every other answer may change.
PERMANENT_HTTP_STATUSES = frozenset({410})
LEASE_MARGIN_SECONDS = 30.0  # beyond the connect + read timeouts, for signing and bookkeeping
TIME_LEFT_MARGIN_SECONDS = 5.0
EARLY_TOLERANCE_SECONDS = 1.0  # SQS delays are whole seconds
DEAD_LETTER_TYPE = "webhook.delivery_failed"


class RetryLater(Exception):
    """Fail this record on purpose: SQS delivers it again after the queue's visibility timeout."""


class _ResolveOnce:
    """Resolves each host once, so the URL check and the connection use the same addresses."""

    def __init__(self, resolve: Resolver) -> None:
        self._resolve = resolve
        self.answers: dict[str, list[str]] = {}
        self.unresolved: set[str] = set()

    def __call__(self, host: str) -> list[str]:
        if host not in self.answers:
            try:
                self.answers[host] = list(self._resolve(host))
            except (OSError, UnicodeError):
                self.unresolved.add(host)
                raise
            if not self.answers[host]:
                self.unresolved.add(host)
        return self.answers[host]


@dataclass(frozen=True)
class _Result:
    response: Response
    permanent: bool = False

    @property
    def delivered(self) -> bool:
        status = self.response.http_status
        return status is not None and 200 <= status < 300


@dataclass
class Deliverer:
    """Delivers queue records. The clock, resolver, policy and transport are injectable for tests."""

    clock: Clock = time.time
    resolve: Resolver = resolve_host
    policy: RetryPolicy | None = None
    transport: Transport | None = None
    lease_seconds: float = field(init=False)
    attempt_budget_seconds: float = field(init=False)

    def __post_init__(self) -> None:
        settings = get_settings()
        if self.policy is None:
            self.policy = RetryPolicy(
                horizon_seconds=settings.webhook_retry_horizon_seconds,
                start_seconds=settings.webhook_retry_start_seconds,
                cap_seconds=max(settings.webhook_retry_cap_seconds, settings.webhook_retry_start_seconds),
            )
        if self.transport is None:
            self.transport = HttpTransport(
                settings.webhook_connect_timeout_seconds, settings.webhook_timeout_seconds
            )
        timeouts = settings.webhook_connect_timeout_seconds + settings.webhook_timeout_seconds
        self.lease_seconds = timeouts + LEASE_MARGIN_SECONDS
        self.attempt_budget_seconds = timeouts + TIME_LEFT_MARGIN_SECONDS

    def handle(self, record: dict[str, Any]) -> str:
        """Handle one queue record; returns the outcome (for logs and tests) or raises RetryLater."""
        subject_id, delivery_id = str(record["subject_id"]), str(record["delivery_id"])
        if record.get("type") == DEAD_LETTER_TYPE:
            # The operator redrove the dead-letter queue: the same as `smsgw webhooks replay --delivery`.
            try:
                return "replayed" if replay(delivery_id=delivery_id) else "duplicate"
            except NotFound:
                return "gone"
        number = int(record.get("attempt", 0))
        now = self.clock()
        not_before = record.get("not_before")
        if not_before is not None and now < float(not_before) - EARLY_TOLERANCE_SECONDS:
            # Too early: a wait longer than SQS's 15 min is chained, one delayed record after another.
            queue.send(record, delay_seconds=math.ceil(float(not_before) - now))
            return "waiting"

        lease_until = now + self.lease_seconds
        item = None
        if number == 0 and isinstance(record.get("delivery"), dict):
            # A new delivery carried by its first record (service.enqueue): stored and claimed at once.
            item = repository.create_claimed(
                subject_id, delivery_id, record["delivery"], lease_until, expires_at(now)
            )
        if item is None:
            item = repository.claim(subject_id, delivery_id, number, now, lease_until)
        if item is None:
            return self._not_claimed(subject_id, delivery_id, number, now)

        result = self._attempt(item, now)
        finished = self.clock()
        response = result.response
        attempt_error = (response.error or "")[:MAX_ERROR_LENGTH] or None
        attempt: dict[str, Any] = {
            "at": iso(now),
            "http_status": response.http_status,
            "latency_ms": response.latency_ms,
            "error": attempt_error,
        }
        round_started_at = float(item.get("round_started_at") or now)
        failed_in_round = number + 1 - int(item.get("round_start_attempt") or 0)
        next_at: float | None = None
        error = attempt_error
        if result.delivered:
            outcome = DELIVERED
        elif result.permanent:
            outcome = FAILED
        else:
            assert self.policy is not None
            next_at = self.policy.next_attempt_at(
                round_started_at=round_started_at,
                now=finished,
                failed_attempts=failed_in_round,
                retry_after=response.retry_after,
            )
            outcome = PENDING if next_at is not None else FAILED
            if next_at is None:
                error = (
                    f"gave up after {failed_in_round} attempts over "
                    f"{finished - round_started_at:.0f} s (horizon {self.policy.horizon_seconds:.0f} s); "
                    f"last: {error}"
                )[:MAX_ERROR_LENGTH]

        recorded = repository.record_attempt(
            subject_id,
            delivery_id,
            attempt_number=number,
            lease_until=lease_until,
            attempt=attempt,
            outcome=outcome,
            at=iso(finished),
            round_started_at=round_started_at,
            next_attempt_at=next_at,
            error=error,
        )
        if recorded is None:
            logger.warning(
                "webhook attempt outlived its lease; not recorded", extra={"delivery_id": delivery_id}
            )
            return "superseded"

        # `account` and `webhook_outcome` feed the per-tenant alarm (a Contributor Insights rule).
        log = {
            "delivery_id": delivery_id,
            "account": item["account_id"],
            "attempt": number + 1,
            "http_status": response.http_status,
        }
        if outcome == DELIVERED:
            metrics.add_metric(name="WebhooksDelivered", unit="Count", value=1)
            logger.info("webhook delivered", extra=log)
            return "delivered"
        metrics.add_metric(name="WebhookAttemptsFailed", unit="Count", value=1)
        if outcome == PENDING:
            assert next_at is not None
            queue_attempt(subject_id, delivery_id, attempt=number + 1, not_before=next_at, now=finished)
            logger.info(
                "webhook attempt failed; will retry",
                extra={**log, "webhook_outcome": "retry", "error": error, "retry_at": iso(next_at)},
            )
            return "retry"
        self._dead_letter(recorded)
        metrics.add_metric(name="WebhooksFailed", unit="Count", value=1)
        logger.warning("webhook delivery failed", extra={**log, "webhook_outcome": "failed", "error": error})
        return "failed"

    def _not_claimed(self, subject_id: str, delivery_id: str, number: int, now: float) -> str:
        current = repository.get_delivery(subject_id, delivery_id)
        if current is None:
            return "gone"  # expired (retention) or never existed
        if current["state"] == PENDING and int(current["attempt_count"]) == number:
            raise RetryLater(f"attempt {number + 1} of {delivery_id} is under way in another invocation")
        # A record delivered twice, or an old one: nothing to send. Finish an interrupted hand-off.
        if current["state"] == PENDING:
            requeue_if_lost(current, now)
        elif current["state"] == FAILED and "dead_lettered_at" not in current:
            self._dead_letter(current)
        return "duplicate"

    def _dead_letter(self, item: dict[str, Any]) -> None:
        # Replay by id (the notice says how): its lookup first, the notice may be acted on at once.
        repository.put_lookup(item)
        queue.dead_letter(
            {
                "type": DEAD_LETTER_TYPE,
                "delivery_id": item["delivery_id"],
                "subject_id": item["subject_id"],
                "account_id": item["account_id"],
                "event_type": item["event_type"],
                "url": item["url"],
                "failed_at": item.get("failed_at"),
                "attempts": int(item["attempt_count"]),
                "last_error": item.get("last_error"),
                "replay": f"smsgw webhooks replay --delivery {item['delivery_id']}",
            }
        )
        repository.mark_dead_lettered(item["subject_id"], item["delivery_id"], iso(self.clock()))

    def _attempt(self, item: dict[str, Any], now: float) -> _Result:
        # As every warm function reads accounts: a new webhook secret signs within ACCOUNT_CACHE_SECONDS.
        account = recent_account(item["account_id"])
        if account is None:
            return _Result(
                Response(None, 0, f"account {item['account_id']} no longer exists"), permanent=True
            )
        if not account.webhook_secret:
            return _Result(
                Response(None, 0, "the account has no webhook secret to sign with"), permanent=True
            )

        url = item["url"]
        answers = _ResolveOnce(self.resolve)
        try:
            check_callback_url(
                url,
                field="url",
                max_length=None,
                allow_http_hosts=get_settings().callback_allow_http_hosts,
                resolve=answers,
            )
        except InvalidField as refused:
            # A name that does not resolve now may resolve later (DNS outage): retry that one.
            return _Result(Response(None, 0, f"refused: {refused.message}"), permanent=not answers.unresolved)

        try:
            headers = signed_headers(account.webhook_secret, item["delivery_id"], now, item["body"])
        except ValueError as error:
            return _Result(
                Response(None, 0, f"the account's webhook secret is not valid: {error}"), permanent=True
            )

        host = (urlsplit(url).hostname or "").rstrip(".")
        # Names were resolved by the check: connect to exactly those addresses. IP literals and
        # operator-allowed hosts (the local stack's 127.0.0.1) are used as written.
        addresses = answers.answers.get(host)
        assert self.transport is not None
        response = self.transport.post(url, item["body"].encode(), headers, addresses)
        status = response.http_status
        if status is not None and 300 <= status < 400:
            response = Response(
                status,
                response.latency_ms,
                f"{response.error}; redirect to {response.location or '(no Location)'} not followed",
                response.retry_after,
                response.location,
            )
        return _Result(response, permanent=status in PERMANENT_HTTP_STATUSES)
