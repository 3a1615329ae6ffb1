"""The HTTP edge shared by every API function: resolver factory, the one error table, principal, guards.

Each router says how its routes answer errors (`ApiRouter(wire=...)`); `error_answer` is the one place a
domain error becomes an answer for that wire. Handlers never catch. Validation failures are 400 (not
Powertools' default 422).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from smsgw.accounts import service as accounts
from smsgw.accounts.models import Account, Principal
from smsgw.core.errors import (
    INVALID_PARAMETER,
    MISSING_PARAMETER,
    NUMBER_BARRED,
    PARTNER_QUOTA,
    THROTTLED,
    BadRequest,
    Conflict,
    Forbidden,
    InsufficientBalance,
    InvalidField,
    NotFound,
    PreconditionFailed,
    RateLimited,
    SendRefused,
    SendThrottled,
    ServiceUnavailable,
    SmsgwError,
    Unauthorized,
)
from smsgw.core.lifecycle import SCHEDULED
from smsgw.edges.request_body import FORM, MAX_BODY_BYTES, MULTIPART, BadBody, parse_body
from smsgw.numbers.errors import NumbersApiError
from smsgw.observability import logger, mask_numbers_in

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI
    from aws_lambda_powertools.event_handler.openapi.models import Response as OpenAPIResponse

API_TITLE = "smsgw"
API_VERSION = "0.1.0"
API_DESCRIPTION = (
    "A self-hostable SMS gateway with KPN's Nexmo SMS API and Vonage's /sms/json. "
    "Get a token from /oauth/client_credential/accesstoken, then send 'Authorization: Bearer <token>'."
)


class Wire(Enum):
    """How a router's routes answer errors (chosen per router, see ApiRouter)."""

    GATEWAY = "gateway"  # {"status", "error", "field"} with the HTTP status of HTTP_STATUS
    NEXMO = "nexmo"  # KPN's send: Nexmo's body; the HTTP status of NEXMO_HTTP_STATUS
    VONAGE = "vonage"  # Vonage's /sms/json: Nexmo's body, always HTTP 200 (contract §2; SDKs read the body)
    NUMBERS = "numbers"  # the Phone Numbers API: {"error-code", "error-code-label", "field"}


class ApiRouter(Router):
    """A Powertools Router that says how its routes answer errors (`wire`) and which of them also take
    their JSON body as a form (`forms`, documented so): the resolver that includes it reads both."""

    def __init__(self, wire: Wire = Wire.GATEWAY, forms: Iterable[str] = ()) -> None:
        super().__init__()
        self.wire = wire
        self.form_paths = frozenset(forms)
        self.paths: set[str] = set()

    def route(self, rule: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        self.paths.add(rule)
        return super().route(rule, method, *args, **kwargs)


# --- the one error table ---------------------------------------------------------------------------

# The gateway's own answers (and the Numbers API's for errors that are not its own); most specific first.
HTTP_STATUS: Final[tuple[tuple[type[SmsgwError], int], ...]] = (
    (BadRequest, 400),
    (Unauthorized, 401),
    (InsufficientBalance, 402),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PreconditionFailed, 412),
    (RateLimited, 429),
    (ServiceUnavailable, 503),
    (SendRefused, 400),
)

# KPN's send answers a refusal with Nexmo's body and these HTTP statuses (else 400), as KPN does;
# a send throttled by the account's velocity limit (status 1) is 429 with Retry-After.
NEXMO_HTTP_STATUS: Final = {NUMBER_BARRED: 403, PARTNER_QUOTA: 200, THROTTLED: 429}

# The Vonage status for a domain error on the SMS APIs: 1 throttled, 3 invalid parameter, 4 bad
# credentials, 8 account barred, 9 no balance, 5 anything else (internal/temporary).
VONAGE_STATUS: Final[tuple[tuple[type[SmsgwError], str], ...]] = (
    (RateLimited, "1"),
    (Unauthorized, "4"),
    (Forbidden, "8"),
    (InsufficientBalance, PARTNER_QUOTA),
    (BadRequest, INVALID_PARAMETER),
)


