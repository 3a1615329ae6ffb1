"""Query and path parameters read by the routes themselves, declared once: the same declaration checks
a request (a 400 naming the parameter) and documents the operation (OpenAPI parameter objects, as
Powertools would write them for an annotated signature).

Routes that read their parameters this way run on the plain resolver (smsgw.edges.resolver) and start
without Powertools' validation machinery (docs/decisions.md, cold start).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from smsgw.core.errors import InvalidField
from smsgw.pagination import MAX_PAGE

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")  # longer: out of any range (and int() refuses > 4300 digits)
ID_LENGTH = 64  # the longest message, inbound or schedule id a path or filter takes


@dataclass(frozen=True)
class Param:
    """One parameter: a string (optional unless in the path) or, with a `default`, an integer in
    [`ge`, `le`]."""

    name: str
    where: Literal["query", "path"] = "query"
    description: str | None = None
    max_length: int | None = None
    pattern: str | None = None  # what a string must match (and the document says), with `hint` in words
    hint: str | None = None
    default: int | None = None  # an integer parameter
    ge: int | None = None
    le: int | None = None

    @property
    def is_integer(self) -> bool:
        return self.default is not None

    def read(self, raw: str | None) -> Any:
        """The value of this parameter in a request (`raw`: as it came, or None when absent)."""
        if raw is None:
            if self.where == "path":
                raise self.refusal("Field required")
            return self.default
        if self.is_integer:
            return self._integer(raw)
        if self.max_length is not None and len(raw) > self.max_length:
            raise self.refusal(f"String should have at most {self.max_length} characters")
        if self.pattern is not None and not re.fullmatch(self.pattern, raw):
            raise self.refusal(self.hint or f"should match {self.pattern}")
        return raw

    def _integer(self, raw: str) -> int:
        if not _INTEGER.fullmatch(raw.strip()):
            raise self.refusal("Input should be a valid integer (at most 18 digits)")
        value = int(raw)
        if self.ge is not None and value < self.ge:
            raise self.refusal(f"Input should be greater than or equal to {self.ge}")
        if self.le is not None and value > self.le:
            raise self.refusal(f"Input should be less than or equal to {self.le}")
        return value

    def refusal(self, message: str) -> InvalidField:
        return InvalidField(self.name, f"{self.name}: {message}")

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI parameter object."""
        schema: dict[str, Any]
        if self.is_integer:
            schema = {"type": "integer"}
            if self.le is not None:
                schema["maximum"] = float(self.le)
            if self.ge is not None:
                schema["minimum"] = float(self.ge)
        else:
            schema = {"type": "string"}
            if self.max_length is not None:
                schema["maxLength"] = self.max_length
            if self.pattern is not None:
                schema["pattern"] = self.pattern
        if self.where == "query" and not self.is_integer:
            schema = {"anyOf": [schema, {"type": "null"}]}
        schema["title"] = self.name.replace("_", " ").title()
        if self.is_integer:
            schema["default"] = self.default
        described = {"description": self.description} if self.description else {}
        schema.update(described)
        return {
            **described,
            "required": self.where == "path",
            "schema": schema,
            "name": self.name,
            "in": self.where,
        }


def read_params(app: BaseRouter, params: Iterable[Param]) -> dict[str, Any]:
    """The values of the query parameters `params` in the current request, keyed by name; the first bad
    one raises InvalidField naming it. (A path parameter: `param.read(value the route received)`.) A
    query parameter given twice is refused: API Gateway joins the values with commas, which would read
    as one odd value."""
    query = app.current_event.query_string_parameters or {}
    given = parse_qs(app.current_event.get("rawQueryString") or "", keep_blank_values=True)
    values: dict[str, Any] = {}
    for param in params:
        if len(given.get(param.name, ())) > 1:
            raise param.refusal("given more than once; give one value")
        values[param.name] = param.read(query.get(param.name))
    return values


def documented(params: Iterable[Param]) -> dict[str, Any]:
    """An ApiRouter `requests` entry documenting `params`."""
    return {"parameters": [param.openapi() for param in params]}


# The filters by number and by id: a value no number, sender or id can be is refused, not
# answered with an empty list (a typo then says so). Empty is no filter.
NUMBER = r"^(\+?[0-9]{1,15})?$"
SENDER = r"^(\+?[A-Za-z0-9]{1,15})?$"
ID = r"^[A-Za-z0-9_-]*$"

# A page of a list: how many, and where the previous page ended (smsgw.pagination).
PAGE = (Param("limit", default=50, ge=1, le=MAX_PAGE), Param("cursor"))
