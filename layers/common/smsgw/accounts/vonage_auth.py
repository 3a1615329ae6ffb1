"""Who is calling `POST /sms/json`: Vonage's SMS API authentication (contracts/vonage-sms.md §1, §5).

Three ways, as Vonage accepts them:

- **secret**: `api_key` and `api_secret` as parameters (form, JSON body or query string);
- **basic**: `Authorization: Basic base64(api_key:api_secret)` (the official Python and Node SDKs);
- **signature**: `api_key`, `timestamp` (unix seconds) and `sig`, no secret. `sig` is
  `smsgw.carrier.signing.sign_params` over every other parameter with the account's signature
  secret and method; compared case-insensitively in constant time. The timestamp must be within
  `max_skew` seconds of the server's clock (default 300, both directions), and a signature is
  good for one request (`single_use`).

Refusals are `SendRefused`s with Vonage's status: 2 missing `api_key`/`api_secret`, 4 unknown
key or wrong secret ("Bad Credentials", never saying which), 14 bad, stale or reused signature,
32 a signature together with a secret, 8 a disabled account (only said to a caller whose
credentials are right). `/sms/json` answers all of them with HTTP 200, as Vonage does.

`authenticate` is pure (the account lookup and the clock are arguments); `authenticate_request`
and `single_use` are the same with DynamoDB behind them, through the accounts repositories only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final, Literal

from smsgw.accounts import repository, vonage_repository
from smsgw.accounts import service as accounts
from smsgw.accounts.models import Account
from smsgw.carrier.signing import sign_params
from smsgw.config import get_settings
from smsgw.core.errors import SendRefused, Unauthorized
from smsgw.core.memo import remembered

AuthMode = Literal["secret", "basic", "signature"]
AccountLookup = Callable[[str], Account | None]

MAX_SKEW_SECONDS: Final = 300
# Bounds on what is looked up or stored, far above any real key or signature (sha512 hex is 128).
MAX_API_KEY_LENGTH: Final = 64
MAX_SIG_LENGTH: Final = 256

MISSING: Final = "2"
BAD_CREDENTIALS: Final = "4"
ACCOUNT_BARRED: Final = "8"
INVALID_SIGNATURE: Final = "14"
SIGNATURE_AND_SECRET: Final = "32"

# The official Python SDK (vonage 4.x; vonage-sms 1.2 here) signs `SmsMessage.model_dump()`, in
# which every optional field it did not send is None: it hashes `&client-ref=None`, `&sig=None`, …
# for parameters that never reach the wire. A signature over the parameters received *plus* those
# absent fields as "None" is accepted too; the same without `trusted-number` as well, for releases
# of the SDK whose model lacks that field (which ones is not checked). A client without the secret
# can produce neither; `single_use` stops a copy with an added `client-ref=None` (same signature)
# from running twice.
PYTHON_SDK_FIELDS: Final = frozenset(
    {
        "sig",
        "client-ref",
        "type",
        "ttl",
        "status-report-req",
        "callback",
        "message-class",
        "body",
        "udh",
        "protocol-id",
        "account-ref",
        "entity-id",
        "content-id",
        "trusted-number",
    }
)
PYTHON_SDK_OPTIONAL_FIELDS: Final = (PYTHON_SDK_FIELDS, PYTHON_SDK_FIELDS - {"trusted-number"})


@dataclass(frozen=True)
class VonageCaller:
    """An authenticated, enabled account and how it proved who it is."""

    account: Account
    mode: AuthMode
    sig: str | None = None  # lower-case hex, when signed
    timestamp: int | None = None  # the signed request's, when signed


AUTH_FIELDS: Final = frozenset({"api_key", "api_secret", "sig", "timestamp", "nonce"})


def _refuse(status: str, text: str, field: str | None = None) -> SendRefused:
    return SendRefused(status, text, field)


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """`Basic base64(key:secret)` → (key, secret); None without a Basic header; a malformed one → 4."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _refuse(
            BAD_CREDENTIALS, "Bad Credentials: the Basic authorization is not base64 of key:secret"
        ) from None
    key, colon, secret = decoded.partition(":")
    if not colon:
        raise _refuse(BAD_CREDENTIALS, "Bad Credentials: the Basic authorization is not base64 of key:secret")
    return key, secret


