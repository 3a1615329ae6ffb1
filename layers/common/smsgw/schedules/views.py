"""What the schedules API takes and answers, pydantic-free (smsgw.core.views): the function starts without
pydantic. The documentation models of the request bodies are smsgw.schedules.models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from smsgw.core.errors import InvalidField
from smsgw.core.views import WIRE_CONFIG, wire_field

MAX_RECIPIENTS = 500
MAX_NAME = 100

# The fields of `POST /schedules` (wire names) and what a field left out is; `PATCH` changes only the
# fields it gives, of the same names. Each is checked by the service, naming it.
CREATE_DEFAULTS: dict[str, Any] = {
    "name": None,
    "recipients": None,
    "from": None,
    "text": None,
    "type": None,
    "schedule": None,
    "timezone": "UTC",
    "start": None,
    "end": None,
    "callback": None,
    "paused": False,
}


def _known(body: dict[str, Any]) -> dict[str, Any]:
    for name in body:
        if name not in CREATE_DEFAULTS:
            raise InvalidField(name, f"{name}: Extra inputs are not permitted")
    return dict(body)


def create_fields(body: dict[str, Any]) -> dict[str, Any]:
    """A create request's fields, those left out at their defaults; an unknown one is refused by name."""
    return {**CREATE_DEFAULTS, **_known(body)}


def update_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The fields a change gives (null included: it clears an optional field); an unknown one is refused."""
    return _known(body)


@dataclass(frozen=True, kw_only=True)
class ScheduleView:
    __pydantic_config__: ClassVar = WIRE_CONFIG

    schedule_id: str
    name: str
    state: str = wire_field("active | paused | ended")
    paused_reason: str | None = wire_field(
        "Why smsgw paused it (e.g. runs the balance could not pay for); resume with "
        '`{"paused": false}` once fixed',
        default=None,
    )
    paused_at: str | None = None
    recipients: list[dict[str, str]]
    from_: str = wire_field(alias="from")
    text: str
    type: str
    schedule: str
    timezone: str
    start: str | None = None
    end: str | None = None
    callback: str | None = None
    next_runs: list[str] = wire_field("The next (up to 5) run times, UTC; empty when paused or ended")
    last_run_at: str | None = None
    runs: int = wire_field("Runs that created messages", default=0)
    skipped_runs: int = wire_field(
        "Runs refused because the balance could not pay for all their messages", default=0
    )
    last_skipped_at: str | None = None
    last_skipped_reason: str | None = None
    created_at: str
    updated_at: str


@dataclass(frozen=True, kw_only=True)
class SchedulePage:
    __pydantic_config__: ClassVar = WIRE_CONFIG

    schedules: list[ScheduleView]
    next_cursor: str | None = None
