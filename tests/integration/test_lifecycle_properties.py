"""The one message lifecycle, held by the real services (moto + the carrier simulator): random
sequences of what happens to one sent message — receipts for either part of a 2-part message
(duplicated, out of order, any status), a replayed send-queue record, a cancel attempt, and for a
scheduled message its send time coming — only ever move its stored status along lifecycle.allowed,
never rewrite its timeline or a part's status backwards, and nothing moves it once it is final.

Each example starts from the same table (the account as the fixtures created it) and an empty send
queue, so examples do not leak into each other."""

from __future__ import annotations

import contextlib
import json
from collections import deque
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsgw.core import lifecycle
from smsgw.core.errors import Conflict
from smsgw.messages import reading as messages
from smsgw.receipts import service as receipts
from tests.conftest import LambdaContext, api_event, load_handler, sqs_event
from tests.integration.test_dispatch import dispatch
from tests.integration.test_receipts_api import dlr_fields
from tests.integration.test_scheduled_sends import fire, in_, send

RECEIPT_STATUSES = sorted(set(lifecycle.RANK) - {lifecycle.SUBMITTED})
TWO_PARTS = "y" * 200  # GSM-7: 2 parts

receipt = st.tuples(st.just("receipt"), st.sampled_from([1, 2]), st.sampled_from(RECEIPT_STATUSES))
replay = st.just(("replay",))
cancel_attempt = st.just(("cancel",))
due = st.just(("due",))  # a scheduled message's time comes (its record is dispatched)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[bool, list[tuple[Any, ...]]]:
    scheduled = draw(st.booleans())
    operations = st.one_of(receipt, replay, cancel_attempt, *([due] if scheduled else []))
    return scheduled, draw(st.lists(operations, min_size=1, max_size=10))


def reachable(source: str, target: str) -> bool:
    """Is `target` reachable from `source` through allowed moves (a step that made several)?"""
    seen, todo = {source}, deque([source])
    while todo:
        status = todo.popleft()
        if status == target:
            return True
        for later in lifecycle.TRANSITIONS[lifecycle.Status(status)]:
            if later not in seen:
                seen.add(later)
                todo.append(later)
    return False


class Table:
    """The table as the fixtures left it, restored before each example."""

    def __init__(self, aws: Any) -> None:
        self.aws = aws
        self.table = aws.table
        self.initial = self.table.scan(ConsistentRead=True)["Items"]

    def reset(self) -> None:
        kept = {(item["pk"], item["sk"]) for item in self.initial}
        with self.table.batch_writer() as batch:
            for item in self.table.scan(ConsistentRead=True)["Items"]:
                if (item["pk"], item["sk"]) not in kept:
                    batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
        with self.table.batch_writer() as batch:
            for item in self.initial:  # the balance as it was
                batch.put_item(Item=item)
        self.aws.queued_bodies()  # drained (what waits with a delay is for an earlier example's message)


class Observed:
    """What the owner's stored message showed so far; every step is checked against the last one."""

    def __init__(self, stored: dict[str, Any]) -> None:
        self.last = stored
        self.final: str | None = None

    def check(self, stored: dict[str, Any], step: tuple[Any, ...], *, moves: int = 1) -> None:
        before, after = self.last["status"], stored["status"]
        if moves == 1:
            assert after == before or lifecycle.allowed(before, after), f"{step}: {before} → {after}"
        else:
            assert reachable(before, after), f"{step}: {before} ↛ {after}"
        assert stored["events"][: len(self.last["events"])] == self.last["events"], (
            f"{step} rewrote the timeline"
        )
        for part, state in (self.last.get("part_status") or {}).items():
            now = stored["part_status"][part]
            assert now["rank"] >= state["rank"], f"{step}: part {part} {state['status']} → {now['status']}"
        if self.final is not None:
            assert after == self.final, f"{step} moved a final message: {self.final} → {after}"
        elif lifecycle.is_final(after):
            self.final = after
        self.last = stored


def stored_message(table: Any, message_id: str) -> dict[str, Any]:
    """The stored item, as the owner's GET /messages shows it (one boto3 resource for the whole test)."""
    return table.get_item(Key={"pk": f"MSG#{message_id}", "sk": "MSG"}, ConsistentRead=True)["Item"]


def carrier_id(stored: dict[str, Any], part: int) -> str:
    parts = stored.get("carrier_parts") or []
    # Before submission no carrier id exists: a receipt for an id we never recorded waits, changes nothing.
    return parts[part - 1]["carrier_message_id"] if part <= len(parts) else f"never-recorded-{part}"


def run(aws: Any, table: Any, account: Any, scheduled: bool, operations: list[tuple[Any, ...]]) -> None:
    if scheduled:
        response = send(account, text=TWO_PARTS, send_at=in_(3600))
        assert response["statusCode"] == 202, response["body"]
    else:
        response = load_handler("send").lambda_handler(
            api_event(
                "POST",
                "/communication/nexmo/sms/send",
                form={"from": "ACME", "to": "447700900000", "text": TWO_PARTS},
                account_id=account.account_id,
            ),
            LambdaContext(),
        )
        assert response["statusCode"] == 200, response["body"]
    message_id = json.loads(response["body"])["messages"][0]["message-id"].split("-")[0]
    if scheduled:
        fire(f"send-{message_id}")
    record = sqs_event(aws.send_queue_url)
    record["Records"] = [r for r in record["Records"] if json.loads(r["body"])["message_id"] == message_id]
    assert len(record["Records"]) == 1
    observed = Observed(stored_message(table, message_id))
    assert observed.last["status"] == (lifecycle.SCHEDULED if scheduled else lifecycle.QUEUED)
    if not scheduled:
        assert dispatch(record) == {"batchItemFailures": []}
        observed.check(stored_message(table, message_id), ("dispatch",), moves=2)
        assert observed.last["status"] == lifecycle.SUBMITTED

    for step in operations:
        moves = 1
        if step[0] == "receipt":
            _, part, status = step
            outcome = receipts.receive(dlr_fields(carrier_id(observed.last, part), status))
            assert outcome in ("applied", "duplicate", "pending")
        elif step[0] == "replay":
            assert dispatch(record) == {"batchItemFailures": []}
        elif step[0] == "cancel":
            with contextlib.suppress(Conflict):  # 409: no longer scheduled
                assert messages.cancel_message(account.account_id, message_id).status == lifecycle.CANCELLED
        else:  # due: the scheduled time is now, and Scheduler's record is dispatched
            table.update_item(
                Key={"pk": f"MSG#{message_id}", "sk": "MSG"},
                UpdateExpression="SET send_at = :now",
                ExpressionAttributeValues={":now": datetime.now(UTC).isoformat(timespec="seconds")},
            )
            assert dispatch(record) == {"batchItemFailures": []}
            moves = 2  # scheduled → submitting → submitted in one step
        observed.check(stored_message(table, message_id), step, moves=moves)

    stored = stored_message(table, message_id)
    if observed.final is not None:
        assert stored["status"] == observed.final


def test_random_receipts_replays_and_cancels_only_move_a_message_along_the_lifecycle(
    aws, account, carrier_env
):
    table = Table(aws)

    @settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(scenarios())
    def scenario(case: tuple[bool, list[tuple[Any, ...]]]) -> None:
        table.reset()
        run(aws, table.table, account, *case)

    scenario()
