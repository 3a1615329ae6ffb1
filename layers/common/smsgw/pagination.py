"""Opaque cursors for newest-first index queries: the index's LastEvaluatedKey, base64url JSON."""

from __future__ import annotations

import base64
import json
from typing import Any

from smsgw.errors import BadRequest


def decode_cursor(cursor: str | None, index_pk: str) -> dict[str, Any] | None:
    """The start key, only for this index partition (a cursor never reads someone else's items)."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
        valid = isinstance(key, dict) and key.get("gsi1pk") == index_pk
    except ValueError:
        valid = False
    if not valid:
        raise BadRequest("cursor is not one this API returned; start again without it", "cursor")
    return key


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")
