"""What the API answers, as frozen dataclasses: no pydantic at a function's cold start.

A view's field may have a wire name other than its Python name (`from`, `client-ref`) and a
description: `wire_field` keeps both in the field's metadata. `wire_dict` turns a view into the JSON
object a route answers; the OpenAPI generator documents a view through pydantic (which reads stdlib
dataclasses), and `WIRE_CONFIG` (a view's `__pydantic_config__`, a plain dict) puts the wire names and
descriptions into that schema.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

_ALIAS = "alias"
_DESCRIPTION = "description"


def wire_field(
    description: str | None = None,
    *,
    alias: str | None = None,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
) -> Any:
    """A view's field with its description and, if it differs from the Python name, its wire name."""
    metadata = {key: value for key, value in ((_DESCRIPTION, description), (_ALIAS, alias)) if value}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=metadata)


def wire_name(field: dataclasses.Field[Any]) -> str:
    alias: str = field.metadata.get(_ALIAS, field.name)
    return alias


def wire_dict(view: Any, exclude_none: bool = False) -> dict[str, Any]:
    """The view as the JSON object the API answers (wire names, nested views and lists converted);
    `exclude_none` leaves out fields that are None, at every level (Vonage's lists do)."""
    answer = {}
    for field in dataclasses.fields(view):
        value = getattr(view, field.name)
        if value is None and exclude_none:
            continue
        answer[wire_name(field)] = _wire_value(value, exclude_none)
    return answer


def _wire_value(value: Any, exclude_none: bool) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return wire_dict(value, exclude_none)
    if isinstance(value, list | tuple):
        return [_wire_value(item, exclude_none) for item in value]
    return value


def _document(schema: dict[str, Any], cls: type) -> None:
    """pydantic's `json_schema_extra` hook: the view's wire names, descriptions and docstring."""
    properties: dict[str, Any] = schema.get("properties") or {}
    named = {field.name: field for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
    documented: dict[str, Any] = {}
    for name, prop in properties.items():
        field = named.get(name)
        if field is None:
            documented[name] = prop
            continue
        if _DESCRIPTION in field.metadata:
            prop[_DESCRIPTION] = field.metadata[_DESCRIPTION]
        if _ALIAS in field.metadata:
            prop["title"] = field.metadata[_ALIAS].title().replace("_", " ")  # as pydantic titles an alias
        documented[wire_name(field)] = prop
    if properties:
        schema["properties"] = documented
    if "required" in schema:
        schema["required"] = [
            wire_name(named[name]) if name in named else name for name in schema["required"]
        ]
    doc = cls.__doc__ or ""
    written_by_dataclass = doc.startswith(f"{cls.__name__}(")  # its signature, when there is no docstring
    if doc and not written_by_dataclass:
        schema[_DESCRIPTION] = inspect.cleandoc(doc)


# A view's `__pydantic_config__` (pydantic reads it from a stdlib dataclass; a plain dict is a ConfigDict).
WIRE_CONFIG: dict[str, Any] = {"json_schema_extra": _document}
