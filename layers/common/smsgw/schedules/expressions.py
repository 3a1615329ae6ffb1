"""EventBridge Scheduler schedule expressions: parse and validate them and their time zone (the grammar).

Pure code (stdlib only; the IANA time zone data comes from the system or the `tzdata` package),
so the schedules service can answer 400 naming the field before it calls EventBridge Scheduler. When a
parsed expression runs next is `smsgw.schedules.evaluate`.

The three forms, exactly as EventBridge Scheduler defines them (docs/schedules.md has the rules and
examples):

- ``at(yyyy-mm-ddThh:mm:ss)``: once, at that wall-clock time in the schedule's time zone;
- ``rate(value unit)``: every ``value`` minutes/hours/days (singular unit only with 1), counted from
  the schedule's start date (or its creation);
- ``cron(minutes hours day-of-month month day-of-week year)``: wall-clock times in the schedule's
  time zone; day-of-week counts 1=SUN … 7=SAT; exactly one of day-of-month and day-of-week is ``?``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
    "parse_expression",
    "validate_timezone",
    "zone",
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
def zone(tz: str) -> ZoneInfo:
    """The time zone of a name `validate_timezone` accepted (cached)."""
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
        zone(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidExpression(f"unknown time zone {tz!r}: {hint}", field="timezone") from None
    return tz
