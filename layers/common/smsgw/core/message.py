"""A message as smsgw keeps it: what was asked and paid for, where it is in its lifecycle, and what
happened to it. Typed, so dispatch, receipts, schedules and the API read fields instead of indexing
into a stored item; `smsgw.messages.repository` converts it to and from its DynamoDB item (one place,
see docs/data-model.md).

Frozen: a status changes by a conditional write in the repository, which answers with the message
as it is now; nothing patches a message in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from smsgw.core.lifecycle import Status


@dataclass(frozen=True, kw_only=True)
class Event:
    """One entry of a message's timeline. `status` is a Status, or a step that is not one
    (`dead_lettered`, `unconfirmed`)."""

    at: str
    status: str
    detail: str | None = None
    connector: str | None = None  # the connector a carrier attempt went to (its outcome is `status`)


@dataclass(frozen=True, kw_only=True)
class CarrierPart:
    """What the carrier answered for one part (empty strings where it did not say)."""

    carrier_message_id: str
    network: str = ""
    price: str = ""


@dataclass(frozen=True, kw_only=True)
class Message:
    # What was sent and what it costs: set when the send is accepted, never changed.
    message_id: str
    account_id: str
    sender: str  # `from`
    to: str
    country: str
    text: str | None  # None for binary (its body is in params)
    sms_type: str
    params: Mapping[str, str]  # the send's advanced parameters (client-ref, callback, udh, body, …)
    parts: int
    part_ids: tuple[str, ...]
    encoding: str
    unit_price: Decimal
    price: Decimal
    currency: str
    created_at: str
    expires_at: int  # TTL (epoch seconds)
    purpose: str | None = None  # "verification": a possession code sent for the account
    redact_text: bool = False  # its text is never shown to the account
    # Where it goes: the route's connectors in failover order (smsgw.routing); empty = the default one.
    connectors: tuple[str, ...] = ()
    route_id: str | None = None

    # Where it is.
    status: Status
    updated_at: str
    attempts: int = 0
    events: tuple[Event, ...] = ()
    last_error: str | None = None

    # Held for later (send_at, quiet hours, a schedule's run).
    send_at: str | None = None
    held_for: str | None = None  # send_at | quiet_hours | schedule
    schedule_id: str | None = None
    charged_at: str | None = None
    cancelled_at: str | None = None

    # Dispatch.
    lease_until: int | None = None
    claimed_from: Status | None = None  # the status the last claim took it from
    previous_lease: int | None = None
    unconfirmed_since: str | None = None  # a submission since then got no answer
    dead_lettered_at: str | None = None
    submitted_at: str | None = None
    connector: str | None = None  # the connector that took it (or that an unconfirmed submission went to)
    failed_connectors: frozenset[str] = frozenset()  # connectors it failed on since its last success
    carrier_parts: tuple[CarrierPart, ...] | None = None
    carrier_confirmed: frozenset[str] = frozenset()  # carrier ids whose receipts named this message

    # Receipts: per part ("1", "2", …) the carrier's latest status with its receipt fields and rank.
    status_rank: int | None = None
    part_status: Mapping[str, Mapping[str, Any]] | None = field(default=None)

    @property
    def primary_connector(self) -> str:
        return self.connectors[0] if self.connectors else "default"

    @property
    def client_ref(self) -> str | None:
        return self.params.get("client-ref")

    @property
    def callback(self) -> str | None:
        return self.params.get("callback")

    def part_status_of(self, part: int) -> str | None:
        """The carrier status recorded for a part (1-based), None before its first receipt."""
        status = ((self.part_status or {}).get(str(part)) or {}).get("status")
        return None if status is None else str(status)

    def part_statuses(self) -> list[str]:
        """Each part's carrier status in order (`submitted` until its first receipt)."""
        return [self.part_status_of(n) or Status.SUBMITTED for n in range(1, self.parts + 1)]

    def carrier_message_ids(self) -> list[str]:
        return [part.carrier_message_id for part in self.carrier_parts or ()]
