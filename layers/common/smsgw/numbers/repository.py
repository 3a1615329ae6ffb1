"""DynamoDB access for phone numbers (the only code that touches number items).

One item per number, so a registered phone and a bought virtual number share one key space and an
msisdn belongs to at most one account:

  NUMBER#<msisdn> / NUMBER   type "number", msisdn, account_id, kind (registered | owned), country,
                             callback_url (the KPN register callback_url; the Vonage moHttpUrl),
                             number_type, features, mo_smpp_sys_type, voice_callback_type,
                             voice_callback_value, voice_status_callback, app_id,
                             created_at, updated_at, bought_at (owned)
      gsi1pk ACCOUNT#<account_id>#NUMBER      gsi1sk <msisdn>   (owned: GET account/numbers)
      gsi1pk ACCOUNT#<account_id>#REGISTERED  gsi1sk <msisdn>   (registered only)

Every write is conditional: a number is claimed only when it is absent or already the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from botocore.exceptions import ClientError

from smsgw import db, keys

REGISTERED: Final = "registered"
OWNED: Final = "owned"

# Settings of an owned number, by Vonage wire name → attribute name.
SETTINGS: Final = {
    "moHttpUrl": "callback_url",
    "moSmppSysType": "mo_smpp_sys_type",
    "voiceCallbackType": "voice_callback_type",
    "voiceCallbackValue": "voice_callback_value",
    "voiceStatusCallback": "voice_status_callback",
    "app_id": "app_id",
}


class NumberTaken(Exception):
    """The number belongs to another account."""


def get_number(msisdn: str, consistent: bool = False) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        db.table().get_item(Key=keys.number(msisdn), ConsistentRead=consistent).get("Item")
    )
    return item


def _update(
    msisdn: str,
    set_values: Mapping[str, Any],
    *,
    if_absent: Mapping[str, Any] | None = None,
    remove: Sequence[str] = (),
    condition: str,
    condition_values: Mapping[str, Any],
    return_old: bool = False,
) -> dict[str, Any] | None:
    """One UpdateItem: SET `set_values`, SET if_not_exists for `if_absent`, REMOVE `remove`, under
    `condition`. Every attribute goes through a name placeholder (reserved words: type, kind, ...)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = dict(condition_values)
    assignments: list[str] = []
    for i, (name, value) in enumerate(set_values.items()):
        names[f"#s{i}"] = name
        values[f":s{i}"] = value
        assignments.append(f"#s{i} = :s{i}")
    for i, (name, value) in enumerate((if_absent or {}).items()):
        names[f"#d{i}"] = name
        values[f":d{i}"] = value
        assignments.append(f"#d{i} = if_not_exists(#d{i}, :d{i})")
    expression = "SET " + ", ".join(assignments)
    if remove:
        for i, name in enumerate(remove):
            names[f"#r{i}"] = name
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
    for placeholder in ("#account_id", "#kind", "#pk"):
        if placeholder in condition:
            names[placeholder] = placeholder[1:]
    try:
        result = db.table().update_item(
            Key=keys.number(msisdn),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD" if return_old else "NONE",
        )
    except ClientError as error:
        if db.condition_failed(error):
            raise NumberTaken(msisdn) from None
        raise
    old: dict[str, Any] | None = result.get("Attributes")
    return old


_ABSENT_OR_MINE = "attribute_not_exists(#pk) OR #account_id = :account"


def register(account_id: str, msisdn: str, country: str, callback_url: str, now: str) -> bool:
    """Point `msisdn`'s inbound SMS at `callback_url` for `account_id`; True when the number was new.

    A number the account bought keeps kind `owned` (its moHttpUrl becomes `callback_url`).
    Raises `NumberTaken` when another account registered or owns it.
    """
    old = _update(
        msisdn,
        {
            "type": "number",
            "msisdn": msisdn,
            "account_id": account_id,
            "callback_url": callback_url,
            "updated_at": now,
        },
        if_absent={
            "kind": REGISTERED,
            "country": country,
            "created_at": now,
            "gsi1pk": keys.registered_numbers_index(account_id),
            "gsi1sk": msisdn,
        },
        condition=_ABSENT_OR_MINE,
        condition_values={":account": account_id},
        return_old=True,
    )
    return old is None


def claim_owned(account_id: str, msisdn: str, country: str, details: Mapping[str, Any], now: str) -> None:
    """Record a number the carrier sold to `account_id` (it may be one the account had registered).

    `details`: `number_type` and `features` when the carrier told them. Raises `NumberTaken`.
    """
    values: dict[str, Any] = {
        "type": "number",
        "msisdn": msisdn,
        "account_id": account_id,
        "kind": OWNED,
        "country": country,
        "gsi1pk": keys.owned_numbers_index(account_id),
        "gsi1sk": msisdn,
        "bought_at": now,
        "updated_at": now,
    }
    values.update({key: value for key, value in details.items() if value not in (None, "", [])})
    _update(
        msisdn,
        values,
        if_absent={"created_at": now},
        condition=_ABSENT_OR_MINE,
        condition_values={":account": account_id},
    )


