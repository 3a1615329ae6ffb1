"""The one SQS batch entry: each record's body and details reach the handler; every failed record is
reported on its own (even when all fail), the others are acknowledged."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from smsgw.edges.records.schedules import run_record
from smsgw.edges.sqs_batch import DEFAULT_BUDGET_MS, RecordInfo, process_batch
from smsgw.faults import InjectedCrash
from tests.conftest import LambdaContext


def record(message_id: str, body: Any, *, receives: str | None = "1", sent_ms: str | None = None) -> dict:
    attributes = {"SenderId": "AIDA", "ApproximateFirstReceiveTimestamp": "1800000000000"}
    if receives is not None:
        attributes["ApproximateReceiveCount"] = receives
    if sent_ms is not None:
        attributes["SentTimestamp"] = sent_ms
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:queue",
        "awsRegion": "eu-west-1",
    }


def event(*records: dict) -> dict:
    return {"Records": list(records)}


def test_each_handler_gets_its_body_and_record_details() -> None:
    seen: list[tuple[dict[str, Any], RecordInfo]] = []
    before = time.time()
    result = process_batch(
        event(
            record("a", {"n": 1}, receives="3", sent_ms="1800000000123"),
            record("b", {"n": 2}, receives=None, sent_ms=None),
        ),
        LambdaContext(remaining_ms=30_000),
        lambda body, info: seen.append((body, info)) or "ok",
    )
    assert result == {"batchItemFailures": []}
    (body_a, a), (body_b, b) = seen
    assert (body_a, a.message_id, a.receive_count, a.receipt_handle, a.sent_at) == (
        {"n": 1},
        "a",
        3,
        "handle-a",
        1_800_000_000.123,
    )
    assert (body_b, b.message_id, b.receive_count, b.sent_at) == ({"n": 2}, "b", 1, None)
    # One deadline for the batch: the time the context had left when it started.
    assert a.deadline == b.deadline
    assert before + 30 <= a.deadline <= time.time() + 30
    assert 29 < a.seconds_left() <= 30


def test_without_a_context_a_batch_has_the_default_budget() -> None:
    infos: list[RecordInfo] = []
    process_batch(event(record("a", {})), None, lambda body, info: infos.append(info))
    assert infos[0].seconds_left() == pytest.approx(DEFAULT_BUDGET_MS / 1000, abs=1)


def test_only_the_records_that_failed_are_reported() -> None:
    def handle(body: dict[str, Any], info: RecordInfo) -> str:
        if body["fail"]:
            raise RuntimeError("try again later")
        return "done"

    result = process_batch(
        event(
            record("ok-1", {"fail": False}), record("bad", {"fail": True}), record("ok-2", {"fail": False})
        ),
        LambdaContext(),
        handle,
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": "bad"}]}


def test_a_batch_whose_records_all_fail_reports_each_instead_of_failing_the_invocation() -> None:
    def handle(body: dict[str, Any], info: RecordInfo) -> str:
        raise RuntimeError("down")

    result = process_batch(event(record("x", {}), record("y", {})), LambdaContext(), handle)
    assert result == {"batchItemFailures": [{"itemIdentifier": "x"}, {"itemIdentifier": "y"}]}


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"text"', "null"])
def test_a_body_that_is_not_a_json_object_fails_its_record_without_reaching_the_handler(body: str) -> None:
    handled: list[dict[str, Any]] = []
    result = process_batch(
        event(record("good", {"n": 1}), record("broken", body)),
        LambdaContext(),
        lambda body, info: handled.append(body),
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": "broken"}]}
    assert handled == [{"n": 1}]


def test_a_failed_record_is_logged_with_why(caplog: pytest.LogCaptureFixture) -> None:
    def handle(body: dict[str, Any], info: RecordInfo) -> str:
        raise RuntimeError("carrier down")

    process_batch(event(record("m-1", {})), LambdaContext(), handle)
    [logged] = [r for r in caplog.records if r.getMessage().startswith("SQS record failed")]
    assert (logged.levelname, logged.sqs_message_id, logged.error) == (
        "WARNING",
        "m-1",
        "RuntimeError: carrier down",
    )


def test_a_schedule_run_record_that_fails_is_reported_and_logged_with_its_schedule(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A record without a schedule fails on its own (and is logged as such, not with a second error)."""
    result = process_batch(
        event(record("run-1", {"scheduled_time": "2026-11-25T07:00:00Z"})), None, run_record
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": "run-1"}]}
    [logged] = [r for r in caplog.records if r.getMessage().startswith("schedule run failed")]
    assert logged.schedule_id is None
    assert logged.exc_info is not None
    assert logged.exc_info[0] is KeyError


def test_with_concurrency_the_records_wait_at_once_and_each_failure_is_still_reported() -> None:
    """Ten records that each wait for all the others: one after the other, the first would wait forever
    (the barrier's timeout breaks it, and every record fails)."""
    barrier = threading.Barrier(10, timeout=5)
    threads: set[int] = set()

    def handle(body: dict[str, Any], info: RecordInfo) -> None:
        threads.add(threading.get_ident())
        barrier.wait()
        if body["n"] in (3, 7):
            raise RuntimeError("carrier down")

    result = process_batch(
        event(*(record(f"m{n}", {"n": n}) for n in range(10))), LambdaContext(30_000), handle, concurrency=10
    )

    assert result == {"batchItemFailures": [{"itemIdentifier": "m3"}, {"itemIdentifier": "m7"}]}
    assert len(threads) == 10


def test_with_concurrency_a_crash_still_fails_the_whole_invocation() -> None:
    handled: list[int] = []

    def handle(body: dict[str, Any], info: RecordInfo) -> None:
        if body["n"] == 1:
            raise InjectedCrash("the function died")
        handled.append(body["n"])

    with pytest.raises(InjectedCrash):
        process_batch(event(*(record(f"m{n}", {"n": n}) for n in range(4))), None, handle, concurrency=4)
    assert 0 in handled  # answered before the crash was: ran to its end
    assert 1 not in handled
