"""Inbound SMS intake: what the carrier POSTs to /carrier/inbound, one call per SMS part.

The carrier resends anything we do not acknowledge for 24 h, and splits long messages into
parts that arrive out of order or twice. Here: verify the signature, drop resends (dedupe on the
carrier's messageId), collect the parts of a concatenated message and assemble them once, in
order (or, after a timeout, forward what arrived, flagged `incomplete`), honour STOP/START/HELP,
store the message, and queue it for signed delivery to the right callback. The HTTP delivery to
the customer is asynchronous (the webhook queue), so the carrier gets its 200 at once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ulid import ULID

from smsgw import keys, queues
from smsgw.accounts import service as accounts_service
from smsgw.carrier.signature import AUTH_PARAMS
from smsgw.config import get_settings
from smsgw.core.clock import now_iso
from smsgw.core.errors import BadRequest, NotFound, ServiceUnavailable
from smsgw.core.memo import remembered
from smsgw.core.ports import ConnectorWebhooks
from smsgw.faults import crash_point
from smsgw.inbound import repository
from smsgw.inbound.models import HELP_WORDS, START_WORDS, STOP_WORDS, InboundPage, InboundView
from smsgw.inbound.ports import (
    AccountCache,
    Conversations,
    InboundWebhooks,
    NumberRoutes,
    Replies,
)
from smsgw.numbers import routing as numbers_routing
from smsgw.numbers.routing import OWNED, REGISTERED, NumberRoute
from smsgw.observability import logger, mask_number, metrics
from smsgw.optouts import service as optouts_service
from smsgw.pagination import check_limit, decode_cursor, encode_cursor
from smsgw.routing import service as routing_service
from smsgw.routing.models import DEFAULT_CONNECTOR
from smsgw.webhooks import service as webhooks_service

# What inbound uses of the other domains (inbound/ports.py), checked by mypy.
numbers: NumberRoutes = numbers_routing
optouts: Conversations = optouts_service
webhooks: InboundWebhooks = webhooks_service
accounts: AccountCache = accounts_service
connectors: ConnectorWebhooks = routing_service

INBOUND_EVENT = "message.inbound"
DEDUPE_SECONDS = 2 * 86_400  # the carrier resends for 24 h
# How long an attempt holds a part: longer than InboundFunction's timeout (10 s). A resend that comes
# while an attempt may still run gets 503 (the carrier retries); one after the lease takes over.
PROCESSING_LEASE_SECONDS = 30
# How long the intake remembers who owns a number (or registered a phone), per warm function. Only a
# guess: its transaction checks the number items it routed by, so a change takes the very next SMS. A
# message the remembered view routes nowhere is routed again from fresh reads before it is kept unrouted.
NUMBER_ROUTE_CACHE_SECONDS = 60
_ROUTE_CACHE_MAX = 10_000
_number_routes: dict[tuple[str, str], tuple[float, NumberRoute | None]] = remembered({})
_conversations: dict[tuple[str, str], dict[str, Any]] = remembered({})
AUTO_REPLY_COUNT_SECONDS = 2 * 86_400  # the day's auto-reply counters outlive their day
_clock = time.time
_monotonic = time.monotonic  # the number-route cache's clock
_DIGITS = re.compile(r"\d{1,20}")


@dataclass(frozen=True)
class Route:
    account_id: str
    callback_url: str | None
    kind: str  # conversation | number | registered


def keyword_of(text: str) -> str:
    """Vonage's `keyword`: the first word, upper-cased (punctuation around it ignored)."""
    first = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    return first.strip(".,!?;:'\"()").upper()


