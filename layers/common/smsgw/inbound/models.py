from __future__ import annotations

from pydantic import BaseModel, Field

from smsgw.webhooks.models import DeliveryView

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP", "SUBSCRIBE"})
HELP_WORDS = frozenset({"HELP", "INFO"})


class InboundView(BaseModel):
    """An inbound SMS as its account sees it, with the deliveries to its callback."""

    inbound_id: str
    msisdn: str = Field(description="The sender's number")
    to: str = Field(description="Your number it was sent to")
    text: str
    type: str
    keyword: str
    message_timestamp: str | None = None
    parts: int
    incomplete: bool = Field(description="True when parts were still missing after the reassembly timeout")
    carrier_message_ids: list[str]
    route: str | None = Field(description="conversation | number | registered, or none (kept, not forwarded)")
    callback_url: str | None = None
    opt: str | None = Field(default=None, description="stop | start | help when the message was that keyword")
    received_at: str
    deliveries: list[DeliveryView] = Field(default_factory=list)


class InboundPage(BaseModel):
    inbound: list[InboundView]
    next_cursor: str | None = None


class InboundAck(BaseModel):
    result: str = Field(description="received | part (waiting for the rest) | duplicate")
