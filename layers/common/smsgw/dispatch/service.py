"""Process send-queue records: claim the message, take a pacing slot, submit, record the outcome.

Outcomes per record:
- submitted / failed (permanent carrier rejection): recorded, record acknowledged.
- already handled (a redelivered SQS message): acknowledged, nothing resubmitted.
- deferred (pacing slot too far ahead, or the carrier throttled): the message goes back to `queued`
  and is re-enqueued with a delay; the original record is acknowledged, so waiting for the carrier
  never uses up the record's receive count.
- transient carrier error: back to `queued`, the record fails (partial batch failure) with an
  exponential backoff; after the queue's maxReceiveCount it lands in the dead-letter queue and the
  message says so (`dead_lettered_at`, `last_error`).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from smsgw import queues
from smsgw.accounts import repository as accounts
from smsgw.carrier.base import (
    Carrier,
    CarrierError,
    CarrierRejected,
    CarrierThrottled,
    CarrierTransientError,
    Submission,
)
from smsgw.carrier.factory import make_carrier
from smsgw.carrier.signature import carrier_webhook_url
from smsgw.config import get_settings
from smsgw.dispatch.pacing import Deferred, reserve_slot
from smsgw.messages import repository as messages
from smsgw.observability import logger, metrics
from smsgw.receipts import service as receipts
from smsgw.secrets import carrier_credentials

TERMINAL = {messages.SUBMITTED, messages.FAILED, messages.CANCELLED, "delivered", "expired", "rejected"}
MAX_BACKOFF_SECONDS = 900
# Keep this much of the invocation for the carrier call and the bookkeeping after a slot.
SAFETY_SECONDS = 15.0
# A carrier "throttled" answer is retried at the next pacing slot this often before it is re-queued.
THROTTLE_RETRIES_IN_PLACE = 2


class RetryLater(Exception):
    """The record fails on purpose so SQS delivers it again after its (extended) visibility timeout."""


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def backoff_seconds(receive_count: int) -> int:
    """5 s, 10 s, 20 s … capped at 15 min, with ±20 % jitter so retries spread out."""
    base = min(MAX_BACKOFF_SECONDS, 5 * 2 ** max(receive_count - 1, 0))
    return max(1, int(base * random.uniform(0.8, 1.2)))


@cache
def _carrier() -> Carrier:
    settings = get_settings()
    return make_carrier(settings.carrier_provider, settings.carrier_base_url, carrier_credentials())


def _submission(message: dict[str, Any]) -> Submission:
    # The client's `callback` is where *we* report status; the carrier reports receipts to us.
    params = {key: str(value) for key, value in (message.get("params") or {}).items() if key != "callback"}
    receipt_url = get_settings().carrier_receipt_url
    if receipt_url:
        params["callback"] = carrier_webhook_url(receipt_url)  # with the webhook token, if any
    return Submission(
        sender=message["from"],
        to=message["to"],
        text=message.get("text"),
        type=message.get("sms_type", "text"),
        params=params,
    )


def _parts(result_parts: Any) -> list[dict[str, Any]]:
    return [
        {"carrier_message_id": p.carrier_message_id, "network": p.network or "", "price": p.price or ""}
        for p in result_parts
    ]


def _defer(message_id: str, seconds: float, reason: str) -> None:
    messages.release(message_id, _now_iso(), reason)
    queues.enqueue_dispatch(message_id, delay_seconds=max(1, round(seconds)))
    metrics.add_metric(name="DispatchDeferred", unit="Count", value=1)


def _claim_scheduled(message: dict[str, Any], now: float, lease_until: int) -> dict[str, Any] | str:
    """A scheduled message's time has come: charge and claim it, or say why not (an outcome)."""
    message_id = message["message_id"]
    due = datetime.fromisoformat(message["send_at"]).timestamp()
    if due > now + 1:
        # Never early, whatever the scheduler's precision: look again at the due time.
        queues.enqueue_dispatch(message_id, delay_seconds=min(int(due - now) + 1, 900))
        return "early"
    at = _now_iso()
    try:
        return messages.claim_scheduled(message, lease_until, at)
    except messages.ClaimRefused as refused:
        if refused.reason == "not_scheduled":
            return "duplicate"  # cancelled meanwhile, or claimed by a duplicate delivery
    account = accounts.get_account(message["account_id"], consistent=True)
    reason = (
        "the account is disabled; nothing was sent or charged"
        if account is None or account.disabled
        else f"insufficient balance at the send time (needed {message['price']} {message.get('currency', '')}"
        f", had {account.balance}); nothing was sent or charged"
    )
    failed = messages.fail_scheduled(message_id, at, reason)
    if failed is not None:
        receipts.notify(failed, "failed", at)
        metrics.add_metric(name="MessagesFailed", unit="Count", value=1)
    return "unpaid"


