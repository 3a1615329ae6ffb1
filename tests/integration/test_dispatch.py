"""DispatchFunction: queue records → the carrier simulator (a real HTTP server), with moto for AWS."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import boto3

from local.testing import poll
from tests.conftest import REGION, LambdaContext, ack, api_event, load_handler, sqs_event


def sim_messages(simulator) -> list[dict[str, Any]]:
    import requests

    return requests.get(f"{simulator.url}/_sim/messages", timeout=5).json()["messages"]


def configure(simulator, **settings) -> None:
    import requests

    requests.put(f"{simulator.url}/_sim/config", json=settings, timeout=5).raise_for_status()


def accept(account, text: str = "Hello", to: str = "447700900000") -> str:
    handler = load_handler("send")
    event = api_event(
        "POST",
        "/communication/nexmo/sms/send",
        form={"from": "ACME", "to": to, "text": text},
        account_id=account.account_id,
    )
    response = handler.lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])["messages"][0]["message-id"].split("-")[0]


def receive_batch(aws) -> dict[str, Any]:
    return sqs_event(aws.send_queue_url)


def dispatch(event: dict[str, Any]) -> dict[str, Any]:
    return load_handler("dispatch").lambda_handler(event, LambdaContext())


def message(aws, message_id: str) -> dict[str, Any]:
    return aws.table.get_item(Key={"pk": f"MSG#{message_id}", "sk": "MSG"})["Item"]


def test_a_queued_message_reaches_the_carrier_once_and_is_submitted(aws, account, carrier_env):
    message_id = accept(account, text="Hello world")
    event = receive_batch(aws)
    assert len(event["Records"]) == 1
    assert dispatch(event) == {"batchItemFailures": []}
    [received] = sim_messages(carrier_env)
    assert (received["from"], received["to"], received["text"]) == ("ACME", "447700900000", "Hello world")
    stored = message(aws, message_id)
    assert stored["status"] == "submitted"
    assert stored["carrier_parts"][0]["carrier_message_id"] == received["message-id"]
    assert stored["carrier_parts"][0]["network"] == "20416"
    assert [e["status"] for e in stored["events"]] == ["queued", "submitted"]

    # SQS delivers the same record again: nothing is resubmitted.
    assert dispatch(event) == {"batchItemFailures": []}
    assert len(sim_messages(carrier_env)) == 1


def test_a_long_message_is_one_submission_with_all_parts_recorded(aws, account, carrier_env):
    message_id = accept(account, text="y" * 300)
    dispatch(receive_batch(aws))
    [received] = sim_messages(carrier_env)
    assert received["parts"] == 2
    assert len(message(aws, message_id)["carrier_parts"]) == 2


def test_a_throttled_submission_is_retried_at_the_next_slot_in_place(aws, account, carrier_env):
    configure(carrier_env, throttle_next=2)
    message_id = accept(account)
    assert dispatch(receive_batch(aws)) == {"batchItemFailures": []}
    assert len(sim_messages(carrier_env)) == 1
    assert message(aws, message_id)["status"] == "submitted"
    # Nothing re-queued: only the original record (not deleted by this test) is still there.
    assert [r["attributes"]["ApproximateReceiveCount"] for r in receive_batch(aws)["Records"]] == ["2"]


def test_carrier_throttling_that_persists_defers_without_failing_and_is_sent_later(aws, account, carrier_env):
    configure(carrier_env, throttle_next=3)
    message_id = accept(account)
    first = receive_batch(aws)
    result = dispatch(first)
    assert result == {"batchItemFailures": []}  # re-enqueued, not failed
    ack(aws.send_queue_url, first, result)  # as the event source does
    assert sim_messages(carrier_env) == []
    assert message(aws, message_id)["status"] == "queued"
    assert "throttled" in message(aws, message_id)["last_error"]

    # The deferred copy comes back from the queue (after its delay) and goes through.
    def deferred_copy() -> dict[str, Any] | None:
        event = receive_batch(aws)
        return event if event["Records"] else None

    again = poll(deferred_copy, timeout=10, what="the deferred copy")
    assert [json.loads(r["body"])["message_id"] for r in again["Records"]] == [message_id]
    dispatch(again)
    assert len(sim_messages(carrier_env)) == 1
    assert message(aws, message_id)["status"] == "submitted"


def test_a_transient_carrier_error_is_a_batch_item_failure_and_retried(aws, account, carrier_env):
    configure(carrier_env, fail_next=1)
    message_id = accept(account)
    event = receive_batch(aws)
    result = dispatch(event)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    stored = message(aws, message_id)
    assert stored["status"] == "queued"
    assert "500" in stored["last_error"]
    # The retry (same message, delivered again) succeeds.
    dispatch(event)
    assert len(sim_messages(carrier_env)) == 1
    assert message(aws, message_id)["status"] == "submitted"


def test_exhausted_retries_say_so_on_the_message(aws, account, carrier_env):
    configure(carrier_env, fail_next=5)
    message_id = accept(account)
    event = receive_batch(aws)
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "3"  # DISPATCH_MAX_RECEIVES
    assert dispatch(event)["batchItemFailures"]
    stored = message(aws, message_id)
    assert stored["dead_lettered_at"]
    assert stored["events"][-1]["status"] == "dead_lettered"


def test_a_permanent_rejection_fails_the_message(aws, account, carrier_env):
    configure(carrier_env, reject_next=1)
    message_id = accept(account)
    assert dispatch(receive_batch(aws)) == {"batchItemFailures": []}
    stored = message(aws, message_id)
    assert stored["status"] == "failed"
    assert "status 6" in stored["last_error"]
    assert sim_messages(carrier_env) == []
    assert stored["events"][-1]["status"] == "failed"
    assert stored["events"][-1]["connector"] == "default"  # the attempt, as GET /messages/{id} lists it


def test_one_bad_record_does_not_fail_the_batch(aws, account, carrier_env):
    ids = [accept(account, text=f"n{i}") for i in range(3)]
    configure(carrier_env, fail_next=1)
    event = receive_batch(aws)
    result = dispatch(event)
    assert len(result["batchItemFailures"]) == 1
    statuses = sorted(message(aws, i)["status"] for i in ids)
    assert statuses == ["queued", "submitted", "submitted"]
    # Every record stopped counting as on its way to the pacer (a count left over would make each
    # later reservation of this process wait for a record that never comes).
    from smsgw.dispatch import pacing

    assert (pacing._on_the_way.count, pacing._on_the_way.unclaimed) == (0, 0)


def test_a_record_for_a_message_never_stored_is_acknowledged_after_the_grace_period(
    aws, account, carrier_env
):
    """The send path enqueues before it stores: a record whose message never appeared (refused, or the
    function died between the two) is dropped once it is older than the grace period."""
    boto3.client("sqs", region_name=REGION).send_message(
        QueueUrl=aws.send_queue_url, MessageBody=json.dumps({"message_id": "01NOPE"})
    )
    event = receive_batch(aws)
    event["Records"][0]["attributes"]["SentTimestamp"] = str(int((time.time() - 31) * 1000))
    assert dispatch(event) == {"batchItemFailures": []}
    assert sim_messages(carrier_env) == []


def test_a_record_that_overtakes_its_message_looks_again_and_sends_it_once_stored(aws, account, carrier_env):
    from smsgw.accounts import service as accounts
    from smsgw.messages import repository
    from smsgw.messages.params import validate_send
    from smsgw.messages.service import new_message

    boto3.client("sqs", region_name=REGION).send_message(
        QueueUrl=aws.send_queue_url, MessageBody=json.dumps({"message_id": "01JEARLY00000000000000000A"})
    )
    first = receive_batch(aws)
    assert dispatch(first) == {"batchItemFailures": []}  # acknowledged: a look-again record replaces it
    assert sim_messages(carrier_env) == []
    # The send path's transaction lands; the look-again record (delayed ~1 s) finds the message.
    send = validate_send(
        {"from": "ACME", "to": "447700900000", "text": "late"}, check_url=lambda url, **_: url
    )
    message = new_message(
        accounts.cached_account(account.account_id), send, "01JEARLY00000000000000000A", datetime.now(UTC)
    )
    repository.accept(message, message.price)
    boto3.client("sqs", region_name=REGION).delete_message(
        QueueUrl=aws.send_queue_url, ReceiptHandle=first["Records"][0]["receiptHandle"]
    )
    again = poll(lambda: receive_batch(aws)["Records"], timeout=10, what="the look-again record")
    assert json.loads(again[0]["body"])["first_sent_at"] == int(
        first["Records"][0]["attributes"]["SentTimestamp"]
    )
    assert dispatch({"Records": again}) == {"batchItemFailures": []}
    assert [m["text"] for m in sim_messages(carrier_env)] == ["late"]


def test_a_record_whose_message_never_comes_is_dropped_after_the_grace_period(aws, account, carrier_env):
    sent_at = int((time.time() - 31) * 1000)
    boto3.client("sqs", region_name=REGION).send_message(
        QueueUrl=aws.send_queue_url,
        MessageBody=json.dumps({"message_id": "01JNEVER00000000000000000A", "first_sent_at": sent_at}),
    )
    assert dispatch(receive_batch(aws)) == {"batchItemFailures": []}
    assert sim_messages(carrier_env) == []
    assert (
        receive_batch(aws)["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    )  # nothing new queued


def test_a_burst_is_paced_under_the_carrier_limit_and_every_message_arrives_once(
    aws, account, carrier_env, monkeypatch
):
    """120 sends, a carrier that allows 40/s, paced at 38/s: all arrive once each, never throttled."""
    import time

    import requests

    from smsgw.accounts import service as accounts
    from smsgw.core.memo import forget_all

    account = accounts.create_account("bulk", balance="100", senders=["ACME"], rate_limit_per_second=1000)
    monkeypatch.setenv("CARRIER_RATE_PER_SECOND", "38")  # a little headroom for network jitter
    forget_all()
    configure(carrier_env, rate_per_second=40)
    ids = {accept(account, text=f"burst {n}") for n in range(120)}
    sqs = boto3.client("sqs", region_name=REGION)
    # A deadline, not a wait (the loop ends once all arrived): under coverage on a busy machine the
    # dispatch takes several times as long as alone.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        event = receive_batch(aws)
        if not event["Records"]:
            if len(sim_messages(carrier_env)) >= len(ids):
                break
            continue
        failed = {f["itemIdentifier"] for f in dispatch(event)["batchItemFailures"]}
        for record in event["Records"]:  # what the event source does with the records that succeeded
            if record["messageId"] not in failed:
                sqs.delete_message(QueueUrl=aws.send_queue_url, ReceiptHandle=record["receiptHandle"])
    received = sim_messages(carrier_env)
    assert sorted(m["text"] for m in received) == sorted(f"burst {n}" for n in range(120))
    times = sorted(m["received_at"] for m in received)
    busiest = max(sum(1 for t in times if start <= t < start + 1) for start in times)
    assert busiest <= 40
    stats = requests.get(f"{carrier_env.url}/_sim/stats", timeout=5).json()
    assert stats["throttled"] == 0  # without pacing, a burst of 120 is throttled at once
    assert {message(aws, i)["status"] for i in ids} == {"submitted"}


def test_a_replayed_record_after_an_intermediate_receipt_is_acknowledged_not_retried(
    aws, account, carrier_env
):
    """Issue 11 d: dispatch and receipts share one lifecycle, so `accepted`, `buffered` or `unknown`
    (statuses only receipts write) count as handed over, not as "another invocation holds the lease"."""
    for status in ("accepted", "buffered", "unknown"):
        message_id = accept(account, text=f"replay {status}")
        event = receive_batch(aws)
        assert dispatch(event) == {"batchItemFailures": []}
        aws.table.update_item(
            Key={"pk": f"MSG#{message_id}", "sk": "MSG"},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": status},
        )
        assert dispatch(event) == {"batchItemFailures": []}, status
        assert message(aws, message_id)["status"] == status
    assert len(sim_messages(carrier_env)) == 3


def test_a_message_stored_between_the_claim_and_the_read_is_claimed_again_not_postponed(
    aws, account, carrier_env, monkeypatch
):
    """The send path enqueues, then stores: its store can land between dispatch's claim (nothing there)
    and the read that follows. Seen on the local stack as a 120 s delay ("another invocation holds it")."""
    from smsgw.dispatch import service

    message_id = accept(account)
    event = receive_batch(aws)
    stored = message(aws, message_id)
    aws.table.delete_item(Key={"pk": f"MSG#{message_id}", "sk": "MSG"})
    real_claim = service.messages.claim
    calls: list[int] = []

    def claim_then_store(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            result = real_claim(*args, **kwargs)  # nothing to claim yet
            aws.table.put_item(Item=stored)  # … and now the send path's transaction lands
            return result
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(service.messages, "claim", claim_then_store)
    assert dispatch(event) == {"batchItemFailures": []}
    assert message(aws, message_id)["status"] == "submitted"
    assert len(sim_messages(carrier_env)) == 1


def test_a_batch_of_ten_reserves_its_pacing_slots_in_one_write(aws, account, carrier_env, monkeypatch):
    """DispatchFunction counts a batch's records before their threads start, so the first record to reach
    the pacer waits for the nine still claiming their messages and one write reserves all ten slots
    (docs/routing.md). With the wait unbounded here, that holds however slowly moto answers."""
    from smsgw.core.memo import forget_all
    from smsgw.dispatch import pacing
    from smsgw.dispatch import repository as dispatch_repository
    from smsgw.dispatch import service as dispatch_service

    writes: list[str] = []
    for name in ("advance_pacer", "restart_pacer"):
        real = getattr(dispatch_repository, name)
        monkeypatch.setattr(
            dispatch_repository, name, lambda *a, real=real, name=name: writes.append(name) or real(*a)
        )
    monkeypatch.setattr(pacing, "GATHER_SECONDS", 30.0)
    # Slots 1 ms apart (the tests' carrier rate): a thread moto keeps waiting would skip its late slot
    # and reserve another; that rule is tested in tests/unit/test_pacing.py, not here.
    monkeypatch.setattr(dispatch_service, "LATE_SLOT_SECONDS", 60.0)
    # The default, 10 at once (conftest takes one at a time: moto's transactions are not thread-safe,
    # and dispatch makes none).
    monkeypatch.setenv("DISPATCH_RECORDS_AT_ONCE", "10")
    forget_all()
    ids = [accept(account, text=f"n{i}") for i in range(10)]
    event = receive_batch(aws)
    assert len(event["Records"]) == 10
    assert dispatch(event) == {"batchItemFailures": []}
    assert writes == ["restart_pacer"]
    assert sorted(message(aws, i)["status"] for i in ids) == ["submitted"] * 10
    assert len(sim_messages(carrier_env)) == 10


def test_dispatch_function_threads_take_the_gil_within_a_millisecond(aws):
    """A record whose pacing slot has come must not wait out another record's 5 ms GIL turn: such waits
    sent submissions late enough that the carrier saw one more than its rate in a second
    (docs/routing.md, benchmark 1b)."""
    import importlib
    import sys

    saved = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # Python's default, as in a fresh Lambda container
    try:
        importlib.reload(load_handler("dispatch"))
        assert sys.getswitchinterval() <= 0.001
    finally:
        sys.setswitchinterval(saved)
