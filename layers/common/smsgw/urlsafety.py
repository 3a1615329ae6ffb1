"""SSRF-safe callback URLs: the send `callback` parameter now, webhook targets later.

A URL a client gives us is one our Lambda will call, from inside the operator's AWS account.
`check_callback_url` accepts it only when it is

* absolute, ``https`` (plain ``http`` only for a host in the operator's `allow_http_hosts`,
  e.g. ``{"127.0.0.1", "localhost"}`` in the local stack), with a host, any port 1-65535, and
  no userinfo (``user:pass@``), spaces or control characters; at most `max_length` characters
  (Vonage's `callback` limit is 100);
* and every address its host stands for is public. An IP literal is judged as written, after
  the normalisation resolvers apply (``2130706433``, ``0x7f.1`` and ``0177.0.0.1`` are
  127.0.0.1: a host whose last label is numeric is parsed as IPv4 with `socket.inet_aton`
  rules, the WHATWG URL rule, and refused when it does not parse). A name is resolved
  (default `socket.getaddrinfo`, every address) and refused if **any** address is blocked, or
  if it does not resolve. ``localhost`` and ``*.localhost`` are refused without resolving.

Blocked (`is_blocked_address`): loopback, private, link-local, multicast, reserved,
unspecified, shared 100.64.0.0/10, every other IANA special-purpose range (documentation,
benchmarking, 6to4 relay, IPv4-compatible ``::a.b.c.d``, 6to4 ``2002::/16``, Teredo and the rest
of ``2001::/23``, local NAT64 ``64:ff9b:1::/48``, ULA, site-local), the cloud metadata
addresses, and IPv4-mapped (``::ffff:a.b.c.d``) or NAT64 (``64:ff9b::a.b.c.d``) forms of any
blocked IPv4 address. The explicit network list keeps the verdict the same on every Python
patch release (`ipaddress`'s `is_private`/`is_global` tables changed in 3.11.10/3.12.4).

A host in `allow_http_hosts` (compared lower-cased, trailing dot ignored, exactly as written:
``0x7f.1`` is not ``127.0.0.1``) skips both the https and the address checks.

This is a check at submission time. DNS can change before delivery (rebinding): whoever makes
the request must connect only to an address that `is_blocked_address` accepts, and not follow
redirects.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Collection
from typing import Final
from urllib.parse import urlsplit

from smsgw.core.errors import INVALID_CALLBACK_URL, InvalidField

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]

CLOUD_METADATA_ADDRESSES: Final = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle IMDS
        "169.254.170.2",  # AWS ECS task metadata and credentials
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure WireServer (a public address, so listed by name)
    )
)

_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# IANA special-purpose registries: every range that is not globally reachable, listed so the
# verdict does not depend on the Python patch release.
SPECIAL_PURPOSE_NETWORKS: Final = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "2002::/16",
        "3fff::/20",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)

_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")
_HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# An example URL per field, so the advice fits what the URL receives.
_EXAMPLES: Final = {
    "callback_url": "https://example.com/inbound-sms",  # /sms/register: SMS from the registered phone
    "moHttpUrl": "https://example.com/inbound-sms",  # a number's inbound SMS
}
_EXAMPLE = "https://example.com/delivery-receipts"  # status callbacks: `callback`, `status_url`


def resolve_host(host: str) -> list[str]:
    """Every address `host` resolves to (A and AAAA), as `socket.getaddrinfo` gives them."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]


def is_blocked_address(address: IPAddress) -> bool:
    """True when a callback must not reach `address` (see the module docstring)."""
    return _why_blocked(address) is not None


