"""The typed Message and its DynamoDB item: one conversion, and the stored item stays as docs/data-model.md
describes it (the same attributes, types and values as before the Message existed)."""

from __future__ import annotations

import time
from dataclasses import MISSING, fields, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from smsgw.core.lifecycle import Status
from smsgw.core.message import CarrierPart, Event, Message
from smsgw.messages import repository
from smsgw.messages.params import validate_send

AT = "2026-11-25T10:00:00.000+00:00"
LATER = "2026-11-25T10:00:05.000+00:00"
ID = "01JDQ0000000000000000000AB"


def bare(**changes: Any) -> Message:
    """A message with every optional field at its default (not stored)."""
    return replace(
        Message(
            message_id=ID,
            account_id="acc-1",
            sender="ACME",
            to="447700900000",
            country="GB",
            text="hello",
            sms_type="text",
            params={},
            parts=2,
            part_ids=(f"{ID}-1", f"{ID}-2"),
            encoding="GSM-7",
            unit_price=Decimal("0.0333"),
            price=Decimal("0.0666"),
            currency="EUR",
            created_at=AT,
            expires_at=1_900_000_000,
            status=Status.QUEUED,
            updated_at=AT,
        ),
        **changes,
    )


def full() -> Message:
    """A message with every optional field set (a mix no single path produces, which is fine here)."""
    return bare(
        text=None,
        params={"client-ref": "mine", "callback": "https://example.com/status"},
        purpose="verification",
        redact_text=True,
        connectors=("kpn", "default"),
        route_id="nl",
        status=Status.DELIVERED,
        updated_at=LATER,
        attempts=3,
        events=(
            Event(at=AT, status=Status.SCHEDULED),
            Event(at=AT, status="dead_lettered", detail="carrier error"),
            Event(at=LATER, status=Status.DELIVERED, detail="part 2: delivered"),
        ),
        last_error="carrier error (status 5)",
        send_at="2026-11-25T10:00:00+00:00",
        held_for="schedule",
        schedule_id="01JDQSCHEDULE0000000000000",
        charged_at=AT,
        cancelled_at=AT,
        lease_until=1_800_000_120,
        claimed_from=Status.SUBMITTING,
        previous_lease=1_800_000_000,
        unconfirmed_since=AT,
        dead_lettered_at=AT,
        submitted_at=LATER,
        connector="kpn",
        failed_connectors=frozenset({"default"}),
        carrier_parts=(
            CarrierPart(carrier_message_id="c-1", network="23410", price="0.0333"),
            CarrierPart(carrier_message_id="c-2"),
        ),
        carrier_confirmed=frozenset({"c-1", "c-2"}),
        status_rank=3,
        part_status={
            "1": {"status": "delivered", "messageId": "c-1", "rank": Decimal(3), "at": LATER},
            "2": {"status": "accepted", "messageId": "c-2", "rank": Decimal(1), "at": AT},
        },
    )


def test_every_optional_field_is_set_in_the_full_message():
    """So the round trips below cover every field: the full message differs from the bare one in each
    field that has a default (the optional ones)."""
    optional = [
        f.name for f in fields(Message) if f.default is not MISSING or f.default_factory is not MISSING
    ]
    assert optional
    assert [name for name in optional if getattr(full(), name) == getattr(bare(), name)] == []


@pytest.mark.parametrize("message", [bare(), full()], ids=["no optional field", "every optional field"])
def test_a_message_round_trips_through_its_item(message):
    item = repository.to_item(message)
    assert repository.from_item(item) == message
    assert repository.to_item(repository.from_item(item)) == item


@pytest.mark.parametrize("message", [bare(), full()], ids=["no optional field", "every optional field"])
def test_a_message_round_trips_through_dynamodb(aws, message):
    """As DynamoDB gives it back: numbers as Decimal, string sets as sets."""
    repository.store_scheduled(message)
    stored = repository.get_message(message.message_id, consistent=True)
    assert stored == repository.to_item(message)
    assert repository.load(message.message_id, consistent=True) == message


def test_only_set_optional_fields_are_stored():
    assert set(repository.to_item(bare())) == {
        *("pk", "sk", "type", "gsi1pk", "gsi1sk", "events", "message_id", "account_id", "from", "to"),
        *("country", "text", "sms_type", "parts", "encoding", "unit_price", "price"),
        *("currency", "status", "attempts", "created_at", "updated_at", "expires_at"),
    }  # no params (none given), no part_ids (the message id's, derived): under 1 KB is one write unit
    assert repository.to_item(full())["text"] is None  # binary: text is stored, as NULL


