"""The schedules' bodies are read without pydantic (smsgw.schedules.views); the document describes them
with the models of smsgw.schedules.models. Both must name the same fields with the same defaults."""

from __future__ import annotations

import pytest

from smsgw.core.errors import InvalidField
from smsgw.schedules.models import ScheduleRequest, ScheduleUpdate
from smsgw.schedules.views import CREATE_DEFAULTS, create_fields, update_fields


def test_the_read_fields_are_the_documented_ones_with_their_defaults():
    documented = {info.alias or name: info.default for name, info in ScheduleRequest.model_fields.items()}
    assert documented == CREATE_DEFAULTS
    assert {info.alias or name for name, info in ScheduleUpdate.model_fields.items()} == set(CREATE_DEFAULTS)


def test_a_create_reads_defaults_and_a_change_only_what_it_gives():
    assert create_fields({"name": "n", "from": "ACME"}) == {**CREATE_DEFAULTS, "name": "n", "from": "ACME"}
    assert update_fields({"paused": True, "callback": None}) == {"paused": True, "callback": None}


@pytest.mark.parametrize("read", [create_fields, update_fields])
def test_an_unknown_field_is_refused_by_name(read):
    with pytest.raises(InvalidField) as refused:
        read({"name": "n", "from_": "ACME"})
    assert refused.value.field == "from_"
