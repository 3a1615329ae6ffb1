"""The carrier simulator's inbound SMS: field building (contract §4), splitting, signing and request checks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from simulator import protocol
from simulator.receipts import ManualTimer
from simulator.server import SimulatorConfig, SimulatorState, _InboundRequest

AT = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
SECRET = "sigsecret-123"
REQUIRED = {
    "msisdn",
    "to",
    "messageId",
    "text",
    "type",
    "keyword",
    "api-key",
    "message-timestamp",
    "timestamp",
}
CONCAT = {"concat", "concat-ref", "concat-total", "concat-part"}


def build(texts: list[str], **options: Any) -> list[dict[str, str]]:
    settings: dict[str, Any] = {
        "msisdn": "31612345678",
        "to": "3197010000001",
        "texts": texts,
        "message_ids": [f"ID{number}" for number in range(len(texts))],
        "api_key": "abcd1234",
        "at": AT,
        **options,
    }
    return protocol.inbound_messages(**settings)


# --- fields ---------------------------------------------------------------------------------------------------


def test_a_single_part_message_has_no_concat_fields_and_only_strings():
    [fields] = build(["hello there"])
    assert fields == {
        "msisdn": "31612345678",
        "to": "3197010000001",
        "messageId": "ID0",
        "text": "hello there",
        "keyword": "HELLO",
        "type": "text",
        "api-key": "abcd1234",
        "message-timestamp": "2023-11-14 22:13:20",
        "timestamp": "1700000000",
    }


def test_parts_carry_the_concat_fields_1_based_with_one_ref():
    parts = build(["one ", "two ", "three"], concat_ref="17")
    for number, fields in enumerate(parts, start=1):
        assert set(fields) == REQUIRED | CONCAT
        assert all(isinstance(value, str) for value in fields.values())
        assert (fields["concat"], fields["concat-ref"], fields["concat-total"], fields["concat-part"]) == (
            "true",
            "17",
            "3",
            str(number),
        )
    assert [fields["text"] for fields in parts] == ["one ", "two ", "three"]
    assert len({fields["messageId"] for fields in parts}) == 3


def test_the_keyword_is_the_first_word_of_the_whole_message_in_every_part():
    parts = build(["he", "llo world"], concat_ref="1")
    assert [fields["keyword"] for fields in parts] == ["HELLO", "HELLO"]  # not "HE" from the first part alone


@pytest.mark.parametrize(
    ("text", "keyword"),
    [("stop now", "STOP"), ("  \n Stop", "STOP"), ("héllo wörld", "HÉLLO"), ("", ""), ("   ", "")],
)
def test_inbound_keyword(text, keyword):
    assert protocol.inbound_keyword(text) == keyword


def test_binary_parts_carry_data_and_udh_and_text_only_when_there_is_one():
    [fields] = build([""], kind="binary", data="0A1B", udh="050003CC0201")
    assert (fields["type"], fields["data"], fields["udh"]) == ("binary", "0A1B", "050003CC0201")
    assert "text" not in fields
    assert "keyword" not in fields
    [with_text] = build(["caption"], kind="binary", data="FF")
    assert (with_text["text"], with_text["keyword"], "udh" in with_text) == ("caption", "CAPTION", False)


def test_building_refuses_inconsistent_input():
    with pytest.raises(ValueError, match="concat_ref"):
        build(["a", "b"])
    with pytest.raises(ValueError, match="message ids"):
        build(["a"], message_ids=["x", "y"])
    with pytest.raises(ValueError, match="type"):
        build(["a"], kind="wappush")


@pytest.mark.parametrize("method", protocol.SIGNATURE_METHODS)
def test_a_signed_inbound_part_verifies_and_a_changed_one_does_not(method):
    [fields] = build(["Hi & bye = ok"])
    signed = protocol.sign_webhook(fields, SECRET, method, 1_700_000_100, "nonce-1")
    assert (signed["timestamp"], signed["nonce"]) == ("1700000100", "nonce-1")  # the signing time
    assert protocol.check_signature(signed, SECRET, method)
    assert not protocol.check_signature({**signed, "text": "Hi"}, SECRET, method)
    assert not protocol.check_signature(signed, "other", method)


def test_inbound_message_ids_look_like_vonage_ones_and_differ():
    ids = {protocol.new_inbound_message_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"[0-9A-F]{16}", message_id) for message_id in ids)


@pytest.mark.parametrize(
    ("text", "parts", "sizes"),
    [
        ("abcdefghij", 3, [4, 3, 3]),
        ("abcdef", 6, [1] * 6),
        ("ab", 1, [2]),
        ("", 1, [0]),
        ("a😀b😀", 2, [2, 2]),
    ],
)
def test_split_evenly(text, parts, sizes):
    pieces = protocol.split_evenly(text, parts)
    assert [len(piece) for piece in pieces] == sizes
    assert "".join(pieces) == text


def test_split_evenly_refuses_more_parts_than_characters():
    with pytest.raises(ValueError, match="4 non-empty parts"):
        protocol.split_evenly("abc", 4)
    with pytest.raises(ValueError, match="0 non-empty parts"):
        protocol.split_evenly("abc", 0)


def test_parse_message_timestamp_is_utc():
    assert protocol.parse_message_timestamp("2023-11-14 22:13:20") == AT
    with pytest.raises(ValueError, match="does not match format"):
        protocol.parse_message_timestamp("2023-11-14T22:13:20Z")


# --- the injection request --------------------------------------------------------------------------------------


def parse(**request: Any) -> _InboundRequest:
    return _InboundRequest.parse({"from": "31612345678", "to": "3197010000001", "text": "hello", **request})


@pytest.mark.parametrize(
    ("text", "kind", "sizes"),
    [
        ("a" * 160, "text", [160]),
        ("a" * 161, "text", [153, 8]),
        ("a" * 306, "text", [153, 153]),
        ("a" * 307, "text", [153, 153, 1]),
        ("€" * 80, "text", [80]),  # 160 septets: an extension character takes two
        ("€" * 81, "text", [76, 5]),  # 153 septets hold 76 of them
        ("ü" * 70, "unicode", [70]),
        ("ü" * 71, "unicode", [67, 4]),
        ("😀" * 35, "unicode", [35]),  # a surrogate pair is two UCS-2 units and is never cut
        ("😀" * 36, "unicode", [33, 3]),
    ],
)
def test_split_true_cuts_at_the_real_limits(text, kind, sizes):
    plan = parse(text=text, type=kind, split=True)
    assert [len(piece) for piece in plan.texts] == sizes
    assert "".join(plan.texts) == text


def test_without_split_or_parts_a_long_text_is_one_part():
    assert parse(text="a" * 500).texts == ["a" * 500]


def test_parts_cuts_into_that_many():
    assert parse(text="abcdefg", parts=3).texts == ["abc", "de", "fg"]
    assert parse(text="abcdefg", parts=1).texts == ["abcdefg"]


def test_defaults_and_options():
    plan = parse()
    assert (plan.kind, plan.duplicate, plan.shuffle, plan.order, plan.drop, plan.sign) == (
        "text",
        0,
        False,
        None,
        frozenset(),
        True,
    )
    plan = parse(
        **{"from": 31612345678},
        text="abcdef",
        parts=3,
        order=[3, 1, 2],
        drop=[2],
        duplicate=2,
        delay_ms=10,
        gap_ms=5,
        message_timestamp="2023-11-14 22:13:20",
        concat_ref=9,
        method="get",
        sign=False,
        fields={"keyword": None, "network-code": 20416},
    )
    assert (plan.sender, plan.order, plan.drop, plan.duplicate, plan.at, plan.concat_ref, plan.method) == (
        "31612345678",
        [3, 1, 2],
        frozenset({2}),
        2,
        AT,
        "9",
        "GET",
    )
    assert plan.fields == {"keyword": None, "network-code": "20416"}
    assert parse(message_timestamp=AT).at == AT


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        ({"from": None}, "from"),
        ({"to": ""}, "to"),
        ({"text": None}, "text"),
        ({"text": 5}, "text"),
        ({"type": "wappush"}, "type"),
        ({"parts": 0}, "parts"),
        ({"parts": 6}, "parts"),  # more than the 5 characters of "hello"
        ({"parts": 2, "split": True}, "parts"),
        ({"split": "yes"}, "split"),
        ({"text": "a" * 40_000, "split": True}, "text"),  # over 255 parts
        ({"duplicate": -1}, "duplicate"),
        ({"duplicate": 101}, "duplicate"),
        ({"order": [1, 1]}, "order"),
        ({"parts": 2, "order": [2]}, "order"),
        ({"parts": 2, "order": [2, 1], "shuffle": True}, "order"),
        ({"order": "1"}, "order"),
        ({"drop": [2]}, "drop"),
        ({"drop": [True]}, "drop"),
        ({"shuffle": 1}, "shuffle"),
        ({"delay_ms": -5}, "delay_ms"),
        ({"message_timestamp": "yesterday"}, "message_timestamp"),
        ({"message_timestamp": True}, "message_timestamp"),
        ({"url": "ftp://gw/in"}, "url"),
        ({"method": "PUT"}, "method"),
        ({"sign": "no"}, "sign"),
        ({"fields": []}, "fields"),
        ({"fields": {"text": ["x"]}}, "fields"),
        ({"data": "0A"}, "data"),  # only for binary
        ({"type": "binary", "text": None}, "data"),
        ({"type": "binary", "data": "XYZ"}, "data"),
        ({"type": "binary", "data": "0A", "udh": "0"}, "udh"),
        ({"type": "binary", "data": "0A", "parts": 2}, "parts"),
        ({"callback": "x"}, "callback"),
    ],
)
def test_bad_requests_name_the_field(request_, field):
    with pytest.raises(ValueError, match=rf"^{field}: "):
        parse(**request_)


# --- the state: order, duplicates, drops (nothing sent: the first part waits a minute) ------------------------------


@pytest.fixture
def state():
    simulator = SimulatorState(
        SimulatorConfig(api_key="abcd1234", inbound_url="http://127.0.0.1:9/in", seed=3), timer=ManualTimer()
    )
    yield simulator
    simulator.close()


def inject(state: SimulatorState, **request: Any) -> dict[str, Any]:
    status, body = state.inject_inbound(
        {"from": "31612345678", "to": "3197010000001", "delay_ms": 60_000, **request}
    )
    assert status == 200, body
    return body


def test_duplicates_repeat_a_part_and_its_message_id_and_drops_leave_it_out(state):
    body = inject(state, text="abcdef", parts=3, duplicate=1, drop=[2])
    assert body["order"] == [1, 1, 3, 3]
    ids = [fields["messageId"] for fields in body["messages"]]
    assert len(set(ids)) == 3  # one per part, whatever is sent
    assert body["concat_ref"] == "1"
    assert (body["url"], body["method"]) == ("http://127.0.0.1:9/in", "POST-JSON")
    assert state.webhooks.due_in("inbound") == [60.0]  # the parts go as one chain
    assert state.webhooks.due_in("dlr") == []


def test_concat_refs_count_up_per_concatenated_message_and_can_be_given(state):
    assert inject(state, text="abc")["concat_ref"] is None
    assert inject(state, text="abc", parts=2)["concat_ref"] == "1"
    assert inject(state, text="abc", parts=2)["concat_ref"] == "2"
    assert inject(state, text="abc", parts=2, concat_ref="200")["concat_ref"] == "200"
    assert inject(state, text="abc", parts=3)["concat_ref"] == "3"
    state.reset()
    assert inject(state, text="abc", parts=2)["concat_ref"] == "1"


def test_shuffle_follows_the_seed(state):
    orders = [inject(state, text="abcdefgh", parts=8, shuffle=True)["order"] for _ in range(2)]
    state.reset(config=True)  # the seeded random source starts again
    again = [inject(state, text="abcdefgh", parts=8, shuffle=True)["order"] for _ in range(2)]
    assert orders == again
    assert sorted(orders[0]) == list(range(1, 9))
    assert orders[0] != list(range(1, 9)) or orders[1] != list(range(1, 9))


def test_field_overrides_apply_to_every_part(state):
    body = inject(state, text="abc def", parts=2, fields={"keyword": None, "network-code": "20416"})
    for fields in body["messages"]:
        assert "keyword" not in fields
        assert fields["network-code"] == "20416"


def test_no_url_anywhere_is_refused(state):
    state.update_config({"inbound_url": None})
    status, body = state.inject_inbound({"from": "1", "to": "2", "text": "x"})
    assert (status, body["error"].split(":")[0]) == (400, "url")
    assert state.stats()["inbound_injected"] == 0
