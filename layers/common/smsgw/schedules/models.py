"""Wire models of the recurring schedules API (`/schedules`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_RECIPIENTS = 500
MAX_NAME = 100


class ScheduleRequest(BaseModel):
    """`POST /schedules`. Checked field by field by the service (400 naming the field), so the types
    here are permissive: a wrong type is reported by name, not as a generic validation error."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    name: Any = Field(default=None, description=f"Your name for it, 1–{MAX_NAME} characters")
    recipients: Any = Field(
        default=None,
        description=f'1–{MAX_RECIPIENTS} recipients: a number (`"447700900000"`) or an object with `to` and '
        'the values of the text\'s placeholders (`{"to": "447700900000", "name": "Ann"}`)',
    )
    from_: Any = Field(default=None, alias="from", description="Sender, as on a send")
    text: Any = Field(
        default=None, description="The text; `{{name}}` is replaced per recipient (`{{to}}` is the number)"
    )
    type: Any = Field(default=None, description="text (default) or unicode")
    schedule: Any = Field(
        default=None, description="`cron(0 8 * * ? *)` or `rate(1 day)`, as EventBridge Scheduler writes them"
    )
    timezone: Any = Field(
        default="UTC", description="IANA time zone of the cron fields, e.g. Europe/Amsterdam"
    )
    start: Any = Field(default=None, description="ISO 8601 with offset: no runs before it")
    end: Any = Field(default=None, description="ISO 8601 with offset: no runs after it")
    callback: Any = Field(default=None, description="URL for the status callbacks of its messages")
    paused: Any = Field(default=False, description="true: created paused (no runs until resumed)")


class ScheduleUpdate(BaseModel):
    """`PATCH /schedules/{id}`: only the fields given change; `paused` pauses or resumes."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    name: Any = None
    recipients: Any = None
    from_: Any = Field(default=None, alias="from")
    text: Any = None
    type: Any = None
    schedule: Any = None
    timezone: Any = None
    start: Any = None
    end: Any = None
    callback: Any = None
    paused: Any = None


class ScheduleView(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    schedule_id: str
    name: str
    state: str = Field(description="active | paused | ended")
    paused_reason: str | None = Field(
        default=None,
        description="Why smsgw paused it (e.g. runs the balance could not pay for); resume with "
        '`{"paused": false}` once fixed',
    )
    paused_at: str | None = None
    recipients: list[dict[str, str]]
    from_: str = Field(alias="from")
    text: str
    type: str
    schedule: str
    timezone: str
    start: str | None = None
    end: str | None = None
    callback: str | None = None
    next_runs: list[str] = Field(description="The next (up to 5) run times, UTC; empty when paused or ended")
    last_run_at: str | None = None
    runs: int = Field(default=0, description="Runs that created messages")
    skipped_runs: int = Field(
        default=0, description="Runs refused because the balance could not pay for all their messages"
    )
    last_skipped_at: str | None = None
    last_skipped_reason: str | None = None
    created_at: str
    updated_at: str


class SchedulePage(BaseModel):
    schedules: list[ScheduleView]
    next_cursor: str | None = None
