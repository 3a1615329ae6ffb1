"""Setting an account's fraud guards (the operator's `smsgw accounts guards`; applied by messages/guards.py).

Apart from accounts/service.py so that phonenumbers (its country check; 58–72 ms of cold start,
-X importtime 2026-12-03) is loaded by the operator's CLI only, never by the token, authorizer and
inbound functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import phonenumbers

from smsgw.accounts import repository
from smsgw.accounts.models import FraudGuards
from smsgw.accounts.service import parse_amount
from smsgw.core.errors import BadRequest, NotFound

# The guards `set_guards(off=...)` can switch off (`all`: every one).
GUARD_NAMES = ("allow-countries", "block-countries", "daily-cap", "velocity")
MAX_VELOCITY_WINDOW = 86_400


def _countries(value: Iterable[str], field: str) -> tuple[str, ...]:
    """ISO 3166 alpha-2 codes, upper-cased, each one a region smsgw can recognise a number of."""
    codes: list[str] = []
    for raw in value:
        code = raw.strip().upper()
        if not code:
            continue
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise BadRequest(
                f"{field}: {raw.strip()!r} is not an ISO 3166 alpha-2 country code smsgw knows (e.g. NL, BE, GB)",
                field,
            )
        if code not in codes:
            codes.append(code)
    if not codes:
        raise BadRequest(f"{field}: give one or more country codes, e.g. NL,BE (or switch it off)", field)
    return tuple(codes)


def _whole(value: int, field: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise BadRequest(f"{field} must be a whole number from {low} to {high:,}", field)
    return value


def set_guards(
    account_id: str,
    *,
    allow_countries: Iterable[str] | None = None,
    block_countries: Iterable[str] | None = None,
    daily_cap: str | None = None,
    velocity: int | None = None,
    velocity_window: int | None = None,
    velocity_digits: int | None = None,
    off: Iterable[str] = (),
) -> FraudGuards:
    """Change an account's fraud guards (docs/fraud.md): what is given is set, the names in `off`
    (GUARD_NAMES, or `all`) are switched off, the rest stays as it was. Returns the guards as stored."""
    account = repository.get_account(account_id, consistent=True)
    if account is None:
        raise NotFound(f"no account {account_id}")
    switched_off = {name.strip().lower().replace("_", "-") for name in off if name.strip()}
    unknown = switched_off - {*GUARD_NAMES, "all"}
    if unknown:
        raise BadRequest(
            f"off: unknown guard {sorted(unknown)[0]!r}; name one or more of {', '.join(GUARD_NAMES)}, or all",
            "off",
        )
    if "all" in switched_off:
        switched_off = set(GUARD_NAMES)
    given = {
        "allow-countries": allow_countries is not None,
        "block-countries": block_countries is not None,
        "daily-cap": daily_cap is not None,
        "velocity": any(v is not None for v in (velocity, velocity_window, velocity_digits)),
    }
    both = sorted(name for name in switched_off if given[name])
    if both:
        raise BadRequest(f"{both[0]} is both set and switched off: give one or the other", both[0])
    changes: dict[str, Any] = {}
    if "allow-countries" in switched_off:
        changes["allow_countries"] = ()
    elif allow_countries is not None:
        changes["allow_countries"] = _countries(allow_countries, "allow-countries")
    if "block-countries" in switched_off:
        changes["block_countries"] = ()
    elif block_countries is not None:
        changes["block_countries"] = _countries(block_countries, "block-countries")
    if "daily-cap" in switched_off:
        changes["daily_cap"] = None
    elif daily_cap is not None:
        cap = parse_amount(daily_cap, "daily-cap")
        if cap == 0:
            raise BadRequest(
                "daily-cap must be more than zero (to stop all sends, disable the account)", "daily-cap"
            )
        changes["daily_cap"] = cap
    defaults = FraudGuards()
    if "velocity" in switched_off:
        changes.update(
            velocity=None, velocity_window=defaults.velocity_window, velocity_digits=defaults.velocity_digits
        )
    elif given["velocity"]:
        if velocity is None and account.guards.velocity is None:
            raise BadRequest("give --velocity N (sends per window) to set a velocity limit", "velocity")
        if velocity is not None:
            changes["velocity"] = _whole(velocity, "velocity", 1, 1_000_000)
        if velocity_window is not None:
            changes["velocity_window"] = _whole(velocity_window, "velocity-window", 1, MAX_VELOCITY_WINDOW)
        if velocity_digits is not None:
            changes["velocity_digits"] = _whole(velocity_digits, "velocity-digits", 1, 15)
    guards = replace(account.guards, **changes)
    overlap = sorted(set(guards.allow_countries) & set(guards.block_countries))
    if overlap:
        raise BadRequest(
            f"{', '.join(overlap)} would be both allowed and blocked: remove it from one list",
            "block-countries" if "block_countries" in changes else "allow-countries",
        )
    if not repository.set_guards(account_id, guards):
        raise NotFound(f"no account {account_id}")
    return guards
