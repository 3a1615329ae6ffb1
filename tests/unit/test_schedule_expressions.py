"""smsgw.schedules.expressions: EventBridge Scheduler expressions parsed, refused (naming what is wrong)
and evaluated to next run times as EventBridge Scheduler does, across DST changes and leap days."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsgw.core.errors import BadRequest
from smsgw.edges.errors import http_status
from smsgw.schedules.evaluate import next_runs
from smsgw.schedules.expressions import (
    CronSpec,
    DayOfMonth,
    DayOfWeek,
    InvalidExpression,
    ScheduleExpression,
    parse_expression,
    validate_timezone,
)

AMS = "Europe/Amsterdam"
NYC = "America/New_York"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def runs(text: str, tz: str, after: datetime, count: int = 5, **bounds: datetime) -> list[datetime]:
    return next_runs(parse_expression(text), tz, after, count, **bounds)


def local(moments: list[datetime], tz: str) -> list[str]:
    """Run times as wall-clock strings with their offset, e.g. 2026-03-29T08:00+02:00."""
    return [m.astimezone(ZoneInfo(tz)).isoformat(timespec="minutes") for m in moments]


def cron(text: str) -> CronSpec:
    spec = parse_expression(text).cron
    assert spec is not None
    return spec


def refusal(text: str) -> InvalidExpression:
    with pytest.raises(InvalidExpression) as caught:
        parse_expression(text)
    return caught.value


# ------------------------------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("text", "kind", "normalised"),
    [
        ("at(2030-01-31T08:00:00)", "at", "at(2030-01-31T08:00:00)"),
        ("  at( 2030-01-31T08:00:00 ) ", "at", "at(2030-01-31T08:00:00)"),
        ("rate(1 minute)", "rate", "rate(1 minute)"),
        ("rate(5 minutes)", "rate", "rate(5 minutes)"),
        ("rate(1 hour)", "rate", "rate(1 hour)"),
        ("rate(2 hours)", "rate", "rate(2 hours)"),
        ("rate(1 day)", "rate", "rate(1 day)"),
        ("rate(7  Days)", "rate", "rate(7 days)"),
        ("cron(0 8 * * ? *)", "cron", "cron(0 8 * * ? *)"),
        ("cron(0  8 ? *  mon-fri *)", "cron", "cron(0 8 ? * MON-FRI *)"),
        ("cron(0/15 9-17 ? * 2-6 *)", "cron", "cron(0/15 9-17 ? * 2-6 *)"),
        ("cron(0 8 L * ? *)", "cron", "cron(0 8 L * ? *)"),
        ("cron(0 8 LW * ? *)", "cron", "cron(0 8 LW * ? *)"),
        ("cron(0 8 15W * ? *)", "cron", "cron(0 8 15W * ? *)"),
        ("cron(0 8 ? * 6L *)", "cron", "cron(0 8 ? * 6L *)"),
        ("cron(0 8 ? * FRIL *)", "cron", "cron(0 8 ? * FRIL *)"),
        ("cron(0 8 ? * MON#2 *)", "cron", "cron(0 8 ? * MON#2 *)"),
        ("cron(0 8 ? * 2#2 *)", "cron", "cron(0 8 ? * 2#2 *)"),
        ("cron(0 8 ? * L *)", "cron", "cron(0 8 ? * L *)"),
        ("cron(0 8 1,15 jan-mar ? 2026-2030)", "cron", "cron(0 8 1,15 JAN-MAR ? 2026-2030)"),
        ("cron(0 0 29 2 ? *)", "cron", "cron(0 0 29 2 ? *)"),
        ("cron(*/5 * 1/10 * ? 2026/2)", "cron", "cron(*/5 * 1/10 * ? 2026/2)"),
    ],
)
def test_valid_expressions_parse_to_their_normalised_text(text: str, kind: str, normalised: str) -> None:
    parsed = parse_expression(text)
    assert parsed.kind == kind
    assert parsed.text == normalised
    assert parse_expression(parsed.text) == parsed  # the normalised text is itself valid and the same


def test_parsed_values() -> None:
    assert parse_expression("at(2030-01-31T08:05:09)").at == datetime(2030, 1, 31, 8, 5, 9)
    assert parse_expression("rate(5 minutes)").rate == timedelta(minutes=5)
    assert parse_expression("rate(1 hour)").rate == timedelta(hours=1)
    assert parse_expression("rate(3 days)").rate == timedelta(days=3)

    spec = cron("cron(0/15 9-11 1,15 JAN-MAR ? 2026-2028)")
    assert spec.minutes == (0, 15, 30, 45)
    assert spec.hours == (9, 10, 11)
    assert spec.day_of_month == DayOfMonth(mode="days", days=frozenset({1, 15}))
    assert spec.months == (1, 2, 3)
    assert spec.day_of_week == DayOfWeek(mode="any")
    assert spec.years == (2026, 2027, 2028)

    assert cron("cron(* * * * ? *)").years == tuple(range(1970, 2200))
    assert cron("cron(1/20 0-10/5 1/10 */5 ? *)").minutes == (1, 21, 41)
    assert cron("cron(1/20 0-10/5 1/10 */5 ? *)").hours == (0, 5, 10)
    assert cron("cron(1/20 0-10/5 1/10 */5 ? *)").day_of_month.days == frozenset({1, 11, 21, 31})
    assert cron("cron(1/20 0-10/5 1/10 */5 ? *)").months == (1, 6, 11)


@pytest.mark.parametrize(
    ("dow", "expected"),
    [
        ("*", DayOfWeek(mode="days", days=frozenset(range(1, 8)))),
        ("SUN", DayOfWeek(mode="days", days=frozenset({1}))),  # AWS: 1 = Sunday
        ("SAT", DayOfWeek(mode="days", days=frozenset({7}))),
        ("MON-FRI", DayOfWeek(mode="days", days=frozenset({2, 3, 4, 5, 6}))),
        ("SUN,SAT", DayOfWeek(mode="days", days=frozenset({1, 7}))),
        ("L", DayOfWeek(mode="days", days=frozenset({7}))),  # the last day of the week
        ("6L", DayOfWeek(mode="last_in_month", weekday=6)),
        ("FRIL", DayOfWeek(mode="last_in_month", weekday=6)),
        ("MON#2", DayOfWeek(mode="nth_in_month", weekday=2, nth=2)),
        ("7#5", DayOfWeek(mode="nth_in_month", weekday=7, nth=5)),
    ],
)
def test_day_of_week_uses_aws_numbering(dow: str, expected: DayOfWeek) -> None:
    assert cron(f"cron(0 8 ? * {dow} *)").day_of_week == expected


@pytest.mark.parametrize(
    ("dom", "expected"),
    [
        ("L", DayOfMonth(mode="last")),
        ("LW", DayOfMonth(mode="last_weekday")),
        ("15W", DayOfMonth(mode="nearest_weekday", day=15)),
        ("1-3,28-31", DayOfMonth(mode="days", days=frozenset({1, 2, 3, 28, 29, 30, 31}))),
    ],
)
def test_day_of_month_forms(dom: str, expected: DayOfMonth) -> None:
    assert cron(f"cron(0 8 {dom} * ? *)").day_of_month == expected


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        # the cases the issue names
        ("cron(0 8 * * * *)", ["day-of-month", "day-of-week", "'?'"]),
        ("cron(60 * * * ? *)", ["minutes", "60", "0-59"]),
        ("rate(1 minutes)", ["rate(1 minute)", "singular"]),
        ("rate(0 hours)", ["positive", "0"]),
        ("at(2026-13-01T00:00:00)", ["month", "13"]),
        ("cron(0 8 * * ?)", ["6 fields", "got 5"]),
        # every field names itself
        ("cron(0 24 * * ? *)", ["hours", "24", "0-23"]),
        ("cron(0 8 32 * ? *)", ["day-of-month", "32", "1-31"]),
        ("cron(0 8 0 * ? *)", ["day-of-month", "0", "1-31"]),
        ("cron(0 8 * 13 ? *)", ["month", "13", "1-12"]),
        ("cron(0 8 * FOO ? *)", ["month", "'FOO'", "JAN-DEC"]),
        ("cron(0 8 ? * 0 *)", ["day-of-week", "0", "1-7"]),
        ("cron(0 8 ? * 8 *)", ["day-of-week", "8", "1-7"]),
        ("cron(0 8 ? * MOM *)", ["day-of-week", "'MOM'", "SUN-SAT"]),
        ("cron(0 8 * * ? 1969)", ["year", "1969", "1970-2199"]),
        ("cron(0 8 * * ? 2200)", ["year", "2200"]),
        # '?' rules
        ("cron(0 8 ? * ? *)", ["exactly one", "both are '?'"]),
        ("cron(0 8 1 * MON *)", ["exactly one", "'1' and 'MON'"]),
        ("cron(? 8 * * ? *)", ["minutes", "'?'"]),
        ("cron(0 8 * ? ? *)", ["month", "'?'"]),
        # wildcard misuse
        ("cron(0 8 ? * MON#6 *)", ["day-of-week", "1-5"]),
        ("cron(0 8 ? * MON#0 *)", ["day-of-week", "1-5"]),
        ("cron(0 8 ? * 3#1,6#3 *)", ["day-of-week", "'#'"]),
        ("cron(0 8 ? * MON-FRI#2 *)", ["day-of-week", "'#'"]),
        ("cron(0 8 ? * 1,6L *)", ["day-of-week", "'L'"]),
        ("cron(0 8 ? * 1/2 *)", ["day-of-week", "'/'"]),
        ("cron(0 8 L-3 * ? *)", ["day-of-month", "'L-3'"]),
        ("cron(0 8 1,L * ? *)", ["day-of-month", "'1,L'"]),
        ("cron(0 8 1,15W * ? *)", ["day-of-month", "'1,15W'"]),
        ("cron(0 8 W * ? *)", ["day-of-month", "'W'"]),
        ("cron(0 8 32W * ? *)", ["day-of-month", "32"]),
        ("cron(0 L * * ? *)", ["hours", "'L'"]),
        ("cron(0 8 * L ? *)", ["month", "'L'"]),
        ("cron(5-1 * * * ? *)", ["minutes", "backwards"]),
        ("cron(0 8 ? * FRI-MON *)", ["day-of-week", "backwards"]),
        ("cron(*/0 * * * ? *)", ["minutes", "increment"]),
        ("cron(*/61 * * * ? *)", ["minutes", "increment"]),
        ("cron(/5 * * * ? *)", ["minutes", "'/5'"]),
        ("cron(1,,2 * * * ? *)", ["minutes", "empty"]),
        ("cron(1- * * * ? *)", ["minutes", "range"]),
        ("cron(-1 * * * ? *)", ["minutes", "range"]),
        ("cron(0 8 * * ? * *)", ["6 fields", "got 7"]),
        ("cron()", ["6 fields", "got 0"]),
        # rate
        ("rate(5)", ["rate(value unit)"]),
        ("rate(5 minutes please)", ["rate(value unit)"]),
        ("rate(2 minute)", ["plural", "rate(2 minutes)"]),
        ("rate(1 days)", ["singular", "rate(1 day)"]),
        ("rate(5 weeks)", ["unit", "'weeks'"]),
        ("rate(-5 minutes)", ["positive", "'-5'"]),
        ("rate(1.5 hours)", ["positive", "'1.5'"]),
        ("rate(99999999999999 days)", ["too long"]),
        # at
        ("at(2026-02-29T08:00:00)", ["day 29", "2026-02"]),
        ("at(2026-04-31T08:00:00)", ["day 31"]),
        ("at(2026-01-01T24:00:00)", ["hour 24"]),
        ("at(2026-01-01T08:60:00)", ["minute 60"]),
        ("at(2026-01-01T08:00:60)", ["second 60"]),
        ("at(2026-01-01T08:00)", ["yyyy-mm-ddThh:mm:ss"]),
        ("at(2026-01-01T08:00:00Z)", ["yyyy-mm-ddThh:mm:ss", "offset"]),
        ("at(2026-01-01 08:00:00)", ["yyyy-mm-ddThh:mm:ss"]),
        ("at(0000-01-01T08:00:00)", ["year 0000"]),
        # not an expression at all
        ("", ["empty"]),
        ("   ", ["empty"]),
        ("0 8 * * ? *", ["not a schedule expression"]),
        ("every(5 minutes)", ["not a schedule expression"]),
        ("cron(0 8 * * ? *", ["not a schedule expression"]),
        ("cron(" + "0," * 200 + "0 8 * * ? *)", ["256"]),
    ],
)
def test_invalid_expressions_are_refused_naming_what_is_wrong(text: str, mentions: list[str]) -> None:
    error = refusal(text)
    assert error.field == "schedule"
    for fragment in mentions:
        assert fragment in error.message, f"{fragment!r} not in {error.message!r}"


def test_a_non_string_expression_is_refused() -> None:
    with pytest.raises(InvalidExpression, match="string"):
        parse_expression(None)  # type: ignore[arg-type]


def test_invalid_expression_is_a_400_naming_the_field() -> None:
    error = refusal("cron(60 * * * ? *)")
    assert isinstance(error, BadRequest)
    assert isinstance(error, ValueError)
    assert http_status(error) == 400
    assert error.field == "schedule"
    assert str(error) == error.message


# ---------------------------------------------------------------------------------------- time zones


@pytest.mark.parametrize("tz", ["Europe/Amsterdam", "America/New_York", "UTC", "Asia/Kolkata", "Etc/GMT-14"])
def test_known_time_zones_are_accepted(tz: str) -> None:
    assert validate_timezone(tz) == tz


@pytest.mark.parametrize(
    "tz",
    [
        "Mars/Olympus_Mons",
        "europe/amsterdam",
        "Europe",
        "",
        " Europe/Amsterdam",
        "../../etc/passwd",
        "/usr/share/zoneinfo/UTC",
        "posix/Europe/Amsterdam",
        "localtime",
        "CEST",
        "+02:00",
        "Europe/" + "A" * 80,
        None,
    ],
)
def test_unknown_time_zones_are_refused_naming_the_timezone_field(tz: str) -> None:
    with pytest.raises(InvalidExpression) as caught:
        validate_timezone(tz)
    assert caught.value.field == "timezone"
    assert http_status(caught.value) == 400
    assert "time zone" in caught.value.message


def test_next_runs_refuses_an_unknown_time_zone() -> None:
    with pytest.raises(InvalidExpression) as caught:
        runs("cron(0 8 * * ? *)", "Europe/Atlantis", utc(2026, 1, 1))
    assert caught.value.field == "timezone"


# ------------------------------------------------------------------------------------ cron next runs


def test_daily_digest_at_eight_in_amsterdam_keeps_local_time_across_spring_forward() -> None:
    found = runs("cron(0 8 * * ? *)", AMS, utc(2026, 3, 27, 12), count=4)
    assert found == [utc(2026, 3, 28, 7), utc(2026, 3, 29, 6), utc(2026, 3, 30, 6), utc(2026, 3, 31, 6)]
    assert all(moment.tzinfo is UTC for moment in found)
    assert local(found, AMS) == [
        "2026-03-28T08:00+01:00",
        "2026-03-29T08:00+02:00",
        "2026-03-30T08:00+02:00",
        "2026-03-31T08:00+02:00",
    ]


def test_daily_digest_keeps_local_time_across_fall_back() -> None:
    found = runs("cron(0 8 * * ? *)", AMS, utc(2026, 10, 24, 12), count=2)
    assert found == [utc(2026, 10, 25, 7), utc(2026, 10, 26, 7)]  # 08:00 CET, no longer 06:00 UTC


def test_spring_forward_skips_a_time_that_does_not_exist_amsterdam() -> None:
    # 2026-03-29: 02:00 CET → 03:00 CEST; 02:30 never happens that night.
    found = runs("cron(30 2 * * ? *)", AMS, utc(2026, 3, 27), count=3)
    assert local(found, AMS) == ["2026-03-27T02:30+01:00", "2026-03-28T02:30+01:00", "2026-03-30T02:30+02:00"]


def test_spring_forward_skips_a_time_that_does_not_exist_new_york() -> None:
    # 2026-03-08: 02:00 EST → 03:00 EDT.
    found = runs("cron(30 2 * * ? *)", NYC, utc(2026, 3, 7), count=2)
    assert found == [utc(2026, 3, 7, 7, 30), utc(2026, 3, 9, 6, 30)]


def test_spring_forward_keeps_the_times_around_the_gap() -> None:
    found = runs("cron(0/30 1-3 * * ? *)", NYC, utc(2026, 3, 8, 5), count=4)
    assert local(found, NYC) == [
        "2026-03-08T01:00-05:00",
        "2026-03-08T01:30-05:00",
        "2026-03-08T03:00-04:00",
        "2026-03-08T03:30-04:00",
    ]


def test_fall_back_runs_a_repeated_time_once_amsterdam() -> None:
    # 2026-10-25: 03:00 CEST → 02:00 CET; 02:30 happens twice, the schedule runs at the first.
    found = runs("cron(30 2 * * ? *)", AMS, utc(2026, 10, 24), count=3)
    assert found == [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]


def test_fall_back_runs_a_repeated_time_once_new_york() -> None:
    # 2026-11-01: 02:00 EDT → 01:00 EST; 01:30 happens at 05:30 and 06:30 UTC.
    found = runs("cron(30 1 * * ? *)", NYC, utc(2026, 10, 31, 12), count=2)
    assert found == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


def test_every_half_hour_through_fall_back_does_not_repeat_the_hour() -> None:
    found = runs("cron(0/30 * * * ? *)", NYC, utc(2026, 11, 1, 4), count=6)
    assert local(found, NYC) == [
        "2026-11-01T00:30-04:00",
        "2026-11-01T01:00-04:00",
        "2026-11-01T01:30-04:00",
        "2026-11-01T02:00-05:00",  # 01:00 and 01:30 EST are the repeated times: not run again
        "2026-11-01T02:30-05:00",
        "2026-11-01T03:00-05:00",
    ]


def test_after_inside_the_repeated_hour_does_not_go_back_to_its_first_pass() -> None:
    # 01:15 EST (the second 01:15) is 06:15 UTC; 01:30 already ran at 05:30 UTC (EDT).
    found = runs("cron(0/30 * * * ? *)", NYC, utc(2026, 11, 1, 6, 15), count=2)
    assert found == [utc(2026, 11, 1, 7), utc(2026, 11, 1, 7, 30)]


def test_half_hour_dst_shift_lord_howe() -> None:
    # Australia/Lord_Howe moves its clocks by 30 minutes: 2026-10-04 02:00 → 02:30 (+10:30 → +11:00).
    found = runs("cron(0/15 2 * * ? *)", "Australia/Lord_Howe", utc(2026, 10, 3, 12), count=6)
    assert local(found, "Australia/Lord_Howe") == [
        "2026-10-04T02:30+11:00",
        "2026-10-04T02:45+11:00",
        "2026-10-05T02:00+11:00",
        "2026-10-05T02:15+11:00",
        "2026-10-05T02:30+11:00",
        "2026-10-05T02:45+11:00",
    ]


def test_runs_are_strictly_after_after() -> None:
    assert runs("cron(0 8 * * ? *)", "UTC", utc(2026, 5, 1, 8), count=1) == [utc(2026, 5, 2, 8)]
    assert runs("cron(0 8 * * ? *)", "UTC", utc(2026, 5, 1, 7, 59, 59), count=1) == [utc(2026, 5, 1, 8)]
    assert runs("cron(0 8 * * ? *)", "UTC", utc(2026, 5, 1, 8, 0, 1), count=1) == [utc(2026, 5, 2, 8)]


def test_after_in_another_offset_is_the_same_instant() -> None:
    after = datetime(2026, 5, 1, 9, 30, tzinfo=ZoneInfo(AMS))  # 07:30 UTC
    assert runs("cron(0 8 * * ? *)", "UTC", after, count=1) == [utc(2026, 5, 1, 8)]


def test_leap_days_every_four_years_but_not_2100() -> None:
    found = runs("cron(0 0 29 2 ? *)", "UTC", utc(2095, 1, 1), count=4)
    assert found == [utc(2096, 2, 29), utc(2104, 2, 29), utc(2108, 2, 29), utc(2112, 2, 29)]
    assert runs("cron(0 0 29 2 ? *)", "UTC", utc(2026, 1, 1), count=2) == [utc(2028, 2, 29), utc(2032, 2, 29)]


def test_leap_day_in_a_time_zone_is_local_midnight() -> None:
    assert runs("cron(0 0 29 2 ? *)", AMS, utc(2026, 1, 1), count=1) == [utc(2028, 2, 28, 23)]


def test_a_day_that_never_exists_gives_no_runs() -> None:
    assert runs("cron(0 0 30 2 ? *)", "UTC", utc(2026, 1, 1)) == []
    assert runs("cron(0 0 31 4,6,9,11 ? *)", "UTC", utc(2026, 1, 1)) == []


def test_the_31st_runs_only_in_months_that_have_one() -> None:
    found = runs("cron(0 12 31 * ? *)", "UTC", utc(2026, 1, 1), count=4)
    assert found == [utc(2026, 1, 31, 12), utc(2026, 3, 31, 12), utc(2026, 5, 31, 12), utc(2026, 7, 31, 12)]


def test_last_day_of_month_follows_february() -> None:
    found = runs("cron(0 18 L * ? *)", "UTC", utc(2027, 12, 15), count=4)
    assert found == [utc(2027, 12, 31, 18), utc(2028, 1, 31, 18), utc(2028, 2, 29, 18), utc(2028, 3, 31, 18)]
    assert runs("cron(0 18 L 2 ? *)", "UTC", utc(2099, 3, 1), count=2) == [
        utc(2100, 2, 28, 18),
        utc(2101, 2, 28, 18),
    ]


def test_last_weekday_of_month_steps_back_from_a_weekend() -> None:
    found = runs("cron(0 9 LW * ? *)", "UTC", utc(2026, 1, 1), count=5)
    assert [moment.date() for moment in found] == [
        date(2026, 1, 30),  # the 31st is a Saturday
        date(2026, 2, 27),  # the 28th is a Saturday
        date(2026, 3, 31),  # a Tuesday
        date(2026, 4, 30),  # a Thursday
        date(2026, 5, 29),  # the 31st is a Sunday
    ]


@pytest.mark.parametrize(
    ("dom", "month", "expected_day"),
    [
        ("15W", 3, 16),  # Sunday the 15th → Monday the 16th
        ("15W", 8, 14),  # Saturday the 15th → Friday the 14th
        ("15W", 6, 15),  # Monday: itself
        ("1W", 8, 3),  # Saturday the 1st → Monday the 3rd (never into July)
        ("1W", 2, 2),  # Sunday the 1st → Monday the 2nd
        ("31W", 5, 29),  # Sunday the 31st → Friday the 29th (never into June)
        ("31W", 10, 30),  # Saturday the 31st → Friday the 30th
        ("28W", 2, 27),  # Saturday the 28th, the last day → Friday the 27th
    ],
)
def test_nearest_weekday_stays_in_the_month(dom: str, month: int, expected_day: int) -> None:
    found = runs(f"cron(0 9 {dom} {month} ? 2026)", "UTC", utc(2026, 1, 1), count=1)
    assert found == [utc(2026, month, expected_day, 9)]


def test_nearest_weekday_to_a_day_the_month_lacks_is_skipped() -> None:
    found = runs("cron(0 9 30W * ? 2026)", "UTC", utc(2026, 1, 15), count=3)
    assert found == [utc(2026, 1, 30, 9), utc(2026, 3, 30, 9), utc(2026, 4, 30, 9)]  # no 30 February


def test_fifth_monday_skips_months_without_one() -> None:
    found = runs("cron(0 8 ? * MON#5 *)", "UTC", utc(2026, 1, 1), count=5)
    assert found == [
        utc(2026, 3, 30, 8),
        utc(2026, 6, 29, 8),
        utc(2026, 8, 31, 8),
        utc(2026, 11, 30, 8),
        utc(2027, 3, 29, 8),
    ]
    assert runs("cron(0 8 ? * 2#5 *)", "UTC", utc(2026, 1, 1), count=5) == found


def test_first_monday_in_amsterdam() -> None:
    found = runs("cron(0 8 ? * MON#1 *)", AMS, utc(2026, 1, 1), count=5)
    assert local(found, AMS) == [
        "2026-01-05T08:00+01:00",
        "2026-02-02T08:00+01:00",
        "2026-03-02T08:00+01:00",
        "2026-04-06T08:00+02:00",
        "2026-05-04T08:00+02:00",
    ]


def test_last_friday_of_the_month() -> None:
    expected = [utc(2026, 1, 30, 17), utc(2026, 2, 27, 17), utc(2026, 3, 27, 17), utc(2026, 4, 24, 17)]
    assert runs("cron(0 17 ? * 6L *)", "UTC", utc(2026, 1, 1), count=4) == expected
    assert runs("cron(0 17 ? * FRIL *)", "UTC", utc(2026, 1, 1), count=4) == expected


def test_day_of_week_numbers_are_aws_not_unix() -> None:
    # 2026-06-01 is a Monday. AWS: 2 = MON, 1 = SUN, 7 = SAT; a lone L = the last day of the week (SAT).
    assert runs("cron(0 8 ? * 2 *)", "UTC", utc(2026, 6, 1), count=1) == [utc(2026, 6, 1, 8)]
    assert runs("cron(0 8 ? * 1 *)", "UTC", utc(2026, 6, 1), count=1) == [utc(2026, 6, 7, 8)]
    assert runs("cron(0 8 ? * SAT *)", "UTC", utc(2026, 6, 1), count=1) == [utc(2026, 6, 6, 8)]
    assert runs("cron(0 8 ? * L *)", "UTC", utc(2026, 6, 1), count=1) == [utc(2026, 6, 6, 8)]


def test_weekdays_only() -> None:
    found = runs("cron(30 7 ? * MON-FRI *)", AMS, utc(2026, 6, 5, 12), count=3)  # Friday afternoon
    assert local(found, AMS) == ["2026-06-08T07:30+02:00", "2026-06-09T07:30+02:00", "2026-06-10T07:30+02:00"]


def test_year_range_ends() -> None:
    assert runs("cron(0 8 1 1 ? 2026-2027)", "UTC", utc(2026, 6, 1)) == [utc(2027, 1, 1, 8)]
    assert runs("cron(0 8 1 1 ? 2026-2027)", "UTC", utc(2027, 1, 1, 8)) == []
    assert runs("cron(0 8 * * ? 2020)", "UTC", utc(2026, 1, 1)) == []


def test_the_calendar_ends_in_2199() -> None:
    assert runs("cron(0 0 31 12 ? *)", "UTC", utc(2198, 6, 1)) == [utc(2198, 12, 31), utc(2199, 12, 31)]


def test_start_and_end_bound_cron_runs_inclusively() -> None:
    found = runs(
        "cron(0 8 * * ? *)",
        "UTC",
        utc(2026, 1, 1),
        count=10,
        start=utc(2026, 2, 1, 8),
        end=utc(2026, 2, 4, 8),
    )
    assert found == [utc(2026, 2, 1, 8), utc(2026, 2, 2, 8), utc(2026, 2, 3, 8), utc(2026, 2, 4, 8)]


def test_start_before_after_changes_nothing() -> None:
    assert runs("cron(0 8 * * ? *)", "UTC", utc(2026, 5, 1, 9), count=1, start=utc(2020, 1, 1)) == [
        utc(2026, 5, 2, 8)
    ]


def test_end_in_the_past_gives_no_runs() -> None:
    assert runs("cron(0 8 * * ? *)", "UTC", utc(2026, 5, 1), end=utc(2026, 4, 30)) == []


def test_count() -> None:
    assert len(runs("cron(* * * * ? *)", "UTC", utc(2026, 5, 1), count=120)) == 120
    assert runs("cron(* * * * ? *)", "UTC", utc(2026, 5, 1), count=0) == []
    assert runs("cron(0 8 * * ? *)", "UTC", utc(2026, 5, 1)) == [utc(2026, 5, d, 8) for d in range(1, 6)]


def test_after_must_be_aware() -> None:
    with pytest.raises(ValueError, match="after"):
        runs("cron(0 8 * * ? *)", "UTC", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="end"):
        runs("cron(0 8 * * ? *)", "UTC", utc(2026, 1, 1), end=datetime(2026, 2, 1))


# ------------------------------------------------------------------------------------ rate next runs


def test_rate_counts_from_start() -> None:
    found = runs("rate(15 minutes)", AMS, utc(2026, 5, 1, 10, 20), count=3, start=utc(2026, 5, 1, 9, 7))
    assert found == [utc(2026, 5, 1, 10, 22), utc(2026, 5, 1, 10, 37), utc(2026, 5, 1, 10, 52)]


def test_rate_with_a_future_start_begins_at_start() -> None:
    found = runs("rate(2 hours)", "UTC", utc(2026, 5, 1), count=3, start=utc(2026, 6, 1, 9, 30))
    assert found == [utc(2026, 6, 1, 9, 30), utc(2026, 6, 1, 11, 30), utc(2026, 6, 1, 13, 30)]


def test_rate_without_start_counts_from_after() -> None:
    assert runs("rate(1 hour)", "UTC", utc(2026, 5, 1, 9, 10), count=2) == [
        utc(2026, 5, 1, 10, 10),
        utc(2026, 5, 1, 11, 10),
    ]


def test_rate_days_are_24_hours_across_dst() -> None:
    found = runs("rate(1 day)", AMS, utc(2026, 3, 28, 8), count=3, start=utc(2026, 3, 28, 7))  # 08:00 CET
    assert found == [utc(2026, 3, 29, 7), utc(2026, 3, 30, 7), utc(2026, 3, 31, 7)]
    assert local(found, AMS)[0] == "2026-03-29T09:00+02:00"  # elapsed time, not wall-clock time


def test_rate_honours_end_and_is_far_from_start_without_iterating() -> None:
    found = runs(
        "rate(1 minute)", "UTC", utc(2126, 5, 1), count=3, start=utc(2026, 5, 1), end=utc(2126, 5, 1, 0, 2)
    )
    assert found == [utc(2126, 5, 1, 0, 1), utc(2126, 5, 1, 0, 2)]


# -------------------------------------------------------------------------------------- at next runs


def test_at_runs_once_in_its_time_zone() -> None:
    expr = parse_expression("at(2026-07-01T09:00:00)")
    assert next_runs(expr, AMS, utc(2026, 6, 1)) == [utc(2026, 7, 1, 7)]
    assert next_runs(expr, NYC, utc(2026, 6, 1)) == [utc(2026, 7, 1, 13)]
    assert next_runs(expr, AMS, utc(2026, 7, 1, 7)) == []  # not strictly after
    assert next_runs(expr, AMS, utc(2026, 8, 1)) == []


def test_at_ignores_start_and_end_like_eventbridge_scheduler() -> None:
    found = runs(
        "at(2026-07-01T09:00:00)", "UTC", utc(2026, 6, 1), start=utc(2026, 8, 1), end=utc(2026, 6, 2)
    )
    assert found == [utc(2026, 7, 1, 9)]


def test_at_in_a_spring_forward_gap_runs_just_after_the_gap() -> None:
    found = runs("at(2026-03-29T02:30:00)", AMS, utc(2026, 1, 1))
    assert local(found, AMS) == ["2026-03-29T03:30+02:00"]


def test_at_in_a_fall_back_hour_runs_at_its_first_occurrence() -> None:
    assert runs("at(2026-11-01T01:30:00)", NYC, utc(2026, 1, 1)) == [utc(2026, 11, 1, 5, 30)]


def test_expression_is_a_frozen_value() -> None:
    expr = parse_expression("cron(0 8 * * ? *)")
    assert isinstance(expr, ScheduleExpression)
    assert expr.recurring
    assert not parse_expression("at(2030-01-01T00:00:00)").recurring
    with pytest.raises(AttributeError):
        expr.text = "cron(0 9 * * ? *)"  # type: ignore[misc]


# ----------------------------------------------------------------------- properties against an oracle


def _oracle_day(spec: CronSpec, day: date) -> bool:
    """Brute-force day matching, written from AWS's definitions (independent of the module's)."""
    last = calendar.monthrange(day.year, day.month)[1]
    month_days = [date(day.year, day.month, d) for d in range(1, last + 1)]
    weekdays = [d for d in month_days if d.weekday() < 5]
    aws_weekday = day.isoweekday() % 7 + 1  # SUN=1 … SAT=7
    dom, dow = spec.day_of_month, spec.day_of_week
    if dom.mode == "days":
        return day.day in dom.days
    if dom.mode == "last":
        return day.day == last
    if dom.mode == "last_weekday":
        return day == weekdays[-1]
    if dom.mode == "nearest_weekday":
        return dom.day <= last and day == min(weekdays, key=lambda d: abs(d.day - dom.day))
    if dow.mode == "days":
        return aws_weekday in dow.days
    if dow.mode == "nth_in_month":
        return aws_weekday == dow.weekday and (day.day - 1) // 7 + 1 == dow.nth
    return aws_weekday == dow.weekday and day.day + 7 > last


def _oracle_runs(spec: CronSpec, tz: str, after: datetime, until: datetime) -> list[datetime]:
    """Every UTC minute in (after, until] whose wall-clock time matches, at its first occurrence only."""
    zone = ZoneInfo(tz)
    found = []
    moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while moment <= until:
        wall = moment.astimezone(zone)
        if (
            wall.minute in spec.minutes
            and wall.hour in spec.hours
            and wall.month in spec.months
            and wall.year in spec.years
            and _oracle_day(spec, wall.date())
            and wall.replace(fold=0).astimezone(UTC) == moment  # a repeated wall time runs once
        ):
            found.append(moment)
        moment += timedelta(minutes=1)
    return found


_DAY_FIELDS = [
    f"{dom} * ?" for dom in ("*", "1", "L", "LW", "15W", "1W", "31W", "30W", "1/10", "28-31", "29")
] + [
    f"? {month} {dow}"
    for month in ("*",)
    for dow in ("*", "MON-FRI", "1", "L", "6L", "SUNL", "MON#1", "7#5", "2#5", "SUN,SAT")
]
_MOMENTS = [
    utc(2026, 3, 7),  # US spring forward (Mar 8)
    utc(2026, 3, 27),  # EU spring forward (Mar 29)
    utc(2026, 4, 3),  # Lord Howe falls back (Apr 5)
    utc(2026, 10, 2),  # Lord Howe springs forward (Oct 4)
    utc(2026, 10, 23),  # EU fall back (Oct 25)
    utc(2026, 10, 30),  # US fall back (Nov 1), month end
    utc(2028, 2, 27),  # leap day
    utc(2026, 5, 29),  # month end on a weekend
    utc(2026, 12, 30),  # year end
]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    minutes=st.sampled_from(["0", "*/15", "5,35", "0-10/5", "59", "*/7", "30"]),
    hours=st.sampled_from(["*", "0-3", "1,2", "*/2", "2", "23"]),
    days=st.sampled_from(_DAY_FIELDS),
    tz=st.sampled_from([AMS, NYC, "UTC", "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns"]),
    base=st.sampled_from(_MOMENTS),
    offset=st.integers(min_value=0, max_value=72 * 60),
)
def test_cron_runs_match_a_minute_by_minute_oracle(
    minutes: str, hours: str, days: str, tz: str, base: datetime, offset: int
) -> None:
    dom, month, dow = days.split()
    spec = cron(f"cron({minutes} {hours} {dom} {month} {dow} *)")
    after = base + timedelta(minutes=offset, seconds=30)
    until = after + timedelta(hours=48)
    expected = _oracle_runs(spec, tz, after, until)
    expr = parse_expression(f"cron({minutes} {hours} {dom} {month} {dow} *)")
    assert next_runs(expr, tz, after, count=10_000, end=until) == expected


@settings(max_examples=200, deadline=None)
@given(
    value=st.integers(min_value=1, max_value=500),
    unit=st.sampled_from(["minute", "hour", "day"]),
    start=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    gap=st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=4000)),
    count=st.integers(min_value=1, max_value=8),
)
def test_rate_runs_are_whole_intervals_from_start_after_after(
    value: int, unit: str, start: datetime, gap: timedelta, count: int
) -> None:
    text = f"rate({value} {unit}{'' if value == 1 else 's'})"
    interval = timedelta(**{f"{unit}s": value})
    after = start + gap
    found = runs(text, NYC, after, count=count, start=start)
    assert len(found) == count
    assert found[0] > after
    assert found[0] - interval <= max(after, start - interval)  # none skipped before the first
    for earlier, later in pairwise(found):
        assert later - earlier == interval
    assert all((moment - start) % interval == timedelta(0) for moment in found)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40) | st.from_regex(r"(cron|rate|at)\([0-9A-Z?*,/#LW \-:T]{0,30}\)", fullmatch=True))
def test_parsing_anything_either_succeeds_or_raises_invalid_expression(text: str) -> None:
    try:
        parsed = parse_expression(text)
    except InvalidExpression as error:
        refused: InvalidExpression | None = error
    else:
        refused = None
        assert parse_expression(parsed.text) == parsed
    if refused is not None:
        assert refused.field == "schedule"
        assert refused.message
