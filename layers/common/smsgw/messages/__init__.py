"""Outbound messages: validation, pricing, acceptance (charge, persist, enqueue) and status."""
