"""DynamoDB access for messages. Every status change is a conditional write: never backwards, never twice.

Longer than our ~400 lines on purpose: it is the message store, every conditional write of the lifecycle
in one place, so their conditions can be read side by side (the item itself: `smsgw.messages.items`).

Keys (smsgw.keys; docs/data-model.md):
  MSG#<id> / MSG   the message: request, parts, price, status, events (timeline)
  (the fraud guards' SPEND#… and VELOCITY#… counters: their repository, `smsgw.messages.counters`)
  GSI1: gsi1pk = ACCOUNT#<account_id>#MSG, gsi1sk = <id> (ULIDs sort by time) — the account's messages
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from smsgw import db, keys
from smsgw.accounts import request_window
from smsgw.accounts.service import get_account  # why a charge failed: read through the accounts domain
from smsgw.core.errors import AccountDisabled, InsufficientBalance
from smsgw.core.lifecycle import CANCELLED, FAILED, QUEUED, SCHEDULED, SUBMITTED, SUBMITTING
from smsgw.core.message import Message
from smsgw.messages.counters import (
    DailyCap,
    DailyCapExceeded,
    Limit,
    LimitReached,
    utc_day,
)
from smsgw.messages.counters import count_spend as _count_spend  # one item of the charge transaction
from smsgw.messages.items import event_item as _event
from smsgw.messages.items import from_item, to_item


class ClaimRefused(Exception):
    """A scheduled message could not be claimed: `reason` is "not_scheduled", "unpaid" or "daily_cap"
    (the account's daily spend cap; `detail` says so, for the message's last_error)."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def _charge(
    account_id: str, price: Decimal, rate: Limit | None = None, stale: Sequence[str] = ()
) -> dict[str, Any]:
    update: dict[str, Any] = {
        "TableName": db.table().name,
        "Key": keys.account(account_id),
        "UpdateExpression": "SET balance = balance - :price",
        "ConditionExpression": "balance >= :price AND disabled = :false",
        "ExpressionAttributeValues": {":price": price, ":false": False},
    }
    if rate is not None:
        update = request_window.counted(update, rate.attribute, rate.amount, rate.limit, stale)
    return {"Update": update}


def _charge_refusal(account_id: str, price: Decimal, rate: Limit | None) -> Exception:
    """Why the charge's update was refused (a consistent read): the account (a disabled account is never
    "low balance"), its balance, or its request rate window (the charge counts it too)."""
    item = db.table().get_item(Key=keys.account(account_id), ConsistentRead=True).get("Item")
    if item is None or item.get("disabled"):
        return AccountDisabled()
    paid = Decimal(item["balance"]) >= price
    if paid and rate is not None and rate.full(Decimal(item.get(rate.attribute, 0))):
        return LimitReached(rate)
    return InsufficientBalance("insufficient balance for this message; top up the account")


class KeyUsed(Exception):
    """An Idempotency-Key already accepted a message: `message_id` is that message, `request_hash`
    the hash of the request that did."""

    def __init__(self, message_id: str, request_hash: str) -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.request_hash = request_hash


IN_PROGRESS, DONE = "in_progress", "done"


@dataclass(frozen=True, slots=True)
class KeyClaim:
    """This request's hold on an Idempotency-Key (item IDEMKEY#…): `token` tells it from a later one."""

    account_id: str
    key_hash: str
    request_hash: str
    token: str


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """An Idempotency-Key item as found: another request's claim (`in_progress`) or its answer."""

    request_hash: str
    in_progress: bool
    message_id: str
    response: str | None  # the first answer (JSON); None on an item from before answers were kept


class KeyTaken(Exception):
    """The key's claim was no longer this request's when it charged (it ran past its in-progress time
    and a retry took the key over): nothing was written."""


