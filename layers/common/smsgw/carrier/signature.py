"""Authenticating the webhooks the carrier sends us (receipts, inbound SMS), contract §5.

Two ways, set in the carrier secret (Secrets Manager, JSON):
- `signature_secret` (+ `signature_method`): the carrier signs every webhook (Vonage's signed webhooks);
- `webhook_token`: for a carrier that cannot sign (KPN), a secret the gateway puts in the webhook URLs
  it gives the carrier (`?token=…`), compared in constant time and never logged or stored
  (`previous_webhook_token` is accepted too, while a rotation is under way).
A webhook that passes neither is refused (401). With neither configured every webhook is refused,
unless the operator opted out (`AllowUnsignedCarrierWebhooks`, setting ALLOW_UNSIGNED_CARRIER_WEBHOOKS).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from smsgw.carrier.signing import sign_params
from smsgw.config import get_settings
from smsgw.core.errors import Unauthorized
from smsgw.observability import logger, metrics
from smsgw.secrets import carrier_credentials

TOKEN_PARAM = "token"  # the query parameter of the webhook URLs that carries `webhook_token`
# What the carrier adds to authenticate a webhook: not part of the message or receipt itself.
AUTH_PARAMS = frozenset({"sig", "timestamp", "nonce", TOKEN_PARAM})


def verify_carrier_signature(
    params: Mapping[str, str], secret: str, method: str, now: float, max_age: int, what: str = "webhook"
) -> None:
    """`sig` over every other param with the carrier's signature secret, `timestamp` within `max_age` s.

    Raises Unauthorized (→ 401) for an unsigned, forged or stale request.
    """
    sig = params.get("sig", "")
    if not sig:
        raise Unauthorized(f"unsigned {what} refused: this gateway requires signed carrier webhooks")
    try:
        timestamp = int(params.get("timestamp", ""))
    except ValueError:
        raise Unauthorized(f"signed {what} without a valid timestamp") from None
    if abs(now - timestamp) > max_age:
        raise Unauthorized(f"stale {what}: its timestamp is more than {max_age} s from now")
    expected = sign_params({k: v for k, v in params.items() if k != "sig"}, secret, method)
    if not hmac.compare_digest(sig.lower().encode(), expected.encode()):
        raise Unauthorized(f"{what} signature does not match")


def _token_matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def verify_carrier_webhook(params: Mapping[str, str], what: str, now: float | None = None) -> None:
    """Authenticate a carrier webhook (see the module docstring); raises Unauthorized (→ 401)."""
    credentials = carrier_credentials()
    secret = credentials.get("signature_secret", "")
    token = credentials.get("webhook_token", "")
    # While rotating: receipts of messages sent before the change still carry the previous token.
    tokens = [t for t in (token, credentials.get("previous_webhook_token", "")) if t]
    try:
        given = params.get(TOKEN_PARAM, "")
        if given and any([_token_matches(given, t) for t in tokens]):  # a list: compare with every one
            return
        if secret:
            # The carrier signs its own fields; the token it was given in the URL is not one of them.
            verify_carrier_signature(
                {k: v for k, v in params.items() if k != TOKEN_PARAM},
                secret,
                credentials.get("signature_method", "md5"),
                time.time() if now is None else now,
                get_settings().carrier_webhook_max_age_seconds,
                what=what,
            )
            return
        if tokens:
            raise Unauthorized(f"{what} refused: the webhook URL's token is missing or wrong")
        if get_settings().allow_unsigned_carrier_webhooks:
            metrics.add_metric(name="CarrierWebhooksUnauthenticated", unit="Count", value=1)
            return
        raise Unauthorized(
            f"{what} refused: carrier webhooks must be authenticated; put a signature_secret (the carrier "
            "signs) or a webhook_token (in the webhook URL) in the carrier secret"
        )
    except Unauthorized as refused:
        metrics.add_metric(name="CarrierWebhooksRefused", unit="Count", value=1)
        logger.warning("carrier webhook refused", extra={"what": what, "reason": refused.message})
        raise


def carrier_webhook_url(url: str) -> str:
    """A webhook URL as the gateway gives it to the carrier: with `?token=<webhook_token>` when the
    carrier secret has one (never log the result)."""
    token = carrier_credentials().get("webhook_token", "")
    if not url or not token:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != TOKEN_PARAM]
    return urlunsplit(parts._replace(query=urlencode([*query, (TOKEN_PARAM, token)])))
