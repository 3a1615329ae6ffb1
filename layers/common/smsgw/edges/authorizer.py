"""The Lambda REQUEST authorizer: bearer token → IAM policy plus the caller in the request context.

A refused token gets an explicit Deny whose context says why (`reason`: malformed, unknown or expired
token). API Gateway answers a Deny through its ACCESS_DENIED gateway response, which template.yaml
turns into a 401 with `WWW-Authenticate: Bearer …` and `{"status": 401, "error": "<reason>"}`
(`$context.authorizer.reason`). A request without an Authorization header never reaches this function
(it is the identity source): API Gateway answers it through UNAUTHORIZED, also a 401 that says so.
Raising "Unauthorized" instead, as authorizers often do, would give every refusal the same bare
`{"message":"Unauthorized"}`: the context is lost with the exception.
"""

from __future__ import annotations

from typing import Any

from smsgw.accounts import service
from smsgw.core.errors import Unauthorized
from smsgw.observability import logger

# The principal of a refused request (API Gateway requires one on every policy).
ANONYMOUS = "anonymous"


def _header(event: dict[str, Any], name: str) -> str | None:
    headers = event.get("headers") or {}
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _api_wildcard(method_arn: str) -> str:
    """arn:aws:execute-api:region:acct:api/stage/METHOD/path → …/api/stage/*/* so one cached policy fits all routes."""
    arn, _, rest = method_arn.partition(":execute-api:")
    parts = rest.split("/")
    return f"{arn}:execute-api:{parts[0]}/{parts[1] if len(parts) > 1 else '*'}/*/*"


def _policy(principal_id: str, effect: str, method_arn: str, context: dict[str, str]) -> dict[str, Any]:
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": _api_wildcard(method_arn)}
            ],
        },
        "context": context,
    }


def template_safe(reason: str) -> str:
    """The reason as it can stand inside the JSON string of the gateway response's template, which
    API Gateway fills in without escaping: no double quotes, backslashes or control characters."""
    return "".join(" " if ch < " " else ch for ch in reason.replace('"', "'").replace("\\", "/"))


def authorize(event: dict[str, Any]) -> dict[str, Any]:
    method_arn = event.get("methodArn", "")
    try:
        principal = service.authenticate(_header(event, "authorization"))
    except Unauthorized as error:
        reason = template_safe(error.message)
        logger.info("token refused", extra={"reason": reason})
        # Cached per token like an Allow (ReauthorizeEvery): a token refused now stays refused.
        return _policy(ANONYMOUS, "Deny", method_arn, {"reason": reason})
    # Values must be strings, numbers or booleans; strings read the same everywhere. API Gateway
    # may hand this context on for ReauthorizeEvery seconds: the routers check `expires_at`
    # against their clock and read the account (disabled?) themselves on every request.
    return _policy(
        principal.account_id,
        "Allow",
        method_arn,
        {"account_id": principal.account_id, "expires_at": str(principal.expires_at)},
    )
