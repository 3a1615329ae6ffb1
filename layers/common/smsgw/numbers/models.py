"""The documentation models of `/sms/register` (KPN) and the Phone Numbers API (Vonage's names and shapes):
the docs generator registers them; the routes read the bodies with `smsgw.numbers.views.request_fields` and
answer dicts (or the views of smsgw.numbers.views)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from smsgw.core.wire_types import WireStr
from smsgw.numbers.views import REGISTERED_MESSAGE


class _WireRequest(BaseModel):
    """Form-encoded or JSON; only wire names populate fields, anything else is kept to be refused by name."""

    model_config = ConfigDict(populate_by_name=False, extra="allow")


class RegisterRequest(_WireRequest):
    """`POST /communication/nexmo/sms/register` (KPN: "Register webhook - Demo testing")."""

    to: WireStr | None = Field(
        default=None, description="Your phone number, E.164 without '+', e.g. 31612345678"
    )
    callback_url: WireStr | None = Field(
        default=None,
        description="Where SMS from that number are delivered: https on a public host "
        "(plain http only for the operator's allow-listed hosts)",
    )
    code: WireStr | None = Field(
        default=None, description="The 6-digit code the first call sent to `to` by SMS (the second call)"
    )


class RegisterResponse(BaseModel):
    message: str = Field(default=REGISTERED_MESSAGE, examples=[REGISTERED_MESSAGE])


class NumberRequest(_WireRequest):
    """`POST number/buy` and `number/cancel`."""

    country: WireStr | None = Field(default=None, description="ISO 3166-1 alpha-2, e.g. GB")
    msisdn: WireStr | None = Field(
        default=None, description="The number, E.164 without '+', e.g. 447700900001"
    )


class UpdateNumberRequest(NumberRequest):
    """`POST number/update`: a parameter left out is unchanged; an empty value clears it."""

    moHttpUrl: WireStr | None = Field(
        default=None,
        description="Where inbound SMS to this number are delivered (https, public host); '' clears it",
    )
    moSmppSysType: WireStr | None = Field(default=None, description="e.g. inbound")
    voiceCallbackType: WireStr | None = Field(default=None, description="sip | tel | app")
    voiceCallbackValue: WireStr | None = Field(default=None, description="The SIP URI, number or app id")
    voiceStatusCallback: WireStr | None = Field(default=None, description="A URL for voice call status")
    app_id: WireStr | None = Field(default=None, description="A Vonage application id (UUID)")


class NumbersResult(BaseModel):
    """Vonage's answer to buy, cancel and update; on success `{"error-code":"200","error-code-label":"success"}`."""

    model_config = ConfigDict(populate_by_name=True)

    error_code: str = Field(alias="error-code", examples=["200"])
    error_code_label: str = Field(alias="error-code-label", examples=["success"])


class NumbersError(NumbersResult):
    """An error in Vonage's shape: `error-code` is the HTTP status or the carrier's code (e.g. 420)."""

    field: str | None = Field(default=None, description="The request parameter at fault, when there is one")


class AvailableNumber(BaseModel):
    """A number for sale, as the carrier lists it (its other fields are passed on as they are)."""

    model_config = ConfigDict(extra="allow")

    country: str | None = None
    msisdn: str | None = None
    type: str | None = None
    cost: str | None = None
    features: list[str] | None = None


class AvailableNumbers(BaseModel):
    count: int = Field(description="How many numbers match, on all pages")
    numbers: list[AvailableNumber]
