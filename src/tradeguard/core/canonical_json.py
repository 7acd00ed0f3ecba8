"""Canonical JSON: one byte string per value, for hashing, signing and comparing.

Rules: object keys are strings, sorted by Unicode code point (Python ``str`` order, which
is not RFC 8785's UTF-16 order); no insignificant whitespace; UTF-8 without escaping
non-ASCII (only quote, backslash and control characters are escaped); strings are not
Unicode-normalized. Values are ``None``, ``bool``, ``int``, ``str``, ``list``/``tuple`` and
``dict``, plus ``Money``/``Price`` (their canonical decimal string), aware ``datetime``
(RFC 3339 UTC) and ``uuid.UUID`` (hyphenated lowercase). Any ``int`` is allowed, also
beyond 64 bits, since Python reads it back exactly; consumers in other languages must
not parse such values into doubles. Floats, NaN, bytes, sets and other types are refused.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn, TypeAlias

import orjson

from tradeguard.core.clock import to_rfc3339
from tradeguard.core.money import Money, Price

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

JSONValue: TypeAlias = "bool | int | str | list[JSONValue] | dict[str, JSONValue] | None"

ROOT_PATH = "$"
_MAX_QUOTED = 40


class CanonicalJSONError(ValueError):
    """A value cannot be written or read as canonical JSON; ``path`` says where."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def canonical_dumps(value: object) -> bytes:
    """The canonical JSON encoding of ``value`` as UTF-8 bytes."""
    try:
        tree = _fast(value)
    except (_UnsupportedError, RecursionError):
        tree = _located(value)
    try:
        return orjson.dumps(tree, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return _dumps_slowly(tree)  # ints beyond 64 bits; text orjson refuses


def _dumps_slowly(tree: JSONValue) -> bytes:
    """The standard library's encoding, which ``orjson`` matches byte for byte where it works.

    Both escape only quote, backslash and control characters (the same escapes), write
    non-ASCII as UTF-8 and sort keys by code point; the standard library also takes ints
    of any size.
    """
    try:
        text = json.dumps(
            tree, ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
        )
    except ValueError as exc:
        raise CanonicalJSONError(ROOT_PATH, str(exc)) from exc
    return text.encode("utf-8")


def canonical_loads(data: bytes) -> JSONValue:
    """Parse UTF-8 JSON, refusing floats, NaN/Infinity and duplicate object keys."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalJSONError(ROOT_PATH, "not valid UTF-8") from exc
    try:
        result: JSONValue = json.loads(
            text,
            parse_float=_refuse_float,
            parse_constant=_refuse_constant,
            object_pairs_hook=_unique_object,
        )
    except RecursionError:
        raise CanonicalJSONError(ROOT_PATH, "nesting too deep") from None
    except ValueError as exc:
        if isinstance(exc, CanonicalJSONError):
            raise
        raise CanonicalJSONError(ROOT_PATH, f"malformed JSON: {exc}") from exc
    return result


class _UnsupportedError(Exception):
    """The fast walk met something it does not handle; the path-tracking walk takes over."""


_PLAIN = frozenset({int, bool, type(None)})


def _fast(value: object) -> JSONValue:
    """Normalize without tracking paths (the audit hot path); plain types only."""
    kind = type(value)
    if kind is str:
        return _fast_text(value)  # type: ignore[arg-type]  # checked: a str
    if kind in _PLAIN:
        return value  # type: ignore[return-value]  # checked: int, bool or None
    if kind is dict:
        return _fast_object(value)  # type: ignore[arg-type]  # checked: a dict
    if kind is list or kind is tuple:
        return [_fast(item) for item in value]  # type: ignore[attr-defined]  # checked
    try:
        return _normalize_scalar(value, ROOT_PATH)
    except CanonicalJSONError:
        raise _UnsupportedError from None


def _fast_object(value: dict[object, object]) -> dict[str, JSONValue]:
    """An object's members; plain members are taken as they are, without a call each."""
    result: dict[str, JSONValue] = {}
    for key, item in value.items():
        if type(key) is not str:
            _unsupported()
        kind = type(item)
        if kind in _PLAIN or (kind is str and item.isascii()):  # type: ignore[attr-defined]
            result[key] = item  # type: ignore[assignment]  # checked: plain
        else:
            result[key] = _fast(item)
    return result


def _fast_text(value: str) -> str:
    return value if value.isascii() or _encodable(value) else _unsupported()


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unsupported() -> NoReturn:
    raise _UnsupportedError


def _located(value: object) -> JSONValue:
    """The slow walk, which names the path of the offending value."""
    try:
        return _normalize(value, ROOT_PATH)
    except RecursionError:
        raise CanonicalJSONError(ROOT_PATH, "nesting too deep or circular") from None


def _normalize(value: object, path: str) -> JSONValue:
    if isinstance(value, (list, tuple)):
        return _normalize_array(value, path)
    if isinstance(value, dict):
        return _normalize_object(value, path)
    return _normalize_scalar(value, path)


def _normalize_array(items: Sequence[object], path: str) -> list[JSONValue]:
    return [_normalize(item, f"{path}[{index}]") for index, item in enumerate(items)]


def _normalize_object(mapping: Mapping[object, object], path: str) -> dict[str, JSONValue]:
    result: dict[str, JSONValue] = {}
    for key, item in mapping.items():
        if not isinstance(key, str):
            raise CanonicalJSONError(path, f"object key {key!r} is not a string")
        member_path = _member_path(path, _checked_text(key, path))
        result[key] = _normalize(item, member_path)
    return result


def _normalize_scalar(value: object, path: str) -> JSONValue:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return _checked_text(value, path)
    if isinstance(value, (Money, Price, uuid.UUID)):
        return str(value)
    if isinstance(value, datetime):
        return _checked_datetime(value, path)
    raise CanonicalJSONError(path, f"{type(value).__name__} is not allowed in canonical JSON")


def _checked_text(text: str, path: str) -> str:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise CanonicalJSONError(path, "string contains a lone surrogate") from None
    return text


def _checked_datetime(when: datetime, path: str) -> str:
    try:
        return to_rfc3339(when)
    except ValueError as exc:
        raise CanonicalJSONError(path, str(exc)) from exc


def _member_path(path: str, key: str) -> str:
    if key.isidentifier():
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _refuse_float(text: str) -> NoReturn:
    raise CanonicalJSONError(ROOT_PATH, f"float {text[:_MAX_QUOTED]!r} is not allowed")


def _refuse_constant(name: str) -> NoReturn:
    raise CanonicalJSONError(ROOT_PATH, f"{name} is not allowed")


def _unique_object(pairs: list[tuple[str, JSONValue]]) -> dict[str, JSONValue]:
    result = dict(pairs)
    if len(result) != len(pairs):
        counts = Counter(key for key, _ in pairs)
        duplicate = next(key for key, count in counts.items() if count > 1)
        raise CanonicalJSONError(ROOT_PATH, f"duplicate object key {duplicate!r}")
    return result
