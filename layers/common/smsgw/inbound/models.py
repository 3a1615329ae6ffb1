from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smsgw.core.views import WIRE_CONFIG, wire_field
from smsgw.webhooks.models import DeliveryView

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP", "SUBSCRIBE"})
HELP_WORDS = frozenset({"HELP", "INFO"})


@dataclass(frozen=True, kw_only=True)
class InboundView:
    """An inbound SMS as its account sees it, with the deliveries to its callback."""

    __pydantic_config__: ClassVar = WIRE_CONFIG

    inbound_id: str
    msisdn: str = wire_field("The sender's number")
    to: str = wire_field("Your number it was sent to")
    text: str
    type: str
    keyword: str
    message_timestamp: str | None = None
    parts: int
    incomplete: bool = wire_field("True when parts were still missing after the reassembly timeout")
    carrier_message_ids: list[str]
    route: str | None = wire_field("conversation | number | registered, or none (kept, not forwarded)")
    callback_url: str | None = None
    opt: str | None = wire_field("stop | start | help when the message was that keyword", default=None)
    received_at: str
    deliveries: list[DeliveryView] = wire_field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class InboundPage:
    __pydantic_config__: ClassVar = WIRE_CONFIG

    inbound: list[InboundView]
    next_cursor: str | None = None


@dataclass(frozen=True, kw_only=True)
class InboundAck:
    __pydantic_config__: ClassVar = WIRE_CONFIG

    result: str = wire_field("received | part (waiting for the rest) | duplicate")
