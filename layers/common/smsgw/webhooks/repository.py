"""DynamoDB access for webhook deliveries. Every state change is a conditional write.

Keys (smsgw.keys; docs/data-model.md and docs/webhooks.md):
  SUBJECT#<subject_id> / WEBHOOK#<delivery_id>   the delivery: target, body, state, attempts[]
                                                 (one Query lists a message's deliveries)
  WEBHOOK#<delivery_id> / LOOKUP                 → subject_id, account_id (replay by id), written
                                                 when a delivery fails, and by a producer's
                                                 transaction (`create_writes`: there, conditional,
                                                 it is the dedupe). A queued delivery is stored by
                                                 its first claim (`create_claimed`), conditional on
                                                 its id (made of account and dedupe key) being new.
  GSI1 (sparse): gsi1pk = WEBHOOK#FAILED, gsi1sk = <failed_at>#<delivery_id> while a delivery is
  failed (or replayed but not yet queued again), so replay is one Query, never a scan.
Both items expire (`expires_at`) with the retention; a replay extends it.

States: pending → delivered | failed; failed → pending (replay only). An attempt is claimed with a
lease and recorded under the condition that the delivery is still pending at the same attempt
number and lease, so a queue record delivered twice never causes a second POST.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from smsgw import db, keys
from smsgw.webhooks.models import DELIVERED, FAILED, PENDING

FAILED_INDEX_PK = keys.FAILED_WEBHOOKS_INDEX


def epoch(seconds: float) -> Decimal:
    """Unix seconds as DynamoDB stores them (Decimal, millisecond precision)."""
    return Decimal(str(round(seconds, 3)))


# Written in the delivery's key, not again as attributes (each byte over 1 KB would cost a second write
# unit on every update of the delivery); `_with_ids` gives them back on reading.
_IN_THE_KEY = ("subject_id", "delivery_id")
# What a queue record carries of a new delivery (webhooks.service.enqueue); `create_claimed` adds its
# first state.
CARRIED = ("account_id", "event_type", "url", "body", "created_at")


def _stored(delivery: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in delivery.items() if name not in _IN_THE_KEY}


def _lookup_item(delivery_id: str, subject_id: str, account_id: str, expires_at: int) -> dict[str, Any]:
    return {
        **keys.webhook_lookup(delivery_id),
        "type": "webhook_lookup",
        "subject_id": subject_id,
        "account_id": account_id,
        "expires_at": expires_at,
    }


def _with_ids(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """A delivery item as its readers use it: with its subject_id and delivery_id (from its key)."""
    if item is None:
        return None
    return {
        "subject_id": str(item["pk"]).removeprefix(keys.subject("")),
        "delivery_id": str(item["sk"]).removeprefix(keys.WEBHOOK_DELIVERY_PREFIX),
        **item,
    }


def create_writes(delivery: dict[str, Any], expires_at: int) -> list[dict[str, Any]]:
    """The entries that store a delivery: its id lookup (first, conditional: the delivery id is made
    of the account and the dedupe key, so the lookup is the dedupe — the transaction is cancelled at
    entry 0 when the key is taken), then the delivery. A producer may add them to its own
    TransactWriteItems (webhooks.service.prepare)."""
    subject_id, delivery_id, account_id = (
        delivery["subject_id"],
        delivery["delivery_id"],
        delivery["account_id"],
    )
    absent = "attribute_not_exists(pk)"
    table = db.table().name
    return [
        {
            "Put": {
                "TableName": table,
                "Item": _lookup_item(delivery_id, subject_id, account_id, expires_at),
                "ConditionExpression": absent,
            }
        },
        {
            "Put": {
                "TableName": table,
                "Item": {
                    **keys.webhook_delivery(subject_id, delivery_id),
                    **_stored(delivery),
                    "expires_at": expires_at,
                },
                "ConditionExpression": absent,
            }
        },
    ]


def create_claimed(
    subject_id: str, delivery_id: str, carried: dict[str, Any], lease_until: float, expires_at: int
) -> dict[str, Any] | None:
    """Store a delivery a queue record carries (webhooks.service.enqueue), its first attempt claimed with
    a lease: one conditional write — None when the delivery exists already (a duplicate record, or one a
    producer's transaction stored): claim that one with `claim`."""
    item = {
        **keys.webhook_delivery(subject_id, delivery_id),
        **{name: carried[name] for name in CARRIED},
        "type": "webhook_delivery",
        "state": PENDING,
        "attempt_count": 0,
        "attempts": [],
        "updated_at": carried["created_at"],
        "lease_until": epoch(lease_until),
        "expires_at": expires_at,
    }
    try:
        db.table().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        if db.condition_failed(error):
            return None
        raise
    return _with_ids(item)


def put_lookup(delivery: dict[str, Any]) -> None:
    """The id lookup of a stored delivery (replay by id: `smsgw webhooks replay --delivery`), written
    when it fails; idempotent."""
    db.table().put_item(
        Item=_lookup_item(
            str(delivery["delivery_id"]),
            str(delivery["subject_id"]),
            str(delivery["account_id"]),
            int(delivery["expires_at"]),
        )
    )


def locate(delivery_id: str) -> dict[str, Any] | None:
    """subject_id and account_id of a delivery known only by its id."""
    return db.table().get_item(Key=keys.webhook_lookup(delivery_id), ConsistentRead=True).get("Item")


def get_delivery(subject_id: str, delivery_id: str, consistent: bool = True) -> dict[str, Any] | None:
    return _with_ids(
        db.table()
        .get_item(Key=keys.webhook_delivery(subject_id, delivery_id), ConsistentRead=consistent)
        .get("Item")
    )


def deliveries(subject_id: str) -> list[dict[str, Any]]:
    """Every delivery for a subject, oldest first."""
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {
            ":pk": keys.subject(subject_id),
            ":prefix": keys.WEBHOOK_DELIVERY_PREFIX,
        },
        "ConsistentRead": True,
    }
    items: list[dict[str, Any]] = []
    while True:
        page = db.table().query(**kwargs)
        items.extend(_present(page.get("Items", [])))
        if "LastEvaluatedKey" not in page:
            # Ids are no longer ULIDs (service.delivery_id_for): the order is the creation time's.
            return sorted(items, key=lambda item: (str(item.get("created_at", "")), str(item["delivery_id"])))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _present(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in map(_with_ids, items) if item is not None]


