"""Value types of the wire models (the APIs' request bodies), shared by every domain's models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator


def wire_string(value: Any) -> Any:
    """Form fields arrive as strings (or one-element lists); JSON may carry numbers and booleans."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


WireStr = Annotated[str, BeforeValidator(wire_string)]
