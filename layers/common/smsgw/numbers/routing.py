"""Who a number belongs to, for the send path and the inbound intake: `route_for`, the one sender
check (`sender_allowed`), and who receives SMS sent to a number or from a registered phone.

A number is one item (see `repository`): `registered` (a phone an account registered with
`/sms/register`: SMS *from* it reach the callback; the account may send *from* it) or `owned` (a
virtual number bought through the gateway: SMS *to* it reach its moHttpUrl; the account may send
from it). One msisdn belongs to at most one account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from smsgw.accounts.models import Account
from smsgw.numbers import repository

if (
    TYPE_CHECKING
):  # the carrier client (and `requests`) loads only when a route calls the carrier: see _carrier_for
    pass


# A number's kinds (NumberRoute.kind), for callers that state what they expect of one.
OWNED: Final = repository.OWNED
REGISTERED: Final = repository.REGISTERED


@dataclass(frozen=True)
class NumberRoute:
    """Who a number belongs to: `kind` registered | owned; `callback_url` where its SMS go (None: nowhere yet)."""

    msisdn: str
    account_id: str
    kind: str
    callback_url: str | None


def _digits(value: str | None) -> str | None:
    """An msisdn as stored (E.164 digits), or None when `value` cannot be one."""
    text = (value or "").strip().removeprefix("+")
    return text if text.isascii() and text.isdigit() and 7 <= len(text) <= 15 else None


# --- for the inbound intake and the send path ---------------------------------------------------------------


def route_for(msisdn: str) -> NumberRoute | None:
    """Who registered or owns `msisdn` ('+' and surrounding spaces ignored), and its callback. One GetItem."""
    number = _digits(msisdn)
    item = repository.get_number(number) if number else None
    if item is None:
        return None
    return NumberRoute(
        msisdn=str(item["msisdn"]),
        account_id=str(item["account_id"]),
        kind=str(item["kind"]),
        callback_url=str(item["callback_url"]) if item.get("callback_url") else None,
    )


def holds_number(account_id: str, number: str) -> bool:
    """True when `number` is one `account_id` registered or owns (an alphanumeric sender never is)."""
    route = route_for(number)
    return route is not None and route.account_id == account_id


def owner_of_destination(to: str) -> NumberRoute | None:
    """Who receives SMS sent *to* this number: only an account that owns it (bought through the gateway).
    A registered phone is someone's handset: it never takes SMS addressed to it (issue 11, 1)."""
    route = route_for(to)
    return route if route is not None and route.kind == repository.OWNED else None


def registered_sender(msisdn: str) -> NumberRoute | None:
    """The account that proved it holds this phone (`/sms/register`): SMS *from* it go to its callback."""
    route = route_for(msisdn)
    return route if route is not None and route.kind == repository.REGISTERED else None


def sender_allowed(account: Account, sender: str) -> bool:
    """May `account` send `from` this sender? The one check of every send path (docs/security.md):
    - a number another account holds (owned or registered): never, whatever the allow-list says;
    - a number the account holds: always;
    - another number: only when the operator put it on the account's allow-list;
    - an alphanumeric sender: when the allow-list is empty or lists it.
    """
    route = route_for(sender)
    if route is not None:
        return route.account_id == account.account_id
    if sender.strip().removeprefix("+").isdigit():
        return bool(account.senders) and account.allows_sender(sender)
    return account.allows_sender(sender)


def sender_refusal(sender: str) -> str:
    """What to tell a client whose `from` was refused."""
    return (
        f"sender '{sender}' is not allowed: use a number this account owns or registered (POST "
        "/communication/nexmo/sms/register), or a sender the operator put on the account's allow-list; a "
        "number another account holds is never allowed"
    )
