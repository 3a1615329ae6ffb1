"""Accounts, tokens and rate limits as the operator and the API see them (moto)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from smsgw.accounts import repository, service
from smsgw.core.errors import BadRequest, Forbidden, NotFound, RateLimited, Unauthorized
from smsgw.core.memo import forget_all


def test_create_account_stores_only_hashes_of_secrets(aws, account):
    items = aws.items("ACCOUNT#")
    assert len(items) == 1
    stored = str(items[0])
    assert account.client_secret not in stored
    assert account.api_secret not in stored
    assert items[0]["balance"] == Decimal("10")
    assert len(account.api_key) == 8
    assert repository.account_id_for_client(account.client_id) == account.account_id
    assert repository.account_id_for_api_key(account.api_key) == account.account_id


@pytest.mark.parametrize(
    ("name", "balance", "field"),
    [("", "1", "name"), ("x", "ten", "balance"), ("x", "-1", "balance"), ("x", "NaN", "balance")],
)
def test_create_account_rejects_bad_input_and_stores_nothing(aws, name, balance, field):
    with pytest.raises(BadRequest) as error:
        service.create_account(name, balance=balance)
    assert error.value.field == field
    assert aws.items("") == []


def test_token_round_trip_and_expiry(aws, account, monkeypatch):
    token = service.issue_token(account.client_id, account.client_secret, "client_credentials")
    assert token.token_type == "Bearer"
    assert token.expires_in == "3599"
    assert token.issued_at.isdigit()
    principal = service.authenticate(f"Bearer {token.access_token}")
    assert principal.account_id == account.account_id
    assert service.active_account(principal).account_id == account.account_id
    # An hour later the token is refused, even from the warm cache.
    later = time.time() + 3601
    monkeypatch.setattr(service.time, "time", lambda: later)
    with pytest.raises(Unauthorized, match="expired"):
        service.authenticate(f"Bearer {token.access_token}")


@pytest.mark.parametrize(
    ("client_id", "secret", "grant", "error"),
    [
        ("known", "wrong", "client_credentials", Unauthorized),
        ("unknown", "x", "client_credentials", Unauthorized),
        ("known", None, "client_credentials", BadRequest),
        (None, "x", "client_credentials", BadRequest),
        ("known", "x", "password", BadRequest),
        ("known", "x", None, BadRequest),
    ],
)
def test_token_refused(aws, account, client_id, secret, grant, error):
    client_id = account.client_id if client_id == "known" else client_id
    with pytest.raises(error):
        service.issue_token(client_id, secret, grant)
    assert aws.items("TOKEN#") == []


def test_disabled_account_gets_no_token_and_is_forbidden(aws, account):
    token = service.issue_token(account.client_id, account.client_secret, "client_credentials")
    service.set_disabled(account.account_id, True)
    forget_all()
    with pytest.raises(Unauthorized, match="disabled"):
        service.issue_token(account.client_id, account.client_secret, "client_credentials")
    principal = service.authenticate(f"Bearer {token.access_token}")
    with pytest.raises(Forbidden, match="disabled"):
        service.active_account(principal)


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Basic abc", "Bearer a b", "Token xyz", "Bearer unknown"]
)
def test_bad_authorization_headers_are_unauthorized(aws, header):
    with pytest.raises(Unauthorized):
        service.authenticate(header)


def test_authenticate_is_cached_per_container(aws, account, monkeypatch):
    token = service.issue_token(account.client_id, account.client_secret, "client_credentials").access_token
    service.authenticate(f"Bearer {token}")
    calls = []
    monkeypatch.setattr(repository, "get_token", lambda h: calls.append(h))
    for _ in range(5):
        assert service.authenticate(f"Bearer {token}").account_id == account.account_id
    assert calls == []


def test_rate_limit_counts_per_second(aws, account):
    stored = service.cached_account(account.account_id)
    now = 1_800_000_000.2
    for _ in range(stored.rate_limit_per_second):
        service.enforce_rate_limit(stored, now)
    with pytest.raises(RateLimited) as error:
        service.enforce_rate_limit(stored, now + 0.5)
    assert error.value.retry_after == 1
    service.enforce_rate_limit(stored, now + 1)  # a new second, a new window


def test_topup_and_unknown_accounts(aws, account):
    assert service.top_up(account.account_id, "2.5") == Decimal("12.5")
    with pytest.raises(NotFound):
        service.top_up("nope", "1")
    with pytest.raises(BadRequest):
        service.top_up(account.account_id, "0")
    with pytest.raises(NotFound):
        service.set_disabled("nope", True)
    listed = service.list_accounts()
    assert [a.name for a in listed] == ["acme"]
    assert listed[0].balance == "12.50000000"


def test_new_accounts_get_signing_secrets(aws):
    created = service.create_account("signer", signature_method="sha256")
    assert created.webhook_secret.startswith("whsec_")
    assert len(created.signature_secret) == 32
    stored = repository.get_account(created.account_id)
    assert stored is not None
    assert (stored.signature_method, stored.webhook_secret) == ("sha256", created.webhook_secret)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"signature_method": "rot13"}, "signature_method"),
        ({"status_url": "http://example.com/status"}, "status_url"),
        ({"status_url": "https://169.254.169.254/latest"}, "status_url"),
    ],
)
def test_bad_signing_settings_are_refused(aws, kwargs, field):
    with pytest.raises(BadRequest) as error:
        service.create_account("x", **kwargs)
    assert error.value.field == field
    assert aws.items("ACCOUNT#") == []
