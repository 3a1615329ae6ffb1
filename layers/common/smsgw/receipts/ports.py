"""What receipts need from the other domains — no more (see dispatch/ports.py for the idea); the callback
(WebhookEnqueue) and the connector's webhook check (ConnectorWebhooks) are smsgw.core.ports', shared with inbound."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from smsgw.accounts.models import Account
from smsgw.core.message import Message


class MessageReceipts(Protocol):
    """The message store's part of a receipt: find the message by carrier id, move its parts forward."""

    def find_by_carrier_id(self, carrier_message_id: str) -> tuple[str, int] | None: ...
    def load(self, message_id: str, consistent: bool = False) -> Message | None: ...
    def set_part_status(
        self, message_id: str, part: int, status: dict[str, Any], rank: int
    ) -> Message | None: ...
    def set_only_part_status(
        self,
        message_id: str,
        status: dict[str, Any],
        rank: int,
        message_status: str,
        at: str,
        detail: str | None,
    ) -> tuple[bool, Message | None]: ...
    def advance_status(
        self, message_id: str, status: str, rank: int, at: str, detail: str | None
    ) -> bool: ...
    def confirm_carrier_id(self, message_id: str, carrier_message_id: str) -> Message | None: ...
    def record_carrier_ids(self, message_id: str, carrier_ids: Sequence[str], expires_at: int) -> None: ...
    def attach_carrier_part(
        self, message_id: str, carrier_message_id: str, known_parts: int, expires_at: int
    ) -> bool: ...


class AccountCache(Protocol):
    """Declared here and in inbound/ports.py: it names accounts' model, which smsgw.core.ports cannot."""

    def cached_account(self, account_id: str) -> Account: ...
