"""Accounts (create, list, disable, quiet hours, top-up), OAuth client-credentials tokens, bearer-token
checks and request rate limits (the fraud guards are set by accounts/guard_settings.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from ulid import ULID

from smsgw.accounts import repository
from smsgw.accounts.models import (
    AccessToken,
    Account,
    AccountSummary,
    NewAccountCredentials,
    Principal,
)
from smsgw.carrier.signing import SIGNATURE_METHODS
from smsgw.config import get_settings
from smsgw.core.errors import AccountDisabled, BadRequest, InvalidToken, NotFound, RateLimited, Unauthorized
from smsgw.core.memo import remembered
from smsgw.core.quiet_hours import QuietHours
from smsgw.urlsafety import check_callback_url

# Remember bearer tokens in the warm authorizer (on top of API Gateway's own cache of its answer).
# A token only ever expires, and its expiry travels with it, so this cache can never make a refused
# token pass; it is short anyway. Whether the account is disabled is decided by the routers
# (`active_account`), never from a cached authorizer answer.
TOKEN_CACHE_SECONDS = 5
_token_cache: dict[str, tuple[float, Principal]] = remembered({})
_TOKEN_CACHE_MAX = 10_000


def _hash(secret: str) -> str:
    # Secrets are 128+ random bits, so a fast hash is enough; only the hash is stored.
    return hashlib.sha256(secret.encode()).hexdigest()


def _random(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_amount(value: str, field: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise BadRequest(f"{field} must be a decimal number, e.g. 10.00", field) from None
    if not amount.is_finite() or amount < 0:
        raise BadRequest(f"{field} must be zero or more", field)
    return amount.quantize(Decimal("0.00000001"))


def _webhook_secret() -> str:
    """Standard Webhooks' format: whsec_ + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def create_account(
    name: str,
    balance: str = "0",
    senders: list[str] | None = None,
    rate_limit_per_second: int | None = None,
    signature_method: str = "md5",
    status_url: str | None = None,
) -> NewAccountCredentials:
    if not name.strip():
        raise BadRequest("name must not be empty", "name")
    limit = rate_limit_per_second or get_settings().default_rate_limit_per_second
    if limit <= 0:
        raise BadRequest("rate limit must be a positive number of requests per second", "rate_limit")
    if signature_method not in SIGNATURE_METHODS:
        raise BadRequest(
            f"signature method must be one of {', '.join(SIGNATURE_METHODS)}", "signature_method"
        )
    if status_url:
        status_url = check_callback_url(
            status_url,
            field="status_url",
            max_length=None,
            allow_http_hosts=get_settings().callback_allow_http_hosts,
        )
    client_secret = _random(40)
    api_secret = _random(16)
    account = Account(
        account_id=str(ULID()),
        name=name.strip(),
        client_id=_random(32),
        client_secret_hash=_hash(client_secret),
        api_key=_random(8, string.ascii_lowercase + string.digits),  # Vonage keys are exactly 8 chars
        api_secret_hash=_hash(api_secret),
        signature_secret=_random(32),
        signature_method=signature_method,
        webhook_secret=_webhook_secret(),
        status_url=status_url or None,
        balance=parse_amount(balance, "balance"),
        senders=tuple(s.strip() for s in senders or [] if s.strip()),
        rate_limit_per_second=limit,
        created_at=_now_iso(),
    )
    repository.insert_account(account)
    return NewAccountCredentials(
        account_id=account.account_id,
        name=account.name,
        client_id=account.client_id,
        client_secret=client_secret,
        api_key=account.api_key,
        api_secret=api_secret,
        signature_secret=account.signature_secret,
        signature_method=account.signature_method,
        webhook_secret=account.webhook_secret,
        status_url=account.status_url,
        balance=str(account.balance),
        senders=list(account.senders),
        rate_limit_per_second=account.rate_limit_per_second,
    )


def summarize(account: Account) -> AccountSummary:
    return AccountSummary(
        account_id=account.account_id,
        name=account.name,
        client_id=account.client_id,
        api_key=account.api_key,
        signature_method=account.signature_method,
        status_url=account.status_url,
        balance=str(account.balance),
        senders=list(account.senders),
        rate_limit_per_second=account.rate_limit_per_second,
        disabled=account.disabled,
        created_at=account.created_at,
        quiet_hours=account.quiet_hours,
        guards=account.guards.view(),
    )


def list_accounts() -> list[AccountSummary]:
    return [summarize(account) for account in repository.list_accounts()]


def set_disabled(account_id: str, disabled: bool) -> None:
    if not repository.set_disabled(account_id, disabled):
        raise NotFound(f"no account {account_id}")


def set_quiet_hours(account_id: str, start: str | None, end: str | None) -> dict[str, str] | None:
    """Quiet hours in the recipient's local time (`21:00`, `08:00`), or both None to remove them."""
    window = None
    if start is not None or end is not None:
        if start is None or end is None:
            raise BadRequest("give both a start and an end for quiet hours, e.g. 21:00 and 08:00", "start")
        window = QuietHours.parse(start, end).as_item()
    if not repository.set_quiet_hours(account_id, window):
        raise NotFound(f"no account {account_id}")
    return window


def top_up(account_id: str, amount: str) -> Decimal:
    value = parse_amount(amount, "amount")
    if value == 0:
        raise BadRequest("amount must be more than zero", "amount")
    balance = repository.add_balance(account_id, value)
    if balance is None:
        raise NotFound(f"no account {account_id}")
    return balance


