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

import math
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from smsgw import queues
from smsgw.accounts import service as accounts_service
from smsgw.carrier.base import (
    Carrier,
    CarrierError,
    CarrierRejected,
    CarrierThrottled,
    CarrierTransientError,
)
from smsgw.config import get_settings
from smsgw.core import lifecycle
from smsgw.core.clock import epoch_iso, now_iso
from smsgw.core.lifecycle import Status
from smsgw.core.message import Message
from smsgw.dispatch import breaker, connectors
from smsgw.dispatch.pacing import Deferred, Slot, on_the_way, reserve_slot
from smsgw.dispatch.ports import AccountLookup, Connectors, MessageLeases, StatusNotices
from smsgw.faults import crash_point
from smsgw.messages import repository as messages_repository
from smsgw.messages.repository import ClaimRefused
from smsgw.observability import count, delivery_metric, logger, metrics
from smsgw.receipts import service as receipts_service
from smsgw.routing import service as routing_service
from smsgw.routing.models import Connector

# What dispatch uses of the other domains (dispatch/ports.py), checked by mypy.
messages: MessageLeases = messages_repository
receipts: StatusNotices = receipts_service
accounts: AccountLookup = accounts_service
routing: Connectors = routing_service

MAX_BACKOFF_SECONDS = 900
# Keep this much of the invocation for the carrier call and the bookkeeping after a slot.
SAFETY_SECONDS = 15.0
# While reconciling an unconfirmed submission, look for its receipt this often.
RECONCILE_POLL_SECONDS = 15
# A carrier "throttled" answer is retried at the next pacing slot this often before it is re-queued.
THROTTLE_RETRIES_IN_PLACE = 2
# A pacing slot reached later than this is not used (_wait_for_slot); at most this many are skipped
# in a row before the message is sent at the last one however late.
LATE_SLOT_SECONDS = 0.015
LATE_SLOT_SKIPS = 3


class RetryLater(Exception):
    """The record fails on purpose so SQS delivers it again after its (extended) visibility timeout."""


def backoff_seconds(receive_count: int) -> int:
    """5 s, 10 s, 20 s … capped at 15 min, with ±20 % jitter so retries spread out."""
    base = min(MAX_BACKOFF_SECONDS, 5 * 2 ** max(receive_count - 1, 0))
    return max(1, int(base * random.uniform(0.8, 1.2)))


def _parts(result_parts: Any) -> list[dict[str, Any]]:
    return [
        {"carrier_message_id": p.carrier_message_id, "network": p.network or "", "price": p.price or ""}
        for p in result_parts
    ]


def _defer(message_id: str, seconds: float, reason: str) -> None:
    messages.release(message_id, now_iso(), reason)
    queues.enqueue_dispatch(message_id, delay_seconds=max(1, round(seconds)))
    metrics.add_metric(name="DispatchDeferred", unit="Count", value=1)


def _unconfirmed_since(claimed: Message) -> float | None:
    """When an earlier submission of this message may have reached the carrier without us knowing:
    an invocation that died holding it (we take over its lease), or one that got no answer."""
    if claimed.claimed_from == Status.SUBMITTING:
        previous_lease = claimed.previous_lease or 0
        return float(previous_lease - get_settings().dispatch_lease_seconds)
    since = claimed.unconfirmed_since
    return datetime.fromisoformat(since).timestamp() if since else None


# _reconcile found no receipt for an unconfirmed submission within the window: submit again.
RESUBMIT = "resubmit"


