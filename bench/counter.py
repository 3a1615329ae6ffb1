"""Counting every AWS API call a handler makes, through botocore's event hooks, and what each costs.

`AwsCallCounter` adds `before-call` / `after-call` handlers to botocore's built-in handler list, so every
client created afterwards (boto3 resources, Powertools' own clients, moto's mocked ones) reports to
it. Each call is recorded with its service, operation, table, keys, how many items it read, and the
DynamoDB request units it is billed (estimated from item sizes, per AWS's published rules).
"""

from __future__ import annotations

import base64
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
DYNAMODB_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
# Reads whose cost grows with what is stored unless bounded by a key and a Limit.
GROWING = {"Scan"}


@dataclass
class Call:
    service: str
    operation: str
    phase: str
    request: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)
    wru: float = 0.0
    rru: float = 0.0
    requests: int = 1  # billed requests (SQS: one per 64 KB chunk)

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"

    @property
    def table(self) -> str | None:
        return self.request.get("TableName")

    @property
    def items_read(self) -> int | None:
        """Items the call examined (Query/Scan: ScannedCount), for the growth check."""
        if "ScannedCount" in self.response:
            return int(self.response["ScannedCount"])
        return None


class AwsCallCounter:
    """with AwsCallCounter() as counter: ... counter.calls; `counter.phase = "send"` labels what follows."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.phase = "setup"
        self._installed: list[tuple[str, Callable[..., Any]]] = []

    def __enter__(self) -> AwsCallCounter:
        import boto3
        from botocore.handlers import BUILTIN_HANDLERS

        self._installed = [("before-call.*.*", self._before), ("after-call.*.*", self._after)]
        BUILTIN_HANDLERS.extend(self._installed)
        boto3.DEFAULT_SESSION = None  # the next boto3.client()/resource() builds a session with them
        return self

    def __exit__(self, *exc: object) -> None:
        from botocore.handlers import BUILTIN_HANDLERS

        for handler in self._installed:
            if handler in BUILTIN_HANDLERS:
                BUILTIN_HANDLERS.remove(handler)
        self._installed = []

    def _before(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        call = Call(service, model.name, self.phase, request=_request_body(params))
        if service == "sqs":
            call.requests = sqs_billed_requests(call.operation, call.request)
        context["bench_call"] = call
        self.calls.append(call)

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        call = context.get("bench_call")
        if call is None:
            return
        call.response = {k: v for k, v in (parsed or {}).items() if k != "ResponseMetadata"}
        if call.service == "dynamodb":
            call.wru, call.rru = dynamodb_units(call.operation, call.request, call.response)

    def refine_updates(self, fetch: Callable[[str, dict[str, Any]], dict[str, Any] | None]) -> None:
        """Bill updates on the item as it is now (`fetch(table, typed_key)`), when that is larger than
        what the request alone shows: DynamoDB bills the larger of the item before and after an update."""
        for call in self.calls:
            if call.service != "dynamodb":
                continue
            if call.operation == "UpdateItem" and not call.response.get("Attributes"):
                size = item_size(fetch(call.request["TableName"], call.request["Key"]))
                call.wru = max(call.wru, write_units(size))
            elif call.operation == "TransactWriteItems":
                wru = 0.0
                for entry in call.request.get("TransactItems", []):
                    (kind, body), *_ = entry.items()
                    if kind == "Put":
                        wru += write_units(item_size(body.get("Item")), transactional=True)
                        continue
                    size = item_size(body.get("Key")) + (_update_size(body) if kind == "Update" else 0)
                    if kind == "Update":
                        size = max(size, item_size(fetch(body["TableName"], body["Key"])))
                    wru += write_units(size, transactional=True)
                call.wru = wru

    def by_phase(self, phase: str) -> list[Call]:
        return [c for c in self.calls if c.phase == phase]

    def clear(self) -> None:
        self.calls.clear()


def _request_body(params: dict[str, Any]) -> dict[str, Any]:
    body = params.get("body")
    if isinstance(body, bytes | str) and body:
        try:
            data = json.loads(body)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return {}


def operation_counts(calls: Iterable[Call]) -> Counter[str]:
    return Counter(c.name for c in calls)


# --- DynamoDB item sizes and request units (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)

_TYPED = {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}


def _number_size(text: str) -> int:
    """Numbers: about one byte per two significant digits, plus one."""
    digits = text.lstrip("-+").replace(".", "").lstrip("0").rstrip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: Any) -> int:
    """Bytes DynamoDB counts for one attribute value, typed (wire format) or plain Python."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _TYPED:
        kind, inner = next(iter(value.items()))
        if kind == "S":
            return len(str(inner).encode())
        if kind == "N":
            return _number_size(str(inner))
        if kind == "B":
            return len(base64.b64decode(inner)) if isinstance(inner, str) else len(inner)
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "M":
            return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in inner.items())
        if kind == "L":
            return 3 + sum(value_size(v) + 1 for v in inner)
        if kind == "SS":
            return sum(len(s.encode()) for s in inner)
        if kind == "NS":
            return sum(_number_size(n) for n in inner)
        return sum(len(b) for b in inner)
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | float | Decimal):
        return _number_size(str(value))
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, dict):
        return 3 + sum(len(str(k).encode()) + value_size(v) + 1 for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return 3 + sum(value_size(v) + 1 for v in value)
    return len(str(value).encode())


def item_size(item: dict[str, Any] | None) -> int:
    """An item's size: attribute names plus values."""
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def write_units(size: int, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 1024))
    return units * (2 if transactional else 1)


