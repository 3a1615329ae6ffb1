"""GSM-7 / UCS-2 / binary counting and validation, at the exact part boundaries."""

from __future__ import annotations

import random

import pytest

from smsgw.core.errors import InvalidField
from smsgw.messages.encoding import (
    GSM7_BASIC_TABLE,
    GSM7_EXTENSION_TABLE,
    MAX_PARTS,
    MAX_TEXT_CHARACTERS,
    Segmentation,
    count_parts,
    is_gsm7,
    septet_length,
    split_text,
    validate_binary,
    validate_text,
)

EXTENSION = "^{}\\[~]|€\x0c"
EMOJI = "\U0001f600"  # 😀, a surrogate pair in UTF-16
CYRILLIC = "\u0436"  # ж: BMP, not GSM-7


def test_basic_table_is_the_ts_23_038_code_table() -> None:
    assert len(GSM7_BASIC_TABLE) == 128
    assert GSM7_BASIC_TABLE[0x00] == "@"
    assert GSM7_BASIC_TABLE[0x0A] == "\n"
    assert GSM7_BASIC_TABLE[0x1B] == "\x1b"  # ESC
    assert GSM7_BASIC_TABLE[0x24] == "¤"
    assert GSM7_BASIC_TABLE[0x40] == "¡"
    assert GSM7_BASIC_TABLE[0x60] == "¿"
    assert GSM7_BASIC_TABLE[0x7F] == "à"
    assert set(GSM7_EXTENSION_TABLE) == set(EXTENSION)
    assert GSM7_EXTENSION_TABLE["€"] == 0x65


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("Hello, world! 123 @£$¥ èéùìò Ç Øø Åå ΔΦΓΛΩΠΨΣΘΞ ÆæßÉ ¤ ¡¿ ÄÖÑÜ§ äöñüà _\r\n", True),
        (EXTENSION, True),
        ("ç", False),  # only capital Ç is in the alphabet
        ("ł", False),
        ("’", False),  # typographic apostrophe
        ("\t", False),
        ("\x1b", False),  # ESC is an escape, not a character
        ("`", False),
        (EMOJI, False),
        (CYRILLIC, False),
    ],
)
def test_is_gsm7(text: str, expected: bool) -> None:
    assert is_gsm7(text) is expected


@pytest.mark.parametrize(
    ("text", "septets"),
    [("", 0), ("abc", 3), ("€", 2), ("a{b}", 6), (EXTENSION, 20), ("\x0c", 2), ("@\n\r", 3)],
)
def test_septet_length_counts_extension_characters_twice(text: str, septets: int) -> None:
    assert septet_length(text) == septets


def test_septet_length_refuses_characters_outside_gsm7() -> None:
    with pytest.raises(ValueError, match="'ł'"):
        septet_length("abc ł")


@pytest.mark.parametrize(
    ("text", "parts", "units", "per_part_limit"),
    [
        ("a", 1, 1, 160),
        ("a" * 160, 1, 160, 160),
        ("a" * 161, 2, 161, 153),
        ("a" * 306, 2, 306, 153),
        ("a" * 307, 3, 307, 153),
        ("a" * 459, 3, 459, 153),
        ("a" * 460, 4, 460, 153),
        ("€" * 80, 1, 160, 160),
        ("a" * 158 + "€", 1, 160, 160),
        ("a" * 159 + "€", 2, 161, 153),
        # the extension character fills septets 152-153 of part 1 exactly
        ("a" * 151 + "€" + "a" * 153, 2, 306, 153),
        # it would straddle septets 153/154: it moves whole to part 2, so 306 septets need 3 parts
        ("a" * 152 + "€" + "a" * 152, 3, 306, 153),
        ("€" * 76 * 2, 2, 304, 153),  # 76 per part: 152 septets, the 153rd stays empty
        ("€" * 77 * 2, 3, 308, 153),
    ],
)
def test_gsm7_parts(text: str, parts: int, units: int, per_part_limit: int) -> None:
    assert count_parts(text, "text") == Segmentation(
        encoding="GSM-7", units=units, parts=parts, per_part_limit=per_part_limit, characters=len(text)
    )


