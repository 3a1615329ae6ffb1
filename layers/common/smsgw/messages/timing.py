"""When an accepted send goes out: now, at the client's send_at, or when the recipient's quiet hours end."""

from __future__ import annotations

from datetime import datetime

from smsgw.accounts.models import Account
from smsgw.config import get_settings
from smsgw.core.errors import InvalidField, SendRefused
from smsgw.messages.params import boolean
from smsgw.messages.quiet_hours import QuietHours, release_time
from smsgw.messages.send_at import parse_send_at


def urgent(value: str | None) -> bool:
    """smsgw's `urgent` flag (a send that quiet hours must not hold)."""
    if value is None or value == "":
        return False
    try:
        return boolean("urgent", str(value)) == "true"
    except InvalidField as error:
        raise SendRefused.of(error) from None


def send_time(
    account: Account, send_at: tuple[str, str] | None, to: str, urgent: bool, now: datetime
) -> tuple[datetime, str] | None:
    """When a send is held for later: (the moment, why), or None to send now.

    An explicit send_at is the client's choice and is kept as given; quiet hours hold back only
    sends without one, unless they are urgent.
    """
    if send_at is not None:
        settings = get_settings()
        try:
            moment = parse_send_at(
                *send_at,
                now,
                horizon_days=settings.schedule_horizon_days,
                grace_seconds=settings.send_at_grace_seconds,
            )
        except InvalidField as error:
            raise SendRefused.of(error) from None
        return (moment, "send_at") if moment > now else None
    if urgent or not account.quiet_hours:
        return None
    window = QuietHours.parse(account.quiet_hours["start"], account.quiet_hours["end"])
    release = release_time(window, to, now)
    return (release, "quiet_hours") if release is not None else None
