"""Reading messages (GET /messages, GET /messages/{id}) and cancelling a held one (DELETE).

Apart from the send path (smsgw.messages.service) so SendFunction never loads the webhook domain
(`requests` and the signer: ≈60 ms of cold start) that a message's callback history needs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from ulid import ULID

from smsgw import keys, scheduler
from smsgw.core.clock import now_iso
from smsgw.core.errors import BadRequest, Conflict, NotFound
from smsgw.core.ids import message_id_of
from smsgw.core.lifecycle import ALL, RANK, Status
from smsgw.core.message import Message
from smsgw.messages import pricing, repository
from smsgw.messages.ports import DeliveryHistory
from smsgw.messages.views import CarrierAttempt, MessageEvent, MessagePage, MessagePart, MessageView
from smsgw.observability import logger
from smsgw.pagination import check_limit, decode_cursor, encode_cursor
from smsgw.webhooks import service as webhooks_service

# What reading uses of the webhooks domain (messages/ports.py), checked by mypy.
webhooks: DeliveryHistory = webhooks_service


def _part_status(message: Message, part: int) -> str:
    """A part's status: its latest receipt's; before any, the message's while the carrier does not have it
    (scheduled, queued, submitting, cancelled, failed), else `submitted`."""
    received = message.part_status_of(part)
    if received is not None:
        return received
    return Status.SUBMITTED if message.status in RANK else message.status.value


def _view(message: Message) -> MessageView:
    """The owner's view. The carrier's price per part is not in it: that is the operator's cost, not
    what the account pays (`price`)."""
    carrier_parts = message.carrier_parts or ()
    parts = [
        MessagePart(
            message_id=part_id,
            status=_part_status(message, n + 1),
            carrier_message_id=carrier_parts[n].carrier_message_id if n < len(carrier_parts) else None,
            network=carrier_parts[n].network or None if n < len(carrier_parts) else None,
        )
        for n, part_id in enumerate(message.part_ids)
    ]
    return MessageView(
        message_id=message.message_id,
        status=message.status.value,
        from_=message.sender,
        to=message.to,
        type=message.sms_type,
        text=None if message.redact_text else message.text,
        client_ref=message.client_ref,
        parts=parts,
        price=pricing.money(message.price),
        currency=message.currency,
        created_at=message.created_at,
        updated_at=message.updated_at,
        submitted_at=message.submitted_at,
        connector=message.connector,
        route=message.route_id,
        send_at=message.send_at,
        schedule_id=message.schedule_id,
        attempts=message.attempts,
        last_error=message.last_error,
        dead_lettered_at=message.dead_lettered_at,
        events=[
            MessageEvent(at=event.at, status=event.status, detail=event.detail, connector=event.connector)
            for event in message.events
        ],
        carrier_attempts=[
            CarrierAttempt(at=event.at, connector=event.connector, outcome=event.status, detail=event.detail)
            for event in message.events
            if event.connector
        ],
    )


def get_message(account_id: str, message_or_part_id: str) -> MessageView:
    """Only the owner sees a message; for anyone else it does not exist (404, never 403)."""
    message = repository.load(message_id_of(message_or_part_id))
    if message is None or message.account_id != account_id:
        raise NotFound(f"no message {message_or_part_id}")
    return replace(_view(message), callbacks=webhooks.deliveries_for(message.message_id))


def cancel_message(account_id: str, message_or_part_id: str) -> MessageView:
    """Cancel a scheduled message and delete its schedule. Cancelling twice answers the same; a message
    already handed to dispatch (queued, sent, failed) cannot be called back: 409."""
    message_id = message_id_of(message_or_part_id)
    message = repository.load(message_id, consistent=True)
    if message is None or message.account_id != account_id:
        raise NotFound(f"no message {message_or_part_id}")
    if message.status == Status.SCHEDULED:
        cancelled = repository.cancel(message_id, now_iso())
        if cancelled is not None:
            message = cancelled
            logger.info("scheduled message cancelled", extra={"message_id": message_id})
        else:  # its time came meanwhile
            message = repository.load(message_id, consistent=True) or message
    if message.status == Status.CANCELLED:
        # Also on a repeated DELETE: the schedule may have survived a failed delete before.
        scheduler.delete(scheduler.one_time_name(message_id))
        return _view(message)
    raise Conflict(
        f"message {message_or_part_id} is {message.status}, not scheduled: only a message that waits for "
        "its send time can be cancelled"
    )


STATUSES = tuple(str(status) for status in Status)  # in lifecycle order
_ULID_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ULID_END = datetime.max.replace(tzinfo=UTC)


def _ulid_bound(value: str | None, field: str, upper: bool) -> str:
    if not value:  # absent or empty (a form field left blank), as for the other filters
        return "Z" * 26 if upper else "0" * 26
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{field} must be an ISO 8601 date-time, e.g. 2026-11-25T08:00:00Z", field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Message ids are ULIDs: their time is 48 bits of milliseconds since 1970 (until the year 10889).
    if not _ULID_EPOCH <= moment <= _ULID_END:
        raise BadRequest(f"{field} must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z", field)
    prefix = str(ULID.from_timestamp(moment.timestamp()))[:10]  # the 48-bit millisecond time
    return prefix + ("Z" * 16 if upper else "0" * 16)


def list_messages(
    account_id: str,
    *,
    status: str | None = None,
    to: str | None = None,
    sender: str | None = None,
    since: str | None = None,
    until: str | None = None,
    schedule_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> MessagePage:
    check_limit(limit)
    if status and status not in ALL:
        raise BadRequest(f"status must be one of {', '.join(STATUSES)} (got {status[:40]!r})", "status")
    filters = {
        name: value
        for name, value in (
            ("status", status),
            ("to", (to or "").removeprefix("+")),  # numbers are stored without it
            ("from", (sender or "").removeprefix("+")),
            ("schedule_id", schedule_id),
        )
        if value
    }
    lowest_id = _ulid_bound(since, "since", upper=False)
    highest_id = _ulid_bound(until, "until", upper=True)
    if lowest_id > highest_id:
        raise BadRequest("until is before since: no message can match", "until")
    found, next_key = repository.query_account_messages(
        account_id,
        limit=limit,
        start_key=decode_cursor(cursor, keys.messages_index(account_id), (lowest_id, highest_id)),
        lowest_id=lowest_id,
        highest_id=highest_id,
        filters=filters,
    )
    return MessagePage(messages=[_view(message) for message in found], next_cursor=encode_cursor(next_key))