def issue_token(client_id: str | None, client_secret: str | None, grant_type: str | None) -> AccessToken:
    """KPN's client-credentials grant. Wrong credentials and a disabled account both answer 401."""
    if grant_type != "client_credentials":
        raise BadRequest("grant_type must be client_credentials (query parameter)", "grant_type")
    if not client_id:
        raise BadRequest("client_id is required (form field)", "client_id")
    if not client_secret:
        raise BadRequest("client_secret is required (form field)", "client_secret")
    account_id = repository.account_id_for_client(client_id)
    account = repository.get_account(account_id) if account_id else None
    if account is None or not hmac.compare_digest(account.client_secret_hash, _hash(client_secret)):
        raise Unauthorized("invalid client_id or client_secret")
    if account.disabled:
        raise Unauthorized("this account is disabled")
    ttl = get_settings().token_ttl_seconds
    now = time.time()
    token = secrets.token_urlsafe(32)
    repository.put_token(_hash(token), Principal(account_id=account.account_id, expires_at=int(now) + ttl))
    return AccessToken(
        access_token=token,
        expires_in=str(ttl - 1),
        issued_at=str(int(now * 1000)),
        client_id=client_id,
    )


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("missing Authorization header; send 'Authorization: Bearer <access_token>'")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise InvalidToken("malformed Authorization header; expected 'Bearer <access_token>'")
    return token


def _seconds() -> float:
    """The clock of the caches and expiry checks (tests move it)."""
    return time.time()


def authenticate(authorization: str | None) -> Principal:
    """The authorizer's check: the token's account and expiry. Cached per warm container; raises Unauthorized.

    It does not read the account: whether it exists and is enabled is checked by `active_account` on
    every request, so a cached authorizer answer cannot keep a disabled account working.
    """
    token_hash = _hash(bearer_token(authorization))
    now = _seconds()
    cached = _token_cache.get(token_hash)
    if cached and cached[0] > now:
        principal = cached[1]
    else:
        found = repository.get_token(token_hash)
        if found is None:
            raise InvalidToken("unknown access token; get one from /oauth/client_credential/accesstoken")
        account_id, expires_at = found
        principal = Principal(account_id=account_id, expires_at=expires_at)
        if len(_token_cache) >= _TOKEN_CACHE_MAX:
            _token_cache.clear()
        _token_cache[token_hash] = (min(now + TOKEN_CACHE_SECONDS, expires_at), principal)
    check_not_expired(principal, now)
    return principal


def check_not_expired(principal: Principal, now: float | None = None) -> None:
    if principal.expires_at <= (_seconds() if now is None else now):
        raise InvalidToken("access token expired; get a new one from /oauth/client_credential/accesstoken")


def active_account(principal: Principal) -> Account:
    """The caller's account for a request: the token not expired (401) and the account enabled (403).

    Runs in the routers on every request, whatever API Gateway cached: the expiry comes with the
    authorizer's context, the account from a read at most `ACCOUNT_CACHE_SECONDS` old.
    """
    check_not_expired(principal)
    account = cached_account(principal.account_id)
    if account.disabled:
        raise AccountDisabled()
    return account


_account_cache: dict[str, tuple[float, Account]] = remembered({})
_ACCOUNT_CACHE_MAX = 10_000
# How old an account read may be: disabling an account (and any other settings change) reaches every
# warm function within this many seconds. One GetItem per account per container per 5 s.
ACCOUNT_CACHE_SECONDS = 5


def get_account(account_id: str, consistent: bool = False) -> Account | None:
    """The account as stored (`consistent`: as of now, e.g. before charging), None when there is none."""
    return repository.get_account(account_id, consistent=consistent)


def balance(account_id: str) -> Decimal:
    """The account's balance as of now."""
    return repository.get_balance(account_id)


def recent_account(account_id: str) -> Account | None:
    """The account, read at most ACCOUNT_CACHE_SECONDS ago (an account that does not exist is read
    again every time); the balance is never read from here."""
    now = _seconds()
    cached = _account_cache.get(account_id)
    if cached and cached[0] > now:
        return cached[1]
    account = repository.get_account(account_id)
    if account is None:
        return None
    if len(_account_cache) >= _ACCOUNT_CACHE_MAX:
        _account_cache.clear()
    _account_cache[account_id] = (now + ACCOUNT_CACHE_SECONDS, account)
    return account


def cached_account(account_id: str) -> Account:
    """`recent_account` of a token's account: Unauthorized once it no longer exists."""
    account = recent_account(account_id)
    if account is None:
        raise Unauthorized("the token's account no longer exists")
    return account


def enforce_rate_limit(account: Account, now: float | None = None) -> None:
    """Fixed one-second windows in DynamoDB, shared by all concurrent Lambdas."""
    if not repository.count_request(account.account_id, request_second(now), account.rate_limit_per_second):
        raise rate_limited(account)


def request_second(now: float | None = None) -> int:
    """The rate limit's window a request now counts in (a send counts it in its charge transaction)."""
    return int(now if now is not None else _seconds())


def rate_limited(account: Account) -> RateLimited:
    """The refusal of a request over the account's rate limit (429, retry after 1 s)."""
    return RateLimited(
        f"more than {account.rate_limit_per_second} requests per second for this account; retry after 1 s",
        retry_after=1,
    )
