"""An account's fraud guards on the send path (docs/fraud.md): destination countries, the velocity limit
per number range, and the daily spend cap's pre-check and refusal.

The settings are the account's (`Account.guards`, set with `smsgw accounts guards`); the counters are in
their repository, `smsgw.messages.counters` (`SPEND#…` and, for an immediate send, `VELOCITY#…` counted
in the charge transaction; a held send counts `VELOCITY#…` in one conditional update). A refused send is
never stored, charged or queued.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from smsgw.accounts.models import Account
from smsgw.core import clock
from smsgw.core.errors import (
    NON_WHITELISTED_DESTINATION,
    DailyCapReached,
    SendRefused,
    SendThrottled,
)
from smsgw.messages import counters, pricing
from smsgw.observability import count, logger, mask_number

VELOCITY_METRIC = "FraudVelocityTripped"

# The guards' clock: the velocity window and the cap's UTC day (tests move it).
_clock = clock.now


def check_country(account: Account, msisdn: str, country: str) -> None:
    """Vonage status 29 (Non-Whitelisted Destination) naming the country when the account's guards
    refuse it; HTTP 400 on KPN's send."""
    why = account.guards.country_refusal(country)
    if why is not None:
        raise SendRefused(
            NON_WHITELISTED_DESTINATION,
            f"Non-Whitelisted Destination: {msisdn} is in {country.upper()}, and {why}; nothing was sent "
            "or charged. Ask the operator to change the account's guards (smsgw accounts guards)",
            "to",
        )


def _velocity_window(account: Account, msisdn: str) -> tuple[int, int, int, str]:
    """(the second now, the window's start, its length, the number range) for a send to `msisdn`."""
    guards = account.guards
    window = guards.velocity_window
    second = int(_clock().timestamp())
    return second, second - second % window, window, guards.velocity_prefix(msisdn)


def velocity_limit(account: Account, msisdn: str) -> counters.Limit | None:
    """The velocity counter a send to `msisdn` counts against (in its charge transaction); None when
    the account has no velocity limit."""
    if account.guards.velocity is None:
        return None
    _, start, window, prefix = _velocity_window(account, msisdn)
    return counters.velocity(account.account_id, prefix, start, window, account.guards.velocity)


def check_velocity(account: Account, msisdn: str) -> None:
    """Count this send against its number range; refuse it (status 1, retry after the window) when the
    account's velocity limit for that range is reached — and count `FraudVelocityTripped` for the alarm.
    (A held send; an immediate one counts in its charge transaction: `velocity_limit`.)"""
    guards = account.guards
    if guards.velocity is None:
        return
    _, start, window, prefix = _velocity_window(account, msisdn)
    if counters.count_velocity(account.account_id, prefix, start, window, guards.velocity):
        return
    raise velocity_refusal(account, msisdn)


def velocity_refusal(account: Account, msisdn: str) -> SendThrottled:
    """The refusal for a send over the velocity limit of its number range (and the alarm's metric)."""
    guards = account.guards
    second, start, window, prefix = _velocity_window(account, msisdn)
    retry_after = max(start + window - second, 1)
    count(VELOCITY_METRIC)
    logger.warning(
        "fraud guard: velocity limit reached",
        extra={
            "account_id": account.account_id,
            "prefix": mask_number(prefix),
            "limit": guards.velocity,
            "window_seconds": window,
        },
    )
    return SendThrottled(
        f"Throttled: this account may send at most {guards.velocity} messages per {window} s to numbers "
        f"starting {prefix} (its velocity limit, a guard against SMS pumping); nothing was sent or charged. "
        f"Retry after {retry_after} s, or ask the operator to raise the limit",
        retry_after,
    )


def daily_cap(account: Account, now: datetime) -> counters.DailyCap | None:
    """The account's daily cap for a charge now (None: no cap)."""
    if account.guards.daily_cap is None:
        return None
    return counters.DailyCap(account.guards.daily_cap, counters.utc_day(now))


def daily_cap_now(account: Account) -> counters.DailyCap | None:
    """The account's daily cap for a charge now, by the guards' clock (None: no cap)."""
    return daily_cap(account, _clock())


def _resets_at(day: str) -> str:
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    return (start + timedelta(days=1)).isoformat(timespec="seconds").replace("+00:00", "Z")


def cap_reached(
    account: Account, cap: counters.DailyCap, price: Decimal, spent: Decimal | None = None
) -> DailyCapReached:
    """The refusal for a charge the daily cap does not allow: it says it is the cap, its value, what
    was spent and when it resets (status 9 on the SMS APIs, like a low balance)."""
    if spent is None:
        spent = counters.day_spend(account.account_id, cap.day)
    currency = account.currency
    return DailyCapReached(
        f"this account's daily spend cap of {pricing.money(cap.cap)} {currency} is reached (spent on "
        f"{cap.day}: {pricing.money(spent)} {currency}; this message: {pricing.money(price)} {currency}). "
        f"This is the daily cap, not the balance: nothing was sent or charged. The cap resets at "
        f"{_resets_at(cap.day)} (00:00 UTC); the operator can raise it with smsgw accounts guards"
    )


def spent_today(account_id: str, now: datetime | None = None) -> tuple[str, Decimal, str]:
    """(the UTC day, what the account's daily cap has counted that day, when the day ends) — for the
    operator's view (`smsgw accounts guards`)."""
    day = counters.utc_day(now or _clock())
    return day, counters.day_spend(account_id, day), _resets_at(day)
