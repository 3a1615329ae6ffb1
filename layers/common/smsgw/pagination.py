"""Opaque cursors for newest-first index queries: the index's LastEvaluatedKey, base64url JSON.

A cursor comes back from the client, so it is checked before it becomes an ExclusiveStartKey: exactly
the keys a `gsi1` query returns (`pk`, `sk`, `gsi1pk`, `gsi1sk`), each a non-empty string within
DynamoDB's key size limits, in the caller's own index partition (and, when given, the sort-key range
of the query). Anything else is a 400 naming `cursor`: never a DynamoDB ValidationException (500),
never a page of another account's partition.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from smsgw.core.errors import BadRequest

CURSOR_KEYS = frozenset({"pk", "sk", "gsi1pk", "gsi1sk"})
# DynamoDB's limits: a partition key value ≤ 2048 bytes, a sort key value ≤ 1024 bytes.
_MAX_KEY_BYTES = 1024
# A cursor is four short keys; anything much longer is not one this API returned.
_MAX_CURSOR_CHARS = 2048


# Every listing's page size: 1 to MAX_PAGE items (the routes document it; services check it again).
MAX_PAGE = 100


def check_limit(limit: int) -> int:
    """The one page-size check of every listing: 400 naming `limit` outside 1..MAX_PAGE."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}", "limit")
    return limit


def _refused() -> BadRequest:
    return BadRequest("cursor is not one this API returned; start again without it", "cursor")


def decode_cursor(
    cursor: str | None, index_pk: str, sort_range: tuple[str, str] | None = None
) -> dict[str, Any] | None:
    """The start key, only for this index partition (a cursor never reads someone else's items) and,
    with `sort_range` (lowest, highest), only inside the query's sort-key range."""
    if not cursor:
        return None
    if len(cursor) > _MAX_CURSOR_CHARS:
        raise _refused()
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        raise _refused() from None
    if not (
        isinstance(key, dict)
        and set(key) == CURSOR_KEYS
        and all(
            isinstance(value, str) and 0 < len(value.encode("utf-8", "surrogatepass")) <= _MAX_KEY_BYTES
            for value in key.values()
        )
        and key["gsi1pk"] == index_pk
    ):
        raise _refused()
    if sort_range is not None and not sort_range[0] <= key["gsi1sk"] <= sort_range[1]:
        raise BadRequest(
            "cursor belongs to another since/until range; start again without it or keep the same filters",
            "cursor",
        )
    return key


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")
