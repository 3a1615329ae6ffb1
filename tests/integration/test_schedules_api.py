"""Recurring schedules: the /schedules API under moto (Scheduler, DynamoDB, SQS) and a run's messages
sent through dispatch to the real simulator. Moto's Scheduler never fires: a test puts what Scheduler
would deliver on the run queue, with `scheduled_time` filled in as Scheduler does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from tests.conftest import REGION, LambdaContext, api_event, drain_queue, load_handler, sqs_event
from tests.integration.test_dispatch import dispatch, sim_messages

GROUP = "smsgw-test"
# Two past runs, a day apart (a run's messages are due at its scheduled time).
_YESTERDAY = (datetime.now(UTC) - timedelta(days=2)).replace(hour=7, minute=0, second=0, microsecond=0)
RUN_1 = _YESTERDAY.strftime("%Y-%m-%dT%H:%M:%SZ")
RUN_2 = (_YESTERDAY + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
DAILY = {
    "name": "Daily digest",
    "recipients": [{"to": "447700900001", "name": "Ann"}, {"to": "+447700900002", "name": "Bob"}],
    "from": "ACME",
    "text": "Good morning {{name}}, your digest is ready",
    "schedule": "cron(0 8 * * ? *)",
    "timezone": "Europe/Amsterdam",
}


def call(
    account, method: str, path: str, body: Any = None, query: dict[str, str] | None = None
) -> tuple[int, Any]:
    handler = load_handler("messages" if path.startswith("/messages") else "schedules")
    event = api_event(method, path, json_body=body, query=query, account_id=account.account_id)
    response = handler.lambda_handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def scheduler_schedule(schedule_id: str) -> dict[str, Any]:
    return boto3.client("scheduler", region_name=REGION).get_schedule(
        Name=f"schedule-{schedule_id}", GroupName=GROUP
    )


def run_queue_url() -> str:
    return boto3.client("sqs", region_name=REGION).get_queue_url(QueueName="schedule-runs")["QueueUrl"]


def fire(schedule_id: str, scheduled_time: str) -> None:
    """What Scheduler delivers at a run: the target input with its context attribute filled in."""
    body = scheduler_schedule(schedule_id)["Target"]["Input"].replace(
        "<aws.scheduler.scheduled-time>", scheduled_time
    )
    boto3.client("sqs", region_name=REGION).send_message(QueueUrl=run_queue_url(), MessageBody=body)


def test_creating_a_schedule_mirrors_it_in_scheduler_and_shows_the_next_runs(aws, account):
    status, created = call(account, "POST", "/schedules", DAILY)
    assert status == 201, created
    assert created["state"] == "active"
    assert [r["to"] for r in created["recipients"]] == ["447700900001", "447700900002"]
    runs = [datetime.fromisoformat(run) for run in created["next_runs"]]
    assert len(runs) == 5
    assert all(run.astimezone(ZoneInfo("Europe/Amsterdam")).hour == 8 for run in runs)
    assert runs == sorted(runs)
    assert runs[0] > datetime.now(UTC)

    mirrored = scheduler_schedule(created["schedule_id"])
    assert mirrored["ScheduleExpression"] == "cron(0 8 * * ? *)"
    assert mirrored["ScheduleExpressionTimezone"] == "Europe/Amsterdam"
    assert mirrored["State"] == "ENABLED"
    assert mirrored["Target"]["Arn"].endswith(":schedule-runs")
    assert mirrored["Target"]["DeadLetterConfig"]["Arn"].endswith(":schedule-dlq")
    assert json.loads(mirrored["Target"]["Input"]) == {
        "schedule_id": created["schedule_id"],
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }

    assert (
        call(account, "GET", f"/schedules/{created['schedule_id']}")[1]["next_runs"] == created["next_runs"]
    )
    status, page = call(account, "GET", "/schedules")
    assert [s["schedule_id"] for s in page["schedules"]] == [created["schedule_id"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"schedule": "cron(0 8 * * *)"}, "schedule"),
        ({"schedule": "cron(0 25 * * ? *)"}, "schedule"),
        ({"schedule": "at(2030-01-01T08:00:00)"}, "schedule"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"recipients": []}, "recipients"),
        ({"recipients": ["447700900001", "0612345678"], "text": "Hi {{to}}"}, "recipients[1].to"),
        ({"recipients": ["447700900001", "+447700900001"], "text": "Hi"}, "recipients[1].to"),
        ({"recipients": [{"to": "447700900001"}]}, "recipients[0].name"),
        ({"text": ""}, "text"),
        ({"from": "NOT-ALLOWED"}, "from"),
        ({"name": "x" * 101}, "name"),
        ({"end": "2020-01-01T00:00:00Z"}, "end"),
        ({"start": "tomorrow"}, "start"),
        ({"paused": "yes"}, "paused"),
        ({"callback": "http://127.0.0.1/status"}, "callback"),
    ],
)
def test_a_bad_field_is_400_naming_it_and_nothing_is_created(aws, account, change, field):
    status, body = call(account, "POST", "/schedules", {**DAILY, **change})
    assert status == 400, body
    assert body["field"] == field, body
    assert aws.items("SCHEDULE#") == []
    assert boto3.client("scheduler", region_name=REGION).list_schedules(GroupName=GROUP)["Schedules"] == []


def test_an_unknown_field_is_refused_by_name(aws, account):
    status, body = call(account, "POST", "/schedules", {**DAILY, "cron": "cron(0 8 * * ? *)"})
    assert status == 400
    assert "cron" in json.dumps(body)


def test_a_run_sends_each_recipient_their_text_once_even_when_delivered_twice(aws, account, carrier_env):
    _, created = call(account, "POST", "/schedules", DAILY)
    schedule_id = created["schedule_id"]
    fire(schedule_id, RUN_1)
    fire(schedule_id, RUN_1)  # Scheduler delivers at least once
    drain_queue(run_queue_url(), "schedule_run")
    while (event := sqs_event(aws.send_queue_url))["Records"]:
        dispatch(event)
        for record in event["Records"]:
            boto3.client("sqs", region_name=REGION).delete_message(
                QueueUrl=aws.send_queue_url, ReceiptHandle=record["receiptHandle"]
            )

    texts = sorted((m["to"], m["text"]) for m in sim_messages(carrier_env))
    assert texts == [
        ("447700900001", "Good morning Ann, your digest is ready"),
        ("447700900002", "Good morning Bob, your digest is ready"),
    ]
    status, page = call(account, "GET", "/messages", query={"schedule_id": schedule_id})
    assert status == 200
    assert sorted(m["to"] for m in page["messages"]) == ["447700900001", "447700900002"]
    assert {m["status"] for m in page["messages"]} == {"submitted"}
    assert {m["send_at"] for m in page["messages"]} == {RUN_1.replace("Z", "+00:00")}
    assert call(account, "GET", f"/schedules/{schedule_id}")[1]["runs"] == 1

    # The next day's run is a new run: new messages.
    fire(schedule_id, RUN_2)
    drain_queue(run_queue_url(), "schedule_run")
    assert len(call(account, "GET", "/messages", query={"schedule_id": schedule_id})[1]["messages"]) == 4
    assert call(account, "GET", f"/schedules/{schedule_id}")[1]["runs"] == 2


def test_pausing_resuming_changing_and_deleting(aws, account):
    _, created = call(account, "POST", "/schedules", DAILY)
    schedule_id = created["schedule_id"]

    status, paused = call(account, "PATCH", f"/schedules/{schedule_id}", {"paused": True})
    assert status == 200, paused
    assert (paused["state"], paused["next_runs"]) == ("paused", [])
    assert scheduler_schedule(schedule_id)["State"] == "DISABLED"
    fire(schedule_id, RUN_1)  # a run already on its way when it was paused
    drain_queue(run_queue_url(), "schedule_run")
    assert call(account, "GET", "/messages", query={"schedule_id": schedule_id})[1]["messages"] == []

    status, changed = call(
        account,
        "PATCH",
        f"/schedules/{schedule_id}",
        {"paused": False, "schedule": "cron(30 7 ? * MON-FRI *)"},
    )
    assert status == 200, changed
    assert changed["state"] == "active"
    assert changed["text"] == DAILY["text"]  # untouched fields stay
    mirrored = scheduler_schedule(schedule_id)
    assert (mirrored["State"], mirrored["ScheduleExpression"]) == ("ENABLED", "cron(30 7 ? * MON-FRI *)")
    assert call(account, "PATCH", f"/schedules/{schedule_id}", {"timezone": "Nowhere/Town"})[0] == 400
    assert scheduler_schedule(schedule_id)["ScheduleExpressionTimezone"] == "Europe/Amsterdam"

    status, deleted = call(account, "DELETE", f"/schedules/{schedule_id}")
    assert (status, deleted["state"]) == (200, "deleted")
    assert call(account, "GET", f"/schedules/{schedule_id}")[0] == 404
    assert boto3.client("scheduler", region_name=REGION).list_schedules(GroupName=GROUP)["Schedules"] == []
    fire_body = json.dumps({"schedule_id": schedule_id, "scheduled_time": RUN_2})
    boto3.client("sqs", region_name=REGION).send_message(QueueUrl=run_queue_url(), MessageBody=fire_body)
    drain_queue(run_queue_url(), "schedule_run")  # a run after deletion creates nothing
    assert call(account, "GET", "/messages", query={"schedule_id": schedule_id})[1]["messages"] == []


def test_another_accounts_schedule_does_not_exist(aws, account):
    from smsgw.accounts import service as accounts

    _, created = call(account, "POST", "/schedules", DAILY)
    stranger = accounts.create_account("other", balance="1")
    for method, body in (("GET", None), ("PATCH", {"paused": True}), ("DELETE", None)):
        assert call(stranger, method, f"/schedules/{created['schedule_id']}", body)[0] == 404
    assert call(stranger, "GET", "/schedules")[1]["schedules"] == []


def test_a_rate_schedule_counts_from_its_start(aws, account):
    start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    status, created = call(
        account,
        "POST",
        "/schedules",
        {**DAILY, "schedule": "rate(2 hours)", "start": start.isoformat(), "timezone": "UTC"},
    )
    assert status == 201, created
    assert created["next_runs"][:2] == [start.isoformat(), (start + timedelta(hours=2)).isoformat()]
    assert scheduler_schedule(created["schedule_id"])["StartDate"].timestamp() == start.timestamp()

    status, cleared = call(account, "PATCH", f"/schedules/{created['schedule_id']}", {"start": None})
    assert status == 200, cleared
    assert cleared["start"] is None
    assert "StartDate" not in scheduler_schedule(created["schedule_id"])
