"""HTTP headers of a Lambda event, by name (an edge helper with no dependencies: the authorizer uses it)."""

from __future__ import annotations

from collections.abc import Mapping


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    """The header `name`, case-insensitively: payload 2.0 lower-cases header names, a hand-made event
    (tests, `sam local invoke`) may not."""
    wanted = name.lower()
    return next((value for key, value in (headers or {}).items() if key.lower() == wanted), None)
