"""DynamoDB access for opt-outs and conversations.

CONVO#<msisdn>#<number> / CONVO                a send with `inbound: yes`: replies go to its callback (TTL)
OPTOUT#<number>#<msisdn> / OPTOUT              the recipient sent STOP to this number
"""

from __future__ import annotations

from typing import Any

from smsgw import db, keys


def put_conversation(msisdn: str, number: str, account_id: str, callback_url: str, expires_at: int) -> None:
    db.table().put_item(
        Item={
            **keys.conversation(msisdn, number),
            "account_id": account_id,
            "callback_url": callback_url,
            "expires_at": expires_at,
        }
    )


def get_conversation(msisdn: str, number: str) -> dict[str, Any] | None:
    return db.table().get_item(Key=keys.conversation(msisdn, number)).get("Item")


def set_opt_out(number: str, msisdn: str, at: str) -> None:
    db.table().put_item(Item={**keys.opt_out(number, msisdn), "at": at})


def clear_opt_out(number: str, msisdn: str) -> None:
    db.table().delete_item(Key=keys.opt_out(number, msisdn))


def is_opted_out(number: str, msisdn: str) -> bool:
    return "Item" in db.table().get_item(Key=keys.opt_out(number, msisdn))
