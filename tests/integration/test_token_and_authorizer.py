"""TokenFunction and AuthorizerFunction through their HTTP API events."""

from __future__ import annotations

import json
import re
import time

import pytest

from local.wsgi import api_routes
from smsgw.accounts import service
from tests.conftest import LambdaContext, api_event, load_handler, response_header

TOKEN_PATH = "/oauth/client_credential/accesstoken"
ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef123/$default/POST/communication/nexmo/sms/send"


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
    """The HTTP API's REQUEST authorizer event (payload 2.0): header names lower-cased."""
    authorizer = load_handler("authorizer")
    event = {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": ARN,
        "routeKey": "POST /communication/nexmo/sms/send",
        "headers": {"authorization": header} if header is not None else {},
    }
    return authorizer.lambda_handler(event, LambdaContext())


def test_authorizer_hands_the_account_and_expiry_to_the_routes(aws, account):
    response = _token_request({"client_id": account.client_id, "client_secret": account.client_secret})
    token = json.loads(response["body"])["access_token"]
    answer = _authorize(f"Bearer {token}")
    assert answer["isAuthorized"] is True
    assert answer["context"] == {
        "account_id": account.account_id,
        "expires_at": answer["context"]["expires_at"],
    }
    assert int(answer["context"]["expires_at"]) > time.time() + 3500


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing Authorization header; send 'Authorization: Bearer <access_token>'"),
        ("Bearer", "malformed Authorization header; expected 'Bearer <access_token>'"),
        ("Basic Zm9vOmJhcg==", "malformed Authorization header; expected 'Bearer <access_token>'"),
        ("Bearer not-a-token", "unknown access token; get one from /oauth/client_credential/accesstoken"),
    ],
)
def test_authorizer_passes_a_refused_token_on_with_only_its_reason(aws, account, header, reason):
    """No account in the context, only why: the route answers 401 with it (tests/unit/test_auth_answers.py).
    An HTTP API's own refusal (isAuthorized false) would be a bare 403 that does not say why."""
    answer = _authorize(header)
    assert answer == {"isAuthorized": True, "context": {"reason": reason}}


def test_authorizer_refuses_an_expired_token(aws, account, monkeypatch):
    response = _token_request({"client_id": account.client_id, "client_secret": account.client_secret})
    token = json.loads(response["body"])["access_token"]
    assert "account_id" in _authorize(f"Bearer {token}")["context"]
    later = time.time() + 3600
    monkeypatch.setattr(service, "_seconds", lambda: later)
    assert _authorize(f"Bearer {token}")["context"] == {
        "reason": "access token expired; get a new one from /oauth/client_credential/accesstoken"
    }


def _guarded_routes() -> list[tuple[str, str, str]]:
    """(method, path, function folder) of every route behind the bearer authorizer in template.yaml."""
    return sorted(
        (route.method, re.sub(r"\{\w+\}", "01KBX0000000000000000000AB", route.path), route.function)
        for route in api_routes()
        if route.authorized
    )


@pytest.mark.parametrize(("method", "path", "folder"), _guarded_routes())
def test_every_guarded_route_answers_a_refused_token_401_with_its_reason(aws, account, method, path, folder):
    """The authorizer lets a refused token through (an HTTP API would answer its refusal with a bare 403):
    each route must refuse it before doing anything, with the reason and `WWW-Authenticate`."""
    reason = "access token expired; get a new one from /oauth/client_credential/accesstoken"
    before = aws.table.scan()["Items"]
    event = api_event(
        method, path, refused=reason, json_body={"to": "31612345678"} if method != "GET" else None
    )
    response = load_handler(folder).lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 401, response
    assert response_header(response, "WWW-Authenticate") == 'Bearer realm="smsgw", error="invalid_token"'
    assert reason in response["body"]
    assert aws.table.scan()["Items"] == before


def test_a_guarded_route_without_any_authorizer_context_is_401(aws, account):
    response = load_handler("messages").lambda_handler(api_event("GET", "/messages"), LambdaContext())
    assert response["statusCode"] == 401
    assert response_header(response, "WWW-Authenticate") == 'Bearer realm="smsgw"'
