"""What the messages API answers about a message (`GET /messages`, `/messages/{id}`): views, pydantic-free
(smsgw.core.views)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smsgw.core.views import WIRE_CONFIG, wire_field
from smsgw.webhooks.models import DeliveryView


@dataclass(frozen=True, kw_only=True)
class MessagePart:
    __pydantic_config__: ClassVar = WIRE_CONFIG

    message_id: str = wire_field("The part's id, as the send answer gave it")
    status: str = wire_field(
        "The part's latest delivery receipt (accepted | buffered | delivered | expired | failed | "
        "rejected | unknown); before one: submitted once the carrier has it, else the message's status"
    )
    carrier_message_id: str | None = None
    network: str | None = None


@dataclass(frozen=True, kw_only=True)
class MessageEvent:
    __pydantic_config__: ClassVar = WIRE_CONFIG

    at: str
    status: str
    detail: str | None = None
    connector: str | None = wire_field("The connector a carrier attempt went to", default=None)


@dataclass(frozen=True, kw_only=True)
class CarrierAttempt:
    """One hand-over to a carrier, from the timeline."""

    __pydantic_config__: ClassVar = WIRE_CONFIG

    at: str
    connector: str
    outcome: str = wire_field(
        "submitted | failed (the carrier refused it) | failed_over (it failed there and moved "
        "to the route's next connector) | carrier_error (retried later) | unconfirmed (no answer: "
        "reconciled by the carrier's receipt before any resubmission) | dead_lettered"
    )
    detail: str | None = None


@dataclass(frozen=True, kw_only=True)
class MessageView:
    """A message as its owner sees it: status, parts, price and the timeline of what happened."""

    __pydantic_config__: ClassVar = WIRE_CONFIG

    message_id: str
    status: str = wire_field(
        "scheduled | queued | submitting | submitted | accepted | buffered | delivered | expired | "
        "failed | rejected | unknown | cancelled: a message with several parts is as far as its least "
        "advanced part, and once all are final it takes the worst outcome"
    )
    from_: str = wire_field(alias="from")
    to: str
    type: str
    text: str | None = None
    client_ref: str | None = wire_field(alias="client-ref", default=None)
    parts: list[MessagePart]
    price: str
    currency: str
    created_at: str
    updated_at: str
    submitted_at: str | None = None
    connector: str | None = wire_field(
        "The carrier connector that took it (set on submission); `route` chose it (docs/routing.md)",
        default=None,
    )
    route: str | None = wire_field("The route that chose its connectors; null: the default", default=None)
    send_at: str | None = wire_field("When a scheduled message is (or was) due", default=None)
    schedule_id: str | None = wire_field("The recurring schedule that created it", default=None)
    attempts: int
    last_error: str | None = None
    dead_lettered_at: str | None = None
    events: list[MessageEvent]
    carrier_attempts: list[CarrierAttempt] = wire_field(
        "Each attempt to hand it to a carrier: where, when and how it ended", default_factory=list
    )
    callbacks: list[DeliveryView] | None = wire_field(
        "Status callbacks sent for this message, with every attempt. Null where they are not "
        "read (each message of a GET /messages page, a cancel's answer): GET /messages/{id} shows them",
        default=None,
    )


@dataclass(frozen=True, kw_only=True)
class MessagePage:
    __pydantic_config__: ClassVar = WIRE_CONFIG

    messages: list[MessageView]
    next_cursor: str | None = wire_field(
        "Pass as `cursor` for the next page; null at the end. A filtered page may hold fewer "
        "than `limit` messages, even none, when its read budget was spent: continue until it is null",
        default=None,
    )
