"""Fixtures shared by the inbound tests (test_inbound, test_inbound_loss, test_auto_reply_cap, test_crash_points)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def env(aws: Any, carrier_env: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Signed carrier webhooks, callbacks to a local receiver allowed."""
    from smsgw.core.memo import forget_all

    monkeypatch.setenv("CALLBACK_ALLOW_HTTP_HOSTS", "127.0.0.1")
    forget_all()
    return aws


@pytest.fixture
def owner(env: Any) -> Any:
    from smsgw.accounts import service as accounts

    return accounts.create_account("owner", balance="5", senders=["ACME"])
