"""DynamoDB access for signed `/sms/json` requests: the signatures already used (replay protection).

Keys (smsgw.keys; docs/data-model.md):
  VSIG#<account_id>#<sig> / VSIG   a signature seen in its time window: `idempotency_key_hash` (the
                                   Idempotency-Key it came with, if any), `expires_at` (TTL)

An item is kept until its request's timestamp has left the accepted window; after that the
timestamp check alone refuses the request, so the item is only waiting for TTL to delete it.
DynamoDB's TTL deletes late (hours), so an expired item is treated as absent.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from smsgw import db, keys


def claim_signature(
    account_id: str, sig: str, idempotency_key_hash: str | None, expires_at: int, now: int
) -> tuple[bool, str | None]:
    """Record `sig` as used. Returns (True, None) when this call recorded it, or (False, the
    Idempotency-Key hash stored with it) when an unexpired record already exists."""
    item: dict[str, object] = {
        **keys.signature(account_id, sig),
        "type": "vonage_signature",
        "account_id": account_id,
        "expires_at": expires_at,
    }
    if idempotency_key_hash:
        item["idempotency_key_hash"] = idempotency_key_hash
    try:
        db.table().put_item(
            Item=item,
            ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
            ExpressionAttributeValues={":now": now},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if not db.condition_failed(error):
            raise
        # The old item comes in DynamoDB's wire format, also through the resource API.
        old = error.response.get("Item") or {}
        return False, (old.get("idempotency_key_hash") or {}).get("S")
    return True, None


def release_signature(account_id: str, sig: str) -> None:
    """Forget `sig` (its request was refused, so an identical retry may run)."""
    db.table().delete_item(Key=keys.signature(account_id, sig))
