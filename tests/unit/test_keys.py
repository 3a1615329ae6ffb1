"""Every stored key format, pinned: a change to one would orphan the items already in the table."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from smsgw import keys

ITEM_KEYS: list[tuple[Any, tuple[Any, ...], dict[str, str]]] = [
    (keys.account, ("a1",), {"pk": "ACCOUNT#a1", "sk": "ACCOUNT"}),
    (keys.client, ("c1",), {"pk": "CLIENT#c1", "sk": "CLIENT"}),
    (keys.api_key, ("k1",), {"pk": "APIKEY#k1", "sk": "APIKEY"}),
    (keys.token, ("h1",), {"pk": "TOKEN#h1", "sk": "TOKEN"}),
    (keys.signature, ("a1", "s1"), {"pk": "VSIG#a1#s1", "sk": "VSIG"}),
    (keys.message, ("m1",), {"pk": "MSG#m1", "sk": "MSG"}),
    (keys.idempotency_key, ("a1", "h1"), {"pk": "IDEMKEY#a1#h1", "sk": "IDEMKEY"}),
    (keys.day_spend, ("a1", "2024-05-01"), {"pk": "SPEND#a1#2024-05-01", "sk": "SPEND"}),
    (
        keys.velocity,
        ("a1", "3161234", 1700000040),
        {"pk": "VELOCITY#a1#3161234#1700000040", "sk": "VELOCITY"},
    ),
    (keys.carrier, ("c1",), {"pk": "CARRIER#c1", "sk": "CARRIER"}),
    (keys.pending_receipts, ("c1",), {"pk": "DLRPENDING#c1", "sk": "PENDING"}),
    (keys.pacer, ("kpn",), {"pk": "PACER#kpn", "sk": "PACER"}),
    (keys.breaker, ("kpn",), {"pk": "BREAKER#kpn", "sk": "BREAKER"}),
    (keys.connector, ("kpn",), {"pk": "CONFIG#CONNECTOR", "sk": "kpn"}),
    (keys.route, ("nl",), {"pk": "CONFIG#ROUTE", "sk": "nl"}),
    (keys.schedule, ("s1",), {"pk": "SCHEDULE#s1", "sk": "SCHEDULE"}),
    (keys.webhook_delivery, ("m1", "d1"), {"pk": "SUBJECT#m1", "sk": "WEBHOOK#d1"}),
    (keys.webhook_lookup, ("d1",), {"pk": "WEBHOOK#d1", "sk": "LOOKUP"}),
    (keys.number, ("447700900001",), {"pk": "NUMBER#447700900001", "sk": "NUMBER"}),
    (keys.verification, ("a1", "447700900001"), {"pk": "VERIFY#a1#447700900001", "sk": "VERIFY"}),
    (keys.inbound_part, ("c1",), {"pk": "INBOUND_PART#c1", "sk": "PART"}),
    (keys.concat_set, ("447700900001", "4915", "r1"), {"pk": "CONCAT#447700900001#4915#r1", "sk": "SET"}),
    (
        keys.concat_part,
        ("447700900001", "4915", "r1", 2),
        {"pk": "CONCAT#447700900001#4915#r1", "sk": "PART#002"},
    ),
    (
        keys.concat_part,
        ("447700900001", "4915", "r1", 12),
        {"pk": "CONCAT#447700900001#4915#r1", "sk": "PART#012"},
    ),
    (keys.inbound, ("i1",), {"pk": "INBOUND#i1", "sk": "INBOUND"}),
    (keys.auto_reply_sent, ("i1",), {"pk": "AUTOREPLY#i1", "sk": "SENT"}),
    (
        keys.auto_reply_recipient_count,
        ("4915", "447700900001", "2024-05-01"),
        {"pk": "AUTOREPLY#4915#447700900001#2024-05-01", "sk": "COUNT"},
    ),
    (
        keys.auto_reply_number_count,
        ("4915", "2024-05-01"),
        {"pk": "AUTOREPLY#4915#2024-05-01", "sk": "COUNT"},
    ),
    (keys.conversation, ("447700900001", "4915"), {"pk": "CONVO#447700900001#4915", "sk": "CONVO"}),
    (keys.opt_out, ("4915", "447700900001"), {"pk": "OPTOUT#4915#447700900001", "sk": "OPTOUT"}),
]

INDEX_VALUES: list[tuple[Any, tuple[Any, ...], str]] = [
    (keys.messages_index, ("a1",), "ACCOUNT#a1#MSG"),
    (keys.schedules_index, ("a1",), "ACCOUNT#a1#SCHEDULE"),
    (keys.owned_numbers_index, ("a1",), "ACCOUNT#a1#NUMBER"),
    (keys.registered_numbers_index, ("a1",), "ACCOUNT#a1#REGISTERED"),
    (keys.inbound_index, ("a1",), "ACCOUNT#a1#INBOUND"),
    (keys.failed_webhook_sort, ("2024-05-01T10:00:00+00:00", "d1"), "2024-05-01T10:00:00+00:00#d1"),
    (keys.subject, ("m1",), "SUBJECT#m1"),
    (keys.concat, ("447700900001", "4915", "r1"), "CONCAT#447700900001#4915#r1"),
]

CONSTANTS = {
    "FAILED_WEBHOOKS_INDEX": "WEBHOOK#FAILED",
    "UNROUTED_INBOUND_INDEX": "INBOUND#UNROUTED",
    "WEBHOOK_DELIVERY_PREFIX": "WEBHOOK#",
    "PENDING_RECEIPTS_PREFIX": "DLRPENDING#",
    "CONNECTORS": "CONFIG#CONNECTOR",
    "ROUTES": "CONFIG#ROUTE",
    "CONCAT_SET_SK": "SET",
    "CONCAT_PART_PREFIX": "PART#",
}


@pytest.mark.parametrize(
    ("function", "args", "expected"), ITEM_KEYS, ids=lambda v: getattr(v, "__name__", None)
)
def test_item_key(function, args, expected):
    assert function(*args) == expected


@pytest.mark.parametrize(
    ("function", "args", "expected"), INDEX_VALUES, ids=lambda v: getattr(v, "__name__", None)
)
def test_index_value(function, args, expected):
    assert function(*args) == expected


@pytest.mark.parametrize(("name", "expected"), sorted(CONSTANTS.items()))
def test_constant(name, expected):
    assert getattr(keys, name) == expected


def test_every_format_in_the_module_is_pinned_here():
    """A new key function or constant gets its pinned value above before it is used."""
    functions = {
        name
        for name, value in vars(keys).items()
        if inspect.isfunction(value) and value.__module__ == keys.__name__ and not name.startswith("_")
    }
    constants = {name for name, value in vars(keys).items() if name.isupper() and isinstance(value, str)}
    pinned = {case[0].__name__ for case in ITEM_KEYS + INDEX_VALUES}
    assert functions == pinned
    assert constants == set(CONSTANTS)


def test_every_key_function_says_which_item_it_is():
    for function, _, _ in ITEM_KEYS + INDEX_VALUES:
        assert function.__doc__, function.__name__
        assert "\n" not in function.__doc__.strip(), function.__name__


def test_the_data_model_documents_every_pk_kind():
    """docs/data-model.md and the module's table name every partition kind the code writes."""
    doc = (Path(__file__).parents[2] / "docs" / "data-model.md").read_text()
    for function, _, expected in ITEM_KEYS:
        kind = expected["pk"].split("#", 1)[0] + "#"
        assert f"`{kind}" in doc, (function.__name__, kind)
        assert kind in (keys.__doc__ or ""), (function.__name__, kind)
        if kind != "CONFIG#":  # configuration items are keyed by their name (`<name>`, `<route_id>`)
            assert expected["sk"].split("#", 1)[0] in doc, (function.__name__, expected["sk"])
