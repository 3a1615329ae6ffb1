"""The Numbers API (contract §7; kpn.md A.10): a deterministic pool of numbers per country, search
filters, pages, owned-number listings, updates and error bodies."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

# --- Numbers API (§7; kpn.md A.10) ---------------------------------------------------------------------------

NUMBER_TYPES = ("landline", "mobile-lvn", "landline-toll-free")
NUMBER_FEATURES = ("SMS", "VOICE", "MMS")
# country -> type -> (prefix, digits after it): fictitious or test ranges where there are some
# (NL 097 M2M numbers; Ofcom's drama ranges for GB; 555-01xx for the US).
NUMBER_RANGES: dict[str, dict[str, tuple[str, int]]] = {
    "NL": {"mobile-lvn": ("3197010", 6), "landline": ("3120", 7), "landline-toll-free": ("31800", 4)},
    "GB": {
        "mobile-lvn": ("447700900", 3),
        "landline": ("442079460", 3),
        "landline-toll-free": ("448081570", 3),
    },
    "US": {
        "mobile-lvn": ("120155501", 2),
        "landline": ("121255501", 2),
        "landline-toll-free": ("180055501", 2),
    },
}
NUMBER_TYPE_FEATURES = {
    "mobile-lvn": ["SMS", "VOICE"],
    "landline": ["VOICE"],
    "landline-toll-free": ["VOICE"],
}
NUMBER_COSTS = {"mobile-lvn": "1.00", "landline": "0.90", "landline-toll-free": "10.00"}
# Labels (Vonage's numbers spec names only 200 success, 401 and 420).
NUMBERS_SUCCESS = {"error-code": "200", "error-code-label": "success"}
NUMBERS_DEFAULT_SIZE = 10
NUMBERS_MAX_SIZE = 100
# What `/number/update` may set on an owned number ("" clears), and what `/account/numbers` shows.
NUMBER_SETTINGS = (
    "moHttpUrl",
    "moSmppSysType",
    "app_id",
    "voiceCallbackType",
    "voiceCallbackValue",
    "voiceStatusCallback",
    "messagesCallbackType",
    "messagesCallbackValue",
)
OWNED_NUMBER_FIELDS = (
    "country",
    "msisdn",
    "moHttpUrl",
    "type",
    "features",
    "messagesCallbackType",
    "messagesCallbackValue",
    "voiceCallbackType",
    "voiceCallbackValue",
    "app_id",
)
VOICE_CALLBACK_TYPES = ("sip", "tel", "app")


class NumbersFailure(Exception):
    """A Numbers API error: HTTP status and Vonage's `{"error-code", "error-code-label"}` body."""

    def __init__(self, http_status: int, label: str) -> None:
        self.http_status = http_status
        self.label = label
        super().__init__(f"{http_status} {label}")

    def body(self) -> dict[str, str]:
        return {"error-code": str(self.http_status), "error-code-label": self.label}


NUMBERS_UNAUTHORIZED = NumbersFailure(401, "authentication failed")
NUMBERS_METHOD_FAILED = NumbersFailure(420, "method failed")


def number_pool(country: str, size: int) -> list[dict[str, Any]]:
    """The numbers for sale in `country` (ISO-2, any case): up to `size` of each type, by msisdn.

    Deterministic: the same country and size always give the same numbers. An unknown country has none.
    """
    pool = []
    for kind, (prefix, digits) in NUMBER_RANGES.get(country.upper(), {}).items():
        for index in range(min(size, 10**digits)):
            pool.append(
                {
                    "country": country.upper(),
                    "msisdn": f"{prefix}{index:0{digits}d}",
                    "type": kind,
                    "cost": NUMBER_COSTS[kind],
                    "initialPrice": "0.00",
                    "features": list(NUMBER_TYPE_FEATURES[kind]),
                }
            )
    return sorted(pool, key=lambda number: number["msisdn"])


