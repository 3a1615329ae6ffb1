"""Carrier clients: the only code in the gateway that calls a carrier. Built by `make_carrier`, injected
into the dispatcher; handlers never import this package.
"""

from smsgw.carrier.base import (
    Carrier,
    CarrierError,
    CarrierRejected,
    CarrierThrottled,
    CarrierTransientError,
    Submission,
    SubmitResult,
    SubmittedPart,
)
from smsgw.carrier.factory import make_carrier
from smsgw.carrier.kpn import KpnCarrier
from smsgw.carrier.vonage import VonageCarrier

__all__ = [
    "Carrier",
    "CarrierError",
    "CarrierRejected",
    "CarrierThrottled",
    "CarrierTransientError",
    "KpnCarrier",
    "Submission",
    "SubmitResult",
    "SubmittedPart",
    "VonageCarrier",
    "make_carrier",
]