def claim_key(claim: KeyClaim, in_progress_until: int, expires_at: int, now: int) -> KeyRecord | None:
    """Claim the Idempotency-Key for this request, unless another holds it (its claim not yet expired)
    or it answered already: None when claimed, else the item as it is (read by the same call)."""
    try:
        db.table().put_item(
            Item={
                **keys.idempotency_key(claim.account_id, claim.key_hash),
                "status": IN_PROGRESS,
                "claim": claim.token,
                "request_hash": claim.request_hash,
                "in_progress_until": in_progress_until,
                "expires_at": expires_at,
            },
            ConditionExpression="attribute_not_exists(pk) OR (#s = :in_progress AND in_progress_until < :now)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":in_progress": IN_PROGRESS, ":now": now},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if not db.condition_failed(error):
            raise
        item = db.plain_item(error.response.get("Item"))
        if item is None:  # an emulator that does not return the item with the failed condition: read it
            key = keys.idempotency_key(claim.account_id, claim.key_hash)
            item = db.table().get_item(Key=key, ConsistentRead=True).get("Item") or {}
        return KeyRecord(
            request_hash=str(item.get("request_hash", "")),
            in_progress=item.get("status") == IN_PROGRESS,
            message_id=str(item.get("message_id", "")),
            response=str(item["response"]) if "response" in item else None,
        )
    return None


def _complete_key(claim: KeyClaim, message_id: str, response: str) -> dict[str, Any]:
    return {
        "TableName": db.table().name,
        "Key": keys.idempotency_key(claim.account_id, claim.key_hash),
        "UpdateExpression": "SET #s = :done, message_id = :message_id, #r = :response "
        "REMOVE in_progress_until, claim",
        "ConditionExpression": "claim = :token AND #s = :in_progress",
        "ExpressionAttributeNames": {"#s": "status", "#r": "response"},
        "ExpressionAttributeValues": {
            ":done": DONE,
            ":in_progress": IN_PROGRESS,
            ":token": claim.token,
            ":message_id": message_id,
            ":response": response,
        },
    }


def complete_key(claim: KeyClaim, message_id: str, response: str) -> None:
    """Keep the answer for the key (a held send: nothing charged, so no transaction)."""
    try:
        db.table().update_item(**_complete_key(claim, message_id, response))
    except ClientError as error:
        if db.condition_failed(error):
            raise KeyTaken() from None
        raise


def release_key(claim: KeyClaim) -> None:
    """The request failed before it was accepted: forget its claim, so a retry runs again."""
    try:
        db.table().delete_item(
            Key=keys.idempotency_key(claim.account_id, claim.key_hash),
            ConditionExpression="claim = :token AND #s = :in_progress",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":token": claim.token, ":in_progress": IN_PROGRESS},
        )
    except ClientError as error:
        if not db.condition_failed(error):
            raise


@dataclass(frozen=True, slots=True)
class Preflight:
    """What a send reads before it is queued, in one consistent BatchGetItem: the account's balance
    and state, whether the recipient opted out of the sender, and what each limit has counted."""

    balance: Decimal
    disabled: bool  # or gone
    opted_out: bool
    counted: dict[str, Decimal]  # Limit.kind → its counter now (0 when absent)
    stale: tuple[str, ...] = ()  # earlier seconds' send windows on the account item (the charge removes them)


def preflight(account_id: str, opt_out: dict[str, str] | None, limits: Sequence[Limit]) -> Preflight:
    """One read for the account (consistent: the balance as of now), the opt-out item `opt_out`
    (keys.opt_out; None: not asked) and every limit's counter."""
    wanted = [keys.account(account_id), *([opt_out] if opt_out else [])]
    wanted += [limit.key for limit in limits if not limit.on_account]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    request: dict[str, Any] = {
        db.table().name: {
            "Keys": wanted,
            # Whole items: the account's send windows are attributes named by their second.
            "ConsistentRead": True,
        }
    }
    while request:
        answer = db.dynamodb_client().batch_get_item(RequestItems=request)
        for item in answer.get("Responses", {}).get(db.table().name, []):
            found[(item["pk"], item["sk"])] = item
        request = answer.get("UnprocessedKeys") or {}

    def get(key: dict[str, str]) -> dict[str, Any] | None:
        return found.get((key["pk"], key["sk"]))

    account = get(keys.account(account_id))
    counted = {}
    stale: tuple[str, ...] = ()
    for limit in limits:
        item = get(limit.key) or {}
        counted[limit.kind] = Decimal(item.get(limit.attribute, 0))
        if limit.on_account:
            stale = request_window.stale(item, request_window.second_of(limit.attribute))
    return Preflight(
        balance=Decimal(account["balance"]) if account else Decimal(0),
        disabled=account is None or bool(account.get("disabled")),
        opted_out=opt_out is not None and get(opt_out) is not None,
        counted=counted,
        stale=stale,
    )


