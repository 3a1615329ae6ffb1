"""DynamoDB access for inbound SMS (conversations and opt-outs: smsgw.optouts.repository).

INBOUND_PART#<carrier messageId> / PART        a part was received: its inbound_id, a processing lease,
                                               `done` once handled (dedupe; TTL 2 days)
CONCAT#<msisdn>#<to>#<concat-ref> / SET        a concatenated set: total, first_seen, inbound_id,
                                               check_scheduled, finished (once stored and forwarded) (TTL)
CONCAT#<msisdn>#<to>#<concat-ref> / PART#<nnn> one part's text and carrier id (TTL)
INBOUND#<inbound_id> / INBOUND                 the logical message (routed or not); gsi1 by account
AUTOREPLY#<inbound_id> / SENT                  an auto-reply (HELP) was sent for this inbound (TTL 2 days)
AUTOREPLY#<number>#<msisdn>#<day> / COUNT      auto-replies to this recipient from this number that day (TTL)
AUTOREPLY#<number>#<day> / COUNT               auto-replies from this number that day (TTL)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from smsgw import db, keys


def _put_new(item: dict[str, Any]) -> bool:
    try:
        db.table().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        if db.condition_failed(error):
            return False
        raise
    return True


def claim_part(
    carrier_message_id: str, inbound_id: str, now: int, lease_until: int, expires_at: int
) -> str | None:
    """Take this carrier messageId for processing: on first sight, or when an earlier attempt neither
    finished nor holds its lease any more (it failed, or its Lambda died). Returns the inbound_id
    recorded on first sight (so every attempt stores the same message), or None when the part is
    done or being processed right now (`part_done` tells which)."""
    item = db.update_if(
        keys.inbound_part(carrier_message_id),
        UpdateExpression="SET inbound_id = if_not_exists(inbound_id, :id), lease_until = :lease, "
        "done = if_not_exists(done, :false), expires_at = :ttl",
        ConditionExpression="attribute_not_exists(pk) OR (done = :false AND lease_until < :now)",
        ExpressionAttributeValues={
            ":id": inbound_id,
            ":lease": lease_until,
            ":false": False,
            ":ttl": expires_at,
            ":now": now,
        },
    )
    return None if item is None else str(item["inbound_id"])


def part_done(carrier_message_id: str) -> bool:
    item = (
        db.table().get_item(Key=keys.inbound_part(carrier_message_id), ConsistentRead=True).get("Item") or {}
    )
    return item.get("done") is not False  # True, or a mark from before marks had `done`


def release_part(carrier_message_id: str) -> None:
    """Processing failed: the carrier's resend may take the part again at once."""
    db.update_if(
        keys.inbound_part(carrier_message_id),
        UpdateExpression="SET lease_until = :zero",
        ConditionExpression="done = :false",
        ExpressionAttributeValues={":zero": 0, ":false": False},
    )


def finish_part(carrier_message_id: str) -> None:
    """The part is handled: its resends are duplicates from now on."""
    db.table().update_item(
        Key=keys.inbound_part(carrier_message_id),
        UpdateExpression="SET done = :true",
        ExpressionAttributeValues={":true": True},
    )


def open_set(
    msisdn: str, to: str, ref: str, total: int, first_seen: str, inbound_id: str, expires_at: int
) -> dict[str, Any]:
    """The set's header, created by its first part (with the inbound_id the assembled message gets)."""
    return dict(
        db.table().update_item(
            Key=keys.concat_set(msisdn, to, ref),
            UpdateExpression="SET #total = if_not_exists(#total, :total), "
            "first_seen = if_not_exists(first_seen, :first), finished = if_not_exists(finished, :false), "
            "inbound_id = if_not_exists(inbound_id, :id), expires_at = if_not_exists(expires_at, :ttl)",
            ExpressionAttributeNames={"#total": "total"},
            ExpressionAttributeValues={
                ":total": total,
                ":first": first_seen,
                ":false": False,
                ":id": inbound_id,
                ":ttl": expires_at,
            },
            ReturnValues="ALL_NEW",
        )["Attributes"]
    )