def mark_queued(subject_id: str, delivery_id: str, attempt: int) -> bool:
    """A queue record for `attempt` exists; a replayed delivery leaves the failed index."""
    return (
        db.update_if(
            keys.webhook_delivery(subject_id, delivery_id),
            UpdateExpression="SET queued_attempt = :n REMOVE gsi1pk, gsi1sk",
            ConditionExpression="#s = :pending AND attempt_count = :n",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":pending": PENDING, ":n": attempt},
        )
        is not None
    )


def claim(
    subject_id: str, delivery_id: str, attempt: int, now: float, lease_until: float
) -> dict[str, Any] | None:
    """Take attempt number `attempt` (0-based) of a pending delivery; None if not (any longer) ours."""
    return _updated(
        keys.webhook_delivery(subject_id, delivery_id),
        UpdateExpression="SET lease_until = :lease",
        ConditionExpression=(
            "#s = :pending AND attempt_count = :n AND (attribute_not_exists(lease_until) OR lease_until < :now)"
        ),
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={
            ":pending": PENDING,
            ":n": attempt,
            ":now": epoch(now),
            ":lease": epoch(lease_until),
        },
    )


def record_attempt(
    subject_id: str,
    delivery_id: str,
    *,
    attempt_number: int,
    lease_until: float,
    attempt: dict[str, Any],
    outcome: str,
    at: str,
    round_started_at: float,
    next_attempt_at: float | None = None,
    error: str | None = None,
) -> dict[str, Any] | None:
    """Record the attempt we hold the lease for, and its outcome: DELIVERED, FAILED or PENDING (retry).

    None when the lease was lost (another invocation took the attempt over): nothing is written.
    """
    sets = [
        "attempts = list_append(attempts, :attempt)",
        "attempt_count = :next_n",
        "updated_at = :at",
        "round_started_at = if_not_exists(round_started_at, :round)",
    ]
    removes = ["lease_until"]
    values: dict[str, Any] = {
        ":pending": PENDING,
        ":n": attempt_number,
        ":lease": epoch(lease_until),
        ":attempt": [attempt],
        ":next_n": attempt_number + 1,
        ":at": at,
        ":round": epoch(round_started_at),
    }
    if outcome == DELIVERED:
        sets += ["#s = :delivered", "delivered_at = :at"]
        removes += ["next_attempt_at", "last_error", "gsi1pk", "gsi1sk"]
        values[":delivered"] = DELIVERED
    elif outcome == FAILED:
        sets += ["#s = :failed", "failed_at = :at", "last_error = :error", "gsi1pk = :fpk", "gsi1sk = :fsk"]
        removes += ["next_attempt_at"]
        values.update({":failed": FAILED, ":error": error or "", ":fpk": FAILED_INDEX_PK})
        values[":fsk"] = keys.failed_webhook_sort(at, delivery_id)
    elif outcome == PENDING:
        if next_attempt_at is None:
            raise ValueError("a retry needs next_attempt_at")
        sets += ["next_attempt_at = :next_at", "last_error = :error"]
        removes += ["gsi1pk", "gsi1sk"]
        values.update({":next_at": epoch(next_attempt_at), ":error": error or ""})
    else:
        raise ValueError(f"unknown outcome {outcome!r}")
    return _updated(
        keys.webhook_delivery(subject_id, delivery_id),
        UpdateExpression=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
        ConditionExpression="#s = :pending AND attempt_count = :n AND lease_until = :lease",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues=values,
    )


