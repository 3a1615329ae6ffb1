"""The webhook delivery state machine (moto DynamoDB + SQS, a scripted transport instead of HTTP):
never twice, never backwards, nothing lost between two writes."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from standardwebhooks import Webhook

from smsgw.core.errors import NotFound
from smsgw.core.memo import forget_all
from smsgw.webhooks import queue, repository, service
from smsgw.webhooks.delivery import Deliverer, RetryLater
from smsgw.webhooks.retry import RetryPolicy
from smsgw.webhooks.transport import Response
from tests.conftest import REGION, Clock

URL = "https://hooks.example.com/status"
PUBLIC = ["93.184.215.14"]


@dataclass
class ScriptedTransport:
    """Answers with the given statuses in turn (then 200) and remembers what it was asked."""

    statuses: list[int] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def post(self, url: str, body: bytes, headers: dict[str, str], addresses: list[str] | None) -> Response:
        self.calls.append({"url": url, "body": body, "headers": headers, "addresses": addresses})
        status = self.statuses.pop(0) if self.statuses else 200
        return Response(status, 12, None if status < 300 else f"HTTP {status}")


@dataclass
class Queues:
    url: str
    dlq: str

    def bodies(self, url: str | None = None) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=REGION)
        found: list[dict[str, Any]] = []
        while messages := sqs.receive_message(QueueUrl=url or self.url, MaxNumberOfMessages=10).get(
            "Messages"
        ):
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url or self.url, ReceiptHandle=message["ReceiptHandle"])
        return found

    def delayed(self) -> int:
        sqs = boto3.client("sqs", region_name=REGION)
        attributes = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesDelayed"])


@pytest.fixture
def queues(aws, monkeypatch) -> Queues:
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.create_queue(QueueName="webhook-dlq")["QueueUrl"]
    url = sqs.create_queue(QueueName="webhook", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", url)
    monkeypatch.setenv("WEBHOOK_DLQ_URL", dlq)
    forget_all()  # settings are read once: read them again with these queues
    return Queues(url, dlq)


def deliverer(transport: ScriptedTransport, clock: Clock, horizon: float = 86_400) -> Deliverer:
    return Deliverer(
        clock=clock,
        resolve=lambda host: PUBLIC,
        policy=RetryPolicy(horizon_seconds=horizon, uniform=lambda a, b: 1.0),
        transport=transport,  # type: ignore[arg-type]
    )


def delivery(account, key: str = "k1", subject: str = "MSG1") -> dict[str, Any]:
    """A producer's arguments for a status callback."""
    return {
        "account_id": account.account_id,
        "url": URL,
        "event_type": "message.status",
        "payload": {"message_id": subject, "status": "delivered"},
        "subject_id": subject,
        "dedupe_key": key,
    }


def enqueue(account, key: str = "k1", subject: str = "MSG1") -> str:
    return service.enqueue(**delivery(account, key, subject))


def enqueue_stored(account, key: str = "k1", subject: str = "MSG1") -> str:
    """A delivery its producer stored in its own transaction, then queued (the inbound intake's way):
    stored, not claimed, its record carrying only its id."""
    from smsgw import db

    new = service.prepare(**delivery(account, key, subject))
    db.dynamodb_client().transact_write_items(TransactItems=new.writes)
    service.queue_new(new)
    return new.delivery_id


def stored(subject: str, delivery_id: str) -> dict[str, Any]:
    item = repository.get_delivery(subject, delivery_id)
    assert item is not None
    return item