def test_an_accepted_send_is_stored_as_before(aws, account):
    """The item of a new message is exactly the one the dict-built message gave (docs/data-model.md)."""
    from smsgw.accounts import service as accounts
    from smsgw.config import get_settings
    from smsgw.messages.service import new_message

    send = validate_send(
        {"from": "ACME", "to": "447700900000", "text": "y" * 200, "client-ref": "mine"},
        check_url=lambda url, **_: url,
    )
    now = datetime(2026, 11, 25, 10, 0, 0, 123_456, tzinfo=UTC)
    message = new_message(accounts.cached_account(account.account_id), send, ID, now)
    unit_price = message.unit_price
    assert unit_price > 0
    assert repository.to_item(message) == {
        "pk": f"MSG#{ID}",
        "sk": "MSG",
        "type": "message",
        "gsi1pk": f"ACCOUNT#{account.account_id}#MSG",
        "gsi1sk": ID,
        "events": [{"at": "2026-11-25T10:00:00.123+00:00", "status": "queued"}],
        "message_id": ID,
        "account_id": account.account_id,
        "from": "ACME",
        "to": "447700900000",
        "country": "GB",
        "text": "y" * 200,
        "sms_type": "text",
        "params": {"client-ref": "mine"},
        "parts": 2,
        # no part_ids: the message id's, derived on reading
        "encoding": "GSM-7",
        "unit_price": unit_price,
        "price": unit_price * 2,
        "currency": accounts.cached_account(account.account_id).currency,
        "status": "queued",
        "attempts": 0,
        "created_at": "2026-11-25T10:00:00.123+00:00",
        "updated_at": "2026-11-25T10:00:00.123+00:00",
        "expires_at": int(now.timestamp()) + get_settings().message_retention_days * 86_400,
    }
    held = new_message(
        accounts.cached_account(account.account_id),
        send,
        ID,
        now,
        Status.FAILED,
        send_at="2026-11-25T10:00:00+00:00",
        held_for="schedule",
        schedule_id="S1",
        last_error="opted out",
    )
    item = repository.to_item(held)
    assert item["events"] == [{"at": "2026-11-25T10:00:00.123+00:00", "status": "failed"}]
    assert {k: item[k] for k in ("send_at", "held_for", "schedule_id", "last_error", "status")} == {
        "send_at": "2026-11-25T10:00:00+00:00",
        "held_for": "schedule",
        "schedule_id": "S1",
        "last_error": "opted out",
        "status": "failed",
    }
    code = new_message(
        accounts.cached_account(account.account_id), send, ID, now, purpose="verification", redact_text=True
    )
    assert {k: v for k, v in repository.to_item(code).items() if k in ("purpose", "redact_text")} == {
        "purpose": "verification",
        "redact_text": True,
    }


def test_every_attribute_the_lifecycle_writes_is_part_of_the_message(aws, account):
    """Driven through the repository's own writes (claims, releases, submission, receipts, cancel), the
    stored item converts to a Message and back unchanged: nothing a write adds is lost on reading."""
    now = int(time.time())

    def same_after_reading(message_id: str) -> None:
        stored = repository.get_message(message_id, consistent=True)
        assert stored is not None
        assert repository.to_item(repository.from_item(stored)) == stored

    sent = bare(account_id=account.account_id, expires_at=now + 3600)
    repository.accept(sent, sent.price)
    assert repository.claim(ID, now, now + 60, AT) is not None
    repository.release(ID, AT, "no answer", unconfirmed_since=AT, event="unconfirmed")
    same_after_reading(ID)
    assert repository.claim(ID, now, now + 60, AT) is not None
    repository.release(ID, AT, "carrier error", dead_lettered=True)
    assert repository.confirm_carrier_id(ID, "c-1") is not None
    assert repository.claim(ID, now + 61, now + 120, AT) is not None
    assert repository.mark_submitted(
        ID, LATER, [{"carrier_message_id": "c-1", "network": "", "price": ""}], now
    )
    assert repository.attach_carrier_part(ID, "c-2", 1, now)
    assert repository.set_part_status(ID, 1, {"status": "delivered", "messageId": "c-1", "at": LATER}, 3)
    assert repository.advance_status(ID, Status.ACCEPTED, 1, LATER, None)
    same_after_reading(ID)

    scheduled_id = "01JDQ0000000000000000000CD"
    scheduled = bare(
        message_id=scheduled_id,
        account_id=account.account_id,
        status=Status.SCHEDULED,
        send_at=AT,
        held_for="send_at",
        events=(Event(at=AT, status=Status.SCHEDULED),),
    )
    assert repository.store_scheduled(scheduled)
    claimed = repository.claim_scheduled(scheduled, now + 60, LATER)
    assert claimed.status == Status.SUBMITTING
    repository.mark_failed(scheduled_id, LATER, "carrier rejected")
    same_after_reading(scheduled_id)

    for other, end in (("01JDQ0000000000000000000EF", "cancel"), ("01JDQ0000000000000000000GH", "fail")):
        assert repository.store_scheduled(replace(scheduled, message_id=other))
        ended = (
            repository.cancel(other, LATER)
            if end == "cancel"
            else repository.fail_scheduled(other, LATER, "unpaid")
        )
        assert ended is not None
        assert ended == repository.load(other, consistent=True)
        same_after_reading(other)
