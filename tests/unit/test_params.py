"""smsgw.edges.params: one declaration checks a parameter and documents it."""

from __future__ import annotations

import pytest

from smsgw.core.errors import InvalidField
from smsgw.edges.params import Param

LIMIT = Param("limit", default=50, ge=1, le=100)
ID = Param("message_id", where="path", max_length=64)
FILTER = Param("schedule_id", max_length=64, description="The schedule")


@pytest.mark.parametrize(("raw", "value"), [(None, 50), ("1", 1), ("100", 100), (" 7 ", 7), ("+3", 3)])
def test_an_integer_parameter_reads_its_default_or_a_value_in_range(raw, value):
    assert LIMIT.read(raw) == value


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("0", "greater than or equal to 1"),
        ("101", "less than or equal to 100"),
        ("ten", "valid integer"),
        ("", "valid integer"),
        ("+-5", "valid integer"),
        ("٣", "valid integer"),  # a digit, but not an ASCII one
        ("1,2", "valid integer"),  # a repeated parameter, as payload 2.0 joins it
        ("9" * 5000, "valid integer"),  # int() would raise ValueError past 4300 digits: a 500
    ],
)
def test_a_bad_integer_is_refused_naming_the_parameter(raw, says):
    with pytest.raises(InvalidField) as refused:
        LIMIT.read(raw)
    assert refused.value.field == "limit"
    assert refused.value.message.startswith("limit: ")
    assert says in refused.value.message


def test_a_string_over_its_length_is_refused_and_a_missing_path_parameter_too():
    assert ID.read("x" * 64) == "x" * 64
    for raw in ("x" * 65, None):
        with pytest.raises(InvalidField) as refused:
            ID.read(raw)
        assert refused.value.field == "message_id"
    assert FILTER.read(None) is None


def test_the_openapi_objects_are_what_an_annotated_signature_gave():
    assert LIMIT.openapi() == {
        "required": False,
        "schema": {"type": "integer", "maximum": 100.0, "minimum": 1.0, "title": "Limit", "default": 50},
        "name": "limit",
        "in": "query",
    }
    assert ID.openapi() == {
        "required": True,
        "schema": {"type": "string", "maxLength": 64, "title": "Message Id"},
        "name": "message_id",
        "in": "path",
    }
    assert FILTER.openapi() == {
        "description": "The schedule",
        "required": False,
        "schema": {
            "anyOf": [{"type": "string", "maxLength": 64}, {"type": "null"}],
            "title": "Schedule Id",
            "description": "The schedule",
        },
        "name": "schedule_id",
        "in": "query",
    }


def test_a_pattern_is_checked_with_its_hint_and_documented():
    number = Param("to", pattern=r"^(\+?[0-9]{1,15})?$", hint="a phone number")
    assert [number.read(raw) for raw in ("", "+31612345678", "31612345678")] == [
        "",
        "+31612345678",
        "31612345678",
    ]
    for raw in ("0612 345 678", "{'a': 1}", "1" * 16):
        with pytest.raises(InvalidField, match="to: a phone number"):
            number.read(raw)
    assert number.openapi()["schema"]["anyOf"][0] == {"type": "string", "pattern": r"^(\+?[0-9]{1,15})?$"}
