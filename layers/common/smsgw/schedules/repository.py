"""DynamoDB access for recurring schedules.

Keys (smsgw.keys; docs/data-model.md):
  SCHEDULE#<id> / SCHEDULE   the schedule: recipients, text, expression, time zone, state, run count
  GSI1: gsi1pk = ACCOUNT#<account_id>#SCHEDULE, gsi1sk = <id> (ULIDs: oldest first) — the account's schedules
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from smsgw import db, keys

# What a schedule's item may take, leaving room for what runs add (last_run_at, runs, version).
MAX_SCHEDULE_BYTES = db.MAX_ITEM_BYTES - 1024


def new_item(schedule: dict[str, Any]) -> dict[str, Any]:
    """The item `insert` writes for a new schedule."""
    return {
        **keys.schedule(schedule["schedule_id"]),
        "type": "schedule",
        "gsi1pk": keys.schedules_index(schedule["account_id"]),
        "gsi1sk": schedule["schedule_id"],
        "version": 1,
        "runs": 0,
        **schedule,
    }


def item_bytes(item: dict[str, Any]) -> int:
    """The size DynamoDB counts for `item` (or for some of its attributes)."""
    return db.item_size(item)


def insert(schedule: dict[str, Any]) -> None:
    db.table().put_item(Item=new_item(schedule), ConditionExpression="attribute_not_exists(pk)")


def get(schedule_id: str, consistent: bool = False) -> dict[str, Any] | None:
    return db.table().get_item(Key=keys.schedule(schedule_id), ConsistentRead=consistent).get("Item")


def replace(schedule: dict[str, Any]) -> bool:
    """Store a changed schedule if nobody changed it since it was read (its `version`); False if they did."""
    item = {**schedule, "version": int(schedule["version"]) + 1}
    try:
        db.table().put_item(
            Item=item,
            ConditionExpression="version = :read",
            ExpressionAttributeValues={":read": int(schedule["version"])},
        )
    except ClientError as error:
        if db.condition_failed(error):
            return False
        raise
    return True


def delete(schedule_id: str) -> None:
    db.table().delete_item(Key=keys.schedule(schedule_id))


def record_run(schedule_id: str, run_at: str) -> bool:
    """Count a run once: False when this run (or a later one) was already recorded. A paid run ends
    a series of unpaid ones."""
    try:
        db.table().update_item(
            Key=keys.schedule(schedule_id),
            UpdateExpression="SET last_run_at = :run, unpaid_runs = :zero ADD runs :one",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(last_run_at) OR last_run_at < :run)",
            ExpressionAttributeValues={":run": run_at, ":one": 1, ":zero": 0},
        )
    except ClientError as error:
        if db.condition_failed(error):
            return False
        raise
    return True


def record_unpaid_run(schedule_id: str, run_at: str, reason: str) -> dict[str, Any] | None:
    """Record a run refused as unpaid (no message created): the schedule as it is now, or None when
    this run (or a later one) was already recorded. The one write such a run costs."""
    return db.update_if(
        keys.schedule(schedule_id),
        UpdateExpression="SET last_run_at = :run, last_unpaid_at = :run, last_unpaid_reason = :reason "
        "ADD unpaid_runs :one, skipped_runs :one",
        ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(last_run_at) OR last_run_at < :run)",
        ExpressionAttributeValues={":run": run_at, ":reason": reason, ":one": 1},
    )


def pause(schedule_id: str, reason: str, at: str) -> dict[str, Any] | None:
    """Pause an active schedule and say why (a new version, so a concurrent PATCH answers 409);
    None when it is already paused or gone."""
    return db.update_if(
        keys.schedule(schedule_id),
        UpdateExpression="SET paused = :true, paused_reason = :reason, paused_at = :at, updated_at = :at "
        "ADD version :one",
        ConditionExpression="attribute_exists(pk) AND paused = :false",
        ExpressionAttributeValues={":true": True, ":false": False, ":reason": reason, ":at": at, ":one": 1},
    )


# How many Query calls checking an account's schedule limits may make (each reads up to 1 MB).
MAX_ACCOUNT_QUERIES = 3


def account_schedules(account_id: str) -> tuple[list[dict[str, Any]], bool]:
    """All the account's schedules, read in at most MAX_ACCOUNT_QUERIES calls; True when there were more."""
    kwargs: dict[str, Any] = {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": {":pk": keys.schedules_index(account_id)},
    }
    items: list[dict[str, Any]] = []
    for _ in range(MAX_ACCOUNT_QUERIES):
        page = db.table().query(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items, False
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items, True


def query_account(
    account_id: str, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    kwargs: dict[str, Any] = {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": {":pk": keys.schedules_index(account_id)},
        "Limit": limit,
    }
    if start_key:
        kwargs["ExclusiveStartKey"] = start_key
    page = db.table().query(**kwargs)
    return page.get("Items", []), page.get("LastEvaluatedKey")
