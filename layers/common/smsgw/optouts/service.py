"""Opt-outs and reply routes: the send path checks them, the inbound domain records them (STOP, START)."""

from __future__ import annotations

import time
from typing import Any

from smsgw.config import get_settings
from smsgw.optouts import repository


def is_opted_out(sender: str, recipient: str) -> bool:
    """Did `recipient` reply STOP to messages from `sender`?"""
    return repository.is_opted_out(sender.lstrip("+"), recipient)


def record_conversation(recipient: str, number: str, account_id: str, callback_url: str) -> None:
    """`inbound: yes`: the recipient's replies to `number` go to `callback_url` for a while."""
    expires = int(time.time()) + get_settings().conversation_days * 86_400
    repository.put_conversation(recipient, number, account_id, callback_url, expires)


def opt_out(number: str, msisdn: str, at: str) -> None:
    """`msisdn` replied STOP to `number`: nothing more is sent from it to them until START."""
    repository.set_opt_out(number, msisdn, at)


def opt_in(number: str, msisdn: str) -> None:
    repository.clear_opt_out(number, msisdn)


def conversation(msisdn: str, number: str) -> dict[str, Any] | None:
    """Where replies from `msisdn` to `number` go, when a send with `inbound: yes` asked for them."""
    return repository.get_conversation(msisdn, number)
