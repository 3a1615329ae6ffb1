"""Scheduled notifications: one-time `send_at` sends and recurring schedules on EventBridge Scheduler.

Modules: `expressions` (below), `scheduler` (EventBridge Scheduler calls), `service`/`repository`/`api`
(recurring schedules). Import them directly: this package imports nothing, so the send path stays light.
`expressions` parses and validates EventBridge Scheduler expressions (`at()`, `rate()`, `cron()`)
and time zones, and computes next run times the way EventBridge Scheduler evaluates them
(docs/schedules.md).
"""
