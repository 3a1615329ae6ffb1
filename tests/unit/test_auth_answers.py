"""401s that say what is wrong: the authorizer's decision and reason, and the template's gateway responses
that turn it into the answer (API Gateway renders those; the local emulator only in part, see
docs/local-stack.md)."""

from __future__ import annotations

import json

import pytest

from local import template as local_template
from smsgw.edges.authorizer import authorize, template_safe
from tests.conftest import ROOT, template

ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef123/v1/GET/messages"


def render(body: str, reason: str | None = None) -> dict:
    """What API Gateway sends: the template with its $context variables filled in (unescaped, as AWS does)."""
    body = body.replace("$context.error.messageString", '"Unauthorized"')
    if reason is not None:
        body = body.replace("$context.authorizer.reason", reason)
    return json.loads(body)


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
def test_a_bad_header_is_denied_with_its_reason(header, reason):
    """No database needed: the header is refused before any token is looked up."""
    event = {
        "type": "REQUEST",
        "methodArn": ARN,
        "headers": {} if header is None else {"Authorization": header},
    }
    policy = authorize(event)
    assert policy["principalId"] == "anonymous"
    [statement] = policy["policyDocument"]["Statement"]
    assert statement == {
        "Action": "execute-api:Invoke",
        "Effect": "Deny",
        "Resource": "arn:aws:execute-api:eu-west-1:123456789012:abcdef123/v1/*/*",
    }
    assert policy["context"] == {"reason": reason}


@pytest.mark.parametrize(
    ("reason", "safe"),
    [
        ('a "quoted" word', "a 'quoted' word"),
        ("back\\slash", "back/slash"),
        ("two\nlines\tand a tab", "two lines and a tab"),
    ],
)
def test_reasons_are_safe_inside_the_json_template(reason, safe):
    assert template_safe(reason) == safe
    body = local_template.gateway_response_call(gateway_responses()["ACCESS_DENIED"])["responseTemplates"]
    assert render(body["application/json"], template_safe(reason))["error"] == safe


def gateway_responses() -> dict:
    return template()["Resources"]["Api"]["Properties"]["GatewayResponses"]


def test_the_template_answers_401_with_www_authenticate_and_the_reason():
    responses = gateway_responses()
    # No Authorization header: API Gateway answers without calling the authorizer (UNAUTHORIZED).
    missing = responses["UNAUTHORIZED"]
    assert missing["StatusCode"] == "401"
    assert missing["ResponseParameters"]["Headers"]["WWW-Authenticate"] == "'Bearer realm=\"smsgw\"'"
    assert render(missing["ResponseTemplates"]["application/json"]) == {
        "status": 401,
        "error": "missing Authorization header; send 'Authorization: Bearer <access_token>' with a token "
        "from /oauth/client_credential/accesstoken",
        "message": "Unauthorized",
    }
    # The authorizer's Deny (ACCESS_DENIED, a 403 by default) becomes a 401 carrying its reason.
    denied = responses["ACCESS_DENIED"]
    assert denied["StatusCode"] == "401"
    assert (
        denied["ResponseParameters"]["Headers"]["WWW-Authenticate"]
        == '\'Bearer realm="smsgw", error="invalid_token"\''
    )
    reason = "access token expired; get a new one from /oauth/client_credential/accesstoken"
    assert render(denied["ResponseTemplates"]["application/json"], reason) == {
        "status": 401,
        "error": reason,
        "message": "Unauthorized",
    }


def test_the_local_stack_puts_them_with_a_fixed_text_for_the_authorizer_context():
    """ministack skips SAM's GatewayResponses and renders no $context.authorizer.*: local/ puts them
    through the API with that variable replaced (docs/local-stack.md)."""
    localized, changed = local_template.localize_gateway_responses(
        local_template.load_template(ROOT / "template.yaml")
    )
    assert changed == ["Api.ACCESS_DENIED"]
    call = local_template.gateway_response_call(
        localized["Resources"]["Api"]["Properties"]["GatewayResponses"]["ACCESS_DENIED"]
    )
    assert call["statusCode"] == "401"
    assert call["responseParameters"] == {
        "gatewayresponse.header.WWW-Authenticate": '\'Bearer realm="smsgw", error="invalid_token"\''
    }
    assert (
        render(call["responseTemplates"]["application/json"])["error"]
        == local_template.AUTHORIZER_CONTEXT_LOCALLY
    )
