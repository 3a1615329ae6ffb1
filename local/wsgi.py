"""The gateway's API as one in-process WSGI app, routed as its HTTP API routes it.

Each HTTP request becomes the payload 2.0 event of the function that template.yaml's routes
(`AWS::ApiGatewayV2::Route`) send its method and path to, after the REQUEST authorizer
(AuthorizerFunction) for routes that have it, and the function's answer becomes the HTTP response. For
tests that speak HTTP to the real handlers under moto (tests/integration/test_api_fuzz.py runs
schemathesis through it) without a local stack.

What it copies from API Gateway: no route → 404 `{"message":"Not Found"}`; an authorized route without
an Authorization header → 401 `{"message":"Unauthorized"}` without calling the authorizer (the identity
source); the authorizer answering `isAuthorized: false` → 403 `{"message":"Forbidden"}`, failing → 500;
a method's own route before `ANY`, literal paths before parameters before greedy ones; the event's
shape (local.events.http_api_event).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from local.events import LambdaContext, http_api_event, load_handler
from local.template import SERVERLESS_FUNCTION, function_code_uri, load_template, resources

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"
API_ID = "abc123"


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str  # as the template writes it: /messages/{message_id}, /{proxy+}
    function: str  # the folder under functions/
    authorized: bool

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(
            r"\\\{([^}]+?)\\\}",
            lambda m: "(.+)" if m.group(1).endswith("\\+") else "([^/]+)",
            re.escape(self.path),
        )
        return re.compile(f"^{regex}$")

    @property
    def specificity(self) -> tuple[int, int, int, int]:
        """API Gateway prefers literal paths, then path parameters, then greedy ones; a method over ANY."""
        return (self.path.count("+}"), self.path.count("{"), self.method == "ANY", -len(self.path))

    def path_parameters(self, path: str) -> dict[str, str] | None:
        match = self.pattern.match(path)
        if match is None:
            return None
        names = [name.rstrip("+") for name in re.findall(r"\{([^}]+?)\}", self.path)]
        return dict(zip(names, match.groups(), strict=True))


def api_routes(template_path: Path = ROOT / "template.yaml") -> list[ApiRoute]:
    """Every route of the template's HTTP API, most specific first."""
    template = load_template(template_path)
    functions = resources(template, SERVERLESS_FUNCTION)
    integrations = resources(template, "AWS::ApiGatewayV2::Integration")
    routes = []
    for props in (
        r.get("Properties") or {} for r in resources(template, "AWS::ApiGatewayV2::Route").values()
    ):
        integration = re.fullmatch(r"integrations/\$\{(\w+)\}", props["Target"]["Fn::Sub"])
        assert integration is not None, props["Target"]
        target = integrations[integration.group(1)]["Properties"]["IntegrationUri"]["Fn::GetAtt"][0]
        code = str(function_code_uri(template, functions[target]) or "")
        method, path = str(props["RouteKey"]).split(" ", 1)
        routes.append(
            ApiRoute(
                method=method,
                path=path,
                function=code.rstrip("/").rsplit("/", 1)[-1],
                authorized=props.get("AuthorizationType") == "CUSTOM",
            )
        )
    return sorted(routes, key=lambda route: route.specificity)


def _gateway_answer(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": message}),
    }


class ApiGatewayApp:
    """A WSGI app: HTTP request → HTTP API event → the routed function's `lambda_handler`."""

    def __init__(self, routes: list[ApiRoute] | None = None, authorizer: str = "authorizer") -> None:
        self.routes = routes if routes is not None else api_routes()
        self.authorizer = authorizer

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = self.handle(environ)
        headers = [(str(k), str(v)) for k, v in (answer.get("headers") or {}).items()]
        headers += [("Set-Cookie", str(cookie)) for cookie in answer.get("cookies") or []]
        body = answer.get("body") or ""
        payload = base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode()
        status = int(answer["statusCode"])
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Status"
        start_response(f"{status} {reason}", headers)
        return [payload]

    def handle(self, environ: dict[str, Any]) -> dict[str, Any]:
        method = environ["REQUEST_METHOD"].upper()
        # WSGI hands the path's bytes as latin-1 (PEP 3333); API Gateway hands it as UTF-8 text.
        path = (environ.get("PATH_INFO") or "/").encode("latin-1").decode("utf-8", "replace")
        for route in self.routes:
            parameters = route.path_parameters(path)
            if route.method in (method, "ANY") and parameters is not None:
                break
        else:
            return _gateway_answer(404, "Not Found")
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        # The host a client of the deployed API calls (not the emulator's: smsgw.edges.docs.served_base_path).
        headers["host"] = f"{API_ID}.execute-api.eu-west-1.amazonaws.com"
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        event = http_api_event(
            method,
            path,
            headers=headers,
            query=urllib.parse.parse_qsl(environ.get("QUERY_STRING") or "", keep_blank_values=True),
            body=environ["wsgi.input"].read(length) if length else None,
            path_parameters=parameters,
            route_key=f"{route.method} {route.path}",
        )
        if route.authorized:
            refused = self.authorize(event, route)
            if refused is not None:
                return refused
        response: dict[str, Any] = load_handler(route.function).lambda_handler(event, LambdaContext())
        return response

    def authorize(self, event: dict[str, Any], route: ApiRoute) -> dict[str, Any] | None:
        """The REQUEST authorizer (payload 2.0, simple responses): its context into the event, or API
        Gateway's own refusal."""
        if "authorization" not in event["headers"]:
            return _gateway_answer(401, "Unauthorized")
        request = {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:{API_ID}/$default/{route.method}{route.path}",
            "identitySource": [event["headers"]["authorization"]],
            **{
                key: event[key]
                for key in ("routeKey", "rawPath", "rawQueryString", "headers", "requestContext")
            },
        }
        try:
            answer = load_handler(self.authorizer).lambda_handler(request, LambdaContext())
        except Exception:
            return _gateway_answer(500, "Internal Server Error")
        if not isinstance(answer.get("isAuthorized"), bool):
            return _gateway_answer(500, "Internal Server Error")
        if not answer["isAuthorized"]:
            return _gateway_answer(403, "Forbidden")
        event["requestContext"]["authorizer"] = {"lambda": dict(answer.get("context") or {})}
        return None
