"""Accepting a send: validate, charge, persist, enqueue — then answer with Nexmo's body.

Acceptance is asynchronous: the carrier is called later by the dispatcher. Either the message is
stored, charged and queued, or none of the three happened.

A little over our ~400 lines on purpose: the send path from the request to its one read, the dispatch
record and its one charge transaction reads top to bottom here (its parts apart: timing, idempotency,
guards, counters).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from ulid import ULID

from smsgw import keys, queues, scheduler
from smsgw.accounts import service as accounts_service
from smsgw.accounts.models import Account
from smsgw.config import get_settings
from smsgw.core import clock
from smsgw.core.errors import (
    INVALID_SENDER,
    NUMBER_BARRED,
    PARTNER_QUOTA,
    AccountDisabled,
    Conflict,
    DailyCapReached,
    InsufficientBalance,
    InvalidField,
    PreconditionFailed,
    SendRefused,
    ServiceUnavailable,
)
from smsgw.core.ids import part_ids
from smsgw.core.lifecycle import Status
from smsgw.core.message import Event, Message
from smsgw.faults import crash_point
from smsgw.messages import counters, guards, idempotency, pricing, repository, timing
from smsgw.messages.params import ValidatedSend, validate_send
from smsgw.messages.ports import Balances, OptOutRules, Routes, SenderRules
from smsgw.messages.send_at import pop_send_at
from smsgw.numbers import routing as numbers_routing
from smsgw.observability import logger, mask_number, metrics
from smsgw.optouts import service as optouts_service
from smsgw.routing import service as routing_service
from smsgw.urlsafety import check_callback_url

# What the send path uses of the other domains (messages/ports.py), checked by mypy.
accounts: Balances = accounts_service
numbers: SenderRules = numbers_routing
optouts: OptOutRules = optouts_service
routing: Routes = routing_service


def _validate(fields: dict[str, str]) -> ValidatedSend:
    check_url = partial(check_callback_url, allow_http_hosts=get_settings().callback_allow_http_hosts)
    try:
        return validate_send(fields, check_url=check_url)
    except InvalidField as error:
        raise SendRefused.of(error) from None


def _reply_route(account: Account, sender: str) -> str:
    """`inbound: yes`: replies to this send go to the callback registered for the sender's number."""
    if not sender.isdigit():  # validated: digits only, or an alphanumeric sender ID
        raise PreconditionFailed(
            f"header inbound: yes routes replies, and nobody can reply to the alphanumeric sender {sender}: send "
            "from a number of yours that has a callback (a bought number with moHttpUrl, or your phone "
            "registered with POST /communication/nexmo/sms/register), or leave the header out",
            "inbound",
        )
    route = numbers.route_for(sender)
    if route is None or route.account_id != account.account_id or not route.callback_url:
        raise PreconditionFailed(
            f"header inbound: yes needs a callback for the sender {sender}: register one with "
            f"POST /communication/nexmo/sms/register (to={sender}, callback_url=…) or set moHttpUrl on "
            "your number with POST /communication/nexmo/phone-numbers/number/update",
            "inbound",
        )
    return route.callback_url


def new_message(
    account: Account,
    send: ValidatedSend,
    message_id: str,
    now: datetime,
    status: Status = Status.QUEUED,
    *,
    send_at: str | None = None,
    held_for: str | None = None,
    schedule_id: str | None = None,
    last_error: str | None = None,
    purpose: str | None = None,
    redact_text: bool = False,
) -> Message:
    """An accepted send as it is stored, priced from the rate card; its timeline starts at `status`.

    `send_at`/`held_for`/`schedule_id`: a message held for later (status `scheduled`); `last_error`:
    why it starts `failed` (a schedule's recipient who opted out); `purpose`/`redact_text`: a
    verification code, whose text its account never sees."""
    route = routing.decide(
        send.destination.msisdn, send.destination.country, account.account_id, send.sender, message_id
    )
    # Priced by the route's first connector (its rate card, else the stack's); a failover costs nothing more.
    route_price = routing.price_for(route.connectors[0], send.destination.country)
    unit_price = pricing.price_per_part(send.destination.country, route_price)
    at = clock.iso(now)
    parts = send.segmentation.parts
    return Message(
        message_id=message_id,
        account_id=account.account_id,
        sender=send.sender,
        to=send.destination.msisdn,
        country=send.destination.country,
        text=send.text,
        sms_type=send.type,
        params=dict(send.params),
        parts=parts,
        part_ids=tuple(part_ids(message_id, parts)),
        encoding=send.segmentation.encoding,
        unit_price=unit_price,
        price=unit_price * parts,
        currency=account.currency,
        created_at=at,
        expires_at=int(now.timestamp()) + get_settings().message_retention_days * 86_400,
        purpose=purpose,
        redact_text=redact_text,
        # Only a route's choice is stored: a message for the default connector stays as small as before.
        connectors=route.connectors if route.route_id else (),
        route_id=route.route_id,
        status=status,
        updated_at=at,
        attempts=0,
        events=(Event(at=at, status=status),),
        last_error=last_error,
        send_at=send_at,
        held_for=held_for,
        schedule_id=schedule_id,
    )


