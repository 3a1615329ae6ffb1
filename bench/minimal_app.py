"""The cold-start baseline: a minimal Powertools API handler (Logger + HTTP API resolver + one boto3 client)."""

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

logger = Logger(service="baseline")
app = APIGatewayHttpResolver()
client = boto3.client("dynamodb")


@app.get("/ping")
def ping() -> dict[str, str]:
    return {"ok": "yes"}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