def http_status(error: SmsgwError) -> int:
    return next((status for kind, status in HTTP_STATUS if isinstance(error, kind)), 500)


def vonage_status(error: SmsgwError) -> str:
    own: str | None = getattr(error, "vonage_status", None)
    if own:
        return own
    return next((status for kind, status in VONAGE_STATUS if isinstance(error, kind)), "5")


def nexmo_error_body(vonage_status: str, error_text: str, field: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"status": vonage_status, "error-text": error_text}
    if field:
        element["field"] = field
    return {"message-count": "1", "messages": [element]}


def log_refusal(http_status: int, reason: str, field: str | None = None, code: str | None = None) -> None:
    """Every refused request is logged with why (numbers masked): a 4xx is the client's to fix, but an
    operator asked "why did my sends stop" needs to see them. 401/403/429 at WARNING (auth, abuse)."""
    extra: dict[str, Any] = {"http_status": http_status, "reason": mask_numbers_in(reason)}
    if field:
        extra["field"] = field
    if code:
        extra["code"] = code
    if http_status in (401, 403, 429):
        logger.warning("request refused", extra=extra)
    else:
        logger.info("request refused", extra=extra)


def error_answer(wire: Wire, error: SmsgwError) -> Response:
    """The answer to a domain error on a route of `wire`: the one place errors become HTTP."""
    answer = _error_answer_for(wire, error)
    if answer.status_code < 500:
        code = vonage_status(error) if wire is Wire.VONAGE or isinstance(error, SendRefused) else None
        log_refusal(
            answer.status_code if answer.status_code != 200 else http_status(error),
            error.message,
            error.field,
            code,
        )
    return answer


def _error_answer_for(wire: Wire, error: SmsgwError) -> Response:
    headers: dict[str, str] = {}
    retry_after = getattr(error, "retry_after", None)
    if isinstance(error, RateLimited | ServiceUnavailable | SendThrottled) or (
        isinstance(error, NumbersApiError) and retry_after
    ):
        headers["Retry-After"] = str(retry_after)
    if isinstance(error, NumbersApiError):
        if error.status_code >= 500:
            logger.error("numbers request failed", extra={"error": error.message})
        return _json(error.status_code, error.body(), headers)
    status = http_status(error)
    if status >= 500:
        logger.error("request failed", extra={"error": error.message})
    if wire is Wire.VONAGE or isinstance(error, SendRefused):
        code = vonage_status(error)
        text = (
            f"Throttled: {error.message}"
            if code == "1" and not isinstance(error, SendRefused)
            else error.message
        )
        if wire is not Wire.VONAGE:
            return _json(NEXMO_HTTP_STATUS.get(code, 400), nexmo_error_body(code, text, error.field), headers)
        return _json(200, nexmo_error_body(code, text, error.field), headers)
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="smsgw"'
    return error_response(status, error.message, error.field, **headers)


def accepted_status(body: dict[str, Any]) -> int:
    """An accepted send's HTTP status: 202 when it is held for later (send_at, quiet hours), else 200
    (Nexmo's and Vonage's, also for a refusal reported in the body)."""
    messages = body.get("messages") or []
    return 202 if messages and messages[0].get("message-status") == SCHEDULED else 200


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
    """Powertools' request validation, reading the body with smsgw's one parser (smsgw.edges.request_body)
    instead of its own: multipart forms, charsets, size and nesting limits, 4xx instead of 5xx."""

    def _get_body(self, app: Any) -> dict[str, Any]:
        return event_body(app)


def event_body(app: BaseRouter) -> dict[str, Any]:
    """The current request's body: a JSON object or a form's fields (see smsgw.edges.request_body)."""
    event = app.current_event
    return parse_body(event.headers or {}, event.body, bool(event.is_base64_encoded))


_OPERATIONS = ("get", "put", "post", "delete", "patch")


