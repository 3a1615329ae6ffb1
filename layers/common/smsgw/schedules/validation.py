"""Checking a schedule: every field checked and normalised to its stored form before anything is
written; the first problem is a 400 naming the field (`recipients[2].to`, `schedule`, `timezone`, …)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from smsgw.accounts.models import Account
from smsgw.config import get_settings
from smsgw.core.errors import BadRequest, InvalidField
from smsgw.messages.params import validate_send
from smsgw.numbers import routing as numbers_routing
from smsgw.schedules.expressions import parse_expression, validate_timezone
from smsgw.schedules.ports import SenderRules
from smsgw.schedules.views import MAX_NAME, MAX_RECIPIENTS
from smsgw.urlsafety import check_callback_url

# What validation uses of the numbers domain (schedules/ports.py), checked by mypy.
numbers: SenderRules = numbers_routing

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def iso(moment: datetime) -> str:
    """A schedule's stored times: UTC, to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


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


def checked_callback(callback: str | None) -> Callable[[str], str]:
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


def checked(account: Account, fields: dict[str, Any], now: datetime) -> dict[str, Any]:
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

    check_url = checked_callback(callback)
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
        refusal = account.guards.country_refusal(send.destination.country)
        if refusal is not None:
            raise BadRequest(
                f"recipients[{n}].to ({values['to']}) is in {send.destination.country}, and {refusal}: "
                "remove it, or ask the operator to change the account's guards",
                f"recipients[{n}].to",
            )
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
        "start": iso(start) if start else None,
        "end": iso(end) if end else None,
        "callback": callback,
        "paused": paused,
    }