def accept(
    message: Message,
    price: Decimal,
    *,
    claim: KeyClaim | None = None,
    response: str = "",
    limits: Sequence[Limit] = (),
    stale: Sequence[str] = (),
) -> None:
    """Charge the account and store the message in one transaction; InsufficientBalance or AccountDisabled
    leave both untouched.

    With `claim` (an Idempotency-Key this request claimed) the key gets the message and `response`
    (the answer) in the same transaction, so a retry after the function died answers with this
    message and cannot accept a second one; KeyTaken when the claim was lost meanwhile. Each of
    `limits` (the day's spend, the velocity and request rate counters) is counted in it too:
    LimitReached when one is full (nothing written then either). The send rate is counted by the
    charge's own update of the account item, which also removes the `stale` windows (Preflight.stale).
    """
    account_id = message.account_id
    item = to_item(message)
    rate = next((limit for limit in limits if limit.on_account), None)
    limits = [limit for limit in limits if not limit.on_account]
    writes: list[dict[str, Any]] = [
        _charge(account_id, price, rate, stale),
        {
            "Put": {
                "TableName": db.table().name,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]
    key_index = len(writes)
    if claim is not None:
        writes.append({"Update": _complete_key(claim, message.message_id, response)})
    first_limit = len(writes)
    writes += [limit.update() for limit in limits]
    try:
        db.dynamodb_client().transact_write_items(TransactItems=writes)
    except ClientError as error:
        if claim is not None and db.transaction_condition_failed(error, key_index):
            raise KeyTaken() from None
        if db.transaction_condition_failed(error, 0):
            raise _charge_refusal(account_id, price, rate) from None
        for index, limit in enumerate(limits, start=first_limit):
            if db.transaction_condition_failed(error, index):
                raise LimitReached(limit) from None
        raise


def store_scheduled(message: Message) -> bool:
    """Store a scheduled message (not charged); False when this id exists already (a repeated run)."""
    try:
        db.table().put_item(Item=to_item(message), ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        if db.condition_failed(error):
            return False
        raise
    return True


def forget_scheduled(message_id: str) -> None:
    """Remove a scheduled message whose schedule could not be created (so nothing is half-written)."""
    db.table().delete_item(
        Key=keys.message(message_id),
        ConditionExpression="#s = :scheduled",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":scheduled": SCHEDULED},
    )


def _scheduled_charge_cap(account_id: str, at: str) -> DailyCap | None:
    """The account's daily cap for a scheduled message charged at `at` (read through the accounts domain)."""
    account = get_account(account_id)
    if account is None or account.guards.daily_cap is None:
        return None
    return DailyCap(account.guards.daily_cap, utc_day(datetime.fromisoformat(at)))


def daily_cap_detail(cap: DailyCap, currency: str) -> str:
    """Why a charge was refused by the daily cap, for a message's last_error."""
    return (
        f"the account's daily spend cap ({cap.cap} {currency} per UTC day) was reached on {cap.day}; "
        "this is the cap, not the balance; nothing was sent or charged"
    )


def claim_scheduled(message: Message, lease_until: int, at: str) -> Message:
    """scheduled → submitting and charge the account, in one transaction; returns the claimed message.

    Raises ClaimRefused("not_scheduled") when it is no longer scheduled (cancelled, or claimed by a
    duplicate delivery), ClaimRefused("unpaid") when the balance is too low or the account disabled,
    ClaimRefused("daily_cap") when the charge would pass the account's daily spend cap (counted in the
    same transaction, for the UTC day of `at`; `detail` says so).
    """
    message_id = message.message_id
    cap = _scheduled_charge_cap(message.account_id, at)
    spend: list[dict[str, Any]] = []
    if cap is not None:
        try:
            spend.append(_count_spend(message.account_id, message.price, cap))
        except DailyCapExceeded:
            raise ClaimRefused("daily_cap", daily_cap_detail(cap, message.currency)) from None
    try:
        db.dynamodb_client().transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": db.table().name,
                        "Key": keys.message(message_id),
                        "UpdateExpression": (
                            "SET #s = :submitting, lease_until = :lease, updated_at = :at, charged_at = :at, "
                            "attempts = if_not_exists(attempts, :zero) + :one, "
                            "events = list_append(events, :events)"
                        ),
                        "ConditionExpression": "#s = :scheduled",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":submitting": SUBMITTING,
                            ":scheduled": SCHEDULED,
                            ":lease": lease_until,
                            ":at": at,
                            ":zero": 0,
                            ":one": 1,
                            ":events": [_event(at, QUEUED, "send time reached; charged")],
                        },
                    }
                },
                _charge(message.account_id, message.price),
                *spend,
            ]
        )
    except ClientError as error:
        if db.transaction_condition_failed(error, 0):
            raise ClaimRefused("not_scheduled") from None
        if db.transaction_condition_failed(error, 1):
            raise ClaimRefused("unpaid") from None
        if cap is not None and db.transaction_condition_failed(error, 2):
            raise ClaimRefused("daily_cap", daily_cap_detail(cap, message.currency)) from None
        raise
    return replace(message, status=SUBMITTING, lease_until=lease_until, updated_at=at, charged_at=at)


