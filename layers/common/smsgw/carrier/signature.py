"""Checking the carrier's signature on the webhooks it sends us (receipts, inbound SMS), contract §5."""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping

from smsgw.carrier.signing import sign_params
from smsgw.config import get_settings
from smsgw.errors import Unauthorized
from smsgw.secrets import carrier_credentials


def verify_carrier_signature(
    params: Mapping[str, str], secret: str, method: str, now: float, max_age: int, what: str = "webhook"
) -> None:
    """`sig` over every other param with the carrier's signature secret, `timestamp` within `max_age` s.

    Raises Unauthorized (→ 401, logged) for an unsigned, forged or stale request.
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
    if not hmac.compare_digest(sig.lower(), expected):
        raise Unauthorized(f"{what} signature does not match")


def verify_carrier_webhook(params: Mapping[str, str], what: str, now: float | None = None) -> None:
    """Check a carrier webhook against the carrier secret's signature settings; unsigned webhooks are
    accepted only while no `signature_secret` is configured."""
    credentials = carrier_credentials()
    secret = credentials.get("signature_secret")
    if not secret:
        return
    verify_carrier_signature(
        params,
        secret,
        credentials.get("signature_method", "md5"),
        time.time() if now is None else now,
        get_settings().carrier_webhook_max_age_seconds,
        what=what,
    )