def set_check_scheduled(msisdn: str, to: str, ref: str) -> None:
    db.table().update_item(
        Key=keys.concat_set(msisdn, to, ref),
        UpdateExpression="SET check_scheduled = :true",
        ExpressionAttributeValues={":true": True},
    )


def store_part(msisdn: str, to: str, ref: str, part: int, fields: dict[str, str], expires_at: int) -> None:
    db.table().put_item(
        Item={
            **keys.concat_part(msisdn, to, ref, part),
            "fields": fields,
            "expires_at": expires_at,
        }
    )


def set_parts(msisdn: str, to: str, ref: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The set's header and its parts (in part order), strongly consistent."""
    items = db.table().query(
        KeyConditionExpression=Key("pk").eq(keys.concat(msisdn, to, ref)), ConsistentRead=True
    )["Items"]
    header = next((item for item in items if item["sk"] == keys.CONCAT_SET_SK), None)
    return header, [item for item in items if item["sk"].startswith(keys.CONCAT_PART_PREFIX)]


def finish_set(msisdn: str, to: str, ref: str) -> None:
    """The assembled message is stored and forwarded: later parts and the timeout check leave it be."""
    db.table().update_item(
        Key=keys.concat_set(msisdn, to, ref),
        UpdateExpression="SET finished = :true",
        ExpressionAttributeValues={":true": True},
    )


def _inbound_item(item: dict[str, Any]) -> dict[str, Any]:
    account = item.get("account_id")
    return {
        **keys.inbound(item["inbound_id"]),
        "type": "inbound",
        "gsi1pk": keys.inbound_index(account) if account else keys.UNROUTED_INBOUND_INDEX,
        "gsi1sk": item["inbound_id"],
        **item,
    }


def put_inbound(item: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Store the message once: returns the stored item and whether this call stored it (False: an
    earlier attempt did, and its item is returned)."""
    full = _inbound_item(item)
    if _put_new(full):
        return full, True
    stored = db.table().get_item(Key={"pk": full["pk"], "sk": full["sk"]}, ConsistentRead=True).get("Item")
    return (dict(stored), False) if stored else (full, True)


def get_inbound(inbound_id: str) -> dict[str, Any] | None:
    return db.table().get_item(Key=keys.inbound(inbound_id)).get("Item")


def query_inbound(
    index_pk: str, *, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    kwargs: dict[str, Any] = {
        "IndexName": "gsi1",
        "KeyConditionExpression": Key("gsi1pk").eq(index_pk),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start_key:
        kwargs["ExclusiveStartKey"] = start_key
    page = db.table().query(**kwargs)
    return page.get("Items", []), page.get("LastEvaluatedKey")


def claim_auto_reply(
    inbound_id: str, number: str, msisdn: str, day: str, per_recipient: int, per_number: int, expires_at: int
) -> str:
    """Count one auto-reply for this inbound, within the day's caps (one transaction). Returns "ok",
    "replied" (this inbound already had its reply), "recipient_cap" or "number_cap"."""
    table = db.table().name

    def counter(key: dict[str, str], cap: int) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": table,
                "Key": key,
                "UpdateExpression": "SET n = if_not_exists(n, :zero) + :one, expires_at = :ttl",
                "ConditionExpression": "attribute_not_exists(n) OR n < :cap",
                "ExpressionAttributeValues": {":zero": 0, ":one": 1, ":ttl": expires_at, ":cap": cap},
            }
        }

    try:
        db.dynamodb_client().transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": {**keys.auto_reply_sent(inbound_id), "expires_at": expires_at},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                counter(keys.auto_reply_recipient_count(number, msisdn, day), per_recipient),
                counter(keys.auto_reply_number_count(number, day), per_number),
            ]
        )
    except ClientError as error:
        for index, outcome in enumerate(("replied", "recipient_cap", "number_cap")):
            if db.transaction_condition_failed(error, index):
                return outcome
        raise
    return "ok"


@dataclass(frozen=True)
class FirstSight:
    """What `store_first_sight` did: stored, or why not (only one of the others is set)."""

    stored: bool = False
    mark: dict[str, Any] | None = None  # the part was seen before: its mark as it is
    conversation: dict[str, Any] | None = None  # the conversation is not as expected: as it is ({} gone)
    numbers_changed: bool = False  # a number's owner is not as the caller routed by
    busy: bool = False  # a concurrent attempt on the same part (TransactionConflict)


@dataclass(frozen=True)
class NumberExpected:
    """What the caller's route assumed of one number item: owned or registered by `account_id` with this
    `callback_url`; or (`account_id` None) not of `kind`."""

    msisdn: str
    kind: str
    account_id: str | None = None
    callback_url: str | None = None

    def check(self, table: str) -> dict[str, Any]:
        values: dict[str, Any] = {":kind": self.kind}
        if self.account_id is None:
            condition = "attribute_not_exists(pk) OR kind <> :kind"
        else:
            condition = "kind = :kind AND account_id = :account"
            values[":account"] = self.account_id
            if self.callback_url:
                condition += " AND callback_url = :callback"
                values[":callback"] = self.callback_url
            else:
                condition += " AND attribute_not_exists(callback_url)"
        return {
            "ConditionCheck": {
                "TableName": table,
                "Key": keys.number(self.msisdn),
                "ConditionExpression": condition,
                "ExpressionAttributeValues": values,
            }
        }


def store_first_sight(
    carrier_message_id: str,
    item: dict[str, Any],
    *,
    mark_expires_at: int,
    delivery_id: str | None,
    msisdn: str,
    to: str,
    conversation: dict[str, Any] | None,
    numbers: list[NumberExpected],
    writes: list[dict[str, Any]],
) -> FirstSight:
    """One transaction for a part seen for the first time: its mark (finished: the message's inbound_id
    and `delivery_id`, the webhook delivery a resend queues again), the message, and `writes` (that
    delivery) — provided the conversation from `msisdn` to `to` is as the caller routed it
    (`conversation` None: there is none; else its account_id and callback_url). Nothing is read: a mark
    or conversation that is not as expected cancels the transaction and comes back in its cancellation
    reasons; so does a number whose owner is not as `numbers` says (the caller's view of them may be
    cached)."""
    table = db.table().name
    convo_values: dict[str, Any] = {}
    if conversation is None:
        convo_condition = "attribute_not_exists(pk)"
    else:
        convo_condition = "account_id = :account"
        convo_values[":account"] = conversation["account_id"]
        if conversation.get("callback_url"):
            convo_condition += " AND callback_url = :callback"
            convo_values[":callback"] = conversation["callback_url"]
        else:
            convo_condition += " AND attribute_not_exists(callback_url)"
    check: dict[str, Any] = {
        "TableName": table,
        "Key": keys.conversation(msisdn, to),
        "ConditionExpression": convo_condition,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if convo_values:
        check["ExpressionAttributeValues"] = convo_values
    mark = {
        **keys.inbound_part(carrier_message_id),
        "inbound_id": item["inbound_id"],
        "done": True,
        "expires_at": mark_expires_at,
        **({"delivery_id": delivery_id} if delivery_id else {}),
    }
    absent = "attribute_not_exists(pk)"
    try:
        db.dynamodb_client().transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": mark,
                        "ConditionExpression": absent,
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {"ConditionCheck": check},
                *(expected.check(table) for expected in numbers),
                {"Put": {"TableName": table, "Item": _inbound_item(item), "ConditionExpression": absent}},
                *writes,
            ]
        )
    except ClientError as error:
        reasons = error.response.get("CancellationReasons") or []
        if db.transaction_condition_failed(error, 0):
            return FirstSight(mark=_plain(reasons[0].get("Item")))
        if any(reason.get("Code") == "TransactionConflict" for reason in reasons):
            return FirstSight(busy=True)
        if db.transaction_condition_failed(error, 1):
            return FirstSight(conversation=_plain(reasons[1].get("Item")))
        if any(db.transaction_condition_failed(error, 2 + n) for n in range(len(numbers))):
            return FirstSight(numbers_changed=True)
        raise
    return FirstSight(stored=True)


def _plain(typed: dict[str, Any] | None) -> dict[str, Any]:
    """An item from a cancellation reason (DynamoDB's typed JSON) as the table resource returns items."""
    return db.plain_item(typed) or {}
