"""Accounts as the gateway keeps them, and what the token route answers.

Frozen dataclasses, not pydantic models: the token and authorizer functions load them on every cold
start and validate no request body against them (the repository builds them from stored items; the
operator's CLI checks its input itself). Building them as pydantic models cost ~12 ms per cold start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

# A velocity limit's defaults when only the count is given (`smsgw accounts guards --velocity N`).
DEFAULT_VELOCITY_WINDOW = 60
DEFAULT_VELOCITY_DIGITS = 7


@dataclass(frozen=True)
class FraudGuards:
    """An account's fraud guards (docs/fraud.md); every one is off by default.

    `allow_countries`: when not empty, only these destination countries (ISO 3166 alpha-2);
    `block_countries`: never these; `daily_cap`: the most the account may be charged in one UTC day,
    in its currency; `velocity`: at most this many sends per `velocity_window` seconds to numbers that
    share their first `velocity_digits` digits (E.164, without `+`)."""

    allow_countries: tuple[str, ...] = ()
    block_countries: tuple[str, ...] = ()
    daily_cap: Decimal | None = None
    velocity: int | None = None
    velocity_window: int = DEFAULT_VELOCITY_WINDOW
    velocity_digits: int = DEFAULT_VELOCITY_DIGITS

    def country_refusal(self, country: str) -> str | None:
        """Why a destination in `country` is refused (None: allowed)."""
        country = country.upper()
        if country in self.block_countries:
            return f"{country} is on this account's list of blocked destination countries"
        if self.allow_countries and country not in self.allow_countries:
            return (
                f"{country} is not on this account's list of allowed destination countries "
                f"({', '.join(self.allow_countries)})"
            )
        return None

    def velocity_prefix(self, msisdn: str) -> str:
        """The number range a send counts against: the number's first `velocity_digits` digits."""
        return msisdn[: self.velocity_digits]

    def is_off(self) -> bool:
        return self == FraudGuards()

    def view(self) -> dict[str, object]:
        """The guards that are on, as plain values (the CLI and `accounts list` show this)."""
        shown: dict[str, object] = {}
        if self.allow_countries:
            shown["allow_countries"] = list(self.allow_countries)
        if self.block_countries:
            shown["block_countries"] = list(self.block_countries)
        if self.daily_cap is not None:
            shown["daily_cap"] = format(self.daily_cap, "f")
        if self.velocity is not None:
            shown["velocity"] = {
                "sends": self.velocity,
                "window_seconds": self.velocity_window,
                "prefix_digits": self.velocity_digits,
            }
        return shown


@dataclass(frozen=True, kw_only=True)
class Account:
    """An account as stored (secrets only as hashes)."""

    account_id: str
    name: str
    client_id: str
    client_secret_hash: str
    api_key: str
    api_secret_hash: str
    # Kept readable (the table is encrypted at rest): an HMAC needs the secret itself to verify
    # signed /sms/json requests and to sign our outbound webhooks.
    signature_secret: str = ""
    signature_method: str = "md5"
    webhook_secret: str = ""
    status_url: str | None = None
    balance: Decimal
    currency: str = "EUR"
    senders: tuple[str, ...] = ()
    rate_limit_per_second: int
    disabled: bool = False
    created_at: str
    # {"start": "21:00", "end": "08:00"}: recipients' local time in which non-urgent sends wait.
    quiet_hours: dict[str, str] | None = None
    guards: FraudGuards = field(default_factory=FraudGuards)

    def allows_sender(self, sender: str) -> bool:
        """An empty allow-list allows every sender."""
        return not self.senders or sender.lower() in {s.lower() for s in self.senders}


@dataclass(frozen=True)
class NewAccountCredentials:
    """What `accounts create` shows once: the only time the secrets are visible."""

    account_id: str
    name: str
    client_id: str
    client_secret: str
    api_key: str
    api_secret: str
    signature_secret: str
    signature_method: str
    webhook_secret: str
    status_url: str | None
    balance: str
    senders: list[str]
    rate_limit_per_second: int


@dataclass(frozen=True, kw_only=True)
class AccountSummary:
    account_id: str
    name: str
    client_id: str
    api_key: str
    signature_method: str
    status_url: str | None
    balance: str
    senders: list[str]
    rate_limit_per_second: int
    disabled: bool
    created_at: str
    quiet_hours: dict[str, str] | None = None
    # The fraud guards that are on.
    guards: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Principal:
    """Who a bearer token belongs to: what the authorizer hands to every function. Whether the account
    is enabled is not part of it: the routers read that fresh (accounts.service.active_account)."""

    account_id: str
    expires_at: int = 0  # unix seconds


@dataclass(frozen=True, kw_only=True)
class AccessToken:
    """KPN's (Apigee's) token body: every value a string."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: str = "3599"
    issued_at: str
    client_id: str
    status: str = "approved"
    scope: str = ""
    refresh_token: str = ""
    refresh_token_expires_in: str = "0"
    refresh_count: str = "0"
