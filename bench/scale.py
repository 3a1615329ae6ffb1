"""Benchmark 6: the scale plan's numbers — hot keys, shards, concurrency, what breaks first.

A model fed with this run's measurements (benchmark 4's per-message calls, request units and warm
durations) plus a Monte-Carlo simulation of sharded hot keys: each write picks a shard at random,
and the busiest shard's writes in its busiest second (over a simulated minute) must stay under
DynamoDB's per-partition limit of 1,000 WRU/s. The plan itself is docs/scaling.md.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from bench.report import Goal, Section, Table

PARTITION_WRU = 1000  # DynamoDB: writes per second one partition (one key) accepts
PARTITION_RRU = 3000
HEADROOM = 0.7  # plan shards to 70 % of the partition limit: random spread is not even
SUSTAINED = 2000  # msg/s
BURST = 20_000  # msg/s (10×)


@dataclass(frozen=True)
class HotKey:
    name: str
    wru_per_write: float
    writes_per_message: float
    rate_basis: str  # "api" (every request) or "carrier" (every submission, paced)


def shards_needed(
    writes_per_second: float, wru_per_write: float, limit: float = PARTITION_WRU, headroom: float = HEADROOM
) -> int:
    return max(1, math.ceil(writes_per_second * wru_per_write / (limit * headroom)))


def busiest_shard(writes_per_second: float, shards: int, seconds: int = 60, seed: int = 7) -> int:
    """Writes in the busiest shard-second when each write picks one of `shards` at random."""
    rng = random.Random(seed)
    per_second = int(writes_per_second)
    worst = 0
    for _ in range(seconds):
        counts = [0] * shards
        for _ in range(per_second):
            counts[rng.randrange(shards)] += 1
        worst = max(worst, max(counts))
    return worst


def run(
    quick: bool = False, usage: object | None = None, durations: dict[str, float] | None = None
) -> Section:
    seconds = 10 if quick else 60
    keys = [
        HotKey("account balance (ACCOUNT#id, transactional charge)", 2.0, 1.0, "api"),
        HotKey("rate-limit window (RATE#id#second)", 1.0, 1.0, "api"),
        HotKey("carrier pacer (PACER#provider, GCRA slot)", 1.0, 1.0, "carrier"),
    ]
    rows, sims = [], []
    goals = []
    for key in keys:
        for label, rate in (("2,000/s", SUSTAINED), ("20,000/s burst", BURST)):
            writes = rate * key.writes_per_message
            if key.rate_basis == "carrier" and rate == BURST:
                writes = SUSTAINED  # the pacer admits the carrier's rate, not the burst
            load = writes * key.wru_per_write
            shards = shards_needed(writes, key.wru_per_write)
            worst = busiest_shard(writes, shards, seconds=seconds) * key.wru_per_write
            rows.append(
                [
                    key.name,
                    label,
                    f"{load:,.0f} WRU/s",
                    f"{load / PARTITION_WRU:.1f}×",
                    str(shards),
                    f"{worst:,.0f} WRU/s",
                ]
            )
            sims.append(worst)
    worst_after = max(sims)
    goals.append(
        Goal(
            "busiest key after sharding, per second (simulated)",
            f"{worst_after:,.0f} WRU/s",
            f"{PARTITION_WRU} WRU/s per partition",
            worst_after / PARTITION_WRU,
            "≤ 1.0",
        )
    )
    durations = durations or {}
    conc_rows = []
    for function, per_message, basis in (
        ("send", 1.0, "api"),
        ("authorizer", 1 / 1000, "api"),
        ("dispatch", 1.0, "carrier"),
        ("delivery_receipt", 1.0, "carrier"),
        ("webhook", 1.0, "carrier"),
    ):
        ms = durations.get(function)
        if ms is None:
            continue
        for label, rate in (("2,000/s", SUSTAINED), ("20,000/s burst", BURST)):
            r = rate if basis == "api" else min(rate, SUSTAINED)
            conc_rows.append([function, label, f"{ms:.0f} ms", f"{r * per_message * ms / 1000:,.0f}"])
    tables = [
        Table(
            [
                "hot key",
                "traffic",
                "write load on one key",
                "× partition limit",
                "shards (70 % target)",
                "busiest shard, simulated",
            ],
            rows,
            title=f"Hot keys: one account sending everything (worst case); simulated {seconds} s of random shard choice",
        ),
    ]
    if conc_rows:
        tables.append(
            Table(
                ["function", "traffic", "warm duration (benchmark 4, moto)", "concurrent executions needed"],
                conc_rows,
                title="Lambda concurrency = rate × duration (Little's law); bursts beyond the carrier rate wait in SQS",
            )
        )
    return Section(
        "scale",
        "6. Scale plan figures (model + simulation)",
        __doc__.split("\n\n", 1)[1] if __doc__ else "",
        goals=goals,
        tables=tables,
        notes=[
            "The plan, the proposed template and code changes and what breaks first: [scaling.md](scaling.md)."
        ],
    )
