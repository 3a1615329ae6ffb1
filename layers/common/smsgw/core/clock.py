"""The one clock: every stored timestamp is UTC ISO-8601 with milliseconds, so they sort as strings."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def now_iso() -> str:
    return iso(now())


def epoch_iso(seconds: float) -> str:
    """The stored format of an epoch time (time.time(), a lease, a retry time)."""
    return iso(datetime.fromtimestamp(seconds, UTC))


def iso(moment: datetime) -> str:
    """`2026-12-03T06:50:00.123+00:00`: the format every item's timestamps use."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")
