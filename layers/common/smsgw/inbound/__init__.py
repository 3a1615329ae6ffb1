"""Inbound SMS: carrier webhook intake (verify, dedupe, reassemble, STOP/START/HELP), routing to the
right account and callback, and forwarding through the signed webhook delivery."""
