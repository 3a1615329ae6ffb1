"""KPN's OAuth token and Apigee faults (kpn.md A.7, A.8); its send and numbers wrappers speak the
Vonage protocol."""

from __future__ import annotations

import secrets
import string

# --- KPN: OAuth token and Apigee faults (kpn.md A.7, A.8) --------------------------------------------------

INVALID_CLIENT = {"ErrorCode": "invalid_client", "Error": "ClientId is Invalid"}
INVALID_TOKEN = {
    "fault": {
        "faultstring": "Invalid Access Token",
        "detail": {"errorcode": "keymanagement.service.invalid_access_token"},
    }
}
EXPIRED_TOKEN = {
    "fault": {
        "faultstring": "Access Token expired",
        "detail": {"errorcode": "keymanagement.service.access_token_expired"},
    }
}
_TOKEN_ALPHABET = string.ascii_letters + string.digits


def unsupported_grant(grant_type: str | None) -> dict[str, str]:
    return {"ErrorCode": "unsupported_grant_type", "Error": f"Unsupported grant type : {grant_type or ''}"}


def bearer_token(authorization: str | None) -> str | None:
    if not authorization or authorization[:7].lower() != "bearer ":
        return None
    return authorization[7:].strip() or None


def new_access_token() -> str:
    """28 letters and digits, as Apigee mints them."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(28))


def token_response(
    access_token: str, client_id: str, lifetime_seconds: int, issued_at_ms: int
) -> dict[str, str]:
    """KPN's (Apigee's) client-credentials answer: every value a string, `issued_at` in ms."""
    return {
        "refresh_token_expires_in": "0",
        "api_product_list": "[SMS Nexmo]",
        "organization_name": "kpn",
        "developer_email": "developer@example.com",
        "token_type": "Bearer",
        "issued_at": str(issued_at_ms),
        "client_id": client_id,
        "access_token": access_token,
        "application_name": "smsgw-simulator",
        "level": "demo",
        "scope": "",
        "expires_in": str(lifetime_seconds),
        "refresh_token": "",
        "refresh_count": "0",
        "status": "approved",
    }