def _require(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise BadRequest(f"{name} is required", name)
    return value


def _number(params: Mapping[str, str], name: str) -> str:
    value = _require(params, name).lstrip("+")
    if not _DIGITS.fullmatch(value):
        raise BadRequest(f"{name} must be a phone number (digits)", name)
    return value


def _concat(params: Mapping[str, str]) -> tuple[str, int, int] | None:
    if "concat-ref" not in params and params.get("concat", "").lower() != "true":
        return None
    ref = _require(params, "concat-ref")
    try:
        total, part = int(params.get("concat-total", "")), int(params.get("concat-part", ""))
    except ValueError:
        raise BadRequest("concat-total and concat-part must be whole numbers", "concat-part") from None
    if not 1 <= part <= total <= 255:
        raise BadRequest("concat-part must be between 1 and concat-total (at most 255)", "concat-part")
    return ref, total, part


def receive(params: Mapping[str, str], now: float | None = None, connector: str = DEFAULT_CONNECTOR) -> str:
    """Handle one inbound part from the carrier of `connector` (whose endpoint it came to; verified with
    its secret, then routed by number as from any carrier); returns received, part or duplicate.

    Nothing is lost when a step fails: the part's mark (its inbound_id, a lease) stays, an error
    releases the lease and answers 500, and the carrier's resend completes the same message; a Lambda
    that dies holds the lease only until it ends (a resend before then gets 503, and is retried).
    Every step is idempotent (the message is stored
    once under its inbound_id, the forward is deduplicated on it), so nothing is doubled either.
    """
    connectors.verify_webhook(connector, params, "inbound message", now)
    msisdn, to = _number(params, "msisdn"), _number(params, "to")
    carrier_id = _require(params, "messageId")
    concat = _concat(params)
    fields = {k: v for k, v in params.items() if k not in AUTH_PARAMS}
    expires = int(time.time()) + DEDUPE_SECONDS
    clock = int(_clock())
    if concat is None and _opt(keyword_of(params.get("text", ""))) is None:
        result = _receive_single(msisdn, to, carrier_id, fields, params.get("text", ""), clock, expires)
        if result is not None:
            return result
    inbound_id = repository.claim_part(
        carrier_id, str(ULID()), clock, clock + PROCESSING_LEASE_SECONDS, expires
    )
    if inbound_id is None:
        if not repository.part_done(carrier_id):
            # Another attempt holds the lease: it may still die, so do not acknowledge (the carrier
            # retries 5xx with backoff; by then the part is done, or the lease has ended).
            metrics.add_metric(name="InboundBusy", unit="Count", value=1)
            raise ServiceUnavailable("this part is being processed; send it again later", retry_after=10)
        metrics.add_metric(name="InboundDuplicates", unit="Count", value=1)
        return "duplicate"
    try:
        if concat is None:
            _accept(
                msisdn,
                to,
                fields,
                params.get("text", ""),
                [carrier_id],
                parts=1,
                incomplete=False,
                inbound_id=inbound_id,
            )
            result = "received"
        else:
            result = _receive_part(msisdn, to, concat, fields, expires)
        repository.finish_part(carrier_id)
    except Exception:
        repository.release_part(carrier_id)  # let the carrier's resend try again at once
        raise
    return result


def _receive_single(
    msisdn: str, to: str, carrier_id: str, fields: dict[str, str], text: str, clock: int, expires: int
) -> str | None:
    """A single-part SMS seen for the first time, that is no STOP/START/HELP: at most three AWS calls.
    One transaction stores its mark (leased), the message and its webhook delivery (under the
    condition that the conversation is as routed: checked, never read); then the delivery is queued
    and the mark finished — or, with nothing to forward, the mark is written finished at once. The
    numbers' owners come from a short cache (NUMBER_ROUTE_CACHE_SECONDS), checked by the transaction; a
    message none of them claims is routed again from fresh reads before it is kept unrouted.

    A mark that exists answers as `receive` does (duplicate, or 503 while its lease runs); a mark whose
    attempt failed or died returns None: `receive`'s general path retakes it (same inbound_id)."""
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
        item = _inbound_item(
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
            delivery = webhooks.prepare(**_forward_args(route, item, fields))
        outcome = repository.store_first_sight(
            carrier_id,
            {k: v for k, v in item.items() if v is not None},
            lease_until=clock + PROCESSING_LEASE_SECONDS,
            mark_expires_at=expires,
            done=delivery is None,
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
    _received(inbound_id, msisdn, parts=1, route=item["route"])
    if delivery is None:
        return "received"
    try:
        crash_point("inbound.assembly", inbound_id)
        webhooks.queue_new(delivery)
        repository.finish_part(carrier_id)
    except Exception:
        repository.release_part(carrier_id)  # the carrier's resend completes it at once (general path)
        raise
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


def _receive_part(
    msisdn: str, to: str, concat: tuple[str, int, int], fields: dict[str, str], expires: int
) -> str:
    ref, total, part = concat
    opened = repository.open_set(msisdn, to, ref, total, now_iso(), str(ULID()), expires)
    if not opened.get("check_scheduled"):  # first part (or its scheduling failed before)
        queues.schedule_inbound_check(
            {"msisdn": msisdn, "to": to, "ref": ref}, get_settings().inbound_concat_timeout_seconds
        )
        repository.set_check_scheduled(msisdn, to, ref)
    repository.store_part(msisdn, to, ref, part, fields, expires)
    header, parts = repository.set_parts(msisdn, to, ref)
    if header is None or header.get("finished") or len(parts) < int(header["total"]):
        return "part"
    _assemble(msisdn, to, ref, header, parts)
    return "received"


def check_incomplete(msisdn: str, to: str, ref: str) -> bool:
    """The reassembly timeout: forward what arrived of a set not forwarded yet (flagged `incomplete`
    when parts are missing; complete when an earlier assembly failed half-way). True if forwarded now."""
    header, parts = repository.set_parts(msisdn, to, ref)
    if header is None or header.get("finished") or not parts:
        return False
    _assemble(msisdn, to, ref, header, parts)
    return True


def _assemble(msisdn: str, to: str, ref: str, header: dict[str, Any], parts: list[dict[str, Any]]) -> None:
    """Store and forward the set's message under the set's inbound_id; any number of attempts (a
    resend, the timeout, a concurrent last part) store and forward it once. Then mark it finished."""
    total = int(header["total"])
    ordered = [p["fields"] for p in sorted(parts, key=lambda p: p["sk"])]
    text = "".join(f.get("text", "") for f in ordered)
    carrier_ids = [f["messageId"] for f in ordered]
    first = {**ordered[0], "concat-ref": ref, "concat-total": str(total)}
    inbound_id = str(header.get("inbound_id") or "")
    if not inbound_id:  # a set opened before sets carried their inbound_id
        inbound_id = str(repository.open_set(msisdn, to, ref, total, now_iso(), str(ULID()), 0)["inbound_id"])
    _accept(
        msisdn,
        to,
        first,
        text,
        carrier_ids,
        parts=total,
        incomplete=len(parts) < total,
        inbound_id=inbound_id,
    )
    repository.finish_set(msisdn, to, ref)


def route_for(msisdn: str, to: str) -> Route | None:
    """Where a reply goes: a conversation started with `inbound: yes`, else the number's owner
    (moHttpUrl), else the account that registered the sender's phone (KPN's test flow)."""
    conversation = optouts.conversation(msisdn, to)
    if conversation:
        return Route(conversation["account_id"], conversation.get("callback_url"), "conversation")
    # By `to` only a number an account owns; a registered phone only ever matches as the sender
    # (otherwise registering the number SMS are sent *to* would take other tenants' replies).
    number = numbers.owner_of_destination(to)
    if number is not None:
        return Route(number.account_id, number.callback_url, "number")
    sender = numbers.registered_sender(msisdn)
    if sender is not None:
        return Route(sender.account_id, sender.callback_url, "registered")
    return None


def _opt(keyword: str) -> str | None:
    if keyword in STOP_WORDS:
        return "stop"
    if keyword in START_WORDS:
        return "start"
    if keyword in HELP_WORDS:
        return "help"
    return None


def _accept(
    msisdn: str,
    to: str,
    fields: Mapping[str, str],
    text: str,
    carrier_ids: list[str],
    *,
    parts: int,
    incomplete: bool,
    inbound_id: str,
) -> str:
    """Opt-out, store (once per inbound_id), forward, HELP reply: each step safe to repeat."""
    received_at = now_iso()
    opt = _opt(keyword_of(text))
    if opt == "stop":
        optouts.opt_out(to, msisdn, received_at)
    elif opt == "start":
        optouts.opt_in(to, msisdn)
    route = route_for(msisdn, to)
    item = _inbound_item(
        msisdn,
        to,
        fields,
        text,
        carrier_ids,
        parts=parts,
        incomplete=incomplete,
        inbound_id=inbound_id,
        route=route,
        received_at=received_at,
    )
    # An earlier attempt may have stored it (then failed to forward, or died): go on with what it stored.
    stored, new = repository.put_inbound({k: v for k, v in item.items() if v is not None})
    if new:
        _received(inbound_id, msisdn, parts=parts, route=item["route"])
    crash_point("inbound.assembly", inbound_id)
    account_id, callback_url = stored.get("account_id"), stored.get("callback_url")
    if account_id and callback_url:
        route = Route(str(account_id), str(callback_url), str(stored.get("route")))
        webhooks.enqueue(**_forward_args(route, stored, fields))
    if account_id and stored.get("opt") == "help":
        _reply_help(str(account_id), sender=to, recipient=msisdn, inbound_id=inbound_id)
    return inbound_id


def _inbound_item(
    msisdn: str,
    to: str,
    fields: Mapping[str, str],
    text: str,
    carrier_ids: list[str],
    *,
    parts: int,
    incomplete: bool,
    inbound_id: str,
    route: Route | None,
    received_at: str | None = None,
) -> dict[str, Any]:
    keyword = keyword_of(text)
    return {
        "inbound_id": inbound_id,
        "account_id": route.account_id if route else None,
        "msisdn": msisdn,
        "to": to,
        "text": text,
        "sms_type": fields.get("type", "text"),
        "keyword": keyword,
        "message_timestamp": fields.get("message-timestamp"),
        "parts": parts,
        "incomplete": incomplete,
        "carrier_message_ids": carrier_ids,
        "route": route.kind if route else None,
        "callback_url": route.callback_url if route else None,
        "opt": _opt(keyword),
        "received_at": received_at or now_iso(),
        "expires_at": int(time.time()) + get_settings().message_retention_days * 86_400,
    }


def _received(inbound_id: str, msisdn: str, *, parts: int, route: str | None) -> None:
    logger.info(
        "inbound received",
        extra={"inbound_id": inbound_id, "from": mask_number(msisdn), "parts": parts, "route": route},
    )
    metrics.add_metric(name="InboundReceived", unit="Count", value=1)


def _forward_args(route: Route, item: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """The webhook of an inbound message: Vonage's inbound fields (existing Vonage handlers work
    unchanged), plus our ids."""
    parts = int(item["parts"])
    payload: dict[str, Any] = {
        "msisdn": item["msisdn"],
        "to": item["to"],
        "messageId": item["carrier_message_ids"][0],
        "text": item["text"],
        "type": item["sms_type"],
        "keyword": item["keyword"],
        "message-timestamp": item.get("message_timestamp") or "",
        "api-key": fields.get("api-key", ""),
        "inbound_id": item["inbound_id"],
        "parts": parts,
        "incomplete": bool(item["incomplete"]),
    }
    if parts > 1:
        payload["concat-total"] = str(parts)
    return {
        "account_id": route.account_id,
        "url": str(route.callback_url),
        "event_type": INBOUND_EVENT,
        "payload": payload,
        "subject_id": item["inbound_id"],
        "dedupe_key": f"inbound:{item['inbound_id']}",
    }


def _reply_help(account_id: str, sender: str, recipient: str, inbound_id: str) -> None:
    """HELP gets the operator's help text back, from the number it was sent to (charged as a send):
    once per inbound message, and at most AUTO_REPLY_MAX_PER_RECIPIENT_PER_DAY to one recipient and
    AUTO_REPLY_MAX_PER_NUMBER_PER_DAY from one number (forged or real HELP floods cost nothing more)."""
    settings = get_settings()
    try:
        outcome = repository.claim_auto_reply(
            inbound_id,
            sender,
            recipient,
            datetime.now(UTC).strftime("%Y-%m-%d"),
            settings.auto_reply_max_per_recipient_per_day,
            settings.auto_reply_max_per_number_per_day,
            int(time.time()) + AUTO_REPLY_COUNT_SECONDS,
        )
        if outcome == "replied":
            return
        if outcome != "ok":
            metrics.add_metric(name="AutoRepliesCapped", unit="Count", value=1)
            logger.warning(
                "auto-reply not sent: daily cap reached",
                extra={
                    "cap": outcome,
                    "from": mask_number(sender),
                    "to": mask_number(recipient),
                    "inbound_id": inbound_id,
                },
            )
            return
        # Imported on first use: the send path is ≈100 ms of InboundFunction's and InboundReassemblyFunction's
        # cold start (`-X importtime`, 2026-12-03: 104 ms cumulative) that only a HELP reply needs.
        from smsgw.messages import service as messages_service

        messages: Replies = messages_service

        account = accounts.cached_account(account_id)
        # urgent: they just wrote to us, so the answer goes now, quiet hours or not.
        reply = {"from": sender, "to": recipient, "text": settings.help_reply, "urgent": "true"}
        messages.accept_send(account, reply)
    except Exception:
        logger.exception("could not send the HELP reply", extra={"account_id": account_id})


# --- reading --------------------------------------------------------------------------------------


def _view(item: dict[str, Any], with_deliveries: bool = False) -> InboundView:
    deliveries = []
    if with_deliveries:
        deliveries = webhooks.deliveries_for(item["inbound_id"])
    return InboundView(
        inbound_id=item["inbound_id"],
        msisdn=item["msisdn"],
        to=item["to"],
        text=item.get("text", ""),
        type=item.get("sms_type", "text"),
        keyword=item.get("keyword", ""),
        message_timestamp=item.get("message_timestamp"),
        parts=int(item.get("parts", 1)),
        incomplete=bool(item.get("incomplete", False)),
        carrier_message_ids=list(item.get("carrier_message_ids") or []),
        route=item.get("route"),
        callback_url=item.get("callback_url"),
        opt=item.get("opt"),
        received_at=item["received_at"],
        deliveries=deliveries,
    )


def get_inbound(account_id: str, inbound_id: str) -> InboundView:
    item = repository.get_inbound(inbound_id)
    if item is None or item.get("account_id") != account_id:
        raise NotFound(f"no inbound message {inbound_id}")
    return _view(item, with_deliveries=True)


def list_inbound(account_id: str, limit: int = 50, cursor: str | None = None) -> InboundPage:
    check_limit(limit)
    index_pk = keys.inbound_index(account_id)
    start_key = decode_cursor(cursor, index_pk)
    items, next_key = repository.query_inbound(index_pk, limit=limit, start_key=start_key)
    # Deliveries are read for forwarded messages only (one query each, at most `limit`): one kept for
    # nobody has none.
    views = [_view(item, with_deliveries=bool(item.get("callback_url"))) for item in items]
    return InboundPage(inbound=views, next_cursor=encode_cursor(next_key))
