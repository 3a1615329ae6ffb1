"""A schedule's run (ScheduleRunFunction): every recipient becomes an ordinary message, `scheduled`
until dispatch charges and sends it. Runs are idempotent: a message's id is derived from (schedule,
run time, recipient), so a run delivered twice finds its messages already there and creates none.
A run the account cannot pay for creates nothing, and enough of them in a row pause the schedule.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ulid import ULID

from smsgw import queues
from smsgw.accounts import service as accounts_service
from smsgw.accounts.models import Account
from smsgw.config import get_settings
from smsgw.core import clock
from smsgw.core.errors import BadRequest
from smsgw.core.message import Message
from smsgw.messages import pricing
from smsgw.messages import repository as messages_repository
from smsgw.messages.params import validate_send
from smsgw.messages.service import new_message
from smsgw.observability import logger, metrics
from smsgw.optouts import service as optouts_service
from smsgw.schedules import repository
from smsgw.schedules.ports import AccountLookup, OptOutCheck
from smsgw.schedules.service import mirror
from smsgw.schedules.validation import checked_callback, iso, render

# What a run uses of the other domains (schedules/ports.py), checked by mypy.
accounts: AccountLookup = accounts_service
optouts: OptOutCheck = optouts_service


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
    digest = hashlib.sha256(f"{schedule_id}|{iso(run_at)}|{to}".encode()).digest()
    milliseconds = int(run_at.timestamp() * 1000)
    return str(ULID.from_bytes(milliseconds.to_bytes(6, "big") + digest[:10]))


def _refused(account: Account, sender: str, msisdn: str, country: str) -> str | None:
    """Why a recipient gets no message in this run (its message is stored `failed` with it), or None:
    they replied STOP, or the account's guards now refuse their country (docs/fraud.md)."""
    if optouts.is_opted_out(sender, msisdn):
        return f"{msisdn} replied STOP to {sender}; nothing was sent or charged"
    refusal = account.guards.country_refusal(country)
    if refusal is not None:
        return f"{msisdn} is in {country}, and {refusal}; nothing was sent or charged"
    return None


def _unpaid(account_id: str, messages: list[Message]) -> str | None:
    """Why the run cannot be paid for as a whole (read consistently), or None when it can.

    A repeated delivery of a run that already stored its messages (the first is stored first) is
    never refused: they are charged one by one by dispatch, which may already have begun.
    """
    price = sum((m.price for m in messages if m.status == messages_repository.SCHEDULED), Decimal(0))
    account = accounts.get_account(account_id, consistent=True)
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
    current = repository.record_unpaid_run(schedule_id, iso(run_at), reason) or repository.get(
        schedule_id, consistent=True
    )
    logger.warning(
        "schedule run refused: unpaid",
        extra={"schedule_id": schedule_id, "run_at": iso(run_at), "reason": reason},
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
    mirror({**current, "paused": True}, create=False)
    if repository.pause(schedule_id, why, iso(clock.now())) is not None:
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
    account = accounts.get_account(schedule["account_id"])
    if account is None:
        return "no account"
    run_at = run_time(scheduled_time, sent_at)
    now = clock.now()
    callback = schedule.get("callback")
    try:
        check_url = checked_callback(callback)
    except BadRequest as error:
        # Checked when the schedule was saved; if it no longer resolves safely, send without it.
        logger.warning("schedule callback refused; sending without it", extra={"error": error.message})
        callback, check_url = None, checked_callback(None)
    messages = []
    for values in schedule["recipients"]:
        fields = {"from": schedule["from"], "to": values["to"], "text": render(schedule["text"], values)}
        fields["type"] = schedule["type"]
        if callback:
            fields["callback"] = callback
        send = validate_send(fields, check_url=check_url)
        refused = _refused(account, send.sender, send.destination.msisdn, send.destination.country)
        messages.append(
            new_message(
                account,
                send,
                run_message_id(schedule_id, run_at, values["to"]),
                now,
                messages_repository.FAILED if refused else messages_repository.SCHEDULED,
                send_at=iso(run_at),
                held_for="schedule",
                schedule_id=schedule_id,
                last_error=refused,
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
    first = repository.record_run(schedule_id, iso(run_at))
    logger.info(
        "schedule ran",
        extra={
            "schedule_id": schedule_id,
            "run_at": iso(run_at),
            "queued": len(to_dispatch),
            "repeat": not first,
        },
    )
    metrics.add_metric(name="ScheduleRuns", unit="Count", value=1)
    return "ran" if first else "repeated"
