"""`send_at` / `send-at`: ISO 8601 with an offset, not in the past (beyond the grace), within the horizon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smsgw.core.errors import InvalidField
from smsgw.messages.send_at import parse_send_at, pop_send_at

NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)


def parse(value: str, field: str = "send_at") -> datetime:
    return parse_send_at(field, value, NOW, horizon_days=365, grace_seconds=60)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-25T12:00:00Z", datetime(2026, 11, 25, 12, tzinfo=UTC)),
        ("2026-11-25T12:00:00+01:00", datetime(2026, 11, 25, 11, tzinfo=UTC)),
        ("2026-11-25T12:00:00.250-05:00", datetime(2026, 11, 25, 17, 0, 0, 250_000, tzinfo=UTC)),
        ("2026-11-25 12:00:00+00:00", datetime(2026, 11, 25, 12, tzinfo=UTC)),
        # a form body's unencoded "+" arrives as a space
        ("2026-11-25T12:00:00 01:00", datetime(2026, 11, 25, 11, tzinfo=UTC)),
    ],
)
def test_an_offset_time_is_read_as_that_moment_in_utc(value: str, expected: datetime) -> None:
    assert parse(value) == expected


@pytest.mark.parametrize(
    "value", ["2026-11-25T12:00:00", "2026-11-25", "tomorrow", "2026-13-01T00:00:00Z", "12:00Z"]
)
def test_a_time_without_an_offset_or_not_a_date_time_is_refused_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse(value, field="send-at")
    assert caught.value.field == "send-at"
    assert "send-at" in caught.value.message


def test_a_moment_in_the_past_beyond_the_grace_is_refused() -> None:
    with pytest.raises(InvalidField, match="in the past") as caught:
        parse((NOW - timedelta(seconds=61)).isoformat())
    assert caught.value.field == "send_at"


def test_a_moment_just_past_within_the_grace_is_accepted() -> None:
    assert parse((NOW - timedelta(seconds=59)).isoformat()) == NOW - timedelta(seconds=59)


def test_the_horizon_is_the_limit_inclusive() -> None:
    assert parse((NOW + timedelta(days=365)).isoformat()) == NOW + timedelta(days=365)
    with pytest.raises(InvalidField, match="more than 365 days ahead"):
        parse((NOW + timedelta(days=365, seconds=1)).isoformat())


def test_pop_takes_either_spelling_out_of_the_fields() -> None:
    fields = {"to": "31612345678", "send-at": "2026-11-25T12:00:00Z"}
    assert pop_send_at(fields) == ("send-at", "2026-11-25T12:00:00Z")
    assert fields == {"to": "31612345678"}
    assert pop_send_at({"send_at": ""}) is None
    with pytest.raises(InvalidField, match="not both"):
        pop_send_at({"send_at": "x", "send-at": "y"})
