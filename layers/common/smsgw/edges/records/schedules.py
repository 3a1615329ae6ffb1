"""ScheduleRunFunction's record handler (an edge): a schedule-run queue record → `run_schedule`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from smsgw.core import clock
from smsgw.edges.sqs_batch import RecordInfo
from smsgw.observability import logger
from smsgw.schedules.run import run_schedule


def run_record(body: dict[str, Any], record: RecordInfo) -> str:
    """`{"schedule_id", "scheduled_time"}` from Scheduler: one run; a run that fails is retried by SQS
    (runs are idempotent). Without Scheduler's time, the run is the minute SQS received the record."""
    sent_at = datetime.fromtimestamp(record.sent_at or clock.now().timestamp(), UTC)
    try:
        outcome = run_schedule(body["schedule_id"], body.get("scheduled_time"), sent_at)
    except Exception:
        # Logged here with the schedule (the batch only reports the record); SQS retries the run.
        logger.exception(
            "schedule run failed; it will be retried", extra={"schedule_id": body.get("schedule_id")}
        )
        raise
    logger.info("schedule run", extra={"schedule_id": body["schedule_id"], "outcome": outcome})
    return outcome
