"""What schedules need from the other domains — no more (see dispatch/ports.py for the idea). The
message store and the send rules are used as they are (a run builds messages like a send does)."""

from __future__ import annotations

from typing import Protocol

from smsgw.accounts.models import Account


class AccountLookup(Protocol):
    def get_account(self, account_id: str, consistent: bool = False) -> Account | None: ...


class SenderRules(Protocol):
    def sender_allowed(self, account: Account, sender: str) -> bool: ...
    def sender_refusal(self, sender: str) -> str: ...


class OptOutCheck(Protocol):
    def is_opted_out(self, sender: str, recipient: str) -> bool: ...
