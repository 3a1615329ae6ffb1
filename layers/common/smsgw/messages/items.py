"""A message's DynamoDB item: the one place a `Message` becomes an item and back (`to_item`,
`from_item`; docs/data-model.md). Apart from the repository's conditional writes, which use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from smsgw import keys
from smsgw.core.ids import part_ids
from smsgw.core.lifecycle import Status
from smsgw.core.message import CarrierPart, Event, Message


def event_item(
    at: str, status: str, detail: str | None = None, connector: str | None = None
) -> dict[str, str]:
    event = {"at": at, "status": status}
    if detail:
        event["detail"] = detail
    if connector:
        event["connector"] = connector
    return event


def _event_item(event: Event) -> dict[str, str]:
    return event_item(event.at, event.status, event.detail, event.connector)


# Attributes a message item has besides the message's own fields.
_ITEM_KEYS = ("pk", "sk", "type", "gsi1pk", "gsi1sk")


def to_item(message: Message) -> dict[str, Any]:
    """The message's DynamoDB item (the one place a Message becomes an item; docs/data-model.md).

    The fields every accepted send has are always written (`text` as NULL for binary); the others only
    when set, as the conditional updates below add them, and `params` and `part_ids` only when not empty
    or not derivable from the id (from_item gives them back)."""
    item: dict[str, Any] = {
        **keys.message(message.message_id),
        "type": "message",
        "gsi1pk": keys.messages_index(message.account_id),
        "gsi1sk": message.message_id,
        "events": [_event_item(event) for event in message.events],
        "message_id": message.message_id,
        "account_id": message.account_id,
        "from": message.sender,
        "to": message.to,
        "country": message.country,
        "text": message.text,
        "sms_type": message.sms_type,
        "parts": message.parts,
        "encoding": message.encoding,
        "unit_price": message.unit_price,
        "price": message.price,
        "currency": message.currency,
        "status": message.status.value,
        "attempts": message.attempts,
        "created_at": message.created_at,
        "updated_at": message.updated_at,
        "expires_at": message.expires_at,
    }
    optional: dict[str, Any] = {
        # Left out when empty or derivable (every byte over 1 KB costs a second write unit per update).
        "params": dict(message.params) or None,
        "part_ids": (
            list(message.part_ids)
            if list(message.part_ids) != part_ids(message.message_id, message.parts)
            else None
        ),
        "purpose": message.purpose,
        "redact_text": True if message.redact_text else None,
        "connectors": list(message.connectors) or None,
        "route_id": message.route_id,
        "connector": message.connector,
        "failed_connectors": set(message.failed_connectors) or None,  # a string set is never empty
        "last_error": message.last_error,
        "send_at": message.send_at,
        "held_for": message.held_for,
        "schedule_id": message.schedule_id,
        "charged_at": message.charged_at,
        "cancelled_at": message.cancelled_at,
        "lease_until": message.lease_until,
        "claimed_from": message.claimed_from.value if message.claimed_from is not None else None,
        "previous_lease": message.previous_lease,
        "unconfirmed_since": message.unconfirmed_since,
        "dead_lettered_at": message.dead_lettered_at,
        "submitted_at": message.submitted_at,
        "carrier_parts": (
            [_carrier_part_item(part) for part in message.carrier_parts]
            if message.carrier_parts is not None
            else None
        ),
        "carrier_confirmed": set(message.carrier_confirmed) or None,  # a string set is never empty
        "status_rank": message.status_rank,
        "part_status": (
            {part: dict(status) for part, status in message.part_status.items()}
            if message.part_status is not None
            else None
        ),
    }
    item.update({name: value for name, value in optional.items() if value is not None})
    return item


def _carrier_part_item(part: CarrierPart) -> dict[str, str]:
    return {"carrier_message_id": part.carrier_message_id, "network": part.network, "price": part.price}


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def from_item(item: Mapping[str, Any]) -> Message:
    """The Message a stored item holds (numbers come back from DynamoDB as Decimal). Defaults only
    where readers always had one (items written before those fields existed)."""
    message_id = str(item["message_id"])
    parts = int(item.get("parts", 1))
    carrier_parts = item.get("carrier_parts")
    claimed_from = item.get("claimed_from")
    return Message(
        message_id=message_id,
        account_id=str(item["account_id"]),
        sender=str(item["from"]),
        to=str(item["to"]),
        country=str(item["country"]),
        text=item.get("text"),
        sms_type=str(item.get("sms_type", "text")),
        params={str(k): str(v) for k, v in (item.get("params") or {}).items()},
        parts=parts,
        part_ids=tuple(item.get("part_ids") or part_ids(message_id, parts)),
        encoding=str(item["encoding"]),
        unit_price=Decimal(str(item["unit_price"])),
        price=Decimal(str(item["price"])),
        currency=str(item.get("currency", "EUR")),
        created_at=str(item["created_at"]),
        expires_at=int(item["expires_at"]),
        purpose=item.get("purpose"),
        redact_text=bool(item.get("redact_text", False)),
        connectors=tuple(item.get("connectors") or ()),
        route_id=item.get("route_id"),
        connector=item.get("connector"),
        failed_connectors=frozenset(item.get("failed_connectors") or ()),
        status=Status(item["status"]),
        updated_at=str(item["updated_at"]),
        attempts=int(item.get("attempts", 0)),
        events=tuple(
            Event(
                at=event["at"],
                status=event["status"],
                detail=event.get("detail"),
                connector=event.get("connector"),
            )
            for event in item.get("events") or ()
        ),
        last_error=item.get("last_error"),
        send_at=item.get("send_at"),
        held_for=item.get("held_for"),
        schedule_id=item.get("schedule_id"),
        charged_at=item.get("charged_at"),
        cancelled_at=item.get("cancelled_at"),
        lease_until=_int(item.get("lease_until")),
        claimed_from=Status(claimed_from) if claimed_from is not None else None,
        previous_lease=_int(item.get("previous_lease")),
        unconfirmed_since=item.get("unconfirmed_since"),
        dead_lettered_at=item.get("dead_lettered_at"),
        submitted_at=item.get("submitted_at"),
        carrier_parts=(
            tuple(
                CarrierPart(
                    carrier_message_id=part["carrier_message_id"],
                    network=part.get("network", ""),
                    price=part.get("price", ""),
                )
                for part in carrier_parts
            )
            if carrier_parts is not None
            else None
        ),
        carrier_confirmed=frozenset(item.get("carrier_confirmed") or ()),
        status_rank=_int(item.get("status_rank")),
        part_status=item.get("part_status"),
    )
