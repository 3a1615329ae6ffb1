"""The JSON body of the gateway's error answers, as a pydantic model for the OpenAPI document.

Apart from smsgw.core.errors so that raising an error does not load pydantic: the functions whose
routes validate nothing against a model (token, authorizer) start without it (docs/benchmarks.md §3).
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    """The JSON body of every error answer (except Nexmo's and Vonage's own shapes), for OpenAPI."""

    status: int
    error: str = Field(description="What went wrong and what to do about it")
    field: str | None = Field(default=None, description="The request field at fault, when there is one")
