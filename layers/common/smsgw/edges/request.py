"""What a route reads of its request: the caller (principal, the account guard), its parameters and headers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from smsgw.accounts import service as accounts
from smsgw.accounts.models import Account, Principal
from smsgw.core.errors import InvalidToken, Unauthorized
from smsgw.edges.headers import header_value
from smsgw.edges.request_body import parse_body


def event_body(app: BaseRouter) -> dict[str, Any]:
    """The current request's body: a JSON object or a form's fields (see smsgw.edges.request_body)."""
    event = app.current_event
    return parse_body(event.headers or {}, event.body, bool(event.is_base64_encoded))


def principal(app: APIGatewayHttpResolver) -> Principal:
    """The caller, as the Lambda authorizer described it in the request context. The authorizer lets a
    refused token through with only its `reason` (an HTTP API's own refusal would be a bare 403, where
    a client must see 401 to fetch a new token): it is refused here, before the route runs."""
    authorizer = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    context = authorizer.get("lambda") or {}
    account_id = context.get("account_id")
    if context.get("reason"):
        raise InvalidToken(str(context["reason"]))
    if not account_id:
        raise Unauthorized("missing or invalid access token")
    try:
        expires_at = int(context.get("expires_at") or 0)
    except (TypeError, ValueError):
        expires_at = 0  # not from our authorizer: treated as expired
    return Principal(account_id=account_id, expires_at=expires_at)


def authenticated(app: APIGatewayHttpResolver) -> Principal:
    """The caller, its token not expired (401 otherwise); reads nothing."""
    caller = principal(app)
    accounts.check_not_expired(caller)
    return caller


def active_account(app: APIGatewayHttpResolver) -> Account:
    """401 for an expired token, 403 for a disabled account — decided here on every request, since
    API Gateway may answer from its cache of the authorizer's result."""
    return accounts.active_account(principal(app))


def account_route_guard(app: APIGatewayHttpResolver, next_middleware: Callable[..., Response]) -> Response:
    """Middleware for every bearer-token route: an unexpired token, an enabled account, within its
    request rate limit (429 with Retry-After; nothing done)."""
    account = active_account(app)
    accounts.enforce_rate_limit(account)
    app.append_context(account=account)
    return next_middleware(app)


def send_route_guard(app: APIGatewayHttpResolver, next_middleware: Callable[..., Response]) -> Response:
    """Middleware for the send routes: an unexpired token and an enabled account, as on every bearer-token
    route; the rate limit is the send's own (`accept_send(count_request=True)`): it counts the request in
    its charge transaction, after reading the counter with the balance — one AWS call fewer per send."""
    app.append_context(account=active_account(app))
    return next_middleware(app)


# The middlewares that make a route a bearer-token route.
GUARDS = frozenset({account_route_guard, send_route_guard})

# KPN's routes and the gateway's own are guarded alike (the name is kept for the routers that use it).
kpn_route_guard = account_route_guard


def request_params(app: BaseRouter) -> dict[str, str]:
    """Query string plus body (form or JSON), as strings: how carriers send webhooks (GET, POST, POST-JSON)."""
    params = {k: str(v) for k, v in (app.current_event.query_string_parameters or {}).items()}
    for key, value in event_body(app).items():
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            value = value[-1]  # a repeated form field: the last, as parse_qs-based readers do
        if value is not None:
            params[key] = value if isinstance(value, str) else json.dumps(value)
    return params


def header(app: BaseRouter, name: str) -> str | None:
    """The request's header `name`, case-insensitively."""
    return header_value(app.current_event.headers, name)
