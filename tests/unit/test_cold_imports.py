"""What a cold start imports: heavy modules stay off the functions that answer no request with them.

Measured in docs/benchmarks.md §3 (`-X importtime`): Powertools' OpenAPI models cost ~0.1 s and only
the schema (the docs, GET /openapi.json) needs them; phonenumbers ~50 ms, and the token and the
authorizer never parse a number. Each check imports the handler in a fresh interpreter, then
answers one request, and looks at sys.modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.events import api_event

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_MODELS = "aws_lambda_powertools.event_handler.openapi.models"

PROBE = """
import json, sys
import functions.{name}.app as app
from local.events import LambdaContext
event = json.loads(sys.argv[1])
status = app.lambda_handler(event, LambdaContext())["statusCode"] if event else None
print(json.dumps({{"status": status, "modules": sorted(sys.modules)}}))
"""


def _after(name: str, event: dict[str, object] | None = None) -> tuple[int | None, set[str]]:
    """(the answer's status code, the modules loaded) after importing the handler and answering `event`."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "common")]),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: no request leaves this machine
        "AWS_MAX_ATTEMPTS": "1",
        "TABLE_NAME": "smsgw",
        "SEND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/send",
        "POWERTOOLS_METRICS_NAMESPACE": "smsgw",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(name=name), json.dumps(event or {})],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    return found["status"], set(found["modules"])


@pytest.mark.parametrize("name", ["send", "sms_json", "token", "authorizer"])
def test_the_synchronous_path_does_not_load_the_openapi_models(name: str) -> None:
    assert OPENAPI_MODELS not in _after(name)[1]


def test_a_refused_token_request_does_not_load_the_openapi_models() -> None:
    event = api_event("POST", "/oauth/client_credential/accesstoken", form={}, query={"grant_type": "x"})
    status, modules = _after("token", event)
    assert status == 400  # the request went through the resolver and the error answer
    assert OPENAPI_MODELS not in modules


@pytest.mark.parametrize("name", ["token", "authorizer"])
def test_the_token_and_the_authorizer_do_not_load_phonenumbers(name: str) -> None:
    assert "phonenumbers" not in _after(name)[1]


@pytest.mark.parametrize("name", ["token", "authorizer", "send", "sms_json"])
def test_the_synchronous_path_starts_without_pydantic(name: str) -> None:
    # None validates a model: the authorizer reads a header, the token and send routes their bodies
    # (by hand; smsgw.messages.params checks a send's parameters).
    assert "pydantic" not in _after(name)[1]


def test_a_token_request_answered_in_full_loads_no_pydantic() -> None:
    # Through the form parser, the service's checks and the error answer: 400 naming the field.
    event = api_event(
        "POST",
        "/oauth/client_credential/accesstoken",
        form={"client_id": "someone"},
        query={"grant_type": "client_credentials"},
    )
    status, modules = _after("token", event)
    assert status == 400
    assert "pydantic" not in modules


@pytest.mark.parametrize(
    ("path", "status"), [("/openapi.json", 200), ("/docs", 200), ("/nope", 404), ("/messages/x", 405)]
)
def test_the_docs_function_serves_its_document_without_pydantic(path: str, status: int) -> None:
    # It reads the committed document (smsgw.edges.docs) instead of generating it from every router.
    method = "POST" if path == "/messages/x" else "GET"
    answered, modules = _after("api", api_event(method, path))
    assert answered == status
    assert "pydantic" not in modules
    assert not any(module.startswith("smsgw.edges.routes") for module in modules)


@pytest.mark.parametrize(
    ("name", "path", "status"),
    [
        ("messages", "/messages", 401),
        ("messages", "/inbound/x", 401),
        ("inbound", "/carrier/inbound", 401),
        ("schedules", "/schedules", 401),
        ("numbers", "/communication/nexmo/phone-numbers/account/numbers", 401),
    ],
)
def test_the_reading_schedules_and_inbound_functions_answer_without_pydantic(
    name: str, path: str, status: int
) -> None:
    # Their views are dataclasses (smsgw.core.views); a refused caller goes through the guard's answer.
    event = api_event(
        "POST" if name == "inbound" else "GET", path, form={"msisdn": "x"} if name == "inbound" else None
    )
    answered, modules = _after(name, event)
    assert answered == status
    assert "pydantic" not in modules


def test_the_receipt_function_answers_a_receipt_without_pydantic() -> None:
    # Its routes answer dicts and read their parameters themselves; deliveries are dataclasses.
    status, modules = _after("delivery_receipt", api_event("POST", "/carrier/dlr", form={"messageId": "x"}))
    assert status == 401  # through the route and the service's signature check
    assert "pydantic" not in modules


@pytest.mark.parametrize("name", ["messages", "schedules", "inbound", "delivery_receipt", "numbers"])
def test_the_routes_that_read_their_own_input_start_without_powertools_validation(name: str) -> None:
    # Parameters by smsgw.edges.params, bodies read by the routes: Powertools' validation
    # middleware and OpenAPI parameter machinery (~0.1 s) stay unloaded.
    modules = _after(name)[1]
    assert "aws_lambda_powertools.event_handler.middlewares.openapi_validation" not in modules
    assert OPENAPI_MODELS not in modules
