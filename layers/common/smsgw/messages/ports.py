"""What the send path and the message views need from the other domains — no more (see
dispatch/ports.py for the idea)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from smsgw.accounts.models import Account
from smsgw.core.errors import RateLimited
from smsgw.numbers.routing import NumberRoute
from smsgw.routing.models import Decision

if TYPE_CHECKING:  # a pydantic model: the send path, which uses this port's other half, loads none
    from smsgw.webhooks.models import DeliveryView


class Balances(Protocol):
    def get_account(self, account_id: str, consistent: bool = False) -> Account | None: ...
    def balance(self, account_id: str) -> Decimal: ...
    def enforce_rate_limit(self, account: Account, now: float | None = None) -> None: ...
    def request_second(self, now: float | None = None) -> int: ...
    def rate_limited(self, account: Account) -> RateLimited: ...


class SenderRules(Protocol):
    """May this account send from this sender, and where do replies to it go."""

    def sender_allowed(self, account: Account, sender: str) -> bool: ...
    def sender_refusal(self, sender: str) -> str: ...
    def route_for(self, msisdn: str) -> NumberRoute | None: ...


class OptOutRules(Protocol):
    def is_opted_out(self, sender: str, recipient: str) -> bool: ...
    def record_conversation(
        self, recipient: str, number: str, account_id: str, callback_url: str
    ) -> None: ...


class Routes(Protocol):
    """Which connectors a message goes to (decided when it is accepted)."""

    def decide(
        self, msisdn: str, country: str, account_id: str, sender: str, message_id: str = ""
    ) -> Decision: ...
    def price_for(self, connector_name: str, country: str) -> Decimal | None: ...


class DeliveryHistory(Protocol):
    """A message's status callbacks, shown with it."""

    def deliveries_for(self, subject_id: str) -> list[DeliveryView]: ...
