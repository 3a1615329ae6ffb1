"""One-time scheduled sends (`send_at`), quiet hours and cancelling, under moto with the real simulator.

Moto's EventBridge Scheduler stores schedules but never fires them: a test "fires" one by putting the
schedule's target input on the send queue, exactly what Scheduler would deliver.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from smsgw.core.memo import forget_all
from tests.conftest import REGION, LambdaContext, api_event, load_handler, sqs_event
from tests.integration.test_dispatch import dispatch, message, sim_messages
from tests.integration.test_status_callbacks import deliver_webhooks

GROUP = "smsgw-test"


def send(account, *, path: str = "/communication/nexmo/sms/send", **form: str) -> dict[str, Any]:
    handler = load_handler("send")
    event = api_event(
        "POST",
        path,
        form={"from": "ACME", "to": "447700900000", "text": "Hi", **form},
        account_id=account.account_id,
    )
    return handler.lambda_handler(event, LambdaContext())


def in_(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


def scheduler() -> Any:
    return boto3.client("scheduler", region_name=REGION)


def schedules() -> list[str]:
    return [s["Name"] for s in scheduler().list_schedules(GroupName=GROUP)["Schedules"]]


def fire(name: str) -> None:
    """What Scheduler does at the schedule's time: its target input onto the target queue."""
    target = scheduler().get_schedule(Name=name, GroupName=GROUP)["Target"]
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=target["Arn"].rsplit(":", 1)[1])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=target["Input"])


def balance(aws, account) -> Decimal:
    return aws.table.get_item(Key={"pk": f"ACCOUNT#{account.account_id}", "sk": "ACCOUNT"})["Item"]["balance"]


def cancel(account, message_id: str) -> dict[str, Any]:
    event = api_event("DELETE", f"/messages/{message_id}", account_id=account.account_id)
    return load_handler("messages").lambda_handler(event, LambdaContext())


def test_send_at_answers_202_stores_the_message_scheduled_and_creates_a_one_time_schedule(aws, account):
    send_at = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    response = send(account, **{"send-at": send_at.astimezone().isoformat()})

    assert response["statusCode"] == 202, response["body"]
    [part] = json.loads(response["body"])["messages"]
    assert (part["status"], part["message-status"], part["send-at"]) == (
        "0",
        "scheduled",
        send_at.isoformat(),
    )
    assert part["remaining-balance"] == "10.00000000"  # nothing charged yet
    stored = message(aws, part["message-id"])
    assert (stored["status"], stored["send_at"]) == ("scheduled", send_at.isoformat())
    assert balance(aws, account) == Decimal("10")
    assert sqs_event(aws.send_queue_url)["Records"] == []  # nothing handed to dispatch yet

    schedule = scheduler().get_schedule(Name=f"send-{part['message-id']}", GroupName=GROUP)
    assert schedule["ScheduleExpression"] == f"at({send_at:%Y-%m-%dT%H:%M:%S})"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = schedule["Target"]
    assert target["Arn"].endswith(":send")
    assert target["RoleArn"].endswith("role/smsgw-scheduler")
    assert target["DeadLetterConfig"]["Arn"].endswith(":schedule-dlq")
    assert json.loads(target["Input"]) == {"message_id": part["message-id"]}


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("send_at", "2026-01-01T08:00:00", "offset"),
        ("send-at", "next tuesday", "ISO 8601"),
        ("send_at", "2020-01-01T08:00:00Z", "in the past"),
        ("send-at", "2099-01-01T08:00:00Z", "more than 365 days ahead"),
    ],
)
def test_a_bad_send_at_is_400_naming_the_field_and_nothing_is_stored(aws, account, field, value, error):
    response = send(account, **{field: value})
    assert response["statusCode"] == 400
    [element] = json.loads(response["body"])["messages"]
    assert element["field"] == field
    assert error in element["error-text"]
    assert aws.items("MSG#") == []
    assert schedules() == []


