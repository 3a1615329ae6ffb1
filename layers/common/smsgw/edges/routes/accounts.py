"""Routes of TokenFunction: KPN's (Apigee's) OAuth client-credentials endpoint."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Form, Query

from smsgw.accounts import service
from smsgw.accounts.models import AccessToken
from smsgw.core.errors import ErrorResponse
from smsgw.edges.http import ApiRouter

TOKEN_PATH = "/oauth/client_credential/accesstoken"


def token_router() -> Router:
    router = ApiRouter(forms=[TOKEN_PATH])

    @router.post(
        TOKEN_PATH,
        summary="Get an access token (OAuth 2 client credentials, as KPN)",
        description="Form fields `client_id` and `client_secret`; the token is valid for `expires_in` seconds.",
        tags=["Auth"],
        responses={
            200: {"description": "A bearer token", "content": {"application/json": {"model": AccessToken}}},
            400: {"description": "Missing field", "content": {"application/json": {"model": ErrorResponse}}},
            401: {"description": "Unknown client or wrong secret, or the account is disabled"},
        },
    )
    def access_token(
        grant_type: Annotated[str | None, Query(description="must be client_credentials")] = None,
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> AccessToken:
        return service.issue_token(client_id, client_secret, grant_type)

    return router
