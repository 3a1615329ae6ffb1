"""Build the configured carrier client. The caller reads the settings and fetches the secrets."""

from __future__ import annotations

from collections.abc import Mapping

from smsgw.carrier.base import Carrier
from smsgw.carrier.kpn import KpnCarrier
from smsgw.carrier.vonage import VonageCarrier

PROVIDERS = ("vonage", "kpn", "simulator")


def make_carrier(provider: str, base_url: str, credentials: Mapping[str, str]) -> Carrier:
    """`vonage` and `simulator` (the Vonage protocol) need `api_key` and `api_secret`, or `signature_secret`
    (+ optional `signature_method`, default "md5" = HMAC-MD5); `kpn` needs `client_id` and `client_secret`.

    Raises `ValueError` naming an unknown provider or the missing value.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown carrier provider {provider!r}; use one of {', '.join(PROVIDERS)}")
    if not base_url:
        raise ValueError(f"carrier base_url is missing for provider {provider!r}")

    def credential(name: str) -> str:
        value = credentials.get(name)
        if not value:
            raise ValueError(f"carrier credential {name!r} is missing for provider {provider!r}")
        return value

    if provider == "kpn":
        return KpnCarrier(base_url, credential("client_id"), credential("client_secret"))
    api_key = credential("api_key")
    if credentials.get("signature_secret"):
        return VonageCarrier(
            base_url,
            api_key,
            signature_secret=credentials["signature_secret"],
            signature_method=credentials.get("signature_method") or "md5",
        )
    return VonageCarrier(base_url, api_key, api_secret=credential("api_secret"))
