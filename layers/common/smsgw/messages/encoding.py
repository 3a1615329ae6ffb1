"""SMS encodings and segmentation, counted exactly as the carrier will.

`type=text` is GSM-7 (3GPP TS 23.038 default alphabet + extension table), `type=unicode` is
UCS-2, `type=binary` is raw octets (`udh` + `body`, hex). `contracts/vonage-sms.md` §6.

GSM-7 (`type=text`)
    One SMS holds 160 septets. The extension characters ``^ { } \\ [ ~ ] | €`` and form feed
    are sent as ESC + code, so they count 2 septets each. A longer text is concatenated: each
    part holds 153 septets (7 octets go to the concatenation header), and an extension
    character's two septets are never split across parts: a part that has one septet left
    ends early, as handsets and SMSCs split.
    Characters outside the alphabet are **refused** (`InvalidField("text", …)`): the carrier
    would silently turn them into ``?``. Send such text with `type=unicode`. We do not
    transliterate (``ç`` is not ``Ç``, U+2019 is not ``'``): the client chooses.
UCS-2 (`type=unicode`)
    Counted in UTF-16 code units (a character outside the BMP, e.g. most emoji, is a surrogate
    pair = 2 units). One SMS holds 70 units; concatenated parts hold 67, and a surrogate pair is
    never split across parts. Unpaired surrogates (possible in JSON input) are refused.
Binary (`type=binary`)
    `udh` + `body` (hex) in exactly one SMS: at most 140 octets (status 12). Concatenating
    binary messages is the client's job (it writes the UDH). When `udh` is given its first
    octet (UDHL) must equal the number of octets after it.

Limits (status "12" Message Too Long):
    * `MAX_TEXT_CHARACTERS` = 3200 characters (Vonage accepts up to 3200), counted as Unicode
      code points (``len(text)``);
    * `MAX_PARTS` = 30 parts. 3200 plain GSM characters need 21 parts, so the character cap binds
      first for ordinary text; the part cap bounds the cost of extension-heavy GSM text (up to 2
      septets each) and of UCS-2 text (30 parts = 2010 UTF-16 units), since every part is
      billed. Vonage's best practice is ≤ 6 parts; 30 leaves room for long notices while
      stopping a runaway 3200-emoji message (96 parts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Final, Literal

from smsgw.core.errors import MESSAGE_TOO_LONG, MISSING_PARAMETER, InvalidField

Encoding = Literal["GSM-7", "UCS-2", "binary"]

MAX_TEXT_CHARACTERS: Final = 3200
MAX_PARTS: Final = 30

GSM7_SINGLE_PART_SEPTETS: Final = 160
GSM7_SEPTETS_PER_PART: Final = 153
UCS2_SINGLE_PART_UNITS: Final = 70
UCS2_UNITS_PER_PART: Final = 67
BINARY_MAX_OCTETS: Final = 140

# TS 23.038 §6.2.1: position = code. 0x1B is ESC (the escape to the extension table), not a
# character a text may contain.
GSM7_BASIC_TABLE: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\x1bÆæßÉ"  # ΔΦΓΛΩΠΨΣΘΞ
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# TS 23.038 §6.2.1.1: the extension characters, each sent as ESC + this code (2 septets).
GSM7_EXTENSION_TABLE: Final[dict[str, int]] = {
    "\x0c": 0x0A,  # form feed (page break)
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
GSM7_BASIC: Final = frozenset(GSM7_BASIC_TABLE) - {"\x1b"}
GSM7_EXTENSION: Final = frozenset(GSM7_EXTENSION_TABLE)
GSM7_CHARSET: Final = GSM7_BASIC | GSM7_EXTENSION

# type -> (encoding, units in a single SMS, units per part of a concatenated one)
_TEXT_ENCODINGS: Final[dict[str, tuple[Encoding, int, int]]] = {
    "text": ("GSM-7", GSM7_SINGLE_PART_SEPTETS, GSM7_SEPTETS_PER_PART),
    "unicode": ("UCS-2", UCS2_SINGLE_PART_UNITS, UCS2_UNITS_PER_PART),
}
_HEX = re.compile(r"[0-9A-Fa-f]*")


@dataclass(frozen=True, slots=True)
class Segmentation:
    """How a message travels: `units` are septets (GSM-7), UTF-16 code units (UCS-2) or octets
    (binary); `per_part_limit` is the capacity of one part in those units (160/153, 70/67, 140);
    `characters` is ``len(text)`` (0 for binary)."""

    encoding: Encoding
    units: int
    parts: int
    per_part_limit: int
    characters: int


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 default alphabet or its extension table."""
    return GSM7_CHARSET.issuperset(text)


def septet_length(text: str) -> int:
    """Septets `text` takes in GSM-7 (extension characters count 2). ValueError if not GSM-7."""
    return sum(_septets(text))


def count_parts(text: str, type: str) -> Segmentation:
    """Segment `text` for `type` "text" (GSM-7) or "unicode" (UCS-2).

    Raises InvalidField("text") for empty text (status 2), for characters outside GSM-7 with
    `type=text`, and for unpaired surrogates. Length limits are `validate_text`'s job.
    """
    if not text:
        raise _text_required(type)
    costs = _costs(text, type)
    encoding, single, per_part = _TEXT_ENCODINGS[type]
    parts = len(_part_starts(costs, single, per_part))
    return Segmentation(
        encoding=encoding,
        units=sum(costs),
        parts=parts,
        per_part_limit=single if parts == 1 else per_part,
        characters=len(text),
    )


