"""The pydantic value type of the wire models (the APIs' documented request bodies)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator

from smsgw.core.wire import wire_string

WireStr = Annotated[str, BeforeValidator(wire_string)]
