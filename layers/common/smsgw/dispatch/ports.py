"""What dispatch needs from the other domains — no more. The services bind the real modules to these
(mypy checks that they conform); a test or a new implementation provides the same few functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from smsgw.accounts.models import Account
from smsgw.core.message import Message
from smsgw.receipts.models import DeliveryReceipt
from smsgw.routing.models import Connector, Decision


class MessageLeases(Protocol):
    """The message store's moves that dispatch makes: claim, then submitted, failed or released."""

    def claim(self, message_id: str, now: int, lease_until: int, at: str) -> Message | None: ...
    def claim_scheduled(self, message: Message, lease_until: int, at: str) -> Message: ...
    def fail_scheduled(self, message_id: str, at: str, error: str) -> Message | None: ...
    def load(self, message_id: str, consistent: bool = False) -> Message | None: ...
    def mark_failed(
        self,
        message_id: str,
        at: str,
        error: str,
        parts: list[dict[str, Any]] | None = None,
        connector: str | None = None,
    ) -> None: ...
    def mark_submitted(
        self,
        message_id: str,
        at: str,
        parts: list[dict[str, Any]],
        expires_at: int,
        detail: str | None = None,
        connector: str | None = None,
    ) -> bool: ...
    def record_carrier_ids(self, message_id: str, carrier_ids: Sequence[str], expires_at: int) -> None: ...
    def release(
        self,
        message_id: str,
        at: str,
        error: str,
        dead_lettered: bool = False,
        unconfirmed_since: str | None = None,
        event: str | None = None,
        connector: str | None = None,
        failed_connector: str | None = None,
        forget_failed_connectors: bool = False,
        attempted_on: str | None = None,
    ) -> None: ...


class StatusNotices(Protocol):
    """Receipts that waited for a carrier id, and the status callback of a message dispatch ended."""

    def apply_pending(self, message_id: str, carrier_message_ids: Sequence[str]) -> None: ...
    def notify(
        self,
        message: Message,
        message_status: str,
        at: str,
        part: int | None = None,
        receipt: DeliveryReceipt | None = None,
    ) -> str | None: ...


class Connectors(Protocol):
    """The carrier connectors, and the route for a message whose own connectors are gone."""

    def connector(self, name: str) -> Connector: ...
    def connectors(self) -> list[Connector]: ...
    def decide(
        self, msisdn: str, country: str, account_id: str, sender: str, message_id: str = ""
    ) -> Decision: ...


class AccountLookup(Protocol):
    def get_account(self, account_id: str, consistent: bool = False) -> Account | None: ...
