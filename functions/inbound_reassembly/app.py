"""InboundReassemblyFunction: after the reassembly timeout, forward incomplete concatenated SMS as they are."""

from typing import Any

from smsgw.edges.sqs_batch import RecordInfo, process_batch
from smsgw.inbound.service import check_incomplete
from smsgw.observability import logger, metrics


def check_record(body: dict[str, Any], record: RecordInfo) -> bool:
    """InboundQueue records `{"msisdn", "to", "ref"}`, delayed by the reassembly timeout."""
    return check_incomplete(body["msisdn"], body["to"], body["ref"])


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_batch(event, context, check_record)
