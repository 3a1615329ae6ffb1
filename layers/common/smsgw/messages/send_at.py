"""`send_at` (JSON) / `send-at` (form): when a send should go out, validated against now and the horizon.

Accepted: ISO 8601 with a date, a time and an offset (`2026-12-01T08:00:00+01:00`, `…Z`). A time
without an offset is refused: it would silently mean UTC to some clients and local time to others.
A moment up to the grace window in the past is accepted and sent at once (clocks differ a little).
In a form body an unencoded `+` arrives as a space (`…T08:00:00 01:00`): that is read as `+01:00`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from smsgw.core.errors import InvalidField

SEND_AT_FIELDS = ("send_at", "send-at")
EXAMPLE = "2026-12-01T08:00:00+01:00"
_FORM_DECODED_PLUS = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


def pop_send_at(fields: dict[str, str]) -> tuple[str, str] | None:
    """Take `send_at`/`send-at` out of the send parameters: (the name the client used, its value)."""
    given = [(name, fields.pop(name)) for name in SEND_AT_FIELDS if name in fields]
    given = [(name, value) for name, value in given if value not in (None, "")]
    if len(given) > 1:
        raise InvalidField("send_at", "give either send_at or send-at, not both")
    return given[0] if given else None


def parse_send_at(
    field: str, value: str, now: datetime, *, horizon_days: int, grace_seconds: int
) -> datetime:
    """The moment (UTC) or InvalidField naming `field`; earlier than `now - grace` or past the horizon is refused."""
    text = _FORM_DECODED_PLUS.sub(r"\1+\2", value.strip())
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise InvalidField(
            field, f"{field} must be an ISO 8601 date-time with an offset, e.g. {EXAMPLE} (got {text[:40]!r})"
        ) from None
    if ":" not in text or moment.tzinfo is None:
        raise InvalidField(
            field,
            f"{field} needs a date, a time and an offset (Z or ±hh:mm), e.g. {EXAMPLE}: "
            "without an offset the time would be ambiguous",
        )
    moment = moment.astimezone(UTC)
    if moment < now - timedelta(seconds=grace_seconds):
        raise InvalidField(
            field,
            f"{field} {moment.isoformat(timespec='seconds')} is in the past (now is "
            f"{now.astimezone(UTC).isoformat(timespec='seconds')}); leave it out to send now",
        )
    horizon = now + timedelta(days=horizon_days)
    if moment > horizon:
        raise InvalidField(
            field,
            f"{field} is more than {horizon_days} days ahead (the latest allowed is "
            f"{horizon.astimezone(UTC).isoformat(timespec='seconds')})",
        )
    return moment