def check_callback_url(
    url: str,
    *,
    field: str = "callback",
    max_length: int | None = 100,
    allow_http_hosts: Collection[str] = (),
    resolve: Resolver | None = None,
) -> str:
    """Return `url` unchanged if it is safe to call; else InvalidField(field, …, "23")."""

    example = _EXAMPLES.get(field, _EXAMPLE)

    def refuse(problem: str) -> InvalidField:
        return InvalidField(field, f"{field} {problem}", INVALID_CALLBACK_URL)

    if not url:
        raise refuse(f"is empty: give an https URL such as {example}")
    if max_length is not None and len(url) > max_length:
        raise refuse(f"is {len(url)} characters; the maximum is {max_length}: use a shorter URL")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise refuse("contains spaces or control characters: percent-encode them")
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed [, a bracketed host that is no IPv6 address, …
        raise refuse(
            f"is not a valid URL: check its host (an IPv6 address is written in brackets, "
            f"[2001:db8::1]); e.g. {example}"
        ) from None
    try:
        port = parts.port
    except ValueError:  # not a number, or above 65535
        raise refuse(
            f"is not a valid URL: its port must be a number from 1 to 65535; e.g. {example}"
        ) from None
    if not parts.scheme or not parts.netloc:
        raise refuse(f"must be an absolute URL such as {example}")
    if "@" in parts.netloc:
        raise refuse("must not contain a user name or password (user:pass@): remove them")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise refuse(f"has no host: use the form {example}")
    if port == 0:
        raise refuse("has port 0: give a port from 1 to 65535, or none")
    allowed = host in {h.lower().rstrip(".") for h in allow_http_hosts}
    scheme = parts.scheme.lower()
    if not (scheme == "https" or (scheme == "http" and allowed)):
        raise refuse(f"must use https (got {scheme}:), e.g. {example}")
    if allowed:
        return url

    try:
        literal = _ip_literal(host, bracketed="[" in parts.netloc)
    except ValueError:
        raise refuse(f"has host {host!r}, which is not a valid IP address") from None
    if literal is not None:
        reason = _why_blocked(literal)
        if reason:
            raise refuse(f"points at {literal}, {reason} address: callbacks must reach a public host")
        return url
    _check_host_name(host, refuse)
    if host == "localhost" or host.endswith(".localhost"):
        raise refuse("points at localhost, a loopback address: callbacks must reach a public host")
    try:
        resolved = (resolve or resolve_host)(host)
    except (OSError, UnicodeError):
        resolved = []
    if not resolved:
        raise refuse(f"host {host!r} does not resolve: check the name")
    for text in resolved:
        try:
            reason = _why_blocked(ipaddress.ip_address(text))
        except ValueError:
            reason = "an unrecognised"
        if reason:
            raise refuse(f"host {host!r} resolves to {reason} address: callbacks must reach a public host")
    return url


def _ip_literal(host: str, *, bracketed: bool) -> IPAddress | None:
    """The address an IP-literal host stands for; None for a name; ValueError if malformed."""
    if bracketed:
        return ipaddress.IPv6Address(host)
    if not _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
        return None
    try:  # 2130706433, 0x7f.1, 0177.0.0.1, 127.1: what getaddrinfo and browsers accept
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        raise ValueError(host) from None


def _check_host_name(host: str, refuse: Callable[[str], InvalidField]) -> None:
    if not host.isascii():
        raise refuse("has a non-ASCII host: write an international domain name in its xn-- (punycode) form")
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in host.split(".")):
        raise refuse(
            f"has host {host!r}, which is not a valid host name: use letters, digits and hyphens, "
            "labels of 1-63 characters separated by dots"
        )


def _why_blocked(address: IPAddress) -> str | None:
    """Why a callback must not reach `address` ("a loopback", ...), or None when it may."""
    if address in CLOUD_METADATA_ADDRESSES:
        return "a cloud metadata"
    if isinstance(address, ipaddress.IPv6Address) and not (address.is_loopback or address.is_unspecified):
        # ::ffff:a.b.c.d and 64:ff9b::a.b.c.d reach a.b.c.d: judge that address
        embedded = address.ipv4_mapped or (
            ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None
        )
        if embedded is not None:
            reason = _why_blocked(embedded)
            return f"{reason} (IPv4 embedded in IPv6)" if reason else None
        if address in _IPV4_COMPATIBLE:  # ::a.b.c.d, deprecated
            return "a deprecated IPv4-compatible IPv6"
    if address.is_loopback:
        return "a loopback"
    if address.is_unspecified:
        return "an unspecified"
    if address.is_link_local:
        return "a link-local"
    if address in _SHARED:
        return "a shared (carrier-grade NAT)"
    if address.is_multicast:
        return "a multicast"
    if address.is_private:
        return "a private"
    if address.is_reserved:
        return "a reserved"
    if not address.is_global or any(address in network for network in SPECIAL_PURPOSE_NETWORKS):
        return "a special-purpose (not globally reachable)"
    return None
