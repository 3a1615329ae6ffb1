"""The carrier simulator's HTTP server: carrier routes, fault injection, delivery receipts, inbound
messages, owned numbers and the `/_sim/*` control API. `docs/simulator.md` documents every route
and setting, with curl examples.

Carrier routes (what the gateway calls, as it would call the real carrier):
  POST /sms/json                                   Vonage SMS API (key+secret, Basic or signature)
  POST /oauth/client_credential/accesstoken        KPN OAuth token (`?grant_type=client_credentials`)
  POST /communication/nexmo/sms/send               KPN's send (Bearer token), same body as /sms/json
  GET  /number/search, /account/numbers            Vonage Numbers API (key+secret or Basic)
  POST /number/buy, /number/cancel, /number/update
  …    /communication/nexmo/phone-numbers/<same>   KPN's wrapper of the Numbers API (Bearer token)

Control API (JSON in and out; for tests, `make run` and benchmarks):
  GET  /_sim/messages        every accepted submission, in order
  GET  /_sim/dlrs            every delivery receipt tried, in order of first attempt, with its outcome
  POST /_sim/dlr             send a receipt now: `{"messageId": ..., <fields to override>...}`
  POST /_sim/inbound         inject an inbound SMS: `{"from", "to", "text", <options>}` (`_InboundRequest`)
  GET  /_sim/inbound         every inbound part tried, in order of first attempt, with its outcome
  GET  /_sim/numbers         the numbers owned (bought through the Numbers API)
  GET  /_sim/stats           counters
  GET  /_sim/config          the behaviour settings;  PUT: change some of them (`RUNTIME_SETTINGS`)
  POST /_sim/reset           forget messages, receipts and inbound parts (pending ones are dropped),
                             stats and the rate window (`{"config": true}`: and the config;
                             `{"numbers": true}`: and the owned numbers, which are kept otherwise)
  POST /_sim/tokens/expire   expire every KPN token issued so far (the next send with one gets a 401)

A submission goes through, in order: validation (status 2/3/12), `fail_next`/`fail_rate` (HTTP 500),
`rate_per_second` then `throttle_next`/`throttle_rate` (status 1), `reject_next`/`reject_rate`
(`error_status`, default 6), and is then accepted; a share `slow_accept_rate` of accepted ones is
answered only after `slow_accept_ms` (accepted and recorded at once, receipts planned as usual). Only accepted requests count towards the rate,
one per request whatever its parts.

Delivery receipts (contract §3): for each part of an accepted submission that asked for them
(`status-report-req` not false/0) and has somewhere to go (its `callback`, else `dlr_url`), the
simulator plans the receipts at once — the status (`dlr_next`, else drawn from `dlr_statuses`), an
optional intermediate `accepted`/`buffered` one before it (or after it, `dlr_reorder`), duplicates,
delays — from the seeded random source, and hands them to `simulator.receipts.WebhookSender`, which
sends them in the background (signed with `signature_secret` when there is one), retries like
Vonage and records the outcome. The submission's answer never waits for them.

Inbound messages (contract §4): `POST /_sim/inbound` builds the parts of one message (split into
`parts`, or at the real limits with `split`), picks their order (`order`, or seeded `shuffle`),
drops and duplicates, and hands them to the same sender as one chain: each part leaves after the
previous one was first tried, to the number's `moHttpUrl` (an owned number), else `inbound_url`.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import itertools
import json
import random
import socket
import socketserver
import sys
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import urlsplit

from simulator import protocol
from simulator.protocol import SmsFailure
from simulator.receipts import Delivery, RetryPolicy, Timer, WebhookSender, fetch_status

# --- configuration ----------------------------------------------------------------------------------------


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("must be a whole number ≥ 0")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError("must be a number ≥ 0")
    return value


def _probability(value: Any) -> float:
    if _number(value) > 1:
        raise ValueError("must be between 0 and 1")
    return value


def _status(value: Any) -> str:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or text == "0":
        raise ValueError('must be a non-zero Vonage status code, e.g. "6"')
    return text


def _positive_count(value: Any) -> int:
    if _count(value) < 1:
        raise ValueError("must be a whole number ≥ 1")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _url(value: Any) -> str | None:
    if value is None or value == "":
        return None
    url = urlsplit(value) if isinstance(value, str) else None
    try:
        valid = url is not None and url.scheme in ("http", "https") and bool(url.hostname) and url.port != 0
    except ValueError:  # a port that is not a number
        valid = False
    if not valid:
        raise ValueError("must be an http:// or https:// URL, or null")
    return value


def _dlr_method(value: Any) -> str:
    method = value.upper() if isinstance(value, str) else None
    if method not in protocol.DLR_METHODS:
        raise ValueError(f"must be one of {', '.join(protocol.DLR_METHODS)}")
    return method


MAX_POOL_SIZE = 10_000


def _pool_size(value: Any) -> int:
    if _positive_count(value) > MAX_POOL_SIZE:
        raise ValueError(f"must be a whole number from 1 to {MAX_POOL_SIZE}")
    return value


def _dlr_statuses(value: Any) -> dict[str, float]:
    final = ", ".join(protocol.DLR_FINAL_STATUSES)
    if not isinstance(value, dict) or not value:
        raise ValueError(f'must be an object of weights by final status ({final}), e.g. {{"delivered": 1}}')
    weights = {}
    for status, weight in value.items():
        if status not in protocol.DLR_FINAL_STATUSES:
            raise ValueError(f"{status!r} is not a final status; use {final}")
        try:
            weights[status] = float(_number(weight))
        except ValueError as exc:
            raise ValueError(f"{status}: {exc}") from None
    if not sum(weights.values()) > 0:
        raise ValueError("at least one weight must be above 0")
    return weights


def _dlr_status_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(status in protocol.DLR_STATUSES for status in value):
        raise ValueError(f"must be a list of receipt statuses ({', '.join(protocol.DLR_STATUSES)})")
    return list(value)


def _delay_range(value: Any) -> list[float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError("must be [min, max] in milliseconds")
    low, high = _number(value[0]), _number(value[1])
    if low > high:
        raise ValueError("min must not be above max")
    return [low, high]


# What `PUT /_sim/config` may change, each with its check.
RUNTIME_SETTINGS: dict[str, Callable[[Any], Any]] = {
    "rate_per_second": _number,  # accepted requests per sliding second; 0 = unlimited
    "latency_ms": _count,  # added before answering a submission
    "throttle_rate": _probability,  # share of submissions answered status 1
    "fail_rate": _probability,  # share answered HTTP 500
    "reject_rate": _probability,  # share answered `error_status`
    "error_status": _status,  # the status of injected rejections
    "fail_next": _count,  # the next N submissions: HTTP 500
    "slow_accept_rate": _probability,  # share of accepted submissions answered only after `slow_accept_ms`
    "slow_accept_ms": _count,  # how late those are answered (longer than the client's read timeout)
    "throttle_next": _count,  # the next N: status 1
    "reject_next": _count,  # the next N: `error_status`
    "kpn_token_lifetime": _count,  # seconds, for tokens minted from now on
    # delivery receipts, read when a submission is accepted (receipts planned before keep their plan)
    "dlr_url": _url,  # where receipts go when the submission has no `callback`; null = nowhere
    "dlr_method": _dlr_method,  # POST-JSON | POST (form) | GET (query string)
    "dlr_statuses": _dlr_statuses,  # weights of the final statuses
    "dlr_next": _dlr_status_list,  # the statuses of the next parts, in order, before any weights
    "dlr_intermediate": _probability,  # share of parts with an `accepted` (`buffered` if expired) first
    "dlr_reorder": _flag,  # send the intermediate receipt after the final one
    "dlr_reorder_rate": _probability,  # share of intermediate receipts sent after the final one
    "dlr_duplicate_rate": _probability,  # share of receipts sent twice
    "dlr_delay_ms": _delay_range,  # [min, max] before each receipt of a part (after acceptance / the last)
    "dlr_retry": _positive_count,  # attempts per receipt (1 = no retry) on no answer, 429 or 5xx
    "dlr_retry_base_ms": _count,  # first backoff; doubles each attempt
    "dlr_retry_max_ms": _count,  # backoff cap
    "dlr_timeout_ms": _positive_count,  # how long to wait for the gateway's answer
    # inbound messages (`POST /_sim/inbound`), read when one is injected
    "inbound_url": _url,  # the account's default inbound URL (moCallBackUrl); an owned number's moHttpUrl wins
    "inbound_method": _dlr_method,  # POST-JSON | POST (form) | GET (query string)
    "inbound_retry": _positive_count,  # attempts per part (1 = no retry) on no answer, 429 or 5xx
    "inbound_retry_base_ms": _count,  # first backoff; doubles each attempt
    "inbound_retry_max_ms": _count,  # backoff cap
    "inbound_timeout_ms": _positive_count,  # how long to wait for the gateway's answer
    # the Numbers API
    "numbers_pool_size": _pool_size,  # numbers for sale per country and type
    "numbers_fail_next": _count,  # the next N Numbers API calls: HTTP 500
    "numbers_check_mo_url": _flag,  # /number/update GETs a new moHttpUrl and wants a 200, as Vonage does
}

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


@dataclass
class SimulatorConfig:
    """The account the simulator accepts (fixed) and how it behaves (`RUNTIME_SETTINGS`, changeable).

    Without `api_key` any Vonage credentials pass; without `kpn_client_id` any KPN client does.
    """

    api_key: str | None = None
    api_secret: str | None = None
    signature_secret: str | None = None
    signature_method: str = "md5"
    kpn_client_id: str | None = None
    kpn_client_secret: str | None = None
    price: str = "0.03330000"
    network: str = "20416"
    balance: str = "100000.00000000"
    seed: int | None = None
    verbose: bool = False
    rate_per_second: float = 0
    latency_ms: int = 0
    throttle_rate: float = 0.0
    fail_rate: float = 0.0
    reject_rate: float = 0.0
    error_status: str = "6"
    fail_next: int = 0
    throttle_next: int = 0
    reject_next: int = 0
    slow_accept_rate: float = 0.0
    slow_accept_ms: int = 15_000
    kpn_token_lifetime: int = 3599
    dlr_url: str | None = None
    dlr_method: str = "POST-JSON"
    dlr_statuses: dict[str, float] = field(default_factory=lambda: {"delivered": 1.0})
    dlr_next: list[str] = field(default_factory=list)
    dlr_intermediate: float = 0.0
    dlr_reorder: bool = False
    dlr_reorder_rate: float = 0.0
    dlr_duplicate_rate: float = 0.0
    dlr_delay_ms: list[float] = field(default_factory=lambda: [50, 200])
    dlr_retry: int = 3
    dlr_retry_base_ms: int = 5000
    dlr_retry_max_ms: int = 900_000
    dlr_timeout_ms: int = 5000
    dlr_workers: int = 4  # threads sending receipts and inbound messages (fixed at start)
    inbound_url: str | None = None
    inbound_method: str = "POST-JSON"
    inbound_retry: int = 3
    inbound_retry_base_ms: int = 5000
    inbound_retry_max_ms: int = 900_000
    inbound_timeout_ms: int = 5000
    numbers_pool_size: int = 100
    numbers_fail_next: int = 0
    numbers_check_mo_url: bool = False

    def __post_init__(self) -> None:
        if self.signature_method not in protocol.SIGNATURE_METHODS:
            raise ValueError(f"signature_method must be one of {', '.join(protocol.SIGNATURE_METHODS)}")
        if self.dlr_workers < 1:
            raise ValueError("dlr_workers: must be at least 1")
        self.update({name: getattr(self, name) for name in RUNTIME_SETTINGS})

    def update(self, changes: Mapping[str, Any]) -> None:
        """Change some runtime settings, all or nothing; a `ValueError` names the bad field."""
        checked = {}
        for name, value in changes.items():
            check = RUNTIME_SETTINGS.get(name)
            if check is None:
                raise ValueError(f"{name}: not a setting; use one of {', '.join(RUNTIME_SETTINGS)}")
            try:
                checked[name] = check(value)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        for name, value in checked.items():
            setattr(self, name, value)

    def runtime(self) -> dict[str, Any]:
        """The runtime settings as JSON values (copies: lists and objects are never changed in place)."""
        return {name: copy.copy(getattr(self, name)) for name in RUNTIME_SETTINGS}


# `POST /_sim/dlr` options (names start with "_", so they cannot clash with receipt fields).
_RECEIPT_OPTIONS: dict[str, Callable[[Any], Any]] = {"_url": _url, "_method": _dlr_method, "_sign": _flag}


# --- inbound requests and the number pool ----------------------------------------------------------------

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
class _InboundRequest:
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
    def parse(cls, request: Mapping[str, Any]) -> _InboundRequest:
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
            shuffle=_checked(request, "shuffle", _flag, False),
            order=order,
            drop=frozenset(drop),
            delay_ms=_checked(request, "delay_ms", _number, 0),
            gap_ms=_checked(request, "gap_ms", _number, 0),
            at=cls._timestamp(request.get("message_timestamp")),
            concat_ref=_wire_text(request, "concat_ref") or None,
            url=_checked(request, "url", _url, None),
            method=_checked(request, "method", _dlr_method, None),
            sign=_checked(request, "sign", _flag, True),
            api_key=_wire_text(request, "api_key"),
            fields=fields,
        )

    @staticmethod
    def _cut(text: str, kind: str, request: Mapping[str, Any]) -> list[str]:
        parts, split = request.get("parts"), _checked(request, "split", _flag, False)
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
    return int(_checked(request, name, _count, default))


@functools.lru_cache(maxsize=32)
def _pool(country: str, size: int) -> dict[str, dict[str, Any]]:
    """The numbers for sale in `country`, by msisdn (in msisdn order); shared, never changed."""
    return {number["msisdn"]: number for number in protocol.number_pool(country, size)}


# --- state ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """What a receipt for one accepted part needs to know about its submission."""

    submission: Mapping[str, str]
    api_key: str


class SimulatorState:
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
        self._parts: dict[str, _Part] = {}  # message-id -> its submission, for receipts on demand
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

    def expire_tokens(self) -> int:
        with self._lock:
            now = self._clock()
            for token, (expiry, client_id) in self._tokens.items():
                self._tokens[token] = (min(expiry, now), client_id)
            return len(self._tokens)

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
            self._parts[message_id] = _Part(submission, api_key)
        self._plan_receipts(submission, message_ids, api_key)
        return protocol.success_response(elements)

    # delivery receipts

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
        unknown = set(options) - set(_RECEIPT_OPTIONS)
        if unknown:
            return 400, {"error": f"{min(unknown)}: not an option; use {', '.join(_RECEIPT_OPTIONS)}"}
        checked: dict[str, Any] = {}
        for name, value in options.items():
            try:
                checked[name] = _RECEIPT_OPTIONS[name](value)
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

    # inbound messages (`POST /_sim/inbound`)

    def inject_inbound(self, request: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """`POST /_sim/inbound`: queue one inbound message, as parts, for the gateway; (HTTP status, body).

        See `_InboundRequest` for the request. The parts leave in the background, one after the
        other (each `gap_ms` after the previous one was first tried), signed when there is a
        signature secret, retried like receipts. The answer does not wait for them.
        """
        try:
            plan = _InboundRequest.parse(request)
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

    # the Numbers API

    def numbers_call(self, operation: str, params: Mapping[str, str], api: str) -> tuple[int, dict[str, Any]]:
        """One authenticated Numbers API call (`search`, `buy`, `cancel`, `update`, `account`)."""
        try:
            return 200, self._numbers_call(operation, params, api)
        except protocol.NumbersFailure as failure:
            return failure.http_status, failure.body()

    def _numbers_call(self, operation: str, params: Mapping[str, str], api: str) -> dict[str, Any]:
        with self._lock:
            if self._take("numbers_fail_next"):
                raise protocol.NumbersFailure(500, "internal error")
            if operation == "account":
                return protocol.list_owned_numbers(list(self._numbers.values()), params)
            if operation == "search":
                country = params.get("country", "").upper()
                if not country:
                    raise protocol.NumbersFailure(400, "missing parameter: country")
                pool = _pool(country, self.config.numbers_pool_size).values()
                available = [number for number in pool if number["msisdn"] not in self._numbers]
                return protocol.search_numbers(available, params)
            country, msisdn = protocol.number_target(params)
            if operation == "buy":
                number = _pool(country, self.config.numbers_pool_size).get(msisdn)
                if number is None or msisdn in self._numbers:
                    raise protocol.NUMBERS_METHOD_FAILED
                self._numbers[msisdn] = {
                    **{
                        name: copy.copy(number[name])
                        for name in ("country", "msisdn", "type", "features", "cost")
                    },
                    "api": api,
                    "bought_at": time.time(),
                }
                return dict(protocol.NUMBERS_SUCCESS)
            owned = self._numbers.get(msisdn)
            if owned is None or owned["country"] != country:
                raise protocol.NUMBERS_METHOD_FAILED
            if operation == "cancel":
                del self._numbers[msisdn]
                return dict(protocol.NUMBERS_SUCCESS)
            changes = protocol.number_changes(params)
            mo_url = changes.get("moHttpUrl")
            check_timeout = (
                self.config.inbound_timeout_ms / 1000 if self.config.numbers_check_mo_url else None
            )
        if mo_url:
            try:
                _url(mo_url)
            except ValueError:
                raise protocol.NUMBERS_METHOD_FAILED from None
            if check_timeout is not None and fetch_status(mo_url, check_timeout)[0] != 200:
                raise protocol.NUMBERS_METHOD_FAILED  # Vonage GETs a new moHttpUrl and wants a 200 (§7)
        with self._lock:
            owned = self._numbers.get(msisdn)
            if owned is None or owned["country"] != country:  # cancelled meanwhile
                raise protocol.NUMBERS_METHOD_FAILED
            for name, value in changes.items():
                if value:
                    owned[name] = value
                else:
                    owned.pop(name, None)
            return dict(protocol.NUMBERS_SUCCESS)

    def mint_token(self, client_id: str, client_secret: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            config = self.config
            if not client_id or not client_secret:
                allowed = False
            elif config.kpn_client_id is None:
                allowed = True
            else:
                allowed = protocol.credentials_match(
                    client_id, config.kpn_client_id
                ) and protocol.credentials_match(client_secret, config.kpn_client_secret)
            if not allowed:
                self._stats["unauthorized"] += 1
                return 401, protocol.INVALID_CLIENT
            now = self._clock()
            self._tokens = {token: known for token, known in self._tokens.items() if known[0] > now - 3600}
            token = protocol.new_access_token()
            self._tokens[token] = (now + config.kpn_token_lifetime, client_id)
            self._stats["tokens_issued"] += 1
            lifetime = config.kpn_token_lifetime
        return 200, protocol.token_response(token, client_id, lifetime, int(time.time() * 1000))

    def token_fault(self, token: str | None) -> dict[str, Any] | None:
        """None when `token` is valid now, else the Apigee fault to answer with HTTP 401."""
        with self._lock:
            known = self._tokens.get(token) if token else None
            if known is not None and self._clock() < known[0]:
                return None
            self._stats["unauthorized"] += 1
            return protocol.INVALID_TOKEN if known is None else protocol.EXPIRED_TOKEN

    def kpn_api_key(self, token: str | None) -> str:
        """The `api-key` of receipts for a KPN submission: the configured api key, else the token's client."""
        with self._lock:
            known = self._tokens.get(token) if token else None
            return self.config.api_key or (known[1] if known else "")


