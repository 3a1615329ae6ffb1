"""When a schedule expression runs next, evaluated as EventBridge Scheduler does in the schedule's time zone.

Daylight saving time follows EventBridge Scheduler's documented behaviour: a cron time that does not
exist when clocks spring forward is skipped; a cron time that occurs twice when clocks fall back
runs once (at its first occurrence). ``rate(n days)`` is ``n`` × 24 hours of elapsed time. An
``at()`` time that falls in a gap (undocumented by AWS) runs at the same distance past the gap's
start, e.g. 02:30 on a 02:00→03:00 night runs at 03:30; nothing is skipped.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from smsgw.schedules import expressions
from smsgw.schedules.expressions import CronSpec, ScheduleExpression


def next_runs(
    expr: ScheduleExpression,
    tz: str,
    after: datetime,
    count: int = 5,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[datetime]:
    """The next ``count`` run times strictly after ``after``, as aware UTC datetimes, in order.

    Evaluated as EventBridge Scheduler does in time zone ``tz``:
    - ``cron``: wall-clock times in ``tz``; a time skipped by a spring-forward change does not run,
      a time repeated by a fall-back change runs once (its first occurrence);
    - ``rate``: ``start`` + k × interval (k ≥ 0) in elapsed time; without ``start`` it counts from
      ``after`` (pass the schedule's creation time as ``start`` when it has no start date);
    - ``at``: the one time, read in ``tz``; ``start``/``end`` are ignored (as EventBridge Scheduler
      ignores StartDate/EndDate for one-time schedules).
    ``start`` and ``end`` bound recurring schedules inclusively. Returns ``[]`` when nothing is left.
    """
    zone = expressions.zone(expressions.validate_timezone(tz))
    for label, moment in (("after", after), ("start", start), ("end", end)):
        if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
            raise ValueError(f"next_runs: {label} must be an aware datetime")
    if count <= 0:
        return []
    after = after.astimezone(UTC)
    start = start.astimezone(UTC) if start is not None else None
    end = end.astimezone(UTC) if end is not None else None

    if expr.kind == "at":
        assert expr.at is not None
        try:
            when = expr.at.replace(tzinfo=zone).astimezone(UTC)
        except OverflowError:  # year 9999 pushed past datetime's range
            return []
        return [when] if when > after else []
    if expr.kind == "rate":
        assert expr.rate is not None
        return _rate_runs(expr.rate, after, count, start, end)
    assert expr.cron is not None
    return _cron_runs(expr.cron, zone, after, count, start, end)


def _rate_runs(
    interval: timedelta, after: datetime, count: int, start: datetime | None, end: datetime | None
) -> list[datetime]:
    anchor = start if start is not None else after
    k = 0 if after < anchor else (after - anchor) // interval + 1
    runs: list[datetime] = []
    while len(runs) < count:
        try:
            when = anchor + interval * k
        except OverflowError:
            break
        if end is not None and when > end:
            break
        runs.append(when)
        k += 1
    return runs


def _cron_runs(
    spec: CronSpec,
    zone: ZoneInfo,
    after: datetime,
    count: int,
    start: datetime | None,
    end: datetime | None,
) -> list[datetime]:
    # Wall-clock times in increasing order map to increasing instants once gap times are skipped and
    # repeated times take their first occurrence (fold=0), so one forward walk from the local date of
    # the lower bound finds the runs in order; walking year → month → matching days keeps sparse
    # schedules (leap days, MON#5) cheap.
    lower = after if start is None or start <= after else start - timedelta(microseconds=1)
    first_day = lower.astimezone(zone).date()
    runs: list[datetime] = []
    for year in spec.years:
        if year < first_day.year:
            continue
        for month in spec.months:
            if (year, month) < (first_day.year, first_day.month):
                continue
            for day in _matching_days(spec, year, month):
                if date(year, month, day) < first_day:
                    continue
                for hour in spec.hours:
                    for minute in spec.minutes:
                        wall = datetime(year, month, day, hour, minute, tzinfo=zone)
                        when = wall.astimezone(UTC)
                        if when.astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
                            continue  # does not exist: the clocks skipped it (spring forward)
                        if when <= lower:
                            continue
                        if end is not None and when > end:
                            return runs
                        runs.append(when)
                        if len(runs) == count:
                            return runs
    return runs


def _aws_weekday(year: int, month: int, day: int) -> int:
    """1=SUN … 7=SAT."""
    return (date(year, month, day).weekday() + 1) % 7 + 1


def _matching_days(spec: CronSpec, year: int, month: int) -> list[int]:
    last = calendar.monthrange(year, month)[1]
    dom = spec.day_of_month
    if dom.mode == "days":
        return [day for day in sorted(dom.days) if day <= last]
    if dom.mode == "last":
        return [last]
    if dom.mode == "last_weekday":
        return [_nearest_weekday(year, month, last, last)]
    if dom.mode == "nearest_weekday":
        return [_nearest_weekday(year, month, dom.day, last)] if dom.day <= last else []
    dow = spec.day_of_week
    if dow.mode == "days":
        return [day for day in range(1, last + 1) if _aws_weekday(year, month, day) in dow.days]
    first_match = 1 + (dow.weekday - _aws_weekday(year, month, 1)) % 7
    if dow.mode == "nth_in_month":
        day = first_match + 7 * (dow.nth - 1)
        return [day] if day <= last else []
    if dow.mode == "last_in_month":
        return [first_match + 7 * ((last - first_match) // 7)]
    return []  # both '?' is refused by the parser


def _nearest_weekday(year: int, month: int, day: int, last: int) -> int:
    """The weekday (MON–FRI) nearest ``day``, never leaving the month (Quartz's ``W``)."""
    weekday = date(year, month, day).weekday()  # MON=0 … SUN=6
    if weekday == 5:  # Saturday → Friday, or Monday the 3rd when the 1st is a Saturday
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday → Monday, or Friday when the last day is a Sunday
        return day + 1 if day < last else day - 2
    return day
