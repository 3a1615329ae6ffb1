"""The fraud guards' counters' repository: DynamoDB access for the daily cap's spend and the velocity limit.

Keys (smsgw.keys; docs/data-model.md, docs/fraud.md):
  SPEND#<account_id>#<day> / SPEND   the account's charges that UTC day (its daily cap; counted in the
                                     charge transaction of `messages.repository`, through `count_spend`)
  VELOCITY#<account_id>#<prefix>#<window> / VELOCITY   sends to a number range in a window (TTL)
  ACCOUNT#<account_id> / ACCOUNT,    the account's requests in one second (its rate limit), on the
  attribute `requests#<second>`      account item the charge writes anyway (smsgw.accounts.request_window)

An immediate send counts them in its charge transaction (`Limit.update`, one item each; the rate in
the charge's own update of the account item, `Limit.on_account`) and reads them before it is queued
in the same read as the account (`messages.repository.preflight`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from smsgw import db, keys
from smsgw.accounts import request_window


@dataclass(frozen=True, slots=True)
class DailyCap:
    """An account's daily spend cap, for a charge on `day` (UTC, `YYYY-MM-DD`)."""

    cap: Decimal
    day: str


class DailyCapExceeded(Exception):
    """The charge would take the day's spend over the account's daily cap (nothing was written)."""

    def __init__(self, cap: DailyCap) -> None:
        super().__init__(cap.day)
        self.cap = cap


@dataclass(frozen=True, slots=True)
class Limit:
    """A counter the charge transaction adds `amount` to, only while it stays within `limit`
    (`kind`: "rate", "velocity" or "spend", to tell which one refused)."""

    kind: str
    key: dict[str, str]
    attribute: str
    amount: Decimal
    limit: Decimal
    expires_at: int
    on_account: bool = False  # counted on the account item, in the charge's own update (no TTL there)

    def full(self, counted: Decimal) -> bool:
        """Would `amount` more take `counted` past the limit?"""
        return counted + self.amount > self.limit

    def update(self) -> dict[str, Any]:
        """The transaction item: add `amount`, if what is counted stays within the limit."""
        return {
            "Update": {
                "TableName": db.table().name,
                "Key": self.key,
                "UpdateExpression": "SET expires_at = :ttl ADD #counted :amount",
                "ConditionExpression": "attribute_not_exists(#counted) OR #counted <= :room",
                "ExpressionAttributeNames": {"#counted": self.attribute},
                "ExpressionAttributeValues": {
                    ":amount": self.amount,
                    ":room": self.limit - self.amount,
                    ":ttl": self.expires_at,
                },
            }
        }


class LimitReached(Exception):
    """A counter of the charge transaction was full (nothing was written)."""

    def __init__(self, limit: Limit) -> None:
        super().__init__(limit.kind)
        self.limit = limit


def send_rate(account_id: str, second: int, per_second: int) -> Limit:
    """The account's requests in `second` (its rate limit), counted on the account item by the charge."""
    return Limit(
        "rate",
        keys.account(account_id),
        request_window.attribute(second),
        Decimal(1),
        Decimal(per_second),
        0,
        on_account=True,
    )


def velocity(account_id: str, prefix: str, window_start: int, window: int, limit: int) -> Limit:
    """Sends to numbers starting with `prefix` in the window that starts at `window_start`."""
    return Limit(
        "velocity",
        keys.velocity(account_id, prefix, window_start),
        "hits",
        Decimal(1),
        Decimal(limit),
        window_start + window + 60,
    )


def spend(account_id: str, price: Decimal, cap: DailyCap) -> Limit:
    """The day's spend + price within the daily cap."""
    expires = datetime.strptime(cap.day, "%Y-%m-%d").replace(tzinfo=UTC) + timedelta(days=3)
    return Limit(
        "spend", keys.day_spend(account_id, cap.day), "spent", price, cap.cap, int(expires.timestamp())
    )


def utc_day(moment: datetime) -> str:
    """The UTC day a charge at `moment` counts against."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def count_spend(account_id: str, price: Decimal, cap: DailyCap) -> dict[str, Any]:
    """The day's spend + price, if that stays within the cap: one more item of the charge transaction,
    so concurrent charges cannot pass the cap together."""
    if price > cap.cap:
        raise DailyCapExceeded(cap)
    expires = datetime.strptime(cap.day, "%Y-%m-%d").replace(tzinfo=UTC) + timedelta(days=3)
    return {
        "Update": {
            "TableName": db.table().name,
            "Key": keys.day_spend(account_id, cap.day),
            "UpdateExpression": "SET expires_at = :ttl ADD spent :price",
            "ConditionExpression": "attribute_not_exists(spent) OR spent <= :room",
            "ExpressionAttributeValues": {
                ":price": price,
                ":room": cap.cap - price,
                ":ttl": int(expires.timestamp()),
            },
        }
    }


def day_spend(account_id: str, day: str) -> Decimal:
    """What the account was charged on `day` (UTC), as counted for its daily cap (0 without a cap)."""
    item = (
        db.table()
        .get_item(Key=keys.day_spend(account_id, day), ConsistentRead=True, ProjectionExpression="spent")
        .get("Item")
    )
    return Decimal(item["spent"]) if item else Decimal(0)


def count_velocity(account_id: str, prefix: str, window_start: int, window: int, limit: int) -> bool:
    """Count one send to numbers starting with `prefix` in the window that starts at `window_start`;
    False (nothing counted) when `limit` sends were counted there already."""
    try:
        db.table().update_item(
            Key=keys.velocity(account_id, prefix, window_start),
            UpdateExpression="ADD hits :one SET expires_at = :ttl",
            ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
            ExpressionAttributeValues={":one": 1, ":limit": limit, ":ttl": window_start + window + 60},
        )
    except ClientError as error:
        if db.condition_failed(error):
            return False
        raise
    return True
