"""The carrier simulator's entry: `start_simulator()` wires the parts into a running server
(`SimulatorHandle`); the names tests and tools import from here are re-exported. The parts:
`simulator.config` (`SimulatorConfig`, `RUNTIME_SETTINGS`; value checks in `simulator.checks`),
`simulator.state` (`SimulatorState`: messages, counters, the fate of a submission), with
`simulator.dlrs`, `simulator.inbound`, `simulator.numbers` and `simulator.tokens` as its mixins,
`simulator.routes` (the HTTP handler, `ROUTES`, `SimulatorServer`), `simulator.receipts` (the
webhook sender) and `simulator.protocol` (the wire protocol). `docs/simulator.md` documents every
route and setting, with curl examples.

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
  POST /_sim/inbound         inject an inbound SMS: `{"from", "to", "text", <options>}` (`InboundRequest`)
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

import threading
import time
from collections.abc import Callable
from typing import Any

from simulator.checks import MAX_POOL_SIZE
from simulator.config import RUNTIME_SETTINGS, SimulatorConfig
from simulator.inbound import MAX_DUPLICATES, OPEN_ACCOUNT_API_KEY, InboundRequest
from simulator.receipts import Timer
from simulator.routes import KPN_NUMBERS, NUMBERS_OPERATIONS, ROUTES, SimulatorServer
from simulator.state import STAT_NAMES, SimulatorState

_InboundRequest = InboundRequest  # its name when it lived here

__all__ = [
    "KPN_NUMBERS",
    "MAX_DUPLICATES",
    "MAX_POOL_SIZE",
    "NUMBERS_OPERATIONS",
    "OPEN_ACCOUNT_API_KEY",
    "ROUTES",
    "RUNTIME_SETTINGS",
    "STAT_NAMES",
    "InboundRequest",
    "SimulatorConfig",
    "SimulatorHandle",
    "SimulatorServer",
    "SimulatorState",
    "start_simulator",
]


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