def _accept(
    account: Account,
    fields: dict[str, str],
    *,
    inbound: bool = False,
    count_request: bool = False,
    claim: repository.KeyClaim | None = None,
) -> dict[str, Any]:
    fields = dict(fields)
    send_at = pop_send_at(fields)
    urgent = timing.urgent(fields.pop("urgent", None))
    send = _validate(fields)
    if not numbers.sender_allowed(account, send.sender):
        raise SendRefused(INVALID_SENDER, numbers.sender_refusal(send.sender), "from")
    guards.check_country(account, send.destination.msisdn, send.destination.country)
    reply_route = _reply_route(account, send.sender) if inbound else None
    now = datetime.now(UTC)
    held = timing.send_time(account, send_at, send.destination.msisdn, urgent, now)
    if held is not None:
        moment, reason = held
        message = new_message(
            account,
            send,
            str(ULID()),
            now,
            Status.SCHEDULED,
            send_at=moment.isoformat(timespec="seconds"),
            held_for=reason,
        )
    else:
        message = new_message(account, send, str(ULID()), now)
    # An immediate send counts its request, its number range (velocity) and the day's spend in its
    # charge transaction; they are read before anything is queued, in the same read as the balance
    # and the recipient's opt-out: one call (docs/reliability.md "Acceptance").
    rate = (
        counters.send_rate(account.account_id, accounts.request_second(), account.rate_limit_per_second)
        if count_request
        else None
    )
    velocity = guards.velocity_limit(account, send.destination.msisdn)
    cap = guards.daily_cap_now(account)
    spend = counters.spend(account.account_id, message.price, cap) if cap is not None else None
    limits = [limit for limit in (rate, velocity, spend) if limit is not None]
    pre = repository.preflight(account.account_id, _opt_out_key(send.sender, send.destination.msisdn), limits)
    if rate is not None and rate.full(pre.counted[rate.kind]):
        raise accounts.rate_limited(account)
    if pre.opted_out:
        raise SendRefused(
            NUMBER_BARRED,
            f"Number Barred: {send.destination.msisdn} replied STOP to {send.sender}; nothing was sent or "
            "charged. They can reply START to receive messages again",
            "to",
        )
    if held is not None:
        # Not charged now: the rate and velocity counters are counted at once (a flood held for later
        # is a flood too).
        if count_request:
            accounts.enforce_rate_limit(account)
        guards.check_velocity(account, send.destination.msisdn)
        return _hold(account, message, held[0], pre, reply_route=reply_route, claim=claim)
    if velocity is not None and velocity.full(pre.counted[velocity.kind]):
        raise guards.velocity_refusal(account, send.destination.msisdn)
    parts, message_id = message.parts, message.message_id
    if reply_route is not None:
        # Before the charge: a crash after it must not lose the reply route (an unused one is harmless:
        # it sends the account's own number's replies to its own callback).
        optouts.record_conversation(send.destination.msisdn, send.sender, account.account_id, reply_route)
    try:
        answer = _enqueue_and_charge(account, message, pre, limits, cap, claim)
    except InsufficientBalance as error:
        raise SendRefused(PARTNER_QUOTA, f"Partner Quota Violation: {error.message}") from None
    crash_point("send.after_charge", message_id)
    logger.info(
        "message accepted",
        extra={"message_id": message_id, "to": mask_number(send.destination.msisdn), "parts": parts},
    )
    metrics.add_metric(name="MessagesAccepted", unit="Count", value=1)
    return answer


