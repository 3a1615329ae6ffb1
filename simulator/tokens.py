"""KPN's OAuth tokens (kpn.md A.7, A.8): minted, checked and expired (`TokensMixin`, part of
`SimulatorState`)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from simulator import protocol
from simulator.config import SimulatorConfig


class TokensMixin:
    """`SimulatorState`'s KPN tokens (its lock, config, clock and counters)."""

    _lock: threading.Lock
    config: SimulatorConfig
    _clock: Callable[[], float]
    _stats: Counter[str]
    _tokens: dict[str, tuple[float, str]]

    def expire_tokens(self) -> int:
        with self._lock:
            now = self._clock()
            for token, (expiry, client_id) in self._tokens.items():
                self._tokens[token] = (min(expiry, now), client_id)
            return len(self._tokens)

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
