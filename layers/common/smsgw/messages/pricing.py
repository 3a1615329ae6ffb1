"""Per-country rate card × parts. Money is Decimal with 8 places, shown as Vonage shows it."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from importlib import resources

from smsgw.config import get_settings

PLACES = Decimal("0.00000001")


@cache
def _rate_card() -> dict[str, Decimal]:
    data = json.loads(resources.files("smsgw.messages").joinpath("rate_card.json").read_text())
    return {country: Decimal(price) for country, price in data["prices"].items()}


def price_per_part(country: str, route_price: Decimal | None = None) -> Decimal:
    """The route's connector's price when it has one for this country, else the stack's rate card."""
    if route_price is not None:
        return route_price.quantize(PLACES)
    return _rate_card().get(country.upper(), get_settings().default_price).quantize(PLACES)


def money(value: Decimal) -> str:
    return str(value.quantize(PLACES))
