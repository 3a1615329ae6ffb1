"""What a webhook delivery looks like to its readers (the status API, the CLI, tests).

Dataclasses, not pydantic models: the receipt and dispatch functions load this module and start
without pydantic; the API's pydantic views (MessageView, InboundView) nest them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from smsgw.core.views import WIRE_CONFIG

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"

DeliveryState = Literal["pending", "delivered", "failed"]


@dataclass(frozen=True)
class NewDelivery:
    """A delivery built by `service.prepare`, stored by the producer's transaction (`writes`: its
    TransactWriteItems entries) and then queued by `service.queue_new`."""

    subject_id: str
    delivery_id: str
    writes: list[dict[str, Any]]


@dataclass(frozen=True)
class Attempt:
    """One POST (or one refusal to make it): when, what the receiver answered, how long it took."""

    __pydantic_config__: ClassVar = WIRE_CONFIG

    at: str
    http_status: int | None = None
    latency_ms: int = 0
    error: str | None = None


@dataclass(frozen=True)
class DeliveryView:
    """A delivery with its attempts, oldest attempt first."""

    __pydantic_config__: ClassVar = WIRE_CONFIG

    delivery_id: str
    event_type: str
    url: str
    state: DeliveryState
    attempts: list[Attempt]
    created_at: str
    delivered_at: str | None = None
    failed_at: str | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> DeliveryView:
        return cls(
            delivery_id=item["delivery_id"],
            event_type=item["event_type"],
            url=item["url"],
            state=item["state"],
            attempts=[
                Attempt(
                    at=a["at"],
                    http_status=None if a.get("http_status") is None else int(a["http_status"]),
                    latency_ms=int(a.get("latency_ms") or 0),
                    error=a.get("error"),
                )
                for a in item.get("attempts") or []
            ],
            created_at=item["created_at"],
            delivered_at=item.get("delivered_at"),
            failed_at=item.get("failed_at"),
        )