def test_send_at_in_a_json_body_and_on_sms_json(aws, account):
    handler = load_handler("send")
    event = api_event(
        "POST",
        "/communication/nexmo/sms/send",
        json_body={"from": "ACME", "to": "447700900000", "text": "Hi", "send_at": in_(600)},
        account_id=account.account_id,
    )
    assert handler.lambda_handler(event, LambdaContext())["statusCode"] == 202

    sms_json = load_handler("sms_json")
    form = {
        "api_key": account.api_key,
        "api_secret": account.api_secret,
        "from": "ACME",
        "to": "447700900000",
    }
    event = api_event("POST", "/sms/json", form={**form, "text": "Hi", "send-at": in_(600)})
    response = sms_json.lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 202, response["body"]
    assert json.loads(response["body"])["messages"][0]["message-status"] == "scheduled"
    assert len(schedules()) == 2


def test_a_balance_too_low_is_refused_when_scheduling(aws, account):
    aws.table.update_item(
        Key={"pk": f"ACCOUNT#{account.account_id}", "sk": "ACCOUNT"},
        UpdateExpression="SET balance = :b",
        ExpressionAttributeValues={":b": Decimal("0.01")},
    )
    response = send(account, **{"send-at": in_(600)})
    assert response["statusCode"] == 200
    [element] = json.loads(response["body"])["messages"]
    assert element["status"] == "9"
    assert "charged when it is sent" in element["error-text"]
    assert aws.items("MSG#") == []
    assert schedules() == []


def test_at_its_time_the_message_is_charged_and_sent_once(aws, account, carrier_env):
    response = send(account, text="Your appointment is at 10:00", **{"send_at": in_(30)})
    message_id = json.loads(response["body"])["messages"][0]["message-id"]
    name = f"send-{message_id}"

    fire(name)
    fire(name)  # Scheduler delivers at least once: a second delivery sends nothing
    event = sqs_event(aws.send_queue_url)
    # Early by the scheduler's clock (30 s ahead): re-queued for its time, not sent.
    assert dispatch(event) == {"batchItemFailures": []}
    assert sim_messages(carrier_env) == []
    assert message(aws, message_id)["status"] == "scheduled"

    aws.table.update_item(
        Key={"pk": f"MSG#{message_id}", "sk": "MSG"},
        UpdateExpression="SET send_at = :now",
        ExpressionAttributeValues={":now": datetime.now(UTC).isoformat(timespec="seconds")},
    )
    boto3.client("sqs", region_name=REGION).purge_queue(QueueUrl=aws.send_queue_url)
    fire(name)
    fire(name)
    assert dispatch(sqs_event(aws.send_queue_url)) == {"batchItemFailures": []}
    [received] = sim_messages(carrier_env)
    assert received["text"] == "Your appointment is at 10:00"
    stored = message(aws, message_id)
    assert stored["status"] == "submitted"
    assert [e["status"] for e in stored["events"]] == ["scheduled", "queued", "submitted"]
    assert balance(aws, account) == Decimal("10") - stored["price"]


def test_a_message_that_cannot_be_paid_at_its_time_fails_with_a_reason_and_a_callback(
    aws, carrier_env, callbacks_allowed, receiver
):
    from smsgw.accounts import service as accounts

    account = accounts.create_account("late", balance="1", senders=[], status_url=receiver.url)
    response = send(account, **{"send_at": datetime.now(UTC).isoformat()})
    assert response["statusCode"] == 200  # within the grace: sent now, not scheduled
    response = send(account, **{"send_at": in_(3600)})
    message_id = json.loads(response["body"])["messages"][0]["message-id"]
    aws.table.update_item(
        Key={"pk": f"ACCOUNT#{account.account_id}", "sk": "ACCOUNT"},
        UpdateExpression="SET balance = :zero",
        ExpressionAttributeValues={":zero": Decimal("0")},
    )
    aws.table.update_item(
        Key={"pk": f"MSG#{message_id}", "sk": "MSG"},
        UpdateExpression="SET send_at = :now",
        ExpressionAttributeValues={":now": datetime.now(UTC).isoformat(timespec="seconds")},
    )
    boto3.client("sqs", region_name=REGION).purge_queue(QueueUrl=aws.send_queue_url)
    fire(f"send-{message_id}")
    dispatch(sqs_event(aws.send_queue_url))

    stored = message(aws, message_id)
    assert stored["status"] == "failed"
    assert stored["last_error"].startswith("insufficient balance at the send time")
    assert balance(aws, account) == Decimal("0")
    assert sim_messages(carrier_env) == []
    deliver_webhooks(aws)
    statuses = [(json.loads(r.body)["message_id"], json.loads(r.body)["status"]) for r in receiver.requests]
    assert (message_id, "failed") in statuses


