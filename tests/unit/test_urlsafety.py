"""SSRF-safe callback URLs. DNS is always injected (a fake resolver) or monkeypatched."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from smsgw import urlsafety
from smsgw.core.errors import InvalidField
from smsgw.urlsafety import check_callback_url, is_blocked_address, resolve_host

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"
LOCAL = ("127.0.0.1", "localhost")


class FakeDns:
    """name -> addresses; unknown names fail like getaddrinfo does. Records every lookup."""

    def __init__(self, records: dict[str, list[str]]) -> None:
        self.records = records
        self.lookups: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.lookups.append(host)
        if host not in self.records:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.records[host]


@pytest.fixture
def dns() -> FakeDns:
    return FakeDns(
        {
            "hooks.example.com": [PUBLIC_V4],
            "dual.example.com": [PUBLIC_V4, PUBLIC_V6],
            "v6.example.com": [PUBLIC_V6],
            "empty.example.com": [],
            "internal.example.com": ["10.0.0.5"],
            "corp.example.com": ["172.16.4.2"],
            "home.example.com": ["192.168.1.10"],
            "loop.example.com": ["127.0.0.1"],
            "loop6.example.com": ["::1"],
            "metadata.example.com": ["169.254.169.254"],
            "metadata6.example.com": ["fd00:ec2::254"],
            "alibaba.example.com": ["100.100.100.200"],
            "cgnat.example.com": ["100.64.1.1"],
            "mapped.example.com": ["::ffff:10.1.2.3"],
            "nat64.example.com": ["64:ff9b::a9fe:a9fe"],
            "zero.example.com": ["0.0.0.0"],  # noqa: S104
            "linklocal6.example.com": ["fe80::1%eth0"],
            "mixed.example.com": [PUBLIC_V4, PUBLIC_V6, "10.0.0.1"],
            "garbage.example.com": ["not-an-address"],
        }
    )


def refusal(url: str, dns: FakeDns, **kwargs: object) -> InvalidField:
    with pytest.raises(InvalidField) as caught:
        check_callback_url(url, resolve=dns, **kwargs)  # type: ignore[arg-type]
    assert caught.value.vonage_status == "23"
    return caught.value


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/dlr",
        "https://hooks.example.com:8443/dlr?account=1#x",
        "https://HOOKS.example.com./dlr",
        "https://dual.example.com/",
        "https://v6.example.com/",
        f"https://{PUBLIC_V4}/dlr",
        f"https://[{PUBLIC_V6}]:443/dlr",
        f"https://[::ffff:{PUBLIC_V4}]/",  # IPv4-mapped form of a public address
        "https://[64:ff9b::5db8:d822]/",  # NAT64 form of a public address
        "HTTPS://hooks.example.com/",
    ],
)
def test_accepts_public_https(url: str, dns: FakeDns) -> None:
    assert check_callback_url(url, resolve=dns) == url


def test_resolves_names_but_not_ip_literals(dns: FakeDns) -> None:
    check_callback_url("https://hooks.example.com./dlr", resolve=dns)
    check_callback_url(f"https://{PUBLIC_V4}/", resolve=dns)
    assert dns.lookups == ["hooks.example.com"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/", "points at 127.0.0.1, a loopback address"),
        ("https://127.8.9.10/", "loopback"),
        ("https://10.0.0.1/", "a private address"),
        ("https://10.255.255.255/", "private"),
        ("https://172.16.0.1/", "private"),
        ("https://172.31.255.254/", "private"),
        ("https://192.168.1.1/", "private"),
        ("https://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("https://169.254.170.2/v2/credentials", "cloud metadata"),
        ("https://100.100.100.200/", "cloud metadata"),
        ("https://168.63.129.16/", "cloud metadata"),
        ("https://169.254.1.1/", "link-local"),
        ("https://100.64.0.1/", "shared (carrier-grade NAT)"),
        ("https://100.127.255.254/", "shared"),
        ("https://0.0.0.0/", "an unspecified address"),
        ("https://0/", "points at 0.0.0.0"),
        ("https://0.1.2.3/", "0.1.2.3"),
        ("https://224.0.0.1/", "multicast"),
        ("https://239.1.2.3/", "multicast"),
        ("https://240.0.0.1/", "240.0.0.1"),
        ("https://[4000::1]/", "a reserved address"),
        ("https://255.255.255.255/", "255.255.255.255"),
        ("https://192.0.2.1/", "192.0.2.1"),  # documentation
        ("https://198.18.0.1/", "198.18.0.1"),  # benchmarking
        ("https://192.0.0.8/", "192.0.0.8"),
        # IPv4 literals in the forms resolvers accept
        ("https://2130706433/", "points at 127.0.0.1"),
        ("https://0x7f000001/", "points at 127.0.0.1"),
        ("https://0x7f.1/", "points at 127.0.0.1"),
        ("https://0177.0.0.1/", "points at 127.0.0.1"),
        ("https://127.1/", "points at 127.0.0.1"),
        ("https://0xA9.0xFE.0xA9.0xFE/", "points at 169.254.169.254, a cloud metadata"),
        ("https://2852039166/", "points at 169.254.169.254"),
        ("https://167772161/", "points at 10.0.0.1"),
        ("https://127.0.0.1.:8443/", "points at 127.0.0.1"),
        # IPv6
        ("https://[::1]/", "points at ::1, a loopback address"),
        ("https://[::]/", "unspecified"),
        ("https://[::ffff:127.0.0.1]/", "loopback (IPv4 embedded in IPv6)"),
        ("https://[::ffff:10.0.0.1]/", "private (IPv4 embedded in IPv6)"),
        ("https://[::ffff:169.254.169.254]/", "cloud metadata (IPv4 embedded in IPv6)"),
        ("https://[::ffff:0:0]/", "unspecified (IPv4 embedded in IPv6)"),
        ("https://[64:ff9b::7f00:1]/", "loopback (IPv4 embedded in IPv6)"),
        ("https://[64:ff9b::a9fe:a9fe]/", "cloud metadata (IPv4 embedded in IPv6)"),
        ("https://[::127.0.0.1]/", "IPv4-compatible"),
        ("https://[::5db8:d822]/", "IPv4-compatible"),
        ("https://[fd00:ec2::254]/", "cloud metadata"),
        ("https://[fd12:3456::1]/", "private"),
        ("https://[fe80::1]/", "link-local"),
        ("https://[fe80::1%25eth0]/", "link-local"),
        ("https://[ff02::1]/", "multicast"),
        ("https://[2001:db8::1]/", "2001:db8::1"),
        ("https://[2002:7f00:1::1]/", "2002:7f00:1::1"),  # 6to4: "special-purpose" before 3.12.4
        ("https://[2001::1]/", "2001::1"),  # Teredo
        ("https://[64:ff9b:1::a00:1]/", "64:ff9b:1::a00:1"),  # local-use NAT64
        ("https://[100::1]/", "100::1"),  # discard-only
        ("https://[fec0::1]/", "fec0::1"),  # site-local
    ],
)
def test_refuses_non_public_ip_literals(url: str, reason: str, dns: FakeDns) -> None:
    error = refusal(url, dns)
    assert error.field == "callback"
    assert reason in error.message
    assert "callbacks must reach a public host" in error.message
    assert dns.lookups == []


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("internal.example.com", "a private address"),
        ("corp.example.com", "a private address"),
        ("home.example.com", "a private address"),
        ("loop.example.com", "a loopback address"),
        ("loop6.example.com", "a loopback address"),
        ("metadata.example.com", "a cloud metadata address"),
        ("metadata6.example.com", "a cloud metadata address"),
        ("alibaba.example.com", "a cloud metadata address"),
        ("cgnat.example.com", "a shared (carrier-grade NAT) address"),
        ("mapped.example.com", "a private (IPv4 embedded in IPv6) address"),
        ("nat64.example.com", "a cloud metadata (IPv4 embedded in IPv6) address"),
        ("zero.example.com", "an unspecified address"),
        ("linklocal6.example.com", "a link-local address"),
        ("mixed.example.com", "a private address"),  # one bad address is enough
        ("garbage.example.com", "an unrecognised address"),
    ],
)
def test_refuses_names_resolving_to_non_public_addresses(host: str, reason: str, dns: FakeDns) -> None:
    error = refusal(f"https://{host}/dlr", dns)
    assert f"host '{host}' resolves to {reason}" in error.message
    assert dns.lookups == [host]


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "api.localhost", "localhost."])
def test_refuses_localhost_names_without_resolving(host: str, dns: FakeDns) -> None:
    error = refusal(f"https://{host}/", dns)
    assert "localhost, a loopback address" in error.message
    assert dns.lookups == []


@pytest.mark.parametrize("host", ["nowhere.example.com", "empty.example.com"])
def test_refuses_names_that_do_not_resolve(host: str, dns: FakeDns) -> None:
    assert f"host '{host}' does not resolve" in refusal(f"https://{host}/", dns).message


def test_resolver_failure_of_any_os_or_unicode_kind_means_does_not_resolve() -> None:
    def broken(host: str) -> list[str]:
        raise UnicodeError("label too long")

    with pytest.raises(InvalidField, match="does not resolve"):
        check_callback_url("https://hooks.example.com/", resolve=broken)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", "callback is empty"),
        ("http://hooks.example.com/dlr", "must use https (got http:)"),
        ("http://127.0.0.1:3000/dlr", "must use https"),
        ("ftp://hooks.example.com/dlr", "must use https (got ftp:)"),
        ("javascript:alert(1)", "must be an absolute URL"),
        ("file:///etc/passwd", "must be an absolute URL"),
        ("hooks.example.com/dlr", "must be an absolute URL"),
        ("//hooks.example.com/dlr", "must be an absolute URL"),
        ("/dlr", "must be an absolute URL"),
        ("https://user:secret@hooks.example.com/", "user name or password"),
        ("https://user@hooks.example.com/", "user name or password"),
        ("https://@hooks.example.com/", "user name or password"),
        ("https://:443/dlr", "has no host"),
        ("https://hooks.example.com:99999/", "not a valid URL"),
        ("https://hooks.example.com:http/", "not a valid URL"),
        ("https://hooks.example.com:0/", "port 0"),
        ("https://[::1/", "not a valid URL"),
        ("https://[not-v6]/", "not a valid"),
        ("https://hooks example.com/", "spaces or control characters"),
        ("https://hooks.example.com/a\tb", "spaces or control characters"),
        ("https://hooks.example.com/\n", "spaces or control characters"),
        ("https://hooks\x00.example.com/", "spaces or control characters"),
        ("https://bücher.example/", "xn-- (punycode)"),
        ("https://-bad-.example.com/", "not a valid host name"),
        ("https://a..example.com/", "not a valid host name"),
        ("https://%31%32%37.0.0.1/", "not a valid IP address"),
        ("https://exa%6dple.com/", "not a valid host name"),
        ("https://" + "a" * 64 + ".example.com/", "not a valid host name"),
        ("https://1.2.3.4.5/", "'1.2.3.4.5', which is not a valid IP address"),
        ("https://256.0.0.1/", "not a valid IP address"),
        ("https://08.0.0.1/", "not a valid IP address"),  # 08 is not octal
        ("https://4294967296/", "not a valid IP address"),
        ("https://hooks.example.com/" + "x" * 75, "is 101 characters; the maximum is 100"),
    ],
)
def test_refuses_bad_shapes(url: str, expected: str, dns: FakeDns) -> None:
    error = refusal(url, dns)
    assert error.field == "callback"
    assert expected in error.message


def test_length_limit_is_configurable(dns: FakeDns) -> None:
    long_url = "https://hooks.example.com/" + "x" * 500
    assert check_callback_url(long_url, max_length=None, resolve=dns) == long_url
    assert "maximum is 50" in refusal("https://hooks.example.com/" + "x" * 30, dns, max_length=50).message


def test_field_name_is_the_callers(dns: FakeDns) -> None:
    error = refusal("http://hooks.example.com/", dns, field="callback_url")
    assert error.field == "callback_url"
    assert error.message.startswith("callback_url must use https")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:3000/dlr",
        "http://localhost:8080/dlr",
        "https://localhost/dlr",
        "http://LOCALHOST./dlr",
        "https://127.0.0.1/",
    ],
)
def test_allow_listed_hosts_skip_scheme_and_address_checks(url: str, dns: FakeDns) -> None:
    assert check_callback_url(url, allow_http_hosts=LOCAL, resolve=dns) == url
    assert dns.lookups == []


@pytest.mark.parametrize(
    "url",
    [
        "http://0x7f.1/",  # the allow-list matches the host as written, not what it means
        "http://2130706433/",
        "http://[::1]/",
        "http://127.0.0.2/",
        "http://localhost.example.com/",
        "http://hooks.example.com/",
    ],
)
def test_allow_list_is_exact(url: str, dns: FakeDns) -> None:
    refusal(url, dns, allow_http_hosts=LOCAL)


def test_allow_list_entries_are_normalised(dns: FakeDns) -> None:
    assert check_callback_url("http://localhost/", allow_http_hosts=["LocalHost."], resolve=dns)


def test_userinfo_is_refused_even_for_allow_listed_hosts(dns: FakeDns) -> None:
    refusal("http://user:pw@localhost/", dns, allow_http_hosts=LOCAL)


def test_default_resolver_is_getaddrinfo_and_checks_every_address(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, ...]] = []

    def fake_getaddrinfo(
        host: str, port: object, *args: object, **kwargs: object
    ) -> list[tuple[object, ...]]:
        calls.append((host, port))
        if host == "split.example.com":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_V4, 0)),
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 0, 0, 0)),
            ]
        if host == "hooks.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_V4, 0))]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(urlsafety.socket, "getaddrinfo", fake_getaddrinfo)
    assert resolve_host("split.example.com") == [PUBLIC_V4, "::1"]
    assert check_callback_url("https://hooks.example.com/") == "https://hooks.example.com/"
    with pytest.raises(InvalidField, match="resolves to a loopback address"):
        check_callback_url("https://split.example.com/")
    with pytest.raises(InvalidField, match="does not resolve"):
        check_callback_url("https://nowhere.example.com/")
    assert [host for host, _ in calls] == [
        "split.example.com",
        "hooks.example.com",
        "split.example.com",
        "nowhere.example.com",
    ]


@pytest.mark.parametrize(
    ("address", "blocked"),
    [
        (PUBLIC_V4, False),
        (PUBLIC_V6, False),
        ("8.8.8.8", False),
        ("1.1.1.1", False),
        ("100.63.255.255", False),
        ("100.128.0.0", False),
        ("172.15.255.255", False),
        ("172.32.0.0", False),
        ("169.253.255.255", False),
        ("2a00:1450:4001::200e", False),
        ("127.0.0.1", True),
        ("10.1.1.1", True),
        ("172.16.0.0", True),
        ("192.168.0.1", True),
        ("169.254.169.254", True),
        ("100.64.0.0", True),
        ("0.0.0.0", True),  # noqa: S104
        ("::1", True),
        ("::", True),
        ("::ffff:192.168.0.1", True),
        ("64:ff9b::c0a8:1", True),
        ("fd00:ec2::254", True),
        ("fe80::abcd", True),
    ],
)
def test_is_blocked_address(address: str, blocked: bool) -> None:
    assert is_blocked_address(ipaddress.ip_address(address)) is blocked
