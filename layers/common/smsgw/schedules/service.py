"""Recurring schedules: create, read, change, pause/resume, delete.

A schedule is stored here and mirrored as one EventBridge Scheduler schedule (smsgw.scheduler)
that puts `{"schedule_id", "scheduled_time"}` on the schedule-run queue at every run; a run turns every
recipient into an ordinary message (`smsgw.schedules.run`).

Every field is checked before anything is written (`smsgw.schedules.validation`); a bad one is a 400
naming it (`recipients[2].to`, `schedule`, `timezone`, …). An active schedule must fit the account's
limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from itertools import pairwise
from typing import Any

from ulid import ULID

from smsgw import keys, scheduler
from smsgw.accounts.models import Account
from smsgw.config import get_settings
from smsgw.core import clock
from smsgw.core.errors import BadRequest, Conflict, LimitReached, NotFound, ServiceUnavailable
from smsgw.observability import logger, metrics
from smsgw.pagination import check_limit, decode_cursor, encode_cursor
from smsgw.schedules import repository
from smsgw.schedules.evaluate import next_runs
from smsgw.schedules.expressions import parse_expression
from smsgw.schedules.validation import checked, iso
from smsgw.schedules.views import SchedulePage, ScheduleView

FIELDS = (
    "name",
    "recipients",
    "from",
    "text",
    "type",
    "schedule",
    "timezone",
    "start",
    "end",
    "callback",
    "paused",
)
CLEARABLE = ("start", "end", "callback")
NEXT_RUNS = 5
# The fields that change how many messages a schedule sends (a change to them is checked against the limits).
LOAD_FIELDS = ("recipients", "schedule", "timezone", "start", "end", "paused")
# A schedule's pace is its recipients over the shortest time between its next this-many runs.
PACE_SAMPLE_RUNS = 50


# --- limits per account ---------------------------------------------------------------------------


def _active(schedule: Mapping[str, Any], now: datetime) -> bool:
    end = datetime.fromisoformat(schedule["end"]) if schedule.get("end") else None
    return not schedule["paused"] and (end is None or end > now)


def recipients_per_minute(schedule: Mapping[str, Any], now: datetime) -> float:
    """The schedule's pace: its recipients divided by the shortest time between its next runs (in
    minutes, at least one): a rate(1 minute) schedule of 500 → 500, a daily one → 0.35. A schedule with
    fewer than two runs left → 0."""
    expression = parse_expression(schedule["schedule"])
    start = datetime.fromisoformat(schedule["start"]) if schedule.get("start") else None
    end = datetime.fromisoformat(schedule["end"]) if schedule.get("end") else None
    anchor = start or datetime.fromisoformat(schedule.get("created_at") or iso(now))
    runs = next_runs(expression, schedule["timezone"], now, PACE_SAMPLE_RUNS, anchor, end)
    if len(runs) < 2:
        return 0.0
    shortest = min((later - earlier).total_seconds() for earlier, later in pairwise(runs))
    return len(schedule["recipients"]) / max(shortest / 60, 1.0)


def _check_limits(account_id: str, schedule: Mapping[str, Any], now: datetime) -> None:
    """An active schedule must fit the account's limits (SCHEDULE_MAX_ACTIVE active schedules,
    SCHEDULE_MAX_RECIPIENTS_PER_MINUTE across them): 409 naming the field to change, nothing written."""
    if not _active(schedule, now):
        return
    settings = get_settings()
    stored, more = repository.account_schedules(account_id)
    if more:
        raise LimitReached(
            "this account has too many schedules to check its limits; delete the ones it no longer needs",
            "paused",
        )
    others = [s for s in stored if s["schedule_id"] != schedule["schedule_id"] and _active(s, now)]
    if len(others) >= settings.schedule_max_active:
        raise LimitReached(
            f"this account already has {len(others)} active schedules, the most allowed "
            f"({settings.schedule_max_active}): pause or delete one first, or save this one with paused: true",
            "paused",
        )
    pace = recipients_per_minute(schedule, now)
    total = pace + sum(recipients_per_minute(other, now) for other in others)
    limit = settings.schedule_max_recipients_per_minute
    if total > limit:
        together = f"; with the account's other active schedules {total:,.0f}" if others else ""
        raise LimitReached(
            f"this schedule sends to {pace:,.0f} recipients per minute (recipients ÷ minutes between runs)"
            f"{together}, over the account's limit of {limit:,} per minute: use fewer recipients or a longer "
            "interval between runs, or pause another schedule",
            "recipients",
        )


def _check_size(item: dict[str, Any]) -> None:
    """A schedule must fit in one DynamoDB item (400 KB): checked before anything is written or
    mirrored; the 400 names the field that takes the most room."""
    size = repository.item_bytes(item)
    if size <= repository.MAX_SCHEDULE_BYTES:
        return
    field = max(FIELDS, key=lambda name: repository.item_bytes({name: item.get(name)}))
    raise BadRequest(
        f"the schedule would take {size // 1024} KB, of which {field} "
        f"{repository.item_bytes({field: item.get(field)}) // 1024} KB; a schedule is stored as one item of "
        f"at most 400 KB: use fewer {field} or shorter values, or split it into several schedules",
        field,
    )


def mirror(schedule: dict[str, Any], *, create: bool) -> None:
    scheduler.put_recurring(
        schedule["schedule_id"],
        expression=schedule["schedule"],
        timezone=schedule["timezone"],
        start=datetime.fromisoformat(schedule["start"]) if schedule.get("start") else None,
        end=datetime.fromisoformat(schedule["end"]) if schedule.get("end") else None,
        enabled=not schedule["paused"],
        create=create,
    )


# --- the API -------------------------------------------------------------------------------------


def view(schedule: dict[str, Any], now: datetime | None = None) -> ScheduleView:
    now = now or clock.now()
    end = datetime.fromisoformat(schedule["end"]) if schedule.get("end") else None
    start = datetime.fromisoformat(schedule["start"]) if schedule.get("start") else None
    state = "paused" if schedule["paused"] else "ended" if end is not None and end <= now else "active"
    runs: list[datetime] = []
    if state == "active":
        expression = parse_expression(schedule["schedule"])
        # A rate() without a start date counts from the schedule's creation, as Scheduler does.
        anchor = start or datetime.fromisoformat(schedule["created_at"])
        runs = next_runs(expression, schedule["timezone"], now, NEXT_RUNS, anchor, end)
    return ScheduleView(
        schedule_id=schedule["schedule_id"],
        name=schedule["name"],
        state=state,
        recipients=schedule["recipients"],
        from_=schedule["from"],
        text=schedule["text"],
        type=schedule["type"],
        schedule=schedule["schedule"],
        timezone=schedule["timezone"],
        start=schedule.get("start"),
        end=schedule.get("end"),
        callback=schedule.get("callback"),
        next_runs=[iso(run) for run in runs],
        last_run_at=schedule.get("last_run_at"),
        runs=int(schedule.get("runs", 0)),
        paused_reason=schedule.get("paused_reason") if schedule["paused"] else None,
        paused_at=schedule.get("paused_at") if schedule["paused"] else None,
        skipped_runs=int(schedule.get("skipped_runs", 0)),
        last_skipped_at=schedule.get("last_unpaid_at"),
        last_skipped_reason=schedule.get("last_unpaid_reason"),
        created_at=schedule["created_at"],
        updated_at=schedule["updated_at"],
    )


def create_schedule(account: Account, fields: dict[str, Any]) -> ScheduleView:
    now = clock.now()
    schedule = {
        "schedule_id": str(ULID()),
        "account_id": account.account_id,
        **checked(account, fields, now),
        "created_at": iso(now),
        "updated_at": iso(now),
    }
    _check_size(repository.new_item(schedule))
    _check_limits(account.account_id, schedule, now)
    repository.insert(schedule)
    try:
        mirror(schedule, create=True)
    except Exception:
        logger.exception(
            "schedule not created in Scheduler; forgetting it", extra={"schedule_id": schedule["schedule_id"]}
        )
        repository.delete(schedule["schedule_id"])
        raise ServiceUnavailable("the scheduler is unavailable; nothing was created, retry shortly") from None
    logger.info(
        "schedule created", extra={"schedule_id": schedule["schedule_id"], "schedule": schedule["schedule"]}
    )
    metrics.add_metric(name="SchedulesCreated", unit="Count", value=1)
    return view({**schedule, "runs": 0}, now)


def _owned(account_id: str, schedule_id: str) -> dict[str, Any]:
    schedule = repository.get(schedule_id, consistent=True)
    if schedule is None or schedule["account_id"] != account_id:
        raise NotFound(f"no schedule {schedule_id}")
    return schedule


def get_schedule(account_id: str, schedule_id: str) -> ScheduleView:
    return view(_owned(account_id, schedule_id))


def list_schedules(account_id: str, limit: int = 50, cursor: str | None = None) -> SchedulePage:
    check_limit(limit)
    items, next_key = repository.query_account(
        account_id, limit, decode_cursor(cursor, keys.schedules_index(account_id))
    )
    now = clock.now()
    return SchedulePage(schedules=[view(item, now) for item in items], next_cursor=encode_cursor(next_key))


def update_schedule(account: Account, schedule_id: str, changes: dict[str, Any]) -> ScheduleView:
    """Change any fields (`paused` pauses or resumes); the whole result is checked as on create."""
    current = _owned(account.account_id, schedule_id)
    now = clock.now()
    # null clears an optional field (start, end, callback); for the others it means "unchanged".
    given = {k: v for k, v in changes.items() if v is not None or k in CLEARABLE}
    merged = {key: current.get(key) for key in FIELDS} | given
    changed = {**current, **checked(account, merged, now), "updated_at": iso(now)}
    _check_size(changed)
    if any(changed.get(key) != current.get(key) for key in LOAD_FIELDS):
        _check_limits(account.account_id, changed, now)
    if not changed["paused"]:
        # Resumed (or still active): why it was paused no longer applies; unpaid runs count anew.
        for key in ("paused_reason", "paused_at"):
            changed.pop(key, None)
        changed["unpaid_runs"] = 0
    if not repository.replace(changed):
        raise Conflict(f"schedule {schedule_id} was changed by another request meanwhile; read it and retry")
    try:
        mirror(changed, create=False)
    except Exception:
        logger.exception(
            "Scheduler update failed; restoring the schedule", extra={"schedule_id": schedule_id}
        )
        repository.replace({**current, "version": int(current["version"]) + 1})
        raise ServiceUnavailable("the scheduler is unavailable; nothing was changed, retry shortly") from None
    return view({**changed, "version": int(changed["version"]) + 1}, now)


def delete_schedule(account_id: str, schedule_id: str) -> ScheduleView:
    """Delete the schedule and its Scheduler schedule; messages it already created stay (and are sent)."""
    schedule = _owned(account_id, schedule_id)
    try:
        scheduler.delete(scheduler.recurring_name(schedule_id))
    except Exception:
        logger.exception("Scheduler delete failed", extra={"schedule_id": schedule_id})
        raise ServiceUnavailable("the scheduler is unavailable; nothing was deleted, retry shortly") from None
    repository.delete(schedule_id)
    logger.info("schedule deleted", extra={"schedule_id": schedule_id})
    return replace(view({**schedule, "paused": True}), state="deleted")
