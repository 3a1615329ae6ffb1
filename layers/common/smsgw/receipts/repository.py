"""DynamoDB access for receipts that arrived before their carrier id was recorded.

DLRPENDING#<carrier_message_id> / PENDING   receipts (a list) waiting for dispatch to record the id; TTL

The list only grows (list_append) until it is removed, and it is removed only if it still has as many
receipts as were read and applied: a receipt kept in between is never removed unapplied.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from smsgw import db, keys


def keep_pending(carrier_message_id: str, receipt: dict[str, Any], expires_at: int) -> None:
    db.table().update_item(
        Key=keys.pending_receipts(carrier_message_id),
        UpdateExpression="SET receipts = list_append(if_not_exists(receipts, :empty), :receipt), "
        "expires_at = :ttl, #t = :type",
        ExpressionAttributeNames={"#t": "type"},
        ExpressionAttributeValues={
            ":empty": [],
            ":receipt": [receipt],
            ":ttl": expires_at,
            ":type": "pending_dlr",
        },
    )


def pending(carrier_message_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every waiting receipt for these ids (one batch read, strongly consistent); nothing is removed:
    apply them, then `drop_pending` exactly what was read."""
    if not carrier_message_ids:
        return {}
    found: dict[str, list[dict[str, Any]]] = {}
    wanted = [keys.pending_receipts(i) for i in dict.fromkeys(carrier_message_ids)]
    for start in range(0, len(wanted), 100):
        request: dict[str, Any] = {
            db.table().name: {"Keys": wanted[start : start + 100], "ConsistentRead": True}
        }
        while request:
            result = db.dynamodb_client().batch_get_item(RequestItems=request)
            for item in result["Responses"].get(db.table().name, []):
                found[item["pk"].removeprefix(keys.PENDING_RECEIPTS_PREFIX)] = list(
                    item.get("receipts") or []
                )
            request = result.get("UnprocessedKeys") or {}
    return found


def pending_for(carrier_message_id: str) -> list[dict[str, Any]]:
    item = (
        db.table().get_item(Key=keys.pending_receipts(carrier_message_id), ConsistentRead=True).get("Item")
        or {}
    )
    return list(item.get("receipts") or [])


def drop_pending(carrier_message_id: str, count: int) -> bool:
    """Remove the waiting receipts if they are still the `count` that were read (the list only grows);
    False when one was kept since (or another caller removed them): read again."""
    try:
        db.table().delete_item(
            Key=keys.pending_receipts(carrier_message_id),
            ConditionExpression="size(receipts) = :n",
            ExpressionAttributeValues={":n": count},
        )
    except ClientError as error:
        if db.condition_failed(error):
            return False
        raise
    return True
