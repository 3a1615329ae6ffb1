"""401s that say what is wrong: the authorizer passes a refused token on with its reason, the template
puts that authorizer in front of every bearer-token route and no other (the routes' own answer is in
tests/integration/test_token_and_authorizer.py)."""

from __future__ import annotations

import pytest

from smsgw.edges.authorizer import authorize
from tests.conftest import template

# Routes that authenticate in the function itself, or need no caller at all.
PUBLIC_ROUTES = {
    "POST /oauth/client_credential/accesstoken",  # client credentials in the request
    "POST /sms/json",  # Vonage's api_key and api_secret (or signature) in the request
    "POST /carrier/dlr",  # the carrier's webhook secret or token (docs/security.md)
    "GET /carrier/dlr",
    "POST /carrier/{connector}/dlr",
    "GET /carrier/{connector}/dlr",
    "POST /carrier/inbound",
    "GET /carrier/inbound",
    "POST /carrier/{connector}/inbound",
    "GET /carrier/{connector}/inbound",
    "ANY /",  # the docs, and 404/405 for everything no other route matches
    "ANY /{proxy+}",
}


def routes() -> dict[str, dict]:
    return {
        res["Properties"]["RouteKey"]: res["Properties"]
        for res in template()["Resources"].values()
        if res["Type"] == "AWS::ApiGatewayV2::Route"
    }


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing Authorization header; send 'Authorization: Bearer <access_token>'"),
        ("", "missing Authorization header; send 'Authorization: Bearer <access_token>'"),
        ("Basic Zm9vOmJhcg==", "malformed Authorization header; expected 'Bearer <access_token>'"),
        ("Bearer", "malformed Authorization header; expected 'Bearer <access_token>'"),
        ("Bearer two words", "malformed Authorization header; expected 'Bearer <access_token>'"),
    ],
)
def test_a_bad_header_goes_on_with_its_reason_and_no_account(header, reason):
    """No database needed: the header is refused before any token is looked up."""
    event = {
        "version": "2.0",
        "type": "REQUEST",
        "headers": {} if header is None else {"authorization": header},
    }
    assert authorize(event) == {"isAuthorized": True, "context": {"reason": reason}}


def test_every_route_but_the_public_ones_goes_through_the_bearer_authorizer():
    found = routes()
    assert set(found) >= PUBLIC_ROUTES
    for key, route in found.items():
        if key in PUBLIC_ROUTES:
            assert "AuthorizerId" not in route, key
            assert route.get("AuthorizationType", "NONE") == "NONE", key
        else:
            assert route["AuthorizationType"] == "CUSTOM", key
            assert route["AuthorizerId"] == "BearerAuthorizer", key  # !Ref (tags read as their value)


def test_the_authorizer_is_cached_per_token_and_answers_simply():
    """The identity source makes API Gateway answer a request without the header itself (401) and key its
    cache on the token; simple responses (`isAuthorized` + context) with payload 2.0."""
    authorizer = template()["Resources"]["BearerAuthorizer"]["Properties"]
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert authorizer["AuthorizerResultTtlInSeconds"] == 300
    assert authorizer["AuthorizerPayloadFormatVersion"] == "2.0"
    assert authorizer["EnableSimpleResponses"] is True
    assert "${AuthorizerFunction.Arn}" in authorizer["AuthorizerUri"]
