"""moto's TransactWriteItems with a rollback that copies the items it touches, not whole tables.

moto (5.x) deep-copies the whole table before each item of a transaction, so that it can put the
tables back if one item fails: a transaction of n items on a table of m items copies n × m items. On
the bench's table (a few dozen items) that is ~39 ms per transaction, ten times a PutItem, where
DynamoDB answers a transaction in about the time of two writes. `item_level_rollback()` keeps moto's
own code for every check and write and for the error it raises; only what it saves beforehand
changes: a copy of each item the transaction names (or that it was absent), put back on any error.
The outcome of every transaction is the same (tests/unit/test_bench_moto_transactions.py).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any


@contextmanager
def item_level_rollback() -> Iterator[None]:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    backend_class = models.DynamoDBBackend
    original = backend_class.transact_write_items

    def deepcopy_but_not_tables(value: Any, memo: Any = None) -> Any:
        # moto's transaction copies a Table only to restore it on failure: hand back the table
        # itself (restoring it is then a no-op) and restore the touched items below instead.
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = [_saved(self, entry) for entry in transact_items]
        try:
            original(self, transact_items)
        except BaseException:
            for found in reversed(saved):  # the first copy of a key named twice is restored last
                if found is not None:
                    _restore(*found)
            raise

    backend_class.transact_write_items = transact_write_items  # type: ignore[method-assign]
    models.copy = SimpleNamespace(deepcopy=deepcopy_but_not_tables)  # type: ignore[assignment]
    try:
        yield
    finally:
        backend_class.transact_write_items = original  # type: ignore[method-assign]
        models.copy = copy  # type: ignore[assignment]


def _saved(backend: Any, entry: dict[str, Any]) -> tuple[Any, Any, Any, Any] | None:
    """(table, hash key, range key, a copy of the item or None) for one transaction item; None when it
    names no table or key moto knows (moto raises its own error for it, nothing to restore)."""
    try:
        _, operation = next(iter(entry.items()))
        table = backend.tables[operation["TableName"]]
        key = operation.get("Key")
        if key is None:
            item = operation["Item"]
            key = {name: item[name] for name in (table.hash_key_attr, table.range_key_attr) if name}
        hash_value, range_value = backend.get_keys_value(table, key)
        return table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))
    except Exception:
        return None


def _restore(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    if range_value is not None:
        if item is None:
            table.items[hash_value].pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item
    elif item is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = item
