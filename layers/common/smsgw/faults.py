"""Fault injection for `make chaos`: named crash points between two steps of an async path.

Honoured only when the stack runs on the local emulator (`LOCAL_EMULATOR=true`, set from the
template's `LocalEmulator` parameter) *and* `FAULTS_FILE` names a JSON file the chaos run writes:

    {"crash": {"dispatch.after_submit": 0.05, "send.after_charge": 0.02}, "seed": 1}

Each value is the probability that `crash_point(name)` raises `InjectedCrash` there. The crash is a
`BaseException`, so no `except Exception` in our code or in Powertools' batch processor absorbs it:
the invocation fails as if the function had died at that line (SQS redelivers the whole batch, an API
call gets a 5xx). Every crash is appended to `<FAULTS_FILE>.crashes` (one JSON line: point, key, at)
so the run can count what it injected. On AWS this module reads nothing and costs one dict lookup.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

_cache: dict[str, Any] = {"mtime": None, "config": {}}


class InjectedCrash(BaseException):
    """The function 'died' at a crash point (fault injection on the local emulator only)."""


def _enabled_file() -> str | None:
    if os.environ.get("LOCAL_EMULATOR", "").lower() != "true":
        return None
    return os.environ.get("FAULTS_FILE") or None


def _config(path: str) -> dict[str, Any]:
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return {}
    if mtime != _cache["mtime"]:
        try:
            with open(path, encoding="utf-8") as handle:
                loaded = json.load(handle)
        except (OSError, ValueError):
            loaded = {}
        _cache.update(mtime=mtime, config=loaded if isinstance(loaded, dict) else {})
    config: dict[str, Any] = _cache["config"]
    return config


def crash_point(name: str, key: str = "") -> None:
    """Raise `InjectedCrash` here with the configured probability (never outside the local emulator).

    `key` (e.g. the message id) is written to the crash log so a run can tell which item it hit.
    """
    path = _enabled_file()
    if path is None:
        return
    probability = float((_config(path).get("crash") or {}).get(name, 0) or 0)
    if probability <= 0 or random.random() >= probability:
        return
    with open(f"{path}.crashes", "a", encoding="utf-8") as log:
        log.write(json.dumps({"point": name, "key": key, "at": time.time()}) + "\n")
    raise InjectedCrash(f"fault injection: crash at {name} ({key})")