def get_message(message_id: str, consistent: bool = False) -> dict[str, Any] | None:
    """The stored item as it is (for tests and tools that look at the item itself); `load` reads a Message."""
    return db.table().get_item(Key=keys.message(message_id), ConsistentRead=consistent).get("Item")


def load(message_id: str, consistent: bool = False) -> Message | None:
    item = get_message(message_id, consistent)
    return from_item(item) if item is not None else None


def _update(message_id: str, **kwargs: Any) -> Message | None:
    item = db.update_if(keys.message(message_id), **kwargs)
    return from_item(item) if item is not None else None


def claim(message_id: str, now: int, lease_until: int, at: str) -> Message | None:
    """queued → submitting, or take over a submitting message whose lease ran out (its Lambda died)."""
    return _update(
        message_id,
        # claimed_from/previous_lease tell dispatch when it takes over from an invocation that died
        # (maybe after the carrier accepted the message): then it reconciles before resubmitting.
        UpdateExpression=(
            "SET #s = :submitting, lease_until = :lease, updated_at = :at, "
            "attempts = if_not_exists(attempts, :zero) + :one, claimed_from = #s, "
            "previous_lease = if_not_exists(lease_until, :zero)"
        ),
        ConditionExpression="#s = :queued OR (#s = :submitting AND lease_until < :now)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":submitting": SUBMITTING,
            ":queued": QUEUED,
            ":lease": lease_until,
            ":now": now,
            ":at": at,
            ":zero": 0,
            ":one": 1,
        },
    )


def release(
    message_id: str,
    at: str,
    error: str,
    dead_lettered: bool = False,
    unconfirmed_since: str | None = None,
    event: str | None = None,
    connector: str | None = None,
    failed_connector: str | None = None,
    forget_failed_connectors: bool = False,
    attempted_on: str | None = None,
) -> None:
    """submitting → queued: the carrier said not now; the queue retries it later.

    `unconfirmed_since`: a submission since then may have reached the carrier (no answer came); dispatch
    waits for its receipt before it submits again. `event`: a timeline entry with `error` as detail.
    `connector`: the connector it went to (an unconfirmed submission stays with it); `failed_connector`:
    one it failed on (the next attempt takes the next connector of its route); `forget_failed_connectors`:
    it failed on all of them, start over. The event names the connector the attempt went to (`connector`,
    `failed_connector` or `attempted_on`, which is only written there).
    """
    on = connector or failed_connector or attempted_on
    expression = "SET #s = :queued, last_error = :error, updated_at = :at REMOVE lease_until"
    values: dict[str, Any] = {":queued": QUEUED, ":submitting": SUBMITTING, ":error": error, ":at": at}
    if unconfirmed_since is not None:
        expression = expression.replace(" REMOVE", ", unconfirmed_since = :since REMOVE")
        values[":since"] = unconfirmed_since
    if event is not None:
        expression = expression.replace(" REMOVE", ", events = list_append(events, :events) REMOVE")
        values[":events"] = [_event(at, event, error, on)]
    if connector is not None:
        expression = expression.replace(" REMOVE", ", connector = :connector REMOVE")
        values[":connector"] = connector
    if failed_connector is not None:
        expression += " ADD failed_connectors :failed"
        values[":failed"] = {failed_connector}
    elif forget_failed_connectors:
        expression += ", failed_connectors"
    if dead_lettered:
        expression = (
            "SET #s = :queued, last_error = :error, updated_at = :at, dead_lettered_at = :at, "
            "events = list_append(events, :events) REMOVE lease_until"
        )
        values[":events"] = [_event(at, "dead_lettered", error, on)]
    _update(
        message_id,
        UpdateExpression=expression,
        ConditionExpression="#s = :submitting",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues=values,
    )


