"""ApiFunction: the generated OpenAPI, Swagger UI, the root redirect, and 404/405 for everything unmatched."""

from __future__ import annotations

import json
import re
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


def test_the_served_document_is_what_the_routes_generate():
    """ApiFunction serves the committed smsgw/edges/openapi.json: a changed route needs `make openapi`."""
    from smsgw.edges.app import DOCUMENT_PATH, openapi_document

    committed = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    assert committed == openapi_document(), f"{DOCUMENT_PATH.name} is stale: run `make openapi`"


def test_swagger_ui_is_served(aws):
    response = call("GET", "/docs")
    assert response["statusCode"] == 200
    assert "text/html" in response_header(response, "Content-Type")
    assert "SwaggerUIBundle" in response["body"]


AWS_HOST = "abc123.execute-api.eu-west-1.amazonaws.com"


def on_stage(event: dict, stage: str, host: str) -> dict:
    """The event as the stage `stage` at `host` delivers it (a named stage's path starts with it)."""
    event["requestContext"].update(stage=stage, apiId="abc123")
    if stage != "$default":
        event["rawPath"] = f"/{stage}{event['rawPath']}"
        event["requestContext"]["http"]["path"] = event["rawPath"]
    event["headers"]["host"] = host
    return event


@pytest.mark.parametrize(
    ("url", "stage", "host"),
    [
        # AWS, the template's `$default` stage: no stage in the URL.
        (f"https://{AWS_HOST}", "$default", AWS_HOST),
        (f"https://{AWS_HOST}/", "$default", AWS_HOST),
        # A named stage (another template): its name leads the path.
        (f"https://{AWS_HOST}/v1", "v1", AWS_HOST),
        (f"https://{AWS_HOST}/v1/", "v1", AWS_HOST),
        # The local emulator, path-style: it leaves its prefix out of the event.
        ("http://127.0.0.1:4566/_aws/execute-api/abc123/$default", "$default", "127.0.0.1:4566"),
        ("http://127.0.0.1:4566/_aws/execute-api/abc123/$default/", "$default", "127.0.0.1:4566"),
    ],
)
def test_root_redirects_to_the_docs_under_the_url_used(aws, url, stage, host):
    """`GET $API` with or without a trailing slash lands on `$API/docs` (issue 13: it ended in a 403)."""
    event = on_stage(api_event("GET", "/"), stage, host)
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
    """The docs app includes every router: each route of template.yaml's HTTP API that a function serves
    (not ApiFunction's catch-alls) is documented with that method."""
    from tests.conftest import template

    spec = json.loads(call("GET", "/openapi.json")["body"])
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    served = set()
    for resource in template()["Resources"].values():
        if (
            resource["Type"] == "AWS::ApiGatewayV2::Route"
            and "DocsIntegration" not in resource["Properties"]["Target"]
        ):
            method, path = resource["Properties"]["RouteKey"].split(" ", 1)
            served.add((path, method.lower()))
    assert len(served) >= 25
    assert served - documented == set()


def served_spec(stage: str = "$default", host: str = AWS_HOST) -> dict:
    event = on_stage(api_event("GET", "/openapi.json"), stage, host)
    response = load_handler("api").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200
    return json.loads(response["body"])


@pytest.mark.parametrize(
    ("stage", "host", "server"),
    [
        ("$default", AWS_HOST, "/"),
        ("v1", AWS_HOST, "/v1"),
        ("$default", "127.0.0.1:4566", "/_aws/execute-api/abc123/$default"),
        ("$default", "sms.example.com", "/"),  # a custom domain without a base path
    ],
)
def test_servers_is_where_the_document_was_fetched(aws, stage, host, server):
    """Swagger's "Try it out" and schemathesis call `servers` + path: the API's base, not the emulator's `/`."""
    assert served_spec(stage, host)["servers"] == [{"url": server}]


def test_swagger_ui_uses_the_base_path_too(aws):
    event = on_stage(api_event("GET", "/docs"), "$default", "127.0.0.1:4566")
    body = load_handler("api").lambda_handler(event, LambdaContext())["body"]
    assert '"url": "/_aws/execute-api/abc123/$default"' in body


def test_swagger_ui_offers_the_document_as_json(aws):
    event = on_stage(api_event("GET", "/docs", query={"format": "json"}), "v1", AWS_HOST)
    response = load_handler("api").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["servers"] == [{"url": "/v1"}]


def test_no_description_closes_the_script_it_is_inlined_in():
    from smsgw.edges.docs import swagger_html

    body = swagger_html({"info": {"description": "</script><script>alert(1)</script>"}})
    inlined = body[body.rindex("spec: ") : body.rindex("presets:")]
    assert "</" not in inlined
    assert "alert(1)" in inlined


def test_each_operation_names_the_authentication_it_uses(aws):
    spec = served_spec()
    assert "security" not in spec  # no global bearer: each operation says its own
    security = {
        (path, method): op["security"] for path, item in spec["paths"].items() for method, op in item.items()
    }
    assert security[("/oauth/client_credential/accesstoken", "post")] == []
    assert {"vonageBasic": []} in security[("/sms/json", "post")]
    for path in (
        "/carrier/dlr",
        "/carrier/inbound",
        "/carrier/{connector}/dlr",
        "/carrier/{connector}/inbound",
    ):
        assert (
            security[(path, "post")]
            == security[(path, "get")]
            == [{"carrierToken": []}, {"carrierSignature": []}]
        )
    bearer = {key for key, value in security.items() if value == [{"bearer": []}]}
    assert ("/communication/nexmo/sms/send", "post") in bearer
    assert ("/messages", "get") in bearer
    assert len(bearer) == len(security) - 10  # the token route, /sms/json, 8 carrier webhooks
    assert {"carrierToken", "carrierSignature", "vonageBasic", "bearer"} <= set(
        spec["components"]["securitySchemes"]
    )


def test_every_error_answer_has_its_body_and_none_is_a_422(aws):
    spec = json.loads(json.dumps(served_spec()))
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert "422" not in operation["responses"], (path, method)
            for status, answer in operation["responses"].items():
                schema = answer["content"]["application/json"]["schema"]
                assert schema, (path, method, status)
                if int(status) >= 400:
                    # not the success model Powertools gives a response declared without content
                    assert not re.search(r"View|Page|Ack", json.dumps(schema)), (path, method, status)
    messages = spec["paths"]["/messages"]["get"]["responses"]
    assert {"$ref": "#/components/schemas/GatewayError"} in messages["401"]["content"]["application/json"][
        "schema"
    ]["anyOf"]
    assert messages["429"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }


def test_form_bodies_are_described_where_accepted_and_sms_json_documents_202(aws):
    paths = served_spec()["paths"]
    for path in ("/communication/nexmo/sms/send", "/sms/json", "/oauth/client_credential/accesstoken"):
        assert "application/x-www-form-urlencoded" in paths[path]["post"]["requestBody"]["content"], path
    for path in (
        "/carrier/dlr",
        "/carrier/inbound",
        "/carrier/{connector}/dlr",
        "/carrier/{connector}/inbound",
    ):
        assert "application/x-www-form-urlencoded" in paths[path]["post"]["requestBody"]["content"], path
    assert {"200", "202"} <= set(paths["/sms/json"]["post"]["responses"])
