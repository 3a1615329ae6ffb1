"""Wire models of the send API (Nexmo/KPN shape: hyphenated names, every response value a string)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from smsgw.core.wire import wire_string
from smsgw.core.wire_types import WireStr


class SendRequest(BaseModel):
    """`POST /communication/nexmo/sms/send` — form-encoded or JSON, names as KPN/Vonage spell them."""

    # Only wire names populate fields: a typo such as client_ref stays an unknown field and is refused.
    model_config = ConfigDict(populate_by_name=False, extra="allow")

    from_: WireStr | None = Field(
        default=None, alias="from", description="Sender: alphanumeric ≤ 11 or numeric ≤ 15 digits"
    )
    to: WireStr | None = Field(default=None, description="Recipient, E.164 without '+', e.g. 447700900000")
    text: WireStr | None = Field(default=None, description="Body; use type=unicode for non-GSM characters")
    type: WireStr | None = Field(default=None, description="text (default) | unicode | binary")
    ttl: WireStr | None = Field(default=None, description="Delivery window in ms, 20000–604800000")
    status_report_req: WireStr | None = Field(default=None, alias="status-report-req")
    callback: WireStr | None = Field(
        default=None, description="https URL for delivery receipts (≤ 100 chars)"
    )
    client_ref: WireStr | None = Field(default=None, alias="client-ref", description="Your reference, echoed")
    message_class: WireStr | None = Field(default=None, alias="message-class", description="0–3")
    udh: WireStr | None = Field(default=None, description="Hex user data header (type=binary)")
    body: WireStr | None = Field(default=None, description="Hex payload (type=binary)")
    protocol_id: WireStr | None = Field(default=None, alias="protocol-id", description="0–255")
    validity: WireStr | None = Field(default=None, description="Validity in ms")
    account_ref: WireStr | None = Field(default=None, alias="account-ref")
    entity_id: WireStr | None = Field(default=None, alias="entity-id")
    content_id: WireStr | None = Field(default=None, alias="content-id")
    send_at: WireStr | None = Field(
        default=None,
        alias="send_at",
        description="smsgw: send later, ISO 8601 with an offset (`send-at` in forms), at most a year ahead. "
        "Answered 202; charged when it is sent; cancel with DELETE /messages/{id}",
    )
    urgent: WireStr | None = Field(
        default=None, description="smsgw: true sends at once even in the account's quiet hours"
    )

    def wire_fields(self) -> dict[str, str]:
        """Every field the client sent, by its wire name (unknown ones too, so they can be refused by name)."""
        known = self.model_dump(by_alias=True, exclude_none=True, exclude=set(self.model_extra or {}))
        extra = {key: wire_string(value) for key, value in (self.model_extra or {}).items()}
        return {**known, **extra}


class SentPart(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    to: str
    message_id: str = Field(alias="message-id")
    status: str = "0"
    remaining_balance: str = Field(alias="remaining-balance")
    message_price: str = Field(alias="message-price")
    network: str = ""
    client_ref: str | None = Field(default=None, alias="client-ref")
    # smsgw: a message held for later (send_at or quiet hours); answered with HTTP 202.
    message_status: str | None = Field(default=None, alias="message-status", description="scheduled")
    send_at: str | None = Field(default=None, alias="send-at", description="When it will be sent (UTC)")


class SendResponse(BaseModel):
    """Nexmo's answer: one element per part; `status` "0" = accepted for delivery."""

    model_config = ConfigDict(populate_by_name=True)

    message_count: str = Field(alias="message-count")
    messages: list[SentPart]


class NexmoErrorElement(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    status: str
    error_text: str = Field(alias="error-text")
    field: str | None = None


class NexmoErrorResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    message_count: str = Field(default="1", alias="message-count")
    messages: list[NexmoErrorElement]


class VonageSendRequest(SendRequest):
    """`POST /sms/json`: KPN's send parameters plus Vonage's credentials (form-encoded or JSON)."""

    api_key: WireStr | None = Field(default=None, description="Your api_key (or use Basic auth)")
    api_secret: WireStr | None = Field(
        default=None, description="Your api_secret; never together with sig (status 32)"
    )
    sig: WireStr | None = Field(
        default=None,
        description="Signature over every other parameter with your signature secret and method "
        "(hex, any case); needs api_key and timestamp",
    )
    timestamp: WireStr | None = Field(
        default=None, description="Unix seconds, with sig; within 5 minutes of the server's clock"
    )
    nonce: WireStr | None = Field(
        default=None, description="Optional, signed: makes identical requests differ"
    )


class VonageSmsResponse(BaseModel):
    """HTTP 200 (202 when held for later). Accepted: one element per part with `status` "0". Refused: one
    element with the Vonage `status` and `error-text` (and `field`, the parameter at fault, when there is one)."""

    model_config = ConfigDict(populate_by_name=True)

    message_count: str = Field(alias="message-count")
    messages: list[SentPart | NexmoErrorElement]
