"""Which connector a dispatch attempt takes and what it sends there: the message's route (decided at
acceptance), the circuit breakers, one carrier client per connector, the submission with its receipt URL."""

from __future__ import annotations

from smsgw.carrier.base import Carrier, Submission
from smsgw.carrier.factory import make_carrier
from smsgw.carrier.signature import carrier_webhook_url, connector_receipt_url, connector_webhook_url
from smsgw.config import get_settings
from smsgw.core.memo import remembered
from smsgw.core.message import Message
from smsgw.dispatch import breaker
from smsgw.dispatch.ports import Connectors
from smsgw.observability import logger
from smsgw.routing import service as routing_service
from smsgw.routing.models import DEFAULT_CONNECTOR, Connector
from smsgw.secrets import carrier_credentials

# What this uses of the routing domain (dispatch/ports.py), checked by mypy.
routing: Connectors = routing_service

# A client per connector as configured (a changed connector is a new key, so a new client).
_clients: dict[Connector, Carrier] = remembered({})


def client_for(connector: Connector) -> Carrier:
    client = _clients.get(connector)
    if client is None:
        credentials = carrier_credentials(connector.secret_name)
        client = _clients[connector] = make_carrier(connector.protocol, connector.base_url, credentials)
    return client


def default_client() -> Carrier:
    """The default connector's client (the stack's own carrier)."""
    return client_for(routing.connector(DEFAULT_CONNECTOR))


def route_of(message: Message, known: dict[str, Connector]) -> list[str]:
    """The message's connectors (its route, decided when it was accepted) that still exist; if the
    operator removed them all meanwhile, the route as it is now."""
    names = [name for name in message.connectors or (DEFAULT_CONNECTOR,) if name in known]
    if names:
        return names
    decision = routing.decide(
        message.to, message.country, message.account_id, message.sender, message.message_id
    )
    logger.warning(
        "the message's connectors are gone; routed again",
        extra={"message_id": message.message_id, "connectors": list(message.connectors), "why": decision.why},
    )
    return [name for name in decision.connectors if name in known] or [DEFAULT_CONNECTOR]


def choose(message: Message, names: list[str], known: dict[str, Connector], now: float) -> Connector | float:
    """The connector for this attempt, or when to look again (every one of the route's is open).

    An unconfirmed submission stays with its connector: its receipt may still come, and another carrier
    would deliver the SMS a second time. A route of one connector goes there whatever its breaker says
    (a one-carrier stack retries with backoff, as it always did). Otherwise: the first connector, in the
    route's order, that this message has not failed on and whose breaker lets it through."""
    if message.unconfirmed_since and message.connector in known:
        return known[message.connector]
    if len(names) == 1:
        return known[names[0]]
    untried = [name for name in names if name not in message.failed_connectors] or names
    for name in untried:
        if breaker.available(name, now):
            return known[name]
    return breaker.reopens_at(untried, now)


def receipt_url_for(connector: Connector) -> str:
    """Where the connector's carrier sends its receipts: CARRIER_RECEIPT_URL (…/carrier/dlr) for the
    default, …/carrier/<name>/dlr for another, each with its webhook token when it has one."""
    receipt_url = get_settings().carrier_receipt_url
    if connector.name == DEFAULT_CONNECTOR:
        return carrier_webhook_url(receipt_url)
    own_url = connector_receipt_url(receipt_url, connector.name)
    return connector_webhook_url(own_url, connector.secret_name, connector.webhook_auth)


def submission(message: Message, connector: Connector) -> Submission:
    # The client's `callback` is where *we* report status; the carrier reports receipts to us.
    params = {key: str(value) for key, value in message.params.items() if key != "callback"}
    receipt_url = receipt_url_for(connector)
    if receipt_url:
        params["callback"] = receipt_url  # with the webhook token, if any
    # The carrier echoes client-ref in every receipt: our id lets a receipt confirm a submission whose
    # answer was lost (reconciliation). The client's own client-ref stays in our API and callbacks.
    params["client-ref"] = message.message_id
    return Submission(
        sender=message.sender, to=message.to, text=message.text, type=message.sms_type, params=params
    )
