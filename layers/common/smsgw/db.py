"""Lazily created, cached AWS clients. Nothing here runs at import time, so tests can import under moto."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.transform import TransformationInjector, copy_dynamodb_params
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import ClientError

from smsgw.config import get_settings
from smsgw.core.memo import per_process

_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=10)


@per_process
def dynamodb_client() -> Any:
    """A DynamoDB client that takes and returns Python values (Decimal, str, sets…), conditions from
    boto3.dynamodb.conditions too, for items and transactions alike.

    It is what `boto3.resource("dynamodb").meta.client` is — the same four handlers of
    boto3.dynamodb.transform, registered as the resource registers them — without building the
    resource: that cost every function's cold start ~60 ms more than a client (docs/benchmarks.md §3).
    """
    client = boto3.client("dynamodb", config=_CLIENT_CONFIG)
    injector = TransformationInjector()
    events = client.meta.events
    events.register(
        "provide-client-params.dynamodb", copy_dynamodb_params, unique_id="dynamodb-create-params-copy"
    )
    events.register(
        "before-parameter-build.dynamodb",
        injector.inject_condition_expressions,
        unique_id="dynamodb-condition-expression",
    )
    events.register(
        "before-parameter-build.dynamodb",
        injector.inject_attribute_value_input,
        unique_id="dynamodb-attr-value-input",
    )
    events.register(
        "after-call.dynamodb", injector.inject_attribute_value_output, unique_id="dynamodb-attr-value-output"
    )
    return client


class Table:
    """The gateway's table, used as boto3's Table resource was: its item operations, the table's name
    filled in unless the call names one (as the resource's actions), Python values in and out
    (`dynamodb_client`)."""

    def __init__(self, client: Any, name: str) -> None:
        self._client = client
        self.name = name

    def _call(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        return getattr(self._client, operation)(**{"TableName": self.name, **kwargs})  # type: ignore[no-any-return]

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("get_item", kwargs)

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("put_item", kwargs)

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("update_item", kwargs)

    def delete_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("delete_item", kwargs)

    def query(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("query", kwargs)

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("scan", kwargs)


def table() -> Table:
    return _table(get_settings().table_name)


@per_process
def _table(name: str) -> Table:
    return Table(dynamodb_client(), name)


@per_process
def sqs() -> Any:
    return boto3.client("sqs", config=_CLIENT_CONFIG)


@per_process
def scheduler() -> Any:
    return boto3.client("scheduler", config=_CLIENT_CONFIG)


def condition_failed(error: ClientError) -> bool:
    """A conditional write whose condition did not hold (the expected "no", not an outage)."""
    return bool(error.response["Error"]["Code"] == "ConditionalCheckFailedException")


_DESERIALIZE = TypeDeserializer()


def plain_item(typed: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """An item in DynamoDB's typed JSON — what a failed condition returns (ReturnValuesOnConditionCheckFailure,
    a transaction's cancellation reasons), even through the table resource — as the resource returns items."""
    return None if typed is None else {name: _DESERIALIZE.deserialize(value) for name, value in typed.items()}


def transaction_condition_failed(error: ClientError, item: int = 0) -> bool:
    """A transaction cancelled because the condition of its `item`-th write did not hold."""
    reasons = error.response.get("CancellationReasons") or []
    return len(reasons) > item and reasons[item].get("Code") == "ConditionalCheckFailed"


def update_if(key: dict[str, str], **kwargs: Any) -> dict[str, Any] | None:
    """A conditional UpdateItem on the table: the item as it is now, or None when the condition failed."""
    try:
        return dict(table().update_item(Key=key, ReturnValues="ALL_NEW", **kwargs)["Attributes"])
    except ClientError as error:
        if condition_failed(error):
            return None
        raise


# DynamoDB's largest item, in its own accounting (attribute names + values, see item_size).
MAX_ITEM_BYTES = 400 * 1024


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size as DynamoDB counts it against MAX_ITEM_BYTES: UTF-8 names and strings, numbers by
    their digits, 3 bytes per list or map plus 1 per element, 1 byte for a boolean or null."""

    def size(value: Any) -> int:
        if isinstance(value, str):
            return len(value.encode("utf-8", "surrogatepass"))
        if isinstance(value, bytes | bytearray):
            return len(value)
        if isinstance(value, bool) or value is None:
            return 1
        if isinstance(value, int | float | Decimal):
            return (len(str(abs(value)).replace(".", "").lstrip("0")) + 1) // 2 + 1
        if isinstance(value, Mapping):
            return 3 + sum(1 + size(str(k)) + size(v) for k, v in value.items())
        if isinstance(value, list | tuple | set | frozenset):
            return 3 + sum(1 + size(v) for v in value)
        return len(str(value).encode())

    return sum(size(name) + size(value) for name, value in item.items())
