"""schemathesis over the served OpenAPI document (`GET /openapi.json`), every route, with all its
checks: no server error, every status, content type, header and body as the document describes it,
authentication enforced where the document says so, and nothing accepted that it says is invalid.

In-process: each request goes through local.wsgi (routed by template.yaml, authorized by
AuthorizerFunction) to the real handlers under moto, as the HTTP API's `$default` stage serves them (no
stage in the path; the document's `servers` must say so). A valid token goes only to the operations whose `security` names the bearer scheme. Bounded: a few examples per
route, no example database, so it takes well under a minute inside `make test`."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from local.wsgi import ApiGatewayApp
from tests.conftest import LambdaContext, api_event, load_handler

EXAMPLES_PER_ROUTE = 25

# What a schema cannot say, so a schema-valid request may still be refused with a 400 naming the field:
# a phone number that is not one (E.164 plus the numbering plan), a country code that is no country, an
# opaque cursor the API never gave, a cron expression, a sender the account may not use. Everything else
# schemathesis checks as it is (positive data accepted, negative data refused, statuses, bodies, auth).
POSITIVE_DATA_STATUSES = ["2XX", "3XX", "400", "401", "403", "404", "409", "412", "429", "5XX"]
# Vonage's /sms/json answers every refusal HTTP 200 with the Vonage status in the body (its SDKs read it).
VONAGE_REFUSAL_STATUSES = ["200", "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "429"]


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
    config = SchemathesisConfig.from_dict(
        {
            "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_DATA_STATUSES}},
            "operations": [
                {
                    "include-path": "/sms/json",
                    "checks": {"negative_data_rejection": {"expected-statuses": VONAGE_REFUSAL_STATUSES}},
                }
            ],
        }
    )
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
def test_every_route_answers_as_documented(case, api_token):
    security = case.operation.definition.raw.get("security") or []
    # A valid token replaces the one schemathesis made up — unless it left the header out on purpose
    # (negative data: "required header missing"), which must then be refused (401), not authorised.
    sent = {name.lower() for name in (case.headers or {})}
    wants_token = {"bearer": []} in security and "authorization" in sent
    headers = {"Authorization": f"Bearer {api_token}"} if wants_token else {}
    response = case.call(headers=headers)
    case.validate_response(response, headers=headers)
