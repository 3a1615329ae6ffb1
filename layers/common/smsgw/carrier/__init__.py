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

# The clients (and `requests`) load on first use, so importing the base types stays cheap.
_LAZY = {
    "make_carrier": "smsgw.carrier.factory",
    "KpnCarrier": "smsgw.carrier.kpn",
    "VonageCarrier": "smsgw.carrier.vonage",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'smsgw.carrier' has no attribute {name!r}")


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
