"""Issue 11 e: after an ambiguous outcome (the carrier may have accepted, we never heard), dispatch
reconciles from the carrier's receipts before it submits again; only when no receipt comes within the
window does it resubmit, and the message's timeline says which path it took."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from smsgw.carrier.base import CarrierTransientError, Submission, SubmitResult
from tests.conftest import LambdaContext, load_handler
from tests.integration.test_dispatch import accept, dispatch, message, receive_batch, sim_messages
from tests.integration.test_receipts_api import dlr_fields, post_dlr


class AnswerLost:
    """The real simulator client, but its answer never reaches us (a read timeout after acceptance)."""

    def __init__(self) -> None:
        from smsgw.dispatch import connectors

        self.real = connectors.default_client()
        self.lose_answers = True

    def submit(self, submission: Submission) -> SubmitResult:
        result = self.real.submit(submission)
        if self.lose_answers:
            raise CarrierTransientError("ReadTimeout calling the carrier", ambiguous=True)
        return result


def dispatch_with(carrier: Any, message_id: str) -> str:
    from smsgw.dispatch import service

    return service.dispatch_one(message_id, 1, "handle", time.time() + 60, carrier=lambda: carrier)


def events(aws, message_id: str) -> list[tuple[str, str]]:
    return [(e["status"], e.get("detail", "")) for e in message(aws, message_id)["events"]]


def test_the_carrier_gets_our_message_id_as_client_ref_and_the_client_keeps_its_own(
    aws, account, carrier_env
):
    message_id = accept(account)
    dispatch(receive_batch(aws))
    [received] = sim_messages(carrier_env)
    assert received["client-ref"] == message_id


def test_a_lost_answer_waits_for_the_receipt_and_never_resubmits(aws, account, carrier_env):
    message_id = accept(account)
    receive_batch(aws)  # the accept's record; this test drives dispatch directly
    carrier = AnswerLost()
    assert dispatch_with(carrier, message_id) == "unconfirmed"
    assert message(aws, message_id)["status"] == "queued"
    assert events(aws, message_id)[-1][0] == "unconfirmed"

    # Within the window and without a receipt, nothing is submitted again.
    carrier.lose_answers = False
    assert dispatch_with(carrier, message_id) == "reconciling"
    assert len(sim_messages(carrier_env)) == 1

    [received] = sim_messages(carrier_env)
    status, _ = post_dlr(dlr_fields(received["message-id"], "delivered", **{"client-ref": message_id}))
    assert status == 200
    assert dispatch_with(carrier, message_id) == "reconciled"
    assert len(sim_messages(carrier_env)) == 1  # the handset got it once
    stored = message(aws, message_id)
    assert stored["status"] == "delivered"  # the receipt that waited is applied
    assert stored["carrier_parts"][0]["carrier_message_id"] == received["message-id"]
    assert any("reconciled" in detail for _, detail in events(aws, message_id))


def test_without_a_receipt_within_the_window_it_is_resubmitted_and_says_so(
    aws, account, carrier_env, monkeypatch
):
    message_id = accept(account)
    receive_batch(aws)
    carrier = AnswerLost()
    assert dispatch_with(carrier, message_id) == "unconfirmed"
    monkeypatch.setenv("DISPATCH_RECONCILE_SECONDS", "0")
    from smsgw.core.memo import forget_all

    forget_all()
    carrier.lose_answers = False
    assert dispatch_with(carrier, message_id) == "submitted"
    assert len(sim_messages(carrier_env)) == 2  # the first one reached the carrier after all
    assert message(aws, message_id)["status"] == "submitted"
    assert any("resubmitted" in detail for _, detail in events(aws, message_id))


def test_a_crash_after_the_carrier_accepted_is_reconciled_from_its_receipt(
    aws, account, carrier_env, crash_at
):
    from smsgw.faults import InjectedCrash

    message_id = accept(account)
    event = receive_batch(aws)
    crash_at("dispatch.after_submit")
    with pytest.raises(InjectedCrash):
        load_handler("dispatch").lambda_handler(event, LambdaContext())
    crash_at(None)
    assert message(aws, message_id)["status"] == "submitting"
    [received] = sim_messages(carrier_env)
    post_dlr(dlr_fields(received["message-id"], "delivered", **{"client-ref": message_id}))
    # The dead invocation's lease runs out; the redelivered record takes over.
    aws.table.update_item(
        Key={"pk": f"MSG#{message_id}", "sk": "MSG"},
        UpdateExpression="SET lease_until = :past",
        ExpressionAttributeValues={":past": int(time.time()) - 1},
    )
    assert dispatch(event) == {"batchItemFailures": []}
    assert len(sim_messages(carrier_env)) == 1
    assert message(aws, message_id)["status"] == "delivered"


def test_a_long_message_reconciled_from_receipts_gets_every_part(aws, account, carrier_env):
    message_id = accept(account, text="z" * 300)
    receive_batch(aws)
    carrier = AnswerLost()
    assert dispatch_with(carrier, message_id) == "unconfirmed"
    [received] = sim_messages(carrier_env)
    first = received["message-id"]
    post_dlr(dlr_fields(first, "delivered", **{"client-ref": message_id}))
    assert dispatch_with(carrier, message_id) == "reconciled"
    second = f"{first}-second-part"
    post_dlr(dlr_fields(second, "delivered", **{"client-ref": message_id}))
    stored = message(aws, message_id)
    assert [p["carrier_message_id"] for p in stored["carrier_parts"]] == [first, second]
    assert stored["status"] == "delivered"
    assert len(sim_messages(carrier_env)) == 1


def test_a_receipt_naming_a_message_that_does_not_exist_writes_no_message(aws, account, carrier_env):
    status, _ = post_dlr(dlr_fields("sim-nope", "delivered", **{"client-ref": "01JNOSUCHMESSAGE0000000000"}))
    assert status == 200
    assert aws.items("MSG#") == []
    assert json.dumps(aws.items("CARRIER#")) == "[]"
