"""Cost and pumping limits on recurring schedules (issue 11 item 6): active schedules and recipients
per minute per account, a run the balance cannot pay for refused whole (one write, no messages), and a
schedule that keeps failing unpaid pauses itself and says why."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import drain_queue
from tests.integration.test_schedules_api import RUN_1, RUN_2, call, fire, run_queue_url, scheduler_schedule

DAILY = {
    "name": "daily",
    "from": "ACME",
    "text": "Hi",
    "schedule": "cron(0 8 * * ? *)",
    "recipients": ["447700900001"],
}


def recipients(count: int, first: int = 0) -> list[str]:
    return [f"4477009{n:05d}" for n in range(first, first + count)]


def every_minute(count: int, first: int = 0) -> dict[str, Any]:
    return {**DAILY, "schedule": "rate(1 minute)", "recipients": recipients(count, first)}


def set_balance(aws, account_id: str, amount: str) -> None:
    aws.table.update_item(
        Key={"pk": f"ACCOUNT#{account_id}", "sk": "ACCOUNT"},
        UpdateExpression="SET balance = :b",
        ExpressionAttributeValues={":b": Decimal(amount)},
    )


def run(schedule_id: str, when: str) -> None:
    fire(schedule_id, when)
    drain_queue(run_queue_url(), "schedule_run")


def test_an_account_may_have_20_active_schedules(aws, account):
    for n in range(20):
        status, body = call(account, "POST", "/schedules", {**DAILY, "name": f"s{n}"})
        assert status == 201, body
    status, body = call(account, "POST", "/schedules", DAILY)
    assert status == 409
    assert body["field"] == "paused"
    assert "20 active schedules" in body["error"]
    assert len(aws.items("SCHEDULE#")) == 20
    # Paused, it may be kept; resuming it is checked like creating it.
    status, paused = call(account, "POST", "/schedules", {**DAILY, "paused": True})
    assert status == 201
    status, body = call(account, "PATCH", f"/schedules/{paused['schedule_id']}", {"paused": False})
    assert status == 409
    assert body["field"] == "paused"
    assert scheduler_schedule(paused["schedule_id"])["State"] == "DISABLED"
    assert call(account, "GET", f"/schedules/{paused['schedule_id']}")[1]["state"] == "paused"


def test_recipients_per_minute_across_schedules_are_limited(aws, account):
    # A daily schedule of 500 is 0.35 a minute; two every minute of 499 and 500 bring it to 999.35.
    status, daily = call(account, "POST", "/schedules", {**DAILY, "recipients": recipients(500, 2000)})
    assert status == 201
    assert call(account, "POST", "/schedules", every_minute(499))[0] == 201
    assert call(account, "POST", "/schedules", every_minute(500, 500))[0] == 201
    status, body = call(account, "POST", "/schedules", every_minute(1, 1000))
    assert status == 409
    assert body["field"] == "recipients"
    assert "per minute" in body["error"]
    assert "1,000" in body["error"]
    assert len(aws.items("SCHEDULE#")) == 3
    # Making the daily one run every minute is refused too, and changes nothing.
    status, body = call(
        account, "PATCH", f"/schedules/{daily['schedule_id']}", {"schedule": "rate(1 minute)"}
    )
    assert status == 409
    assert body["field"] == "recipients"
    assert call(account, "GET", f"/schedules/{daily['schedule_id']}")[1]["schedule"] == "cron(0 8 * * ? *)"


def test_a_run_the_balance_cannot_pay_for_creates_nothing_and_pauses_the_schedule(aws, account):
    set_balance(aws, account.account_id, "0")
    status, created = call(account, "POST", "/schedules", {**DAILY, "recipients": recipients(300)})
    assert status == 201
    run(created["schedule_id"], RUN_1)
    assert aws.items("MSG#") == []  # not 300 messages, nor 300 failures
    assert aws.queued_bodies() == []
    status, shown = call(account, "GET", f"/schedules/{created['schedule_id']}")
    assert shown["state"] == "paused"
    assert "balance" in shown["paused_reason"]
    assert "top up" in shown["paused_reason"]
    assert shown["paused_at"]
    assert shown["skipped_runs"] == 1
    assert shown["runs"] == 0
    assert scheduler_schedule(created["schedule_id"])["State"] == "DISABLED"


def test_pausing_after_several_unpaid_runs_and_resuming(aws, account, monkeypatch):
    from smsgw.core.memo import forget_all

    monkeypatch.setenv("SCHEDULE_PAUSE_AFTER_UNPAID_RUNS", "2")
    forget_all()
    set_balance(aws, account.account_id, "0.01")  # less than one message
    status, created = call(account, "POST", "/schedules", {**DAILY, "recipients": recipients(2)})
    schedule_id = created["schedule_id"]
    run(schedule_id, RUN_1)
    shown = call(account, "GET", f"/schedules/{schedule_id}")[1]
    assert (shown["state"], shown["skipped_runs"]) == ("active", 1)
    assert "does not cover" in shown["last_skipped_reason"]
    run(schedule_id, RUN_1)  # the same run delivered again counts once
    assert call(account, "GET", f"/schedules/{schedule_id}")[1]["skipped_runs"] == 1
    run(schedule_id, RUN_2)
    shown = call(account, "GET", f"/schedules/{schedule_id}")[1]
    assert (shown["state"], shown["skipped_runs"]) == ("paused", 2)
    assert "2 runs in a row" in shown["paused_reason"]
    assert aws.items("MSG#") == []

    # Topped up and resumed, it runs again and the reason is gone.
    set_balance(aws, account.account_id, "10")
    status, resumed = call(account, "PATCH", f"/schedules/{schedule_id}", {"paused": False})
    assert status == 200, resumed
    assert (resumed["state"], resumed["paused_reason"]) == ("active", None)
    assert scheduler_schedule(schedule_id)["State"] == "ENABLED"
    run(schedule_id, "2099-01-01T07:00:00Z")
    assert len(aws.items("MSG#")) == 2


def test_a_disabled_account_s_run_is_refused_and_says_so(aws, account):
    from smsgw.accounts import service

    _, created = call(account, "POST", "/schedules", DAILY)
    service.set_disabled(account.account_id, True)
    run(created["schedule_id"], RUN_1)
    assert aws.items("MSG#") == []
    item = aws.table.get_item(Key={"pk": f"SCHEDULE#{created['schedule_id']}", "sk": "SCHEDULE"})["Item"]
    assert item["paused"] is True
    assert "disabled" in item["paused_reason"]


def test_a_run_delivered_again_after_its_messages_were_stored_is_not_refused(aws, account):
    _, created = call(account, "POST", "/schedules", {**DAILY, "recipients": recipients(3)})
    run(created["schedule_id"], RUN_1)
    assert len(aws.items("MSG#")) == 3
    assert len(aws.queued_bodies()) == 3
    set_balance(aws, account.account_id, "0")  # spent meanwhile: dispatch decides per message
    run(created["schedule_id"], RUN_1)
    assert len(aws.queued_bodies()) == 3  # handed to dispatch again, as before
    shown = call(account, "GET", f"/schedules/{created['schedule_id']}")[1]
    assert (shown["state"], shown["skipped_runs"]) == ("active", 0)


@pytest.mark.parametrize(
    ("expression", "pace"),
    [("rate(1 minute)", 10.0), ("rate(5 minutes)", 2.0), ("cron(0/15 9-17 ? * MON-FRI *)", 10 / 15)],
)
def test_a_schedules_pace_is_its_recipients_over_the_shortest_gap(expression, pace):
    from datetime import UTC, datetime

    from smsgw.schedules.service import recipients_per_minute

    now = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    schedule = {
        "schedule": expression,
        "timezone": "UTC",
        "recipients": recipients(10),
        "created_at": now.isoformat(),
    }
    assert recipients_per_minute(schedule, now) == pytest.approx(pace)
