"""SchedulesFunction: /schedules (recurring notifications on EventBridge Scheduler)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from smsgw.edges.resolver import create_plain_resolver
from smsgw.edges.routes.schedules import schedules_router
from smsgw.observability import logger, metrics

app = create_plain_resolver(schedules_router())


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
