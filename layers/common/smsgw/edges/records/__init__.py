"""Per-record handlers of the queue-driven functions, called by smsgw.edges.sqs_batch: each turns one
SQS record into one domain call."""
