from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class Account(BaseModel):
    """An account as stored (secrets only as hashes)."""

    model_config = ConfigDict(frozen=True)

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

    def allows_sender(self, sender: str) -> bool:
        """An empty allow-list allows every sender."""
        return not self.senders or sender.lower() in {s.lower() for s in self.senders}


class NewAccountCredentials(BaseModel):
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


class AccountSummary(BaseModel):
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


class Principal(BaseModel):
    """Who a bearer token belongs to: what the authorizer hands to every function. Whether the account
    is enabled is not part of it: the routers read that fresh (accounts.service.active_account)."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    expires_at: int = Field(default=0, description="unix seconds")


class AccessToken(BaseModel):
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