def test_enqueue_writes_nothing_its_record_carries_the_delivery_stored_when_first_taken(
    account, queues, clock
):
    delivery_id = enqueue(account)
    assert repository.deliveries("MSG1") == []  # no write: two write units fewer per delivery
    [record] = queues.bodies()
    assert (record["subject_id"], record["delivery_id"], record["attempt"]) == ("MSG1", delivery_id, 0)
    assert json.loads(record["delivery"]["body"]) == {"message_id": "MSG1", "status": "delivered"}
    assert record["delivery"]["url"] == URL
    transport = ScriptedTransport([500])
    assert deliverer(transport, clock).handle(record) == "retry"
    item = stored("MSG1", delivery_id)  # stored by the first attempt's claim, then its outcome
    assert (item["state"], item["attempt_count"], item["account_id"]) == ("pending", 1, account.account_id)
    assert json.loads(item["body"]) == {"message_id": "MSG1", "status": "delivered"}
    assert item["expires_at"] > clock.now
    assert transport.calls[0]["headers"]["webhook-id"] == delivery_id


def test_a_delivery_id_is_made_of_the_account_and_the_key_so_a_repeated_enqueue_posts_once(
    aws, account, queues, clock
):
    from smsgw.accounts import service as accounts

    other = accounts.create_account("other", balance="10", senders=["ACME"])
    first = enqueue(account, key="status:m1:delivered")
    assert enqueue(account, key="status:m1:delivered") == first
    assert first == service.delivery_id_for(account.account_id, "status:m1:delivered")
    assert first.startswith("wh_")
    assert len(first) == 35
    # Another key, or the same key of another account, is another delivery.
    assert enqueue(account, key="status:m1:failed") != first
    assert enqueue(other, key="status:m1:delivered") != first
    transport = ScriptedTransport()
    worker = deliverer(transport, clock)
    assert sorted(worker.handle(record) for record in queues.bodies()) == ["delivered"] * 3 + ["duplicate"]
    assert sorted(call["headers"]["webhook-id"] for call in transport.calls) == sorted(
        {
            first,
            service.delivery_id_for(account.account_id, "status:m1:failed"),
            service.delivery_id_for(other.account_id, "status:m1:delivered"),
        }
    )
    assert len(repository.deliveries("MSG1")) == 3
    assert repository.locate(first) is None  # an id lookup is written for a failed delivery only


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"payload": {"price": object()}}, "JSON"),
        ({"payload": {"x": float("nan")}}, "JSON"),
        ({"url": ""}, "url"),
        ({"dedupe_key": " "}, "dedupe_key"),
        ({"payload": {"text": "x" * 70_000}}, "maximum"),
    ],
)
def test_bad_producer_input_is_refused_and_nothing_is_stored_or_queued(aws, account, queues, change, problem):
    arguments: dict[str, Any] = {
        "account_id": account.account_id,
        "url": URL,
        "event_type": "message.status",
        "payload": {"ok": True},
        "subject_id": "MSG1",
        "dedupe_key": "k",
        **change,
    }
    with pytest.raises(ValueError, match=problem):
        service.enqueue(**arguments)
    assert aws.items("SUBJECT#") == []
    assert aws.items("WEBHOOK") == []
    assert queues.bodies() == []


def test_a_record_delivered_twice_posts_once(account, queues, clock):
    delivery_id = enqueue(account)
    [record] = queues.bodies()
    transport, clock = ScriptedTransport(), clock
    worker = deliverer(transport, clock)
    assert worker.handle(record) == "delivered"
    assert worker.handle(record) == "duplicate"
    assert len(transport.calls) == 1
    item = stored("MSG1", delivery_id)
    assert item["state"] == "delivered"
    assert item["attempt_count"] == 1
    assert queues.bodies() == []


def test_a_stale_record_for_an_earlier_attempt_does_not_post(account, queues, clock):
    enqueue(account)
    [first] = queues.bodies()
    transport, clock = ScriptedTransport([500]), clock
    worker = deliverer(transport, clock)
    assert worker.handle(first) == "retry"
    assert queues.bodies() == []  # delayed by the backoff
    clock.now += 6
    [retry] = queues.bodies()
    assert retry["attempt"] == 1
    assert retry["not_before"] == pytest.approx(clock.now - 1)
    assert worker.handle(first) == "duplicate"  # the old record again: nothing sent, nothing queued
    assert len(transport.calls) == 1
    assert queues.bodies() == []


