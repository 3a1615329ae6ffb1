"""Recurring schedules: create, read, change, pause/resume, delete — and run them.

A schedule is stored here and mirrored as one EventBridge Scheduler schedule (smsgw.scheduler)
that puts `{"schedule_id", "scheduled_time"}` on the schedule-run queue at every run. A run turns every
recipient into an ordinary message, `scheduled` until dispatch charges and sends it. Runs are
idempotent: a message's id is derived from (schedule, run time, recipient), so a run delivered twice
finds its messages already there and creates none.

Every field is checked before anything is written; a bad one is a 400 naming it (`recipients[2].to`,
`schedule`, `timezone`, …).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

from ulid import ULID

from smsgw import queues, scheduler
from smsgw.accounts import repository as accounts_repository
from smsgw.accounts.models import Account
from smsgw.config import get_settings
from smsgw.core.errors import BadRequest, Conflict, InvalidField, LimitReached, NotFound, ServiceUnavailable
from smsgw.core.message import Message
from smsgw.messages import pricing
from smsgw.messages import repository as messages_repository
from smsgw.messages.params import validate_send
from smsgw.messages.service import new_message
from smsgw.numbers import service as numbers
from smsgw.observability import logger, metrics
from smsgw.optouts import service as optouts
from smsgw.pagination import decode_cursor, encode_cursor
from smsgw.schedules import repository
from smsgw.schedules.expressions import next_runs, parse_expression, validate_timezone
from smsgw.schedules.models import MAX_NAME, MAX_RECIPIENTS, SchedulePage, ScheduleView
from smsgw.urlsafety import check_callback_url

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
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
MAX_PAGE = 100
NEXT_RUNS = 5
# The fields that change how many messages a schedule sends (a change to them is checked against the limits).
LOAD_FIELDS = ("recipients", "schedule", "timezone", "start", "end", "paused")
# A schedule's pace is its recipients over the shortest time between its next this-many runs.
PACE_SAMPLE_RUNS = 50


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# --- checking a schedule -------------------------------------------------------------------------


def _string(field: str, value: Any, *, required: bool = True, limit: int | None = None) -> str | None:
    if value is None or value == "":
        if required:
            raise BadRequest(f"{field} is required", field)
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a string", field)
    if limit is not None and len(value) > limit:
        raise BadRequest(f"{field} is {len(value)} characters; the maximum is {limit}", field)
    return value


def _recipients(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise BadRequest(
            'recipients must be a non-empty list of numbers or objects such as {"to": "447700900000", "name": "Ann"}',
            "recipients",
        )
    if len(value) > MAX_RECIPIENTS:
        raise BadRequest(
            f"recipients has {len(value)} entries; the maximum is {MAX_RECIPIENTS}", "recipients"
        )
    recipients = []
    for n, entry in enumerate(value):
        field = f"recipients[{n}]"
        if isinstance(entry, str | int):
            entry = {"to": str(entry)}
        if not isinstance(entry, dict) or "to" not in entry:
            raise BadRequest(f"{field} must be a number or an object with `to`", field)
        values = {}
        for key, item in entry.items():
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise BadRequest(f"{field}.{key} must be a string or a number", f"{field}.{key}")
            values[str(key)] = str(item)
        recipients.append(values)
    return recipients


def render(text: str, values: Mapping[str, str]) -> str:
    """Fill `{{name}}` placeholders from one recipient's values (KeyError names a missing one)."""
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def _moment(field: str, value: Any) -> datetime | None:
    text = _string(field, value, required=False)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"{field} must be ISO 8601 with an offset, e.g. 2026-12-01T08:00:00+01:00", field
        ) from None
    if moment.tzinfo is None:
        raise BadRequest(f"{field} needs an offset (Z or ±hh:mm), e.g. 2026-12-01T08:00:00+01:00", field)
    return moment.astimezone(UTC)