def _reconcile(claimed: Message, now: float) -> str | None:
    """Before submitting again after an ambiguous outcome, ask the carrier's receipts: the carrier
    echoes our message id as `client-ref` in each. A receipt came → the carrier has it: record it as
    submitted, never resubmit. None yet → wait for one (bounded); still none after the window →
    resubmit (RESUBMIT). None: nothing was ambiguous, go on. The message's timeline says which path
    was taken."""
    message_id = claimed.message_id
    confirmed = sorted(claimed.carrier_confirmed)
    if confirmed:  # whatever we were told before: a receipt proves the carrier has it
        parts = [{"carrier_message_id": c, "network": "", "price": ""} for c in confirmed[: claimed.parts]]
        if messages.mark_submitted(
            message_id,
            now_iso(),
            parts,
            claimed.expires_at,
            "reconciled: the carrier's receipt shows it accepted the earlier submission; not resubmitted",
            connector=claimed.connector,
        ):
            messages.record_carrier_ids(message_id, confirmed[: claimed.parts], claimed.expires_at)
        metrics.add_metric(name="DispatchReconciled", unit="Count", value=1)
        receipts.apply_pending(message_id, confirmed[: claimed.parts])
        return "reconciled"
    since = _unconfirmed_since(claimed)
    if since is None:
        return None
    window = get_settings().dispatch_reconcile_seconds
    if now < since + window:
        at = epoch_iso(since)
        messages.release(
            message_id,
            now_iso(),
            "waiting for the carrier's receipt of an unconfirmed submission before submitting again",
            unconfirmed_since=at,
        )
        queues.enqueue_dispatch(
            message_id, delay_seconds=max(1, min(RECONCILE_POLL_SECONDS, round(since + window - now)))
        )
        return "reconciling"
    logger.warning("no receipt for an unconfirmed submission; resubmitting", extra={"message_id": message_id})
    metrics.add_metric(name="DispatchResubmittedUnconfirmed", unit="Count", value=1)
    return RESUBMIT


def _unconfirmed(claimed: Message, detail: str, connector: str) -> str:
    """No answer from the carrier (it may have accepted): wait for its receipt instead of resubmitting."""
    at = now_iso()
    messages.release(
        claimed.message_id, at, detail, unconfirmed_since=at, event="unconfirmed", connector=connector
    )
    queues.enqueue_dispatch(claimed.message_id, delay_seconds=RECONCILE_POLL_SECONDS)
    metrics.add_metric(name="DispatchUnconfirmed", unit="Count", value=1)
    return "unconfirmed"


def _claim_scheduled(message: Message, now: float, lease_until: int) -> Message | str:
    """A scheduled message's time has come: charge and claim it, or say why not (an outcome)."""
    message_id = message.message_id
    # Every scheduled message has its send_at; one without would be due now.
    due = datetime.fromisoformat(message.send_at).timestamp() if message.send_at else now
    if due > now + 1:
        # Never early, whatever the scheduler's precision: look again at the due time.
        queues.enqueue_dispatch(message_id, delay_seconds=min(int(due - now) + 1, 900))
        return "early"
    at = now_iso()
    try:
        return messages.claim_scheduled(message, lease_until, at)
    except ClaimRefused as refused:
        if refused.reason == "not_scheduled":
            return "duplicate"  # cancelled meanwhile, or claimed by a duplicate delivery
        cap_reached = refused.detail if refused.reason == "daily_cap" else None
    account = accounts.get_account(message.account_id, consistent=True)
    reason = cap_reached or (
        "the account is disabled; nothing was sent or charged"
        if account is None or account.disabled
        else f"insufficient balance at the send time (needed {message.price} {message.currency}"
        f", had {account.balance}); nothing was sent or charged"
    )
    failed = messages.fail_scheduled(message_id, at, reason)
    if failed is not None:
        receipts.notify(failed, "failed", at)
        metrics.add_metric(name="MessagesFailed", unit="Count", value=1)
    return "unpaid"


def _young(sent_at: float, now: float) -> bool:
    """Was the record sent within the grace period (its message may still be on its way)?"""
    return now - sent_at < get_settings().dispatch_orphan_grace_seconds


def _not_stored_yet(message_id: str, now: float, sent_at: float | None) -> str:
    """A record for a message that is not stored. The send path enqueues before it charges and stores,
    so the message may still be on its way (on the local emulator the record often overtakes it), or
    was never accepted (refused, or the function died in between). Look again after a wait that doubles
    with the record's age (1, 1, 2, 4, 8 … s) through a new record carrying the first one's time (this
    one is acknowledged, so looking never uses up receive counts); after the grace period, drop it."""
    if sent_at is None or not _young(sent_at, now):
        return "not_accepted"
    age = max(now - sent_at, 0.0)
    remaining = sent_at + get_settings().dispatch_orphan_grace_seconds - now
    queues.enqueue_dispatch(
        message_id, delay_seconds=max(1, math.ceil(min(age, remaining))), first_sent_at=sent_at
    )
    return "not_stored_yet"