def _opt_out_key(sender: str, recipient: str) -> dict[str, str]:
    """The item that says `recipient` replied STOP to `sender` (as optouts.is_opted_out reads it)."""
    return keys.opt_out(sender.lstrip("+"), recipient)


def _enqueue_and_charge(
    account: Account,
    message: Message,
    pre: repository.Preflight,
    limits: list[counters.Limit],
    cap: counters.DailyCap | None = None,
    claim: repository.KeyClaim | None = None,
) -> dict[str, Any]:
    """Queue the message for dispatch, then charge and store it (counting `limits`, keeping the answer
    for `claim`'s Idempotency-Key); returns the answer.

    Enqueue first: a function that dies between the two leaves a record for a message that does not
    exist (dispatch drops it after a grace period), never a charged message no record will ever send
    (issue 11 c; docs/reliability.md). Raises InsufficientBalance, AccountDisabled, DailyCapReached,
    SendThrottled or RateLimited (nothing queued then, or — when the read `pre` was overtaken by
    concurrent sends — a record dispatch drops), or Conflict (the key's claim was lost meanwhile).
    """
    message_id, price = message.message_id, message.price
    # The transaction checks again; this keeps refused sends (disabled, low balance, a full counter)
    # out of the queue.
    if pre.disabled:
        raise AccountDisabled()
    if pre.balance < price:
        raise InsufficientBalance("insufficient balance for this message; top up the account")
    for limit in limits:
        if limit.kind == "spend" and limit.full(pre.counted[limit.kind]):
            assert cap is not None  # a spend limit is the daily cap's
            raise guards.cap_reached(account, cap, price, pre.counted[limit.kind])
    # As of acceptance (concurrent sends of the account may move it).
    answer = _answer(message, pre.balance - price)
    try:
        queues.enqueue_dispatch(message_id)
    except Exception:
        logger.exception("enqueue failed; nothing was charged", extra={"message_id": message_id})
        raise ServiceUnavailable(
            "the send queue is unavailable; nothing was charged, retry shortly"
        ) from None
    try:
        repository.accept(
            message,
            price,
            claim=claim,
            response=json.dumps(answer) if claim is not None else "",
            limits=limits,
            stale=pre.stale,
        )
    except counters.LimitReached as reached:
        if reached.limit.kind == "spend" and cap is not None:
            raise guards.cap_reached(account, cap, price) from None
        if reached.limit.kind == "velocity":
            raise guards.velocity_refusal(account, message.to) from None
        raise accounts.rate_limited(account) from None
    except repository.KeyTaken:
        raise _in_progress() from None
    return answer


def _in_progress() -> Conflict:
    return Conflict("a request with this Idempotency-Key is still being processed; retry shortly")


def send_verification_code(account: Account, to: str, text: str) -> str:
    """Send a possession code to `to` from the gateway's verification sender, charged to the account as
    a message. Its text is never shown to the account (GET /messages): only the phone's holder reads it.

    Raises PreconditionFailed when the balance or the account's daily cap does not cover it, the
    account's guards refuse the phone's country, or the phone replied STOP to the sender.
    """
    sender = get_settings().verification_sender
    send = _validate({"from": sender, "to": to, "text": text})
    refusal = account.guards.country_refusal(send.destination.country)
    if refusal is not None:
        raise PreconditionFailed(
            f"no verification code can be sent to {send.destination.msisdn}: it is in "
            f"{send.destination.country}, and {refusal}",
            "to",
        )
    if optouts.is_opted_out(sender, send.destination.msisdn):
        raise PreconditionFailed(
            f"{send.destination.msisdn} replied STOP to {sender}: no verification code can be sent to it",
            "to",
        )
    message = new_message(
        account, send, str(ULID()), datetime.now(UTC), purpose="verification", redact_text=True
    )
    cap = guards.daily_cap_now(account)
    limits = [counters.spend(account.account_id, message.price, cap)] if cap is not None else []
    try:
        _enqueue_and_charge(
            account, message, repository.preflight(account.account_id, None, limits), limits, cap
        )
    except DailyCapReached as error:
        raise PreconditionFailed(f"the verification SMS cannot be sent: {error.message}", "to") from None
    except InsufficientBalance:
        raise PreconditionFailed(
            f"the balance does not cover the verification SMS ({pricing.money(message.price)}); top up first",
            "to",
        ) from None
    logger.info("verification code sent", extra={"message_id": message.message_id, "to": mask_number(to)})
    return message.message_id


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _answer_again(account: Account, message_id: str, idempotency_key: str) -> dict[str, Any]:
    """A retry whose Idempotency-Key already accepted a message (the first call died before answering)."""
    first = repository.load(message_id, consistent=True)
    if first is None:  # the key item outlived its message (retention): nothing to answer with
        raise Conflict(f"Idempotency-Key {idempotency_key!r} was used for a message that no longer exists")
    logger.info("idempotency key reused after a failed call", extra={"message_id": message_id})
    return _answer(first, accounts.balance(account.account_id))