def test_gsm7_extension_character_never_straddles_parts() -> None:
    text = "a" * 152 + "€" + "b" * 152
    parts = split_text(text, "text")
    assert [septet_length(part) for part in parts] == [152, 153, 1]
    assert parts[1].startswith("€")
    assert "".join(parts) == text


@pytest.mark.parametrize(
    ("text", "parts", "units", "per_part_limit"),
    [
        (CYRILLIC * 70, 1, 70, 70),
        (CYRILLIC * 71, 2, 71, 67),
        (CYRILLIC * 134, 2, 134, 67),
        (CYRILLIC * 135, 3, 135, 67),
        ("a" * 70, 1, 70, 70),  # GSM text sent as unicode is still UCS-2
        (EMOJI * 35, 1, 70, 70),
        (EMOJI * 36, 2, 72, 67),
        # the emoji fills units 66-67 of part 1 exactly
        (CYRILLIC * 65 + EMOJI + CYRILLIC * 67, 2, 134, 67),
        # it would straddle units 67/68: it moves whole to part 2, so 134 units need 3 parts
        (CYRILLIC * 66 + EMOJI + CYRILLIC * 66, 3, 134, 67),
        (CYRILLIC * 69 + EMOJI, 2, 71, 67),
    ],
)
def test_ucs2_parts(text: str, parts: int, units: int, per_part_limit: int) -> None:
    assert count_parts(text, "unicode") == Segmentation(
        encoding="UCS-2", units=units, parts=parts, per_part_limit=per_part_limit, characters=len(text)
    )


