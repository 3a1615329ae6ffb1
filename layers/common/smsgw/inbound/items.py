"""An inbound message as the intake stores and forwards it: its route, its item, its webhook — shared
by the single-part intake (`inbound.single`) and the general path (`inbound.service`)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smsgw.config import get_settings
from smsgw.core.clock import now_iso
from smsgw.inbound.models import HELP_WORDS, START_WORDS, STOP_WORDS
from smsgw.observability import logger, mask_number, metrics

INBOUND_EVENT = "message.inbound"
# How long an attempt holds a part: longer than InboundFunction's timeout (10 s). A resend that comes
# while an attempt may still run gets 503 (the carrier retries); one after the lease takes over.
PROCESSING_LEASE_SECONDS = 30


@dataclass(frozen=True)
class Route:
    account_id: str
    callback_url: str | None
    kind: str  # conversation | number | registered


def keyword_of(text: str) -> str:
    """Vonage's `keyword`: the first word, upper-cased (punctuation around it ignored)."""
    first = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    return first.strip(".,!?;:'\"()").upper()


def opt_of(keyword: str) -> str | None:
    if keyword in STOP_WORDS:
        return "stop"
    if keyword in START_WORDS:
        return "start"
    if keyword in HELP_WORDS:
        return "help"
    return None


def inbound_item(
    msisdn: str,
    to: str,
    fields: Mapping[str, str],
    text: str,
    carrier_ids: list[str],
    *,
    parts: int,
    incomplete: bool,
    inbound_id: str,
    route: Route | None,
    received_at: str | None = None,
) -> dict[str, Any]:
    keyword = keyword_of(text)
    return {
        "inbound_id": inbound_id,
        "account_id": route.account_id if route else None,
        "msisdn": msisdn,
        "to": to,
        "text": text,
        "sms_type": fields.get("type", "text"),
        "keyword": keyword,
        "message_timestamp": fields.get("message-timestamp"),
        "parts": parts,
        "incomplete": incomplete,
        "carrier_message_ids": carrier_ids,
        "route": route.kind if route else None,
        "callback_url": route.callback_url if route else None,
        "opt": opt_of(keyword),
        "received_at": received_at or now_iso(),
        "expires_at": int(time.time()) + get_settings().message_retention_days * 86_400,
    }


def log_received(inbound_id: str, msisdn: str, *, parts: int, route: str | None) -> None:
    logger.info(
        "inbound received",
        extra={"inbound_id": inbound_id, "from": mask_number(msisdn), "parts": parts, "route": route},
    )
    metrics.add_metric(name="InboundReceived", unit="Count", value=1)


def forward_args(route: Route, item: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """The webhook of an inbound message: Vonage's inbound fields (existing Vonage handlers work
    unchanged), plus our ids."""
    parts = int(item["parts"])
    payload: dict[str, Any] = {
        "msisdn": item["msisdn"],
        "to": item["to"],
        "messageId": item["carrier_message_ids"][0],
        "text": item["text"],
        "type": item["sms_type"],
        "keyword": item["keyword"],
        "message-timestamp": item.get("message_timestamp") or "",
        "api-key": fields.get("api-key", ""),
        "inbound_id": item["inbound_id"],
        "parts": parts,
        "incomplete": bool(item["incomplete"]),
    }
    if parts > 1:
        payload["concat-total"] = str(parts)
    return {
        "account_id": route.account_id,
        "url": str(route.callback_url),
        "event_type": INBOUND_EVENT,
        "payload": payload,
        "subject_id": item["inbound_id"],
        "dedupe_key": f"inbound:{item['inbound_id']}",
    }
