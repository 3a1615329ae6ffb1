"""What receipts need from the other domains — no more (see dispatch/ports.py for the idea)."""

from __future__ import annotations

from collections.abc import Mapping
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
    def advance_status(
        self, message_id: str, status: str, rank: int, at: str, detail: str | None
    ) -> bool: ...
    def confirm_carrier_id(self, message_id: str, carrier_message_id: str) -> Message | None: ...
    def attach_carrier_part(
        self, message_id: str, carrier_message_id: str, known_parts: int, expires_at: int
    ) -> bool: ...


class Callbacks(Protocol):
    """A signed callback to the account, at most once per dedupe key."""

    def enqueue(
        self,
        *,
        account_id: str,
        url: str,
        event_type: str,
        payload: dict[str, Any],
        subject_id: str,
        dedupe_key: str,
    ) -> str: ...


class AccountCache(Protocol):
    def cached_account(self, account_id: str) -> Account: ...


class ConnectorWebhooks(Protocol):
    """Whether a webhook at a connector's endpoint really comes from that connector's carrier."""

    def verify_webhook(
        self, name: str, params: Mapping[str, str], what: str, now: float | None = None
    ) -> None: ...
