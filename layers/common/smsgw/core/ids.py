"""Message and part ids (pure: importable by dispatch and receipts without the send path)."""

from __future__ import annotations

import re

_MESSAGE_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")  # a ULID in Crockford's base32


def part_ids(message_id: str, parts: int) -> list[str]:
    """One id per part, as Vonage answers; a single-part message's part id is the message id."""
    return [message_id] if parts == 1 else [f"{message_id}-{n}" for n in range(1, parts + 1)]


def message_id_of(part_id: str) -> str:
    return part_id.split("-", 1)[0]


def is_message_id(value: str) -> bool:
    """Could `value` be one of our message ids (a ULID)?"""
    return _MESSAGE_ID.fullmatch(value) is not None
