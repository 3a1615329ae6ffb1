"""Quiet hours: an account's window, in the recipient's local time, in which non-urgent sends wait.

The value only (parsed and validated here); when a send is released is `smsgw.messages.quiet_hours`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from smsgw.core.errors import BadRequest

_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """From `start` until `end`, local time; `start` > `end` spans midnight (21:00–08:00)."""

    start: time
    end: time

    @classmethod
    def parse(cls, start: str, end: str) -> QuietHours:
        window = cls(_clock(start, "start"), _clock(end, "end"))
        if window.start == window.end:
            raise BadRequest("quiet hours start and end must differ (a window of 0 or 24 hours)", "end")
        return window

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def as_item(self) -> dict[str, str]:
        return {"start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M")}


def _clock(value: str, field: str) -> time:
    match = _CLOCK.fullmatch(value.strip())
    if match is None:
        raise BadRequest(
            f"quiet hours {field} must be a 24-hour time HH:MM, e.g. 21:00 (got {value!r})", field
        )
    return time(int(match.group(1)), int(match.group(2)))
