"""Connectors and routes: which carrier a message goes to, and why (docs/routing.md).

The stack's own carrier (the CarrierProvider/CarrierBaseUrl/CarrierSecretName/CarrierRatePerSecond
parameters) is the connector named `default`, so a one-carrier stack needs no configuration; the
operator adds connectors and routes with the CLI (`smsgw connectors …`, `smsgw routes …`). Each
function reads them at most every ROUTING_CACHE_SECONDS (default 30; a change reaches every function
within that time).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from smsgw.carrier.signature import verify_carrier_webhook, verify_connector_webhook
from smsgw.config import get_settings
from smsgw.core.errors import Conflict, InvalidField, NotFound
from smsgw.core.memo import remembered
from smsgw.routing import repository
from smsgw.routing.models import (
    DEFAULT_CONNECTOR,
    PROTOCOLS,
    SENDER_TYPES,
    WEBHOOK_AUTH,
    Connector,
    Decision,
    Route,
)

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
PREFIX = re.compile(r"[1-9]\d{0,14}")
COUNTRY = re.compile(r"[A-Z]{2}")

_cache: dict[str, Any] = remembered({})


def sender_type(sender: str) -> str:
    """`numeric` for a phone number (digits only), else `alphanumeric`."""
    return "numeric" if sender.isdigit() else "alphanumeric"


# --- reading -------------------------------------------------------------------------------------------


def _configured(now: float | None = None) -> tuple[dict[str, Connector], list[Route]]:
    now = time.monotonic() if now is None else now
    if _cache and now - _cache["read_at"] < get_settings().routing_cache_seconds:
        return _cache["connectors"], _cache["routes"]
    connectors = {DEFAULT_CONNECTOR: stack_connector()}
    connectors.update({item["sk"]: _connector(item) for item in repository.connectors()})
    routes = sorted((_route(item) for item in repository.routes()), key=lambda r: r.route_id)
    _cache.update(read_at=now, connectors=connectors, routes=routes)
    return connectors, routes


def stack_connector() -> Connector:
    """The carrier the stack's parameters name: the default connector unless one is stored as `default`."""
    settings = get_settings()
    return Connector(
        name=DEFAULT_CONNECTOR,
        protocol=settings.carrier_provider,
        base_url=settings.carrier_base_url,
        secret_name=settings.carrier_secret_name,
        rate_per_second=settings.carrier_rate_per_second,
    )


def connectors() -> list[Connector]:
    found, _ = _configured()
    return sorted(found.values(), key=lambda c: (c.name != DEFAULT_CONNECTOR, c.name))


def connector(name: str) -> Connector:
    found, _ = _configured()
    if name not in found:
        raise NotFound(f"no connector {name!r}; `smsgw connectors list` shows them")
    return found[name]


def routes() -> list[Route]:
    return list(_configured()[1])


def verify_webhook(name: str, params: Mapping[str, str], what: str, now: float | None = None) -> None:
    """Authenticate a receipt or inbound SMS that came to connector `name`'s endpoint: the default's
    (/carrier/dlr|inbound) as it always was, by the stack's carrier secret (its token or signature,
    whichever it has); another's (/carrier/<name>/…) with its own secret as its `webhook_auth` says.
    Unauthorized (→ 401) when it fails; NotFound (→ 404, saying nothing more) for an unknown name."""
    if name == DEFAULT_CONNECTOR:
        verify_carrier_webhook(params, what, now)
        return
    found = _configured()[0].get(name)
    if found is None:
        raise NotFound("no such carrier webhook")
    verify_connector_webhook(params, what, found.name, found.secret_name, found.webhook_auth, now)


def decide(msisdn: str, country: str, account_id: str, sender: str, message_id: str = "") -> Decision:
    """The route for this destination, account and sender: of the routes that match, the most specific
    (Route.specificity; equal ones by id); none → the default connector. A route with weights orders
    its connectors for `message_id` (Route.ordered_for); without one (`smsgw routes test`) as listed."""
    kind = sender_type(sender)
    matching = [route for route in routes() if route.matches(msisdn, country, account_id, kind)]
    if not matching:
        return Decision((DEFAULT_CONNECTOR,), None, "no route matches: the default connector")
    best = max(matching, key=Route.specificity)  # routes() is by id: the first of equals wins
    others = [r.route_id for r in matching if r is not best]
    why = f"{best.describe()} matches"
    if others:
        why += f"; more specific than {', '.join(repr(o) for o in others)}"
    if best.weights:
        why += "; each message starts at a connector drawn by weight, the others are its failover"
    return Decision(best.ordered_for(message_id) if message_id else best.connectors, best.route_id, why)


# --- changing ------------------------------------------------------------------------------------------


def price_for(connector_name: str, country: str) -> Decimal | None:
    """The connector's price per part to this country; None: the stack's rate card applies."""
    found, _ = _configured()
    connector_found = found.get(connector_name)
    return connector_found.price_for(country) if connector_found else None


def parse_prices(text: str) -> dict[str, Decimal]:
    """`NL=0.07,GB=0.04,*=0.05` → {country: price}; an error names `prices`."""
    prices: dict[str, Decimal] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        country, _, value = pair.partition("=")
        country = country.strip().upper()
        if country != "*" and not COUNTRY.fullmatch(country):
            raise InvalidField("prices", f"prices: {country!r} is not an ISO 3166 alpha-2 code or *")
        try:
            price = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidField("prices", f"prices: {value.strip()!r} for {country} is not a number") from None
        if not price.is_finite() or price < 0 or price > 100:
            raise InvalidField("prices", f"prices: {country}'s price must be between 0 and 100")
        prices[country] = price
    return prices


