"""The crash points `make chaos` injects, one at a time: the function dies between two steps (a
BaseException no `except Exception` absorbs), the carrier or SQS delivers again, and the result is as
if nothing had happened — once. (send.after_charge: test_send_crashes.py; dispatch.after_submit:
test_dispatch_reconcile.py.)"""

from __future__ import annotations

import json

import pytest

from smsgw.accounts import service as accounts
from smsgw.faults import InjectedCrash
from tests.integration.test_dispatch import accept, dispatch, message, receive_batch
from tests.integration.test_inbound import NUMBER, PHONE, deliver_webhooks, inbound, register
from tests.integration.test_inbound_loss import forwarded
from tests.integration.test_receipts_api import dlr_fields, post_dlr


def callbacks_posted(receiver) -> list[str]:
    """The statuses the account's receiver got, after WebhookFunction ran on whatever was queued."""
    deliver_webhooks()
    return [json.loads(request.body)["status"] for request in receiver.requests]


def test_a_receipt_whose_function_died_after_the_part_status_is_completed_by_the_resend(
    aws, carrier_env, crash_at, callbacks_allowed, receiver
):
    owner = accounts.create_account("cb", balance="5", senders=[], status_url=receiver.url)
    message_id = accept(owner)
    dispatch(receive_batch(aws))
    carrier_id = message(aws, message_id)["carrier_parts"][0]["carrier_message_id"]
    fields = dlr_fields(carrier_id, "delivered")
    crash_at("receipt.apply")
    with pytest.raises(InjectedCrash):
        post_dlr(fields)
    crash_at(None)
    # A one-part message: its status moved with the part's (one write); the callback is not queued yet.
    assert message(aws, message_id)["status"] == "delivered"
    assert callbacks_posted(receiver) == []
    assert post_dlr(fields)[0] == 200  # the carrier resends what we did not acknowledge
    assert message(aws, message_id)["status"] == "delivered"
    assert callbacks_posted(receiver) == ["delivered"]
    assert post_dlr(fields)[0] == 200  # and again: nothing new
    assert callbacks_posted(receiver) == ["delivered"]


def test_a_receipt_of_a_long_message_whose_function_died_after_the_part_status_is_completed_by_the_resend(
    aws, account, carrier_env, crash_at
):
    message_id = accept(account, text="x" * 200)  # two parts: the part's status and the message's apart
    dispatch(receive_batch(aws))
    first, second = [p["carrier_message_id"] for p in message(aws, message_id)["carrier_parts"]]
    assert post_dlr(dlr_fields(second, "delivered"))[0] == 200
    fields = dlr_fields(first, "delivered")
    crash_at("receipt.apply")
    with pytest.raises(InjectedCrash):
        post_dlr(fields)
    crash_at(None)
    assert message(aws, message_id)["part_status"]["1"]["status"] == "delivered"
    assert message(aws, message_id)["status"] == "submitted"  # the part moved, the message did not yet
    assert post_dlr(fields)[0] == 200
    assert message(aws, message_id)["status"] == "delivered"


@pytest.mark.parametrize("names_the_message", [True, False])
def test_a_dispatcher_that_died_between_the_status_and_the_carrier_id_loses_no_receipt(
    aws, carrier_env, crash_at, callbacks_allowed, receiver, names_the_message
):
    """dispatch records `submitted`, then the carrier id's lookup (two writes: a transaction would cost
    twice). Died in between: a receipt naming the message (client-ref) writes the lookup itself; one
    that does not waits until the replayed send-queue record writes it and applies it."""
    from tests.integration.test_dispatch import sim_messages

    account = accounts.create_account("cb", balance="5", senders=[], status_url=receiver.url)
    message_id = accept(account)
    event = receive_batch(aws)
    crash_at("dispatch.after_status")
    with pytest.raises(InjectedCrash):
        dispatch(event)
    crash_at(None)
    assert message(aws, message_id)["status"] == "submitted"
    carrier_id = message(aws, message_id)["carrier_parts"][0]["carrier_message_id"]
    fields = dlr_fields(carrier_id, "delivered", echo_client_ref=names_the_message)
    assert post_dlr(fields)[0] == 200
    if not names_the_message:
        assert message(aws, message_id)["status"] == "submitted"  # the receipt waits for its lookup
        assert dispatch(event) == {"batchItemFailures": []}  # SQS delivers the record again
    assert message(aws, message_id)["status"] == "delivered"
    assert callbacks_posted(receiver) == ["delivered"]
    assert len(sim_messages(carrier_env)) == 1


def test_an_inbound_sms_whose_function_died_after_storing_it_is_forwarded_once(
    env,
    owner,
    receiver,
    crash_at,
):
    register(owner.account_id, PHONE, receiver.url)
    fields = {"msisdn": PHONE, "to": NUMBER, "messageId": "crash-1", "text": "Are you there?"}
    crash_at("inbound.assembly")
    with pytest.raises(InjectedCrash):
        inbound(fields)  # stored, its webhook not queued: the carrier had no 200 and sends it again
    crash_at(None)
    deliver_webhooks()
    assert forwarded(receiver) == []
    assert inbound(fields) == (200, {"result": "duplicate"})  # at once: no lease to wait out
    deliver_webhooks()
    [payload] = forwarded(receiver)
    assert payload["text"] == "Are you there?"
    assert len(env.items("INBOUND#")) == 1


def test_a_dispatcher_that_died_applying_waiting_receipts_is_completed_by_the_replayed_record(
    aws, carrier_env, crash_at, callbacks_allowed, receiver
):
    """Found by `make chaos`: a receipt that overtook the submission waits; dispatch records the
    submission, applies it, and dies half-way (the crash point inside the receipt's apply). The carrier
    had its 200 and will not resend: the replayed send-queue record must finish the job."""
    from tests.integration.test_dispatch import sim_messages
    from tests.integration.test_dispatch_reconcile import AnswerLost, dispatch_with

    account = accounts.create_account("cb", balance="5", senders=[], status_url=receiver.url)
    message_id = accept(account)
    event = receive_batch(aws)
    carrier = AnswerLost()
    assert dispatch_with(carrier, message_id) == "unconfirmed"
    [received] = sim_messages(carrier_env)
    assert post_dlr(dlr_fields(received["message-id"], "delivered", **{"client-ref": message_id}))[0] == 200
    crash_at("receipt.apply")
    with pytest.raises(InjectedCrash):
        dispatch_with(carrier, message_id)  # reconciled and recorded, then dies applying the receipt
    crash_at(None)
    # One part: the receipt made it final in one write; its callback was not queued yet.
    assert message(aws, message_id)["status"] == "delivered"
    assert callbacks_posted(receiver) == []
    assert dispatch(event) == {"batchItemFailures": []}  # SQS delivers the record again
    assert message(aws, message_id)["status"] == "delivered"
    assert callbacks_posted(receiver) == ["delivered"]
    assert len(sim_messages(carrier_env)) == 1