def test_ucs2_surrogate_pair_never_split() -> None:
    text = CYRILLIC * 66 + EMOJI + CYRILLIC * 66
    parts = split_text(text, "unicode")
    assert [len(part.encode("utf-16-le")) // 2 for part in parts] == [66, 67, 1]
    assert parts[1].startswith(EMOJI)
    assert "".join(parts) == text


@pytest.mark.parametrize("seed", range(20))
def test_split_text_parts_fit_and_rejoin(seed: int) -> None:
    rng = random.Random(seed)
    gsm = "".join(rng.choice("ab€[") for _ in range(rng.randrange(1, 700)))
    ucs2 = "".join(rng.choice(["ж", EMOJI, "a"]) for _ in range(rng.randrange(1, 400)))
    for text, type_, unit_length, limits in (
        (gsm, "text", septet_length, (160, 153)),
        (ucs2, "unicode", lambda part: len(part.encode("utf-16-le")) // 2, (70, 67)),
    ):
        parts = split_text(text, type_)
        assert "".join(parts) == text
        assert len(parts) == count_parts(text, type_).parts
        limit = limits[0] if len(parts) == 1 else limits[1]
        assert all(0 < unit_length(part) <= limit for part in parts)


@pytest.mark.parametrize("type_", ["text", "unicode"])
def test_split_text_of_nothing_is_no_parts(type_: str) -> None:
    assert split_text("", type_) == []
    assert split_text("a", type_) == ["a"]


@pytest.mark.parametrize("type_", ["text", "unicode"])
def test_count_parts_requires_text(type_: str) -> None:
    with pytest.raises(InvalidField) as caught:
        count_parts("", type_)
    assert (caught.value.field, caught.value.vonage_status) == ("text", "2")


def test_count_parts_refuses_non_gsm_characters_for_type_text() -> None:
    with pytest.raises(InvalidField) as caught:
        count_parts("Zażółć gęślą jaźń", "text")
    error = caught.value
    assert (error.field, error.vonage_status) == ("text", "3")
    assert "outside GSM-7" in error.message
    assert "'ż' (U+017C)" in error.message
    assert "type=unicode" in error.message


def test_count_parts_refuses_unpaired_surrogates() -> None:
    with pytest.raises(InvalidField) as caught:
        count_parts("hi \ud83d", "unicode")
    assert caught.value.field == "text"
    assert "U+D83D" in caught.value.message


def test_count_parts_is_for_text_types_only() -> None:
    with pytest.raises(ValueError, match="binary") as caught:
        count_parts("0A0B", "binary")
    assert not isinstance(caught.value, InvalidField)


@pytest.mark.parametrize(
    ("text", "type_", "parts"),
    [
        ("a" * MAX_TEXT_CHARACTERS, "text", 21),
        ("€" * 76 * MAX_PARTS, "text", MAX_PARTS),  # extension-heavy: 2280 characters, 30 parts
        (CYRILLIC * 67 * MAX_PARTS, "unicode", MAX_PARTS),
        (EMOJI * 33 * MAX_PARTS, "unicode", MAX_PARTS),
    ],
)
def test_validate_text_accepts_up_to_the_limits(text: str, type_: str, parts: int) -> None:
    assert validate_text(text, type_).parts == parts


@pytest.mark.parametrize(
    ("text", "type_", "expected"),
    [
        ("a" * (MAX_TEXT_CHARACTERS + 1), "text", "3201 characters; the maximum is 3200"),
        (CYRILLIC * (MAX_TEXT_CHARACTERS + 1), "unicode", "3201 characters"),
        ("€" * (76 * MAX_PARTS + 1), "text", "31 SMS parts"),
        (CYRILLIC * (67 * MAX_PARTS + 1), "unicode", "31 SMS parts"),
        (EMOJI * (33 * MAX_PARTS + 1), "unicode", "31 SMS parts"),
    ],
)
def test_validate_text_refuses_too_long(text: str, type_: str, expected: str) -> None:
    with pytest.raises(InvalidField) as caught:
        validate_text(text, type_)
    assert (caught.value.field, caught.value.vonage_status) == ("text", "12")
    assert expected in caught.value.message


def test_validate_text_part_cap_is_configurable() -> None:
    assert validate_text("a" * 306, "text", max_parts=2).parts == 2
    with pytest.raises(InvalidField) as caught:
        validate_text("a" * 307, "text", max_parts=2)
    assert caught.value.vonage_status == "12"


@pytest.mark.parametrize("text", [None, ""])
def test_validate_text_requires_text(text: str | None) -> None:
    with pytest.raises(InvalidField) as caught:
        validate_text(text, "unicode")
    assert (caught.value.field, caught.value.vonage_status) == ("text", "2")
    assert "required" in caught.value.message


def test_validate_text_refuses_non_gsm_for_type_text() -> None:
    with pytest.raises(InvalidField) as caught:
        validate_text("Cześć", "text")
    assert caught.value.message.startswith("text contains characters outside GSM-7 (e.g. 'ś'")
    assert validate_text("Cześć", "unicode").encoding == "UCS-2"


@pytest.mark.parametrize(
    ("udh", "body", "octets"),
    [
        (None, "0A", 1),
        ("", "0a0B", 2),
        ("050003CC0201", "00" * 134, 140),
        (None, "FF" * 140, 140),
        ("00", "01", 2),
    ],
)
def test_validate_binary_accepts(udh: str | None, body: str, octets: int) -> None:
    assert validate_binary(udh, body) == Segmentation(
        encoding="binary", units=octets, parts=1, per_part_limit=140, characters=0
    )


@pytest.mark.parametrize(
    ("udh", "body", "field", "status", "expected"),
    [
        (None, None, "body", "2", "body is required"),
        ("050003CC0201", "", "body", "2", "body is required"),
        (None, "ABC", "body", "3", "hex digits"),
        (None, "zz", "body", "3", "hex digits"),
        (None, "0x0A", "body", "3", "hex digits"),
        (None, "0A 0B", "body", "3", "hex digits"),  # bytes.fromhex would allow the space
        ("05000", "0A", "udh", "3", "hex digits"),
        ("0g", "0A", "udh", "3", "hex digits"),
        ("060003CC0201", "0A", "udh", "3", "UDHL"),
        ("050003CC02", "0A", "udh", "3", "UDHL"),
        (None, "FF" * 141, "body", "12", "141 octets"),
        ("050003CC0201", "00" * 135, "body", "12", "141 octets"),
    ],
)
def test_validate_binary_refuses(
    udh: str | None, body: str | None, field: str, status: str, expected: str
) -> None:
    with pytest.raises(InvalidField) as caught:
        validate_binary(udh, body)
    assert (caught.value.field, caught.value.vonage_status) == (field, status)
    assert expected in caught.value.message