def read_units(size: int, consistent: bool = False, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 4096))
    if transactional:
        return units * 2.0
    return float(units) if consistent else units / 2


def dynamodb_units(operation: str, request: dict[str, Any], response: dict[str, Any]) -> tuple[float, float]:
    """(write request units, read request units) one call is billed. Sizes come from the request (writes)
    or the response (reads); an update without returned values is billed on the item written in it
    (a lower bound: DynamoDB bills the larger of the item before and after)."""
    consistent = bool(request.get("ConsistentRead"))
    if operation == "PutItem":
        return write_units(item_size(request.get("Item"))), 0.0
    if operation in ("UpdateItem", "DeleteItem"):
        attributes = response.get("Attributes")
        size = item_size(attributes) if attributes else item_size(request.get("Key")) + _update_size(request)
        return write_units(size), 0.0
    if operation == "TransactWriteItems":
        wru = 0.0
        for entry in request.get("TransactItems", []):
            (kind, body), *_ = entry.items()
            size = item_size(body.get("Item")) if kind == "Put" else item_size(body.get("Key"))
            if kind == "Update":
                size += _update_size(body)
            wru += write_units(size, transactional=True)
        return wru, 0.0
    if operation == "BatchWriteItem":
        wru = 0.0
        for writes in request.get("RequestItems", {}).values():
            for write in writes:
                put = write.get("PutRequest", {}).get("Item")
                wru += write_units(item_size(put) if put else 1)
        return wru, 0.0
    if operation == "GetItem":
        return 0.0, read_units(item_size(response.get("Item")), consistent)
    if operation in ("Query", "Scan"):
        # Billed on the data read (before any filter), summed over the page, in 4 KB units.
        items = response.get("Items") or []
        size = sum(item_size(i) for i in items)
        scanned, returned = int(response.get("ScannedCount", len(items))), max(len(items), 1)
        size = size * scanned // returned if items else 0
        return 0.0, read_units(size, consistent)
    if operation == "BatchGetItem":
        rru = 0.0
        for table, items in (response.get("Responses") or {}).items():
            strong = bool(request.get("RequestItems", {}).get(table, {}).get("ConsistentRead"))
            rru += sum(read_units(item_size(i), strong) for i in items)
        return 0.0, rru
    if operation == "TransactGetItems":
        items = [r.get("Item") for r in response.get("Responses", [])]
        return 0.0, sum(read_units(item_size(i), transactional=True) for i in items)
    return 0.0, 0.0


def _update_size(request: dict[str, Any]) -> int:
    return sum(value_size(v) for v in (request.get("ExpressionAttributeValues") or {}).values())


def sqs_billed_requests(operation: str, request: dict[str, Any]) -> int:
    """SQS bills every 64 KB chunk of a payload as one request."""
    if operation == "SendMessage":
        return max(1, math.ceil(len(str(request.get("MessageBody", "")).encode()) / 65_536))
    if operation == "SendMessageBatch":
        total = sum(len(str(e.get("MessageBody", "")).encode()) for e in request.get("Entries", []))
        return max(1, math.ceil(total / 65_536))
    return 1