# --- HTTP -------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: SimulatorServer
    protocol_version = "HTTP/1.1"  # keep-alive, as a carrier's edge does
    wbufsize = -1  # headers and body leave in one write (two would meet Nagle and delayed ACKs: +40 ms)
    server_version = "smsgw-carrier-simulator/1"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.state.config.verbose:
            super().log_message(format, *args)

    @property
    def state(self) -> SimulatorState:
        return self.server.state

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = url.query
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or "Transfer-Encoding" in self.headers:
            self.close_connection = True
            self._json(411, {"error": "send the body with a Content-Length (no chunked encoding)"})
            return
        self.body = self.rfile.read(int(length))
        methods = ROUTES.get(url.path)
        if methods is None:
            self._json(404, {"error": f"no route {url.path}"})
        elif method not in methods:
            allow = ", ".join(sorted(methods))
            self._json(405, {"error": f"{method} not allowed on {url.path}; use {allow}"}, {"Allow": allow})
        else:
            try:
                methods[method](self)
            except protocol.MalformedRequest as exc:
                self._json(400, {"error": str(exc)})

    def _params(self) -> dict[str, str]:
        return protocol.parse_params(self.query, self.body, self.headers.get("Content-Type"))

    def _json_body(self) -> dict[str, Any]:
        try:
            return protocol.parse_json_object(self.body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise protocol.MalformedRequest("the body is not UTF-8") from exc

    def _json(self, status: int, body: object, headers: Mapping[str, str] | None = None) -> None:
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    # carrier routes

    def vonage_send(self) -> None:
        params = self._params()
        time.sleep(self.state.latency_seconds())
        try:
            auth = protocol.authenticate(
                params, self.headers.get("Authorization"), self.state.credentials, time.time()
            )
        except SmsFailure as failure:
            self.state.count("unauthorized")
            self._json(200, failure.response())
            return
        basic = protocol.basic_credentials(self.headers.get("Authorization"))
        api_key = basic[0] if auth == "basic" and basic else params.get("api_key", "")
        self._answer_submission(*self.state.submit_timed(params, "vonage", auth, api_key))

    def kpn_token(self) -> None:
        params = self._params()
        if params.get("grant_type") != "client_credentials":
            self._json(400, protocol.unsupported_grant(params.get("grant_type")))
            return
        self._json(*self.state.mint_token(params.get("client_id", ""), params.get("client_secret", "")))

    def kpn_send(self) -> None:
        params = self._params()
        time.sleep(self.state.latency_seconds())
        token = protocol.bearer_token(self.headers.get("Authorization"))
        fault = self.state.token_fault(token)
        if fault is not None:
            self._json(401, fault)
            return
        self._answer_submission(
            *self.state.submit_timed(params, "kpn", "bearer", self.state.kpn_api_key(token))
        )

    def _answer_submission(self, status: int, body: dict[str, Any], delay: float) -> None:
        """Answer a submission, `delay` seconds late (a slow accept: the client may have given up)."""
        if delay > 0:
            time.sleep(delay)
        self._json(status, body)

    def vonage_numbers(self, operation: str) -> None:
        """The Numbers API: `api_key`/`api_secret` (query or body) or Basic; no signatures (HTTP 401)."""
        params = self._params()
        try:
            auth = protocol.authenticate(
                params, self.headers.get("Authorization"), self.state.credentials, time.time()
            )
        except SmsFailure:
            auth = None
        if auth not in ("secret", "basic"):
            self.state.count("unauthorized")
            self._json(401, protocol.NUMBERS_UNAUTHORIZED.body())
            return
        self._json(*self.state.numbers_call(operation, params, "vonage"))

    def kpn_numbers(self, operation: str) -> None:
        """KPN's wrapper of the Numbers API: `Authorization: Bearer <token>` (Apigee 401 faults)."""
        params = self._params()
        fault = self.state.token_fault(protocol.bearer_token(self.headers.get("Authorization")))
        if fault is not None:
            self._json(401, fault)
            return
        self._json(*self.state.numbers_call(operation, params, "kpn"))

    # control API

    def sim_messages(self) -> None:
        self._json(200, {"messages": self.state.messages()})

    def sim_dlrs(self) -> None:
        self._json(200, {"dlrs": self.state.dlrs()})

    def sim_send_dlr(self) -> None:
        self._json(*self.state.send_receipt(self._json_body()))

    def sim_inbound(self) -> None:
        self._json(200, {"inbound": self.state.inbound()})

    def sim_inject_inbound(self) -> None:
        self._json(*self.state.inject_inbound(self._json_body()))

    def sim_numbers(self) -> None:
        self._json(200, {"numbers": self.state.owned_numbers()})

    def sim_stats(self) -> None:
        self._json(200, self.state.stats())

    def sim_get_config(self) -> None:
        self._json(200, self.state.runtime_config())

    def sim_put_config(self) -> None:
        try:
            self._json(200, self.state.update_config(self._json_body()))
        except ValueError as exc:
            self._json(400, {"error": str(exc)})

    def sim_reset(self) -> None:
        body = self._json_body()
        self.state.reset(config=body.get("config") is True, numbers=body.get("numbers") is True)
        self._json(200, {"reset": True})

    def sim_expire_tokens(self) -> None:
        self._json(200, {"expired": self.state.expire_tokens()})


# The Numbers API operations: path (under the root for Vonage, under KPN_NUMBERS for KPN) -> (method, name).
NUMBERS_OPERATIONS = {
    "/number/search": ("GET", "search"),
    "/number/buy": ("POST", "buy"),
    "/number/cancel": ("POST", "cancel"),
    "/number/update": ("POST", "update"),
    "/account/numbers": ("GET", "account"),
}
KPN_NUMBERS = "/communication/nexmo/phone-numbers"


def _numbers_route(api: str, operation: str) -> Callable[[_Handler], None]:
    if api == "kpn":
        return lambda handler: handler.kpn_numbers(operation)
    return lambda handler: handler.vonage_numbers(operation)


# path -> method -> handler.
ROUTES: dict[str, dict[str, Callable[[_Handler], None]]] = {
    "/sms/json": {"POST": _Handler.vonage_send},
    "/oauth/client_credential/accesstoken": {"POST": _Handler.kpn_token},
    "/communication/nexmo/sms/send": {"POST": _Handler.kpn_send},
    **{path: {method: _numbers_route("vonage", name)} for path, (method, name) in NUMBERS_OPERATIONS.items()},
    **{
        KPN_NUMBERS + path: {method: _numbers_route("kpn", name)}
        for path, (method, name) in NUMBERS_OPERATIONS.items()
    },
    "/_sim/messages": {"GET": _Handler.sim_messages},
    "/_sim/dlrs": {"GET": _Handler.sim_dlrs},
    "/_sim/dlr": {"POST": _Handler.sim_send_dlr},
    "/_sim/inbound": {"GET": _Handler.sim_inbound, "POST": _Handler.sim_inject_inbound},
    "/_sim/numbers": {"GET": _Handler.sim_numbers},
    "/_sim/stats": {"GET": _Handler.sim_stats},
    "/_sim/config": {"GET": _Handler.sim_get_config, "PUT": _Handler.sim_put_config},
    "/_sim/reset": {"POST": _Handler.sim_reset},
    "/_sim/tokens/expire": {"POST": _Handler.sim_expire_tokens},
}


class SimulatorServer(ThreadingHTTPServer):
    """A threaded HTTP server that can also drop its open keep-alive connections when stopped."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: SimulatorState) -> None:
        self.state = state
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would also look the host name up (getfqdn): a DNS query, and a name
        # where the caller gave an address. Keep the address.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # not just a client that went away
            super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class SimulatorHandle:
    """A simulator running in a background thread: `.url`, `.state`, `.stop()`; also a context manager."""

    def __init__(self, server: SimulatorServer) -> None:
        self.server = server
        self.state = server.state
        self.url = f"http://{server.server_name}:{server.server_port}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="carrier-simulator", daemon=True
        )
        self._thread.start()
        self._stopped = False

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.server.shutdown()
        self.server.server_close()
        self.server.close_connections()
        self._thread.join()
        self.state.close()

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_simulator(
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], float] = time.monotonic,
    dlr_timer: Timer | None = None,
    **config: Any,
) -> SimulatorHandle:
    """Start a simulator on `host:port` (0 = a free port); `config` = `SimulatorConfig` fields.

    `clock` (seconds, monotonic) times the rate window and token expiry; `dlr_timer` the receipts'
    delays and retries. Tests may pass fake ones (`simulator.receipts.ManualTimer` for the timer).
    """
    state = SimulatorState(SimulatorConfig(**config), clock, dlr_timer)
    try:
        server = SimulatorServer((host, port), state)
    except BaseException:
        state.close()
        raise
    return SimulatorHandle(server)