def _error_answer(description: str) -> OpenAPIResponse:
    # Powertools' OpenAPI models (~60 pydantic classes, ~0.1 s) load only where a schema is generated
    # (the docs, GET /openapi.json), not in every function's cold start: no request needs them.
    from aws_lambda_powertools.event_handler.openapi.models import Response as OpenAPIResponse

    return OpenAPIResponse.model_validate(
        {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
        }
    )


class SmsgwResolver(APIGatewayRestResolver):
    """Powertools' resolver, documenting what this API answers: bad input is 400 (not Powertools'
    422), a body may be 413/415, and the form routes take forms and multipart forms too. It learns each
    path's error wire and whether it takes forms from the ApiRouters it includes."""

    def __init__(self) -> None:
        super().__init__(enable_validation=True)
        self.wires: dict[str, Wire] = {}
        self.form_paths: set[str] = set()

    def include_router(self, router: Router, prefix: str | None = None) -> None:
        if isinstance(router, ApiRouter):
            self.wires.update(dict.fromkeys(router.paths, router.wire))
            self.form_paths |= router.form_paths
        super().include_router(router, prefix)

    def wire(self) -> Wire:
        """How the current request's route answers errors."""
        return self.wires.get(self.current_event.path, Wire.GATEWAY)

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        schema = super().get_openapi_schema(**kwargs)
        for path, item in (schema.paths or {}).items():
            for method in _OPERATIONS:
                operation = getattr(item, method, None)
                if operation is None or operation.responses is None:
                    continue
                responses = operation.responses
                responses.pop(422, None)
                if self.wires.get(path) is Wire.VONAGE:
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
                if path in self.form_paths and content:
                    media = next(iter(content.values()))
                    content.setdefault(FORM, media)
                    content.setdefault(MULTIPART, media)
        paths = schema.model_dump_json(by_alias=True, exclude_none=True, include={"paths"})
        if schema.components and schema.components.schemas and "/HTTPValidationError" not in paths:
            for unused in ("HTTPValidationError", "ValidationError"):
                schema.components.schemas.pop(unused, None)
        return schema


def create_resolver(*routers: Router, resolver: type[SmsgwResolver] = SmsgwResolver) -> SmsgwResolver:
    app = resolver()
    # The validation middleware is where Powertools reads bodies; ours reads them with the one parser.
    app._request_validation_middleware = BodyValidation()
    for router in routers:
        app.include_router(router)

    @app.exception_handler(RequestValidationError)
    def _validation(error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        field = _field_of(first)
        missing = first.get("type") == "missing"
        if missing:
            refusal = InvalidField(field, f"Missing {field} param", MISSING_PARAMETER)
        else:
            refusal = InvalidField(field, f"Invalid {field} param: {first.get('msg', '')}")
        if app.wire() in (Wire.NEXMO, Wire.VONAGE):
            return error_answer(app.wire(), SendRefused.of(refusal))
        reason = f"{field}: {first.get('msg', 'invalid value')}"
        log_refusal(400, reason, field)
        return error_response(400, reason, field)

    @app.exception_handler(SmsgwError)
    def _domain(error: SmsgwError) -> Response:
        return error_answer(app.wire(), error)

    @app.exception_handler(BadBody)
    def _bad_body(error: BadBody) -> Response:
        log_refusal(error.status_code, error.message, error.field)
        if app.wire() is Wire.VONAGE:
            return _json(200, nexmo_error_body(INVALID_PARAMETER, error.message, error.field))
        if app.wire() is Wire.NEXMO:
            return _json(error.status_code, nexmo_error_body(INVALID_PARAMETER, error.message, error.field))
        return error_response(error.status_code, error.message, error.field)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        answer = route_not_found(app, app.current_event.path, app.current_event.http_method)
        log_refusal(
            answer.status_code, f"{app.current_event.http_method} {app.current_event.path}: no such route"
        )
        return answer

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unexpected error")
        if app.wire() is Wire.VONAGE:
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
