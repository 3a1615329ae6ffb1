"""A single-part inbound SMS seen for the first time (no STOP/START/HELP) in at most two AWS calls:
one transaction, the webhook enqueue (docs/architecture.md "AWS calls")."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ulid import ULID

from smsgw.core.errors import ServiceUnavailable
from smsgw.core.memo import remembered
from smsgw.faults import crash_point
from smsgw.inbound import repository
from smsgw.inbound.items import Route, forward_args, inbound_item, log_received
from smsgw.inbound.ports import InboundWebhooks, NumberRoutes
from smsgw.numbers import routing as numbers_routing
from smsgw.numbers.routing import OWNED, REGISTERED, NumberRoute
from smsgw.observability import metrics
from smsgw.webhooks import service as webhooks_service

# What the intake uses of the other domains (inbound/ports.py), checked by mypy.
numbers: NumberRoutes = numbers_routing
webhooks: InboundWebhooks = webhooks_service

# How long the intake remembers who owns a number (or registered a phone), per warm function. Only a
# guess: its transaction checks the number items it routed by, so a change takes the very next SMS. A
# message the remembered view routes nowhere is routed again from fresh reads before it is kept unrouted.
NUMBER_ROUTE_CACHE_SECONDS = 60
_ROUTE_CACHE_MAX = 10_000
_number_routes: dict[tuple[str, str], tuple[float, NumberRoute | None]] = remembered({})
_conversations: dict[tuple[str, str], dict[str, Any]] = remembered({})
_monotonic = time.monotonic  # the number-route cache's clock


def receive_single(
    msisdn: str, to: str, carrier_id: str, fields: dict[str, str], text: str, clock: int, expires: int
) -> str | None:
    """A single-part SMS seen for the first time, that is no STOP/START/HELP: at most two AWS calls.
    One transaction stores its mark (finished, naming the webhook delivery), the message and its
    webhook delivery (under the condition that the conversation is as routed: checked, never read);
    then the delivery is queued. The numbers' owners come from a short cache
    (NUMBER_ROUTE_CACHE_SECONDS), checked by the transaction; a message none of them claims is routed
    again from fresh reads before it is kept unrouted.

    A function that dies (or whose queueing fails) between the two answers 5xx, and the carrier sends
    the SMS again: its mark makes it a duplicate, and a duplicate queues the delivery its mark names
    once more (a repeated record is never a second POST: WebhookFunction claims each attempt under a
    condition). A mark that is still leased (written by the general path) answers 503; one whose attempt
    failed or died returns None: `receive`'s general path retakes it (same inbound_id)."""
    conversation = _conversations.get((msisdn, to))
    numbers_changed = False
    for _ in range(3):  # the conversation may change under us; the third surprise goes the general way
        route: Route | None
        expected: list[repository.NumberExpected] = []
        if conversation:
            route = Route(conversation["account_id"], conversation.get("callback_url"), "conversation")
        else:  # a cached "nobody's" is read again: the cache never keeps a message unrouted
            route, expected = _number_route(msisdn, to, fresh=numbers_changed)
            if route is None and not numbers_changed:
                route, expected = _number_route(msisdn, to, fresh=True)
        inbound_id = str(ULID())
        item = inbound_item(
            msisdn,
            to,
            fields,
            text,
            [carrier_id],
            parts=1,
            incomplete=False,
            inbound_id=inbound_id,
            route=route,
        )
        delivery = None
        if route is not None and route.callback_url:
            delivery = webhooks.prepare(**forward_args(route, item, fields))
        outcome = repository.store_first_sight(
            carrier_id,
            {k: v for k, v in item.items() if v is not None},
            mark_expires_at=expires,
            delivery_id=delivery.delivery_id if delivery else None,
            msisdn=msisdn,
            to=to,
            conversation=conversation,
            numbers=expected,
            writes=delivery.writes if delivery else [],
        )
        if outcome.stored:
            break
        if outcome.busy:
            metrics.add_metric(name="InboundBusy", unit="Count", value=1)
            raise ServiceUnavailable("this part is being processed; send it again later", retry_after=10)
        if outcome.mark is not None:
            mark = outcome.mark
            if mark.get("done") is not False:  # True, or a mark from before marks had `done`
                if mark.get("delivery_id"):  # its first attempt may have died before queueing it
                    webhooks.queue_first_attempt(str(mark["inbound_id"]), str(mark["delivery_id"]))
                metrics.add_metric(name="InboundDuplicates", unit="Count", value=1)
                return "duplicate"
            if int(mark.get("lease_until", 0)) >= clock:
                metrics.add_metric(name="InboundBusy", unit="Count", value=1)
                raise ServiceUnavailable("this part is being processed; send it again later", retry_after=10)
            return None  # an earlier attempt failed or died: the general path completes its message
        if outcome.numbers_changed:  # the cached owners are out of date: read them again
            numbers_changed = True
            continue
        conversation = outcome.conversation or None  # {}: it is gone
    else:
        return None
    _remember_conversation(msisdn, to, conversation)
    log_received(inbound_id, msisdn, parts=1, route=item["route"])
    if delivery is not None:
        crash_point("inbound.assembly", inbound_id)
        webhooks.queue_new(delivery)  # if this fails, the carrier's resend queues it (see above)
    return "received"


def _number_route(
    msisdn: str, to: str, fresh: bool = False
) -> tuple[Route | None, list[repository.NumberExpected]]:
    """route_for's numbers (not the conversation), from the cache unless `fresh`, and what the route
    assumes of them: the intake's transaction checks that, so a cached owner is never trusted (a
    number released and bought by another account must not bring its SMS to the first)."""
    number = _cached_number("to", to, numbers.owner_of_destination, fresh)
    if number is not None:
        owned = repository.NumberExpected(to, OWNED, number.account_id, number.callback_url)
        return Route(number.account_id, number.callback_url, "number"), [owned]
    sender = _cached_number("from", msisdn, numbers.registered_sender, fresh)
    if sender is not None:
        expected = [
            repository.NumberExpected(to, OWNED),  # still nobody's number: it would come first
            repository.NumberExpected(msisdn, REGISTERED, sender.account_id, sender.callback_url),
        ]
        return Route(sender.account_id, sender.callback_url, "registered"), expected
    return None, []  # nobody's: only after fresh reads (see _receive_single)


def _cached_number(
    side: str, number: str, lookup: Callable[[str], NumberRoute | None], fresh: bool
) -> NumberRoute | None:
    now = _monotonic()
    hit = _number_routes.get((side, number))
    if hit is not None and hit[0] > now and not fresh:
        return hit[1]
    found = lookup(number)
    if len(_number_routes) >= _ROUTE_CACHE_MAX:
        _number_routes.clear()
    _number_routes[(side, number)] = (now + NUMBER_ROUTE_CACHE_SECONDS, found)
    return found


def _remember_conversation(msisdn: str, to: str, conversation: dict[str, Any] | None) -> None:
    """What the transaction last found (it checks it again each time: a stale guess costs a retry, never
    a wrong route)."""
    if conversation is None:
        _conversations.pop((msisdn, to), None)
        return
    if len(_conversations) >= _ROUTE_CACHE_MAX:
        _conversations.clear()
    _conversations[(msisdn, to)] = {
        "account_id": conversation["account_id"],
        "callback_url": conversation.get("callback_url"),
    }
