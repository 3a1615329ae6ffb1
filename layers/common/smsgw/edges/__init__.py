"""The edges: where requests and records come in and answers go out. They translate the wire (API Gateway
events, SQS batches, the command line) to domain calls and domain errors to the wire; no domain imports
them (an import-linter contract in `make lint` checks it)."""
