"""AWS's event stream encoding (``application/vnd.amazon.eventstream``), for streamed answers.

Why this exists: moto answers no streaming operation, and the local runtime's
``InvokeEndpointWithResponseStream`` (:mod:`maas.local.inference`) must answer in the
framing botocore parses (``botocore.eventstream``). Each message is, big-endian: total
length (4 bytes), headers length (4), a CRC32 of those 8 bytes, the headers, the payload,
and a CRC32 of everything before it. A header is its name's length (1 byte), the name, the
value type (7: string), the value's length (2) and the value, as
https://docs.aws.amazon.com/AmazonS3/latest/API/RESTSelectObjectAppendix.html lays it out.

Examples
--------
>>> from botocore.eventstream import EventStreamBuffer
>>> parser = EventStreamBuffer()
>>> parser.add_data(event_message("PayloadPart", b"hello"))
>>> message = next(iter(parser))
>>> message.headers[":event-type"], message.payload
('PayloadPart', b'hello')
"""

from __future__ import annotations

import json
import struct
import zlib

#: The media type of an event stream.
EVENT_STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7


def event_message(
    event_type: str, payload: bytes, content_type: str = "application/octet-stream"
) -> bytes:
    """An ``event`` message of type ``event_type`` (a member of the operation's stream)."""
    return encode_message(
        {":message-type": "event", ":event-type": event_type, ":content-type": content_type},
        payload,
    )


def exception_message(exception_type: str, members: dict[str, str]) -> bytes:
    """An ``exception`` message: the stream's modeled error, its members as JSON."""
    return encode_message(
        {
            ":message-type": "exception",
            ":exception-type": exception_type,
            ":content-type": "application/json",
        },
        json.dumps(members).encode(),
    )


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One framed message with string ``headers`` and ``payload``."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return head + struct.pack(">I", zlib.crc32(head))


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + struct.pack(">BH", _STRING, len(raw_value))
        + raw_value
    )


__all__ = ["EVENT_STREAM_CONTENT_TYPE", "encode_message", "event_message", "exception_message"]
