"""Logging and metrics (Powertools). Tracing stays off: Tracer() costs ~400 ms at cold start."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="smsgw")
metrics = Metrics(namespace="smsgw", service="smsgw")


def mask_number(msisdn: str | None) -> str:
    """Phone numbers are personal data: logs keep only the country part and the last two digits."""
    if not msisdn:
        return ""
    return msisdn[:3] + "*" * max(len(msisdn) - 5, 0) + msisdn[-2:] if len(msisdn) > 5 else "*" * len(msisdn)
