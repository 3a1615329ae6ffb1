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
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ulid import ULID

from smsgw import keys, queues
from smsgw.accounts import service as accounts_service
from smsgw.carrier.signature import AUTH_PARAMS
from smsgw.config import get_settings
from smsgw.core.clock import now_iso
from smsgw.core.errors import BadRequest, NotFound, ServiceUnavailable
from smsgw.core.ports import ConnectorWebhooks
from smsgw.faults import crash_point
from smsgw.inbound import repository, single
from smsgw.inbound.items import (
    PROCESSING_LEASE_SECONDS,
    Route,
    forward_args,
    inbound_item,
    keyword_of,
    log_received,
    opt_of,
)
from smsgw.inbound.models import InboundPage, InboundView
from smsgw.inbound.ports import (
    AccountCache,
    Conversations,
    InboundWebhooks,
    NumberRoutes,
    Replies,
)
from smsgw.numbers import routing as numbers_routing
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

DEDUPE_SECONDS = 2 * 86_400  # the carrier resends for 24 h
AUTO_REPLY_COUNT_SECONDS = 2 * 86_400  # the day's auto-reply counters outlive their day
_clock = time.time
_DIGITS = re.compile(r"\d{1,20}")


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
    if concat is None and opt_of(keyword_of(params.get("text", ""))) is None:
        result = single.receive_single(msisdn, to, carrier_id, fields, params.get("text", ""), clock, expires)
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
    opt = opt_of(keyword_of(text))
    if opt == "stop":
        optouts.opt_out(to, msisdn, received_at)
    elif opt == "start":
        optouts.opt_in(to, msisdn)
    route = route_for(msisdn, to)
    item = inbound_item(
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
        log_received(inbound_id, msisdn, parts=parts, route=item["route"])
    crash_point("inbound.assembly", inbound_id)
    account_id, callback_url = stored.get("account_id"), stored.get("callback_url")
    if account_id and callback_url:
        route = Route(str(account_id), str(callback_url), str(stored.get("route")))
        webhooks.enqueue(**forward_args(route, stored, fields))
    if account_id and stored.get("opt") == "help":
        _reply_help(str(account_id), sender=to, recipient=msisdn, inbound_id=inbound_id)
    return inbound_id


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
