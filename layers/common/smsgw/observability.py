"""Logging and metrics (Powertools). Tracing stays off: Tracer() costs ~400 ms at cold start.

Metrics are CloudWatch EMF in namespace `smsgw` with the dimension `service=smsgw`; the alarms and the
dashboard in template.yaml read them by these names (docs/operations.md lists them). Delivery outcomes
and latencies are also broken down by carrier and destination country — never by phone number.
"""

from __future__ import annotations

import re
import threading

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricResolution, MetricUnit, single_metric

NAMESPACE = "smsgw"
SERVICE = "smsgw"


class _ThreadSafeMetrics(Metrics):
    """Powertools' Metrics, safe to add to from the threads a batch's records run on
    (edges/sqs_batch.py): its metric set is a shared dict it reads, changes and writes back."""

    _lock = threading.Lock()

    def add_metric(
        self, name: str, unit: MetricUnit | str, value: float, resolution: MetricResolution | int = 60
    ) -> None:
        with self._lock:
            super().add_metric(name=name, unit=unit, value=value, resolution=resolution)


logger = Logger(service=SERVICE)
metrics: Metrics = _ThreadSafeMetrics(namespace=NAMESPACE, service=SERVICE)

# A run of digits long enough to be a phone number (E.164 has at most 15).
_NUMBER_IN_TEXT = re.compile(r"\+?\d{7,15}")


def mask_number(msisdn: str | None) -> str:
    """Phone numbers are personal data: logs keep only the country part and the last two digits."""
    if not msisdn:
        return ""
    return msisdn[:3] + "*" * max(len(msisdn) - 5, 0) + msisdn[-2:] if len(msisdn) > 5 else "*" * len(msisdn)


def mask_numbers_in(text: str) -> str:
    """`text` with every phone-number-like run of digits masked (for error messages that quote input)."""
    return _NUMBER_IN_TEXT.sub(lambda match: mask_number(match.group()), text)


def count(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def delivery_metric(name: str, *, carrier: str, country: str, milliseconds: float | None = None) -> None:
    """A delivery outcome (a count) or latency (milliseconds): once for the whole gateway (what alarms
    and the dashboard read) and once per carrier and destination country (the breakdown)."""
    unit = MetricUnit.Count if milliseconds is None else MetricUnit.Milliseconds
    value = 1.0 if milliseconds is None else max(milliseconds, 0.0)
    metrics.add_metric(name=name, unit=unit, value=value)
    with single_metric(
        name=name, unit=unit, value=value, namespace=NAMESPACE, default_dimensions={"service": SERVICE}
    ) as metric:
        metric.add_dimension(name="carrier", value=carrier or "unknown")
        metric.add_dimension(name="country", value=country or "unknown")
