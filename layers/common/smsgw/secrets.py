"""Secrets fetched by name (Secrets Manager through Powertools Parameters, cached 5 minutes)."""

from __future__ import annotations

from collections.abc import Mapping

from aws_lambda_powertools.utilities.parameters import get_secret

from smsgw.config import get_settings

CACHE_SECONDS = 300


def carrier_credentials(secret_name: str | None = None) -> Mapping[str, str]:
    """A carrier secret's JSON (the stack's own when `secret_name` is None): api_key/api_secret (or
    client_id/client_secret for KPN), and the signature_secret/signature_method the carrier signs its
    receipts and inbound messages with."""
    name = get_settings().carrier_secret_name if secret_name is None else secret_name
    if not name:
        return {}
    value = get_secret(name, transform="json", max_age=CACHE_SECONDS)
    return {str(k): str(v) for k, v in dict(value).items()}  # type: ignore[call-overload]