@pytest.mark.parametrize("stored_by", ["the first attempt", "the producer"])
def test_an_attempt_under_way_elsewhere_is_not_started_twice(account, queues, clock, stored_by):
    if stored_by == "the first attempt":
        delivery_id = enqueue(account)
        [record] = queues.bodies()
        carried = record["delivery"]
        assert repository.create_claimed("MSG1", delivery_id, carried, clock.now + 60, 2_000_000_000)
        assert repository.create_claimed("MSG1", delivery_id, carried, clock.now + 60, 2_000_000_000) is None
        transport = ScriptedTransport()
        with pytest.raises(RetryLater):
            deliverer(transport, clock).handle(record)
        assert transport.calls == []
        clock.now += 61  # that Lambda died: its lease runs out, the record coming back takes over
        assert deliverer(transport, clock).handle(record) == "delivered"
        assert len(transport.calls) == 1
        return
    delivery_id = enqueue_stored(account)
    [record] = queues.bodies()
    assert repository.claim("MSG1", delivery_id, 0, clock.now, clock.now + 60) is not None
    assert repository.claim("MSG1", delivery_id, 0, clock.now, clock.now + 60) is None
    transport = ScriptedTransport()
    with pytest.raises(RetryLater):
        deliverer(transport, clock).handle(record)
    assert transport.calls == []
    # The lease runs out (that Lambda died): the next delivery of the record takes the attempt over.
    clock.now += 61
    assert deliverer(transport, clock).handle(record) == "delivered"


def test_a_delivered_delivery_never_goes_back(account, queues, clock):
    delivery_id = enqueue(account)
    [record] = queues.bodies()
    deliverer(ScriptedTransport(), clock).handle(record)
    at = "2030-01-01T00:00:00.000+00:00"
    assert repository.claim("MSG1", delivery_id, 1, clock.now, clock.now + 60) is None
    assert (
        repository.record_attempt(
            "MSG1",
            delivery_id,
            attempt_number=1,
            lease_until=clock.now + 60,
            attempt={"at": at},
            outcome="failed",
            at=at,
            round_started_at=clock.now,
            error="late",
        )
        is None
    )
    assert repository.reopen("MSG1", delivery_id, at, 0) is None
    with pytest.raises(NotFound, match="no failed webhook delivery"):
        service.replay(delivery_id=delivery_id)
    assert stored("MSG1", delivery_id)["state"] == "delivered"


def test_an_attempt_is_recorded_only_under_its_own_lease(account, queues, clock):
    delivery_id = enqueue_stored(account)
    now = clock.now
    assert repository.claim("MSG1", delivery_id, 0, now, now + 60) is not None
    common: dict[str, Any] = {
        "attempt_number": 0,
        "attempt": {"at": "t"},
        "outcome": "delivered",
        "at": "t",
        "round_started_at": now,
    }
    assert repository.record_attempt("MSG1", delivery_id, lease_until=now + 59, **common) is None
    assert repository.record_attempt("MSG1", delivery_id, lease_until=now + 60, **common) is not None
    assert (
        repository.record_attempt("MSG1", delivery_id, lease_until=now + 60, **common) is None
    )  # never twice


def test_failed_then_replayed_then_delivered(account, queues, clock):
    delivery_id = enqueue(account)
    [record] = queues.bodies()
    worker = deliverer(ScriptedTransport([410]), clock)
    assert worker.handle(record) == "failed"
    item = stored("MSG1", delivery_id)
    assert item["state"] == "failed"
    assert item["gsi1pk"] == "WEBHOOK#FAILED"
    assert item["gsi1sk"] == f"{item['failed_at']}#{delivery_id}"
    [dead] = queues.bodies(queues.dlq)
    assert dead["delivery_id"] == delivery_id
    assert "410" in dead["last_error"]

    assert service.replay(delivery_id=delivery_id) == [delivery_id]
    item = stored("MSG1", delivery_id)
    assert item["state"] == "pending"
    assert "gsi1pk" not in item
    assert "failed_at" not in item
    assert service.replay(delivery_id=delivery_id) == []  # already queued again: not twice
    [again] = queues.bodies()
    assert again == {"subject_id": "MSG1", "delivery_id": delivery_id, "attempt": 1}
    assert worker.handle(again) == "delivered"
    view = service.deliveries_for("MSG1")[0]
    assert [a.http_status for a in view.attempts] == [410, 200]
    assert view.state == "delivered"
    assert view.failed_at is None
    assert view.delivered_at


