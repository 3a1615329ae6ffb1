"""DynamoDB access for accounts, credential lookups, tokens and request rate windows.

Keys (smsgw.keys; docs/data-model.md):
  ACCOUNT#<id> / ACCOUNT      the account (balance, limits, hashed secrets)
  CLIENT#<client_id> / CLIENT lookup → account_id
  APIKEY#<api_key> / APIKEY   lookup → account_id
  TOKEN#<sha256> / TOKEN      bearer token → account_id, expires_at (TTL)
  (the account's request rate windows are attributes of its item: smsgw.accounts.request_window)
"""

from __future__ import annotations

from dataclasses import asdict, fields
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from smsgw import db, keys
from smsgw.accounts import request_window
from smsgw.accounts.models import (
    DEFAULT_VELOCITY_DIGITS,
    DEFAULT_VELOCITY_WINDOW,
    Account,
    FraudGuards,
    Principal,
)


def _conditional_failed(error: ClientError) -> bool:
    return error.response["Error"]["Code"] in (
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
    )


def insert_account(account: Account) -> None:
    """Account plus its two lookup items, all or nothing; refuses to overwrite anything."""
    item = {**keys.account(account.account_id), "type": "account", **asdict(account)}
    item["senders"] = list(account.senders)
    item.pop("guards")
    if not account.guards.is_off():
        item["guards"] = _guards_item(account.guards)
    absent = "attribute_not_exists(pk)"
    db.dynamodb_client().transact_write_items(
        TransactItems=[
            {"Put": {"TableName": db.table().name, "Item": item, "ConditionExpression": absent}},
            {
                "Put": {
                    "TableName": db.table().name,
                    "Item": {**keys.client(account.client_id), "account_id": account.account_id},
                    "ConditionExpression": absent,
                }
            },
            {
                "Put": {
                    "TableName": db.table().name,
                    "Item": {**keys.api_key(account.api_key), "account_id": account.account_id},
                    "ConditionExpression": absent,
                }
            },
        ]
    )


_ACCOUNT_FIELDS = frozenset(field.name for field in fields(Account))


def _to_account(item: dict[str, Any]) -> Account:
    """The stored item as an Account: DynamoDB's numbers (Decimal) and lists as the fields' types."""
    values = {name: item[name] for name in _ACCOUNT_FIELDS if name in item}
    values["senders"] = tuple(item.get("senders") or ())
    values["rate_limit_per_second"] = int(item["rate_limit_per_second"])
    values["disabled"] = bool(item.get("disabled", False))
    values["guards"] = _to_guards(item.get("guards") or {})
    return Account(**values)


def _to_guards(item: dict[str, Any]) -> FraudGuards:
    velocity = item.get("velocity")
    return FraudGuards(
        allow_countries=tuple(item.get("allow_countries") or ()),
        block_countries=tuple(item.get("block_countries") or ()),
        daily_cap=Decimal(item["daily_cap"]) if item.get("daily_cap") is not None else None,
        velocity=int(velocity) if velocity is not None else None,
        velocity_window=int(item.get("velocity_window", DEFAULT_VELOCITY_WINDOW)),
        velocity_digits=int(item.get("velocity_digits", DEFAULT_VELOCITY_DIGITS)),
    )


def _guards_item(guards: FraudGuards) -> dict[str, Any]:
    """The guards as stored: lists for the country codes, nothing for what is off."""
    item: dict[str, Any] = {name: value for name, value in asdict(guards).items() if value is not None}
    for name in ("allow_countries", "block_countries"):
        item[name] = list(item[name])
    return item


def get_account(account_id: str, consistent: bool = False) -> Account | None:
    item = db.table().get_item(Key=keys.account(account_id), ConsistentRead=consistent).get("Item")
    return _to_account(item) if item else None


def _lookup(key: dict[str, str]) -> str | None:
    item = db.table().get_item(Key=key).get("Item")
    return item["account_id"] if item else None


def account_id_for_client(client_id: str) -> str | None:
    return _lookup(keys.client(client_id))


def account_id_for_api_key(api_key: str) -> str | None:
    return _lookup(keys.api_key(api_key))


