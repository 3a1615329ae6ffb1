"""What inbound needs from the other domains — no more (see dispatch/ports.py for the idea); what it
shares with receipts is in smsgw.core.ports (ConnectorWebhooks, WebhookEnqueue)."""

from __future__ import annotations

from typing import Any, Protocol

from smsgw.accounts.models import Account
from smsgw.core.ports import WebhookEnqueue
from smsgw.numbers.routing import NumberRoute
from smsgw.webhooks.models import DeliveryView, NewDelivery


class NumberRoutes(Protocol):
    """Who an inbound SMS belongs to: the owner of the number it was sent to, or of its sender."""

    def owner_of_destination(self, to: str) -> NumberRoute | None: ...
    def registered_sender(self, msisdn: str) -> NumberRoute | None: ...


class Conversations(Protocol):
    """Opt-outs (STOP/START) and the conversation a reply belongs to."""

    def conversation(self, msisdn: str, number: str) -> dict[str, Any] | None: ...
    def opt_in(self, number: str, msisdn: str) -> None: ...
    def opt_out(self, number: str, msisdn: str, at: str) -> None: ...


class InboundWebhooks(WebhookEnqueue, Protocol):
    """The inbound message's webhook to its callback (written in the intake's own transaction when it
    can be: `prepare` then `queue_new`), and its deliveries (shown with it)."""

    def prepare(
        self,
        *,
        account_id: str,
        url: str,
        event_type: str,
        payload: dict[str, Any],
        subject_id: str,
        dedupe_key: str,
    ) -> NewDelivery: ...
    def queue_new(self, delivery: NewDelivery) -> None: ...
    def queue_first_attempt(self, subject_id: str, delivery_id: str) -> None: ...
    def deliveries_for(self, subject_id: str) -> list[DeliveryView]: ...


class AccountCache(Protocol):
    """Declared here and in receipts/ports.py: it names accounts' model, which smsgw.core.ports cannot."""

    def cached_account(self, account_id: str) -> Account: ...


class Replies(Protocol):
    """The send path, for the HELP reply."""

    def accept_send(
        self,
        account: Account,
        fields: dict[str, str],
        idempotency_key: str | None = None,
        lambda_context: Any = None,
        inbound_replies: bool = False,
    ) -> dict[str, Any]: ...