def test_a_retry_whose_queue_write_failed_is_queued_by_the_record_coming_back(
    account, queues, monkeypatch, clock
):
    delivery_id = enqueue(account)
    [record] = queues.bodies()
    transport = ScriptedTransport([500])
    worker = deliverer(transport, clock)
    real_send = queue.send

    def broken(body: dict[str, Any], delay_seconds: int = 0) -> None:
        raise ConnectionError("SQS is down")

    monkeypatch.setattr(queue, "send", broken)
    with pytest.raises(ConnectionError):
        worker.handle(record)  # attempt recorded, retry not queued: the record fails and comes back
    monkeypatch.setattr(queue, "send", real_send)
    assert stored("MSG1", delivery_id)["attempt_count"] == 1
    assert queues.bodies() == []

    assert worker.handle(record) == "duplicate"  # no second POST for attempt 1 ...
    assert len(transport.calls) == 1
    not_before = clock.now + 5
    clock.now += 6
    [retry] = queues.bodies()  # ... but attempt 2 is queued now, still at its time
    assert (retry["attempt"], retry["not_before"]) == (1, pytest.approx(not_before))
    assert worker.handle(record) == "duplicate"
    assert queues.bodies() == []  # and only once


def test_an_enqueue_that_could_not_queue_raises_leaves_nothing_and_the_repeated_call_posts_once(
    account, queues, monkeypatch, clock
):
    real_send = queue.send
    monkeypatch.setattr(queue, "send", lambda body, delay_seconds=0: (_ for _ in ()).throw(ConnectionError()))
    with pytest.raises(ConnectionError):
        enqueue(account)  # the producer does not acknowledge its input: it will call again
    monkeypatch.setattr(queue, "send", real_send)
    assert repository.deliveries("MSG1") == []
    delivery_id = enqueue(account)
    transport = ScriptedTransport()
    assert [deliverer(transport, clock).handle(record) for record in queues.bodies()] == ["delivered"]
    assert [call["headers"]["webhook-id"] for call in transport.calls] == [delivery_id]


def test_a_wait_longer_than_sqs_allows_is_chained(account, queues, clock):
    delivery_id = enqueue_stored(account)
    queues.bodies()
    record = {"subject_id": "MSG1", "delivery_id": delivery_id, "attempt": 0, "not_before": clock.now + 2000}
    transport = ScriptedTransport()
    assert deliverer(transport, clock).handle(record) == "waiting"
    assert transport.calls == []
    assert queues.delayed() == 1  # sent back with DelaySeconds (at most 900)
    clock.now += 901
    [chained] = queues.bodies()
    assert chained == record
    assert deliverer(transport, clock).handle(chained) == "waiting"  # 1099 s to go: another hop
    clock.now += 901
    assert deliverer(transport, clock).handle(queues.bodies()[0]) == "waiting"  # 198 s
    clock.now += 199
    assert deliverer(transport, clock).handle(queues.bodies()[0]) == "delivered"
    assert len(transport.calls) == 1


def test_the_transport_gets_the_addresses_the_check_approved(account, queues, clock):
    enqueue(account)
    [record] = queues.bodies()
    transport = ScriptedTransport()
    deliverer(transport, clock).handle(record)
    assert transport.calls[0]["addresses"] == PUBLIC


