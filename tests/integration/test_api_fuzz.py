"""schemathesis over the served OpenAPI document (`GET /openapi.json`), every route, with a valid token:
no answer is a server error, and every status is one the document lists for its route.

In-process: each request goes through local.wsgi (routed by template.yaml, authorized by
AuthorizerFunction) to the real handlers under moto. Bounded: a few examples per route, no example
database, so it takes well under a minute inside `make test`."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import status_code_conformance

from local.wsgi import ApiGatewayApp
from tests.conftest import LambdaContext, api_event, load_handler

EXAMPLES_PER_ROUTE = 25


@pytest.fixture
def api_token(aws) -> str:
    from smsgw.accounts import service

    acme = service.create_account("acme", balance="100", senders=["ACME"], rate_limit_per_second=100_000)
    event = api_event(
        "POST",
        "/oauth/client_credential/accesstoken",
        form={"client_id": acme.client_id, "client_secret": acme.client_secret},
        query={"grant_type": "client_credentials"},
    )
    response = load_handler("token").lambda_handler(event, LambdaContext())
    token: str = json.loads(response["body"])["access_token"]
    return token


@pytest.fixture
def api_schema(aws, api_token) -> Any:
    config = SchemathesisConfig.from_dict({})
    config.projects.default.generation.update(max_examples=EXAMPLES_PER_ROUTE, database="none")
    loaded = schemathesis.openapi.from_wsgi("/openapi.json", ApiGatewayApp(), config=config)
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_route_answers_a_server_error(case, api_token):
    response = case.call(headers={"Authorization": f"Bearer {api_token}"})
    case.validate_response(response, checks=(not_a_server_error, status_code_conformance))
