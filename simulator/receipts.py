"""Sending the carrier's webhooks in the background: a heap of due deliveries, worker threads, retries.

Delivery receipts (contract §3) and inbound messages (§4) leave the same way, through one
`WebhookSender` (`ReceiptSender` is its older name) and one pool of worker threads. It holds
deliveries (`Delivery`: which kind, where, how, which fields, and what follows) ordered by when
they are due; a worker takes each one when its time comes, signs it (a fresh `timestamp` and
`nonce` per attempt), sends it, records the outcome per kind (`GET /_sim/dlrs`, `GET /_sim/inbound`)
and schedules what follows: a retry after 429/5xx/no answer (5 s doubling up to a cap, as Vonage
does, a limited number of attempts), and the next delivery of the same chain (a receipt's
duplicate or the receipt after it; an inbound message's next part) once this one was first tried,
so a chain leaves in the planned order whatever the number of workers.

Time comes from a `Timer`: the real monotonic clock by default; tests pass a `ManualTimer` and move
it with `.advance(seconds)`, so a 5 s backoff takes no real time. Wall-clock times (`sent_at`, the
signature's `timestamp`) come from `wall_clock`. Workers start with the first delivery, `reset()`
drops what is pending, and `stop()` ends the workers at once, breaking off a request in flight.
Standard library only; the wire format is `simulator.protocol`'s.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from simulator import protocol

USER_AGENT = "smsgw-carrier-simulator/1"


class Timer:
    """Real time: `now()` is `time.monotonic()`, and waiting is `Condition.wait(timeout)`."""

    def now(self) -> float:
        return time.monotonic()

    def attach(self, condition: threading.Condition) -> None:
        """Called once by each sender that waits on this timer."""

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        """Wait (holding `condition`) until notified or `timeout` seconds of this timer's time pass."""
        condition.wait(timeout)