def _whole(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise NumbersFailure(400, f"invalid parameter: {name} must be a whole number from {low} to {high}")
    return int(raw)


def pattern_filter(params: Mapping[str, str]) -> Callable[[str], bool]:
    """`pattern` with `search_pattern` 0 (starts with, the default), 1 (contains) or 2 (ends with)."""
    pattern = params.get("pattern", "")
    mode = _whole(params, "search_pattern", 0, 0, 2)
    if not pattern:
        return lambda msisdn: True
    if mode == 0:
        return lambda msisdn: msisdn.startswith(pattern)
    if mode == 1:
        return lambda msisdn: pattern in msisdn
    return lambda msisdn: msisdn.endswith(pattern)


def numbers_page(numbers: Sequence[Mapping[str, Any]], params: Mapping[str, str]) -> dict[str, Any]:
    """`{"count": <all matches>, "numbers": [<page>]}` by `size` (default 10, at most 100) and `index`
    (1-based page). `numbers` is left out when the page is empty, as Vonage does."""
    size = _whole(params, "size", NUMBERS_DEFAULT_SIZE, 1, NUMBERS_MAX_SIZE)
    index = _whole(params, "index", 1, 1, 10**9)
    page = [dict(number) for number in numbers[(index - 1) * size : index * size]]
    return {"count": len(numbers), "numbers": page} if page else {"count": len(numbers)}


def search_numbers(pool: Sequence[Mapping[str, Any]], params: Mapping[str, str]) -> dict[str, Any]:
    """`GET /number/search` over the numbers still for sale: filters `type` (any when absent),
    `features` (comma-separated, the number has all), `pattern`/`search_pattern`, then the page."""
    kind = params.get("type", "")
    if kind and kind not in NUMBER_TYPES:
        raise NumbersFailure(400, f"invalid parameter: type must be one of {', '.join(NUMBER_TYPES)}")
    wanted = {feature.strip().upper() for feature in params.get("features", "").split(",") if feature.strip()}
    if wanted - set(NUMBER_FEATURES):
        raise NumbersFailure(400, f"invalid parameter: features must be among {', '.join(NUMBER_FEATURES)}")
    matches = pattern_filter(params)
    found = [
        number
        for number in pool
        if (not kind or number["type"] == kind)
        and wanted <= set(number["features"])
        and matches(number["msisdn"])
    ]
    return numbers_page(found, params)


def owned_number_listing(number: Mapping[str, Any]) -> dict[str, Any]:
    """How `/account/numbers` shows an owned number: the fields it has among `OWNED_NUMBER_FIELDS`."""
    return {name: number[name] for name in OWNED_NUMBER_FIELDS if number.get(name) is not None}


def list_owned_numbers(owned: Sequence[Mapping[str, Any]], params: Mapping[str, str]) -> dict[str, Any]:
    """`GET /account/numbers`: filters `country`, `pattern`/`search_pattern`, `application_id`,
    `has_application` (true/false), then the page."""
    country = params.get("country", "").upper()
    application_id = params.get("application_id", "")
    has_application = params.get("has_application", "").lower()
    if has_application not in ("", "true", "false"):
        raise NumbersFailure(400, "invalid parameter: has_application must be true or false")
    matches = pattern_filter(params)
    found = [
        owned_number_listing(number)
        for number in sorted(owned, key=lambda number: number["msisdn"])
        if (not country or number["country"] == country)
        and (not application_id or number.get("app_id") == application_id)
        and (not has_application or bool(number.get("app_id")) == (has_application == "true"))
        and matches(number["msisdn"])
    ]
    return numbers_page(found, params)


def number_target(params: Mapping[str, str]) -> tuple[str, str]:
    """(country upper-cased, msisdn) of a buy/cancel/update; a missing one is a 400."""
    for name in ("country", "msisdn"):
        if not params.get(name):
            raise NumbersFailure(400, f"missing parameter: {name}")
    return params["country"].upper(), params["msisdn"]


def number_changes(params: Mapping[str, str]) -> dict[str, str]:
    """The settings a `/number/update` changes (present in `params`; "" means clear)."""
    changes = {name: params[name] for name in NUMBER_SETTINGS if name in params}
    callback_type = changes.get("voiceCallbackType")
    if callback_type and callback_type not in VOICE_CALLBACK_TYPES:
        raise NumbersFailure(
            400, f"invalid parameter: voiceCallbackType must be one of {', '.join(VOICE_CALLBACK_TYPES)}"
        )
    return changes
