"""The real handlers under moto, in this process: tables and queues as template.yaml declares them.

The same approach as tests/conftest.py (`aws`, `carrier_env`), packaged for benchmarks: a context
manager instead of pytest fixtures, plus a receiver for status callbacks and helpers that build the
events the HTTP API and the SQS event source hand a function.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from local.events import (  # noqa: F401 - shared with the tests
    REGION,
    LambdaContext,
    ack,
    api_event,
    sqs_event,
)
from local.events import load_handler as handler  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent

CARRIER_KEY, CARRIER_SECRET = "benchkey", "benchsecret"
SIGNATURE_SECRET, SIGNATURE_METHOD = "bench-signature-secret", "sha256"

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_METRICS_NAMESPACE": "smsgw-bench",
    "POWERTOOLS_SERVICE_NAME": "smsgw",
    "POWERTOOLS_DEV": "false",
    "POWERTOOLS_LOG_LEVEL": "INFO",  # as deployed (template LogLevel default)
}


def use_fake_aws() -> None:
    """Fake credentials and region; never a real endpoint."""
    os.environ.update(FAKE_AWS)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    for path in (str(ROOT), str(ROOT / "layers" / "common")):
        if path not in sys.path:
            sys.path.insert(0, path)


def template() -> dict[str, Any]:
    from local.template import load_template

    return load_template(ROOT / "template.yaml")


@dataclass
class Env:
    table_name: str
    queues: dict[str, str]
    simulator: Any = None
    receiver: Receiver | None = None

    @property
    def table(self) -> Any:
        import boto3

        return boto3.resource("dynamodb", region_name=REGION).Table(self.table_name)


def _create_table(client: Any, name: str, properties: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if "GlobalSecondaryIndexes" in properties:
        kwargs["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    client.create_table(**kwargs)


def reset_caches() -> None:
    """Forget cached clients, settings and per-container caches (as a new Lambda container would)."""
    from smsgw.core.memo import forget_all

    forget_all()


def _provision(simulator: Any, hooks: Receiver | None, rate_per_second: int) -> Env:
    """The template's table, queues, schedule group and carrier secret on the AWS the clients reach (moto
    in this process, or an endpoint set in AWS_ENDPOINT_URL), and the functions' environment for them."""
    import boto3

    resources = template()["Resources"]
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    _create_table(dynamodb, "smsgw-bench", resources["Table"]["Properties"])
    sqs = boto3.client("sqs", region_name=REGION)
    queues = {
        name: sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
        for name in (
            "send",
            "send-dlq",
            "webhooks",
            "webhooks-dlq",
            "inbound",
            "schedule-runs",
            "schedule-dlq",
        )
    }
    arn = {
        name: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for name, url in queues.items()
    }
    boto3.client("scheduler", region_name=REGION).create_schedule_group(Name="smsgw-bench")
    os.environ.update(
        {
            "TABLE_NAME": "smsgw-bench",
            "SEND_QUEUE_URL": queues["send"],
            "WEBHOOK_QUEUE_URL": queues["webhooks"],
            "WEBHOOK_DLQ_URL": queues["webhooks-dlq"],
            "INBOUND_QUEUE_URL": queues["inbound"],
            "CARRIER_PROVIDER": "simulator",
            "CARRIER_RATE_PER_SECOND": str(rate_per_second),
            "CALLBACK_ALLOW_HTTP_HOSTS": "127.0.0.1",
            "SCHEDULE_GROUP_NAME": "smsgw-bench",
            "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/smsgw-bench-scheduler",
            "SEND_QUEUE_ARN": arn["send"],
            "SCHEDULE_RUN_QUEUE_ARN": arn["schedule-runs"],
            "SCHEDULE_DLQ_ARN": arn["schedule-dlq"],
        }
    )
    # Always: carrier webhooks are refused unless the carrier secret says how they are signed.
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="smsgw/carrier",
        SecretString=json.dumps(
            {
                "api_key": CARRIER_KEY,
                "api_secret": CARRIER_SECRET,
                "signature_secret": SIGNATURE_SECRET,
                "signature_method": SIGNATURE_METHOD,
            }
        ),
    )
    os.environ["CARRIER_SECRET_NAME"] = "smsgw/carrier"
    if simulator is not None:
        os.environ["CARRIER_BASE_URL"] = simulator.url
    reset_caches()
    return Env("smsgw-bench", queues, simulator, hooks)


