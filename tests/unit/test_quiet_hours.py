"""Quiet hours: the window in the recipient's local time, across midnight, DST and multi-zone countries."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from smsgw.core.errors import BadRequest
from smsgw.messages.quiet_hours import QuietHours, recipient_zones, release_time

NIGHT = QuietHours.parse("21:00", "08:00")
DUTCH = "31612345678"
NEW_YORK = "12125551234"
UK_MOBILE = "447700900123"


def test_a_window_across_midnight_contains_late_evening_and_early_morning() -> None:
    assert [NIGHT.contains(time(h, m)) for h, m in [(21, 0), (3, 0), (7, 59), (8, 0), (20, 59)]] == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_a_window_within_a_day() -> None:
    lunch = QuietHours.parse("12:00", "13:30")
    assert [lunch.contains(time(h, m)) for h, m in [(12, 0), (13, 30), (11, 0)]] == [True, False, False]


@pytest.mark.parametrize(
    ("start", "end", "field"), [("25:00", "08:00", "start"), ("21:00", "8", "end"), ("09:00", "09:00", "end")]
)
def test_a_bad_window_is_refused_naming_the_field(start: str, end: str, field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        QuietHours.parse(start, end)
    assert caught.value.field == field


def test_outside_the_window_a_send_goes_now() -> None:
    # 12:00 UTC = 13:00 in Amsterdam in November.
    assert release_time(NIGHT, DUTCH, datetime(2026, 11, 25, 12, 0, tzinfo=UTC)) is None
    assert release_time(None, DUTCH, datetime(2026, 11, 25, 2, 0, tzinfo=UTC)) is None


def test_inside_the_window_a_send_waits_for_its_end_in_the_recipients_zone() -> None:
    # 22:30 UTC = 23:30 in Amsterdam (CET) → released at 08:00 CET = 07:00 UTC the next day.
    assert release_time(NIGHT, DUTCH, datetime(2026, 11, 25, 22, 30, tzinfo=UTC)) == datetime(
        2026, 11, 26, 7, 0, tzinfo=UTC
    )
    # 03:00 UTC = 22:00 in New York (EST) → 08:00 EST = 13:00 UTC.
    assert release_time(NIGHT, NEW_YORK, datetime(2026, 11, 26, 3, 0, tzinfo=UTC)) == datetime(
        2026, 11, 26, 13, 0, tzinfo=UTC
    )


def test_the_end_follows_daylight_saving_time() -> None:
    # Amsterdam springs forward on 2026-03-29: 08:00 is CEST (UTC+2) that morning.
    assert release_time(NIGHT, DUTCH, datetime(2026, 3, 28, 23, 0, tzinfo=UTC)) == datetime(
        2026, 3, 29, 6, 0, tzinfo=UTC
    )


def test_a_number_without_zone_data_uses_its_countrys_zones() -> None:
    assert [zone.key for zone in recipient_zones(UK_MOBILE)] == ["Europe/London"]


def test_a_number_in_several_zones_waits_until_it_is_day_in_all_of_them() -> None:
    zones = {zone.key for zone in recipient_zones("61412345678")}
    assert {"Australia/Sydney", "Australia/Perth"} <= zones
    # 20:30 UTC: 07:30 in Sydney (AEDT), 04:30 in Perth, 03:00 on the Cocos Islands (UTC+6:30): the
    # last of the number's zones to reach 08:00 is Cocos, at 01:30 UTC.
    released = release_time(NIGHT, "61412345678", datetime(2026, 11, 25, 20, 30, tzinfo=UTC))
    assert released is not None
    for zone in recipient_zones("61412345678"):
        assert not NIGHT.contains(released.astimezone(zone).time()), zone.key
    assert released == datetime(2026, 11, 26, 1, 30, tzinfo=UTC)
