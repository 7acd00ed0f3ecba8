"""The desk channel's wire format: length-prefixed frames of compact JSON, typed values tagged.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON (no spaces).
JSON carries ``None``, booleans, integers, strings and lists as they are (money and
prices are integers already). Anything else is an object ``{"~": tag, "v": value}``:
``tuple``, ``frozenset``, ``bytes``, ``net`` (an IP network), or the name of a type in
the codec's catalogue (dataclasses by field, pydantic models by their JSON form, table
rows by column, enums by value). Decoding builds only catalogued types: a frame cannot
make the receiver construct anything else. A plain mapping may not use ``~`` as a key.
"""

from __future__ import annotations

import base64
import json
import socket
import struct
from collections.abc import Iterable
from dataclasses import fields, is_dataclass
from enum import Enum
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any

from pydantic import BaseModel
from sqlalchemy import inspect as sa_inspect

from tradeguard.core.errors import TradeGuardError
from tradeguard.db.base import Base

TAG = "~"
VALUE = "v"
HEADER = struct.Struct(">I")
PLAIN = frozenset({str, int, float, bool, type(None)})
MAX_FRAME_BYTES = 16 * 1024 * 1024
Json = Any
"""A JSON-native value (what ``json.loads`` returns)."""


class WireError(TradeGuardError):
    """A frame that is too large, cut short, not JSON, or names a type not in the catalogue."""


class Codec:
    """Encodes values to JSON-native form and back, building only catalogued types."""

    def __init__(self, catalogue: Iterable[type[Any]]) -> None:
        self._types = {kind.__name__: kind for kind in catalogue}
        self._names: dict[type[Any], tuple[str, ...]] = {}

    def dumps(self, message: Json) -> bytes:
        """One frame: the length and the compact JSON of ``message`` (already encoded)."""
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        if len(body) > MAX_FRAME_BYTES:
            raise WireError(f"a frame of {len(body)} bytes is over the limit")
        return HEADER.pack(len(body)) + body

    def encode(self, value: Any) -> Json:  # noqa: ANN401 - any catalogued value
        """``value`` in JSON-native form, typed values tagged."""
        kind = type(value)  # exact types: an enum of str or int is tagged, not plain
        if kind in PLAIN:
            return value
        if kind is list:
            return [self.encode(item) for item in value]
        if kind is dict:
            return self._encode_mapping(value)
        return self._encode_tagged(value)

    def decode(self, data: Json) -> Any:  # noqa: ANN401 - any catalogued value
        """The value ``data`` encodes; ``WireError`` for an unknown tag."""
        if isinstance(data, list):
            return [self.decode(item) for item in data]
        if not isinstance(data, dict):
            return data
        if TAG not in data:
            return {key: self.decode(item) for key, item in data.items()}
        return self._decode_tagged(str(data[TAG]), data.get(VALUE))

    def _encode_mapping(self, value: dict[Any, Any]) -> Json:
        if TAG in value or not all(isinstance(key, str) for key in value):
            raise WireError("a mapping sent over the desk channel has string keys other than ~")
        return {key: self.encode(item) for key, item in value.items()}

    def _encode_tagged(self, value: Any) -> Json:  # noqa: ANN401 - any catalogued value
        builtin = _builtin(value)
        if builtin is not None:
            return {TAG: builtin[0], VALUE: [self.encode(v) for v in builtin[1]]}
        if isinstance(value, bytes):
            return {TAG: "bytes", VALUE: base64.b64encode(value).decode("ascii")}
        if isinstance(value, IPv4Network | IPv6Network):
            return {TAG: "net", VALUE: str(value)}
        name = type(value).__name__
        if self._types.get(name) is not type(value):
            raise WireError(f"{name} is not a type the desk channel carries")
        return {TAG: name, VALUE: self._fields_of(value)}

    def _fields_of(self, value: Any) -> Json:  # noqa: ANN401 - a catalogued value
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, BaseModel):
            return value.model_dump(mode="json")
        names = self._names.get(type(value)) or self._field_names(type(value))
        return {name: self.encode(getattr(value, name)) for name in names}

    def _field_names(self, kind: type[Any]) -> tuple[str, ...]:
        """The fields a value of ``kind`` travels by: a row's columns, a dataclass's fields."""
        if issubclass(kind, Base):
            names = tuple(column.key for column in sa_inspect(kind).column_attrs)
        elif is_dataclass(kind):
            names = tuple(f.name for f in fields(kind) if f.init)
        else:
            raise WireError(f"{kind.__name__} has no wire form")
        self._names[kind] = names
        return names

    def _decode_tagged(self, tag: str, data: Json) -> Any:  # noqa: ANN401 - a catalogued value
        if tag in ("tuple", "frozenset"):
            items = [self.decode(item) for item in data]
            return tuple(items) if tag == "tuple" else frozenset(items)
        if tag == "bytes":
            return base64.b64decode(data)
        if tag == "net":
            return ip_network(data)
        kind = self._types.get(tag)
        if kind is None:
            raise WireError(f"{tag} is not a type the desk channel carries")
        return self._build(kind, data)

    def _build(self, kind: type[Any], data: Json) -> Any:  # noqa: ANN401 - a catalogued value
        if issubclass(kind, Enum):
            return kind(data)
        if issubclass(kind, BaseModel):
            return kind.model_validate(data)
        if not isinstance(data, dict):
            raise WireError(f"{kind.__name__} arrives as an object of its fields")
        return kind(**{key: self.decode(item) for key, item in data.items()})


def _builtin(value: Any) -> tuple[str, Iterable[Any]] | None:  # noqa: ANN401 - any value
    if isinstance(value, tuple):
        return "tuple", value
    if isinstance(value, frozenset | set):
        return "frozenset", sorted(value, key=repr)
    return None


def read_frame(sock: socket.socket) -> Json | None:
    """The next frame's JSON from ``sock``; ``None`` when the peer closed between frames."""
    header = _read_exactly(sock, HEADER.size, allow_eof=True)
    if header is None:
        return None
    (length,) = HEADER.unpack(header)
    if length > MAX_FRAME_BYTES:
        raise WireError(f"a frame of {length} bytes is over the limit")
    body = _read_exactly(sock, length, allow_eof=False)
    try:
        return json.loads(body or b"")
    except ValueError as error:
        raise WireError("a frame is not JSON") from error


def _read_exactly(sock: socket.socket, size: int, *, allow_eof: bool) -> bytes | None:
    chunks, missing = bytearray(), size
    while missing:
        chunk = sock.recv(missing)
        if not chunk:
            if allow_eof and not chunks:
                return None
            raise WireError("the desk channel closed inside a frame")
        chunks += chunk
        missing -= len(chunk)
    return bytes(chunks)
