"""A request body checked by a pydantic model, each refusal an InvalidField naming the field: for routes
on the plain resolver that still take a model (the schedules), and for Powertools' validation errors
(smsgw.edges.http) — one wording for both.
"""

from __future__ import annotations

from typing import Any, TypeVar

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from pydantic import BaseModel, ValidationError

from smsgw.core.errors import INVALID_PARAMETER, MISSING_PARAMETER, InvalidField
from smsgw.edges.request import event_body

Model = TypeVar("Model", bound=BaseModel)


def field_of(error: dict[str, Any]) -> str:
    """The wire name of the field a pydantic error is about ("body" for the body as a whole)."""
    if error.get("type") in ("json_invalid", "unsupported_content_type"):
        return "body"
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "header", "path")]
    return location[-1] if location else "body"


def refusal(errors: list[dict[str, Any]]) -> InvalidField:
    """The first of a validation's errors, as the gateway's routes answer it (`field: what is wrong`)."""
    first = errors[0] if errors else {}
    field = field_of(first)
    status = MISSING_PARAMETER if first.get("type") == "missing" else INVALID_PARAMETER
    return InvalidField(field, f"{field}: {first.get('msg', 'invalid value')}", status)


def validated_body(app: BaseRouter, model: type[Model]) -> Model:
    """The request's body (smsgw.edges.request_body's parser) as `model`; InvalidField when it is not one."""
    try:
        return model.model_validate(event_body(app))
    except ValidationError as error:
        raise refusal([dict(detail) for detail in error.errors()]) from None