@contextmanager
def moto_env(
    *, carrier: bool = False, receiver: bool = False, rate_per_second: int = 100_000
) -> Iterator[Env]:
    """Moto with the template's tables and queues; with `carrier`, the simulator in this process and its
    credentials in (moto) Secrets Manager; with `receiver`, an HTTP endpoint for status callbacks."""
    use_fake_aws()
    from moto import mock_aws

    saved = dict(os.environ)
    with mock_aws(), _maybe_simulator(carrier) as simulator, _maybe_receiver(receiver) as hooks:
        try:
            yield _provision(simulator, hooks, rate_per_second)
        finally:
            reset_caches()
            os.environ.clear()
            os.environ.update(saved)


@contextmanager
def ministack_env(*, receiver: bool = False, rate_per_second: int = 100_000) -> Iterator[Env]:
    """The same on ministack, the local stack's AWS (local/services.py), in its own process on 127.0.0.1:
    every call is an HTTP round trip to another process, as on AWS, where moto in this process answers
    with a function call."""
    use_fake_aws()
    import tempfile

    from local.build import ensure_stack_venv
    from local.procs import LOOPBACK, free_port, wait_until
    from local.services import START_TIMEOUT, ministack_healthy, start_ministack

    python = ensure_stack_venv(
        ROOT / ".venv-stack", log=lambda line: print(f"[bench] {line}", file=sys.stderr)
    )
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="smsgw-bench-ministack-") as tmp:
        port = free_port()
        process = start_ministack(python, port, Path(tmp), REGION, False, Path(tmp) / "ministack.log")
        url = f"http://{LOOPBACK}:{port}"
        try:
            if not wait_until(lambda: ministack_healthy(process, url), START_TIMEOUT):
                raise process.fail("not healthy")
            os.environ["AWS_ENDPOINT_URL"] = url
            with _maybe_receiver(receiver) as hooks:
                yield _provision(None, hooks, rate_per_second)
        finally:
            reset_caches()
            os.environ.clear()
            os.environ.update(saved)
            process.stop()


@contextmanager
def _maybe_simulator(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    use_fake_aws()
    from simulator.server import start_simulator

    with start_simulator(
        api_key=CARRIER_KEY,
        api_secret=CARRIER_SECRET,
        signature_secret=SIGNATURE_SECRET,
        signature_method=SIGNATURE_METHOD,
    ) as sim:
        yield sim


@dataclass
class Receiver:
    """A customer's webhook endpoint that answers 200 and counts what it got."""

    url: str = ""
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def _maybe_receiver(enabled: bool) -> Iterator[Receiver | None]:
    if not enabled:
        yield None
        return
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                state.count += 1
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

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


@contextmanager
def captured_stdout() -> Iterator[list[int]]:
    """Send file descriptor 1 (where Powertools logs, as Lambda's stdout) to a temporary file; yields a
    one-element list that holds the bytes written once the block ends."""
    import tempfile

    sys.stdout.flush()
    saved = os.dup(1)
    written = [0]
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield written
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            written[0] = sink.seek(0, os.SEEK_END)


# --- what a function is handed ------------------------------------------------------------------


def signed_carrier_fields(fields: dict[str, str]) -> dict[str, str]:
    """A carrier webhook (DLR or inbound) signed as the simulator signs it."""
    from smsgw.carrier.vonage import sign_params

    params = {**fields, "timestamp": str(int(time.time())), "nonce": os.urandom(8).hex()}
    return {**params, "sig": sign_params(params, SIGNATURE_SECRET, SIGNATURE_METHOD)}
