"""Outbound webhooks: signed (Standard Webhooks), retried with backoff, every attempt recorded, replayable.

Producers call `smsgw.webhooks.service.enqueue`; WebhookFunction delivers; `smsgw webhooks replay`
re-queues failed deliveries. See docs/webhooks.md.
"""
