"""HTTP: the request handler (`Handler`), the route table (`ROUTES`: path -> method -> handler) and
the threaded server (`SimulatorServer`)."""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from simulator import protocol
from simulator.protocol import SmsFailure
from simulator.state import SimulatorState


class Handler(BaseHTTPRequestHandler):
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


def _numbers_route(api: str, operation: str) -> Callable[[Handler], None]:
    if api == "kpn":
        return lambda handler: handler.kpn_numbers(operation)
    return lambda handler: handler.vonage_numbers(operation)


# path -> method -> handler.
ROUTES: dict[str, dict[str, Callable[[Handler], None]]] = {
    "/sms/json": {"POST": Handler.vonage_send},
    "/oauth/client_credential/accesstoken": {"POST": Handler.kpn_token},
    "/communication/nexmo/sms/send": {"POST": Handler.kpn_send},
    **{path: {method: _numbers_route("vonage", name)} for path, (method, name) in NUMBERS_OPERATIONS.items()},
    **{
        KPN_NUMBERS + path: {method: _numbers_route("kpn", name)}
        for path, (method, name) in NUMBERS_OPERATIONS.items()
    },
    "/_sim/messages": {"GET": Handler.sim_messages},
    "/_sim/dlrs": {"GET": Handler.sim_dlrs},
    "/_sim/dlr": {"POST": Handler.sim_send_dlr},
    "/_sim/inbound": {"GET": Handler.sim_inbound, "POST": Handler.sim_inject_inbound},
    "/_sim/numbers": {"GET": Handler.sim_numbers},
    "/_sim/stats": {"GET": Handler.sim_stats},
    "/_sim/config": {"GET": Handler.sim_get_config, "PUT": Handler.sim_put_config},
    "/_sim/reset": {"POST": Handler.sim_reset},
    "/_sim/tokens/expire": {"POST": Handler.sim_expire_tokens},
}


class SimulatorServer(ThreadingHTTPServer):
    """A threaded HTTP server that can also drop its open keep-alive connections when stopped."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: SimulatorState) -> None:
        self.state = state
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, Handler)

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
