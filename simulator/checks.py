"""Checks of setting and option values: each returns the value (or its normal form) or raises
`ValueError("<why>")`; the caller puts the field's name in front."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from simulator import protocol


def count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("must be a whole number ≥ 0")
    return value


def number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError("must be a number ≥ 0")
    return value


def probability(value: Any) -> float:
    if number(value) > 1:
        raise ValueError("must be between 0 and 1")
    return value


def status_code(value: Any) -> str:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or text == "0":
        raise ValueError('must be a non-zero Vonage status code, e.g. "6"')
    return text


def positive_count(value: Any) -> int:
    if count(value) < 1:
        raise ValueError("must be a whole number ≥ 1")
    return value


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def http_url(value: Any) -> str | None:
    if value is None or value == "":
        return None
    url = urlsplit(value) if isinstance(value, str) else None
    try:
        valid = url is not None and url.scheme in ("http", "https") and bool(url.hostname) and url.port != 0
    except ValueError:  # a port that is not a number
        valid = False
    if not valid:
        raise ValueError("must be an http:// or https:// URL, or null")
    return value


def dlr_method(value: Any) -> str:
    method = value.upper() if isinstance(value, str) else None
    if method not in protocol.DLR_METHODS:
        raise ValueError(f"must be one of {', '.join(protocol.DLR_METHODS)}")
    return method


MAX_POOL_SIZE = 10_000


def pool_size(value: Any) -> int:
    if positive_count(value) > MAX_POOL_SIZE:
        raise ValueError(f"must be a whole number from 1 to {MAX_POOL_SIZE}")
    return value


def dlr_statuses(value: Any) -> dict[str, float]:
    final = ", ".join(protocol.DLR_FINAL_STATUSES)
    if not isinstance(value, dict) or not value:
        raise ValueError(f'must be an object of weights by final status ({final}), e.g. {{"delivered": 1}}')
    weights = {}
    for status, weight in value.items():
        if status not in protocol.DLR_FINAL_STATUSES:
            raise ValueError(f"{status!r} is not a final status; use {final}")
        try:
            weights[status] = float(number(weight))
        except ValueError as exc:
            raise ValueError(f"{status}: {exc}") from None
    if not sum(weights.values()) > 0:
        raise ValueError("at least one weight must be above 0")
    return weights


def dlr_status_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(status in protocol.DLR_STATUSES for status in value):
        raise ValueError(f"must be a list of receipt statuses ({', '.join(protocol.DLR_STATUSES)})")
    return list(value)


def delay_range(value: Any) -> list[float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError("must be [min, max] in milliseconds")
    low, high = number(value[0]), number(value[1])
    if low > high:
        raise ValueError("min must not be above max")
    return [low, high]
