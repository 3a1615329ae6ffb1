"""A local HTTPS front for the official vonage SDK, which only speaks `https://{rest_host}/…`.

`TlsFront(forward)` listens on https://127.0.0.1:<free port> with a self-signed certificate made
for 127.0.0.1 when it starts (the `cryptography` package), and hands every request to
`forward(FrontRequest) -> FrontResponse`:

- integration tests forward to a Lambda handler as an API Gateway event (under moto);
- e2e tests forward to the local stack with `forward_to(api_url)`.

Point the SDK at it with `HttpClientOptions(rest_host=front.host)` and make requests trust the
certificate with `REQUESTS_CA_BUNDLE=front.ca_bundle`. `front.requests` is every request
received, in order (what the SDK really sent); `front.errors` any exception `forward` raised
(answered 502).
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK = "127.0.0.1"
# Hop-by-hop or re-computed headers: never copied from one side to the other.
_NOT_FORWARDED = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "content-encoding"}
)


@dataclass(frozen=True)
class FrontRequest:
    method: str
    path: str  # without the query string
    query: dict[str, str]
    headers: dict[str, str]
    body: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class FrontResponse:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


Forward = Callable[[FrontRequest], FrontResponse]


def write_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (valid one day); (cert, key) PEM paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smsgw test front")])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(LOOPBACK)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "front-cert.pem", directory / "front-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _handle(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = FrontRequest(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k: v for k, v in self.headers.items() if k.lower() not in _NOT_FORWARDED},
            body=self.rfile.read(length).decode("utf-8") if length else "",
        )
        self.server.front.requests.append(request)
        try:
            response = self.server.front.forward(request)
        except Exception as exc:  # reported to the test through front.errors, answered 502
            self.server.front.errors.append(exc)
            response = FrontResponse(502, f"the test front's forward failed: {exc!r}")
        payload = response.body.encode("utf-8")
        self.send_response(response.status)
        for key, value in response.headers.items():
            if key.lower() not in _NOT_FORWARDED:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows the test's own output."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, front: TlsFront, context: ssl.SSLContext) -> None:
        self.front = front
        self.context = context
        super().__init__((LOOPBACK, 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake happens here, in the request's own thread, not in the accept loop.
        with self.context.wrap_socket(request, server_side=True) as tls:
            super().finish_request(tls, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up or failed the handshake is the client's business."""


class TlsFront:
    """HTTPS on 127.0.0.1 in front of `forward`; a context manager (stops and cleans up on exit)."""

    def __init__(self, forward: Forward, directory: Path | None = None) -> None:
        self.forward = forward
        self.requests: list[FrontRequest] = []
        self.errors: list[Exception] = []
        self._tmp = None if directory else tempfile.TemporaryDirectory(prefix="smsgw-tls-front-")
        self._directory = directory or Path(self._tmp.name)  # type: ignore[union-attr]
        self.ca_bundle, key = write_certificate(self._directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_bundle, key)
        self._server = _Server(self, context)
        self._thread = threading.Thread(
            target=lambda: self._server.serve_forever(poll_interval=0.05), name="tls-front", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """What the SDK calls rest_host: host:port, no scheme."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"https://{self.host}"

    def start(self) -> TlsFront:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> TlsFront:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def forward_to(base_url: str, timeout: float = 15.0) -> Forward:
    """A `Forward` that proxies every request to `base_url` + its path (plain HTTP, e.g. the local stack)."""
    session = requests.Session()

    def forward(request: FrontRequest) -> FrontResponse:
        response = session.request(
            request.method,
            base_url.rstrip("/") + request.path,
            params=request.query or None,
            data=request.body.encode("utf-8"),
            headers=request.headers,
            timeout=timeout,
            allow_redirects=False,
        )
        headers = {k: v for k, v in response.headers.items() if k.lower() not in _NOT_FORWARDED}
        return FrontResponse(response.status_code, response.text, headers)

    return forward
