"""DynamoDB access for inbound SMS, conversations and opt-outs.

INBOUND_PART#<carrier messageId> / PART        a part was received (dedupe; TTL 2 days)
CONCAT#<msisdn>#<to>#<concat-ref> / SET        a concatenated set: total, first_seen, finished (TTL)
CONCAT#<msisdn>#<to>#<concat-ref> / PART#<nnn> one part's text and carrier id (TTL)
INBOUND#<inbound_id> / INBOUND                 the logical message (routed or not); gsi1 by account
CONVO#<msisdn>#<number> / CONVO                a send with `inbound: yes`: replies go to its callback (TTL)
OPTOUT#<number>#<msisdn> / OPTOUT              the recipient sent STOP to this number
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from smsgw import db


def _put_new(item: dict[str, Any]) -> bool:
    try:
        db.table().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        if db.condition_failed(error):
            return False
        raise
    return True


def first_sight_of_part(carrier_message_id: str, expires_at: int) -> bool:
    """False when the carrier already sent this part (a resend): dedupe on its messageId."""
    return _put_new({"pk": f"INBOUND_PART#{carrier_message_id}", "sk": "PART", "expires_at": expires_at})


def forget_part(carrier_message_id: str) -> None:
    """Undo the dedupe mark when storing the part failed, so the carrier's resend is processed."""
    db.table().delete_item(Key={"pk": f"INBOUND_PART#{carrier_message_id}", "sk": "PART"})


def _set_pk(msisdn: str, to: str, ref: str) -> str:
    return f"CONCAT#{msisdn}#{to}#{ref}"


def open_set(msisdn: str, to: str, ref: str, total: int, first_seen: str, expires_at: int) -> bool:
    """True for the first part of a set (the caller then schedules the incomplete-set timeout)."""
    return _put_new(
        {
            "pk": _set_pk(msisdn, to, ref),
            "sk": "SET",
            "total": total,
            "first_seen": first_seen,
            "finished": False,
            "expires_at": expires_at,
        }
    )


def store_part(msisdn: str, to: str, ref: str, part: int, fields: dict[str, str], expires_at: int) -> None:
    db.table().put_item(
        Item={
            "pk": _set_pk(msisdn, to, ref),
            "sk": f"PART#{part:03d}",
            "fields": fields,
            "expires_at": expires_at,
        }
    )


def set_parts(msisdn: str, to: str, ref: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The set's header and its parts (in part order), strongly consistent."""
    items = db.table().query(
        KeyConditionExpression=Key("pk").eq(_set_pk(msisdn, to, ref)), ConsistentRead=True
    )["Items"]
    header = next((item for item in items if item["sk"] == "SET"), None)
    return header, [item for item in items if item["sk"].startswith("PART#")]


def finish_set(msisdn: str, to: str, ref: str, inbound_id: str) -> bool:
    """Exactly one caller assembles a set: the one that flips `finished`."""
    try:
        db.table().update_item(
            Key={"pk": _set_pk(msisdn, to, ref), "sk": "SET"},
            UpdateExpression="SET finished = :true, inbound_id = :id",
            ConditionExpression="attribute_exists(pk) AND finished = :false",
            ExpressionAttributeValues={":true": True, ":false": False, ":id": inbound_id},
        )
    except ClientError as error:
        if db.condition_failed(error):
            return False
        raise
    return True


def put_inbound(item: dict[str, Any]) -> None:
    account = item.get("account_id")
    db.table().put_item(
        Item={
            "pk": f"INBOUND#{item['inbound_id']}",
            "sk": "INBOUND",
            "type": "inbound",
            "gsi1pk": f"ACCOUNT#{account}#INBOUND" if account else "INBOUND#UNROUTED",
            "gsi1sk": item["inbound_id"],
            **item,
        },
        ConditionExpression="attribute_not_exists(pk)",
    )


def get_inbound(inbound_id: str) -> dict[str, Any] | None:
    return db.table().get_item(Key={"pk": f"INBOUND#{inbound_id}", "sk": "INBOUND"}).get("Item")


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


def put_conversation(msisdn: str, number: str, account_id: str, callback_url: str, expires_at: int) -> None:
    db.table().put_item(
        Item={
            "pk": f"CONVO#{msisdn}#{number}",
            "sk": "CONVO",
            "account_id": account_id,
            "callback_url": callback_url,
            "expires_at": expires_at,
        }
    )


def get_conversation(msisdn: str, number: str) -> dict[str, Any] | None:
    return db.table().get_item(Key={"pk": f"CONVO#{msisdn}#{number}", "sk": "CONVO"}).get("Item")


def set_opt_out(number: str, msisdn: str, at: str) -> None:
    db.table().put_item(Item={"pk": f"OPTOUT#{number}#{msisdn}", "sk": "OPTOUT", "at": at})


def clear_opt_out(number: str, msisdn: str) -> None:
    db.table().delete_item(Key={"pk": f"OPTOUT#{number}#{msisdn}", "sk": "OPTOUT"})


def is_opted_out(number: str, msisdn: str) -> bool:
    return "Item" in db.table().get_item(Key={"pk": f"OPTOUT#{number}#{msisdn}", "sk": "OPTOUT"})
