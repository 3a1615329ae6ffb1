"""Routes of SchedulesFunction: recurring notifications (`/schedules`).

They read their parameters (smsgw.edges.params) and bodies (smsgw.schedules.views.create_fields,
update_fields) themselves, on the plain resolver; the document names the bodies as components, the
models of smsgw.schedules.models, which the docs generator registers (smsgw.edges.app).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from smsgw.core.views import wire_dict
from smsgw.edges.params import ID_LENGTH, PAGE, Param, documented, read_params
from smsgw.edges.request import account_route_guard, event_body
from smsgw.edges.resolver import ApiRouter, component, component_body, view_content
from smsgw.schedules import service
from smsgw.schedules.views import SchedulePage, ScheduleView, create_fields, update_fields

SCHEDULES_PATH = "/schedules"
SCHEDULE_PATH = f"{SCHEDULES_PATH}/{{schedule_id}}"  # as OpenAPI writes it
SCHEDULE_ID = Param("schedule_id", where="path", max_length=ID_LENGTH)


REQUESTS: dict[str, dict[str, Any]] = {
    f"POST {SCHEDULES_PATH}": component_body("ScheduleRequest"),
    f"GET {SCHEDULES_PATH}": documented(PAGE),
    SCHEDULE_PATH: documented([SCHEDULE_ID]),
    f"PATCH {SCHEDULE_PATH}": component_body("ScheduleUpdate"),
}

_AUTH_ERRORS: dict[int, Any] = {
    401: {"description": "Missing, malformed, unknown or expired token"},
    403: {"description": "The account is disabled"},
    429: {"description": "Over the account's request rate; see Retry-After. Nothing changed"},
}
_LIMIT: dict[int, Any] = {
    409: {
        "description": "Over an account limit: active schedules (`field` paused) or recipients per minute across "
        "active schedules (`field` recipients); or changed by another request meanwhile. Nothing changed",
        "content": component("ErrorResponse"),
    }
}
_NOT_FOUND: dict[int, Any] = {
    404: {
        "description": "No such schedule for this account",
        "content": component("ErrorResponse"),
    }
}
_BAD: dict[int, Any] = {
    400: {
        "description": "A bad field: `field` names it (`recipients[2].to`, `schedule`, `timezone`, …); nothing changed",
        "content": component("ErrorResponse"),
    }
}
_UNAVAILABLE: dict[int, Any] = {
    503: {"description": "EventBridge Scheduler is unavailable; nothing changed. See Retry-After"}
}


def schedules_router() -> Router:
    router = ApiRouter(requests=REQUESTS)

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
            201: {"description": "Created", "content": view_content(ScheduleView)},
            **_BAD,
            **_AUTH_ERRORS,
            **_LIMIT,
            **_UNAVAILABLE,
        },
    )
    def create():  # no return annotation: Powertools cannot model a bare Response
        created = service.create_schedule(router.context["account"], create_fields(event_body(router)))
        return Response(
            status_code=201,
            content_type=content_types.APPLICATION_JSON,
            body=json.dumps(wire_dict(created)),
            headers={"Location": f"{SCHEDULES_PATH}/{created.schedule_id}"},
        )

    @router.get(
        SCHEDULES_PATH,
        summary="The account's schedules, oldest first",
        tags=["Schedules"],
        middlewares=[account_route_guard],
        responses={
            200: {"description": "A page of schedules", "content": view_content(SchedulePage)},
            **_AUTH_ERRORS,
        },
    )
    def list_schedules():
        page = read_params(router, PAGE)
        return wire_dict(
            service.list_schedules(router.context["account"].account_id, page["limit"], page["cursor"])
        )

    @router.get(
        f"{SCHEDULES_PATH}/<schedule_id>",
        summary="A schedule, with its next 5 run times",
        tags=["Schedules"],
        middlewares=[account_route_guard],
        responses={
            200: {"description": "The schedule", "content": view_content(ScheduleView)},
            **_AUTH_ERRORS,
            **_NOT_FOUND,
        },
    )
    def get_schedule(schedule_id: str):
        return wire_dict(
            service.get_schedule(router.context["account"].account_id, SCHEDULE_ID.read(schedule_id))
        )

    @router.patch(
        f"{SCHEDULES_PATH}/<schedule_id>",
        summary="Change, pause or resume a schedule",
        description='Only the fields given change. `{"paused": true}` pauses (no runs), `{"paused": false}` resumes.',
        tags=["Schedules"],
        middlewares=[account_route_guard],
        responses={
            200: {"description": "The changed schedule", "content": view_content(ScheduleView)},
            **_BAD,
            **_AUTH_ERRORS,
            **_NOT_FOUND,
            **_LIMIT,
            **_UNAVAILABLE,
        },
    )
    def update_schedule(schedule_id: str):
        checked = SCHEDULE_ID.read(schedule_id)
        changes = update_fields(event_body(router))
        return wire_dict(service.update_schedule(router.context["account"], checked, changes))

    @router.delete(
        f"{SCHEDULES_PATH}/<schedule_id>",
        summary="Delete a schedule",
        description="No more runs. Messages it already created are not affected.",
        tags=["Schedules"],
        middlewares=[account_route_guard],
        responses={
            200: {"description": "Deleted (`state` deleted)", "content": view_content(ScheduleView)},
            **_AUTH_ERRORS,
            **_NOT_FOUND,
            **_UNAVAILABLE,
        },
    )
    def delete_schedule(schedule_id: str):
        return wire_dict(
            service.delete_schedule(router.context["account"].account_id, SCHEDULE_ID.read(schedule_id))
        )

    return router