def split_text(text: str, type: str) -> list[str]:
    """The parts `text` is sent as (see `count_parts`): one string per SMS, in order."""
    costs = _costs(text, type)
    starts = _part_starts(costs, *_TEXT_ENCODINGS[type][1:])
    return [text[start:end] for start, end in pairwise([*starts, len(text)])]


def validate_text(text: str | None, type: str, *, max_parts: int = MAX_PARTS) -> Segmentation:
    """Validate `text` for `type` "text" or "unicode" and return its segmentation.

    InvalidField("text"): missing (status 2); over `MAX_TEXT_CHARACTERS` or `max_parts` parts
    (status 12); characters outside GSM-7 with `type=text`, or unpaired surrogates (status 3).
    """
    if not text:
        raise _text_required(type)
    if len(text) > MAX_TEXT_CHARACTERS:
        raise InvalidField(
            "text",
            f"text is {len(text)} characters; the maximum is {MAX_TEXT_CHARACTERS}: shorten it",
            MESSAGE_TOO_LONG,
        )
    segmentation = count_parts(text, type)
    if segmentation.parts > max_parts:
        raise InvalidField(
            "text",
            f"text needs {segmentation.parts} SMS parts ({segmentation.units} {segmentation.encoding} "
            f"units, {segmentation.per_part_limit} per part); the maximum is {max_parts}: shorten it",
            MESSAGE_TOO_LONG,
        )
    return segmentation


def validate_binary(udh: str | None, body: str | None) -> Segmentation:
    """Validate a `type=binary` payload: hex `udh` (optional) and `body` (required), one SMS.

    InvalidField("body"/"udh"): `body` missing (status 2), not hex (status 3), UDHL mismatch
    (status 3), `udh` + `body` over 140 octets (status 12).
    """
    if not body:
        raise InvalidField(
            "body",
            "body is required for type=binary: the payload as hex digits, e.g. 0A0B0C",
            MISSING_PARAMETER,
        )
    body_octets = _hex_octets("body", body)
    udh_octets = _hex_octets("udh", udh) if udh else b""
    if udh_octets and udh_octets[0] != len(udh_octets) - 1:
        raise InvalidField(
            "udh",
            f"udh's first octet (UDHL) is {udh_octets[0]} but {len(udh_octets) - 1} octets follow it: "
            "UDHL must count the header octets after it",
        )
    total = len(udh_octets) + len(body_octets)
    if total > BINARY_MAX_OCTETS:
        raise InvalidField(
            "body",
            f"udh plus body is {total} octets; one binary SMS carries at most {BINARY_MAX_OCTETS}: "
            "split the payload into several messages",
            MESSAGE_TOO_LONG,
        )
    return Segmentation(
        encoding="binary", units=total, parts=1, per_part_limit=BINARY_MAX_OCTETS, characters=0
    )


def _text_required(type: str) -> InvalidField:
    return InvalidField("text", f"text is required for type={type}: the message to send", MISSING_PARAMETER)


def _hex_octets(field: str, value: str) -> bytes:
    if not _HEX.fullmatch(value) or len(value) % 2:
        raise InvalidField(
            field,
            f"{field} must be hex digits (0-9, A-F), two per octet, with no prefix or spaces "
            f"(got {len(value)} characters)",
        )
    return bytes.fromhex(value)


def _costs(text: str, type: str) -> list[int]:
    """Units each character takes: septets for "text", UTF-16 code units for "unicode"."""
    if type == "text":
        outside = _describe(c for c in text if c not in GSM7_CHARSET)
        if outside:
            raise InvalidField(
                "text",
                f"text contains characters outside GSM-7 (e.g. {outside}); send with type=unicode, "
                "or replace them",
            )
        return _septets(text)
    if type == "unicode":
        _reject_lone_surrogates(text)
        return [2 if ord(c) > 0xFFFF else 1 for c in text]
    raise ValueError(f"count text for type 'text' or 'unicode', not {type!r}")


def _part_starts(costs: list[int], single: int, per_part: int) -> list[int]:
    """Index of the first character of each part; a character never straddles two parts."""
    if not costs:
        return []
    if sum(costs) <= single:
        return [0]
    starts = [0]
    used = 0
    for index, cost in enumerate(costs):
        if used + cost > per_part:  # it does not fit whole: it opens the next part
            starts.append(index)
            used = 0
        used += cost
    return starts


def _septets(text: str) -> list[int]:
    costs = []
    for c in text:
        if c in GSM7_BASIC:
            costs.append(1)
        elif c in GSM7_EXTENSION:
            costs.append(2)
        else:
            raise ValueError(f"{c!r} is not in the GSM-7 alphabet")
    return costs


def _reject_lone_surrogates(text: str) -> None:
    # A str holding surrogates did not come from valid UTF-8/UTF-16 (JSON "\ud83d" alone can).
    lone = _describe(c for c in text if 0xD800 <= ord(c) <= 0xDFFF)
    if lone:
        raise InvalidField(
            "text",
            f"text contains unpaired UTF-16 surrogates ({lone}): encode characters outside the "
            "BMP as one code point or a complete surrogate pair",
        )


def _describe(chars: Iterable[str], limit: int = 3) -> str:
    """The first `limit` distinct characters, quoted with their code point: 'ł' (U+0142)."""
    seen: list[str] = []
    for c in chars:
        if c not in seen:
            seen.append(c)
            if len(seen) == limit:
                break
    return ", ".join(f"{c!r} (U+{ord(c):04X})" for c in seen)