def mark_submitted(
    message_id: str,
    at: str,
    parts: list[dict[str, Any]],
    expires_at: int,
    detail: str | None = None,
    connector: str | None = None,
) -> bool:
    """submitting → submitted, with the carrier's parts. Then record_carrier_ids: two writes, not one
    transaction (that doubles their write units); a receipt that finds no carrier id lookup waits, and
    whoever learns the id first (dispatch, its replay, a receipt naming the message) writes it.

    `detail` explains how we know (e.g. reconciled from the carrier's receipt instead of its answer)."""
    return (
        _update(
            message_id,
            UpdateExpression=(
                "SET #s = :submitted, status_rank = :zero, carrier_parts = :parts, submitted_at = :at, "
                + ("connector = :connector, " if connector else "")
                + "updated_at = :at, part_status = if_not_exists(part_status, :empty), "
                "events = list_append(events, :events) "
                "REMOVE lease_until, last_error, unconfirmed_since, failed_connectors"
            ),
            ConditionExpression="#s = :submitting",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":submitted": SUBMITTED,
                ":submitting": SUBMITTING,
                ":parts": parts,
                ":at": at,
                ":zero": 0,
                ":empty": {},
                ":events": [_event(at, SUBMITTED, detail, connector)],
                **({":connector": connector} if connector else {}),
            },
        )
        is not None
    )


def record_carrier_ids(message_id: str, carrier_ids: Sequence[str], expires_at: int) -> None:
    """The carrier-id → (message, part) lookups of a submitted message's parts, in order (part 1 first).
    Writing one again is harmless: it says the same."""
    table = db.table()
    for n, carrier_message_id in enumerate(carrier_ids, start=1):
        if carrier_message_id:
            table.put_item(
                Item={
                    **keys.carrier(carrier_message_id),
                    "type": "carrier_id",
                    "message_id": message_id,
                    "part": n,
                    "expires_at": expires_at,
                }
            )


def confirm_carrier_id(message_id: str, carrier_message_id: str) -> Message | None:
    """A receipt names this message (its client-ref) and a carrier id we never recorded: the carrier
    has the message although its answer never reached us. Remembered for dispatch's reconciliation;
    the message as it is now, or None when it is not ours (no such message)."""
    return _update(
        message_id,
        UpdateExpression="ADD carrier_confirmed :id",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":id": {carrier_message_id}},
    )


