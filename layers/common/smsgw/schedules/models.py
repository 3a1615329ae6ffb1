"""The request bodies of the recurring schedules API (`/schedules`), as the OpenAPI document describes them
(the docs generator registers them). The routes read the bodies with `smsgw.schedules.views.create_fields`
and `update_fields` (pydantic-free; tests/unit/test_schedule_fields.py keeps both alike)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from smsgw.schedules.views import MAX_NAME, MAX_RECIPIENTS


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
