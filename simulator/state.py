"""`SimulatorState`: everything the simulator remembers, behind one lock, and the fate of each
submission. Receipts (`simulator.dlrs`), inbound messages (`simulator.inbound`), the Numbers API
(`simulator.numbers`) and KPN tokens (`simulator.tokens`) are mixins sharing that lock."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from simulator import protocol
from simulator.config import SimulatorConfig
from simulator.dlrs import AcceptedPart, DlrMixin
from simulator.inbound import InboundMixin
from simulator.numbers import NumbersMixin
from simulator.protocol import SmsFailure
from simulator.receipts import Timer, WebhookSender
from simulator.tokens import TokensMixin

STAT_NAMES = (
    "accepted",
    "parts",
    "throttled",
    "failed",
    "slow_accepted",  # accepted, recorded, and answered only after `slow_accept_ms`
    "rejected",
    "invalid",
    "unauthorized",
    "tokens_issued",
    "dlrs_sent",  # receipts the gateway acknowledged (2xx)
    "dlrs_failed",  # receipts given up on: a non-retried answer, or out of attempts
    "dlrs_skipped",  # receipts not sent: not asked for, or no `callback` and no `dlr_url`
    "dlr_attempts",  # HTTP requests made for receipts, retries included
    "inbound_injected",  # inbound messages injected with POST /_sim/inbound
    "inbound_sent",  # inbound parts the gateway acknowledged (2xx), duplicates included
    "inbound_failed",  # inbound parts given up on: a non-retried answer, or out of attempts
    "inbound_attempts",  # HTTP requests made for inbound parts, retries included
)


class SimulatorState(DlrMixin, InboundMixin, NumbersMixin, TokensMixin):
    """Everything the simulator remembers, behind one lock; `webhooks` sends receipts and inbound messages.

    `clock` (monotonic seconds) times the rate window and token expiry; `timer` times the webhooks'
    delays and retries (`simulator.receipts.ManualTimer` in tests). Call `close()` when done.
    Owned numbers outlive `reset()` unless it is asked to forget them.
    """

    def __init__(
        self,
        config: SimulatorConfig,
        clock: Callable[[], float] = time.monotonic,
        timer: Timer | None = None,
    ) -> None:
        self.config = config
        self.credentials = protocol.ApiCredentials(
            config.api_key, config.api_secret, config.signature_secret, config.signature_method
        )
        self._initial = dataclasses.replace(config)
        self._clock = clock
        self._lock = threading.Lock()
        self._random = random.Random(config.seed)
        self._tokens: dict[str, tuple[float, str]] = {}  # access token -> (expiry (clock), client_id)
        self._numbers: dict[str, dict[str, Any]] = {}  # owned numbers by msisdn
        self.webhooks = WebhookSender(timer, workers=config.dlr_workers)
        self._forget()

    @property
    def receipts(self) -> WebhookSender:
        """The webhook sender (its older name, from when it sent only receipts)."""
        return self.webhooks

    def _forget(self) -> None:
        self._messages: list[dict[str, Any]] = []
        self._parts: dict[str, AcceptedPart] = {}  # message-id -> its submission, for receipts on demand
        self._stats: Counter[str] = Counter()
        self._window: deque[float] = deque()  # clock times of accepted requests in the last second
        self._balance = Decimal(self.config.balance)
        self._concat_refs = itertools.cycle(range(1, 256))  # one octet, as in the concatenation header
        self.webhooks.reset()

    def close(self) -> None:
        """Stop sending webhooks (pending ones are dropped) and end the sender's threads."""
        self.webhooks.stop()

    # control API

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(message) for message in self._messages]

    def stats(self) -> dict[str, int]:
        with self._lock:
            counts = self._stats + Counter(self.webhooks.counts())
            return {name: counts[name] for name in STAT_NAMES}

    def dlrs(self) -> list[dict[str, Any]]:
        return self.webhooks.records("dlr")

    def inbound(self) -> list[dict[str, Any]]:
        return self.webhooks.records("inbound")

    def owned_numbers(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(self._numbers[msisdn]) for msisdn in sorted(self._numbers)]

    def runtime_config(self) -> dict[str, Any]:
        with self._lock:
            return self.config.runtime()

    def update_config(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.config.update(changes)
            return self.config.runtime()

    def reset(self, config: bool = False, numbers: bool = False) -> None:
        with self._lock:
            if config:
                self.config = dataclasses.replace(self._initial)
                self._random = random.Random(self.config.seed)
            if numbers:
                self._numbers.clear()
            self._forget()

    def count(self, stat: str) -> None:
        with self._lock:
            self._stats[stat] += 1

    def latency_seconds(self) -> float:
        return self.config.latency_ms / 1000

    # carrier behaviour

    def submit(
        self, params: Mapping[str, str], api: str, auth: str, api_key: str = ""
    ) -> tuple[int, dict[str, Any]]:
        """Decide the fate of one authenticated submission: (HTTP status, body).

        `api_key` is the account the request came as; the receipts of its parts carry it.
        """
        status, body, _ = self.submit_timed(params, api, auth, api_key)
        return status, body

    def submit_timed(
        self, params: Mapping[str, str], api: str, auth: str, api_key: str = ""
    ) -> tuple[int, dict[str, Any], float]:
        """`submit`, plus how many seconds to hold the answer back: `slow_accept_ms` for the share
        `slow_accept_rate` of accepted submissions (recorded, receipts planned, answered late), else 0."""
        status, body = self._submit(params, api, auth, api_key)
        with self._lock:
            if status != 200 or body.get("messages", [{}])[0].get("status") != "0":
                return status, body, 0.0
            if not self._chance(self.config.slow_accept_rate):
                return status, body, 0.0
            delay_ms = self.config.slow_accept_ms
            self._stats["slow_accepted"] += 1
            message_id = body["messages"][0]["message-id"]
            for record in reversed(self._messages):
                if record["message-id"] == message_id:
                    record["slow_answer_ms"] = delay_ms
                    break
        return status, body, delay_ms / 1000

    def _submit(
        self, params: Mapping[str, str], api: str, auth: str, api_key: str = ""
    ) -> tuple[int, dict[str, Any]]:
        to = params.get("to")
        with self._lock:
            config = self.config
            try:
                protocol.validate_submission(params)
            except SmsFailure as failure:
                self._stats["invalid"] += 1
                return 200, failure.response()
            if self._take("fail_next") or self._chance(config.fail_rate):
                self._stats["failed"] += 1
                return 500, {"error": "Internal Server Error", "detail": "injected by the carrier simulator"}
            now = self._clock()
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            over_rate = bool(config.rate_per_second) and len(self._window) >= config.rate_per_second
            if over_rate or self._take("throttle_next") or self._chance(config.throttle_rate):
                self._stats["throttled"] += 1
                return 200, SmsFailure(protocol.THROTTLED).response(to)
            if self._take("reject_next") or self._chance(config.reject_rate):
                self._stats["rejected"] += 1
                return 200, SmsFailure(config.error_status).response(to)
            self._window.append(now)
            return 200, self._accept(params, api, auth, api_key)

    def _take(self, setting: str) -> bool:
        remaining = getattr(self.config, setting)
        if remaining > 0:
            setattr(self.config, setting, remaining - 1)
        return remaining > 0

    def _chance(self, rate: float) -> bool:
        return rate > 0 and self._random.random() < rate

    def _accept(self, params: Mapping[str, str], api: str, auth: str, api_key: str) -> dict[str, Any]:
        config = self.config
        message_ids = [str(uuid.uuid4()) for _ in range(protocol.count_parts(params))]
        elements = []
        for message_id in message_ids:
            self._balance -= Decimal(config.price)
            element = {
                "to": params["to"],
                "message-id": message_id,
                "status": "0",
                "remaining-balance": f"{self._balance:.8f}",
                "message-price": config.price,
                "network": config.network,
            }
            if "client-ref" in params:
                element["client-ref"] = params["client-ref"]
            elements.append(element)
        record: dict[str, Any] = {name: value for name, value in params.items() if name != "api_secret"}
        record.update(
            {
                "type": params.get("type") or "text",
                "text": params.get("text"),
                "client-ref": params.get("client-ref"),
                "message-id": message_ids[0],
                "message-ids": message_ids,
                "parts": len(message_ids),
                "received_at": time.time(),
                "api": api,
                "auth": auth,
            }
        )
        self._messages.append(record)
        self._stats["accepted"] += 1
        self._stats["parts"] += len(message_ids)
        submission = {name: value for name, value in params.items() if name != "api_secret"}
        for message_id in message_ids:
            self._parts[message_id] = AcceptedPart(submission, api_key)
        self._plan_receipts(submission, message_ids, api_key)
        return protocol.success_response(elements)
