"""Delivery receipts: verify the carrier's signature, move the part's status forward, derive the
message's status, and tell the client (a signed status callback) about every change.

Receipts come late, twice, out of order, or before dispatch has recorded the carrier's id. All of
that is absorbed here: statuses only move forward (a duplicate or an older status changes nothing
and is acknowledged), and a receipt for an unknown id waits (PENDING item, 1 day) until dispatch
records the id, whichever of the two writes lands first.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from smsgw.accounts import service as accounts_service
from smsgw.carrier.signature import verify_carrier_signature
from smsgw.core import lifecycle
from smsgw.core.clock import now_iso
from smsgw.core.errors import BadRequest
from smsgw.core.ids import is_message_id
from smsgw.core.lifecycle import Status
from smsgw.core.message import Message
from smsgw.core.ports import ConnectorWebhooks, WebhookEnqueue
from smsgw.faults import crash_point
from smsgw.messages import repository as messages_repository
from smsgw.observability import delivery_metric, logger, metrics
from smsgw.receipts import repository
from smsgw.receipts.models import FINAL, FINAL_SEVERITY, RANK, DeliveryReceipt
from smsgw.receipts.ports import AccountCache, MessageReceipts
from smsgw.routing import service as routing_service
from smsgw.routing.models import DEFAULT_CONNECTOR
from smsgw.webhooks import service as webhooks_service

# What receipts use of the other domains (receipts/ports.py), checked by mypy.
messages: MessageReceipts = messages_repository
webhooks: WebhookEnqueue = webhooks_service
accounts: AccountCache = accounts_service
connectors: ConnectorWebhooks = routing_service

PENDING_SECONDS = 86_400
STATUS_EVENT = "message.status"


def verify_signature(params: Mapping[str, str], secret: str, method: str, now: float, max_age: int) -> None:
    verify_carrier_signature(params, secret, method, now, max_age, what="receipt")


def parse(params: Mapping[str, str]) -> DeliveryReceipt:
    carrier_message_id = params.get("messageId") or params.get("message-id") or ""
    if not carrier_message_id:
        raise BadRequest("messageId is required", "messageId")
    status = (params.get("status") or "").lower()
    if status not in RANK or status == Status.SUBMITTED:
        raise BadRequest(
            f"status must be one of {', '.join(sorted(set(RANK) - {Status.SUBMITTED}))}", "status"
        )
    return DeliveryReceipt.from_item({**params, "messageId": carrier_message_id, "status": status})


def receive(params: Mapping[str, str], now: float | None = None, connector: str = DEFAULT_CONNECTOR) -> str:
    """Handle one receipt from the carrier of `connector` (whose endpoint it came to); returns what
    happened (applied, duplicate, pending).

    Carrier ids are looked up in one namespace for every connector: they do not collide (docs/routing.md,
    "Receipts and inbound SMS per connector")."""
    connectors.verify_webhook(connector, params, "receipt", now)
    receipt = parse(params)
    outcome = apply(receipt)
    logger.info(
        "receipt",
        extra={
            "carrier_message_id": receipt.carrier_message_id,
            "status": receipt.status,
            "outcome": outcome,
        },
    )
    metrics.add_metric(name=f"Receipts_{outcome}", unit="Count", value=1)
    return outcome


def apply(receipt: DeliveryReceipt) -> str:
    found = _find_part(receipt)
    if found is None:
        repository.keep_pending(
            receipt.carrier_message_id, receipt.as_item(), int(time.time()) + PENDING_SECONDS
        )
        _confirm(receipt)
        # Dispatch may have recorded the id between the two reads; if so, apply what waits now.
        found = _find_part(receipt)
        if found is None:
            return "pending"
        _apply_waiting(found[0], {receipt.carrier_message_id: found[1]})
        return "applied"
    return _apply_to(found[0], found[1], receipt)


def _find_part(receipt: DeliveryReceipt) -> tuple[str, int] | None:
    """The message and part (1-based) a receipt is for: the message its client-ref names, when one of
    its parts has the receipt's carrier id (dispatch sends our message id as client-ref and Vonage's
    receipts echo it; dispatch then writes no carrier id lookup), else the carrier id's lookup."""
    if is_message_id(receipt.client_ref or ""):
        message = messages.load(receipt.client_ref, consistent=True)
        ids = message.carrier_message_ids() if message is not None else []
        if receipt.carrier_message_id in ids:
            return receipt.client_ref, ids.index(receipt.carrier_message_id) + 1
    return messages.find_by_carrier_id(receipt.carrier_message_id)


def _confirm(receipt: DeliveryReceipt) -> None:
    """A receipt for a carrier id we never recorded, naming our message in its client-ref (dispatch sends
    our id there): the carrier has that message although its answer was lost. Dispatch reconciles from
    this instead of resubmitting; a message already reconciled gets this id as its next part."""
    if not is_message_id(receipt.client_ref or ""):
        return
    message = messages.confirm_carrier_id(receipt.client_ref, receipt.carrier_message_id)
    if message is None or message.status in lifecycle.BEFORE_CARRIER:
        return  # dispatch reconciles it on its next attempt
    for _ in range(3):
        known = message.carrier_message_ids()
        if receipt.carrier_message_id in known:
            # Recorded as submitted, but its lookup not yet written (dispatch writes it right after, or
            # died in between): write it, so this receipt is applied now.
            messages.record_carrier_ids(message.message_id, known, message.expires_at)
            return
        if len(known) >= message.parts:
            return
        if messages.attach_carrier_part(
            receipt.client_ref, receipt.carrier_message_id, len(known), message.expires_at
        ):
            return
        reread = messages.load(receipt.client_ref, consistent=True)
        if reread is None:  # gone meanwhile (retention): nothing to attach to
            return
        message = reread


