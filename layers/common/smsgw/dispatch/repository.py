"""DynamoDB access for the carrier pacer item: PACER#<name> / PACER with `tat` (unix seconds, 3 decimals)."""

from __future__ import annotations

from decimal import Decimal

from botocore.exceptions import ClientError

from smsgw import db, keys

_MS = Decimal("0.001")


def _d(value: float) -> Decimal:
    return Decimal(str(value)).quantize(_MS)


def advance_pacer(pacer: str, interval: float, now: float, latest: float) -> float | None:
    """tat += interval when now <= tat <= latest; returns the old tat (the reserved slot)."""
    try:
        result = db.table().update_item(
            Key=keys.pacer(pacer),
            UpdateExpression="SET tat = tat + :interval",
            ConditionExpression="tat BETWEEN :now AND :latest",
            ExpressionAttributeValues={":interval": _d(interval), ":now": _d(now), ":latest": _d(latest)},
            ReturnValues="UPDATED_OLD",
        )
    except ClientError as error:
        if db.condition_failed(error):
            return None
        raise
    return float(result["Attributes"]["tat"])


def restart_pacer(pacer: str, now: float, interval: float) -> bool:
    """tat := now + interval when the pacer is idle (tat in the past or absent)."""
    try:
        db.table().update_item(
            Key=keys.pacer(pacer),
            UpdateExpression="SET tat = :next",
            ConditionExpression="attribute_not_exists(tat) OR tat < :now",
            ExpressionAttributeValues={":next": _d(now + interval), ":now": _d(now)},
        )
    except ClientError as error:
        if db.condition_failed(error):
            return False
        raise
    return True


def read_pacer(pacer: str) -> float | None:
    item = db.table().get_item(Key=keys.pacer(pacer), ConsistentRead=True).get("Item")
    return float(item["tat"]) if item and "tat" in item else None
