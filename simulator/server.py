"""The carrier simulator's HTTP server: carrier routes, fault injection and the `/_sim/*` control API.

Carrier routes (what the gateway calls, as it would call the real carrier):
  POST /sms/json                                   Vonage SMS API (key+secret, Basic or signature)
  POST /oauth/client_credential/accesstoken        KPN OAuth token (`?grant_type=client_credentials`)
  POST /communication/nexmo/sms/send               KPN's send (Bearer token), same body as /sms/json

Control API (JSON in and out; for tests, `make run` and benchmarks):
  GET  /_sim/messages        every accepted submission, in order
  GET  /_sim/stats           counters
  GET  /_sim/config          the behaviour settings;  PUT: change some of them (`RUNTIME_SETTINGS`)
  POST /_sim/reset           forget messages, stats and the rate window (`{"config": true}`: and the config)
  POST /_sim/tokens/expire   expire every KPN token issued so far (the next send with one gets a 401)

A submission goes through, in order: validation (status 2/3/12), `fail_next`/`fail_rate` (HTTP 500),
`rate_per_second` then `throttle_next`/`throttle_rate` (status 1), `reject_next`/`reject_rate`
(`error_status`, default 6), and is then accepted. Only accepted requests count towards the rate,
one per request whatever its parts. Delivery receipts and inbound messages (later) belong in
`SimulatorState` (what to send) and in `ROUTES` (how to trigger it).
"""

from __future__ import annotations

import contextlib
import dataclasses
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
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from simulator import protocol
from simulator.protocol import SmsFailure

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


# What `PUT /_sim/config` may change, each with its check.
RUNTIME_SETTINGS: dict[str, Callable[[Any], Any]] = {
    "rate_per_second": _number,  # accepted requests per sliding second; 0 = unlimited
    "latency_ms": _count,  # added before answering a submission
    "throttle_rate": _probability,  # share of submissions answered status 1
    "fail_rate": _probability,  # share answered HTTP 500
    "reject_rate": _probability,  # share answered `error_status`
    "error_status": _status,  # the status of injected rejections
    "fail_next": _count,  # the next N submissions: HTTP 500
    "throttle_next": _count,  # the next N: status 1
    "reject_next": _count,  # the next N: `error_status`
    "kpn_token_lifetime": _count,  # seconds, for tokens minted from now on
}