def _checked_once(callback: str | None) -> Callable[[str], str]:
    """The callback URL checked once (its DNS resolved once), not once per recipient."""
    if callback is None:
        return lambda url: url  # never called: no recipient's send has a callback
    try:
        checked = check_callback_url(callback, allow_http_hosts=get_settings().callback_allow_http_hosts)
    except InvalidField as error:
        raise BadRequest(error.message, "callback") from None
    return lambda url: checked


def _flag(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise BadRequest(f"{field} must be true or false", field)


def _checked(account: Account, fields: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Every field checked and normalised, in the stored form; the first problem is a 400 naming it."""
    name = _string("name", fields.get("name"), limit=MAX_NAME)
    recipients = _recipients(fields.get("recipients"))
    sender = _string("from", fields.get("from"))
    text = _string("text", fields.get("text"))
    message_type = _string("type", fields.get("type"), required=False) or "text"
    if message_type not in ("text", "unicode"):
        raise BadRequest("type must be text or unicode for a schedule", "type")
    expression = parse_expression(_string("schedule", fields.get("schedule")) or "")
    if expression.kind == "at":
        raise BadRequest(
            "a recurring schedule needs cron(...) or rate(...); for one message at one time, send it with send_at",
            "schedule",
        )
    timezone = validate_timezone(_string("timezone", fields.get("timezone")) or "")
    start, end = _moment("start", fields.get("start")), _moment("end", fields.get("end"))
    if end is not None and end <= now:
        raise BadRequest("end is in the past: the schedule would never run", "end")
    if start is not None and end is not None and end <= start:
        raise BadRequest("end must be after start", "end")
    callback = _string("callback", fields.get("callback"), required=False, limit=100)
    paused = _flag("paused", fields.get("paused", False))

    check_url = _checked_once(callback)
    seen: dict[str, int] = {}
    for n, values in enumerate(recipients):
        try:
            rendered = render(text or "", values)
        except KeyError as missing:
            key = missing.args[0]
            raise BadRequest(
                f"text uses {{{{{key}}}}} but recipients[{n}] has no {key!r}: add it to that recipient",
                f"recipients[{n}].{key}",
            ) from None
        wire = {
            "from": sender,
            "to": values["to"],
            "text": rendered,
            "type": message_type,
            "callback": callback,
        }
        try:
            send = validate_send({k: v for k, v in wire.items() if v is not None}, check_url=check_url)
        except InvalidField as error:
            field = f"recipients[{n}].to" if error.field == "to" else error.field
            where = f" (for recipients[{n}])" if error.field == "text" and len(recipients) > 1 else ""
            raise BadRequest(error.message + where, field) from None
        values["to"] = send.destination.msisdn
        if values["to"] in seen:
            raise BadRequest(
                f"recipients[{n}] repeats recipients[{seen[values['to']]}] ({values['to']})",
                f"recipients[{n}].to",
            )
        seen[values["to"]] = n
        if n == 0:
            sender = send.sender
    if not numbers.sender_allowed(account, sender or ""):
        raise BadRequest(numbers.sender_refusal(sender or ""), "from")
    return {
        "name": name,
        "recipients": recipients,
        "from": sender,
        "text": text,
        "type": message_type,
        "schedule": expression.text,
        "timezone": timezone,
        "start": _iso(start) if start else None,
        "end": _iso(end) if end else None,
        "callback": callback,
        "paused": paused,
    }


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
    anchor = start or datetime.fromisoformat(schedule.get("created_at") or _iso(now))
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


def _mirror(schedule: dict[str, Any], *, create: bool) -> None:
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
    now = now or _now()
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
        next_runs=[_iso(run) for run in runs],
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
    now = _now()
    schedule = {
        "schedule_id": str(ULID()),
        "account_id": account.account_id,
        **_checked(account, fields, now),
        "created_at": _iso(now),
        "updated_at": _iso(now),
    }
    _check_size(repository.new_item(schedule))
    _check_limits(account.account_id, schedule, now)
    repository.insert(schedule)
    try:
        _mirror(schedule, create=True)
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
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}", "limit")
    items, next_key = repository.query_account(
        account_id, limit, decode_cursor(cursor, f"ACCOUNT#{account_id}#SCHEDULE")
    )
    now = _now()
    return SchedulePage(schedules=[view(item, now) for item in items], next_cursor=encode_cursor(next_key))


def update_schedule(account: Account, schedule_id: str, changes: dict[str, Any]) -> ScheduleView:
    """Change any fields (`paused` pauses or resumes); the whole result is checked as on create."""
    current = _owned(account.account_id, schedule_id)
    now = _now()
    # null clears an optional field (start, end, callback); for the others it means "unchanged".
    given = {k: v for k, v in changes.items() if v is not None or k in CLEARABLE}
    merged = {key: current.get(key) for key in FIELDS} | given
    changed = {**current, **_checked(account, merged, now), "updated_at": _iso(now)}
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
        _mirror(changed, create=False)
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
    return view({**schedule, "paused": True}).model_copy(update={"state": "deleted"})


# --- a run ---------------------------------------------------------------------------------------


def run_time(scheduled_time: str | None, sent_at: datetime) -> datetime:
    """The run's time as Scheduler states it; without one (an emulator that does not fill in
    `<aws.scheduler.scheduled-time>`), the minute the run was queued, which no other run shares."""
    if scheduled_time:
        try:
            moment = datetime.fromisoformat(scheduled_time.replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                return moment.astimezone(UTC).replace(microsecond=0)
        except ValueError:
            pass
    return sent_at.astimezone(UTC).replace(second=0, microsecond=0)


def run_message_id(schedule_id: str, run_at: datetime, to: str) -> str:
    """The same (schedule, run, recipient) always gives the same id: a repeated run creates nothing new.
    A ULID whose time is the run time, so the messages sort with the account's others."""
    digest = hashlib.sha256(f"{schedule_id}|{_iso(run_at)}|{to}".encode()).digest()
    milliseconds = int(run_at.timestamp() * 1000)
    return str(ULID.from_bytes(milliseconds.to_bytes(6, "big") + digest[:10]))


def _unpaid(account_id: str, messages: list[Message]) -> str | None:
    """Why the run cannot be paid for as a whole (read consistently), or None when it can.

    A repeated delivery of a run that already stored its messages (the first is stored first) is
    never refused: they are charged one by one by dispatch, which may already have begun.
    """
    price = sum((m.price for m in messages if m.status == messages_repository.SCHEDULED), Decimal(0))
    account = accounts_repository.get_account(account_id, consistent=True)
    if account is not None and not account.disabled and account.balance >= price:
        return None
    if messages and messages_repository.load(messages[0].message_id, consistent=True) is not None:
        return None
    if account is None or account.disabled:
        return "the account is disabled; no message was created or charged"
    return (
        f"the balance ({pricing.money(account.balance)}) does not cover this run's {len(messages)} messages "
        f"({pricing.money(price)}); no message was created or charged: top up the account"
    )


def _skip_unpaid_run(schedule: dict[str, Any], run_at: datetime, reason: str) -> str:
    """Record the refused run (one write) and pause the schedule after enough of them in a row."""
    schedule_id = schedule["schedule_id"]
    current = repository.record_unpaid_run(schedule_id, _iso(run_at), reason) or repository.get(
        schedule_id, consistent=True
    )
    logger.warning(
        "schedule run refused: unpaid",
        extra={"schedule_id": schedule_id, "run_at": _iso(run_at), "reason": reason},
    )
    metrics.add_metric(name="ScheduleRunsUnpaid", unit="Count", value=1)
    if current is None:
        return "deleted"
    runs_in_a_row = int(current.get("unpaid_runs", 0))
    if current["paused"] or runs_in_a_row < get_settings().schedule_pause_after_unpaid_runs:
        return "unpaid"
    why = (
        f"paused by smsgw after {runs_in_a_row} run{'s' if runs_in_a_row > 1 else ''} in a row that could not "
        f'be paid for: {reason}. Resume with PATCH {{"paused": false}}'
    )
    # Scheduler first: if this fails, SQS delivers the run again and it is paused then.
    _mirror({**current, "paused": True}, create=False)
    if repository.pause(schedule_id, why, _iso(_now())) is not None:
        logger.warning(
            "schedule paused: unpaid runs", extra={"schedule_id": schedule_id, "unpaid_runs": runs_in_a_row}
        )
        metrics.add_metric(name="SchedulesPausedUnpaid", unit="Count", value=1)
    return "unpaid, paused"


def run_schedule(schedule_id: str, scheduled_time: str | None, sent_at: datetime) -> str:
    """One run: a `scheduled` message per recipient, handed to dispatch (which charges and sends it)."""
    schedule = repository.get(schedule_id, consistent=True)
    if schedule is None:
        return "deleted"
    if schedule["paused"]:
        return "paused"
    account = accounts_repository.get_account(schedule["account_id"])
    if account is None:
        return "no account"
    run_at = run_time(scheduled_time, sent_at)
    now = _now()
    callback = schedule.get("callback")
    try:
        check_url = _checked_once(callback)
    except BadRequest as error:
        # Checked when the schedule was saved; if it no longer resolves safely, send without it.
        logger.warning("schedule callback refused; sending without it", extra={"error": error.message})
        callback, check_url = None, _checked_once(None)
    messages = []
    for values in schedule["recipients"]:
        fields = {"from": schedule["from"], "to": values["to"], "text": render(schedule["text"], values)}
        fields["type"] = schedule["type"]
        if callback:
            fields["callback"] = callback
        send = validate_send(fields, check_url=check_url)
        opted_out = optouts.is_opted_out(send.sender, send.destination.msisdn)
        messages.append(
            new_message(
                account,
                send,
                run_message_id(schedule_id, run_at, values["to"]),
                now,
                messages_repository.FAILED if opted_out else messages_repository.SCHEDULED,
                send_at=_iso(run_at),
                held_for="schedule",
                schedule_id=schedule_id,
                last_error=(
                    f"{send.destination.msisdn} replied STOP to {send.sender}; nothing was sent or charged"
                    if opted_out
                    else None
                ),
            )
        )
    unpaid = _unpaid(account.account_id, messages)
    if unpaid is not None:
        return _skip_unpaid_run(schedule, run_at, unpaid)
    to_dispatch = []
    for message in messages:
        if messages_repository.store_scheduled(message):
            if message.status == messages_repository.SCHEDULED:
                to_dispatch.append(message.message_id)
        else:  # stored by an earlier delivery of this run: hand it over again if it still waits
            existing = messages_repository.load(message.message_id, consistent=True)
            if existing is not None and existing.status == messages_repository.SCHEDULED:
                to_dispatch.append(message.message_id)
    # One SendMessage each: SendMessageBatch would save requests, but the local emulator authorizes it
    # as its own IAM action (AWS as sqs:SendMessage); runs are small and SQS requests cheap.
    for message_id in to_dispatch:
        queues.enqueue_dispatch(message_id)
    first = repository.record_run(schedule_id, _iso(run_at))
    logger.info(
        "schedule ran",
        extra={
            "schedule_id": schedule_id,
            "run_at": _iso(run_at),
            "queued": len(to_dispatch),
            "repeat": not first,
        },
    )
    metrics.add_metric(name="ScheduleRuns", unit="Count", value=1)
    return "ran" if first else "repeated"


def process_runs(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Schedule-run queue records: one run each; a run that fails is retried by SQS (idempotent)."""
    import json

    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    def handle(record: SQSRecord) -> str:
        body = json.loads(record.body)
        sent_ms = int(record.attributes.sent_timestamp or 0) or int(_now().timestamp() * 1000)
        try:
            outcome = run_schedule(
                body["schedule_id"], body.get("scheduled_time"), datetime.fromtimestamp(sent_ms / 1000, UTC)
            )
        except Exception:
            # Logged here (the batch processor only reports the record as failed); SQS retries the run.
            logger.exception(
                "schedule run failed; it will be retried", extra={"schedule_id": body["schedule_id"]}
            )
            raise
        logger.info("schedule run", extra={"schedule_id": body["schedule_id"], "outcome": outcome})
        return outcome

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    )
