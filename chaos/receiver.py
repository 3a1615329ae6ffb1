"""The customer's webhook server in a chaos run: status callbacks and inbound forwards arrive here.

It answers 503 to a share of the calls (seeded), verifies the rest (Standard Webhooks, with the
account's webhook secret: 204, or 401 when the signature is wrong) and records every call with what
it answered, so the run counts from the receiver's own records what was accepted once, twice or never.
"""

from __future__ import annotations

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


class ChaosReceiver:
    def __init__(self, fail_rate: float, seed: int | None = None, host: str = "127.0.0.1") -> None:
        self.fail_rate = fail_rate
        self.secret: str | None = None  # set once the account exists; unsigned calls pass until then
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._calls: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer((host, 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1})
        self._thread.daemon = True

    def start(self) -> ChaosReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ChaosReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(call) for call in self._calls]

    def last_call_at(self) -> float:
        with self._lock:
            return self._calls[-1]["at"] if self._calls else 0.0

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        """Decide, record and return the status for one call."""
        try:
            payload: Any = json.loads(body)
        except ValueError:
            payload = None
        with self._lock:
            fail = self.fail_rate > 0 and self._random.random() < self.fail_rate
            secret = self.secret
        if fail:
            status = 503
        elif secret:
            try:
                Webhook(secret).verify(body, headers)
                status = 204
            except WebhookVerificationError:
                status = 401
        else:
            status = 204
        call = {
            "path": path,
            "at": time.time(),
            "status": status,
            "webhook_id": headers.get("webhook-id"),
            "body": payload,
        }
        with self._lock:
            self._calls.append(call)
        return status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = receiver.answer(self.path, headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:  # a URL check (e.g. when a moHttpUrl is set)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
