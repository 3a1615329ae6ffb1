"""Ports more than one domain declares alike (inbound's and receipts'), of plain types only; see docs/architecture.md "ports"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class WebhookEnqueue(Protocol):
    """A signed webhook to the account, at most once per dedupe key."""

    def enqueue(
        self,
        *,
        account_id: str,
        url: str,
        event_type: str,
        payload: dict[str, Any],
        subject_id: str,
        dedupe_key: str,
    ) -> str: ...


class ConnectorWebhooks(Protocol):
    """Whether a webhook at a connector's endpoint really comes from that connector's carrier."""

    def verify_webhook(
        self, name: str, params: Mapping[str, str], what: str, now: float | None = None
    ) -> None: ...