def test_a_name_that_does_not_resolve_is_retried_not_failed(account, queues, clock):
    delivery_id = enqueue(account)
    [record] = queues.bodies()

    def no_dns(host: str) -> list[str]:
        raise OSError("temporary failure in name resolution")

    transport = ScriptedTransport()
    worker = Deliverer(clock=clock, resolve=no_dns, transport=transport)  # type: ignore[arg-type]
    assert worker.handle(record) == "retry"
    assert transport.calls == []
    item = stored("MSG1", delivery_id)
    assert item["state"] == "pending"
    assert "does not resolve" in item["attempts"][0]["error"]


def test_an_account_that_no_longer_exists_fails_the_delivery(aws, account, queues, clock):
    delivery_id = enqueue(account)
    [record] = queues.bodies()
    aws.table.delete_item(Key={"pk": f"ACCOUNT#{account.account_id}", "sk": "ACCOUNT"})
    transport = ScriptedTransport()
    assert deliverer(transport, clock).handle(record) == "failed"
    assert transport.calls == []
    assert "no longer exists" in stored("MSG1", delivery_id)["last_error"]


def test_callbacks_for_one_account_read_it_once_within_the_account_cache_time(
    aws, account, queues, clock, monkeypatch
):
    """A batch of status callbacks signs each with the account's secret, read at most
    ACCOUNT_CACHE_SECONDS ago (as every warm function reads accounts), not once per callback."""
    from smsgw.accounts import repository as accounts_repository
    from smsgw.accounts import service as accounts_service

    reads: list[str] = []
    real = accounts_repository.get_account

    def counted(account_id: str, consistent: bool = False):
        reads.append(account_id)
        return real(account_id, consistent=consistent)

    monkeypatch.setattr(accounts_repository, "get_account", counted)
    seconds = [1_000.0]
    monkeypatch.setattr(accounts_service, "_seconds", lambda: seconds[0])
    for n in range(3):
        enqueue(account, key=f"k{n}", subject=f"MSG{n}")
    transport = ScriptedTransport()
    worker = deliverer(transport, clock)
    assert [worker.handle(record) for record in queues.bodies()] == ["delivered"] * 3
    assert reads == [account.account_id]
    # A new secret signs once the cached read is older than ACCOUNT_CACHE_SECONDS.
    new_secret = "whsec_" + base64.b64encode(b"a rotated secret, 32 bytes long!").decode()
    aws.table.update_item(
        Key={"pk": f"ACCOUNT#{account.account_id}", "sk": "ACCOUNT"},
        UpdateExpression="SET webhook_secret = :s",
        ExpressionAttributeValues={":s": new_secret},
    )
    seconds[0] += accounts_service.ACCOUNT_CACHE_SECONDS + 1
    enqueue(account, key="k9", subject="MSG9")
    assert [worker.handle(record) for record in queues.bodies()] == ["delivered"]
    assert len(reads) == 2
    last = transport.calls[-1]
    Webhook(new_secret).verify(last["body"], last["headers"])  # raises unless signed with it


def test_a_record_for_an_expired_delivery_is_dropped(account, queues, clock):
    transport = ScriptedTransport()
    record = {"subject_id": "MSG1", "delivery_id": "01NOPE", "attempt": 0}
    assert deliverer(transport, clock).handle(record) == "gone"
    assert transport.calls == []


def test_redriving_the_dead_letter_notice_replays_the_delivery(account, queues, clock):
    delivery_id = enqueue(account)
    [record] = queues.bodies()
    transport = ScriptedTransport([410])
    worker = deliverer(transport, clock)
    assert worker.handle(record) == "failed"
    [notice] = queues.bodies(queues.dlq)
    assert notice["type"] == "webhook.delivery_failed"
    assert notice["replay"] == f"smsgw webhooks replay --delivery {delivery_id}"

    assert worker.handle(notice) == "replayed"  # what a DLQ redrive hands the function
    assert worker.handle(notice) == "duplicate"  # a second redrive of the same notice: nothing more
    [again] = queues.bodies()
    assert worker.handle(again) == "delivered"
    assert len(transport.calls) == 2
