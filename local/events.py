"""Lambda events as API Gateway (REST) and the SQS event source deliver them, and a Lambda context:
for the tests (tests/conftest.py) and the in-process benchmarks (bench/), which call the real handlers."""

from __future__ import annotations

import base64
import importlib
import json
import time
import urllib.parse
from dataclasses import dataclass
from types import ModuleType
from typing import Any

REGION = "eu-west-1"


def sqs_event(queue_url: str, max_records: int = 10) -> dict[str, Any]:
    """What an SQS event source hands a function: the visible records, with their receipt handles."""
    import boto3

    sqs = boto3.client("sqs", region_name=REGION)
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=max_records, AttributeNames=["All"])
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:{queue_url.rsplit('/', 1)[-1]}",
                "awsRegion": REGION,
            }
            for m in got.get("Messages", [])
        ]
    }


def ack(queue_url: str, event: dict[str, Any], result: dict[str, Any] | None) -> None:
    """Delete the records that succeeded (DeleteMessageBatch), as the event source does after a
    partial-failure answer."""
    import boto3

    failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
    done = [r for r in event["Records"] if r["messageId"] not in failed]
    if done:
        boto3.client("sqs", region_name=REGION).delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": r["receiptHandle"]} for n, r in enumerate(done)],
        )


def load_handler(name: str) -> ModuleType:
    """functions/<name>/app.py, imported after the mocks are up (as Lambda would, with CodeUri as root)."""
    module = importlib.import_module(f"functions.{name}.app")
    return module


@dataclass
class LambdaContext:
    function_name: str = "test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:test"
    aws_request_id: str = "req-1"
    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def api_event(
    method: str,
    path: str,
    *,
    form: dict[str, str] | None = None,
    json_body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    account_id: str | None = None,
    expires_at: int | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as the deployed stage delivers it."""
    all_headers = dict(headers or {})
    body = raw_body
    if form is not None:
        body = urllib.parse.urlencode(form)
        all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif json_body is not None:
        body = json.dumps(json_body)
        all_headers.setdefault("Content-Type", "application/json")
    # What the authorizer puts in the context: the account and the token's expiry (default: an hour ahead).
    authorizer = (
        {
            "account_id": account_id,
            "expires_at": str(expires_at if expires_at is not None else int(time.time()) + 3600),
            "principalId": account_id,
        }
        if account_id
        else None
    )
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": "req-1",
            "authorizer": authorizer,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def function_url_event(
    method: str,
    path: str,
    *,
    form: dict[str, str] | None = None,
    json_body: Any = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Lambda function URL (payload format 2.0) event, as the carriers' webhooks arrive (CarrierDlrUrl):
    headers lower-cased, a form body base64-encoded, no stage."""
    headers: dict[str, str] = {"host": "abc123.lambda-url.eu-west-1.on.aws"}
    body: str | None = None
    encoded = False
    if form is not None:
        body = base64.b64encode(urllib.parse.urlencode(form).encode()).decode()
        encoded = True
        headers["content-type"] = "application/x-www-form-urlencoded"
    elif json_body is not None:
        body = json.dumps(json_body)
        headers["content-type"] = "application/json"
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urllib.parse.urlencode(query or {}),
        "headers": headers,
        **({"queryStringParameters": query} if query else {}),
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abc123",
            "domainName": headers["host"],
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "carrier",
            },
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "03/Dec/2026:19:00:00 +0000",
            "timeEpoch": int(time.time() * 1000),
        },
        **({"body": body} if body is not None else {}),
        "isBase64Encoded": encoded,
    }
