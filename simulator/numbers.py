"""The Numbers API (contract §7): the numbers for sale and the ones owned (`NumbersMixin`, part of
`SimulatorState`)."""

from __future__ import annotations

import copy
import functools
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from simulator import checks, protocol
from simulator.config import SimulatorConfig
from simulator.receipts import fetch_status


@functools.lru_cache(maxsize=32)
def _pool(country: str, size: int) -> dict[str, dict[str, Any]]:
    """The numbers for sale in `country`, by msisdn (in msisdn order); shared, never changed."""
    return {number["msisdn"]: number for number in protocol.number_pool(country, size)}


class NumbersMixin:
    """`SimulatorState`'s Numbers API calls (its lock, config and owned numbers)."""

    _lock: threading.Lock
    config: SimulatorConfig
    _numbers: dict[str, dict[str, Any]]
    _take: Callable[[str], bool]

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
                checks.http_url(mo_url)
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
