"""Authenticating the webhooks the carrier sends us (receipts, inbound SMS), contract §5.

Two ways, set in the carrier secret (Secrets Manager, JSON):
- `signature_secret` (+ `signature_method`): the carrier signs every webhook (Vonage's signed webhooks);
- `webhook_token`: for a carrier that cannot sign (KPN), a secret the gateway puts in the webhook URLs
  it gives the carrier (`?token=…`), compared in constant time and never logged or stored
  (`previous_webhook_token` is accepted too, while a rotation is under way).
A webhook that passes neither is refused (401). With neither configured every webhook is refused,
unless the operator opted out (`AllowUnsignedCarrierWebhooks`, setting ALLOW_UNSIGNED_CARRIER_WEBHOOKS).

That is the stack's own carrier (the `default` connector, /carrier/dlr and /carrier/inbound). Another
connector's webhooks (/carrier/<name>/dlr|inbound) are verified with that connector's secret, strictly
as its `webhook_auth` says (docs/routing.md): `signature`, `url_token` or `none`.
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
DLR_SUFFIX = "/carrier/dlr"  # the stack's receipt URL (CARRIER_RECEIPT_URL) ends so


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


def _tokens(credentials: Mapping[str, str]) -> list[str]:
    # While rotating: receipts of messages sent before the change still carry the previous token.
    return [
        t for t in (credentials.get("webhook_token", ""), credentials.get("previous_webhook_token", "")) if t
    ]


def _token_given(params: Mapping[str, str], tokens: list[str]) -> bool:
    given = params.get(TOKEN_PARAM, "")
    return bool(given) and any([_token_matches(given, t) for t in tokens])  # a list: compare with every one


def _verify_signed(
    params: Mapping[str, str], credentials: Mapping[str, str], what: str, now: float | None
) -> None:
    # The carrier signs its own fields; the token it was given in the URL is not one of them.
    verify_carrier_signature(
        {k: v for k, v in params.items() if k != TOKEN_PARAM},
        credentials["signature_secret"],
        credentials.get("signature_method", "md5"),
        time.time() if now is None else now,
        get_settings().carrier_webhook_max_age_seconds,
        what=what,
    )


def verify_carrier_webhook(params: Mapping[str, str], what: str, now: float | None = None) -> None:
    """Authenticate a carrier webhook (see the module docstring); raises Unauthorized (→ 401)."""
    credentials = carrier_credentials()
    secret = credentials.get("signature_secret", "")
    tokens = _tokens(credentials)
    try:
        if _token_given(params, tokens):
            return
        if secret:
            _verify_signed(params, credentials, what, now)
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


def verify_connector_webhook(
    params: Mapping[str, str],
    what: str,
    connector: str,
    secret_name: str,
    webhook_auth: str,
    now: float | None = None,
) -> None:
    """Authenticate a webhook at a (non-default) connector's own endpoint with that connector's secret,
    as its `webhook_auth` says; raises Unauthorized (→ 401). A request made with another connector's
    secret fails like any forgery."""
    try:
        if webhook_auth == "signature":
            credentials = carrier_credentials(secret_name)
            if not credentials.get("signature_secret"):
                raise Unauthorized(
                    f"{what} refused: connector {connector!r} authenticates its webhooks by signature; "
                    "put a signature_secret in its secret"
                )
            _verify_signed(params, credentials, what, now)
        elif webhook_auth == "url_token":
            tokens = _tokens(carrier_credentials(secret_name))
            if not tokens:
                raise Unauthorized(
                    f"{what} refused: connector {connector!r} authenticates its webhooks by URL token; "
                    "put a webhook_token in its secret"
                )
            if not _token_given(params, tokens):
                raise Unauthorized(f"{what} refused: the webhook URL's token is missing or wrong")
        elif get_settings().allow_unsigned_carrier_webhooks:  # webhook_auth "none"
            metrics.add_metric(name="CarrierWebhooksUnauthenticated", unit="Count", value=1)
        else:
            raise Unauthorized(
                f"{what} refused: connector {connector!r} has webhook_auth none, which this stack does not "
                "allow (AllowUnsignedCarrierWebhooks); set it to signature or url_token"
            )
    except Unauthorized as refused:
        metrics.add_metric(name="CarrierWebhooksRefused", unit="Count", value=1)
        logger.warning(
            "carrier webhook refused", extra={"what": what, "connector": connector, "reason": refused.message}
        )
        raise


def connector_receipt_url(receipt_url: str, connector: str) -> str:
    """A connector's own receipt URL, made from the stack's (…/carrier/dlr → …/carrier/<connector>/dlr);
    "" when the stack's is not one of ours (the carrier's dashboard then says where its receipts go)."""
    parts = urlsplit(receipt_url)
    if not parts.path.endswith(DLR_SUFFIX):
        return ""
    path = parts.path.removesuffix(DLR_SUFFIX) + f"/carrier/{connector}/dlr"
    return urlunsplit(parts._replace(path=path))


def connector_webhook_url(url: str, secret_name: str, webhook_auth: str) -> str:
    """A connector's webhook URL as the gateway gives it to its carrier: with `?token=<webhook_token>`
    from its secret when it authenticates by URL token (never log the result)."""
    if webhook_auth != "url_token":
        return url
    return _with_token(url, carrier_credentials(secret_name).get("webhook_token", ""))


def carrier_webhook_url(url: str) -> str:
    """A webhook URL as the gateway gives it to the carrier: with `?token=<webhook_token>` when the
    carrier secret has one (never log the result)."""
    return _with_token(url, carrier_credentials().get("webhook_token", ""))


def _with_token(url: str, token: str) -> str:
    if not url or not token:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != TOKEN_PARAM]
    return urlunsplit(parts._replace(query=urlencode([*query, (TOKEN_PARAM, token)])))
