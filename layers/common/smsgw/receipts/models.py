from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Status ranks (a part or message only ever moves to a higher rank): the one lifecycle's.
from smsgw.core.lifecycle import FINAL_RECEIPT as FINAL
from smsgw.core.lifecycle import FINAL_SEVERITY, INTERMEDIATE, RANK, Status

__all__ = ["FINAL", "FINAL_SEVERITY", "INTERMEDIATE", "RANK", "DeliveryReceipt"]


@dataclass(frozen=True)
class DeliveryReceipt:
    """A carrier DLR (Vonage's fields, contract §3), one per SMS part."""

    carrier_message_id: str
    status: Status
    err_code: str
    network_code: str
    price: str
    msisdn: str
    to: str
    scts: str
    message_timestamp: str
    client_ref: str

    @property
    def rank(self) -> int:
        return RANK[self.status]

    def carrier_fields(self) -> dict[str, str]:
        """The receipt in Vonage's wire names, as forwarded in status callbacks."""
        return {
            "messageId": self.carrier_message_id,
            "status": self.status,
            "err-code": self.err_code,
            "network-code": self.network_code,
            "price": self.price,
            "msisdn": self.msisdn,
            "to": self.to,
            "scts": self.scts,
            "message-timestamp": self.message_timestamp,
        }

    def as_item(self) -> dict[str, Any]:
        return {"status": self.status, **self.carrier_fields()}

    def part_status_item(self) -> dict[str, Any]:
        """What a message item keeps of its part's latest receipt: its status, error code, network and
        price. Not what the message holds already (the carrier id in carrier_parts, the numbers, the time
        in its events) nor the carrier's timestamps (the status callback forwarded them): a one-part
        message stays under 1 KB, one write unit per update (issue 15)."""
        kept = {"status": self.status, "err-code": self.err_code, "network-code": self.network_code}
        return {name: value for name, value in {**kept, "price": self.price}.items() if value}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> DeliveryReceipt:
        return cls(
            carrier_message_id=item["messageId"],
            status=Status(item["status"]),
            err_code=item.get("err-code", ""),
            network_code=item.get("network-code", ""),
            price=item.get("price", ""),
            msisdn=item.get("msisdn", ""),
            to=item.get("to", ""),
            scts=item.get("scts", ""),
            message_timestamp=item.get("message-timestamp", ""),
            client_ref=item.get("client-ref", ""),
        )
