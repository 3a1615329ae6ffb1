"""Shared fixtures: moto-backed AWS built from template.yaml's own definitions, API Gateway events."""

from __future__ import annotations

import base64
import copy
import functools
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from local.events import (
    REGION,
    LambdaContext,
    ack,
    api_event,
    load_handler,
    sqs_event,
)

ROOT = Path(__file__).resolve().parent.parent

# What the carrier signs its receipts and inbound messages with (in the carrier secret).
CARRIER_SIGNATURE_SECRET = "carrier-signature-secret"
CARRIER_SIGNATURE_METHOD = "sha256"

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_METRICS_NAMESPACE": "smsgw-test",
        "POWERTOOLS_DEV": "false",
        # moto in this process is not thread-safe (a transaction deep-copies a table another thread
        # writes to), so the dispatcher takes a batch's records one at a time here; the e2e tests and
        # `make chaos` run it at the default (10 at once) against the local stack.
        "DISPATCH_RECORDS_AT_ONCE": "1",
        "WEBHOOK_RECORDS_AT_ONCE": "1",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)


class _TemplateLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Reads CloudFormation YAML; intrinsic tags (!Ref, !GetAtt, …) become plain values. libyaml's
    loader where PyYAML has it (about 10× faster: the `aws` fixture reads the template for every test)."""


_TemplateLoader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: (
        loader.construct_scalar(node)
        if isinstance(node, yaml.ScalarNode)
        else loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
    ),
)


@functools.cache
def _template_text_parsed() -> dict[str, Any]:
    return yaml.load((ROOT / "template.yaml").read_text(), Loader=_TemplateLoader)  # noqa: S506


def template() -> dict[str, Any]:
    """template.yaml, parsed once per test process; each caller gets its own copy to change."""
    return copy.deepcopy(_template_text_parsed())


def _create_table(client: Any, name: str, properties: dict[str, Any]) -> None:
    """The table exactly as the template declares its keys and indexes, so tests and template cannot drift."""
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if "GlobalSecondaryIndexes" in properties:
        kwargs["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    client.create_table(**kwargs)


@dataclass
class Aws:
    table_name: str
    send_queue_url: str
    dead_letter_queue_url: str

    @property
    def table(self) -> Any:
        return boto3.resource("dynamodb", region_name=REGION).Table(self.table_name)

    def queued_bodies(self, queue_url: str | None = None) -> list[dict[str, Any]]:
        """Drain the queue and return the message bodies."""
        sqs = boto3.client("sqs", region_name=REGION)
        bodies: list[dict[str, Any]] = []
        while True:
            got = sqs.receive_message(QueueUrl=queue_url or self.send_queue_url, MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                sqs.delete_message(
                    QueueUrl=queue_url or self.send_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def items(self, prefix: str) -> list[dict[str, Any]]:
        items = self.table.scan()["Items"]
        return [item for item in items if item["pk"].startswith(prefix)]


# One moto mock per test process, kept on from one test that uses `aws` to the next (their data wiped
# between them), and switched off before any test that does not use it. Starting moto costs ≈0.25 s (it
# registers every service's URL patterns and a new boto3 session); wiping its data ≈0.03 s — over
# ~1,500 tests that was a third of `make test`.
_moto: Any = None


def _moto_on() -> None:
    global _moto
    from moto import mock_aws
    from moto.core.base_backend import BackendDict
    from moto.core.model_instances import reset_model_data

    if _moto is None:
        _moto = mock_aws()
        _moto.start()
    else:  # what stopping and starting again would wipe, without re-patching
        BackendDict.reset()
        reset_model_data()


def _moto_off() -> None:
    global _moto
    if _moto is not None:
        _moto.stop()
        _moto = None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if "aws" not in getattr(item, "fixturenames", ()):
        _moto_off()  # a test without moto talks to what it starts itself, never to a leftover mock


def pytest_sessionfinish() -> None:
    _moto_off()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    _moto_on()
    resources = template()["Resources"]
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    _create_table(dynamodb, "smsgw-test", resources["Table"]["Properties"])
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.create_queue(QueueName="send-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName="send",
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "8"}),
        },
    )["QueueUrl"]
    webhook_dlq = sqs.create_queue(QueueName="webhooks-dlq")["QueueUrl"]
    webhook_queue = sqs.create_queue(QueueName="webhooks", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    inbound_queue = sqs.create_queue(QueueName="inbound", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    schedule_dlq = sqs.create_queue(QueueName="schedule-dlq")["QueueUrl"]
    schedule_runs = sqs.create_queue(QueueName="schedule-runs", Attributes={"VisibilityTimeout": "0"})[
        "QueueUrl"
    ]
    boto3.client("scheduler", region_name=REGION).create_schedule_group(Name="smsgw-test")
    env = {
        "SCHEDULE_GROUP_NAME": "smsgw-test",
        "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/smsgw-scheduler",
        "SEND_QUEUE_ARN": queue_arn,
        "SCHEDULE_DLQ_ARN": sqs.get_queue_attributes(QueueUrl=schedule_dlq, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"],
        "SCHEDULE_RUN_QUEUE_ARN": sqs.get_queue_attributes(
            QueueUrl=schedule_runs, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"],
        "INBOUND_QUEUE_URL": inbound_queue,
        "WEBHOOK_QUEUE_URL": webhook_queue,
        "WEBHOOK_DLQ_URL": webhook_dlq,
        "TABLE_NAME": "smsgw-test",
        "SEND_QUEUE_URL": queue,
        "CARRIER_PROVIDER": "simulator",
        "CARRIER_SECRET_NAME": "",
        "CARRIER_RATE_PER_SECOND": "1000",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _reset()
    yield Aws("smsgw-test", queue, dlq)
    _reset()


def _reset() -> None:
    """Every client, the settings and every cache of the layer, forgotten (smsgw.core.memo)."""
    from smsgw.core.memo import forget_all

    forget_all()


@pytest.fixture
def account(aws: Aws) -> Any:
    from smsgw.accounts import service

    return service.create_account("acme", balance="10", senders=["ACME", "31612345678"])


@pytest.fixture
def simulator() -> Iterator[Any]:
    """The carrier simulator, a real HTTP server on a free port, in this process."""
    from simulator.server import start_simulator

    with start_simulator(
        api_key="simkey01",
        api_secret="simsecret",
        signature_secret=CARRIER_SIGNATURE_SECRET,
        signature_method=CARRIER_SIGNATURE_METHOD,
    ) as sim:
        yield sim


@pytest.fixture
def carrier_env(aws: Aws, simulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Dispatch pointed at the simulator, with its credentials in (moto) Secrets Manager."""
    from smsgw.core.memo import forget_all

    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="smsgw/carrier",
        SecretString=json.dumps(
            {
                "api_key": "simkey01",
                "api_secret": "simsecret",
                "signature_secret": CARRIER_SIGNATURE_SECRET,
                "signature_method": CARRIER_SIGNATURE_METHOD,
            }
        ),
    )
    monkeypatch.setenv("CARRIER_BASE_URL", simulator.url)
    monkeypatch.setenv("CARRIER_SECRET_NAME", "smsgw/carrier")
    monkeypatch.setenv("DISPATCH_MAX_RECEIVES", "3")
    forget_all()
    return simulator