def without_credentials(params: Mapping[str, str]) -> dict[str, str]:
    """The message parameters: everything but `api_key`, `api_secret`, `sig`, `timestamp`, `nonce`.

    They must not be stored with the message, nor make a re-signed retry with the same
    Idempotency-Key look like a different request.
    """
    return {key: value for key, value in params.items() if key not in AUTH_FIELDS}


def _escape(value: str) -> str:
    return value.replace("&", "_").replace("=", "_")


def _sign_canonical(canonical: str, secret: str, method: str) -> str:
    """`sign_params` over a ready `&k=v…` string, so md5hash/HMAC stay defined in one place.

    sign_params hashes `&{key}={value}` for a single pair verbatim when the value holds no `&`
    or `=`: the whole string goes in as one pair whose "key" is everything up to the last `=`.
    """
    key, _, value = canonical[1:].rpartition("=")
    return sign_params({key: value}, secret, method)


def _python_sdk_signature(params: Mapping[str, str], absent: frozenset[str], secret: str, method: str) -> str:
    padded = {**dict.fromkeys(absent, "None"), **params}  # includes the SDK's own `sig=None`
    canonical = "".join(f"&{key}={_escape(padded[key])}" for key in sorted(padded))
    return _sign_canonical(canonical, secret, method)


def signature_matches(params: Mapping[str, str], sig: str, secret: str, method: str) -> bool:
    """Whether `sig` signs `params` (contract §5), or the official Python SDK's variant of them."""
    if not sig.isascii():
        return False
    unsigned = {key: value for key, value in params.items() if key != "sig"}
    expected = [sign_params(unsigned, secret, method)]
    expected += [
        _python_sdk_signature(unsigned, absent, secret, method) for absent in PYTHON_SDK_OPTIONAL_FIELDS
    ]
    matched = False
    for candidate in expected:  # every candidate is compared: no early exit
        matched |= hmac.compare_digest(sig.lower(), candidate)
    return matched


def _secret_hash(secret: str) -> str:
    # The hash accounts.service stores for api secrets (sha256 hex).
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _account(lookup: AccountLookup, api_key: str) -> Account:
    if not api_key or len(api_key) > MAX_API_KEY_LENGTH or not api_key.isprintable():
        raise _refuse(BAD_CREDENTIALS, "Bad Credentials")
    account = lookup(api_key)
    if account is None:
        raise _refuse(BAD_CREDENTIALS, "Bad Credentials")
    return account


def _check_timestamp(raw: str | None, now: float, max_skew: int) -> int:
    if not raw:
        raise _refuse(
            INVALID_SIGNATURE,
            "Invalid Signature: a signed request needs timestamp (unix seconds)",
            "timestamp",
        )
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise _refuse(
            INVALID_SIGNATURE,
            "Invalid Signature: timestamp must be unix seconds, e.g. 1700000000",
            "timestamp",
        )
    timestamp = int(raw)
    skew = timestamp - now
    if abs(skew) > max_skew:
        when = "in the future" if skew > 0 else "old"
        raise _refuse(
            INVALID_SIGNATURE,
            f"Invalid Signature: the timestamp is {abs(int(skew))} s {when}; it must be within {max_skew} s of "
            "the current time (check the client's clock)",
            "timestamp",
        )
    return timestamp


def _signed(params: Mapping[str, str], lookup: AccountLookup, now: float, max_skew: int) -> VonageCaller:
    api_key = params.get("api_key", "")
    if not api_key:
        raise _refuse(MISSING, "Missing api_key", "api_key")
    account = _account(lookup, api_key)
    timestamp = _check_timestamp(params.get("timestamp"), now, max_skew)
    sig = params["sig"]
    if not account.signature_secret:
        raise _refuse(INVALID_SIGNATURE, "Invalid Signature: this account has no signature secret", "sig")
    if len(sig) > MAX_SIG_LENGTH or not signature_matches(
        params, sig, account.signature_secret, account.signature_method
    ):
        raise _refuse(INVALID_SIGNATURE, "Invalid Signature", "sig")
    return VonageCaller(account=account, mode="signature", sig=sig.lower(), timestamp=timestamp)