def dispatch_one(
    message_id: str,
    receive_count: int,
    receipt_handle: str,
    deadline: float,
    carrier: Callable[[], Carrier] = _carrier,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Handle one queue record; returns the outcome (for logs and tests) or raises RetryLater."""
    settings = get_settings()
    now = time.time()
    lease_until = int(now) + settings.dispatch_lease_seconds
    claimed = messages.claim(message_id, int(now), lease_until, _now_iso())
    if claimed is None:
        current = messages.get_message(message_id, consistent=True)
        if current is None or current["status"] in TERMINAL:
            return "duplicate"
        if current["status"] != messages.SCHEDULED:
            # Another invocation holds the lease; look again when it should have finished.
            queues.postpone(receipt_handle, settings.dispatch_lease_seconds)
            raise RetryLater(f"message {message_id} is being submitted by another invocation")
        scheduled = _claim_scheduled(current, now, lease_until)
        if isinstance(scheduled, str):
            return scheduled
        claimed = scheduled

    paced_rate = settings.carrier_rate_per_second * (1 - settings.carrier_rate_headroom)
    for attempt in range(THROTTLE_RETRIES_IN_PLACE + 1):
        now = time.time()
        max_wait = min(settings.dispatch_max_wait_seconds, max(deadline - now - SAFETY_SECONDS, 0.0))
        slot = reserve_slot(settings.carrier_provider, paced_rate, now, max_wait)
        if isinstance(slot, Deferred):
            _defer(message_id, slot.seconds, "waiting for a carrier slot (pacing)")
            return "deferred"
        if slot.at > time.time():
            sleep(slot.at - time.time())
        try:
            result = carrier().submit(_submission(claimed))
            break
        except CarrierThrottled as error:
            if attempt < THROTTLE_RETRIES_IN_PLACE:
                # Another slot now costs 1/rate; going back through the queue costs seconds.
                metrics.add_metric(name="CarrierThrottledRetried", unit="Count", value=1)
                continue
            _defer(message_id, error.retry_after or 1.0, f"carrier throttled: {error.error_text}")
            return "throttled"
        except CarrierRejected as error:
            accepted = _parts(getattr(error, "accepted_parts", ()))
            at = _now_iso()
            messages.mark_failed(
                message_id, at, f"carrier rejected (status {error.status}): {error.error_text}", accepted
            )
            receipts.notify(claimed, "failed", at)
            metrics.add_metric(name="MessagesFailed", unit="Count", value=1)
            return "failed"
        except CarrierTransientError as error:
            last_try = receive_count >= settings.dispatch_max_receives
            detail = f"carrier error (status {error.status}, http {error.http_status}): {error.error_text}"
            messages.release(message_id, _now_iso(), detail, dead_lettered=last_try)
            if not last_try:
                queues.postpone(receipt_handle, backoff_seconds(receive_count))
            logger.warning("carrier error; will retry", extra={"message_id": message_id, "error": detail})
            raise RetryLater(detail) from None
        except CarrierError as error:  # any other carrier outcome is treated as transient
            messages.release(message_id, _now_iso(), str(error))
            raise RetryLater(str(error)) from None

    parts = _parts(result.parts)
    messages.mark_submitted(message_id, _now_iso(), parts, int(claimed["expires_at"]))
    metrics.add_metric(name="MessagesSubmitted", unit="Count", value=1)
    # Receipts can overtake this write; the ones that arrived first are waiting for their ids.
    receipts.apply_pending([p["carrier_message_id"] for p in parts])
    return "submitted"


def process_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS batch with partial failures: only the records that must be retried are reported."""
    # Report every failed record (even all of them) instead of failing the invocation: a failed
    # invocation would retry the whole batch, including records that were submitted.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    budget_ms = context.get_remaining_time_in_millis() if context is not None else 60_000
    deadline = time.time() + budget_ms / 1000

    def handle(record: SQSRecord) -> str:
        message_id = json.loads(record.body)["message_id"]
        receive_count = int(record.attributes.approximate_receive_count or 1)
        outcome = dispatch_one(message_id, receive_count, record.receipt_handle, deadline)
        logger.info("dispatched", extra={"message_id": message_id, "outcome": outcome})
        return outcome

    return dict(
        process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    )
