"""Lambda events as the HTTP API, a function URL and the SQS event source deliver them, and a Lambda context:
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


def _text_body(content_type: str | None) -> bool:
    """Whether an HTTP API hands the body over as text; any other body (a form too) arrives base64-encoded."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media in (
        "application/json",
        "application/xml",
        "application/javascript",
    )


def http_api_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    query: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    authorizer: dict[str, Any] | None = None,
    path_parameters: dict[str, str] | None = None,
    route_key: str | None = None,
    caller_account: str = "123456789012",
) -> dict[str, Any]:
    """An HTTP API (payload format 2.0) event, as the deployed `$default` stage delivers it: header
    names lower-cased, a repeated query parameter's values joined with commas, a body that is not text
    base64-encoded, the authorizer's context in `requestContext.authorizer.lambda`."""
    lowered = {key.lower(): value for key, value in headers.items()}
    lowered.setdefault("host", "abc123.execute-api.eu-west-1.amazonaws.com")
    joined: dict[str, list[str]] = {}
    for name, value in query or []:
        joined.setdefault(name, []).append(value)
    encoded = body is not None and not _text_body(lowered.get("content-type"))
    text: str | None = None
    if body is not None:
        text = base64.b64encode(body).decode() if encoded else body.decode("utf-8", "replace")
    route = route_key or f"{method} {path}"
    context: dict[str, Any] = {
        "accountId": caller_account,
        "apiId": "abc123",
        "domainName": lowered["host"],
        "domainPrefix": "abc123",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": lowered.get("user-agent", "test"),
        },
        "requestId": "req-1",
        "routeKey": route,
        "stage": "$default",
        "time": "03/Dec/2026:19:00:00 +0000",
        "timeEpoch": int(time.time() * 1000),
    }
    if authorizer is not None:
        context["authorizer"] = {"lambda": authorizer}
    return {
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": urllib.parse.urlencode(query or []),
        "headers": lowered,
        **({"queryStringParameters": {k: ",".join(v) for k, v in joined.items()}} if joined else {}),
        **({"pathParameters": path_parameters} if path_parameters else {}),
        "requestContext": context,
        **({"body": text} if text is not None else {}),
        "isBase64Encoded": encoded,
    }


def api_event(
    method: str,
    path: str,
    *,
    form: dict[str, str] | None = None,
    json_body: Any = None,
    raw_body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    account_id: str | None = None,
    expires_at: int | None = None,
    refused: str | None = None,
) -> dict[str, Any]:
    """The HTTP API event of a request: a form or JSON body, or any raw one; the caller the authorizer
    found (`account_id`, its token valid for an hour unless `expires_at`) or the `refused` token's reason."""
    all_headers = {key.lower(): value for key, value in (headers or {}).items()}
    raw = _body(all_headers, form, json_body, raw_body)
    authorizer: dict[str, Any] | None = None
    if account_id:
        expiry = expires_at if expires_at is not None else int(time.time()) + 3600
        authorizer = {"account_id": account_id, "expires_at": str(expiry)}
    elif refused:
        authorizer = {"reason": refused}
    return http_api_event(
        method, path, headers=all_headers, query=list((query or {}).items()), body=raw, authorizer=authorizer
    )


def function_url_event(
    method: str,
    path: str,
    *,
    form: dict[str, str] | None = None,
    json_body: Any = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Lambda function URL (payload format 2.0) event, as the carriers' webhooks arrive (CarrierDlrUrl):
    the HTTP API's shape with the `$default` route, an anonymous caller and the function URL's host."""
    headers = {"host": "abc123.lambda-url.eu-west-1.on.aws", "user-agent": "carrier"}
    return http_api_event(
        method,
        path,
        headers=headers,
        query=list((query or {}).items()),
        body=_body(headers, form, json_body),
        route_key="$default",
        caller_account="anonymous",
    )


def _body(
    headers: dict[str, str],
    form: dict[str, str] | None,
    json_body: Any,
    raw_body: str | bytes | None = None,
) -> bytes | None:
    """The request body's bytes: a form or JSON (its content type set in `headers` unless given), or raw."""
    if form is not None:
        headers.setdefault("content-type", "application/x-www-form-urlencoded")
        return urllib.parse.urlencode(form).encode()
    if json_body is not None:
        headers.setdefault("content-type", "application/json")
        return json.dumps(json_body).encode()
    return raw_body.encode() if isinstance(raw_body, str) else raw_body
