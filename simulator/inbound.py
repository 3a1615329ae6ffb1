"""Inbound messages (contract §4): `POST /_sim/inbound` checked (`InboundRequest`) and planned as
parts for the webhook sender (`InboundMixin.inject_inbound`, part of `SimulatorState`)."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from simulator import checks, protocol
from simulator.config import SimulatorConfig
from simulator.receipts import Delivery, RetryPolicy, WebhookSender

OPEN_ACCOUNT_API_KEY = "00000000"  # the `api-key` of inbound messages when no api key is configured
MAX_DUPLICATES = 100


def _wire_text(request: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    """A string field of a control request; numbers (not booleans) are taken as their digits."""
    value = request.get(name)
    if value is None:
        if required:
            raise ValueError(f"{name}: required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{name}: must be a string")
    return str(value)


def _part_numbers(value: Any, name: str) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(number, int) and not isinstance(number, bool) for number in value
    ):
        raise ValueError(f"{name}: must be a list of part numbers (1-based)")
    return list(value)


@dataclass(frozen=True)
class InboundRequest:
    """A checked `POST /_sim/inbound` body; `parse` raises `ValueError("<field>: <why>")`.

    Required: `from` (the sender), `to` (our number), `text` (`data` instead for binary).
    Options: `type` (text | unicode | binary), `udh` (binary), `parts` (cut into N parts) or
    `split` (cut at the real 153 GSM-7 / 67 UCS-2 limits), `duplicate` (extra sends of each part),
    `shuffle` or `order` (the order the parts leave in), `drop` (parts not sent), `delay_ms`
    (before the first part), `gap_ms` (between parts), `message_timestamp`, `concat_ref`, `url`,
    `method`, `sign`, `api_key`, `fields` (overrides for every part; null removes).
    """

    sender: str
    to: str
    texts: list[str]
    kind: str = "text"
    data: str | None = None
    udh: str | None = None
    duplicate: int = 0
    shuffle: bool = False
    order: list[int] | None = None
    drop: frozenset[int] = frozenset()
    delay_ms: float = 0
    gap_ms: float = 0
    at: float | None = None
    concat_ref: str | None = None
    url: str | None = None
    method: str | None = None
    sign: bool = True
    api_key: str | None = None
    fields: Mapping[str, str | None] = field(default_factory=dict)

    OPTIONS: ClassVar[tuple[str, ...]] = (
        "from",
        "to",
        "text",
        "type",
        "data",
        "udh",
        "parts",
        "split",
        "duplicate",
        "shuffle",
        "order",
        "drop",
        "delay_ms",
        "gap_ms",
        "message_timestamp",
        "concat_ref",
        "url",
        "method",
        "sign",
        "api_key",
        "fields",
    )

    @classmethod
    def parse(cls, request: Mapping[str, Any]) -> InboundRequest:
        unknown = set(request) - set(cls.OPTIONS)
        if unknown:
            raise ValueError(f"{min(unknown)}: not an option; use {', '.join(cls.OPTIONS)}")
        sender = _wire_text(request, "from", required=True) or ""
        to = _wire_text(request, "to", required=True) or ""
        for name, value in (("from", sender), ("to", to)):
            if not value:
                raise ValueError(f"{name}: must not be empty")
        kind = request.get("type", "text")
        if kind not in protocol.INBOUND_TYPES:
            raise ValueError(f"type: must be one of {', '.join(protocol.INBOUND_TYPES)}")
        text = request.get("text")
        if text is not None and not isinstance(text, str):
            raise ValueError("text: must be a string")
        data = udh = None
        if kind == "binary":
            for name in ("parts", "split"):
                if name in request:
                    raise ValueError(f"{name}: binary messages are sent as one part")
            data, udh = _wire_text(request, "data", required=True), _wire_text(request, "udh")
            for hex_name, hex_value in (("data", data), ("udh", udh)):
                if hex_value is not None and not (hex_value and protocol.HEX_PATTERN.fullmatch(hex_value)):
                    raise ValueError(f"{hex_name}: must be hex octets, e.g. 0A1B")
            texts = [text or ""]
        else:
            for name in ("data", "udh"):
                if name in request:
                    raise ValueError(f"{name}: only for type binary")
            if text is None:
                raise ValueError("text: required")
            texts = cls._cut(text, kind, request)
        count = len(texts)
        order = None
        if request.get("order") is not None:
            if request.get("shuffle"):
                raise ValueError("order: give order or shuffle, not both")
            order = _part_numbers(request["order"], "order")
            if sorted(order) != list(range(1, count + 1)):
                raise ValueError(f"order: must list each part number from 1 to {count} once")
        drop = _part_numbers(request.get("drop", []), "drop")
        if any(not 1 <= number <= count for number in drop):
            raise ValueError(f"drop: part numbers go from 1 to {count}")
        duplicate = _count_option(request, "duplicate", 0)
        if duplicate > MAX_DUPLICATES:
            raise ValueError(f"duplicate: at most {MAX_DUPLICATES}")
        overrides = request.get("fields", {})
        if not isinstance(overrides, dict):
            raise ValueError("fields: must be an object of field values (null removes a field)")
        fields: dict[str, str | None] = {}
        for name, value in overrides.items():
            if isinstance(value, dict | list):
                raise ValueError(f"fields: {name}: must be a string, a number, a boolean or null")
            fields[name] = protocol.wire_string(value)
        return cls(
            sender=sender,
            to=to,
            texts=texts,
            kind=kind,
            data=data,
            udh=udh,
            duplicate=duplicate,
            shuffle=_checked(request, "shuffle", checks.flag, False),
            order=order,
            drop=frozenset(drop),
            delay_ms=_checked(request, "delay_ms", checks.number, 0),
            gap_ms=_checked(request, "gap_ms", checks.number, 0),
            at=cls._timestamp(request.get("message_timestamp")),
            concat_ref=_wire_text(request, "concat_ref") or None,
            url=_checked(request, "url", checks.http_url, None),
            method=_checked(request, "method", checks.dlr_method, None),
            sign=_checked(request, "sign", checks.flag, True),
            api_key=_wire_text(request, "api_key"),
            fields=fields,
        )

    @staticmethod
    def _cut(text: str, kind: str, request: Mapping[str, Any]) -> list[str]:
        parts, split = request.get("parts"), _checked(request, "split", checks.flag, False)
        if parts is not None and split:
            raise ValueError("parts: give parts or split, not both")
        if split:
            texts = protocol.split_text(text, kind)
        elif parts is not None:
            count = _count_option(request, "parts", 1)
            if not 1 <= count <= min(max(len(text), 1), protocol.MAX_CONCAT_PARTS):
                raise ValueError(
                    f"parts: must be from 1 to {protocol.MAX_CONCAT_PARTS} and at most the text's length"
                )
            texts = protocol.split_evenly(text, count)
        else:
            texts = [text]
        if len(texts) > protocol.MAX_CONCAT_PARTS:
            raise ValueError(f"text: would be {len(texts)} parts; at most {protocol.MAX_CONCAT_PARTS}")
        return texts

    @staticmethod
    def _timestamp(value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return protocol.parse_message_timestamp(value)
            except ValueError:
                pass
        elif isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
        raise ValueError('message_timestamp: must be "YYYY-MM-DD HH:MM:SS" (UTC) or unix seconds')


def _checked(request: Mapping[str, Any], name: str, check: Callable[[Any], Any], default: Any) -> Any:
    if request.get(name) is None:
        return default
    try:
        return check(request[name])
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _count_option(request: Mapping[str, Any], name: str, default: int) -> int:
    return int(_checked(request, name, checks.count, default))


class InboundMixin:
    """`SimulatorState`'s inbound messages (its lock, config, random source and owned numbers)."""

    _lock: threading.Lock
    config: SimulatorConfig
    _random: random.Random
    _stats: Counter[str]
    _numbers: dict[str, dict[str, Any]]
    _concat_refs: Iterator[int]
    webhooks: WebhookSender

    def inject_inbound(self, request: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """`POST /_sim/inbound`: queue one inbound message, as parts, for the gateway; (HTTP status, body).

        See `InboundRequest` for the request. The parts leave in the background, one after the
        other (each `gap_ms` after the previous one was first tried), signed when there is a
        signature secret, retried like receipts. The answer does not wait for them.
        """
        try:
            plan = InboundRequest.parse(request)
        except ValueError as exc:
            return 400, {"error": str(exc)}
        with self._lock:
            config = self.config
            owned = self._numbers.get(plan.to, {})
            url = plan.url or owned.get("moHttpUrl") or config.inbound_url
            if url is None:
                return 400, {
                    "error": "url: nowhere to send it: give a url, set inbound_url, "
                    f"or buy {plan.to} and set its moHttpUrl"
                }
            method = plan.method or config.inbound_method
            concat_ref = None
            if len(plan.texts) > 1:
                concat_ref = plan.concat_ref or str(next(self._concat_refs))
            parts = protocol.inbound_messages(
                msisdn=plan.sender,
                to=plan.to,
                texts=plan.texts,
                message_ids=[protocol.new_inbound_message_id() for _ in plan.texts],
                api_key=plan.api_key or config.api_key or OPEN_ACCOUNT_API_KEY,
                at=time.time() if plan.at is None else plan.at,
                kind=plan.kind,
                concat_ref=concat_ref,
                data=plan.data,
                udh=plan.udh,
            )
            for fields in parts:
                for name, value in plan.fields.items():
                    if value is None:
                        fields.pop(name, None)
                    else:
                        fields[name] = value
            numbers = list(range(1, len(parts) + 1)) if plan.order is None else list(plan.order)
            if plan.shuffle:
                self._random.shuffle(numbers)
            order = [
                number for number in numbers if number not in plan.drop for _ in range(1 + plan.duplicate)
            ]
            signing = (
                (config.signature_secret, config.signature_method)
                if plan.sign and config.signature_secret
                else None
            )
            retry = RetryPolicy(
                config.inbound_retry, config.inbound_retry_base_ms / 1000, config.inbound_retry_max_ms / 1000
            )
            chain = [
                Delivery(
                    url=url,
                    method=method,
                    fields=dict(parts[number - 1]),
                    signing=signing,
                    retry=retry,
                    timeout=config.inbound_timeout_ms / 1000,
                    kind="inbound",
                )
                for number in order
            ]
            for earlier, later in itertools.pairwise(chain):
                earlier.then, earlier.then_delay = later, plan.gap_ms / 1000
            if chain:
                self.webhooks.schedule((chain[0], plan.delay_ms / 1000))
            self._stats["inbound_injected"] += 1
        return 200, {
            "messages": parts,
            "concat_ref": concat_ref,
            "order": order,
            "url": url,
            "method": method,
        }
