"""Carrier connectors and the routes that choose between them (docs/routing.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

PROTOCOLS = ("vonage", "kpn", "simulator")
# Protocols whose delivery receipts echo the `client-ref` a submission sent (Vonage's DLR fields, contract
# §3): dispatch sends our message id there, so their receipts find the message without a carrier id
# lookup item, and dispatch writes none (one write unit per part). KPN does not promise it: lookups.
RECEIPTS_NAME_THE_MESSAGE = frozenset({"vonage", "simulator"})
# How a connector's receipts and inbound SMS are authenticated: the carrier signs them with the
# secret's signature_secret, or (carriers that cannot sign, like KPN) a token the gateway puts in the
# webhook URL it registers; "none" only where the operator allowed unsigned webhooks.
WEBHOOK_AUTH = ("signature", "url_token", "none")
SENDER_TYPES = ("alphanumeric", "numeric")
DEFAULT_CONNECTOR = "default"


@dataclass(frozen=True)
class Connector:
    name: str
    protocol: str  # one of PROTOCOLS
    base_url: str
    secret_name: str  # a Secrets Manager secret with the credentials (never the values)
    rate_per_second: float  # paced at this rate across all functions
    webhook_auth: str = "signature"
    # What a part sent through it costs the account, by destination country ("*": any other); countries
    # it does not name cost what the stack's rate card says.
    prices: Mapping[str, Decimal] = field(default_factory=dict)

    def price_for(self, country: str) -> Decimal | None:
        return self.prices.get(country, self.prices.get("*"))

    @property
    def receipts_name_the_message(self) -> bool:
        return self.protocol in RECEIPTS_NAME_THE_MESSAGE

    def __hash__(self) -> int:  # a frozen dataclass with a dict: hash what identifies the client
        return hash((self.name, self.protocol, self.base_url, self.secret_name))


@dataclass(frozen=True)
class Route:
    """Messages that match go to `connectors`, the first that is up (the rest in failover order).

    A route matches a destination by `prefix` (E.164 digits) or `country` (ISO 3166 alpha-2), or every
    destination when it has neither; `account_id` and `sender_type` narrow it further. With `weights`
    (one per connector) it splits its traffic: each message starts at a connector drawn by weight and
    fails over to the others in their listed order."""

    route_id: str
    connectors: tuple[str, ...]
    prefix: str | None = None
    country: str | None = None
    account_id: str | None = None
    sender_type: str | None = None  # one of SENDER_TYPES
    weights: tuple[int, ...] | None = None

    def ordered_for(self, key: str) -> tuple[str, ...]:
        """The connectors for the message `key` names: without weights as listed; with them, the one its
        key draws first (a stable hash, so a retried acceptance draws the same), then the rest."""
        if not self.weights:
            return self.connectors
        draw = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
        point = draw % sum(self.weights)
        for name, weight in zip(self.connectors, self.weights, strict=True):
            if point < weight:
                return (name, *(other for other in self.connectors if other != name))
            point -= weight
        raise AssertionError("a draw below the weights' sum falls in one of them")

    def split(self) -> str:
        """`a 70 %, b 30 %` for a route with weights, else empty."""
        if not self.weights:
            return ""
        total = sum(self.weights)
        return ", ".join(
            f"{name} {weight * 100 / total:g} %"
            for name, weight in zip(self.connectors, self.weights, strict=True)
        )

    def matches(self, msisdn: str, country: str, account_id: str, sender_type: str) -> bool:
        if self.prefix is not None and not msisdn.startswith(self.prefix):
            return False
        if self.country is not None and self.country != country:
            return False
        if self.account_id is not None and self.account_id != account_id:
            return False
        return self.sender_type is None or self.sender_type == sender_type

    def specificity(self) -> tuple[int, int, int, int]:
        """Higher wins: the destination first (a longer prefix, then a country, then any), then a route
        for this account, then one for this sender type."""
        destination = (2, len(self.prefix)) if self.prefix else ((1, 0) if self.country else (0, 0))
        return (*destination, self.account_id is not None, self.sender_type is not None)

    def describe(self) -> str:
        what = (
            f"prefix {self.prefix}" if self.prefix else f"country {self.country}" if self.country else "any"
        )
        extra = [f"account {self.account_id}"] if self.account_id else []
        extra += [f"{self.sender_type} senders"] if self.sender_type else []
        extra += [f"split {self.split()}"] if self.weights else []
        return f"route {self.route_id!r} ({', '.join([what, *extra])})"


@dataclass(frozen=True)
class Decision:
    """Where a message goes: its connectors in failover order, the route that chose them and why."""

    connectors: tuple[str, ...]
    route_id: str | None
    why: str
