"""The Phone Numbers API reads its bodies without pydantic (smsgw.numbers.views); the document describes
them with the models of smsgw.numbers.models. Both must name the same fields, and read them alike."""

from __future__ import annotations

import pytest

from smsgw.numbers.models import NumberRequest, RegisterRequest, UpdateNumberRequest
from smsgw.numbers.views import NUMBER_FIELDS, REGISTER_FIELDS, UPDATE_FIELDS, NotAString, request_fields


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (RegisterRequest, REGISTER_FIELDS),
        (NumberRequest, NUMBER_FIELDS),
        (UpdateNumberRequest, UPDATE_FIELDS),
    ],
)
def test_the_read_fields_are_the_documented_ones(model, fields):
    assert {info.alias or name for name, info in model.model_fields.items()} == fields


def test_values_are_strings_as_forms_and_json_carry_them_and_nulls_are_left_out():
    body = {
        "msisdn": ["447700900001"],
        "country": "GB",
        "moHttpUrl": None,
        "size": 5,
        "flag": True,
        "x": [1, 2],
    }
    assert request_fields(body, UPDATE_FIELDS) == {
        "msisdn": "447700900001",
        "country": "GB",
        "size": "5",  # unknown: kept as text, for the service to refuse by name
        "flag": "true",
        "x": "[1, 2]",
    }


@pytest.mark.parametrize("value", [["a", "b"], {"a": "b"}])
def test_a_documented_field_that_is_a_list_or_an_object_is_malformed(value):
    with pytest.raises(NotAString) as refused:
        request_fields({"msisdn": value}, NUMBER_FIELDS)
    assert refused.value.field == "msisdn"
