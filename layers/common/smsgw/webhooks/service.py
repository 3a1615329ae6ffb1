"""Reliable, signed outbound webhooks: enqueue, list, replay.

Producers (delivery receipts, dispatch) call `enqueue`; it queues a record carrying the delivery,
idempotently on (account, dedupe key): WebhookFunction stores it with its first claim. The inbound
intake stores its delivery in its own transaction (`prepare`, `queue_new`). WebhookFunction delivers each queued attempt
(`smsgw.webhooks.delivery`); `replay` (and `smsgw webhooks replay`) queues failed deliveries again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import time
from datetime import UTC, datetime
from typing import Any

from smsgw.config import get_settings
from smsgw.core.clock import epoch_iso
from smsgw.core.errors import BadRequest, NotFound
from smsgw.observability import logger
from smsgw.webhooks import queue, repository
from smsgw.webhooks.models import PENDING, DeliveryView, NewDelivery

MAX_BODY_BYTES = 64 * 1024  # the delivery item also holds up to a day of attempts (< 400 KB)
MAX_KEY_LENGTH = 512


# Webhook times are epoch seconds (the injectable clock); stored as every other timestamp.
iso = epoch_iso


def expires_at(now: float) -> int:
    """When a delivery stored now expires (its retention)."""
    return int(now) + get_settings().webhook_retention_days * 86_400


def delivery_id_for(account_id: str, dedupe_key: str) -> str:
    """A delivery's id (its `webhook-id`), made of what makes it unique, so that storing its id lookup
    is also the dedupe (one write fewer than a dedupe item of its own). Opaque to receivers, as before
    (earlier versions' ids are ULIDs; both kinds keep working)."""
    digest = hashlib.sha256(f"{account_id}\n{dedupe_key}".encode()).digest()
    return "wh_" + base64.b32encode(digest[:20]).decode().lower()


def enqueue(
    *, account_id: str, url: str, event_type: str, payload: dict[str, Any], subject_id: str, dedupe_key: str
) -> str:
    """Queue a delivery; returns its id. Idempotent on (account_id, dedupe_key): the id is made of them
    (`delivery_id_for`), and a repeated call queues a duplicate record that is never POSTed twice.

    Call it before acknowledging your own input: if it raises (or you die), call it again with the same
    key. It writes nothing: the queue record carries the delivery, and WebhookFunction stores it when it
    takes the first attempt — a write conditional on the id being new, which is both the claim and the
    dedupe (`repository.create_claimed`). A second record for the same id finds it stored and sends only
    what that delivery still owes (nothing, once delivered). Two write units per delivery in all, where
    storing it here took two more (docs/webhooks.md "Enqueue").
    """
    item = _new_delivery(
        account_id=account_id,
        url=url,
        event_type=event_type,
        payload=payload,
        subject_id=subject_id,
        dedupe_key=dedupe_key,
        now=time.time(),
    )
    delivery_id = str(item["delivery_id"])
    queue.send(
        {
            "subject_id": subject_id,
            "delivery_id": delivery_id,
            "attempt": 0,
            "delivery": {name: item[name] for name in repository.CARRIED},
        }
    )
    return delivery_id


def prepare(
    *, account_id: str, url: str, event_type: str, payload: dict[str, Any], subject_id: str, dedupe_key: str
) -> NewDelivery:
    """For a producer that stores its own record in one transaction with the delivery: add `writes` to that
    TransactWriteItems (it is cancelled at the first of them when the dedupe key is taken), then
    `queue_new` once it committed. If queueing fails (or the producer dies before), `enqueue` with the
    same arguments queues it (WebhookFunction finds the delivery stored and takes it as it is)."""
    now = time.time()
    item = _new_delivery(
        account_id=account_id,
        url=url,
        event_type=event_type,
        payload=payload,
        subject_id=subject_id,
        dedupe_key=dedupe_key,
        now=now,
    )
    return NewDelivery(
        subject_id=subject_id,
        delivery_id=str(item["delivery_id"]),
        writes=repository.create_writes(item, expires_at(now)),
    )


def queue_new(delivery: NewDelivery) -> None:
    """Queue the first attempt of a delivery `prepare` built, after the producer's transaction stored it."""
    queue_first_attempt(delivery.subject_id, delivery.delivery_id)


def queue_first_attempt(subject_id: str, delivery_id: str) -> None:
    """Queue the first attempt of a stored delivery — again, when the producer cannot know it was queued.
    Its `queued_attempt` is not noted (one write fewer): a later `enqueue` with the same key, or this
    again, while that attempt is still pending queues it again — a duplicate record the delivery
    function ignores (an attempt is claimed under a condition), never a second POST."""
    queue.send({"subject_id": subject_id, "delivery_id": delivery_id, "attempt": 0})


def _new_delivery(
    *,
    account_id: str,
    url: str,
    event_type: str,
    payload: dict[str, Any],
    subject_id: str,
    dedupe_key: str,
    now: float,
) -> dict[str, Any]:
    """A pending delivery item, its arguments checked (ValueError names the bad one)."""
    for name, value in (
        ("account_id", account_id),
        ("url", url),
        ("event_type", event_type),
        ("subject_id", subject_id),
        ("dedupe_key", dedupe_key),
    ):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string")
    if len(dedupe_key) > MAX_KEY_LENGTH or len(subject_id) > MAX_KEY_LENGTH:
        raise ValueError(f"dedupe_key and subject_id are limited to {MAX_KEY_LENGTH} characters")
    if not isinstance(payload, dict):
        raise ValueError("payload must be a dict (it is sent as a JSON object)")
    try:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"payload is not JSON-serialisable ({error}): convert Decimal/datetime first"
        ) from None
    if len(body.encode()) > MAX_BODY_BYTES:
        raise ValueError(f"payload is {len(body.encode())} bytes as JSON; the maximum is {MAX_BODY_BYTES}")

    return {
        "type": "webhook_delivery",
        "delivery_id": delivery_id_for(account_id, dedupe_key),
        "account_id": account_id,
        "subject_id": subject_id,
        "event_type": event_type,
        "url": url,
        "body": body,
        "state": PENDING,
        "attempt_count": 0,
        "attempts": [],
        "created_at": iso(now),
        "updated_at": iso(now),
    }


