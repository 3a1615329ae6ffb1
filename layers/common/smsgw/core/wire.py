"""Values as the APIs' request bodies carry them (forms: strings; JSON: numbers and booleans too).

Plain functions: the routes that read their body themselves (the send routes) use them without
pydantic; `smsgw.core.wire_types.WireStr` applies `wire_string` inside the pydantic wire models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smsgw.core.errors import InvalidField


def wire_string(value: Any) -> Any:
    """Form fields arrive as strings (or one-element lists); JSON may carry numbers and booleans."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def wire_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """Every field of a body by its wire name, as `wire_string` makes it. Nulls, lists and objects stay
    as they are: the caller decides (a null is absent, but an unknown name with a null is still refused
    by name — a typo must not pass because its value was empty)."""
    return {key: wire_string(value) for key, value in body.items()}


def single_string(key: str, value: Any) -> str:
    """A field's value as one string: a list or an object (after `wire_string`) is refused naming it."""
    if not isinstance(value, str):
        raise InvalidField(key, f"{key} must be a single string or number, not {type(value).__name__}")
    return value
