"""ApiFunction: the generated OpenAPI, Swagger UI, the root redirect, and 404/405 for everything unmatched."""

from __future__ import annotations

import json
from urllib.parse import urljoin

import pytest

from tests.conftest import LambdaContext, api_event, load_handler, response_header


def call(method: str, path: str) -> dict:
    return load_handler("api").lambda_handler(api_event(method, path), LambdaContext())


def test_openapi_is_generated_from_the_routes(aws):
    response = call("GET", "/openapi.json")
    assert response["statusCode"] == 200
    spec = json.loads(response["body"])
    assert spec["openapi"].startswith("3.")
    send = spec["paths"]["/communication/nexmo/sms/send"]["post"]
    assert {"200", "400", "401", "403", "409", "429", "503"} <= set(send["responses"])
    token = spec["paths"]["/oauth/client_credential/accesstoken"]["post"]
    assert {"200", "400", "401"} <= set(token["responses"])
    body_schema = json.dumps(send["requestBody"])
    assert "status-report-req" in json.dumps(spec["components"]) or "status-report-req" in body_schema
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_swagger_ui_is_served(aws):
    response = call("GET", "/docs")
    assert response["statusCode"] == 200
    assert "text/html" in response_header(response, "Content-Type")
    assert "SwaggerUIBundle" in response["body"]


@pytest.mark.parametrize(
    ("url", "event_path", "host", "local"),
    [
        # AWS: requestContext.path is the path the client used, stage included.
        (
            "https://abc123.execute-api.eu-west-1.amazonaws.com/v1",
            "/v1",
            "abc123.execute-api.eu-west-1.amazonaws.com",
            False,
        ),
        (
            "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/",
            "/v1/",
            "abc123.execute-api.eu-west-1.amazonaws.com",
            False,
        ),
        # The local emulator, path-style: the path it reports is /<stage>/ with or without the slash.
        ("http://127.0.0.1:4566/_aws/execute-api/abc123/local", "/local/", "127.0.0.1:4566", True),
        ("http://127.0.0.1:4566/_aws/execute-api/abc123/local/", "/local/", "127.0.0.1:4566", True),
        # ... and host-style.
        (
            "http://abc123.execute-api.localhost:4566/local",
            "/local/",
            "abc123.execute-api.localhost:4566",
            True,
        ),
    ],
)
def test_root_redirects_to_the_docs_under_the_stage(aws, monkeypatch, url, event_path, host, local):
    """`GET $API` with or without a trailing slash lands on `$API/docs` (issue 13: it ended in a 403)."""
    monkeypatch.setenv("LOCAL_EMULATOR", "true" if local else "false")
    event = api_event("GET", "/")
    event["requestContext"].update(path=event_path, apiId="abc123")
    event["headers"]["Host"] = host
    response = load_handler("api").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 302
    assert urljoin(url, response_header(response, "Location")) == url.rstrip("/") + "/docs"


@pytest.mark.parametrize("path", ["/nope", "/communication/nexmo/sms/sendx", "/sms"])
def test_unknown_paths_are_404(aws, path):
    response = call("GET", path)
    assert response["statusCode"] == 404
    assert "no route" in json.loads(response["body"])["error"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/communication/nexmo/sms/send", "POST"),
        ("DELETE", "/communication/nexmo/sms/send", "POST"),
        ("GET", "/oauth/client_credential/accesstoken", "POST"),
        ("POST", "/openapi.json", None),
    ],
)
def test_wrong_methods_are_405_with_allow(aws, method, path, allow):
    response = call(method, path)
    if allow is None:  # not a documented route: it does not exist for other methods either
        assert response["statusCode"] == 404
        return
    assert response["statusCode"] == 405
    assert response_header(response, "Allow") == allow
    assert method in json.loads(response["body"])["error"]


def test_every_route_in_the_template_is_in_the_openapi(aws):
    """The docs app includes every router: each API event in template.yaml that a function serves
    (not ApiFunction's catch-alls) is documented with that method."""
    from tests.conftest import template

    spec = json.loads(call("GET", "/openapi.json")["body"])
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    served = set()
    for name, resource in template()["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function" or name == "ApiFunction":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "Api":
                served.add((event["Properties"]["Path"], event["Properties"]["Method"].lower()))
    assert served - documented == set()
