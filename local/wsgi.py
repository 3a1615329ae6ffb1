"""The gateway's API as one in-process WSGI app, routed as API Gateway (REST) routes it.

Each HTTP request becomes the REST proxy event of the function that template.yaml routes its method
and path to, after the REQUEST authorizer (AuthorizerFunction) for routes that have it, and the
function's answer becomes the HTTP response. For tests that speak HTTP to the real handlers under moto
(tests/integration/test_api_fuzz.py runs schemathesis through it) without a local stack.

What it copies from API Gateway: no route → 403 "Missing Authentication Token"; an authorized route
without an Authorization header → 401 without calling the authorizer (the identity source);
the authorizer raising "Unauthorized" → 401, a Deny policy → 403, anything else → 500; a repeated
query parameter → the last value in `queryStringParameters`; a body that is not UTF-8 arrives
base64-encoded (`isBase64Encoded`).
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

from local.events import LambdaContext, load_handler
from local.template import SERVERLESS_FUNCTION, function_code_uri, load_template, resources

ROOT = Path(__file__).resolve().parent.parent
STAGE = "v1"
ACCOUNT = "123456789012"
API_ID = "local"


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
    def specificity(self) -> tuple[int, int, int]:
        """API Gateway prefers literal paths, then path parameters, then greedy ones."""
        return (self.path.count("+}"), self.path.count("{"), -len(self.path))

    def path_parameters(self, path: str) -> dict[str, str] | None:
        match = self.pattern.match(path)
        if match is None:
            return None
        names = [name.rstrip("+") for name in re.findall(r"\{([^}]+?)\}", self.path)]
        return dict(zip(names, match.groups(), strict=True))


def api_routes(template_path: Path = ROOT / "template.yaml") -> list[ApiRoute]:
    """Every `Type: Api` event of the template's functions, most specific path first."""
    template = load_template(template_path)
    routes = []
    for resource in resources(template, SERVERLESS_FUNCTION).values():
        code = str(function_code_uri(template, resource) or "")
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            props = event.get("Properties") or {}
            auth = (props.get("Auth") or {}).get("Authorizer")
            routes.append(
                ApiRoute(
                    method=str(props["Method"]).upper(),
                    path=str(props["Path"]),
                    function=code.rstrip("/").rsplit("/", 1)[-1],
                    authorized=auth != "NONE",
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
    """A WSGI app: HTTP request → REST proxy event → the routed function's `lambda_handler`."""

    def __init__(self, routes: list[ApiRoute] | None = None, authorizer: str = "authorizer") -> None:
        self.routes = routes if routes is not None else api_routes()
        self.authorizer = authorizer

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = self.handle(environ)
        headers = dict(answer.get("headers") or {})
        for name, values in (answer.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(str(value) for value in values)
        body = answer.get("body") or ""
        payload = base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode()
        status = int(answer["statusCode"])
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Status"
        start_response(f"{status} {reason}", [(k, str(v)) for k, v in headers.items()])
        return [payload]

    def handle(self, environ: dict[str, Any]) -> dict[str, Any]:
        method = environ["REQUEST_METHOD"].upper()
        # WSGI hands the path's bytes as latin-1 (PEP 3333); API Gateway hands it as UTF-8 text.
        path = (environ.get("PATH_INFO") or "/").encode("latin-1").decode("utf-8", "replace")
        for route in self.routes:
            parameters = route.path_parameters(path)
            if route.method == method and parameters is not None:
                break
        else:
            return _gateway_answer(403, "Missing Authentication Token")
        event = self.event(environ, route, path, parameters)
        if route.authorized:
            denied = self.authorize(event, route)
            if denied is not None:
                return denied
        response: dict[str, Any] = load_handler(route.function).lambda_handler(event, LambdaContext())
        return response

    def authorize(self, event: dict[str, Any], route: ApiRoute) -> dict[str, Any] | None:
        if not any(name.lower() == "authorization" for name in event["headers"]):
            return _gateway_answer(401, "Unauthorized")
        method_arn = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:{API_ID}/{STAGE}/{route.method}{event['path']}"
        request = {
            "type": "REQUEST",
            "methodArn": method_arn,
            **{key: event[key] for key in ("resource", "path", "httpMethod", "headers", "multiValueHeaders")},
            **{key: event[key] for key in ("queryStringParameters", "pathParameters", "requestContext")},
        }
        try:
            policy = load_handler(self.authorizer).lambda_handler(request, LambdaContext())
        except Exception as error:
            if str(error) == "Unauthorized":
                return _gateway_answer(401, "Unauthorized")
            return _gateway_answer(500, "AuthorizerConfigurationException")
        effects = {statement["Effect"] for statement in policy["policyDocument"]["Statement"]}
        if effects != {"Allow"}:
            return _gateway_answer(
                403, "User is not authorized to access this resource with an explicit deny"
            )
        event["requestContext"]["authorizer"] = {
            **(policy.get("context") or {}),
            "principalId": policy["principalId"],
        }
        return None

    @staticmethod
    def event(
        environ: dict[str, Any], route: ApiRoute, path: str, parameters: dict[str, str]
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers[key[5:].replace("_", "-").title()] = value
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").title()] = environ[key]
        pairs = urllib.parse.parse_qsl(environ.get("QUERY_STRING") or "", keep_blank_values=True)
        multi_query: dict[str, list[str]] = {}
        for name, value in pairs:
            multi_query.setdefault(name, []).append(value)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            body: str | None = raw.decode("utf-8") if raw else None
            encoded = False
        except UnicodeDecodeError:
            body, encoded = base64.b64encode(raw).decode(), True
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": route.method,
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": route.method,
                "path": f"/{STAGE}{path}",
                "stage": STAGE,
                "requestId": "req-1",
                "identity": {"sourceIp": "127.0.0.1"},
            },
            "body": body,
            "isBase64Encoded": encoded,
        }