def list_accounts() -> list[Account]:
    """Operator listing (CLI). Accounts are few; a GSI on type would replace this scan if they were not."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "FilterExpression": "#t = :account",
        "ExpressionAttributeNames": {"#t": "type"},
        "ExpressionAttributeValues": {":account": "account"},
    }
    while True:
        page = db.table().scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted((_to_account(item) for item in items), key=lambda a: a.created_at)


def _update_existing(account_id: str, **update: Any) -> bool:
    """One UpdateItem on the account's item; False when there is no such account."""
    return (
        db.update_if(keys.account(account_id), ConditionExpression="attribute_exists(pk)", **update)
        is not None
    )


def set_disabled(account_id: str, disabled: bool) -> bool:
    return _update_existing(
        account_id, UpdateExpression="SET disabled = :d", ExpressionAttributeValues={":d": disabled}
    )


def set_quiet_hours(account_id: str, window: dict[str, str] | None) -> bool:
    """Set (or with None remove) the account's quiet hours; False when there is no such account."""
    if window is None:
        return _update_existing(account_id, UpdateExpression="REMOVE quiet_hours")
    return _update_existing(
        account_id, UpdateExpression="SET quiet_hours = :q", ExpressionAttributeValues={":q": window}
    )


def set_guards(account_id: str, guards: FraudGuards) -> bool:
    """Replace (or, all off, remove) the account's fraud guards; False when there is no such account."""
    if guards.is_off():
        return _update_existing(account_id, UpdateExpression="REMOVE guards")
    return _update_existing(
        account_id, UpdateExpression="SET guards = :g", ExpressionAttributeValues={":g": _guards_item(guards)}
    )


def add_balance(account_id: str, amount: Decimal) -> Decimal | None:
    try:
        result = db.table().update_item(
            Key=keys.account(account_id),
            UpdateExpression="ADD balance :a",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":a": amount},
            ReturnValues="UPDATED_NEW",
        )
    except ClientError as error:
        if _conditional_failed(error):
            return None
        raise
    return Decimal(result["Attributes"]["balance"])


def get_balance(account_id: str) -> Decimal:
    item = (
        db.table()
        .get_item(Key=keys.account(account_id), ConsistentRead=True, ProjectionExpression="balance")
        .get("Item")
    )
    return Decimal(item["balance"]) if item else Decimal(0)


def put_token(token_hash: str, principal: Principal) -> None:
    db.table().put_item(
        Item={
            **keys.token(token_hash),
            "type": "token",
            "account_id": principal.account_id,
            "expires_at": principal.expires_at,
        }
    )


def get_token(token_hash: str) -> tuple[str, int] | None:
    # Consistent: a token used the moment it was issued must be found — the authorizer's Deny for an
    # "unknown" token is cached for minutes. (One read unit instead of half, once per token and cache.)
    item = db.table().get_item(Key=keys.token(token_hash), ConsistentRead=True).get("Item")
    return (item["account_id"], int(item["expires_at"])) if item else None


# Window attributes the last count of an account in this process returned (removed by its next
# count); a send's charge removes every one it reads. Bounded: cleared when full.
_seen_windows: dict[str, tuple[str, ...]] = {}
_SEEN_WINDOWS_MAX = 10_000


def count_request(account_id: str, second: int, limit: int) -> bool:
    """Count one request in the account's window for `second` (on the account item, as a send's charge
    counts it); False when the limit is already reached (nothing counted)."""
    window = request_window.attribute(second)
    update = request_window.counted(
        {
            "Key": keys.account(account_id),
            "ConditionExpression": "attribute_exists(pk)",
            "ReturnValues": "ALL_NEW",
        },
        window,
        Decimal(1),
        Decimal(limit),
        _seen_windows.get(account_id, ()),
    )
    try:
        item = db.table().update_item(**update)["Attributes"]
    except ClientError as error:
        if _conditional_failed(error):
            return False
        raise
    if len(_seen_windows) >= _SEEN_WINDOWS_MAX:
        _seen_windows.clear()
    _seen_windows[account_id] = request_window.stale(item, second + 1)
    return True