def _fail_over(claimed: Message, route: list[str], failed: str, detail: str) -> str | None:
    """An unambiguous failure (the carrier answered, or nothing was sent): with another connector left in
    its route, the message takes it at once ("failed_over"). None: no other left — the caller retries with
    backoff and forgets the failed ones, so the next round starts again from the route's first connector."""
    if len(route) < 2:
        return None
    tried = claimed.failed_connectors | {failed}
    if all(name in tried for name in route):
        return None
    messages.release(
        claimed.message_id,
        now_iso(),
        f"{detail}; moving to the next connector of its route",
        event="failed_over",
        failed_connector=failed,
    )
    queues.enqueue_dispatch(claimed.message_id, delay_seconds=0)
    count("DispatchFailedOver")
    return "failed_over"


def _carrier_failed(error: CarrierError) -> None:
    """Count what the carrier answered: the alarms watch the share of refused and failed submissions."""
    count("CarrierRejected" if isinstance(error, CarrierRejected) else "CarrierErrors")
    if error.authentication_failed:
        count("CarrierAuthFailures")
        logger.error(
            "the carrier refused our credentials: check the carrier secret",
            extra={"status": error.status, "http_status": error.http_status},
        )


def _submitted_after(message: Message, carrier: str) -> None:
    """Accept→submit latency: from when the message was due (its send time when it was held)."""
    due = message.send_at or message.created_at
    waited = time.time() - datetime.fromisoformat(due).timestamp()
    delivery_metric("SubmitLatency", carrier=carrier, country=message.country, milliseconds=waited * 1000)


def _wait_for_slot(
    pacer: str,
    paced_rate: float,
    max_wait_setting: float,
    deadline: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float] = time.time,
) -> Slot | Deferred:
    """Reserve the connector's next slot and sleep until it. A slot this invocation reaches more than
    LATE_SLOT_SECONDS after its time (a busy machine, a slow pacer write) is left unused and another is
    taken: sent late, it would land right before the next slot's holder sends on time, and the carrier
    counts any 1 s — the headroom below its rate absorbs about 30 ms of such crowding, not more."""
    slot: Slot | Deferred = Deferred(seconds=1.0 / paced_rate)
    for _ in range(LATE_SLOT_SKIPS + 1):
        now = clock()
        max_wait = min(max_wait_setting, max(deadline - now - SAFETY_SECONDS, 0.0))
        slot = reserve_slot(pacer, paced_rate, now, max_wait, clock)
        if isinstance(slot, Deferred):
            return slot
        if slot.at > clock():
            sleep(slot.at - clock())
        if clock() - slot.at <= LATE_SLOT_SECONDS:
            return slot
        count("PacingSlotSkipped")
    return slot


