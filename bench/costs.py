"""US East (N. Virginia) list prices and the cost of one million messages.

Prices are list prices (first tier, no free tier, no savings plans), as published by AWS and
checked on PRICES_CHECKED; the report prints them beside the result so a changed price is one edit.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

PRICES_CHECKED = "2026-11-25"


@dataclass(frozen=True)
class Prices:
    api_gateway_per_million: float = 1.00  # HTTP API, first 300 M requests a month (REST: 3.50)
    lambda_requests_per_million: float = 0.20
    lambda_gb_second: float = 0.0000166667  # x86_64, first 6 B GB-s a month
    sqs_per_million: float = 0.40  # standard queue, per 64 KB request
    dynamodb_wru_per_million: float = 0.625  # on-demand, after the November 2024 price cut
    dynamodb_rru_per_million: float = 0.125
    scheduler_per_million: float = 1.00  # EventBridge Scheduler invocations (after 14 M free)
    logs_ingest_per_gb: float = 0.50  # CloudWatch Logs ingestion (reported, not in the goal)
    # Provisioned capacity, for the cost model's "what it would take" (not the default stack): per
    # capacity unit-hour, and 1-year reserved capacity per 100 WCU (upfront + hourly). Not re-checked
    # with PRICES_CHECKED: from AWS's DynamoDB pricing page as the model's author knew it.
    dynamodb_wcu_hour: float = 0.00065
    dynamodb_rcu_hour: float = 0.00013
    dynamodb_reserved_100_wcu_upfront: float = 150.0
    dynamodb_reserved_100_wcu_hour: float = 0.0128

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("API Gateway HTTP API requests", f"{self.api_gateway_per_million:.2f} USD / million"),
            ("Lambda requests", f"{self.lambda_requests_per_million:.2f} USD / million"),
            ("Lambda duration (x86_64)", f"{self.lambda_gb_second:.10f} USD / GB-second"),
            ("SQS standard requests (64 KB each)", f"{self.sqs_per_million:.2f} USD / million"),
            ("DynamoDB on-demand writes", f"{self.dynamodb_wru_per_million:.3f} USD / million WRU"),
            ("DynamoDB on-demand reads", f"{self.dynamodb_rru_per_million:.3f} USD / million RRU"),
            ("EventBridge Scheduler invocations", f"{self.scheduler_per_million:.2f} USD / million"),
            ("CloudWatch Logs ingestion", f"{self.logs_ingest_per_gb:.2f} USD / GB"),
        ]


@dataclass(frozen=True)
class Invocation:
    """Lambda invocations of one function per message, each billed at its duration and memory."""

    function: str
    per_message: float
    duration_ms: float
    memory_mb: int

    @property
    def gb_seconds(self) -> float:
        billed_ms = math.ceil(self.duration_ms)  # billed in whole milliseconds
        return self.per_message * billed_ms / 1000 * self.memory_mb / 1024


@dataclass
class Usage:
    """What one message uses, averaged (amortised parts such as token requests included)."""

    api_requests: float = 0.0
    invocations: list[Invocation] = field(default_factory=list)
    sqs_requests: float = 0.0
    dynamodb_wru: float = 0.0
    dynamodb_rru: float = 0.0
    scheduler_invocations: float = 0.0
    log_bytes: float = 0.0


def cost_per_million(usage: Usage, prices: Prices | None = None) -> dict[str, float]:
    """USD per million messages, per service (and "total", "logs" outside the total)."""
    prices = prices or Prices()
    lambda_requests = sum(i.per_message for i in usage.invocations)
    gb_seconds = sum(i.gb_seconds for i in usage.invocations)
    costs = {
        "API Gateway": usage.api_requests * prices.api_gateway_per_million,
        "Lambda requests": lambda_requests * prices.lambda_requests_per_million,
        "Lambda duration": gb_seconds * 1_000_000 * prices.lambda_gb_second,
        "SQS": usage.sqs_requests * prices.sqs_per_million,
        "DynamoDB writes": usage.dynamodb_wru * prices.dynamodb_wru_per_million,
        "DynamoDB reads": usage.dynamodb_rru * prices.dynamodb_rru_per_million,
        "Scheduler": usage.scheduler_invocations * prices.scheduler_per_million,
    }
    costs["total"] = sum(costs.values())
    costs["CloudWatch Logs (not in total)"] = usage.log_bytes * 1_000_000 / 1e9 * prices.logs_ingest_per_gb
    return costs


def provisioned(prices: Prices, utilisation: float, reserved: bool = False) -> Prices:
    """`prices` with DynamoDB billed as provisioned capacity used at `utilisation` (a write unit per
    second for an hour is 3,600 WRU; unused capacity is paid too), optionally 1-year reserved writes."""
    wcu_hour = prices.dynamodb_wcu_hour
    if reserved:
        wcu_hour = (
            prices.dynamodb_reserved_100_wcu_upfront / 8760 + prices.dynamodb_reserved_100_wcu_hour
        ) / 100
    per_million = 1_000_000 / 3600 / utilisation
    return dataclasses.replace(
        prices,
        dynamodb_wru_per_million=wcu_hour * per_million,
        dynamodb_rru_per_million=prices.dynamodb_rcu_hour * per_million,
    )
