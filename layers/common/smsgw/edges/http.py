"""The HTTP edge shared by every API function: resolver factory, error → status mapping, principal.

One table maps domain errors to HTTP statuses; handlers never catch. Validation failures are 400
(not Powertools' default 422). Nexmo routes answer errors in Nexmo's body shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import OpenAPI
from aws_lambda_powertools.event_handler.openapi.models import Response as OpenAPIResponse

from smsgw.accounts import service as accounts
from smsgw.accounts.models import Account, Principal
from smsgw.errors import (
    BadRequest,
    Forbidden,
    InsufficientBalance,
    RateLimited,
    ServiceUnavailable,
    SmsgwError,
    Unauthorized,
)
from smsgw.observability import logger
from smsgw.request_body import FORM, MAX_BODY_BYTES, MULTIPART, BadBody, parse_body

API_TITLE = "smsgw"
API_VERSION = "0.1.0"
API_DESCRIPTION = (
    "A self-hostable SMS gateway with KPN's Nexmo SMS API and Vonage's /sms/json. "
    "Get a token from /oauth/client_credential/accesstoken, then send 'Authorization: Bearer <token>'."
)


class NexmoRejection(SmsgwError):
    """A send refused with a Vonage per-message status, answered in Nexmo's body shape."""

    def __init__(self, vonage_status: str, message: str, field: str | None = None, http_status: int = 400):
        super().__init__(message)
        self.vonage_status = vonage_status
        self.field = field
        self.status_code = http_status


def nexmo_error_body(vonage_status: str, error_text: str, field: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"status": vonage_status, "error-text": error_text}
    if field:
        element["field"] = field
    return {"message-count": "1", "messages": [element]}


# Paths whose errors use the Nexmo body shape (set by the routers that own them).
NEXMO_PATHS: set[str] = set()

# Paths whose JSON body may also be sent as a form (urlencoded or multipart): documented so.
FORM_PATHS: set[str] = set()

# Paths that answer as Vonage's SMS API does (contract §2): every outcome HTTP 200, a refusal as
# a Vonage status in the Nexmo body; the official SDKs read the body, not the HTTP status.
VONAGE_PATHS: set[str] = set()


def vonage_status(error: SmsgwError) -> str:
    """The Vonage status for a domain error on a Vonage path: 1 throttled, 3 invalid parameter,
    4 bad credentials, 8 account barred, 9 no balance, 5 anything else (internal/temporary)."""
    own: str | None = getattr(error, "vonage_status", None)
    if own:
        return own
    if isinstance(error, RateLimited):
        return "1"
    if isinstance(error, Unauthorized):
        return "4"
    if isinstance(error, Forbidden):
        return "8"
    if isinstance(error, InsufficientBalance):
        return "9"
    if isinstance(error, BadRequest):
        return "3"
    return "5"


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers=headers or {},
    )


def error_response(status: int, message: str, field: str | None = None, **headers: str) -> Response:
    body: dict[str, Any] = {"status": status, "error": message}
    if field:
        body["field"] = field
    return _json(status, body, {k.replace("_", "-"): v for k, v in headers.items()})


def _field_of(error: dict[str, Any]) -> str:
    if error.get("type") in ("json_invalid", "unsupported_content_type"):
        return "body"
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "header", "path")]
    return location[-1] if location else "body"


class BodyValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading the body with smsgw's one parser (smsgw.request_body)
    instead of its own: multipart forms, charsets, size and nesting limits, 4xx instead of 5xx."""

    def _get_body(self, app: Any) -> dict[str, Any]:
        return event_body(app)


def event_body(app: BaseRouter) -> dict[str, Any]:
    """The current request's body: a JSON object or a form's fields (see smsgw.request_body)."""
    event = app.current_event
    return parse_body(event.headers or {}, event.body, bool(event.is_base64_encoded))


_OPERATIONS = ("get", "put", "post", "delete", "patch")


def _error_answer(description: str) -> OpenAPIResponse:
    return OpenAPIResponse.model_validate(
        {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
        }
    )


class SmsgwResolver(APIGatewayRestResolver):
    """Powertools' resolver, documenting what this API answers: bad input is 400 (not Powertools'
    422), a body may be 413/415, and the form routes take forms and multipart forms too."""

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        schema = super().get_openapi_schema(**kwargs)
        for path, item in (schema.paths or {}).items():
            for method in _OPERATIONS:
                operation = getattr(item, method, None)
                if operation is None or operation.responses is None:
                    continue
                responses = operation.responses
                responses.pop(422, None)
                if path in VONAGE_PATHS:
                    continue  # every answer is HTTP 200 with a Vonage status
                if (operation.parameters or operation.requestBody) and not {400, "400"} & set(responses):
                    responses[400] = _error_answer("Bad input: `field` names it")
                if method not in ("post", "put", "patch"):
                    continue
                responses.setdefault(
                    413, _error_answer(f"The body is larger than {MAX_BODY_BYTES // 1024} KB")
                )
                responses.setdefault(
                    415, _error_answer(f"A Content-Type other than {FORM}, {MULTIPART} or JSON")
                )
                content = operation.requestBody.content if operation.requestBody else None
                if path in FORM_PATHS and content:
                    media = next(iter(content.values()))
                    content.setdefault(FORM, media)
                    content.setdefault(MULTIPART, media)
        paths = schema.model_dump_json(by_alias=True, exclude_none=True, include={"paths"})
        if schema.components and schema.components.schemas and "/HTTPValidationError" not in paths:
            for unused in ("HTTPValidationError", "ValidationError"):
                schema.components.schemas.pop(unused, None)
        return schema


def create_resolver(*routers: Router) -> APIGatewayRestResolver:
    app = SmsgwResolver(enable_validation=True)
    # The validation middleware is where Powertools reads bodies; ours reads them with the one parser.
    app._request_validation_middleware = BodyValidation()
    for router in routers:
        app.include_router(router)

    def is_nexmo_route() -> bool:
        return app.current_event.path in NEXMO_PATHS

    def is_vonage_route() -> bool:
        return app.current_event.path in VONAGE_PATHS

    @app.exception_handler(RequestValidationError)
    def _validation(error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        field = _field_of(first)
        message = f"{field}: {first.get('msg', 'invalid value')}"
        if is_nexmo_route() or is_vonage_route():
            missing = first.get("type") == "missing"
            status = "2" if missing else "3"
            text = f"Missing {field} param" if missing else f"Invalid {field} param: {first.get('msg', '')}"
            return _json(200 if is_vonage_route() else 400, nexmo_error_body(status, text, field))
        return error_response(400, message, field)

    @app.exception_handler(NexmoRejection)
    def _nexmo(error: NexmoRejection) -> Response:
        status = 200 if is_vonage_route() else error.status_code
        return _json(status, nexmo_error_body(error.vonage_status, error.message, error.field))

    @app.exception_handler(SmsgwError)
    def _domain(error: SmsgwError) -> Response:
        headers: dict[str, str] = {}
        if isinstance(error, RateLimited | ServiceUnavailable):
            headers["Retry-After"] = str(error.retry_after)
        if is_vonage_route():
            if error.status_code >= 500:
                logger.error("request failed", extra={"error": error.message})
            status = vonage_status(error)
            text = f"Throttled: {error.message}" if status == "1" else error.message
            return _json(200, nexmo_error_body(status, text, getattr(error, "field", None)), headers)
        if isinstance(error, Unauthorized):
            headers["WWW-Authenticate"] = 'Bearer realm="smsgw"'
        if error.status_code >= 500:
            logger.error("request failed", extra={"error": error.message})
        return error_response(error.status_code, error.message, getattr(error, "field", None), **headers)

    @app.exception_handler(BadBody)
    def _bad_body(error: BadBody) -> Response:
        if is_vonage_route():
            return _json(200, nexmo_error_body("3", error.message, error.field))
        if is_nexmo_route():
            return _json(error.status_code, nexmo_error_body("3", error.message, error.field))
        return error_response(error.status_code, error.message, error.field)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        return route_not_found(app, app.current_event.path, app.current_event.http_method)

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unexpected error")
        if is_vonage_route():
            return _json(200, nexmo_error_body("5", "Internal Error: it has been logged, please retry later"))
        return error_response(500, "internal error; it has been logged, please retry later")

    return app


def _matching_operations(app: APIGatewayRestResolver, path: str) -> list[tuple[str, str, dict[str, str]]]:
    """(template, METHOD, path parameters) of every documented operation whose template matches `path`
    with any characters in its parameters."""
    schema = app.get_openapi_schema(title=API_TITLE, version=API_VERSION)
    found: list[tuple[str, str, dict[str, str]]] = []
    for template, item in (schema.paths or {}).items():
        pattern = "^" + re.sub(r"\\\{([^/]+?)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        match = re.match(pattern, path)
        if match:
            found.extend(
                (template, method.upper(), match.groupdict())
                for method in ("get", "put", "post", "delete", "patch", "head", "options")
                if getattr(item, method, None) is not None
            )
    return found


def route_not_found(app: APIGatewayRestResolver, path: str, method: str) -> Response:
    """404 for an unknown path, 405 with Allow for a known path and a wrong method, and 400 naming the
    path parameter when the route exists but a parameter has characters no id has (Powertools' routes
    match only URI-safe characters)."""
    operations = _matching_operations(app, path)
    allowed = sorted({allowed_method for _, allowed_method, _ in operations})
    wanted = [parameters for _, allowed_method, parameters in operations if allowed_method == method]
    if wanted and wanted[0]:
        name = sorted(wanted[0])[-1]
        return error_response(400, f"{name} has characters no id has", name)
    if allowed:
        return error_response(
            405, f"{method} is not allowed on {path}; use {', '.join(allowed)}", Allow=", ".join(allowed)
        )
    return error_response(404, f"no route {path}; see /docs for the API")


def principal(app: APIGatewayRestResolver) -> Principal:
    """The caller, as the Lambda authorizer described it in the request context."""
    context = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    account_id = context.get("account_id")
    if not account_id:
        raise Unauthorized("missing or invalid access token")
    try:
        expires_at = int(context.get("expires_at") or 0)
    except (TypeError, ValueError):
        expires_at = 0  # not from our authorizer: treated as expired
    return Principal(account_id=account_id, expires_at=expires_at)


def active_account(app: APIGatewayRestResolver) -> Account:
    """401 for an expired token, 403 for a disabled account — decided here on every request, since
    API Gateway may answer from its cache of the authorizer's result."""
    return accounts.active_account(principal(app))


def account_route_guard(app: APIGatewayRestResolver, next_middleware: Callable[..., Response]) -> Response:
    """Middleware for every bearer-token route: an unexpired token, an enabled account, within its
    request rate limit (429 with Retry-After; nothing done)."""
    account = active_account(app)
    accounts.enforce_rate_limit(account)
    app.append_context(account=account)
    return next_middleware(app)


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
    """Headers case-insensitively (ministack lower-cases them; AWS keeps the client's casing)."""
    headers: Iterable[tuple[str, str]] = (app.current_event.headers or {}).items()
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)