def attach_carrier_part(message_id: str, carrier_message_id: str, known_parts: int, expires_at: int) -> bool:
    """Record one more carrier part of a message that was reconciled from receipts (its parts' ids come
    one receipt at a time); False when another receipt attached a part meanwhile (read and try again)."""
    try:
        db.dynamodb_client().transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": db.table().name,
                        "Key": keys.message(message_id),
                        "UpdateExpression": "SET carrier_parts = list_append(carrier_parts, :part)",
                        "ConditionExpression": "size(carrier_parts) = :known AND size(carrier_parts) < parts",
                        "ExpressionAttributeValues": {
                            ":part": [{"carrier_message_id": carrier_message_id, "network": "", "price": ""}],
                            ":known": known_parts,
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": db.table().name,
                        "Item": {
                            **keys.carrier(carrier_message_id),
                            "type": "carrier_id",
                            "message_id": message_id,
                            "part": known_parts + 1,
                            "expires_at": expires_at,
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    except ClientError as error:
        if db.transaction_condition_failed(error, 0) or db.transaction_condition_failed(error, 1):
            return False
        raise
    return True


def find_by_carrier_id(carrier_message_id: str) -> tuple[str, int] | None:
    """Which message and part (1-based) the carrier's message id belongs to."""
    item = db.table().get_item(Key=keys.carrier(carrier_message_id), ConsistentRead=True).get("Item")
    return (item["message_id"], int(item["part"])) if item else None


def set_part_status(message_id: str, part: int, status: dict[str, Any], rank: int) -> Message | None:
    """Record a part's carrier status if it moves forward; returns the whole message, or None when the
    receipt is a duplicate or arrived out of order (a later status is already recorded)."""
    return _update(
        message_id,
        UpdateExpression="SET part_status.#p = :status",
        ConditionExpression="attribute_exists(part_status) AND "
        "(attribute_not_exists(part_status.#p) OR part_status.#p.#rank < :rank)",
        ExpressionAttributeNames={"#p": str(part), "#rank": "rank"},
        ExpressionAttributeValues={":status": {**status, "rank": rank}, ":rank": rank},
    )


def set_only_part_status(
    message_id: str, status: dict[str, Any], rank: int, message_status: str, at: str, detail: str | None
) -> tuple[bool, Message | None]:
    """A one-part message's receipt in one write: the part's status and the message's (`message_status`,
    derived from that part alone), both only forward. (True, the message now) when written; else
    (False, the message as it was, None if absent): a duplicate, an out-of-order receipt, or a message
    of several parts, which takes set_part_status then advance_status."""
    try:
        item = db.table().update_item(
            Key=keys.message(message_id),
            UpdateExpression="SET part_status.#p = :part, #s = :status, status_rank = :rank, updated_at = :at, "
            "events = list_append(events, :events)",
            ConditionExpression="parts = :one AND attribute_exists(part_status) AND "
            "(attribute_not_exists(part_status.#p) OR part_status.#p.#rank < :rank) AND status_rank < :rank",
            ExpressionAttributeNames={"#p": "1", "#rank": "rank", "#s": "status"},
            ExpressionAttributeValues={
                ":part": {**status, "rank": rank},
                ":status": message_status,
                ":rank": rank,
                ":at": at,
                ":one": 1,
                ":events": [_event(at, message_status, detail)],
            },
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )["Attributes"]
    except ClientError as error:
        if not db.condition_failed(error):
            raise
        returned = db.plain_item(error.response.get("Item"))
        if returned is None:  # absent, or an emulator that does not return it with the failed condition
            return False, load(message_id, consistent=True)
        return False, from_item(returned)
    return True, from_item(dict(item))


def advance_status(message_id: str, status: str, rank: int, at: str, detail: str | None) -> bool:
    """The message's own status from its parts: only forward, only after submission."""
    return (
        _update(
            message_id,
            UpdateExpression="SET #s = :status, status_rank = :rank, updated_at = :at, "
            "events = list_append(events, :events)",
            ConditionExpression="status_rank < :rank",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":status": status,
                ":rank": rank,
                ":at": at,
                ":events": [_event(at, status, detail)],
            },
        )
        is not None
    )


def _transition(
    message_id: str,
    source: str,
    target: str,
    at: str,
    *,
    detail: str | None = None,
    also_set: dict[str, Any] | None = None,
    remove: str = "",
    connector: str | None = None,
) -> Message | None:
    """source → target with an event on the timeline (and `detail` as last_error when given); the
    message as it is now, or None when it was no longer in `source`."""
    also = dict(also_set or {})
    if detail is not None:
        also["last_error"] = detail
    assignments = "".join(f", {name} = :{name}" for name in also)
    return _update(
        message_id,
        UpdateExpression=f"SET #s = :target, updated_at = :at, events = list_append(events, :events){assignments}"
        + (f" REMOVE {remove}" if remove else ""),
        ConditionExpression="#s = :source",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":target": target,
            ":source": source,
            ":at": at,
            ":events": [_event(at, target, detail, connector)],
            **{f":{name}": value for name, value in also.items()},
        },
    )