def drain_queue(queue_url: str, handler: str) -> None:
    """Run `functions/<handler>` on the queue until it is empty, deleting what succeeded (as the event
    source does); a record reported as failed comes back on a later receive."""
    while (event := sqs_event(queue_url))["Records"]:
        ack(queue_url, event, load_handler(handler).lambda_handler(event, LambdaContext()))


def response_header(response: dict[str, Any], name: str) -> str | None:
    """A response header, whether the resolver answered with headers or multiValueHeaders."""
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return ", ".join(values)
    return None


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A customer's webhook endpoint: answers `fail_times` requests with `fail_status`, then `status`."""

    url: str = ""
    status: int = 200
    fail_times: int = 0
    fail_status: int = 500
    extra_headers: dict[str, str] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            if self.fail_times > 0:
                self.fail_times -= 1
                return self.fail_status
            return self.status


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                state.requests.append(Received(self.path, dict(self.headers.items()), body))
            status = state.answer()
            self.send_response(status)
            for name, value in state.extra_headers.items():
                self.send_header(name, value)
            payload = b"ok" if status < 300 else b"receiver says no"
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/status"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Clock:
    """A time moved only by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def callbacks_allowed(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test receiver listens on 127.0.0.1, which only an operator allow-list permits."""
    from smsgw.core.memo import forget_all

    monkeypatch.setenv("CALLBACK_ALLOW_HTTP_HOSTS", "127.0.0.1")
    forget_all()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The service's clock, and moto's: SQS delays and visibility timeouts follow it."""
    import moto.core.utils

    fake = Clock(time.time())
    monkeypatch.setattr(
        moto.core.utils, "utcnow", lambda: datetime.fromtimestamp(fake.now, UTC).replace(tzinfo=None)
    )
    return fake


REGISTER_PATH = "/communication/nexmo/sms/register"


def code_sent_to(phone: str) -> str:
    """The newest verification code SMS to `phone`, as its holder reads it (from the stored message)."""
    import re

    table = boto3.resource("dynamodb", region_name=REGION).Table(os.environ["TABLE_NAME"])
    sent = [
        item
        for item in table.scan()["Items"]
        if item["pk"].startswith("MSG#") and item.get("to") == phone and item.get("purpose") == "verification"
    ]
    newest = max(sent, key=lambda item: item["message_id"])
    match = re.search(r"\b(\d{6})\b", newest["text"])
    assert match, newest["text"]
    return match.group(1)


def register_phone(account_id: str, phone: str, callback_url: str) -> dict[str, Any]:
    """KPN's /sms/register with its proof of possession: the code SMS, then the call with the code."""
    handler = load_handler("numbers")
    fields = {"to": phone, "callback_url": callback_url}
    first = handler.lambda_handler(
        api_event("POST", REGISTER_PATH, form=fields, account_id=account_id), LambdaContext()
    )
    if first["statusCode"] == 200:  # already this account's: the callback was replaced
        return json.loads(first["body"])
    assert first["statusCode"] == 202, first["body"]
    confirmed = handler.lambda_handler(
        api_event(
            "POST",
            REGISTER_PATH,
            form={**fields, "code": code_sent_to(phone.removeprefix("+"))},
            account_id=account_id,
        ),
        LambdaContext(),
    )
    assert confirmed["statusCode"] == 201, confirmed["body"]
    return json.loads(confirmed["body"])


@pytest.fixture
def crash_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Arm a crash point the way `make chaos` does (a FAULTS_FILE, honoured on the local emulator)."""
    faults = tmp_path / "faults.json"
    monkeypatch.setenv("LOCAL_EMULATOR", "true")
    monkeypatch.setenv("FAULTS_FILE", str(faults))

    def arm(point: str | None) -> None:
        faults.write_text(json.dumps({"crash": {point: 1.0} if point else {}}))

    return arm