def authenticate(
    params: Mapping[str, str],
    authorization: str | None,
    *,
    lookup: AccountLookup,
    now: float,
    max_skew: int = MAX_SKEW_SECONDS,
) -> VonageCaller:
    """The caller of a `/sms/json` request, from its parameters (query + body) and Authorization header.

    `lookup` finds the account of an api_key (None when there is none). Raises SendRefused.
    """
    basic = basic_credentials(authorization)
    if params.get("sig"):
        if params.get("api_secret") or basic is not None:
            raise _refuse(
                SIGNATURE_AND_SECRET,
                "Signature And API Secret Disallowed: send either sig (with api_key and timestamp) or a secret",
                "api_secret" if params.get("api_secret") else "Authorization",
            )
        caller = _signed(params, lookup, now, max_skew)
    else:
        mode: AuthMode
        if basic is not None:
            (api_key, secret), mode = basic, "basic"
        else:
            api_key, secret, mode = params.get("api_key", ""), params.get("api_secret", ""), "secret"
            if not api_key:
                raise _refuse(MISSING, "Missing api_key", "api_key")
            if not secret:
                raise _refuse(MISSING, "Missing api_secret", "api_secret")
        account = _account(lookup, api_key)
        if not hmac.compare_digest(account.api_secret_hash, _secret_hash(secret)):
            raise _refuse(BAD_CREDENTIALS, "Bad Credentials")
        caller = VonageCaller(account=account, mode=mode)
    if caller.account.disabled:
        raise _refuse(
            ACCOUNT_BARRED, "Partner Account Barred: this account is disabled; ask the operator to enable it"
        )
    return caller


# --- with DynamoDB ---------------------------------------------------------------------------------

# api_key → account_id never changes for an account: remember found ones in the warm Lambda.
_account_ids: dict[str, str] = remembered({})
_ACCOUNT_IDS_MAX = 10_000


def account_for_api_key(api_key: str) -> Account | None:
    """The account of an api_key (settings cached ~30 s by accounts.service, as on the other routes)."""
    account_id = _account_ids.get(api_key) or repository.account_id_for_api_key(api_key)
    if account_id is None:
        return None
    if len(_account_ids) >= _ACCOUNT_IDS_MAX:
        _account_ids.clear()
    _account_ids[api_key] = account_id
    try:
        return accounts.cached_account(account_id)
    except Unauthorized:  # the lookup item outlived its account
        return None


def max_skew_seconds() -> int:
    # VONAGE_SIGNATURE_MAX_SKEW_SECONDS
    return get_settings().vonage_signature_max_skew_seconds


def authenticate_request(
    params: Mapping[str, str], authorization: str | None, now: float | None = None
) -> VonageCaller:
    return authenticate(
        params,
        authorization,
        lookup=account_for_api_key,
        now=time.time() if now is None else now,
        max_skew=max_skew_seconds(),
    )


@contextmanager
def single_use(caller: VonageCaller, idempotency_key: str | None, now: float | None = None) -> Iterator[None]:
    """Run the block once per signature: a signed request seen before (within its window) → 14.

    The signature is recorded before the block and forgotten again if the block raises (a
    refused request — throttled, invalid, no balance — may be retried as it is). A copy of a
    request that came with an `Idempotency-Key` and carries the same key passes, so the send's
    idempotency answers it with the first answer and sends nothing; a copy with another key or
    none is refused. Unsigned requests pass untouched.
    """
    if caller.mode != "signature" or caller.sig is None or caller.timestamp is None:
        yield
        return
    key_hash = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest() if idempotency_key else None
    account_id = caller.account.account_id
    claimed, seen_with = vonage_repository.claim_signature(
        account_id,
        caller.sig,
        key_hash,
        expires_at=caller.timestamp + max_skew_seconds() + 1,
        now=int(time.time() if now is None else now),
    )
    if not claimed and not (key_hash and seen_with and hmac.compare_digest(seen_with, key_hash)):
        raise _refuse(
            INVALID_SIGNATURE,
            "Invalid Signature: this signed request was already used; sign every request anew (a new "
            "timestamp, or a nonce parameter for two identical messages in one second)",
            "sig",
        )
    try:
        yield
    except BaseException:
        if claimed:
            vonage_repository.release_signature(account_id, caller.sig)
        raise
