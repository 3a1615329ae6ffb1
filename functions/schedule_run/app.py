"""ScheduleRunFunction: a recurring schedule's run (from Scheduler via the run queue) → its messages."""

from typing import Any

from smsgw.observability import logger, metrics
from smsgw.schedules.service import process_runs


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_runs(event, context)
