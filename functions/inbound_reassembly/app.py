"""InboundReassemblyFunction: after the reassembly timeout, forward incomplete concatenated SMS as they are."""

from typing import Any

from smsgw.inbound.service import process_reassembly_checks
from smsgw.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_reassembly_checks(event, context)
