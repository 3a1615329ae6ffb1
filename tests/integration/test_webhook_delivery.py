"""WebhookFunction end to end: moto for DynamoDB and SQS, a real HTTP receiver on 127.0.0.1.

Time is a fake clock shared by the service and moto's SQS (delays, visibility), so a day of
retries runs in milliseconds and nothing waits for real.
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest
from standardwebhooks import Webhook

from smsgw.core.errors import BadRequest, NotFound
from smsgw.edges.records.webhooks import delivery_handler
from smsgw.edges.sqs_batch import process_batch
from smsgw.webhooks import cli, service
from smsgw.webhooks.delivery import Deliverer
from smsgw.webhooks.transport import HttpTransport, signed_headers
from tests.conftest import REGION, Clock, LambdaContext, load_handler, sqs_event


@dataclass
class Env:
    queue_url: str
    dlq_url: str

    def receive(self) -> dict[str, Any]:
        """What the SQS event source hands WebhookFunction: the visible records, with receipt handles."""
        return sqs_event(self.queue_url)

    def acknowledge(self, event: dict[str, Any], result: dict[str, Any]) -> None:
        """Delete what the handler did not report as failed, as the event source mapping does."""
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        sqs = boto3.client("sqs", region_name=REGION)
        for record in event["Records"]:
            if record["messageId"] not in failed:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"])

    def dead_letters(self) -> list[dict[str, Any]]:
        got = boto3.client("sqs", region_name=REGION).receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10
        )
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]


@pytest.fixture
def env(aws, monkeypatch) -> Env:
    from smsgw.core.memo import forget_all

    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.create_queue(QueueName="webhook-dlq")["QueueUrl"]
    queue = sqs.create_queue(
        QueueName="webhook", Attributes={"VisibilityTimeout": "0", "MessageRetentionPeriod": "1209600"}
    )["QueueUrl"]
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", queue)
    monkeypatch.setenv("WEBHOOK_DLQ_URL", dlq)
    monkeypatch.setenv("CALLBACK_ALLOW_HTTP_HOSTS", "127.0.0.1")
    forget_all()
    return Env(queue, dlq)


def enqueue(account, url: str, key: str = "MSG1:delivered", subject: str = "MSG1") -> str:
    return service.enqueue(
        account_id=account.account_id,
        url=url,
        event_type="message.status",
        payload={"type": "message.status", "data": {"message_id": subject, "status": "delivered"}},
        subject_id=subject,
        dedupe_key=key,
    )


def settle(env: Env, clock: Clock, worker: Deliverer, subject: str = "MSG1", rounds: int = 200) -> list[str]:
    """Run the handler on whatever the queue holds, moving the clock to each retry, until nothing is pending."""
    outcomes: list[str] = []
    for _ in range(rounds):
        event = env.receive()
        if event["Records"]:
            result = process_batch(event, LambdaContext(), delivery_handler(worker))
            assert result["batchItemFailures"] == []
            env.acknowledge(event, result)
            outcomes.append("record")
            continue
        pending = [d for d in service.deliveries_for(subject) if d.state == "pending"]
        if not pending:
            return outcomes
        items = boto3.resource("dynamodb", region_name=REGION).Table("smsgw-test")
        item = items.get_item(Key={"pk": f"SUBJECT#{subject}", "sk": f"WEBHOOK#{pending[0].delivery_id}"})[
            "Item"
        ]
        clock.now = max(clock.now, float(item["next_attempt_at"]) + 1)
    raise AssertionError("deliveries did not settle")


def test_a_webhook_reaches_the_receiver_once_signed(account, env, receiver):
    delivery_id = enqueue(account, receiver.url)
    event = env.receive()
    assert [json.loads(r["body"])["delivery_id"] for r in event["Records"]] == [delivery_id]
    handler = load_handler("webhook")
    assert handler.lambda_handler(event, LambdaContext()) == {"batchItemFailures": []}

    [got] = receiver.requests
    assert got.path == "/hooks/status"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"].startswith("smsgw-webhooks/")
    assert got.headers["webhook-id"] == delivery_id
    payload = Webhook(account.webhook_secret).verify(got.body, got.headers)
    assert payload == {"type": "message.status", "data": {"message_id": "MSG1", "status": "delivered"}}

    # SQS delivers the same record again: nothing is sent again.
    assert handler.lambda_handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert len(receiver.requests) == 1

    [view] = service.deliveries_for("MSG1")
    assert (view.delivery_id, view.state, view.event_type, view.url) == (
        delivery_id,
        "delivered",
        "message.status",
        receiver.url,
    )
    [attempt] = view.attempts
    assert attempt.http_status == 200
    assert attempt.error is None
    assert attempt.latency_ms >= 0
    assert view.delivered_at
    assert view.failed_at is None


def test_a_delivered_status_callback_is_stored_in_under_one_kilobyte(account, env, receiver):
    """A status callback's delivery item, after its one successful attempt, is under 1 KB (each update of
    a larger item is billed 2 write units): its ids are in its key, its dedupe key in its id (issue 15)."""
    from bench.counter import item_size

    carrier = {"messageId": "0A0000000123ABCD1", "status": "delivered", "err-code": "0"}
    carrier |= {"network-code": "23410", "price": "0.03330000", "msisdn": "447700900000", "to": "ACME"}
    carrier |= {"scts": "2612031000", "message-timestamp": "2026-12-03 10:00:00"}
    message_id = "01M8Z50YQM0JY9JCD3CNFTD3FS"
    payload = {"type": "message.status", "message_id": message_id, "part_id": message_id, "part": 1}
    payload |= {"parts": 1, "status": "delivered", "message_status": "delivered", "to": "447700900000"}
    payload |= {"from": "ACME", "client-ref": "order-12345", "carrier": carrier}
    payload |= {"timestamp": "2026-12-03T10:00:01.123+00:00"}
    delivery_id = service.enqueue(
        account_id=account.account_id,
        url=receiver.url,
        event_type="message.status",
        payload=payload,
        subject_id=message_id,
        dedupe_key=f"status:{message_id}:delivered",
    )
    event = env.receive()
    assert load_handler("webhook").lambda_handler(event, LambdaContext()) == {"batchItemFailures": []}
    [view] = service.deliveries_for(message_id)
    assert (view.delivery_id, view.state, len(view.attempts)) == (delivery_id, "delivered", 1)
    table = boto3.resource("dynamodb", region_name=REGION).Table("smsgw-test")
    item = table.get_item(Key={"pk": f"SUBJECT#{message_id}", "sk": f"WEBHOOK#{delivery_id}"})["Item"]
    assert item_size(item) < 1024, item_size(item)


def test_a_receiver_failing_five_times_gets_one_success_and_six_attempts(account, env, receiver, clock):
    receiver.fail_times = 5
    delivery_id = enqueue(account, receiver.url)
    settle(env, clock, Deliverer(clock=clock))

    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery_id] * 6
    for got in receiver.requests:  # each attempt signed afresh, with its own timestamp
        expected = signed_headers(
            account.webhook_secret, delivery_id, float(got.headers["webhook-timestamp"]), got.body.decode()
        )
        assert got.headers["webhook-signature"] == expected["webhook-signature"]
    [view] = service.deliveries_for("MSG1")
    assert view.state == "delivered"
    assert [a.http_status for a in view.attempts] == [500] * 5 + [200]
    assert all("500" in (a.error or "") for a in view.attempts[:5])
    # The waits between attempts follow the backoff: 5, 10, 20, 40, 80 s, each ±20 % (+1 s of test step).
    times = [datetime.fromisoformat(a.at).timestamp() for a in view.attempts]
    for gap, nominal in zip([b - a for a, b in itertools.pairwise(times)], [5, 10, 20, 40, 80], strict=True):
        assert 0.8 * nominal <= gap <= 1.2 * nominal + 1.01
    assert env.dead_letters() == []


def test_the_waits_between_attempts_stop_growing_at_the_configured_cap(
    account, env, receiver, clock, monkeypatch
):
    monkeypatch.setenv("WEBHOOK_RETRY_CAP_SECONDS", "15")
    from smsgw.core.memo import forget_all

    forget_all()  # settings are read once: read them again with this cap
    receiver.fail_times = 5
    enqueue(account, receiver.url)
    settle(env, clock, Deliverer(clock=clock))

    [view] = service.deliveries_for("MSG1")
    assert view.state == "delivered"
    times = [datetime.fromisoformat(a.at).timestamp() for a in view.attempts]
    # 5, 10, then 15 instead of 20, 40 (the cap is never exceeded by the jitter either)
    for gap, nominal in zip([b - a for a, b in itertools.pairwise(times)], [5, 10, 15, 15, 15], strict=True):
        assert 0.8 * nominal <= gap <= min(1.2 * nominal, 15) + 1.01


def test_past_the_horizon_a_delivery_fails_is_dead_lettered_and_replay_delivers_it(
    account, env, receiver, clock, monkeypatch
):
    monkeypatch.setenv("WEBHOOK_RETRY_HORIZON_SECONDS", "60")
    from smsgw.core.memo import forget_all

    forget_all()  # settings are read once: read them again with this horizon
    receiver.status = 503
    delivery_id = enqueue(account, receiver.url)
    settle(env, clock, Deliverer(clock=clock))

    [view] = service.deliveries_for("MSG1")
    assert view.state == "failed"
    assert view.failed_at
    times = [datetime.fromisoformat(a.at).timestamp() for a in view.attempts]
    assert len(times) >= 3
    assert times[-1] - times[0] <= 60
    assert len(receiver.requests) == len(times)
    [dead] = env.dead_letters()
    assert dead["delivery_id"] == delivery_id
    assert dead["subject_id"] == "MSG1"
    assert "503" in dead["last_error"]
    assert "gave up" in dead["last_error"]
    failed = (
        boto3.resource("dynamodb", region_name=REGION)
        .Table("smsgw-test")
        .query(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": "WEBHOOK#FAILED"},
        )["Items"]
    )
    assert [item["sk"] for item in failed] == [f"WEBHOOK#{delivery_id}"]

    receiver.status = 200
    assert service.replay(account_id=account.account_id) == [delivery_id]
    settle(env, clock, Deliverer(clock=clock))
    [view] = service.deliveries_for("MSG1")
    assert view.state == "delivered"
    assert view.failed_at is None
    assert [a.http_status for a in view.attempts] == [503] * len(times) + [200]
    assert service.replay(account_id=account.account_id) == []  # left the failed index


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254"])
def test_a_url_that_now_resolves_to_a_private_address_is_refused_at_delivery(
    account, env, receiver, clock, address
):
    delivery_id = enqueue(account, "https://hooks.example.com/status")
    worker = Deliverer(clock=clock, resolve=lambda host: [address])
    settle(env, clock, worker)

    assert receiver.requests == []
    [view] = service.deliveries_for("MSG1")
    assert view.state == "failed"
    [attempt] = view.attempts  # refused for good: not retried
    assert attempt.http_status is None
    assert "refused" in (attempt.error or "")
    assert "hooks.example.com" in (attempt.error or "")
    assert [d["delivery_id"] for d in env.dead_letters()] == [delivery_id]


def test_the_connection_goes_to_the_checked_address_not_a_new_lookup(receiver):
    """Pinned: the host name is only for Host/TLS; a rebinding DNS answer is never asked for."""
    port = receiver.url.split(":")[2].split("/")[0]
    transport = HttpTransport(connect_timeout=3, read_timeout=10)
    response = transport.post(f"http://hooks.invalid:{port}/pinned", b"{}", {}, ["127.0.0.1"])
    assert response.http_status == 200
    [got] = receiver.requests
    assert (got.path, got.headers["Host"]) == ("/pinned", f"hooks.invalid:{port}")


def test_enqueue_twice_with_the_same_dedupe_key_is_one_delivery(account, env, receiver):
    first = enqueue(account, receiver.url)
    assert enqueue(account, receiver.url) == first
    other = enqueue(account, receiver.url, key="MSG1:expired")
    assert other != first
    event = env.receive()
    # The repeated call queued `first` again (enqueue writes nothing): the first record to be taken
    # stores the delivery, the duplicate finds it and sends nothing. Each delivery is POSTed once.
    assert [json.loads(r["body"])["delivery_id"] for r in event["Records"]] == [first, first, other]
    load_handler("webhook").lambda_handler(event, LambdaContext())
    assert sorted(r.headers["webhook-id"] for r in receiver.requests) == sorted([first, other])
    assert [d.delivery_id for d in service.deliveries_for("MSG1")] == [first, other]


@pytest.mark.parametrize("dies_at", ["before its POST", "after its POST"])
def test_a_first_attempt_whose_function_died_is_taken_over_by_the_record_coming_back(
    account, env, receiver, clock, dies_at
):
    """The first record's function stored the delivery (its claim) and died, before or after the POST:
    SQS hands the record over again, and once the lease ran out it is sent (again, at least once: the
    receiver deduplicates on the same webhook-id)."""
    from smsgw.webhooks import delivery, repository

    class Died(Exception):
        pass

    delivery_id = enqueue(account, receiver.url)
    [record] = [json.loads(r["body"]) for r in env.receive()["Records"]]
    worker = Deliverer(clock=clock)
    with pytest.MonkeyPatch.context() as patched:
        if dies_at == "before its POST":
            patched.setattr(delivery, "recent_account", lambda account_id: (_ for _ in ()).throw(Died()))
        else:
            patched.setattr(repository, "record_attempt", lambda *a, **k: (_ for _ in ()).throw(Died()))
        with pytest.raises(Died):
            worker.handle(record)
    with pytest.raises(delivery.RetryLater):
        worker.handle(record)  # under its lease: not started twice
    clock.now += worker.lease_seconds + 1
    assert worker.handle(record) == "delivered"
    posts = 0 if dies_at == "before its POST" else 1
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery_id] * (posts + 1)
    [view] = service.deliveries_for("MSG1")
    assert (view.state, len(view.attempts)) == ("delivered", 1)


def test_410_gone_is_not_retried(account, env, receiver, clock):
    receiver.status = 410
    enqueue(account, receiver.url)
    settle(env, clock, Deliverer(clock=clock))
    [view] = service.deliveries_for("MSG1")
    assert view.state == "failed"
    assert [a.http_status for a in view.attempts] == [410]
    assert "receiver says no" in (view.attempts[0].error or "")


def test_a_redirect_is_recorded_and_not_followed(account, env, receiver, clock):
    receiver.fail_times, receiver.fail_status = 1, 307
    receiver.extra_headers = {"Location": "/elsewhere"}
    enqueue(account, receiver.url)
    settle(env, clock, Deliverer(clock=clock))
    assert [r.path for r in receiver.requests] == ["/hooks/status"] * 2  # never /elsewhere
    [view] = service.deliveries_for("MSG1")
    assert [a.http_status for a in view.attempts] == [307, 200]
    assert "redirect to /elsewhere not followed" in (view.attempts[0].error or "")


def test_retry_after_from_the_receiver_is_honoured(account, env, receiver, clock):
    receiver.fail_times, receiver.fail_status = 1, 429
    receiver.extra_headers = {"Retry-After": "120"}
    enqueue(account, receiver.url)
    settle(env, clock, Deliverer(clock=clock))
    [view] = service.deliveries_for("MSG1")
    first, second = (datetime.fromisoformat(a.at).timestamp() for a in view.attempts)
    assert 120 <= second - first <= 122


def test_an_unexpected_error_fails_only_its_record(account, env, receiver):
    enqueue(account, receiver.url)
    event = env.receive()
    broken = dict(event["Records"][0], messageId="broken", body="not json")
    event["Records"].append(broken)
    result = load_handler("webhook").lambda_handler(event, LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "broken"}]}
    assert len(receiver.requests) == 1


def test_no_attempt_starts_without_time_to_finish_it(account, env, receiver):
    enqueue(account, receiver.url)
    event = env.receive()
    result = load_handler("webhook").lambda_handler(event, LambdaContext(remaining_ms=5_000))
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert receiver.requests == []


def replay_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="smsgw")
    parser.add_argument("--stack-name", default="smsgw-webhooks")
    cli.add_commands(parser.add_subparsers(dest="group", required=True))
    return parser.parse_args(list(argv))


def test_cli_replay_finds_the_queue_from_the_stack_and_replays(account, env, receiver, clock, monkeypatch):
    receiver.status = 410
    delivery_id = enqueue(account, receiver.url)
    settle(env, clock, Deliverer(clock=clock))
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="smsgw-webhooks",
        TemplateBody=json.dumps(
            {
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"WebhookQueueUrl": {"Value": env.queue_url}},
            }
        ),
    )
    monkeypatch.delenv("WEBHOOK_QUEUE_URL")

    assert cli.run(replay_args("webhooks", "replay", "--since", "2999-01-01")) == {"replayed": [], "count": 0}
    with pytest.raises(BadRequest, match="since"):
        cli.run(replay_args("webhooks", "replay", "--since", "yesterday"))
    with pytest.raises(NotFound):
        cli.run(replay_args("webhooks", "replay", "--delivery", "01NOSUCHDELIVERY"))
    with pytest.raises(NotFound):
        cli.run(replay_args("webhooks", "replay", "--delivery", delivery_id, "--account", "someone-else"))

    receiver.status = 200
    result = cli.run(replay_args("webhooks", "replay", "--delivery", delivery_id))
    assert result == {"replayed": [delivery_id], "count": 1}
    settle(env, clock, Deliverer(clock=clock))
    assert service.deliveries_for("MSG1")[0].state == "delivered"


def test_cli_replay_without_a_queue_says_what_to_give(aws, monkeypatch):
    monkeypatch.delenv("WEBHOOK_QUEUE_URL", raising=False)
    with pytest.raises(BadRequest, match="--queue-url"):
        cli.run(replay_args("--stack-name", "no-such-stack", "webhooks", "replay"))


def test_cli_summary_lines():
    assert cli.summary({"replayed": [], "count": 0}) == "nothing to replay"
    assert cli.summary({"replayed": ["01A"], "count": 1}) == "replayed 1 delivery:\n  01A"
    assert cli.summary({"replayed": ["01A", "01B"], "count": 2}) == "replayed 2 deliveries:\n  01A\n  01B"
