"""DispatchFunction: send-queue batches → carrier (paced, partial batch failures)."""

import sys
from typing import Any

from smsgw.edges.records.dispatch import dispatch_batch
from smsgw.observability import logger, metrics

# A batch's records wait in threads for pacing slots a few tens of ms apart; a thread whose slot has
# come must get the GIL at once, not after another thread's 5 ms default turn (botocore parsing a
# response): those waits sent some submissions late enough for the carrier to see one more than its
# rate in a second (benchmark 1b, docs/routing.md).
SWITCH_INTERVAL_SECONDS = 0.001
sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dispatch_batch(event, context)
