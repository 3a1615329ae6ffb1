"""The simulator's configuration: `SimulatorConfig` (the account, fixed; the behaviour, changeable),
`RUNTIME_SETTINGS` (what `PUT /_sim/config` may change, each with its check) and the options of
`POST /_sim/dlr`."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator import checks, protocol

# What `PUT /_sim/config` may change, each with its check.
RUNTIME_SETTINGS: dict[str, Callable[[Any], Any]] = {
    "rate_per_second": checks.number,  # accepted requests per sliding second; 0 = unlimited
    "latency_ms": checks.count,  # added before answering a submission
    "throttle_rate": checks.probability,  # share of submissions answered status 1
    "fail_rate": checks.probability,  # share answered HTTP 500
    "reject_rate": checks.probability,  # share answered `error_status`
    "error_status": checks.status_code,  # the status of injected rejections
    "fail_next": checks.count,  # the next N submissions: HTTP 500
    "slow_accept_rate": checks.probability,  # share of accepted submissions answered only after `slow_accept_ms`
    "slow_accept_ms": checks.count,  # how late those are answered (longer than the client's read timeout)
    "throttle_next": checks.count,  # the next N: status 1
    "reject_next": checks.count,  # the next N: `error_status`
    "kpn_token_lifetime": checks.count,  # seconds, for tokens minted from now on
    # delivery receipts, read when a submission is accepted (receipts planned before keep their plan)
    "dlr_url": checks.http_url,  # where receipts go when the submission has no `callback`; null = nowhere
    "dlr_method": checks.dlr_method,  # POST-JSON | POST (form) | GET (query string)
    "dlr_statuses": checks.dlr_statuses,  # weights of the final statuses
    "dlr_next": checks.dlr_status_list,  # the statuses of the next parts, in order, before any weights
    "dlr_intermediate": checks.probability,  # share of parts with an `accepted` (`buffered` if expired) first
    "dlr_reorder": checks.flag,  # send the intermediate receipt after the final one
    "dlr_reorder_rate": checks.probability,  # share of intermediate receipts sent after the final one
    "dlr_duplicate_rate": checks.probability,  # share of receipts sent twice
    "dlr_delay_ms": checks.delay_range,  # [min, max] before each receipt of a part (after acceptance / the last)
    "dlr_retry": checks.positive_count,  # attempts per receipt (1 = no retry) on no answer, 429 or 5xx
    "dlr_retry_base_ms": checks.count,  # first backoff; doubles each attempt
    "dlr_retry_max_ms": checks.count,  # backoff cap
    "dlr_timeout_ms": checks.positive_count,  # how long to wait for the gateway's answer
    # inbound messages (`POST /_sim/inbound`), read when one is injected
    "inbound_url": checks.http_url,  # the account's default inbound URL (moCallBackUrl); an owned number's moHttpUrl wins
    "inbound_method": checks.dlr_method,  # POST-JSON | POST (form) | GET (query string)
    "inbound_retry": checks.positive_count,  # attempts per part (1 = no retry) on no answer, 429 or 5xx
    "inbound_retry_base_ms": checks.count,  # first backoff; doubles each attempt
    "inbound_retry_max_ms": checks.count,  # backoff cap
    "inbound_timeout_ms": checks.positive_count,  # how long to wait for the gateway's answer
    # the Numbers API
    "numbers_pool_size": checks.pool_size,  # numbers for sale per country and type
    "numbers_fail_next": checks.count,  # the next N Numbers API calls: HTTP 500
    "numbers_check_mo_url": checks.flag,  # /number/update GETs a new moHttpUrl and wants a 200, as Vonage does
}


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
RECEIPT_OPTIONS: dict[str, Callable[[Any], Any]] = {
    "_url": checks.http_url,
    "_method": checks.dlr_method,
    "_sign": checks.flag,
}
