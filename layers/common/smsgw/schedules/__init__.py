"""Scheduled notifications: one-time `send_at` sends and recurring schedules on EventBridge Scheduler.

`expressions` parses and validates EventBridge Scheduler expressions (`at()`, `rate()`, `cron()`)
and time zones, and computes next run times the way EventBridge Scheduler evaluates them
(docs/schedules.md).
"""

from smsgw.schedules.expressions import (
    InvalidExpression,
    ScheduleExpression,
    next_runs,
    parse_expression,
    validate_timezone,
)

__all__ = [
    "InvalidExpression",
    "ScheduleExpression",
    "next_runs",
    "parse_expression",
    "validate_timezone",
]