def _updated(key: dict[str, str], **update: Any) -> dict[str, Any] | None:
    return _with_ids(db.update_if(key, **update))


def mark_dead_lettered(subject_id: str, delivery_id: str, at: str) -> bool:
    return (
        db.update_if(
            keys.webhook_delivery(subject_id, delivery_id),
            UpdateExpression="SET dead_lettered_at = :at",
            ConditionExpression="#s = :failed AND attribute_not_exists(dead_lettered_at)",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":failed": FAILED, ":at": at},
        )
        is not None
    )


def reopen(subject_id: str, delivery_id: str, at: str, expires_at: int) -> dict[str, Any] | None:
    """failed → pending for a replay: a new round (schedule and horizon restart), attempts kept.

    Also takes a delivery that a replay reopened but could not queue (still in the failed index).
    It stays in the index until `mark_queued`, so a replay that dies half-way is found again.
    """
    item = _updated(
        keys.webhook_delivery(subject_id, delivery_id),
        UpdateExpression=(
            "SET #s = :pending, replayed_at = :at, updated_at = :at, expires_at = :exp, "
            "replays = if_not_exists(replays, :zero) + :one, round_start_attempt = attempt_count "
            "REMOVE failed_at, dead_lettered_at, round_started_at, next_attempt_at, lease_until"
        ),
        ConditionExpression="#s = :failed OR (#s = :pending AND gsi1pk = :fpk)",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={
            ":pending": PENDING,
            ":failed": FAILED,
            ":fpk": FAILED_INDEX_PK,
            ":at": at,
            ":exp": expires_at,
            ":zero": 0,
            ":one": 1,
        },
    )
    if item is not None:
        _extend_lookup(delivery_id, expires_at)
    return item


def _extend_lookup(delivery_id: str, expires_at: int) -> None:
    try:
        db.table().update_item(
            Key=keys.webhook_lookup(delivery_id),
            UpdateExpression="SET expires_at = :exp",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":exp": expires_at},
        )
    except ClientError as error:
        if not db.condition_failed(error):
            raise


def failed_deliveries(*, since: str | None = None, account_id: str | None = None) -> list[dict[str, Any]]:
    """Failed deliveries (oldest failure first) from the sparse index, optionally since a time / for an account."""
    values: dict[str, Any] = {":pk": FAILED_INDEX_PK}
    condition = "gsi1pk = :pk"
    if since:
        condition += " AND gsi1sk >= :since"
        values[":since"] = since
    kwargs: dict[str, Any] = {
        "IndexName": "gsi1",
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
    }
    if account_id:
        kwargs["FilterExpression"] = "account_id = :account"
        values[":account"] = account_id
    items: list[dict[str, Any]] = []
    while True:
        page = db.table().query(**kwargs)
        items.extend(_present(page.get("Items", [])))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
