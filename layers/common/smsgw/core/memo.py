"""Process memory: what a warm Lambda keeps between invocations (AWS clients, settings, short caches).

Every such cache is made here — `per_process` for a function's result (functools.cache), `remembered`
for a dict — so one call, `forget_all()`, starts the process over: tests between cases, the CLI after
pointing at another stack. Nothing else may keep state across invocations, so nobody has to know a
list of caches to clear.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

_forget: list[Callable[[], None]] = []

F = TypeVar("F", bound=Callable[..., Any])
D = TypeVar("D", bound=dict[Any, Any])


def per_process(function: F) -> F:
    """`functools.cache`, forgotten by `forget_all()`: for clients and settings built on first use."""
    cached = cache(function)
    _forget.append(cached.cache_clear)
    return cached  # type: ignore[return-value]


def remembered(store: D) -> D:
    """A module-level dict cache, emptied by `forget_all()`."""
    _forget.append(store.clear)
    return store


def forget_all() -> None:
    """Forget every client, the settings and every cache (the next call reads the environment again)."""
    for forget in _forget:
        forget()