def set_connector(
    name: str,
    protocol: str,
    base_url: str,
    secret_name: str,
    rate_per_second: float,
    webhook_auth: str,
    prices: dict[str, Decimal] | None = None,
) -> Connector:
    if not NAME.fullmatch(name):
        raise InvalidField(
            "name", "name: 1–32 lower-case letters, digits and '-', starting with a letter or digit"
        )
    if protocol not in PROTOCOLS:
        raise InvalidField("protocol", f"protocol must be one of {', '.join(PROTOCOLS)}")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidField("base_url", "base_url must be an http(s) URL, e.g. https://rest.nexmo.com")
    if not secret_name:
        raise InvalidField("secret_name", "secret_name: the Secrets Manager secret with its credentials")
    if not 0 < rate_per_second <= 10_000:
        raise InvalidField("rate_per_second", "rate_per_second must be above 0 and at most 10000")
    if webhook_auth not in WEBHOOK_AUTH:
        raise InvalidField("webhook_auth", f"webhook_auth must be one of {', '.join(WEBHOOK_AUTH)}")
    fields = {
        "protocol": protocol,
        "base_url": base_url,
        "secret_name": secret_name,
        "rate_per_second": str(rate_per_second),
        "webhook_auth": webhook_auth,
        "prices": {country: str(price) for country, price in (prices or {}).items()},
    }
    repository.put_connector(name, fields)
    _cache.clear()
    return connector(name)


def remove_connector(name: str) -> None:
    used = [r.route_id for r in routes() if name in r.connectors]
    if used:
        raise Conflict(f"connector {name!r} is used by route(s) {', '.join(used)}: change them first")
    if not repository.delete_connector(name):
        raise NotFound(f"no stored connector {name!r}")
    _cache.clear()


def set_route(
    route_id: str,
    connectors_in_order: list[str],
    prefix: str | None = None,
    country: str | None = None,
    account_id: str | None = None,
    sender: str | None = None,
    weights: list[int] | None = None,
) -> Route:
    if not NAME.fullmatch(route_id):
        raise InvalidField("route", "route id: 1–32 lower-case letters, digits and '-'")
    if prefix is not None and country is not None:
        raise InvalidField("prefix", "a route matches a prefix or a country, not both")
    if prefix is not None and not PREFIX.fullmatch(prefix):
        raise InvalidField("prefix", "prefix: the first 1–15 digits of E.164 numbers, without + (e.g. 316)")
    if country is not None and not COUNTRY.fullmatch(country):
        raise InvalidField("country", "country: an ISO 3166 alpha-2 code in capitals (e.g. NL)")
    if sender is not None and sender not in SENDER_TYPES:
        raise InvalidField("sender_type", f"sender_type must be one of {', '.join(SENDER_TYPES)}")
    if not connectors_in_order:
        raise InvalidField("connectors", "connectors: at least one, in failover order")
    if len(set(connectors_in_order)) != len(connectors_in_order):
        raise InvalidField("connectors", "connectors: each at most once")
    if weights is not None:
        if len(weights) != len(connectors_in_order):
            raise InvalidField("weights", "weights: one per connector, in the same order")
        if any(not 0 <= weight <= 1000 for weight in weights) or not any(weights):
            raise InvalidField("weights", "weights: whole numbers 0–1000, at least one above 0")
    known = {c.name for c in connectors()}
    unknown = [name for name in connectors_in_order if name not in known]
    if unknown:
        raise InvalidField(
            "connectors", f"no connector {', '.join(unknown)}; add it with `smsgw connectors set`"
        )
    fields: dict[str, Any] = {"connectors": list(connectors_in_order)}
    if weights is not None:
        fields["weights"] = list(weights)
    for key, value in (
        ("prefix", prefix),
        ("country", country),
        ("account_id", account_id),
        ("sender_type", sender),
    ):
        if value is not None:
            fields[key] = value
    repository.put_route(route_id, fields)
    _cache.clear()
    return next(r for r in routes() if r.route_id == route_id)


def remove_route(route_id: str) -> None:
    if not repository.delete_route(route_id):
        raise NotFound(f"no route {route_id!r}")
    _cache.clear()


# --- items ---------------------------------------------------------------------------------------------


def _connector(item: dict[str, Any]) -> Connector:
    return Connector(
        name=str(item["sk"]),
        protocol=str(item["protocol"]),
        base_url=str(item["base_url"]),
        secret_name=str(item["secret_name"]),
        rate_per_second=float(item["rate_per_second"]),
        webhook_auth=str(item.get("webhook_auth") or "signature"),
        prices={str(k): Decimal(str(v)) for k, v in (item.get("prices") or {}).items()},
    )


def _route(item: dict[str, Any]) -> Route:
    return Route(
        route_id=str(item["sk"]),
        connectors=tuple(str(c) for c in item["connectors"]),
        prefix=item.get("prefix"),
        country=item.get("country"),
        account_id=item.get("account_id"),
        sender_type=item.get("sender_type"),
        weights=tuple(int(w) for w in item["weights"]) if item.get("weights") else None,
    )