def apply_pending(message_id: str, carrier_message_ids: Sequence[str]) -> None:
    """Apply receipts that arrived before dispatch recorded these ids, the message's parts' in order
    (called right after it did)."""
    _apply_waiting(message_id, {cid: n for n, cid in enumerate(carrier_message_ids, start=1) if cid})


def _apply_waiting(message_id: str, parts: Mapping[str, int]) -> None:
    """Apply what waits for each carrier id of `parts` (carrier id → part). Applying is idempotent
    (statuses only move forward), so: apply what waits, then remove exactly that; a receipt kept
    meanwhile makes the removal fail, and the loop applies it too."""
    for carrier_message_id, items in repository.pending(list(parts)).items():
        while items:
            for item in sorted(items, key=lambda i: RANK.get(Status(i.get("status", Status.SUBMITTED)), 0)):
                _apply_to(message_id, parts[carrier_message_id], DeliveryReceipt.from_item(item))
            if repository.drop_pending(carrier_message_id, len(items)):
                break
            items = repository.pending_for(carrier_message_id)


def message_status(message: Message) -> tuple[Status, str | None]:
    """A message is as far as its least advanced part; once all parts are final, the worst outcome."""
    return _status_of([Status(status) for status in message.part_statuses()])


def _status_of(statuses: list[Status]) -> tuple[Status, str | None]:
    if all(status in FINAL for status in statuses):
        worst = max(statuses, key=lambda s: FINAL_SEVERITY[s])
        failing = [f"part {n}: {s}" for n, s in enumerate(statuses, start=1) if s != "delivered"]
        return worst, "; ".join(failing) or None
    return min(statuses, key=lambda s: RANK[s]), None


def _apply_to(message_id: str, part: int, receipt: DeliveryReceipt) -> str:
    at = now_iso()
    part_status = receipt.part_status_item()
    if part == 1:
        # Most messages have one part: its status is the message's, both written at once.
        status, detail = _status_of([receipt.status])
        written, found = messages.set_only_part_status(
            message_id, part_status, receipt.rank, status, at, detail
        )
        if written and found is not None:
            crash_point("receipt.apply", message_id)
            if status in FINAL:
                _count_final(found, status)
            notify(found, status, at, part=part, receipt=receipt)
            return "applied"
        if found is None:
            return "duplicate"
        if found.parts == 1 and RANK[Status(found.part_status_of(1) or Status.SUBMITTED)] >= receipt.rank:
            return _applied_before(message_id, part, receipt, found, at)
        # Several parts, or the message's own status ahead of its part: one write for each.
    message = messages.set_part_status(message_id, part, part_status, receipt.rank)
    if message is None:
        message = messages.load(message_id, consistent=True)
        if message is None:
            return "duplicate"
        return _applied_before(message_id, part, receipt, message, at)
    crash_point("receipt.apply", message_id)
    status, detail = message_status(message)
    if messages.advance_status(message_id, status, RANK[status], at, detail) and status in FINAL:
        _count_final(message, status)
    notify(message, status, at, part=part, receipt=receipt)
    return "applied"


def _applied_before(message_id: str, part: int, receipt: DeliveryReceipt, message: Message, at: str) -> str:
    """The part already has this status or a later one. The carrier resends a receipt we did not
    acknowledge: if what follows the part's status (the message's status, the callback) was never done
    (a failure after the status write), do it now; both are idempotent (a rank condition, the
    callback's dedupe key)."""
    if message.part_status_of(part) != receipt.status:
        return "duplicate"
    status, detail = message_status(message)
    if messages.advance_status(message_id, status, RANK[status], at, detail) and status in FINAL:
        _count_final(message, status)
    notify(message, status, at, part=part, receipt=receipt)
    return "duplicate"


def _count_final(message: Message, status: Status) -> None:
    """Counted once, by the write that made the message final: delivered or not, and how long it took."""
    carrier, country = message.connector or message.primary_connector, message.country
    if status != Status.DELIVERED:
        delivery_metric("MessagesUndelivered", carrier=carrier, country=country)
        return
    delivery_metric("MessagesDelivered", carrier=carrier, country=country)
    if message.submitted_at:
        took = time.time() - datetime.fromisoformat(message.submitted_at).timestamp()
        delivery_metric("DeliveryLatency", carrier=carrier, country=country, milliseconds=took * 1000)


def notify(
    message: Message,
    message_status: str,
    at: str,
    part: int | None = None,
    receipt: DeliveryReceipt | None = None,
) -> str | None:
    """A signed status callback for this change, to the message's `callback` or the account's status URL."""
    account = accounts.cached_account(message.account_id)
    url = message.callback or account.status_url
    if not url:
        return None
    part_id = message.part_ids[part - 1] if part else None
    status = receipt.status if receipt else message_status
    payload: dict[str, Any] = {
        "type": STATUS_EVENT,
        "message_id": message.message_id,
        "part_id": part_id,
        "part": part,
        "parts": message.parts,
        "status": status,
        "message_status": message_status,
        "to": message.to,
        "from": message.sender,
        "client-ref": message.client_ref,
        "carrier": receipt.carrier_fields() if receipt else None,
        "timestamp": at,
    }
    return webhooks.enqueue(
        account_id=message.account_id,
        url=url,
        event_type=STATUS_EVENT,
        payload=payload,
        subject_id=message.message_id,
        dedupe_key=f"status:{part_id or message.message_id}:{status}",
    )
