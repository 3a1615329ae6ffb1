"""EventBridge Scheduler schedule expressions: parse, validate, and compute the next run times.

Pure code (stdlib only; the IANA time zone data comes from the system or the `tzdata` package),
so the schedules service can answer 400 naming the field before it calls EventBridge Scheduler, and
show a schedule's next runs without calling AWS. Longer than our ~400 lines on purpose: one grammar
(cron, rate, at) and its evaluator, which read best together.

The three forms, exactly as EventBridge Scheduler defines them (docs/schedules.md has the rules and
examples):

- ``at(yyyy-mm-ddThh:mm:ss)``: once, at that wall-clock time in the schedule's time zone;
- ``rate(value unit)``: every ``value`` minutes/hours/days (singular unit only with 1), counted from
  the schedule's start date (or its creation);
- ``cron(minutes hours day-of-month month day-of-week year)``: wall-clock times in the schedule's
  time zone; day-of-week counts 1=SUN … 7=SAT; exactly one of day-of-month and day-of-week is ``?``.

Daylight saving time follows EventBridge Scheduler's documented behaviour: a cron time that does not
exist when clocks spring forward is skipped; a cron time that occurs twice when clocks fall back
runs once (at its first occurrence). ``rate(n days)`` is ``n`` × 24 hours of elapsed time. An
``at()`` time that falls in a gap (undocumented by AWS) runs at the same distance past the gap's
start, e.g. 02:30 on a 02:00→03:00 night runs at 03:30; nothing is skipped.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smsgw.core.errors import BadRequest

__all__ = [
    "MAX_EXPRESSION_LENGTH",
    "CronSpec",
    "DayOfMonth",
    "DayOfWeek",
    "InvalidExpression",
    "ScheduleExpression",
    "next_runs",
    "parse_expression",
    "validate_timezone",
]

#: EventBridge Scheduler's limit on `ScheduleExpression` (CreateSchedule: length 1–256).
MAX_EXPRESSION_LENGTH = 256

MIN_YEAR = 1970
MAX_YEAR = 2199

_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
    )
}
#: AWS numbering: 1=SUN, 2=MON, … 7=SAT (not Unix cron's 0=SUN).
_DAY_NAMES = {
    name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)
}

_FIELD_NAMES = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
_CRON_SYNTAX = "cron(minutes hours day-of-month month day-of-week year)"

_WRAPPED = re.compile(r"^\s*([A-Za-z]+)\s*\((.*)\)\s*$", re.DOTALL)
_AT_FORM = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})$")
_RATE_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


class InvalidExpression(BadRequest, ValueError):
    """A schedule expression (field ``schedule``) or time zone (field ``timezone``) that EventBridge
    Scheduler would refuse; ``message`` says what is wrong and how to fix it."""

    def __init__(self, message: str, field: str = "schedule") -> None:
        super().__init__(message, field)
        self.field: str = field


# --------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class DayOfMonth:
    """The day-of-month field. ``mode``: ``any`` (``?``), ``days`` (values, ranges, steps), ``last``
    (``L``), ``last_weekday`` (``LW``) or ``nearest_weekday`` (``15W``: ``day`` = 15)."""

    mode: Literal["any", "days", "last", "last_weekday", "nearest_weekday"]
    days: frozenset[int] = frozenset()
    day: int = 0


@dataclass(frozen=True)
class DayOfWeek:
    """The day-of-week field, in AWS numbering (1=SUN … 7=SAT). ``mode``: ``any`` (``?``), ``days``
    (values, ranges; a lone ``L`` is Saturday), ``last_in_month`` (``6L``/``FRIL``: ``weekday`` = 6)
    or ``nth_in_month`` (``MON#2``: ``weekday`` = 2, ``nth`` = 2)."""

    mode: Literal["any", "days", "last_in_month", "nth_in_month"]
    days: frozenset[int] = frozenset()
    weekday: int = 0
    nth: int = 0


@dataclass(frozen=True)
class CronSpec:
    """A validated cron expression: the sets of values each field matches."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    day_of_month: DayOfMonth
    months: tuple[int, ...]
    day_of_week: DayOfWeek
    years: tuple[int, ...]


@dataclass(frozen=True)
class ScheduleExpression:
    """A parsed, validated schedule expression.

    ``text`` is the normalised expression to hand to EventBridge Scheduler (single spaces, names in
    upper case, lower-case keyword and unit). Exactly one of ``at`` (naive wall-clock time, read in
    the schedule's time zone), ``rate`` (the interval) and ``cron`` is set, matching ``kind``.
    """

    kind: Literal["at", "rate", "cron"]
    text: str
    at: datetime | None = field(default=None, compare=False)
    rate: timedelta | None = field(default=None, compare=False)
    cron: CronSpec | None = field(default=None, compare=False, repr=False)

    @property
    def recurring(self) -> bool:
        return self.kind != "at"


# --------------------------------------------------------------------------------------------- parse


def parse_expression(text: str) -> ScheduleExpression:
    """Parse ``at(...)``, ``rate(...)`` or ``cron(...)``; raise `InvalidExpression` (field
    ``schedule``) naming what is wrong: the form, the cron field, the value."""
    if not isinstance(text, str):
        raise InvalidExpression("the schedule expression must be a string such as cron(0 8 * * ? *)")
    if not text.strip():
        raise InvalidExpression("the schedule expression is empty: use at(...), rate(...) or cron(...)")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise InvalidExpression(f"the schedule expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    wrapped = _WRAPPED.match(text)
    keyword = wrapped.group(1).lower() if wrapped else ""
    if not wrapped or keyword not in ("at", "rate", "cron"):
        raise InvalidExpression(
            f"{text.strip()!r} is not a schedule expression: use at(yyyy-mm-ddThh:mm:ss), "
            f"rate(value unit) or {_CRON_SYNTAX}"
        )
    body = wrapped.group(2).strip()
    if keyword == "at":
        return _parse_at(body)
    if keyword == "rate":
        return _parse_rate(body)
    return _parse_cron(body)


def _parse_at(body: str) -> ScheduleExpression:
    form = _AT_FORM.match(body)
    if not form:
        raise InvalidExpression(
            f"at({body}): the time must be written yyyy-mm-ddThh:mm:ss, e.g. at(2030-01-31T08:00:00), "
            "with no time zone offset (the schedule's time zone applies)"
        )
    year, month, day, hour, minute, second = (int(part) for part in form.groups())
    if year < 1:
        raise InvalidExpression(f"at({body}): year {year:04d} is not a valid year")
    if not 1 <= month <= 12:
        raise InvalidExpression(f"at({body}): month {month:02d} is not 01-12")
    last_day = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last_day:
        raise InvalidExpression(
            f"at({body}): day {day:02d} does not exist in {year:04d}-{month:02d} (01-{last_day})"
        )
    if hour > 23:
        raise InvalidExpression(f"at({body}): hour {hour:02d} is not 00-23")
    if minute > 59:
        raise InvalidExpression(f"at({body}): minute {minute:02d} is not 00-59")
    if second > 59:
        raise InvalidExpression(f"at({body}): second {second:02d} is not 00-59")
    moment = datetime(year, month, day, hour, minute, second)  # wall-clock; the zone is applied later
    return ScheduleExpression(kind="at", text=f"at({moment.isoformat()})", at=moment)


def _parse_rate(body: str) -> ScheduleExpression:
    parts = body.split()
    if len(parts) != 2:
        raise InvalidExpression(
            f"rate({body}): write rate(value unit), e.g. rate(5 minutes) or rate(1 hour); "
            "unit is minute(s), hour(s) or day(s)"
        )
    raw_value, raw_unit = parts
    unit = raw_unit.lower()
    if not raw_value.isdigit() or not raw_value.isascii():
        raise InvalidExpression(f"rate({body}): the value must be a positive whole number, got {raw_value!r}")
    value = int(raw_value)
    if value < 1:
        raise InvalidExpression(f"rate({body}): the value must be a positive whole number, got {value}")
    singular = unit.removesuffix("s")
    if singular not in _RATE_UNITS:
        raise InvalidExpression(
            f"rate({body}): the unit must be minute(s), hour(s) or day(s), got {raw_unit!r}"
        )
    if value == 1 and unit != singular:
        raise InvalidExpression(f"rate({body}): with a value of 1 the unit is singular: rate(1 {singular})")
    if value != 1 and unit == singular:
        raise InvalidExpression(
            f"rate({body}): with a value other than 1 the unit is plural: rate({value} {singular}s)"
        )
    try:
        interval = _RATE_UNITS[singular] * value
    except OverflowError:
        raise InvalidExpression(f"rate({body}): {value} {unit} is too long an interval") from None
    return ScheduleExpression(kind="rate", text=f"rate({value} {unit})", rate=interval)


def _parse_cron(body: str) -> ScheduleExpression:
    fields = body.upper().split()
    if len(fields) != 6:
        raise InvalidExpression(
            f"cron({body}): a cron expression has 6 fields, {_CRON_SYNTAX}, got {len(fields)}; "
            "e.g. cron(0 8 * * ? *) for 08:00 every day"
        )
    minutes_f, hours_f, dom_f, month_f, dow_f, year_f = fields
    spec = CronSpec(
        minutes=_values("minutes", minutes_f, 0, 59),
        hours=_values("hours", hours_f, 0, 23),
        day_of_month=_day_of_month(dom_f),
        months=_values("month", month_f, 1, 12, _MONTH_NAMES),
        day_of_week=_day_of_week(dow_f),
        years=_values("year", year_f, MIN_YEAR, MAX_YEAR),
    )
    any_dom = spec.day_of_month.mode == "any"
    any_dow = spec.day_of_week.mode == "any"
    if any_dom == any_dow:
        problem = "both are '?'" if any_dom else f"got {dom_f!r} and {dow_f!r}"
        raise InvalidExpression(
            f"cron({' '.join(fields)}): exactly one of day-of-month and day-of-week must be '?' ({problem}); "
            "e.g. cron(0 8 * * ? *) for every day, cron(0 8 ? * MON-FRI *) for weekdays"
        )
    return ScheduleExpression(kind="cron", text=f"cron({' '.join(fields)})", cron=spec)


def _error(name: str, message: str) -> InvalidExpression:
    return InvalidExpression(f"cron {name} field: {message}")


def _number(name: str, token: str, low: int, high: int, names: dict[str, int] | None = None) -> int:
    if names and token in names:
        return names[token]
    if not token.isdigit() or not token.isascii():
        allowed = f"{low}-{high}"
        if names:
            first, last = next(iter(names)), list(names)[-1]
            allowed += f" or {first}-{last}"
        raise _error(name, f"{token!r} is not a value ({allowed})")
    value = int(token)
    if not low <= value <= high:
        raise _error(name, f"{value} is out of range {low}-{high}")
    return value


def _values(
    name: str, text: str, low: int, high: int, names: dict[str, int] | None = None
) -> tuple[int, ...]:
    """A comma-separated list of ``*``, ``v``, ``a-b`` and ``x/step`` (x being ``*``, ``v`` or ``a-b``)."""
    if text == "?":
        raise _error(name, "'?' is only allowed in day-of-month or day-of-week")
    selected: set[int] = set()
    for item in text.split(","):
        if not item:
            raise _error(name, f"{text!r} has an empty list item")
        base, slash, raw_step = item.partition("/")
        step = 1
        if slash:
            if not raw_step.isdigit() or not raw_step.isascii() or int(raw_step) < 1:
                raise _error(name, f"{item!r}: the increment after '/' must be a positive whole number")
            step = int(raw_step)
            if step > high - low + 1:
                raise _error(
                    name, f"{item!r}: the increment {step} is larger than the field's range {low}-{high}"
                )
        if base == "*":
            start, stop = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            if not first or not last or "-" in last:
                raise _error(name, f"{item!r} is not a range (write a-b)")
            start, stop = _number(name, first, low, high, names), _number(name, last, low, high, names)
            if start > stop:
                raise _error(name, f"{item!r}: the range runs backwards ({first} is after {last})")
        elif not base:
            raise _error(name, f"{item!r}: write */{raw_step} or a value before '/'")
        else:
            start = _number(name, base, low, high, names)
            stop = high if slash else start
        selected.update(range(start, stop + 1, step))
    return tuple(sorted(selected))


def _day_of_month(text: str) -> DayOfMonth:
    name = "day-of-month"
    if text == "?":
        return DayOfMonth(mode="any")
    if text == "L":
        return DayOfMonth(mode="last")
    if text == "LW":
        return DayOfMonth(mode="last_weekday")
    if "L" in text or "W" in text:
        if text.endswith("W") and "," not in text and "L" not in text:
            day = _number(name, text[:-1], 1, 31) if text[:-1] else 0
            if day:
                return DayOfMonth(mode="nearest_weekday", day=day)
        raise _error(
            name,
            f"{text!r}: 'L', 'LW' and 'nW' (e.g. 15W) stand alone, not in lists, ranges or increments",
        )
    return DayOfMonth(mode="days", days=frozenset(_values(name, text, 1, 31)))


def _day_of_week(text: str) -> DayOfWeek:
    name = "day-of-week"
    if text == "?":
        return DayOfWeek(mode="any")
    if text == "L":
        return DayOfWeek(mode="days", days=frozenset({7}))
    if "#" in text:
        weekday_text, _, nth_text = text.partition("#")
        if "," in text or "-" in weekday_text or "/" in text or not weekday_text:
            raise _error(name, f"{text!r}: '#' takes one day and one number, e.g. MON#2 or 2#2, and no list")
        weekday = _number(name, weekday_text, 1, 7, _DAY_NAMES)
        if not nth_text.isdigit() or not nth_text.isascii() or not 1 <= int(nth_text) <= 5:
            raise _error(name, f"{text!r}: the number after '#' must be 1-5 (the nth such day of the month)")
        return DayOfWeek(mode="nth_in_month", weekday=weekday, nth=int(nth_text))
    if text.endswith("L"):
        weekday_text = text[:-1]
        if "," in weekday_text or "-" in weekday_text or "/" in weekday_text or "L" in weekday_text:
            raise _error(
                name, f"{text!r}: 'L' takes one day, e.g. 6L or FRIL for the last Friday, and no list"
            )
        return DayOfWeek(mode="last_in_month", weekday=_number(name, weekday_text, 1, 7, _DAY_NAMES))
    if "/" in text:
        raise _error(
            name, f"{text!r}: day-of-week does not allow '/' (use a list or range, e.g. MON,WED,FRI)"
        )
    if "L" in text:
        raise _error(name, f"{text!r}: 'L' stands alone or after one day (6L), not in a list or range")
    return DayOfWeek(mode="days", days=frozenset(_values(name, text, 1, 7, _DAY_NAMES)))


# ------------------------------------------------------------------------------------------ time zone


_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})


@lru_cache(maxsize=512)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def validate_timezone(tz: str) -> str:
    """Return ``tz`` if it names an IANA time zone (e.g. ``Europe/Amsterdam``, ``UTC``); raise
    `InvalidExpression` (field ``timezone``) otherwise."""
    hint = "use an IANA time zone name such as Europe/Amsterdam, America/New_York or UTC"
    if not isinstance(tz, str) or not tz:
        raise InvalidExpression(f"the time zone is missing: {hint}", field="timezone")
    if tz in _NOT_ZONES or tz.startswith(("posix/", "right/", "/")) or tz != tz.strip() or len(tz) > 64:
        raise InvalidExpression(f"unknown time zone {tz!r}: {hint}", field="timezone")
    try:
        _zone(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidExpression(f"unknown time zone {tz!r}: {hint}", field="timezone") from None
    return tz


# ----------------------------------------------------------------------------------------- next runs


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
    zone = _zone(validate_timezone(tz))
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
