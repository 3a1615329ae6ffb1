"""The Lambda REQUEST authorizer: bearer token → IAM policy plus the caller in the request context."""

from __future__ import annotations

from typing import Any

from smsgw.accounts import service
from smsgw.core.errors import Unauthorized
from smsgw.observability import logger


def _header(event: dict[str, Any], name: str) -> str | None:
    headers = event.get("headers") or {}
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _api_wildcard(method_arn: str) -> str:
    """arn:aws:execute-api:region:acct:api/stage/METHOD/path → …/api/stage/*/* so one cached policy fits all routes."""
    arn, _, rest = method_arn.partition(":execute-api:")
    parts = rest.split("/")
    return f"{arn}:execute-api:{parts[0]}/{parts[1] if len(parts) > 1 else '*'}/*/*"


def authorize(event: dict[str, Any]) -> dict[str, Any]:
    try:
        principal = service.authenticate(_header(event, "authorization"))
    except Unauthorized as error:
        logger.info("token refused", extra={"reason": error.message})
        # API Gateway's contract: this exact message makes it answer 401.
        raise Exception("Unauthorized") from None
    return {
        "principalId": principal.account_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": _api_wildcard(event.get("methodArn", "")),
                }
            ],
        },
        # Values must be strings, numbers or booleans; strings read the same everywhere. API Gateway
        # may hand this context on for ReauthorizeEvery seconds: the routers check `expires_at`
        # against their clock and read the account (disabled?) themselves on every request.
        "context": {
            "account_id": principal.account_id,
            "expires_at": str(principal.expires_at),
        },
    }
