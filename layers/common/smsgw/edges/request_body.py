"""The one parser of request bodies, for every route (validated routes and the carrier webhooks alike).

Accepted: `application/x-www-form-urlencoded`, `multipart/form-data` (Postman's "form-data", read as a
form; stdlib `email` parser) and JSON (`application/json`, `*/*+json`). No Content-Type: JSON when the
body starts with `{` or `[`, else a form. Anything else is 415 naming the accepted types.

A body that cannot be read is a `BadBody` naming the field at fault (`Content-Type`, `body` or a form
field): not UTF-8 (or its declared charset), not base64 when flagged so, larger than `MAX_BODY_BYTES`
(413), JSON nested deeper than `MAX_DEPTH` or not an object, NaN/Infinity, a multipart body without
its boundary, more than `MAX_FIELDS` fields. Nothing reaches the routes or DynamoDB before this passed.

Forms come out as `{name: value}`, or `{name: [values]}` for a repeated name (as JSON would write them).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
from collections.abc import Mapping
from email.message import Message
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

from smsgw.core.errors import BadRequest
from smsgw.edges.headers import header_value

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
JSON = "application/json"
ACCEPTED = f"{FORM}, {MULTIPART} or {JSON}"

# API Gateway takes up to 10 MB and Lambda 6 MB; nothing the API stores is near 1 MB (a DynamoDB item
# is at most 400 KB), so a larger body is refused before it is decoded or parsed.
MAX_BODY_BYTES = 1024 * 1024
# The deepest legitimate body is a schedule's recipients (object → list → object): 3.
MAX_DEPTH = 32
MAX_FIELDS = 1000


class BadBody(BadRequest):
    """A body (or its Content-Type) that cannot be read: 400, 413 or 415, naming the field at fault."""

    def __init__(self, message: str, field: str = "body", status_code: int = 400) -> None:
        super().__init__(message, field)
        self.status_code = status_code


def _media_type(content_type: str) -> Message:
    header = Message()
    header["Content-Type"] = content_type
    return header


def _raw_bytes(body: str, is_base64: bool) -> bytes:
    if is_base64:
        if len(body) > MAX_BODY_BYTES * 4 // 3 + 4:
            raise _too_large()
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadBody("the body is flagged base64 but is not valid base64") from None
    if len(body) > MAX_BODY_BYTES:
        raise _too_large()
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:
        raise BadBody("the body is not valid UTF-8") from None


def _too_large() -> BadBody:
    return BadBody(f"the body is larger than {MAX_BODY_BYTES // 1024} KB", status_code=413)


def _text(raw: bytes, charset: str | None, field: str = "body") -> str:
    name = charset or "utf-8"
    try:
        codecs.lookup(name)
    except LookupError:
        raise BadBody(f"unknown charset {name!r} in Content-Type: use utf-8", "Content-Type") from None
    try:
        return raw.decode(name)
    except UnicodeDecodeError:
        what = "the body" if field == "body" else field
        raise BadBody(f"{what} is not valid {name}", field) from None


def _depth_within(value: Any, limit: int) -> bool:
    """Whether no list/object in `value` is nested deeper than `limit` (iteratively: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return True


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_object(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise BadBody(f"the JSON body is nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError as error:
        raise BadBody(f"the body is not valid JSON: {error}") from None
    if not _depth_within(data, MAX_DEPTH):
        raise BadBody(f"the JSON body is nested too deeply (at most {MAX_DEPTH} levels)")
    if not isinstance(data, dict):
        raise BadBody('the JSON body must be an object, e.g. {"to": "447700900000"}')
    return data


def _collect(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    if len(pairs) > MAX_FIELDS:
        raise BadBody(f"the form has {len(pairs)} fields; at most {MAX_FIELDS}")
    form: dict[str, Any] = {}
    for name, value in pairs:
        if name in form:
            previous = form[name]
            form[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            form[name] = value
    return form


def _urlencoded(text: str) -> dict[str, Any]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise BadBody("the form has a %-escape that is not UTF-8") from None
    except ValueError:
        raise BadBody(f"the form has more than {MAX_FIELDS} fields") from None
    return _collect(pairs)


def _multipart(raw: bytes, content_type: str, header: Message) -> dict[str, Any]:
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise BadBody(
            "multipart/form-data needs its boundary: Content-Type: multipart/form-data; boundary=…"
            " (let your HTTP client set this header), or send application/x-www-form-urlencoded",
            "Content-Type",
        )
    message = BytesParser().parsebytes(  # the default compat32 policy: no email.policy import
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + raw
    )
    parts = message.get_payload() if message.is_multipart() else None
    if message.defects or not isinstance(parts, list):
        raise BadBody(f"the body is not multipart/form-data with the boundary {boundary!r}")
    pairs: list[tuple[str, str]] = []
    for n, part in enumerate(parts):
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise BadBody(f'part {n + 1} of the form has no Content-Disposition: form-data; name="…"')
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            raise BadBody(f"form field {name} must be a value, not a nested multipart", name)
        pairs.append((name, _text(payload, part.get_content_charset(), name)))
    return _collect(pairs)


def parse_body(headers: Mapping[str, str], body: str | None, is_base64: bool = False) -> dict[str, Any]:
    """The body as a dict: a JSON object, or a form's fields. An empty body is `{}`."""
    content_type = header_value(headers, "content-type") or ""
    if not body:
        return {}
    raw = _raw_bytes(body, is_base64)
    if not raw.strip():
        return {}
    header = _media_type(content_type)
    media = content_type.split(";", 1)[0].strip().lower()
    charset = header.get_content_charset()
    if media == MULTIPART:
        return _multipart(raw, content_type, header)
    if media == FORM:
        return _urlencoded(_text(raw, charset))
    subtype = media.partition("/")[2]
    if subtype == "json" or subtype.endswith("+json"):
        return _json_object(_text(raw, charset))
    if not media:
        text = _text(raw, charset)
        return _json_object(text) if text.lstrip()[:1] in ("{", "[") else _urlencoded(text)
    raise BadBody(f"unsupported Content-Type {media}: send {ACCEPTED}", "Content-Type", status_code=415)