STAT_NAMES = (
    "accepted",
    "parts",
    "throttled",
    "failed",
    "rejected",
    "invalid",
    "unauthorized",
    "tokens_issued",
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
    kpn_token_lifetime: int = 3599

    def __post_init__(self) -> None:
        if self.signature_method not in protocol.SIGNATURE_METHODS:
            raise ValueError(f"signature_method must be one of {', '.join(protocol.SIGNATURE_METHODS)}")
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
        return {name: getattr(self, name) for name in RUNTIME_SETTINGS}


# --- state ------------------------------------------------------------------------------------------------


class SimulatorState:
    """Everything the simulator remembers, behind one lock."""

    def __init__(self, config: SimulatorConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.credentials = protocol.ApiCredentials(
            config.api_key, config.api_secret, config.signature_secret, config.signature_method
        )
        self._initial = dataclasses.replace(config)
        self._clock = clock
        self._lock = threading.Lock()
        self._random = random.Random(config.seed)
        self._tokens: dict[str, float] = {}  # access token -> expiry (clock)
        self._forget()

    def _forget(self) -> None:
        self._messages: list[dict[str, Any]] = []
        self._stats: Counter[str] = Counter()
        self._window: deque[float] = deque()  # clock times of accepted requests in the last second
        self._balance = Decimal(self.config.balance)

    # control API

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(message) for message in self._messages]

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {name: self._stats[name] for name in STAT_NAMES}

    def runtime_config(self) -> dict[str, Any]:
        with self._lock:
            return self.config.runtime()

    def update_config(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.config.update(changes)
            return self.config.runtime()

    def reset(self, config: bool = False) -> None:
        with self._lock:
            if config:
                self.config = dataclasses.replace(self._initial)
                self._random = random.Random(self.config.seed)
            self._forget()

    def expire_tokens(self) -> int:
        with self._lock:
            now = self._clock()
            for token in self._tokens:
                self._tokens[token] = min(self._tokens[token], now)
            return len(self._tokens)

    def count(self, stat: str) -> None:
        with self._lock:
            self._stats[stat] += 1

    def latency_seconds(self) -> float:
        return self.config.latency_ms / 1000

    # carrier behaviour

    def submit(self, params: Mapping[str, str], api: str, auth: str) -> tuple[int, dict[str, Any]]:
        """Decide the fate of one authenticated submission: (HTTP status, body)."""
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
            return 200, self._accept(params, api, auth)

    def _take(self, setting: str) -> bool:
        remaining = getattr(self.config, setting)
        if remaining > 0:
            setattr(self.config, setting, remaining - 1)
        return remaining > 0

    def _chance(self, rate: float) -> bool:
        return rate > 0 and self._random.random() < rate

    def _accept(self, params: Mapping[str, str], api: str, auth: str) -> dict[str, Any]:
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
        return protocol.success_response(elements)

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
            self._tokens = {token: expiry for token, expiry in self._tokens.items() if expiry > now - 3600}
            token = protocol.new_access_token()
            self._tokens[token] = now + config.kpn_token_lifetime
            self._stats["tokens_issued"] += 1
            lifetime = config.kpn_token_lifetime
        return 200, protocol.token_response(token, client_id, lifetime, int(time.time() * 1000))

    def token_fault(self, token: str | None) -> dict[str, Any] | None:
        """None when `token` is valid now, else the Apigee fault to answer with HTTP 401."""
        with self._lock:
            expiry = self._tokens.get(token) if token else None
            if expiry is not None and self._clock() < expiry:
                return None
            self._stats["unauthorized"] += 1
            return protocol.INVALID_TOKEN if expiry is None else protocol.EXPIRED_TOKEN


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
        self._json(*self.state.submit(params, "vonage", auth))

    def kpn_token(self) -> None:
        params = self._params()
        if params.get("grant_type") != "client_credentials":
            self._json(400, protocol.unsupported_grant(params.get("grant_type")))
            return
        self._json(*self.state.mint_token(params.get("client_id", ""), params.get("client_secret", "")))

    def kpn_send(self) -> None:
        params = self._params()
        time.sleep(self.state.latency_seconds())
        fault = self.state.token_fault(protocol.bearer_token(self.headers.get("Authorization")))
        if fault is not None:
            self._json(401, fault)
            return
        self._json(*self.state.submit(params, "kpn", "bearer"))

    # control API

    def sim_messages(self) -> None:
        self._json(200, {"messages": self.state.messages()})

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
        self.state.reset(config=self._json_body().get("config") is True)
        self._json(200, {"reset": True})

    def sim_expire_tokens(self) -> None:
        self._json(200, {"expired": self.state.expire_tokens()})


# path -> method -> handler. Later: POST /_sim/inbound (inject an inbound SMS), DLR settings and triggers.
ROUTES: dict[str, dict[str, Callable[[_Handler], None]]] = {
    "/sms/json": {"POST": _Handler.vonage_send},
    "/oauth/client_credential/accesstoken": {"POST": _Handler.kpn_token},
    "/communication/nexmo/sms/send": {"POST": _Handler.kpn_send},
    "/_sim/messages": {"GET": _Handler.sim_messages},
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

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_simulator(
    host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] = time.monotonic, **config: Any
) -> SimulatorHandle:
    """Start a simulator on `host:port` (0 = a free port); `config` = `SimulatorConfig` fields.

    `clock` (seconds, monotonic) times the rate window and token expiry; tests may pass a fake one.
    """
    state = SimulatorState(SimulatorConfig(**config), clock)
    return SimulatorHandle(SimulatorServer((host, port), state))