@on_the_way()  # a batch's records reserve their slots together (dispatch/pacing.py)
def dispatch_one(
    message_id: str,
    receive_count: int,
    receipt_handle: str,
    deadline: float,
    carrier: Callable[[], Carrier] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    sent_at: float | None = None,
) -> str:
    """Handle one queue record; returns the outcome (for logs and tests) or raises RetryLater."""
    settings = get_settings()
    now = time.time()
    lease_until = int(now) + settings.dispatch_lease_seconds
    claimed = messages.claim(message_id, int(now), lease_until, now_iso())
    current = None if claimed is not None else messages.load(message_id, consistent=True)
    if current is not None and current.status == Status.QUEUED:
        # Stored (the send path enqueues first) or released between the claim and the read: claim again.
        claimed = messages.claim(message_id, int(now), lease_until, now_iso())
        current = None if claimed is not None else messages.load(message_id, consistent=True)
    if claimed is None:
        if current is None:
            return _not_stored_yet(message_id, now, sent_at)
        if current.status in lifecycle.HANDED_OVER:
            # A replay after an invocation died after recording the submission: the carrier id lookups
            # may be missing (written after the status), and receipts that waited for these ids are
            # still waiting (deleted only once applied). Both again: idempotent. Final is not done: a
            # one-part message's receipt makes it final in one write, before its callback.
            ids = current.carrier_message_ids()
            messages.record_carrier_ids(message_id, ids, current.expires_at)
            receipts.apply_pending(message_id, ids)
            return "duplicate"
        if current.status != Status.SCHEDULED:
            # Another invocation holds the lease; look again when it should have finished.
            queues.postpone(receipt_handle, settings.dispatch_lease_seconds)
            raise RetryLater(f"message {message_id} is being submitted by another invocation")
        scheduled = _claim_scheduled(current, now, lease_until)
        if isinstance(scheduled, str):
            return scheduled
        claimed = scheduled

    reconciled = _reconcile(claimed, now)
    if reconciled is not None and reconciled != RESUBMIT:
        return reconciled

    known = {candidate.name: candidate for candidate in routing.connectors()}
    route = connectors.route_of(claimed, known)
    chosen = connectors.choose(claimed, route, known, now)
    if not isinstance(chosen, Connector):
        _defer(message_id, chosen - now, "every connector of its route is open (circuit breaker); waiting")
        return "deferred"
    connector = chosen
    client = carrier or (lambda: connectors.client_for(connector))
    # Each connector is paced at its own rate across every function (one pacer item per connector).
    paced_rate = connector.rate_per_second * (1 - settings.carrier_rate_headroom)
    for attempt in range(THROTTLE_RETRIES_IN_PLACE + 1):
        slot = _wait_for_slot(connector.name, paced_rate, settings.dispatch_max_wait_seconds, deadline, sleep)
        if isinstance(slot, Deferred):
            _defer(message_id, slot.seconds, "waiting for a carrier slot (pacing)")
            return "deferred"
        try:
            result = client().submit(connectors.submission(claimed, connector))
            break
        except CarrierThrottled as error:
            if attempt < THROTTLE_RETRIES_IN_PLACE:
                # Another slot now costs 1/rate; going back through the queue costs seconds.
                metrics.add_metric(name="CarrierThrottledRetried", unit="Count", value=1)
                continue
            _defer(message_id, error.retry_after or 1.0, f"carrier throttled: {error.error_text}")
            return "throttled"
        except CarrierRejected as error:
            _carrier_failed(error)
            accepted = _parts(getattr(error, "accepted_parts", ()))
            at = now_iso()
            messages.mark_failed(
                message_id,
                at,
                f"carrier rejected (status {error.status}): {error.error_text}",
                accepted,
                connector=connector.name,
            )
            receipts.notify(claimed, "failed", at)
            metrics.add_metric(name="MessagesFailed", unit="Count", value=1)
            return "failed"
        except CarrierTransientError as error:
            _carrier_failed(error)
            breaker.failed(connector.name, time.time())
            detail = f"carrier error (status {error.status}, http {error.http_status}): {error.error_text}"
            if error.ambiguous:
                return _unconfirmed(claimed, detail, connector.name)
            moved = _fail_over(claimed, route, connector.name, detail)
            if moved:
                return moved
            last_try = receive_count >= settings.dispatch_max_receives
            messages.release(
                message_id,
                now_iso(),
                detail,
                dead_lettered=last_try,
                forget_failed_connectors=len(route) > 1,
                event="carrier_error",
                attempted_on=connector.name,
            )
            if not last_try:
                queues.postpone(receipt_handle, backoff_seconds(receive_count))
            logger.warning("carrier error; will retry", extra={"message_id": message_id, "error": detail})
            raise RetryLater(detail) from None
        except CarrierError as error:  # any other carrier outcome is treated as transient
            _carrier_failed(error)
            breaker.failed(connector.name, time.time())
            moved = _fail_over(claimed, route, connector.name, str(error))
            if moved:
                return moved
            messages.release(
                message_id,
                now_iso(),
                str(error),
                forget_failed_connectors=len(route) > 1,
                event="carrier_error",
                attempted_on=connector.name,
            )
            raise RetryLater(str(error)) from None

    crash_point("dispatch.after_submit", message_id)
    parts = _parts(result.parts)
    how = "resubmitted: no receipt came for an unconfirmed submission" if reconciled == RESUBMIT else None
    carrier_ids = [p["carrier_message_id"] for p in parts]
    if messages.mark_submitted(
        message_id, now_iso(), parts, claimed.expires_at, how, connector=connector.name
    ):
        crash_point("dispatch.after_status", message_id)
        if not connector.receipts_name_the_message:  # else its receipts find the message by client-ref
            messages.record_carrier_ids(message_id, carrier_ids, claimed.expires_at)
    count("MessagesSubmitted")
    breaker.succeeded(connector.name, time.time())
    _submitted_after(claimed, connector.name)
    # Receipts can overtake this write; the ones that arrived first are waiting for their ids.
    receipts.apply_pending(message_id, carrier_ids)
    return "submitted"
