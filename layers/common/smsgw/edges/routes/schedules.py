"""Routes of SchedulesFunction: recurring notifications (`/schedules`)."""

from __future__ import annotations

import json
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from smsgw.core.error_body import ErrorResponse
from smsgw.edges.request import account_route_guard
from smsgw.edges.resolver import ApiRouter
from smsgw.pagination import MAX_PAGE
from smsgw.schedules import service
from smsgw.schedules.models import SchedulePage, ScheduleRequest, ScheduleUpdate, ScheduleView

SCHEDULES_PATH = "/schedules"

_AUTH_ERRORS: dict[int, OpenAPIResponse] = {
    401: {"description": "Missing, malformed, unknown or expired token"},
    403: {"description": "The account is disabled"},
    429: {"description": "Over the account's request rate; see Retry-After. Nothing changed"},
}
_LIMIT: dict[int, OpenAPIResponse] = {
    409: {
        "description": "Over an account limit: active schedules (`field` paused) or recipients per minute across "
        "active schedules (`field` recipients); or changed by another request meanwhile. Nothing changed",
        "content": {"application/json": {"model": ErrorResponse}},
    }
}
_NOT_FOUND: dict[int, OpenAPIResponse] = {
    404: {
        "description": "No such schedule for this account",
        "content": {"application/json": {"model": ErrorResponse}},
    }
}
_BAD: dict[int, OpenAPIResponse] = {
    400: {
        "description": "A bad field: `field` names it (`recipients[2].to`, `schedule`, `timezone`, …); nothing changed",
        "content": {"application/json": {"model": ErrorResponse}},
    }
}
_UNAVAILABLE: dict[int, OpenAPIResponse] = {
    503: {"description": "EventBridge Scheduler is unavailable; nothing changed. See Retry-After"}
}


def schedules_router() -> Router:
    router = ApiRouter()

    @router.post(
        SCHEDULES_PATH,
        summary="Create a recurring notification",
        description=(
            "Sends `text` to every recipient at each run of `schedule` (cron or rate, as EventBridge Scheduler "
            "writes it) in `timezone`. `{{placeholders}}` in the text are filled from each recipient's values. "
            "Each run creates ordinary messages (see `GET /messages?schedule_id=`), charged when sent."
        ),
        tags=["Schedules"],
        middlewares=[account_route_guard],
        responses={
            201: {"description": "Created", "content": {"application/json": {"model": ScheduleView}}},
            **_BAD,
            **_AUTH_ERRORS,
            **_LIMIT,
            **_UNAVAILABLE,
        },
    )
    def create(request: Annotated[ScheduleRequest, Body()]):
        # No return annotation: Powertools cannot model a bare Response.
        created = service.create_schedule(
            router.context["account"], request.model_dump(by_alias=True, exclude_unset=False)
        )
        return Response(
            status_code=201,
            content_type=content_types.APPLICATION_JSON,
            body=json.dumps(created.model_dump(mode="json", by_alias=True)),
            headers={"Location": f"{SCHEDULES_PATH}/{created.schedule_id}"},
        )

    @router.get(
        SCHEDULES_PATH,
        summary="The account's schedules, oldest first",
        tags=["Schedules"],
        middlewares=[account_route_guard],
        responses={200: {"description": "A page of schedules"}, **_AUTH_ERRORS},
    )
    def list_schedules(
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
        cursor: Annotated[str | None, Query()] = None,
    ) -> SchedulePage:
        return service.list_schedules(router.context["account"].account_id, limit, cursor)

    @router.get(
        f"{SCHEDULES_PATH}/<schedule_id>",
        summary="A schedule, with its next 5 run times",
        tags=["Schedules"],
        middlewares=[account_route_guard],
        responses={200: {"description": "The schedule"}, **_AUTH_ERRORS, **_NOT_FOUND},
    )
    def get_schedule(schedule_id: Annotated[str, Path(max_length=64)]) -> ScheduleView:
        return service.get_schedule(router.context["account"].account_id, schedule_id)

    @router.patch(
        f"{SCHEDULES_PATH}/<schedule_id>",
        summary="Change, pause or resume a schedule",
        description='Only the fields given change. `{"paused": true}` pauses (no runs), `{"paused": false}` resumes.',
        tags=["Schedules"],
        middlewares=[account_route_guard],
        responses={
            200: {"description": "The changed schedule"},
            **_BAD,
            **_AUTH_ERRORS,
            **_NOT_FOUND,
            **_LIMIT,
            **_UNAVAILABLE,
        },
    )
    def update_schedule(
        schedule_id: Annotated[str, Path(max_length=64)], changes: Annotated[ScheduleUpdate, Body()]
    ) -> ScheduleView:
        return service.update_schedule(
            router.context["account"], schedule_id, changes.model_dump(by_alias=True, exclude_unset=True)
        )

    @router.delete(
        f"{SCHEDULES_PATH}/<schedule_id>",
        summary="Delete a schedule",
        description="No more runs. Messages it already created are not affected.",
        tags=["Schedules"],
        middlewares=[account_route_guard],
        responses={
            200: {"description": "Deleted (`state` deleted)"},
            **_AUTH_ERRORS,
            **_NOT_FOUND,
            **_UNAVAILABLE,
        },
    )
    def delete_schedule(schedule_id: Annotated[str, Path(max_length=64)]) -> ScheduleView:
        return service.delete_schedule(router.context["account"].account_id, schedule_id)

    return router
