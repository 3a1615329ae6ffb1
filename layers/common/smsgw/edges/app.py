"""The whole API in one resolver: the source of the OpenAPI document, the docs, and 404/405 answers."""

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
        # A relative Location works on AWS (/v1/) and on path-style local URLs (/_aws/execute-api/…/v1)
        # alike: resolve "docs" against the URL the client used.
        full = (app.current_event.raw_event.get("requestContext") or {}).get("path") or "/"
        last = full.rstrip("/").rsplit("/", 1)[-1]
        location = "docs" if full.endswith("/") or not last else f"{last}/docs"
        return Response(status_code=302, headers={"Location": location}, body="")

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