def test_cancelling_a_scheduled_message_deletes_its_schedule_and_nothing_is_sent(aws, account, carrier_env):
    response = send(account, **{"send_at": in_(3600)})
    message_id = json.loads(response["body"])["messages"][0]["message-id"]
    name = f"send-{message_id}"
    target_input = scheduler().get_schedule(Name=name, GroupName=GROUP)["Target"]["Input"]

    cancelled = cancel(account, message_id)
    assert cancelled["statusCode"] == 200, cancelled["body"]
    assert json.loads(cancelled["body"])["status"] == "cancelled"
    assert schedules() == []
    assert cancel(account, message_id)["statusCode"] == 200  # cancelling twice answers the same

    # A run already on its way when it was cancelled sends nothing and charges nothing.
    boto3.client("sqs", region_name=REGION).send_message(
        QueueUrl=aws.send_queue_url, MessageBody=target_input
    )
    dispatch(sqs_event(aws.send_queue_url))
    assert sim_messages(carrier_env) == []
    assert message(aws, message_id)["status"] == "cancelled"
    assert balance(aws, account) == Decimal("10")


def test_a_message_already_sent_cannot_be_cancelled_and_others_messages_do_not_exist(aws, account):
    from smsgw.accounts import service as accounts

    response = send(account)
    message_id = json.loads(response["body"])["messages"][0]["message-id"]
    conflict = cancel(account, message_id)
    assert conflict["statusCode"] == 409
    assert "queued, not scheduled" in json.loads(conflict["body"])["error"]

    scheduled = json.loads(send(account, **{"send_at": in_(3600)})["body"])["messages"][0]["message-id"]
    stranger = accounts.create_account("other", balance="1")
    assert cancel(stranger, scheduled)["statusCode"] == 404
    assert message(aws, scheduled)["status"] == "scheduled"


def test_quiet_hours_hold_a_send_until_the_window_ends_unless_urgent(aws, account):
    from smsgw.accounts import service as accounts

    london = datetime.now(ZoneInfo("Europe/London"))  # the recipient 447700900000's time zone
    start, end = (
        (london - timedelta(hours=1)).strftime("%H:%M"),
        (london + timedelta(hours=2)).strftime("%H:%M"),
    )
    accounts.set_quiet_hours(account.account_id, start, end)
    forget_all()

    response = send(account)
    assert response["statusCode"] == 202
    [part] = json.loads(response["body"])["messages"]
    released = datetime.fromisoformat(part["send-at"]).astimezone(ZoneInfo("Europe/London"))
    assert released.strftime("%H:%M") == end
    assert timedelta(hours=1) < released - london <= timedelta(hours=2)
    stored = message(aws, part["message-id"])
    assert (stored["status"], stored["held_for"]) == ("scheduled", "quiet_hours")
    assert schedules() == [f"send-{part['message-id']}"]

    urgent = send(account, urgent="true")
    assert urgent["statusCode"] == 200
    assert "message-status" not in json.loads(urgent["body"])["messages"][0]
    assert send(account, urgent="maybe")["statusCode"] == 400

    accounts.set_quiet_hours(account.account_id, None, None)
    forget_all()
    assert send(account)["statusCode"] == 200