def deliveries_for(subject_id: str) -> list[DeliveryView]:
    """Every delivery for a message (or inbound message), with its attempts, oldest first."""
    return [DeliveryView.from_item(item) for item in repository.deliveries(subject_id)]


def replay(
    *, account_id: str | None = None, delivery_id: str | None = None, since: str | None = None
) -> list[str]:
    """Re-queue failed deliveries (all, an account's, one, or those failed since `since`); returns their ids.

    A replayed delivery starts a new round: the backoff schedule and the horizon start again; its
    earlier attempts stay on record.
    """
    since_key = _since_key(since) if since else None
    if delivery_id:
        # Only a failed delivery has an id lookup (written when it failed): the one kind replay takes.
        where = repository.locate(delivery_id)
        if where is None or (account_id and where.get("account_id") != account_id):
            raise NotFound(f"no failed webhook delivery {delivery_id}")
        item = repository.get_delivery(where["subject_id"], delivery_id)
        if item is None:
            raise NotFound(f"no webhook delivery {delivery_id} (it has expired)")
        candidates = [item] if item.get("gsi1pk") == repository.FAILED_INDEX_PK else []
        if since_key:
            candidates = [c for c in candidates if str(c.get("gsi1sk", "")) >= since_key]
    else:
        candidates = repository.failed_deliveries(since=since_key, account_id=account_id)

    now = time.time()
    replayed = []
    for candidate in candidates:
        reopened = repository.reopen(
            candidate["subject_id"], candidate["delivery_id"], iso(now), expires_at(now)
        )
        if reopened is None:  # delivered or replayed meanwhile
            continue
        queue_attempt(
            reopened["subject_id"],
            reopened["delivery_id"],
            attempt=int(reopened["attempt_count"]),
            not_before=None,
            now=now,
        )
        replayed.append(str(reopened["delivery_id"]))
    return replayed


def _since_key(since: str) -> str:
    try:
        moment = datetime.fromisoformat(since.strip())
    except ValueError:
        raise BadRequest(
            f"since {since!r} is not an ISO 8601 time: use e.g. 2025-01-31 or 2025-01-31T12:00:00Z", "since"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment.timestamp())


def queue_attempt(
    subject_id: str, delivery_id: str, *, attempt: int, not_before: float | None, now: float
) -> None:
    """Queue attempt `attempt` (not before `not_before`), then note on the delivery that it is queued."""
    delay = 0 if not_before is None else max(0, math.ceil(not_before - now))
    body: dict[str, Any] = {"subject_id": subject_id, "delivery_id": delivery_id, "attempt": attempt}
    if not_before is not None:
        body["not_before"] = round(not_before, 3)
    queue.send(body, delay_seconds=delay)
    repository.mark_queued(subject_id, delivery_id, attempt)


def _leased(item: dict[str, Any], now: float) -> bool:
    return "lease_until" in item and float(item["lease_until"]) >= now


def requeue_if_lost(item: dict[str, Any], now: float) -> bool:
    """A pending delivery whose next record was never queued (a crash between two writes) is queued."""
    count = int(item["attempt_count"])
    if item["state"] != PENDING or _leased(item, now) or item.get("queued_attempt") == count:
        return False
    next_at = item.get("next_attempt_at")
    queue_attempt(
        item["subject_id"],
        item["delivery_id"],
        attempt=count,
        not_before=float(next_at) if next_at is not None else None,
        now=now,
    )
    logger.warning(
        "webhook re-queued after an interrupted hand-off", extra={"delivery_id": item["delivery_id"]}
    )
    return True
