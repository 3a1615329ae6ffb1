"""The HTTP edge shared by every API function: the resolver, its routers, and the exception handlers.

Each router says how its routes answer errors (`ApiRouter(wire=...)`); `smsgw.edges.errors.error_answer` is
the one place a domain error becomes an answer for that wire, `smsgw.edges.request` what a route reads
of its request (the caller, the account guard, parameters). Handlers never catch.

`create_plain_resolver` validates nothing against a model: the routes read their input themselves
(smsgw.edges.params, event_body) and answer views (smsgw.core.views). Powertools' model validation
would load pydantic and its OpenAPI machinery (~0.1 s of cold start, docs/benchmarks.md §3); the
OpenAPI document is generated apart from the functions (smsgw.edges.app).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from smsgw.core.errors import INVALID_PARAMETER, SmsgwError
from smsgw.core.lifecycle import SCHEDULED
from smsgw.edges.errors import (
    Wire,
    error_answer,
    error_response,
    json_response,
    log_refusal,
    nexmo_error_body,
)
from smsgw.edges.request_body import FORM, MAX_BODY_BYTES, MULTIPART, BadBody
from smsgw.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI, Operation
    from aws_lambda_powertools.event_handler.openapi.models import Response as OpenAPIResponse

API_TITLE = "smsgw"
API_VERSION = "0.1.0"
API_DESCRIPTION = (
    "A self-hostable SMS gateway with KPN's Nexmo SMS API and Vonage's /sms/json. "
    "Get a token from /oauth/client_credential/accesstoken, then send 'Authorization: Bearer <token>'."
)


class ApiRouter(Router):
    """A Powertools Router that says how its routes answer errors (`wire`), which of them also take
    their JSON body as a form (`forms`, documented so), and the request (parameters, body; OpenAPI
    objects) of routes that read it themselves instead of declaring it as annotated parameters
    (`requests`, by path for all its methods or by "METHOD path"): the resolver that includes it reads all three."""

    def __init__(
        self,
        wire: Wire = Wire.GATEWAY,
        forms: Iterable[str] = (),
        requests: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.wire = wire
        self.form_paths = frozenset(forms)
        self.requests = dict(requests or {})
        self.paths: set[str] = set()

    def route(self, rule: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        self.paths.add(rule)
        return super().route(rule, method, *args, **kwargs)


def component(schema: str) -> dict[str, Any]:
    """A JSON answer or body documented by a component schema of the OpenAPI document: the routes that
    read their input themselves name the docs' models without importing them (smsgw.edges.app
    registers them)."""
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def view_content(view: type) -> dict[str, Any]:
    """A JSON answer documented by a view (smsgw.core.views): the docs generator turns it into a schema."""
    return {"application/json": {"model": view}}


def component_body(schema: str) -> dict[str, Any]:
    """An ApiRouter `requests` entry: a required JSON body documented by a component schema."""
    return {"requestBody": {"required": True, "content": component(schema)}}


def accepted_status(body: dict[str, Any]) -> int:
    """An accepted send's HTTP status: 202 when it is held for later (send_at, quiet hours), else 200
    (Nexmo's and Vonage's, also for a refusal reported in the body)."""
    messages = body.get("messages") or []
    return 202 if messages and messages[0].get("message-status") == SCHEDULED else 200


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


def _declare_request(operation: Operation, declared: dict[str, Any]) -> None:
    """A route's request as its ApiRouter documents it (the route reads it itself)."""
    from aws_lambda_powertools.event_handler.openapi.models import Parameter, RequestBody

    if "parameters" in declared:  # replacing those Powertools read from the signature, by name
        declared_parameters = [Parameter.model_validate(p) for p in declared["parameters"]]
        replaced = {(parameter.name, parameter.in_) for parameter in declared_parameters}
        kept = [
            p
            for p in operation.parameters or ()
            if not isinstance(p, Parameter) or (p.name, p.in_) not in replaced
        ]
        operation.parameters = [*kept, *declared_parameters]
    if "requestBody" in declared:
        operation.requestBody = RequestBody.model_validate(declared["requestBody"])


