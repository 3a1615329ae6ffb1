"""What the send path needs from the inbound domain — opt-outs and reply routes — without the inbound
service (and the carrier signature code it imports), so SendFunction's cold start stays small."""

from __future__ import annotations

import time

from smsgw.config import get_settings
from smsgw.inbound import repository


def is_opted_out(sender: str, recipient: str) -> bool:
    """Did `recipient` reply STOP to messages from `sender`?"""
    return repository.is_opted_out(sender.lstrip("+"), recipient)


def record_conversation(recipient: str, number: str, account_id: str, callback_url: str) -> None:
    """`inbound: yes`: the recipient's replies to `number` go to `callback_url` for a while."""
    expires = int(time.time()) + get_settings().conversation_days * 86_400
    repository.put_conversation(recipient, number, account_id, callback_url, expires)
