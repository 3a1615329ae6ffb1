"""A run's identity: its time (from Scheduler, or the minute it was queued) and its messages' ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ulid import ULID

from smsgw.schedules.run import run_message_id, run_time
from smsgw.schedules.validation import render

QUEUED = datetime(2026, 11, 25, 8, 0, 41, 123_000, tzinfo=UTC)


def test_the_run_time_is_schedulers_when_it_gives_one() -> None:
    assert run_time("2026-11-25T07:00:00Z", QUEUED) == datetime(2026, 11, 25, 7, tzinfo=UTC)
    assert run_time("2026-11-25T08:00:00+01:00", QUEUED) == datetime(2026, 11, 25, 7, tzinfo=UTC)


@pytest.mark.parametrize("given", [None, "", "<aws.scheduler.scheduled-time>", "2026-11-25T07:00:00"])
def test_without_a_usable_time_the_run_is_the_minute_it_was_queued(given: str | None) -> None:
    assert run_time(given, QUEUED) == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_a_message_id_is_the_same_for_the_same_run_and_recipient_only() -> None:
    run = datetime(2026, 11, 25, 7, tzinfo=UTC)
    first = run_message_id("S1", run, "447700900001")
    assert first == run_message_id("S1", run, "447700900001")
    others = {
        run_message_id("S2", run, "447700900001"),
        run_message_id("S1", run.replace(hour=8), "447700900001"),
        run_message_id("S1", run, "447700900002"),
    }
    assert first not in others
    assert len(others) == 3
    assert ULID.from_str(first).datetime == run  # sorts by the run's time


def test_placeholders_are_filled_per_recipient() -> None:
    assert render("Hi {{name}}, {{ to }}!", {"to": "4477", "name": "Ann"}) == "Hi Ann, 4477!"
    assert render("No placeholders {name}", {"to": "1"}) == "No placeholders {name}"
    with pytest.raises(KeyError):
        render("Hi {{name}}", {"to": "1"})
