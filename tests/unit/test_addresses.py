"""`to` and `from`: normalisation, and a clear refusal naming the field for every bad shape."""

from __future__ import annotations

import pytest

from smsgw.core.addresses import Destination, parse_destination, validate_sender
from smsgw.core.errors import InvalidField


@pytest.mark.parametrize(
    ("to", "msisdn", "country"),
    [
        ("447700900000", "447700900000", "GB"),  # Ofcom drama range: possible, not "valid"
        ("+447700900000", "447700900000", "GB"),
        (" 447700900000\n", "447700900000", "GB"),
        ("31612345678", "31612345678", "NL"),
        ("3161111111", "3161111111", "NL"),  # KPN's demo number, one digit short of valid
        ("15555550100", "15555550100", "US"),  # NANP fiction range: main region of +1
        ("12125550123", "12125550123", "US"),
        ("15062345678", "15062345678", "CA"),  # valid: the region of the number, not of +1
        ("16847331234", "16847331234", "AS"),
        ("447781123456", "447781123456", "GG"),
        ("77710009998", "77710009998", "KZ"),
        ("79161234567", "79161234567", "RU"),
        ("4916012345678", "4916012345678", "DE"),
    ],
)
def test_parse_destination_accepts(to: str, msisdn: str, country: str) -> None:
    assert parse_destination(to) == Destination(msisdn=msisdn, country=country)


@pytest.mark.parametrize(
    ("to", "status", "expected"),
    [
        ("", "2", "to is required"),
        ("  ", "2", "to is required"),
        ("00447700900000", "34", "dialling prefix 00"),
        ("+00447700900000", "34", "dialling prefix 00"),
        ("07700900000", "34", "national number"),
        ("44 7700 900000", "34", "only digits"),
        ("44-7700-900000", "34", "only digits"),
        ("+44(0)7700900000", "34", "only digits"),
        ("447700900000x", "34", "only digits"),
        ("++447700900000", "34", "only digits"),
        ("+", "34", "only digits"),
        ("\u0664\u0664\u0667\u0667\u0660\u0660\u0669\u0660\u0660\u0660\u0660\u0660", "34", "only digits"),
        ("\uff14\uff14\uff17\uff17\uff10\uff10\uff19\uff10\uff10\uff10\uff10\uff10", "34", "only digits"),
        ("123456", "34", "6 digits; a number in international format has 7 to 15"),
        ("1234567890123456", "34", "16 digits"),
        ("9991234567", "34", "known country calling code"),
        ("80012345678", "34", "non-geographic number (+800)"),
        ("88239000000", "34", "non-geographic number (+882)"),
        ("44770090000000", "34", "too long for a +44 (GB) number"),
        ("3312345", "34", "too short for a +33 (FR) number"),
        ("4422222", "34", "area code is missing"),
        ("12345678", "34", "area code is missing) for a +1 (US) number"),
        ("402222222", "34", "impossible length for a +40 (RO) number"),
    ],
)
def test_parse_destination_refuses(to: str, status: str, expected: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_destination(to)
    assert (caught.value.field, caught.value.vonage_status) == ("to", status)
    assert expected in caught.value.message
    assert caught.value.message.startswith("to ")


@pytest.mark.parametrize(
    ("sender", "normalised"),
    [
        ("AcmeInc", "AcmeInc"),
        ("Acme Inc", "AcmeInc"),  # Vonage ignores spaces
        (" A c m e ", "Acme"),
        ("A", "A"),
        ("Abcdefghijk", "Abcdefghijk"),  # 11
        ("Shop 2 Go 4 U", "Shop2Go4U"),
        ("0800Flowers", "0800Flowers"),  # has letters: alphanumeric, a leading 0 is fine
        ("447700900000", "447700900000"),
        ("+447700900000", "447700900000"),
        ("+44 7700 900000", "447700900000"),
        ("123456789012345", "123456789012345"),  # 15 digits
        ("12345", "12345"),  # short code
    ],
)
def test_validate_sender_accepts(sender: str, normalised: str) -> None:
    assert validate_sender(sender) == normalised


@pytest.mark.parametrize(
    ("sender", "status", "expected"),
    [
        ("", "2", "from is required"),
        ("   ", "2", "from is required"),
        ("Abcdefghijkl", "15", "12 characters; an alphanumeric sender ID has at most 11"),
        ("Acme Incorporated", "15", "16 characters"),
        ("Acme-Inc", "15", "found '-'"),
        ("Acme_Inc", "15", "found '_'"),
        ("Acmé", "15", "found 'é'"),
        ("Acme\tInc", "15", "found '\\t'"),
        ("MyShop!", "15", "found '!'"),
        ("\uff21cme", "15", "found 'Ａ'"),  # fullwidth A is not [A-Za-z]
        ("1234567890123456", "15", "16 digits; a numeric sender has at most 15"),
        ("+1234567890123456", "15", "16 digits"),
        ("0044770090000", "15", "dialling prefix 00"),
        ("0612345678", "15", "national number"),
        ("+Acme", "15", "only digits may follow the '+'"),
        ("+", "15", "only digits may follow the '+'"),
        ("44+7700", "15", "found '+'"),
    ],
)
def test_validate_sender_refuses(sender: str, status: str, expected: str) -> None:
    with pytest.raises(InvalidField) as caught:
        validate_sender(sender)
    assert (caught.value.field, caught.value.vonage_status) == ("from", status)
    assert expected in caught.value.message
