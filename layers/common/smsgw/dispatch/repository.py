"""DynamoDB access for dispatch's own items: the carrier pacer (PACER#<name> / PACER: `tat`, unix seconds,
3 decimals) and the connector's circuit breaker (BREAKER#<name> / BREAKER: state, failures, window_start,
opened_at, probe_until)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from smsgw import db, keys

# Pacer times to the microsecond: a slot interval rounded to the millisecond changes the rate (20.62 ms
# at 48.5/s became 21 ms: 47.6/s; 1.03 ms at 970/s became 1 ms: 1000/s, over a 1000/s carrier).
_MICROSECOND = Decimal("0.000001")


def _d(value: float) -> Decimal:
    return Decimal(str(value)).quantize(_MICROSECOND)


def advance_pacer(pacer: str, span: float, now: float, latest: float) -> float | None:
    """tat += span (the slots reserved, times the interval) when now <= tat <= latest; returns the old
    tat (the first reserved slot)."""
    try:
        result = db.table().update_item(
            Key=keys.pacer(pacer),
            UpdateExpression="SET tat = tat + :span",
            ConditionExpression="tat BETWEEN :now AND :latest",
            ExpressionAttributeValues={":span": _d(span), ":now": _d(now), ":latest": _d(latest)},
            ReturnValues="UPDATED_OLD",
        )
    except ClientError as error:
        if db.condition_failed(error):
            return None
        raise
    return float(result["Attributes"]["tat"])


def restart_pacer(pacer: str, now: float, span: float) -> bool:
    """tat := now + span when the pacer is idle (tat in the past or absent)."""
    try:
        db.table().update_item(
            Key=keys.pacer(pacer),
            UpdateExpression="SET tat = :next",
            ConditionExpression="attribute_not_exists(tat) OR tat < :now",
            ExpressionAttributeValues={":next": _d(now + span), ":now": _d(now)},
        )
    except ClientError as error:
        if db.condition_failed(error):
            return False
        raise
    return True


def read_pacer(pacer: str) -> float | None:
    item = db.table().get_item(Key=keys.pacer(pacer), ConsistentRead=True).get("Item")
    return float(item["tat"]) if item and "tat" in item else None


def read_breaker(name: str) -> dict[str, Any] | None:
    item = db.table().get_item(Key=keys.breaker(name), ConsistentRead=True).get("Item")
    return dict(item) if item else None


def count_breaker_failure(name: str, now: float, window: float, threshold: int) -> dict[str, Any]:
    """One failure: counted in the current window (a new window when the last began over `window` s
    ago); at `threshold` the breaker opens. A failure while open (a failed probe) opens it anew."""
    key = keys.breaker(name)
    try:
        item = db.table().update_item(
            Key=key,
            UpdateExpression="SET failures = failures + :one",
            ConditionExpression="window_start >= :floor",
            ExpressionAttributeValues={":one": 1, ":floor": _d(now - window)},
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except ClientError as error:
        if not db.condition_failed(error):
            raise
        item = db.table().update_item(
            Key=key,
            UpdateExpression="SET failures = :one, window_start = :now",
            ExpressionAttributeValues={":one": 1, ":now": _d(now)},
            ReturnValues="ALL_NEW",
        )["Attributes"]
    if item.get("state") == "open" or int(item["failures"]) >= threshold:
        item = db.table().update_item(
            Key=key,
            UpdateExpression="SET #state = :open, opened_at = :now REMOVE probe_until",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":open": "open", ":now": _d(now)},
            ReturnValues="ALL_NEW",
        )["Attributes"]
    return dict(item)


def claim_probe(name: str, now: float, probe_until: float) -> bool:
    """The one probe of an open breaker whose pause is over (until `probe_until`, then another may)."""
    try:
        db.table().update_item(
            Key=keys.breaker(name),
            UpdateExpression="SET probe_until = :until",
            ConditionExpression="#state = :open AND (attribute_not_exists(probe_until) OR probe_until < :now)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":open": "open", ":now": _d(now), ":until": _d(probe_until)},
        )
    except ClientError as error:
        if db.condition_failed(error):
            return False
        raise
    return True


def close_breaker(name: str) -> bool:
    try:
        db.table().update_item(
            Key=keys.breaker(name),
            UpdateExpression="SET #state = :closed, failures = :zero REMOVE opened_at, probe_until",
            ConditionExpression="#state = :open",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":open": "open", ":closed": "closed", ":zero": 0},
        )
    except ClientError as error:
        if db.condition_failed(error):
            return False
        raise
    return True
