"""A resolver with Powertools' request validation: route parameters annotated with models (`Body()`,
`Query()`…) are validated by pydantic, each failure a 400 naming the field (not Powertools' default 422).
The body is read with smsgw's one parser (smsgw.edges.request_body).

No function uses it any more (their routes read their input themselves, docs/decisions.md "cold
start"): the docs generator (smsgw.edges.app) does, because Powertools writes the OpenAPI document of
a validating resolver. Everything else a resolver answers is in smsgw.edges.resolver.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from smsgw.core.errors import INVALID_PARAMETER, MISSING_PARAMETER, InvalidField, SendRefused
from smsgw.edges.errors import Wire, error_answer, error_response, log_refusal
from smsgw.edges.request import GUARDS, authenticated, event_body
from smsgw.edges.resolver import SmsgwResolver, assemble


def field_of(error: dict[str, Any]) -> str:
    """The wire name of the field a pydantic error is about ("body" for the body as a whole)."""
    if error.get("type") in ("json_invalid", "unsupported_content_type"):
        return "body"
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "header", "path")]
    return location[-1] if location else "body"


def refusal(errors: list[dict[str, Any]]) -> InvalidField:
    """The first of a validation's errors, as the gateway's routes answer it (`field: what is wrong`)."""
    first = errors[0] if errors else {}
    field = field_of(first)
    status = MISSING_PARAMETER if first.get("type") == "missing" else INVALID_PARAMETER
    return InvalidField(field, f"{field}: {first.get('msg', 'invalid value')}", status)


class BodyValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading the body with smsgw's one parser (smsgw.edges.request_body)
    instead of its own: multipart forms, charsets, size and nesting limits, 4xx instead of 5xx."""

    def handler(self, app: Any, next_middleware: Any) -> Response:
        route = app.context.get("_route")
        if route is not None and GUARDS & set(route.middlewares):
            # A bearer-token route refuses a refused or expired token before it looks at the body: the
            # authorizer lets such requests through to say why (smsgw.edges.authorizer).
            authenticated(app)
        return super().handler(app, next_middleware)

    def _get_body(self, app: Any) -> dict[str, Any]:
        return event_body(app)


def create_resolver(*routers: Router, resolver: type[SmsgwResolver] = SmsgwResolver) -> SmsgwResolver:
    app = resolver(validated=True)
    # The validation middleware is where Powertools reads bodies; ours reads them with the one parser.
    app._request_validation_middleware = BodyValidation()

    @app.exception_handler(RequestValidationError)
    def _validation(error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        if app.wire() in (Wire.NEXMO, Wire.VONAGE):  # Vonage's wording
            field = field_of(first)
            if first.get("type") == "missing":
                nexmo = InvalidField(field, f"Missing {field} param", MISSING_PARAMETER)
            else:
                nexmo = InvalidField(field, f"Invalid {field} param: {first.get('msg', '')}")
            return error_answer(app.wire(), SendRefused.of(nexmo))
        gateway = refusal([first])
        log_refusal(400, gateway.message, gateway.field)
        return error_response(400, gateway.message, gateway.field)

    return assemble(app, routers)
