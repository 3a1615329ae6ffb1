"""Receipt state machine: parts and messages only move forward, whatever order receipts arrive in (moto)."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal

import pytest

from smsgw.carrier.vonage import sign_params
from smsgw.core.errors import BadRequest, Unauthorized
from smsgw.core.lifecycle import Status
from smsgw.core.message import Event, Message
from smsgw.messages import repository as messages
from smsgw.receipts import service
from smsgw.receipts.models import DeliveryReceipt


def submitted_message(account_id: str, parts: int = 2, message_id: str = "01MSG") -> list[str]:
    """A message as dispatch leaves it: submitted, with one carrier id per part."""
    now = "2026-11-25T10:00:00.000+00:00"
    ids = [message_id] if parts == 1 else [f"{message_id}-{n}" for n in range(1, parts + 1)]
    messages.accept(
        Message(
            message_id=message_id,
            account_id=account_id,
            sender="ACME",
            to="447700900000",
            country="GB",
            text="hi",
            sms_type="text",
            params={},
            parts=parts,
            part_ids=tuple(ids),
            encoding="GSM-7",
            unit_price=Decimal("0.1") / parts,
            price=Decimal("0.1"),
            currency="EUR",
            status=Status.QUEUED,
            created_at=now,
            updated_at=now,
            events=(Event(at=now, status=Status.QUEUED),),
            part_status={},
            expires_at=int(time.time()) + 3600,
        ),
        Decimal("0.1"),
    )
    assert messages.claim(message_id, int(time.time()), int(time.time()) + 60, now)
    carrier_ids = [f"c-{message_id}-{n}" for n in range(1, parts + 1)]
    assert messages.mark_submitted(
        message_id, now, [{"carrier_message_id": c, "network": "", "price": ""} for c in carrier_ids], 0
    )
    messages.record_carrier_ids(message_id, carrier_ids, 0)  # what dispatch writes right after
    return carrier_ids


def receipt(carrier_id: str, status: str) -> DeliveryReceipt:
    return service.parse({"messageId": carrier_id, "status": status, "err-code": "0"})


def stored(message_id: str = "01MSG") -> dict:
    item = messages.get_message(message_id, consistent=True)
    assert item is not None
    return item


@pytest.mark.parametrize(
    "order",
    list(itertools.permutations([(1, "accepted"), (1, "delivered"), (2, "buffered"), (2, "failed")])),
)
def test_every_ordering_ends_in_the_same_state(aws, account, order):
    carrier_ids = submitted_message(account.account_id)
    for part, status in order:
        service.apply(receipt(carrier_ids[part - 1], status))
    item = stored()
    assert item["part_status"]["1"]["status"] == "delivered"
    assert item["part_status"]["2"]["status"] == "failed"
    assert item["status"] == "failed"
    statuses = [e["status"] for e in item["events"]]
    assert statuses[-1] == "failed"
    assert statuses.count("failed") == 1  # the final status is recorded once


def test_duplicates_and_older_statuses_change_nothing(aws, account):
    [carrier_id] = submitted_message(account.account_id, parts=1)
    assert service.apply(receipt(carrier_id, "delivered")) == "applied"
    assert service.apply(receipt(carrier_id, "delivered")) == "duplicate"
    assert service.apply(receipt(carrier_id, "accepted")) == "duplicate"
    assert service.apply(receipt(carrier_id, "failed")) == "duplicate"  # the first final status wins
    item = stored()
    assert item["status"] == "delivered"
    assert [e["status"] for e in item["events"]] == ["queued", "submitted", "delivered"]


def test_a_message_waits_for_all_its_parts(aws, account):
    carrier_ids = submitted_message(account.account_id, parts=3)
    service.apply(receipt(carrier_ids[0], "delivered"))
    service.apply(receipt(carrier_ids[2], "delivered"))
    assert stored()["status"] == "submitted"
    service.apply(receipt(carrier_ids[1], "accepted"))
    assert stored()["status"] == "accepted"  # as far as the least advanced part
    service.apply(receipt(carrier_ids[1], "delivered"))
    assert stored()["status"] == "delivered"


def test_a_receipt_before_its_id_is_recorded_waits_and_is_applied(aws, account):
    outcome = service.apply(receipt("c-01LATE-1", "delivered"))
    assert outcome == "pending"
    assert aws.items("DLRPENDING#")
    submitted_message(account.account_id, parts=1, message_id="01LATE")
    service.apply_pending("01LATE", ["c-01LATE-1"])
    assert stored("01LATE")["status"] == "delivered"
    assert aws.items("DLRPENDING#") == []


def test_unknown_ids_that_never_appear_are_kept_not_applied(aws, account):
    assert service.apply(receipt("c-nobody", "delivered")) == "pending"
    service.apply_pending("01OTHER", ["c-other"])
    assert len(aws.items("DLRPENDING#")) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "delivered"}, "messageId"),
        ({"messageId": "x", "status": "gone"}, "status"),
        ({"messageId": "x"}, "status"),
        ({"messageId": "x", "status": "submitted"}, "status"),
    ],
)
def test_malformed_receipts_name_the_field(params, field):
    with pytest.raises(BadRequest) as error:
        service.parse(params)
    assert error.value.field == field


SECRET = "carrier-signing-secret"
NOW = 1_800_000_000


def signed(params: dict[str, str], method: str = "md5", timestamp: int = NOW) -> dict[str, str]:
    with_ts = {**params, "timestamp": str(timestamp), "nonce": "n-1"}
    return {**with_ts, "sig": sign_params(with_ts, SECRET, method)}


@pytest.mark.parametrize("method", ["md5hash", "md5", "sha1", "sha256", "sha512"])
def test_valid_signatures_pass_in_every_method(method):
    params = signed({"messageId": "x", "status": "delivered", "text": "a&b=c"}, method)
    service.verify_signature(params, SECRET, method, NOW + 10, 300)
    service.verify_signature({**params, "sig": params["sig"].upper()}, SECRET, method, NOW, 300)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda p: {k: v for k, v in p.items() if k != "sig"}, "unsigned"),
        (lambda p: {**p, "status": "failed"}, "does not match"),
        (lambda p: {**p, "sig": "0" * 32}, "does not match"),
        (lambda p: signed({"messageId": "x", "status": "delivered"}, timestamp=NOW - 301), "stale"),
        (lambda p: signed({"messageId": "x", "status": "delivered"}, timestamp=NOW + 301), "stale"),
        (lambda p: {**p, "timestamp": "soon"}, "timestamp"),
    ],
)
def test_forged_stale_or_unsigned_receipts_are_refused(mutate, reason):
    params = mutate(signed({"messageId": "x", "status": "delivered"}))
    with pytest.raises(Unauthorized, match=reason):
        service.verify_signature(params, SECRET, "md5", NOW, 300)


def test_a_receipt_kept_while_dispatch_takes_the_waiting_ones_is_not_lost(aws, account, monkeypatch):
    """Dispatch reads the receipts waiting for an id it just recorded; meanwhile a receipt that found no id
    a moment earlier is kept for it, and then (its id now found) takes what waits. Neither may drop it."""
    from smsgw import db
    from smsgw.receipts import repository

    assert service.apply(receipt("c-01RACE-1", "accepted")) == "pending"
    submitted_message(account.account_id, parts=1, message_id="01RACE")
    late = receipt("c-01RACE-1", "delivered")
    real = db.dynamodb_client()

    class KeepsOneDuringTheRead:
        def __getattr__(self, name):
            return getattr(real, name)

        def batch_get_item(self, **kwargs):
            result = real.batch_get_item(**kwargs)
            monkeypatch.setattr(repository, "db", db)  # only the first read
            repository.keep_pending(late.carrier_message_id, late.as_item(), int(time.time()) + 60)
            return result

    class Db:
        def __getattr__(self, name):
            return getattr(db, name)

        def dynamodb_client(self):
            return KeepsOneDuringTheRead()

    monkeypatch.setattr(repository, "db", Db())
    service.apply_pending("01RACE", ["c-01RACE-1"])  # dispatch, right after recording the id
    service.apply_pending(
        "01RACE", ["c-01RACE-1"]
    )  # the late receipt: its id is there now, it takes what waits
    assert stored("01RACE")["status"] == "delivered"
    assert aws.items("DLRPENDING#") == []
