"""A circuit breaker per carrier connector, shared by every function (one item per connector).

Closed: messages go to the connector. FAILURES_TO_OPEN failures within WINDOW seconds (an error, a
5xx, a refused credential, no answer) open it: its traffic goes to the next connector of each route.
After PAUSE seconds one dispatch at a time (a probe, claimed with a conditional write) tries it again:
a success closes it, a failure opens it for another pause. Only routes with two or more connectors
consult it: a one-carrier stack retries with backoff as before. Each function keeps what it read for
CACHE_SECONDS, so a breaker costs one read per connector and function every few seconds, and a write
only on a failure or a change.
"""

from __future__ import annotations

import time
from typing import Any

from smsgw.config import get_settings
from smsgw.core.memo import remembered
from smsgw.dispatch import repository
from smsgw.observability import count, logger

CACHE_SECONDS = 2.0
OPEN = "open"

_read: dict[str, tuple[float, dict[str, Any] | None]] = remembered({})


def _state(name: str, now: float) -> dict[str, Any] | None:
    cached = _read.get(name)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    item = repository.read_breaker(name)
    _read[name] = (now, item)
    return item


def is_open(name: str, now: float | None = None) -> bool:
    item = _state(name, time.time() if now is None else now)
    return bool(item and item.get("state") == OPEN)


def available(name: str, now: float) -> bool:
    """May a message go to this connector now? Closed: yes. Open: no, except for the one probe per pause."""
    item = _state(name, now)
    if not item or item.get("state") != OPEN:
        return True
    pause = get_settings().breaker_pause_seconds
    if now < float(item["opened_at"]) + pause:
        return False
    won = repository.claim_probe(name, now, probe_until=now + pause)
    _read.pop(name, None)
    if won:
        logger.info("probing an open connector", extra={"connector": name})
    return won


def reopens_at(names: list[str], now: float) -> float:
    """When the first of these open connectors takes a probe."""
    pause = get_settings().breaker_pause_seconds
    times = [
        float(item["opened_at"]) + pause
        for name in names
        if (item := _state(name, now)) and "opened_at" in item
    ]
    return min(times, default=now + pause)


def failed(name: str, now: float) -> None:
    settings = get_settings()
    item = repository.count_breaker_failure(
        name, now, window=settings.breaker_window_seconds, threshold=settings.breaker_failures
    )
    was_open = bool((_read.get(name) or (0.0, None))[1] and (_read[name][1] or {}).get("state") == OPEN)
    _read[name] = (now, item)
    if item.get("state") == OPEN and not was_open:
        count("ConnectorOpened")
        logger.warning(
            "connector opened: its traffic moves to the next connector of each route",
            extra={"connector": name, "failures": int(item.get("failures", 0))},
        )


def succeeded(name: str, now: float) -> None:
    """A submission went through: an open breaker (a probe that worked) closes."""
    item = _state(name, now)
    if item and item.get("state") == OPEN and repository.close_breaker(name):
        count("ConnectorClosed")
        logger.info("connector closed: traffic returns", extra={"connector": name})
    _read[name] = (now, None)
