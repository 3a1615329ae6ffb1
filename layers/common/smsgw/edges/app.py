"""The whole API in one resolver: the source of the OpenAPI document, the docs, and 404/405 answers."""

import os
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, SecurityScheme

from smsgw.edges.http import API_DESCRIPTION, API_TITLE, API_VERSION, create_resolver
from smsgw.edges.routes.accounts import token_router
from smsgw.edges.routes.inbound import carrier_inbound_router, inbound_router
from smsgw.edges.routes.messages import messages_router, send_router
from smsgw.edges.routes.numbers import numbers_router
from smsgw.edges.routes.receipts import receipts_router
from smsgw.edges.routes.schedules import schedules_router
from smsgw.edges.routes.vonage import sms_json_router

SECURITY_SCHEMES: dict[str, SecurityScheme] = {
    "bearer": HTTPBearer(description="The access_token from /oauth/client_credential/accesstoken")
}


def docs_location(event: dict[str, Any]) -> str:
    """Where `GET /` sends the browser: an absolute path to the docs under the URL the client used.

    `requestContext.path` is that path, stage included (`/v1` or `/v1/` on AWS; a custom domain's base
    path instead of the stage). The local emulator serves the API path-style
    (`/_aws/execute-api/<apiId>/<stage>/…`) and leaves that prefix out of the event, so it is put back
    there. A relative `docs` cannot work: it resolves against `/v1` without its trailing slash to `/docs`.
    """
    context = event.get("requestContext") or {}
    base = (context.get("path") or "/").rstrip("/")
    api_id = context.get("apiId") or ""
    host = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "host"), "") or ""
    if (
        os.environ.get("LOCAL_EMULATOR", "").lower() == "true"
        and api_id
        and not host.startswith(f"{api_id}.execute-api.")
    ):
        base = f"/_aws/execute-api/{api_id}{base}"
    return f"{base}/docs"


def openapi_json(app: APIGatewayRestResolver) -> str:
    return app.get_openapi_json_schema(
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,
        security=[{"bearer": []}],
    )


def create_api() -> APIGatewayRestResolver:
    app = create_resolver(
        token_router(),
        send_router(),
        sms_json_router(),
        messages_router(),
        inbound_router(),
        receipts_router(),
        carrier_inbound_router(),
        numbers_router(),
        schedules_router(),
    )

    @app.get("/", include_in_schema=False)
    def root():
        return Response(
            status_code=302, headers={"Location": docs_location(app.current_event.raw_event)}, body=""
        )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi():
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_json(app))

    app.enable_swagger(
        path="/docs",
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,
        security=[{"bearer": []}],
        compress=False,
    )
    return app
