"""TokenFunction and AuthorizerFunction through their API Gateway events."""

from __future__ import annotations

import json
import time

import pytest

from smsgw.accounts import service
from tests.conftest import LambdaContext, api_event, load_handler

TOKEN_PATH = "/oauth/client_credential/accesstoken"
ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef123/v1/POST/communication/nexmo/sms/send"


def _token_request(form: dict[str, str], grant: str | None = "client_credentials") -> dict:
    token = load_handler("token")
    event = api_event("POST", TOKEN_PATH, form=form, query={"grant_type": grant} if grant else None)
    return token.lambda_handler(event, LambdaContext())


def test_token_endpoint_answers_like_kpn(aws, account):
    response = _token_request({"client_id": account.client_id, "client_secret": account.client_secret})
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == "3599"
    assert all(isinstance(value, str) for value in body.values())
    assert len(body["access_token"]) >= 32


@pytest.mark.parametrize(
    ("form", "grant", "status", "field"),
    [
        ({"client_id": "x"}, "client_credentials", 400, "client_secret"),
        ({"client_secret": "x"}, "client_credentials", 400, "client_id"),
        ({"client_id": "x", "client_secret": "y"}, None, 400, "grant_type"),
        ({"client_id": "x", "client_secret": "y"}, "client_credentials", 401, None),
    ],
)
def test_token_endpoint_errors_name_the_field(aws, account, form, grant, status, field):
    response = _token_request(form, grant)
    assert response["statusCode"] == status
    body = json.loads(response["body"])
    assert body.get("field") == field
    assert body["error"]
    assert aws.items("TOKEN#") == []


def _authorize(header: str | None) -> dict:
    authorizer = load_handler("authorizer")
    event = {
        "type": "REQUEST",
        "methodArn": ARN,
        "headers": {"authorization": header} if header is not None else {},
    }
    return authorizer.lambda_handler(event, LambdaContext())


def test_authorizer_allows_a_valid_token_for_the_whole_api(aws, account):
    response = _token_request({"client_id": account.client_id, "client_secret": account.client_secret})
    token = json.loads(response["body"])["access_token"]
    policy = _authorize(f"Bearer {token}")
    statement = policy["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "arn:aws:execute-api:eu-west-1:123456789012:abcdef123/v1/*/*"
    assert policy["context"] == {
        "account_id": account.account_id,
        "expires_at": policy["context"]["expires_at"],
    }


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing Authorization header; send 'Authorization: Bearer <access_token>'"),
        ("Bearer", "malformed Authorization header; expected 'Bearer <access_token>'"),
        ("Basic Zm9vOmJhcg==", "malformed Authorization header; expected 'Bearer <access_token>'"),
        ("Bearer not-a-token", "unknown access token; get one from /oauth/client_credential/accesstoken"),
    ],
)
def test_authorizer_denies_with_the_reason(aws, account, header, reason):
    """A Deny with the reason in its context: the template's ACCESS_DENIED gateway response makes it a 401
    that says it (tests/unit/test_auth_answers.py). Raising "Unauthorized" would lose the reason."""
    policy = _authorize(header)
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert policy["context"] == {"reason": reason}


def test_authorizer_denies_an_expired_token(aws, account, monkeypatch):
    response = _token_request({"client_id": account.client_id, "client_secret": account.client_secret})
    token = json.loads(response["body"])["access_token"]
    assert _authorize(f"Bearer {token}")["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    later = time.time() + 3600
    monkeypatch.setattr(service, "_seconds", lambda: later)
    policy = _authorize(f"Bearer {token}")
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert policy["context"] == {
        "reason": "access token expired; get a new one from /oauth/client_credential/accesstoken"
    }
