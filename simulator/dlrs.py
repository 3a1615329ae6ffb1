"""Delivery receipts (contract §3): planned when a submission is accepted, or sent on demand with
`POST /_sim/dlr` (`DlrMixin`, part of `SimulatorState`); `simulator.receipts` sends them."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from simulator import protocol
from simulator.config import RECEIPT_OPTIONS, SimulatorConfig
from simulator.receipts import Delivery, RetryPolicy, WebhookSender


@dataclass(frozen=True)
class AcceptedPart:
    """What a receipt for one accepted part needs to know about its submission."""

    submission: Mapping[str, str]
    api_key: str


class DlrMixin:
    """`SimulatorState`'s delivery receipts (its lock, config, random source and accepted parts)."""

    _lock: threading.Lock
    config: SimulatorConfig
    _random: random.Random
    _stats: Counter[str]
    _parts: dict[str, AcceptedPart]
    webhooks: WebhookSender
    _chance: Callable[[float], bool]

    def _plan_receipts(self, submission: Mapping[str, str], message_ids: list[str], api_key: str) -> None:
        """Decide every receipt of an accepted submission now (seeded) and schedule them."""
        config = self.config
        url = protocol.receipt_url(submission, config.dlr_url)
        if url is None or not protocol.wants_receipt(submission):
            self._stats["dlrs_skipped"] += len(message_ids)
            return
        accepted_at = time.time()
        first_receipts: list[tuple[Delivery, float]] = []
        for message_id in message_ids:
            final = self._next_status()
            statuses = [final]
            if final in protocol.DLR_FINAL_STATUSES and self._chance(config.dlr_intermediate):
                intermediate = "buffered" if final == "expired" else "accepted"
                late = config.dlr_reorder or self._chance(config.dlr_reorder_rate)
                statuses = [final, intermediate] if late else [intermediate, final]
            chain: list[tuple[float, Delivery]] = []  # (delay after the previous one, receipt)
            at = accepted_at
            for status in statuses:
                delay = self._receipt_delay()
                at += delay
                fields = protocol.delivery_receipt(
                    submission,
                    message_id,
                    status,
                    api_key=api_key,
                    network=config.network,
                    price=config.price,
                    at=at,
                )
                chain.append((delay, self._delivery(url, config.dlr_method, fields)))
                if self._chance(config.dlr_duplicate_rate):
                    chain.append((0.0, self._delivery(url, config.dlr_method, fields)))
            for (_, earlier), (delay, later) in itertools.pairwise(chain):
                earlier.then, earlier.then_delay = later, delay
            first_receipts.append((chain[0][1], chain[0][0]))
        self.webhooks.schedule(*first_receipts)

    def _next_status(self) -> str:
        config = self.config
        if config.dlr_next:
            status, config.dlr_next = config.dlr_next[0], config.dlr_next[1:]
            return status
        weighted = [(status, weight) for status, weight in config.dlr_statuses.items() if weight > 0]
        if len(weighted) == 1:
            return weighted[0][0]
        statuses, weights = zip(*weighted, strict=True)
        return self._random.choices(statuses, weights)[0]

    def _receipt_delay(self) -> float:
        low, high = self.config.dlr_delay_ms
        return (low if low == high else self._random.uniform(low, high)) / 1000

    def _delivery(self, url: str, method: str, fields: dict[str, str], signed: bool = True) -> Delivery:
        config = self.config
        return Delivery(
            url=url,
            method=method,
            fields=fields,
            signing=(config.signature_secret, config.signature_method)
            if signed and config.signature_secret
            else None,
            retry=RetryPolicy(
                config.dlr_retry, config.dlr_retry_base_ms / 1000, config.dlr_retry_max_ms / 1000
            ),
            timeout=config.dlr_timeout_ms / 1000,
        )

    def send_receipt(self, request: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """`POST /_sim/dlr`: send one receipt for an accepted part now; (HTTP status, body).

        `messageId` names the part; every other field overrides (null removes) the receipt field of
        that name. `status` also picks the default `err-code`. Options: `_url` (default: the part's
        `callback`, else `dlr_url`), `_method` (default `dlr_method`), `_sign` (default true).
        """
        fields = dict(request)
        options = {name: fields.pop(name) for name in list(fields) if name.startswith("_")}
        message_id = fields.get("messageId")
        if not isinstance(message_id, str) or not message_id:
            return 400, {"error": "messageId: required, the message-id of an accepted part"}
        unknown = set(options) - set(RECEIPT_OPTIONS)
        if unknown:
            return 400, {"error": f"{min(unknown)}: not an option; use {', '.join(RECEIPT_OPTIONS)}"}
        checked: dict[str, Any] = {}
        for name, value in options.items():
            try:
                checked[name] = RECEIPT_OPTIONS[name](value)
            except ValueError as exc:
                return 400, {"error": f"{name}: {exc}"}
        for name, value in fields.items():
            if isinstance(value, dict | list):
                return 400, {"error": f"{name}: must be a string, a number, a boolean or null"}
        with self._lock:
            config = self.config
            part = self._parts.get(message_id)
            if part is None:
                return 404, {"error": f"messageId: no accepted part has the message-id {message_id!r}"}
            url = checked.get("_url") or protocol.receipt_url(part.submission, config.dlr_url)
            if url is None:
                return 400, {"error": "_url: the part has no callback and there is no dlr_url; give one"}
            status = fields.get("status")
            receipt = protocol.delivery_receipt(
                part.submission,
                message_id,
                status if status in protocol.DLR_STATUSES else "delivered",
                api_key=part.api_key,
                network=config.network,
                price=config.price,
                at=time.time(),
            )
            for name, value in fields.items():
                if value is None:
                    receipt.pop(name, None)
                else:
                    receipt[name] = protocol.wire_string(value) or ""
            delivery = self._delivery(
                url, checked.get("_method", config.dlr_method), receipt, signed=checked.get("_sign", True)
            )
        record = self.webhooks.send_now(delivery)  # outside the lock: the gateway may take its time
        if not record:
            return 409, {"error": "the simulator was reset or stopped while sending"}
        return 200, {"dlr": record}