def update_settings(
    account_id: str, msisdn: str, set_values: Mapping[str, str], remove: Sequence[str], now: str
) -> bool:
    """Set and clear settings (attribute names) of a number `account_id` owns; False when it does not."""
    try:
        _update(
            msisdn,
            {**set_values, "updated_at": now},
            remove=remove,
            condition="#account_id = :account AND #kind = :owned",
            condition_values={":account": account_id, ":owned": OWNED},
        )
    except NumberTaken:
        return False
    return True


def release_owned(account_id: str, msisdn: str) -> bool:
    """Forget a number `account_id` owned (cancelled at the carrier); False when it was not its."""
    try:
        db.table().delete_item(
            Key=keys.number(msisdn),
            ConditionExpression="#account_id = :account AND #kind = :owned",
            ExpressionAttributeNames={"#account_id": "account_id", "#kind": "kind"},
            ExpressionAttributeValues={":account": account_id, ":owned": OWNED},
        )
    except ClientError as error:
        if db.condition_failed(error):
            return False
        raise
    return True


# An account's numbers are few (each is bought and paid for), but one request's reads stay bounded:
# the listing considers at most this many, read in at most this many Query calls.
MAX_OWNED_LISTED = 1000
MAX_OWNED_QUERIES = 3


def owned_numbers(account_id: str, prefix: str | None = None) -> list[dict[str, Any]]:
    """The numbers `account_id` owns, by msisdn (at most MAX_OWNED_LISTED); only those starting with
    `prefix` when given.

    Reads the whole (small) partition: Vonage's `count` is the number of all matches, not of one page.
    """
    kwargs: dict[str, Any] = {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk" + (" AND begins_with(gsi1sk, :prefix)" if prefix else ""),
        "ExpressionAttributeValues": {
            ":pk": keys.owned_numbers_index(account_id),
            **({":prefix": prefix} if prefix else {}),
        },
    }
    items: list[dict[str, Any]] = []
    for _ in range(MAX_OWNED_QUERIES):
        page = db.table().query(Limit=MAX_OWNED_LISTED - len(items), **kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page or len(items) >= MAX_OWNED_LISTED:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items


# --- proving possession of a phone before it is registered ---------------------------------------------------
#
#   VERIFY#<account_id>#<msisdn> / VERIFY   code_hash, callback_url, country, attempts (wrong codes),
#                                           sends (codes sent in the window), window_until, code_until,
#                                           expires_at (TTL)


class TooManyCodes(Exception):
    """The account asked for too many codes for this phone in the window."""


def start_verification(
    account_id: str,
    msisdn: str,
    *,
    code_hash: str,
    callback_url: str,
    country: str,
    now: int,
    code_seconds: int,
    window_seconds: int,
    max_sends: int,
) -> None:
    """A new code for this (account, phone): replaces the previous one, counts codes per window.

    Raises TooManyCodes when `max_sends` codes were sent within the window already.
    """
    started = db.update_if(
        keys.verification(account_id, msisdn),
        UpdateExpression=(
            "SET code_hash = :hash, callback_url = :url, country = :country, attempts = :zero, "
            "code_until = :code_until, expires_at = :window_until, "
            "window_until = if_not_exists(window_until, :window_until), "
            "sends = if_not_exists(sends, :zero) + :one"
        ),
        ConditionExpression="attribute_not_exists(pk) OR window_until < :now OR sends < :max",
        ExpressionAttributeValues={
            ":hash": code_hash,
            ":url": callback_url,
            ":country": country,
            ":zero": 0,
            ":one": 1,
            ":code_until": now + code_seconds,
            ":window_until": now + window_seconds,
            ":now": now,
            ":max": max_sends,
        },
    )
    if started is None:
        raise TooManyCodes(msisdn)
    # A window that ended starts again (its count with it); done apart so the condition stays simple.
    db.update_if(
        keys.verification(account_id, msisdn),
        UpdateExpression="SET window_until = :window_until, sends = :one",
        ConditionExpression="window_until < :now",
        ExpressionAttributeValues={":window_until": now + window_seconds, ":now": now, ":one": 1},
    )


def get_verification(account_id: str, msisdn: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        db.table().get_item(Key=keys.verification(account_id, msisdn), ConsistentRead=True).get("Item")
    )
    return item


def count_wrong_code(account_id: str, msisdn: str, code_hash: str, max_attempts: int) -> bool:
    """One more wrong code for this (still the same) code; False when it is burnt (too many)."""
    updated = db.update_if(
        keys.verification(account_id, msisdn),
        UpdateExpression="SET attempts = attempts + :one",
        ConditionExpression="code_hash = :hash AND attempts < :max",
        ExpressionAttributeValues={":one": 1, ":hash": code_hash, ":max": max_attempts},
    )
    return updated is not None and int(updated["attempts"]) < max_attempts


def use_code(account_id: str, msisdn: str, code_hash: str, now: int, max_attempts: int) -> bool:
    """Spend the right code once (a second confirmation with it finds nothing); False when it is not
    the current code, expired or burnt."""
    used = db.update_if(
        keys.verification(account_id, msisdn),
        UpdateExpression="REMOVE code_hash, code_until",
        ConditionExpression="code_hash = :hash AND code_until >= :now AND attempts < :max",
        ExpressionAttributeValues={":hash": code_hash, ":now": now, ":max": max_attempts},
    )
    return used is not None