class ManualTimer(Timer):
    """Time for tests: it stands still until `advance(seconds)`, which wakes every sender attached."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._conditions: list[threading.Condition] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def attach(self, condition: threading.Condition) -> None:
        with self._lock:
            self._conditions.append(condition)

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        condition.wait()  # only `advance`, new work, a reset or a stop can make something due

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
            conditions = list(self._conditions)
        for condition in conditions:
            with condition:
                condition.notify_all()


@dataclass(frozen=True)
class RetryPolicy:
    """At most `attempts` tries; after the n-th failure wait `base·2^(n-1)` seconds, at most `cap`."""

    attempts: int = 3
    base: float = 5.0
    cap: float = 900.0


# kind -> its counters: (acknowledged, given up on, HTTP requests made)
KINDS: dict[str, tuple[str, str, str]] = {
    "dlr": ("dlrs_sent", "dlrs_failed", "dlr_attempts"),
    "inbound": ("inbound_sent", "inbound_failed", "inbound_attempts"),
}


@dataclass
class Delivery:
    """One webhook to send: target, encoding, unsigned fields, and the next one of the same chain.

    `kind` (`dlr` or `inbound`) picks its records and counters. `signing` is (secret, method) or
    None. `then` is sent `then_delay` seconds after this one's first attempt, whatever its outcome
    (Vonage retries each event on its own).
    """

    url: str
    method: str
    fields: dict[str, str]
    signing: tuple[str, str] | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 5.0
    then: Delivery | None = None
    then_delay: float = 0.0
    kind: str = "dlr"
    attempts: int = 0
    record: dict[str, Any] | None = None


class WebhookSender:
    """The background half of the webhooks: schedule, send, retry, record; see the module docstring."""

    def __init__(
        self,
        timer: Timer | None = None,
        workers: int = 4,
        wall_clock: Callable[[], float] = time.time,
        name: str = "carrier-simulator-webhook",
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._timer = timer or Timer()
        self._wall_clock = wall_clock
        self._worker_count = workers
        self._name = name
        self._cond = threading.Condition()
        self._timer.attach(self._cond)
        self._heap: list[tuple[float, int, int, Delivery]] = []  # (due, sequence, generation, delivery)
        self._sequence = itertools.count()
        self._generation = 0  # bumped by reset(): work from before it is dropped, even mid-flight
        self._threads: list[threading.Thread] = []
        self._connections: set[http.client.HTTPConnection] = set()
        self._stopping = False
        self._in_flight = 0
        self._forget()

    def _forget(self) -> None:
        self._records: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
        self._counts = {name: 0 for names in KINDS.values() for name in names}

    # what tests and the control API see

    def records(self, kind: str = "dlr") -> list[dict[str, Any]]:
        """Every webhook of `kind` tried so far, in the order of first attempts (copies)."""
        with self._cond:
            return [{**record, "fields": dict(record["fields"])} for record in self._records[kind]]

    def counts(self) -> dict[str, int]:
        with self._cond:
            return dict(self._counts)

    def due_in(self, kind: str | None = None) -> list[float]:
        """Seconds (timer time) until each pending delivery (of `kind`, else any) is due, soonest first;
        not those in flight."""
        with self._cond:
            now = self._timer.now()
            return sorted(
                round(due - now, 6)
                for due, _, _, delivery in self._heap
                if kind is None or delivery.kind == kind
            )

    def idle(self) -> bool:
        """Nothing pending and nothing in flight."""
        with self._cond:
            return not self._heap and not self._in_flight

    # scheduling

    def schedule(self, *deliveries: tuple[Delivery, float]) -> None:
        """Send each (delivery, delay) — and what follows it — `delay` seconds from now (timer time).

        All are queued at once, before any of them can be sent, so equal delays keep the given order.
        """
        with self._cond:
            for delivery, delay in deliveries:
                self._push(delivery, delay, self._generation)

    def send_now(self, delivery: Delivery) -> dict[str, Any]:
        """Try `delivery` in the calling thread (retries and follow-ups go to the workers); its record."""
        if delivery.kind not in KINDS:
            raise ValueError(f"unknown webhook kind {delivery.kind!r}; use one of {', '.join(KINDS)}")
        with self._cond:
            generation = self._generation
            self._in_flight += 1
        return self._attempt(delivery, generation) or {}

    def reset(self) -> None:
        """Drop pending deliveries, forget the records and counters; a send in flight is not recorded."""
        with self._cond:
            self._heap.clear()
            self._generation += 1
            self._forget()
            self._cond.notify_all()

    def stop(self) -> None:
        """Drop what is pending, break off requests in flight and end the workers; idempotent."""
        with self._cond:
            self._stopping = True
            self._heap.clear()
            self._generation += 1
            self._cond.notify_all()
            threads, self._threads = self._threads, []
            connections = list(self._connections)
        for connection in connections:
            if connection.sock is not None:
                with contextlib.suppress(OSError):
                    connection.sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join()

    def _push(self, delivery: Delivery, delay: float, generation: int) -> None:
        # Called holding self._cond.
        if delivery.kind not in KINDS:
            raise ValueError(f"unknown webhook kind {delivery.kind!r}; use one of {', '.join(KINDS)}")
        if self._stopping or generation != self._generation:
            return
        if not self._threads:
            self._threads = [
                threading.Thread(target=self._work, name=f"{self._name}-{n}", daemon=True)
                for n in range(self._worker_count)
            ]
            for thread in self._threads:
                thread.start()
        due = self._timer.now() + max(delay, 0.0)
        heapq.heappush(self._heap, (due, next(self._sequence), generation, delivery))
        self._cond.notify_all()

    # the workers

    def _work(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    if self._heap:
                        wait = self._heap[0][0] - self._timer.now()
                        if wait <= 0:
                            break
                        self._timer.wait(self._cond, wait)
                    else:
                        self._timer.wait(self._cond, None)
                _, _, generation, delivery = heapq.heappop(self._heap)
                self._in_flight += 1
            self._attempt(delivery, generation)

    def _attempt(self, delivery: Delivery, generation: int) -> dict[str, Any] | None:
        """One try (the caller counted it in flight): a copy of its record, or None if reset/stop dropped it."""
        try:
            return self._try(delivery, generation)
        finally:
            with self._cond:
                self._in_flight -= 1

    def _try(self, delivery: Delivery, generation: int) -> dict[str, Any] | None:
        fields = dict(delivery.fields)
        if delivery.signing is not None:
            secret, method = delivery.signing
            fields = protocol.sign_webhook(fields, secret, method, int(self._wall_clock()), str(uuid.uuid4()))
        request = protocol.webhook_request(delivery.url, fields, delivery.method)
        sent_at = self._wall_clock()
        http_status, error = self._send(request, delivery.timeout)
        ok = http_status is not None and 200 <= http_status <= 299
        with self._cond:
            if self._stopping or generation != self._generation:
                return None
            sent_counter, failed_counter, attempts_counter = KINDS[delivery.kind]
            delivery.attempts += 1
            self._counts[attempts_counter] += 1
            if delivery.record is None:
                delivery.record = {"url": delivery.url, "method": delivery.method, "sent_at": sent_at}
                self._records[delivery.kind].append(delivery.record)
                if delivery.then is not None:
                    self._push(delivery.then, delivery.then_delay, generation)
            delivery.record.update(
                {
                    "fields": fields,
                    "attempts": delivery.attempts,
                    "last_status": http_status,
                    "last_attempt_at": sent_at,
                    "ok": ok,
                    "error": error,
                }
            )
            if ok:
                self._counts[sent_counter] += 1
            elif protocol.retryable(http_status) and delivery.attempts < delivery.retry.attempts:
                wait = protocol.retry_delay(delivery.attempts, delivery.retry.base, delivery.retry.cap)
                self._push(delivery, wait, generation)
            else:
                self._counts[failed_counter] += 1
            return {**delivery.record, "fields": dict(fields)}

    def _send(self, request: protocol.WebhookRequest, timeout: float) -> tuple[int | None, str | None]:
        """(HTTP status, None), or (None, why) when there was no answer."""
        url = urlsplit(request.url)
        connection_class = (
            http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        )
        try:
            connection = connection_class(url.hostname or "", url.port, timeout=timeout)
        except ValueError as exc:  # e.g. a port that is not a number
            return None, f"{type(exc).__name__}: {exc}"
        with self._cond:
            if self._stopping:
                return None, "stopped"
            self._connections.add(connection)
        try:
            connection.connect()
            with self._cond:  # stop() may have looked at the connections before this one had a socket
                if self._stopping:
                    return None, "stopped"
            target = (url.path or "/") + (f"?{url.query}" if url.query else "")
            headers = {"User-Agent": USER_AGENT, **request.headers}
            connection.request(request.method, target, body=request.body, headers=headers)
            with connection.getresponse() as response:
                response.read()
                return response.status, None
        except (OSError, http.client.HTTPException) as exc:
            return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        finally:
            with self._cond:
                self._connections.discard(connection)
            connection.close()


ReceiptSender = WebhookSender  # the older name, from when it sent only delivery receipts


def fetch_status(url: str, timeout: float) -> tuple[int | None, str | None]:
    """GET `url` once, in the calling thread: (HTTP status, None), or (None, why) with no answer."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    try:
        connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    except ValueError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", target, headers={"User-Agent": USER_AGENT})
        with connection.getresponse() as response:
            response.read()
            return response.status, None
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    finally:
        connection.close()
