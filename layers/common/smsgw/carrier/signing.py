"""Vonage's request signature (`sig`): shared by the carrier client, the carrier webhook check and
signed /sms/json requests. No HTTP client here, so verifying a signature does not load `requests`."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_METHODS = ("md5hash", "md5", "sha1", "sha256", "sha512")


def sign_params(params: Mapping[str, str], secret: str, method: str = "md5") -> str:
    """Vonage's `sig` (contract §5): `&k=v` pairs by sorted key, `&`/`=` in values → `_`, without `sig`.

    `md5hash` is md5(pairs + secret); `md5` (the official SDK's default), `sha1`, `sha256` and
    `sha512` are HMACs keyed with the secret. Lower-case hex.
    """
    base = "".join(
        f"&{key}={params[key].replace('&', '_').replace('=', '_')}" for key in sorted(params) if key != "sig"
    )
    if method == "md5hash":
        return hashlib.md5((base + secret).encode("utf-8"), usedforsecurity=False).hexdigest()
    if method not in SIGNATURE_METHODS:
        raise ValueError(f"signature_method must be one of {', '.join(SIGNATURE_METHODS)}, not {method!r}")
    return hmac.new(secret.encode("utf-8"), base.encode("utf-8"), method).hexdigest()
