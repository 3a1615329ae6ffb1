"""Quiet hours: an account's window (recipient's local time) in which non-urgent sends wait.

The recipient's time zones come from the number: phonenumbers' prefix data first (a US number
maps to its area's zone), else every zone of the number's country (tzdata's zone1970.tab), else UTC.
A number that maps to several zones is treated conservatively: a send waits while it is quiet time
in *any* of them, until the first moment it is quiet time in none (docs/schedules.md, "Quiet hours").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as number_zones

from smsgw.core.quiet_hours import QuietHours

# The windows of two days are enough to find the end of any quiet stretch that is not the whole day.
_LOOKAHEAD_DAYS = 3


@cache
def _country_zones() -> dict[str, tuple[str, ...]]:
    """ISO country code → its IANA zones, from tzdata's zone1970.tab (countries sharing a zone list it)."""
    zones: dict[str, list[str]] = {}
    try:
        text = resources.files("tzdata").joinpath("zoneinfo", "zone1970.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        codes, _, zone = line.split("\t")[:3]
        for code in codes.split(","):
            zones.setdefault(code, []).append(zone)
    return {code: tuple(names) for code, names in zones.items()}


def recipient_zones(msisdn: str) -> tuple[ZoneInfo, ...]:
    """The time zones a recipient may be in (at least one)."""
    try:
        number = phonenumbers.parse("+" + msisdn.removeprefix("+"))
    except phonenumbers.NumberParseException:
        return (ZoneInfo("UTC"),)
    names = [name for name in number_zones.time_zones_for_number(number) if not name.startswith("Etc/")]
    if not names:
        country = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
            number.country_code or 0
        )
        names = list(_country_zones().get(country, ()))
    zones = []
    for name in names:
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return tuple(zones) or (ZoneInfo("UTC"),)


def _quiet_somewhere(window: QuietHours, zones: tuple[ZoneInfo, ...], moment: datetime) -> bool:
    return any(window.contains(moment.astimezone(zone).time()) for zone in zones)


def _window_ends(window: QuietHours, zone: ZoneInfo, after: datetime) -> list[datetime]:
    local_day = after.astimezone(zone).date()
    ends = []
    for offset in range(-1, _LOOKAHEAD_DAYS):
        # fold=0: in a repeated hour the first occurrence; in a gap zoneinfo moves it forward.
        end = datetime.combine(local_day + timedelta(days=offset), window.end, tzinfo=zone).astimezone(UTC)
        if end > after:
            ends.append(end)
    return ends


def release_time(window: QuietHours | None, msisdn: str, now: datetime) -> datetime | None:
    """When a send to `msisdn` accepted at `now` may go out: None = now, else the window's end (UTC)."""
    if window is None:
        return None
    zones = recipient_zones(msisdn)
    if not _quiet_somewhere(window, zones, now):
        return None
    candidates = sorted(end for zone in zones for end in _window_ends(window, zone, now))
    for moment in candidates:
        if not _quiet_somewhere(window, zones, moment):
            return moment
    # Quiet around the clock across the zones (a country spanning many): the first window end.
    return candidates[0] if candidates else None