def fail_scheduled(message_id: str, at: str, error: str) -> Message | None:
    """scheduled → failed (it could not be paid for at its send time); None if it is no longer scheduled."""
    return _transition(message_id, SCHEDULED, FAILED, at, detail=error)


def cancel(message_id: str, at: str) -> Message | None:
    """scheduled → cancelled; None if it is no longer scheduled (already sent, failed or cancelled)."""
    return _transition(message_id, SCHEDULED, CANCELLED, at, also_set={"cancelled_at": at})


def mark_failed(
    message_id: str,
    at: str,
    error: str,
    parts: list[dict[str, Any]] | None = None,
    connector: str | None = None,
) -> None:
    """submitting → failed: `connector`'s carrier refused it (its timeline names the connector)."""
    _transition(
        message_id,
        SUBMITTING,
        FAILED,
        at,
        detail=error,
        also_set={"carrier_parts": parts or []},
        remove="lease_until",
        connector=connector,
    )


# A listing's read budget per request: at most this many index items evaluated (and so read and paid
# for, filtered or not) in at most this many Query calls. Spent, the page ends with what matched so
# far and a cursor to continue from.
READ_BUDGET_ITEMS = 1000
READ_BUDGET_QUERIES = 3
_INDEX_KEY = ("pk", "sk", "gsi1pk", "gsi1sk")


def query_account_messages(
    account_id: str,
    *,
    limit: int,
    start_key: dict[str, Any] | None,
    lowest_id: str,
    highest_id: str,
    filters: dict[str, str],
) -> tuple[list[Message], dict[str, Any] | None]:
    """Newest first, one index query; `filters` (attribute → value) are applied by DynamoDB.

    DynamoDB applies `Limit` before the filter, so a filtered page can come back short: this reads on
    in growing steps, but never more than the read budget (READ_BUDGET_ITEMS evaluated items in
    READ_BUDGET_QUERIES calls). The answer can then hold fewer than `limit` items (even none) and a
    next key; it is None only at the end.
    """
    names: dict[str, str] = {}
    values: dict[str, Any] = {
        ":pk": keys.messages_index(account_id),
        ":lo": lowest_id,
        ":hi": highest_id,
    }
    conditions = []
    for n, (attribute, value) in enumerate(sorted(filters.items())):
        names[f"#f{n}"] = attribute
        values[f":f{n}"] = value
        conditions.append(f"#f{n} = :f{n}")
    kwargs: dict[str, Any] = {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk BETWEEN :lo AND :hi",
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
    }
    if conditions:
        kwargs["FilterExpression"] = " AND ".join(conditions)
        kwargs["ExpressionAttributeNames"] = names
    items: list[dict[str, Any]] = []
    key = start_key
    evaluated = 0
    # Filtered, read in growing steps (a few times the page, then 4× more per call) up to the budget:
    # a rare match costs few calls, a common one little over-reading.
    step = max(2 * limit, 50)
    for _ in range(READ_BUDGET_QUERIES):
        if key:
            kwargs["ExclusiveStartKey"] = key
        # Unfiltered, every evaluated item is returned: read just what the page needs.
        wanted = min(step, READ_BUDGET_ITEMS - evaluated) if conditions else limit - len(items)
        step *= 4
        page = db.table().query(Limit=max(1, wanted), **kwargs)
        evaluated += int(page.get("ScannedCount", len(page.get("Items", []))))
        items.extend(page.get("Items", []))
        key = page.get("LastEvaluatedKey")
        if len(items) > limit:
            # More matched than the page holds: continue right after the last one returned.
            items = items[:limit]
            return [from_item(item) for item in items], {name: items[-1][name] for name in _INDEX_KEY}
        if not key or len(items) >= limit or evaluated >= READ_BUDGET_ITEMS:
            break
    return [from_item(item) for item in items], key