class SmsgwResolver(APIGatewayHttpResolver):
    """Powertools' resolver for payload format 2.0 — the HTTP API's events and the function URLs' (the
    carriers' webhooks), which have the same shape — documenting what this API answers: bad input is 400 (not Powertools'
    422), a body may be 413/415, and the form routes take forms and multipart forms too. It learns each
    path's error wire and whether it takes forms from the ApiRouters it includes."""

    def __init__(self) -> None:
        super().__init__(enable_validation=False)  # the routes read their input (module docstring)
        self.wires: dict[str, Wire] = {}
        self.form_paths: set[str] = set()
        self.requests: dict[str, dict[str, Any]] = {}

    def include_router(self, router: Router, prefix: str | None = None) -> None:
        if isinstance(router, ApiRouter):
            self.wires.update(dict.fromkeys(router.paths, router.wire))
            self.form_paths |= router.form_paths
            self.requests.update(router.requests)
        super().include_router(router, prefix)

    def documented_operations(self) -> Mapping[str, Iterable[str]]:
        """The methods of each path template this API documents (404/405 answers read them)."""
        return documented_operations(self)

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
                for key in (path, f"{method.upper()} {path}"):
                    if key in self.requests:
                        _declare_request(operation, self.requests[key])
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


def create_plain_resolver(*routers: Router, resolver: type[SmsgwResolver] = SmsgwResolver) -> SmsgwResolver:
    """A resolver whose routes read their input themselves (no model validation, no pydantic)."""
    return assemble(resolver(), routers)


def assemble(app: SmsgwResolver, routers: Iterable[Router]) -> SmsgwResolver:
    """`app` with `routers` and the answers every API function gives: domain errors, bad bodies, 404/405
    and unexpected errors."""
    for router in routers:
        app.include_router(router)

    @app.exception_handler(SmsgwError)
    def _domain(error: SmsgwError) -> Response:
        return error_answer(app.wire(), error)

    @app.exception_handler(BadBody)
    def _bad_body(error: BadBody) -> Response:
        log_refusal(error.status_code, error.message, error.field)
        if app.wire() is Wire.VONAGE:
            return json_response(200, nexmo_error_body(INVALID_PARAMETER, error.message, error.field))
        if app.wire() is Wire.NEXMO:
            return json_response(
                error.status_code, nexmo_error_body(INVALID_PARAMETER, error.message, error.field)
            )
        return error_response(error.status_code, error.message, error.field)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        answer = route_not_found(
            app.documented_operations(), app.current_event.path, app.current_event.http_method
        )
        log_refusal(
            answer.status_code, f"{app.current_event.http_method} {app.current_event.path}: no such route"
        )
        return answer

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unexpected error")
        if app.wire() is Wire.VONAGE:
            return json_response(
                200, nexmo_error_body("5", "Internal Error: it has been logged, please retry later")
            )
        return error_response(500, "internal error; it has been logged, please retry later")

    return app


def documented_operations(app: APIGatewayHttpResolver) -> dict[str, set[str]]:
    """The methods of each documented path template of `app`'s routes (what its OpenAPI document lists)."""
    operations: dict[str, set[str]] = {}
    for route in app._static_routes + app._dynamic_routes:
        if route.include_in_schema:
            operations.setdefault(route.openapi_path, set()).add(route.method.upper())
    return operations


def _matching_operations(
    operations: Mapping[str, Iterable[str]], path: str
) -> list[tuple[str, dict[str, str]]]:
    """(METHOD, path parameters) of every operation whose template matches `path` with any characters
    in its parameters."""
    found: list[tuple[str, dict[str, str]]] = []
    for template, methods in operations.items():
        pattern = "^" + re.sub(r"\\\{([^/]+?)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        match = re.match(pattern, path)
        if match:
            found.extend((method.upper(), match.groupdict()) for method in methods)
    return found


def route_not_found(operations: Mapping[str, Iterable[str]], path: str, method: str) -> Response:
    """404 for an unknown path, 405 with Allow for a known path and a wrong method, and 400 naming the
    path parameter when the route exists but a parameter has characters no id has (Powertools' routes
    match only URI-safe characters). `operations`: the methods of each path template."""
    matching = _matching_operations(operations, path)
    allowed = sorted({allowed_method for allowed_method, _ in matching})
    wanted = [parameters for allowed_method, parameters in matching if allowed_method == method]
    if wanted and wanted[0]:
        name = sorted(wanted[0])[-1]
        return error_response(400, f"{name} has characters no id has", name)
    if allowed:
        return error_response(
            405, f"{method} is not allowed on {path}; use {', '.join(allowed)}", Allow=", ".join(allowed)
        )
    return error_response(404, f"no route {path}; see /docs for the API")
