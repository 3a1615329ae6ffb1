"""EventBridge Scheduler: the only code that creates, changes or deletes schedules.

Every schedule lives in the stage's schedule group and targets one of our SQS queues through the
role Scheduler assumes (template: SchedulerRole). A target that keeps refusing lands the run in the
schedule dead-letter queue, so nothing is lost silently.

- one-time sends: `at(...)` in UTC, deleted by Scheduler after it ran (ActionAfterCompletion DELETE),
  target the send queue with `{"message_id": …}`;
- recurring schedules: cron/rate in the schedule's time zone, target the schedule-run queue with
  `{"schedule_id": …, "scheduled_time": "<aws.scheduler.scheduled-time>"}`: Scheduler fills in the
  run's time, which makes every run's messages idempotent (see schedules/run.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from smsgw import db
from smsgw.config import get_settings

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
# Scheduler retries a run the target refuses for up to a day (its maximum), then dead-letters it.
_RETRY_POLICY = {"MaximumEventAgeInSeconds": 86_400, "MaximumRetryAttempts": 185}


def one_time_name(message_id: str) -> str:
    return f"send-{message_id}"


def recurring_name(schedule_id: str) -> str:
    return f"schedule-{schedule_id}"


def _target(queue_arn: str, payload: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    target: dict[str, Any] = {
        "Arn": queue_arn,
        "RoleArn": settings.scheduler_role_arn,
        "Input": json.dumps(payload),
        "RetryPolicy": _RETRY_POLICY,
    }
    if settings.schedule_dead_letter_queue_arn:
        target["DeadLetterConfig"] = {"Arn": settings.schedule_dead_letter_queue_arn}
    return target


def create_one_time(message_id: str, at: datetime) -> None:
    """Hand `message_id` to the send queue at `at` (whole seconds, UTC); the schedule deletes itself."""
    settings = get_settings()
    name = one_time_name(message_id)
    db.scheduler().create_schedule(
        Name=name,
        GroupName=settings.schedule_group_name,
        ScheduleExpression=f"at({at.astimezone(UTC):%Y-%m-%dT%H:%M:%S})",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target=_target(settings.send_queue_arn, {"message_id": message_id}),
        ClientToken=name,
        Description="smsgw: one scheduled message",
    )


def put_recurring(
    schedule_id: str,
    *,
    expression: str,
    timezone: str,
    start: datetime | None,
    end: datetime | None,
    enabled: bool,
    create: bool,
) -> None:
    """Create (or replace, with `create=False`) the Scheduler schedule behind a recurring schedule."""
    settings = get_settings()
    request: dict[str, Any] = {
        "Name": recurring_name(schedule_id),
        "GroupName": settings.schedule_group_name,
        "ScheduleExpression": expression,
        "ScheduleExpressionTimezone": timezone,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED" if enabled else "DISABLED",
        "Target": _target(
            settings.schedule_run_queue_arn, {"schedule_id": schedule_id, "scheduled_time": SCHEDULED_TIME}
        ),
        "Description": "smsgw: a recurring schedule",
    }
    if start is not None:
        request["StartDate"] = start
    if end is not None:
        request["EndDate"] = end
    if create:
        db.scheduler().create_schedule(**request, ClientToken=request["Name"])
    else:
        db.scheduler().update_schedule(**request)


def delete(name: str) -> bool:
    """Delete a schedule; False when it is already gone (it ran, or was deleted before)."""
    try:
        db.scheduler().delete_schedule(Name=name, GroupName=get_settings().schedule_group_name)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise
    return True