def _answer(message: Message, remaining: Decimal) -> dict[str, Any]:
    """Nexmo's answer, as `smsgw.messages.models.SendResponse` documents it (a dict: the send path
    builds no pydantic model, docs/decisions.md "cold start")."""
    held = message.status == Status.SCHEDULED
    parts = []
    for part_id in message.part_ids:
        part = {
            "to": message.to,
            "message-id": part_id,
            "status": "0",
            "remaining-balance": pricing.money(remaining),
            "message-price": pricing.money(message.unit_price),
            "network": "",
        }
        if message.client_ref is not None:
            part["client-ref"] = message.client_ref
        if held:
            part["message-status"] = Status.SCHEDULED.value
            if message.send_at is not None:
                part["send-at"] = message.send_at
        parts.append(part)
    return {"message-count": str(message.parts), "messages": parts}


def _hold(
    account: Account,
    message: Message,
    send_at: datetime,
    pre: repository.Preflight,
    reply_route: str | None,
    claim: repository.KeyClaim | None = None,
) -> dict[str, Any]:
    """Store the `scheduled` message and create its one-time schedule; charged when it is sent."""
    if pre.disabled:
        raise AccountDisabled()
    remaining = pre.balance
    if remaining < message.price:
        raise SendRefused(
            PARTNER_QUOTA,
            f"Partner Quota Violation: the balance ({pricing.money(remaining)}) does not cover this message "
            f"({pricing.money(message.price)}); it is charged when it is sent, top up before then",
        )
    repository.store_scheduled(message)
    try:
        scheduler.create_one_time(message.message_id, send_at)
    except Exception:
        logger.exception(
            "schedule not created; forgetting the message", extra={"message_id": message.message_id}
        )
        repository.forget_scheduled(message.message_id)
        raise ServiceUnavailable("the scheduler is unavailable; nothing was stored, retry shortly") from None
    if reply_route is not None:
        optouts.record_conversation(message.to, message.sender, account.account_id, reply_route)
    answer = _answer(message, remaining)
    if claim is not None:
        try:
            repository.complete_key(claim, message.message_id, json.dumps(answer))
        except repository.KeyTaken:
            raise _in_progress() from None
    logger.info(
        "message scheduled",
        extra={"message_id": message.message_id, "send_at": message.send_at, "reason": message.held_for},
    )
    metrics.add_metric(name="MessagesScheduled", unit="Count", value=1)
    return answer


def accept_send(
    account: Account,
    fields: dict[str, str],
    idempotency_key: str | None = None,
    lambda_context: Any = None,
    inbound_replies: bool = False,
    count_request: bool = False,
) -> dict[str, Any]:
    """Validate, charge, persist and enqueue one send; returns Nexmo's response body.

    `count_request`: count it against the account's request rate (the API's sends; 429 over it).
    With an Idempotency-Key the first response is kept for 24 h: a retry with the same body gets
    it back and nothing is sent again; the same key with another body is refused (400), and one
    while the first is still running is 409.
    """
    accept = partial(_accept, account, fields, inbound=inbound_replies, count_request=count_request)
    if idempotency_key is None:
        return accept()
    try:
        return idempotency.accept_once(
            lambda claim: accept(claim=claim),
            account.account_id,
            idempotency_key,
            _hash(json.dumps(fields, sort_keys=True)),
            lambda_context,
        )
    except repository.KeyUsed as used:
        return _answer_again(account, used.message_id, idempotency_key)
