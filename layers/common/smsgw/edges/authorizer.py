"""The Lambda REQUEST authorizer of the HTTP API (payload 2.0, simple responses): bearer token → the
caller in the request context.

Every request that reaches it is let through (`isAuthorized: true`): a valid token with the account and
its expiry in the context, a refused one (malformed, unknown or expired) with only the `reason`. The
route then answers the refusal itself (`smsgw.edges.request.principal`): a 401 with `WWW-Authenticate:
Bearer …` and `{"status": 401, "error": "<reason>"}`, which tells a client to fetch a new token. An HTTP
API's own refusal (`isAuthorized: false`) would be a bare 403 `{"message":"Forbidden"}`: it has no
gateway responses to turn it into a 401 that says why (docs/decisions.md, "HTTP API"). A request without
an Authorization header never reaches this function (it is the identity source): API Gateway answers it
with 401 `{"message":"Unauthorized"}`.
"""

from __future__ import annotations

from typing import Any

from smsgw.accounts import service
from smsgw.core.errors import Unauthorized
from smsgw.edges.headers import header_value
from smsgw.observability import logger


def authorize(event: dict[str, Any]) -> dict[str, Any]:
    try:
        principal = service.authenticate(header_value(event.get("headers"), "authorization"))
    except Unauthorized as error:
        logger.info("token refused", extra={"reason": error.message})
        # Cached per token like a valid one (AuthorizerResultTtlInSeconds): a token refused now stays refused.
        return {"isAuthorized": True, "context": {"reason": error.message}}
    # API Gateway may hand this context on for the cache's lifetime: the routers check `expires_at`
    # against their clock and read the account (disabled?) themselves on every request.
    return {
        "isAuthorized": True,
        "context": {"account_id": principal.account_id, "expires_at": str(principal.expires_at)},
    }
