"""One signed POST to a receiver, connecting only to the addresses that passed the URL check.

Signing follows Standard Webhooks (https://www.standardwebhooks.com) with the `standardwebhooks`
package: `webhook-id` (the delivery id, the same on every retry, so receivers can deduplicate),
`webhook-timestamp` (unix seconds of this attempt) and `webhook-signature` ("v1,<base64 HMAC-SHA256
of id.timestamp.body>" with the account's whsec_ secret).

DNS may answer differently between the check and the connection (rebinding), so the host is
resolved once: the SSRF check judges those addresses and the connection goes only to them (TLS
still verifies the certificate for the host name). Redirects are never followed, proxies and
.netrc from the environment are ignored.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter
from standardwebhooks import Webhook
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from smsgw.carrier.base import parse_retry_after  # the same header, whoever sends it

USER_AGENT = "smsgw-webhooks/1.0 (+https://www.standardwebhooks.com)"
MAX_ADDRESSES = 3  # each gets the full connect timeout
SNIPPET_BYTES = 300


def signed_headers(secret: str, delivery_id: str, timestamp: float, body: str) -> dict[str, str]:
    """The Standard Webhooks headers for `body`, signed with `secret` (whsec_…) at `timestamp`."""
    moment = datetime.fromtimestamp(int(timestamp), UTC)
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": Webhook(secret).sign(delivery_id, moment, body),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


@dataclass(frozen=True)
class Response:
    """What an attempt came to: an HTTP status, or an error (no answer), and how long it took."""

    http_status: int | None
    latency_ms: int
    error: str | None = None
    retry_after: float | None = None
    location: str | None = None


class Transport(Protocol):
    """How a webhook leaves: one POST, pinned to the addresses the URL check resolved."""

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], addresses: Sequence[str] | None
    ) -> Response: ...


class HttpTransport:
    def __init__(
        self,
        connect_timeout: float,
        read_timeout: float,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.timeouts = (connect_timeout, read_timeout)
        self.timer = timer

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], addresses: Sequence[str] | None
    ) -> Response:
        """POST once. `addresses`: connect only to these (None: the host is an IP literal, used as is)."""
        session = requests.Session()
        session.trust_env = False  # no proxies or .netrc credentials from the environment
        if addresses is not None:
            adapter = PinnedAdapter(addresses)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        start = self.timer()
        try:
            with session.post(
                url,
                data=body,
                headers=dict(headers),
                timeout=self.timeouts,
                allow_redirects=False,
                stream=True,
            ) as answer:
                latency_ms = round((self.timer() - start) * 1000)
                if 200 <= answer.status_code < 300:
                    return Response(answer.status_code, latency_ms)
                return Response(
                    answer.status_code,
                    latency_ms,
                    error=_describe(answer),
                    retry_after=parse_retry_after(answer.headers.get("Retry-After")),
                    location=answer.headers.get("Location"),
                )
        except requests.exceptions.ConnectTimeout:
            error = f"no connection within {self.timeouts[0]:g} s"
        except requests.exceptions.ReadTimeout:
            error = f"no answer within {self.timeouts[1]:g} s"
        except requests.exceptions.SSLError as exc:
            error = f"TLS failed: {_root(exc)}"
        except requests.exceptions.ConnectionError as exc:
            error = f"connection failed: {_root(exc)}"
        except requests.exceptions.RequestException as exc:
            error = f"request failed: {_root(exc)}"
        finally:
            session.close()
        return Response(None, round((self.timer() - start) * 1000), error=error)


def _describe(answer: requests.Response) -> str:
    text = f"HTTP {answer.status_code} {answer.reason or ''}".rstrip()
    try:
        snippet = answer.raw.read(SNIPPET_BYTES, decode_content=True) or b""
    except (OSError, HTTPError):  # the body is only a hint for the reader
        snippet = b""
    cleaned = " ".join(snippet.decode("utf-8", "replace").split())
    return f"{text}: {cleaned}" if cleaned else text


def _root(exc: BaseException) -> str:
    """The innermost reason, without urllib3's pool boilerplate."""
    while True:
        inner = getattr(exc, "reason", None) or exc.__cause__ or exc.__context__
        if not isinstance(inner, BaseException) or inner is exc:
            break
        exc = inner
    return str(exc)[:300]


class PinnedAdapter(HTTPAdapter):
    """A requests adapter whose connections go only to `addresses`, whatever DNS says now."""

    def __init__(self, addresses: Sequence[str]) -> None:
        self.addresses = tuple(addresses)[:MAX_ADDRESSES]
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        pinned = {"pinned_addresses": self.addresses}
        http_connection = type("PinnedHTTPConnection", (_PinnedHTTPConnection,), pinned)
        https_connection = type("PinnedHTTPSConnection", (_PinnedHTTPSConnection,), pinned)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type(
                "PinnedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_connection}
            ),
            "https": type(
                "PinnedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_connection}
            ),
        }


def _connect_pinned(connection: HTTPConnection, addresses: Sequence[str]) -> socket.socket:
    """urllib3's HTTPConnection._new_conn, but to the pinned addresses instead of a fresh lookup."""
    failure: OSError | None = None
    for address in addresses:
        try:
            return urllib3_connection.create_connection(
                (address, connection.port),
                connection.timeout,
                source_address=connection.source_address,
                socket_options=connection.socket_options,
            )
        except TimeoutError as exc:
            raise ConnectTimeoutError(
                connection,
                f"Connection to {connection.host} ({address}) timed out. (connect timeout={connection.timeout})",
            ) from exc
        except OSError as exc:
            failure = exc
    raise NewConnectionError(
        connection,
        f"cannot connect to {connection.host} at {', '.join(addresses) or 'no address'}: {failure}",
    )


class _PinnedHTTPConnection(HTTPConnection):
    pinned_addresses: tuple[str, ...] = ()

    def _new_conn(self) -> socket.socket:
        return _connect_pinned(self, self.pinned_addresses)


class _PinnedHTTPSConnection(HTTPSConnection):
    pinned_addresses: tuple[str, ...] = ()

    def _new_conn(self) -> socket.socket:
        return _connect_pinned(self, self.pinned_addresses)
