"""smsgw.core.views: a view answers with its wire names and is documented with them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import TypeAdapter

from smsgw.core.views import WIRE_CONFIG, wire_dict, wire_field


@dataclass(frozen=True, kw_only=True)
class Leaf:
    __pydantic_config__: ClassVar = WIRE_CONFIG

    at: str


@dataclass(frozen=True, kw_only=True)
class Tree:
    """A view with a wire name, a description and nested views."""

    __pydantic_config__: ClassVar = WIRE_CONFIG

    sender: str = wire_field("Who sent it", alias="from")
    client_ref: str | None = wire_field(alias="client-ref", default=None)
    leaves: list[Leaf] = wire_field(default_factory=list)


def test_a_view_answers_with_its_wire_names_and_nested_views_as_objects():
    tree = Tree(sender="ACME", leaves=[Leaf(at="now")])
    assert wire_dict(tree) == {"from": "ACME", "client-ref": None, "leaves": [{"at": "now"}]}


def test_a_view_is_documented_with_its_wire_names_descriptions_and_docstring():
    schema = TypeAdapter(Tree).json_schema(ref_template="#/$defs/{model}")
    assert schema["description"] == "A view with a wire name, a description and nested views."
    assert list(schema["properties"]) == ["from", "client-ref", "leaves"]
    assert schema["properties"]["from"]["description"] == "Who sent it"
    assert schema["properties"]["client-ref"]["title"] == "Client-Ref"
    assert schema["required"] == ["from"]
    assert "description" not in schema["$defs"]["Leaf"]  # no docstring: not dataclass's signature either
