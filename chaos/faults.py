"""The faults of a chaos run: the carrier simulator's settings, the receiver's failure share, and the
crash points the functions honour (`smsgw.faults.crash_point`), written to the run's faults file."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The named points where a function "dies" (smsgw.faults.crash_point), in the order of a message's life.
CRASH_POINTS: tuple[str, ...] = (
    "send.after_charge",  # charged and stored, before the send queue has it
    "dispatch.after_submit",  # the carrier accepted, before the gateway recorded it
    "dispatch.after_status",  # recorded as submitted, before the carrier id's lookup (a receipt waits)
    "receipt.apply",  # a receipt's status written (a one-part message: also the message's), before the callback
    "inbound.assembly",  # an inbound message stored, before it is forwarded
)

# The gateway's carrier client gives up reading an answer after this long (layers/common/smsgw/carrier/
# vonage.py, DEFAULT_TIMEOUT = (3.05, 10.0)); a slow accept must be answered later than that.
CARRIER_READ_TIMEOUT_SECONDS = 10.0


@dataclass
class Faults:
    """Everything that goes wrong on purpose, all at once."""

    carrier_error_rate: float = 0.20  # HTTP 500
    carrier_throttle_rate: float = 0.10  # status 1 (of what was not a 500)
    slow_accept_rate: float = 0.05  # accepted and recorded, answered after the read timeout
    slow_accept_ms: int = 15_000
    dlr_intermediate: float = 0.5  # accepted/buffered before the final receipt ...
    dlr_reorder_rate: float = 0.3  # ... or after it
    dlr_duplicate_rate: float = 0.2
    dlr_delay_ms: tuple[int, int] = (0, 1500)  # 0: a receipt may come before the gateway wrote the submission
    dlr_statuses: dict[str, float] = field(
        default_factory=lambda: {"delivered": 0.9, "failed": 0.05, "expired": 0.05}
    )
    receiver_fail_rate: float = 0.40  # the webhook receiver answers 503
    crash: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CRASH_POINTS, 0.04))
    seed: int = 11

    def __post_init__(self) -> None:
        if self.slow_accept_ms <= CARRIER_READ_TIMEOUT_SECONDS * 1000:
            raise ValueError("slow_accept_ms must be longer than the carrier client's read timeout")
        unknown = set(self.crash) - set(CRASH_POINTS)
        if unknown:
            raise ValueError(f"unknown crash point(s): {', '.join(sorted(unknown))}")

    def simulator_config(self) -> dict[str, Any]:
        """`PUT /_sim/config` for the carrier's faults; retries shortened so a run settles in minutes."""
        return {
            "fail_rate": self.carrier_error_rate,
            "throttle_rate": self.carrier_throttle_rate,
            "slow_accept_rate": self.slow_accept_rate,
            "slow_accept_ms": self.slow_accept_ms,
            "dlr_statuses": dict(self.dlr_statuses),
            "dlr_intermediate": self.dlr_intermediate,
            "dlr_reorder_rate": self.dlr_reorder_rate,
            "dlr_duplicate_rate": self.dlr_duplicate_rate,
            "dlr_delay_ms": list(self.dlr_delay_ms),
            # Vonage retries a receipt or an inbound part for a day (5 s doubling); here 2 s doubling, 6 tries.
            "dlr_retry": 6,
            "dlr_retry_base_ms": 2000,
            "inbound_retry": 6,
            "inbound_retry_base_ms": 2000,
        }

    def faults_file(self) -> dict[str, Any]:
        """What `smsgw.faults` reads from FAULTS_FILE."""
        return {"crash": dict(self.crash), "seed": self.seed}


def write_faults_file(path: Path, content: Mapping[str, Any]) -> None:
    """Write atomically: the functions re-read the file when its modification time changes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def crash_log(faults_path: Path) -> Path:
    return faults_path.with_name(faults_path.name + ".crashes")


def read_crashes(faults_path: Path) -> list[dict[str, Any]]:
    """The crashes the functions injected: one JSON line each in `<FAULTS_FILE>.crashes`."""
    try:
        lines = crash_log(faults_path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return parse_crash_lines(lines)


def parse_crash_lines(lines: Iterable[str]) -> list[dict[str, Any]]:
    crashes = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by a dying worker
        if isinstance(entry, dict) and isinstance(entry.get("point"), str):
            crashes.append(entry)
    return crashes


def crashes_by_point(crashes: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Crashes per point: every known point (0 when none), then any other point that appeared."""
    counts = Counter(str(c["point"]) for c in crashes)
    return {**{point: counts.get(point, 0) for point in CRASH_POINTS}, **counts}
