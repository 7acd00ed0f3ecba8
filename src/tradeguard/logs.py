"""Structured JSON logging with redaction of secrets and personal data.

Every line the process writes goes through one structlog processor chain: the
application's own loggers (`get_logger`) and the standard library's (uvicorn,
alembic, anything else that propagates to the root logger) alike. The chain
ends in `redact_event`, so no renderer ever sees a secret.

Redaction works in two ways:

- by key: a mapping key (or ``key=value`` / ``key: value`` inside text) whose
  name says "secret" has its whole value replaced by ``[REDACTED]``. A key is a
  secret when its letters, with punctuation removed, contain one of
  `SECRET_KEY_SUBSTRINGS`, or when one of its snake/kebab/camel/dot segments
  (singular or plural) is one of `SECRET_KEY_SEGMENTS`. The short terms live
  in the second list so that ``pan`` masks ``pan`` and ``cardPan`` but not
  ``company``.
- by shape: inside any string, Luhn-valid card numbers, dashed SSNs, bearer
  and basic credentials, JWTs and the password of a ``scheme://user:pass@host``
  URL are replaced by a tagged marker such as ``[REDACTED:PAN]``.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

import orjson
import structlog
from pydantic import BaseModel, Secret, SecretBytes, SecretStr

if TYPE_CHECKING:
    from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"
REDACTED_PAN = "[REDACTED:PAN]"
REDACTED_SSN = "[REDACTED:SSN]"
REDACTED_TOKEN = "[REDACTED:TOKEN]"  # noqa: S105 - a placeholder, not a credential
REDACTED_ERROR = "[REDACTED:ERROR]"
REDACTED_DEPTH = "[REDACTED:DEPTH]"

SECRET_KEY_SUBSTRINGS: tuple[str, ...] = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "authorization",
    "cookie",
    "credential",
    "privatekey",
    "signature",
    "taxid",
    "cardnumber",
    "accountnumber",
    "backupcode",
    "recoverycode",
    "mfacode",
)
SECRET_KEY_SEGMENTS: frozenset[str] = frozenset(
    {"pass", "pwd", "pin", "otp", "totp", "hotp", "ssn", "pan", "cvv", "cvc", "iban", "jwt"}
)

ADOPTED_LOGGERS: tuple[str, ...] = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "alembic",
)

_MAX_DEPTH = 32
_LARGE_INT = 10**12  # below 13 digits an integer cannot be a card number
_PAN_MIN, _PAN_MAX = 13, 19
# Structlog's own bookkeeping, and the keys our processors wrote just before redaction.
_UNREDACTED_KEYS = frozenset({"_record", "_from_structlog", "timestamp", "level", "logger"})

_NON_ALNUM = re.compile(r"[^a-z0-9]")
_SUBSTRING_RE = re.compile("|".join(SECRET_KEY_SUBSTRINGS))
_SEGMENT_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")

# Cheap gate: a string with none of these cannot match any rule below.
_TRIGGER_RE = re.compile(r"[\d=:]|eyJ|[Bb]earer|BEARER|Basic")
# The look-behinds anchor each match at a word start, keeping the scans linear on long words.
_DSN_RE = re.compile(
    r"(?P<head>(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*:)[^\s@/?#]+(?=@)"
)
_AUTH_SCHEME_RE = re.compile(
    r"(?P<scheme>[Bb]earer|BEARER)\s+[A-Za-z0-9\-._~+/]+=*|(?P<basic>Basic)\s+[A-Za-z0-9+/]{8,}=*"
)
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
_KEY_SEP_RE = re.compile(r"(?<![\w.\-])(?P<key>[A-Za-z_][\w.\-]*)[\"']?\s*[=:]\s*")
_VALUE_RE = re.compile(r"\"[^\"\n]*\"|'[^'\n]*'|[^\s&;,\"']+")
CARD_NETWORK_FIRST_DIGITS = frozenset("23456")
_UUID_RE = re.compile(r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")
_DIGIT_RUN_RE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,}")
_DIGIT_GROUP_RE = re.compile(r"\d+")
_SSN_RE = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")

_SECRET_TYPES = (SecretStr, SecretBytes, Secret)


def configure_logging(
    *, level: str = "INFO", json: bool = True, stream: TextIO | None = None
) -> None:
    """Route structlog and standard-library logging through one redacting chain."""
    numeric_level = logging.getLevelNamesMapping().get(level.upper())
    if numeric_level is None:
        raise ValueError(f"unknown log level: {level!r}")
    shared = _shared_processors()
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger created at import time must follow a later configure call.
        cache_logger_on_first_use=False,
    )
    target = stream if stream is not None else sys.stderr
    handler = _TradeGuardHandler(target)
    global _direct  # noqa: PLW0603 - the one configuration of this process's logging
    _direct = _DirectLines(tuple(structlog.get_config()["processors"]), handler) if json else None
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _renderer(json=json, stream=target),
            ],
        )
    )
    _install_handler(handler, numeric_level)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """Return a structlog logger named ``name`` that follows `configure_logging`."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


def info_line(logger_name: str, event: str, fields: dict[str, Any]) -> None:
    """Log one INFO event with ``fields``, as ``get_logger(logger_name).info`` would.

    For the lines written on every request. With the JSON renderer that
    `configure_logging` set up still in force, the line is built here: the context
    variables, level, logger name and timestamp added to ``fields``, the same
    `redact_event`, one ``orjson`` encoding, written through the same handler. Any other
    configuration (the console renderer, a test's capture) takes the structlog chain.
    """
    direct = _direct
    if direct is None or not direct.in_force():
        get_logger(logger_name).info(event, **fields)
        return
    if not logging.getLogger(logger_name).isEnabledFor(logging.INFO):
        return
    line = {"event": event, **fields}
    for name, value in structlog.contextvars.get_contextvars().items():
        line.setdefault(name, value)
    line["level"] = "info"
    line["logger"] = logger_name
    line["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    direct.write(orjson.dumps(redact_event(None, "info", line), default=str))


@dataclass(frozen=True, slots=True)
class _DirectLines:
    """The chain `configure_logging` installed (to tell it is still in force) and its handler."""

    processors: tuple[object, ...]
    handler: logging.StreamHandler[TextIO]

    def in_force(self) -> bool:
        """Whether structlog still runs the chain this was made for (a capture changes it)."""
        return tuple(structlog.get_config()["processors"]) == self.processors

    def write(self, line: bytes) -> None:
        handler = self.handler
        with handler.lock or _NO_LOCK:
            handler.stream.write(line.decode() + handler.terminator)
            handler.flush()


_NO_LOCK = threading.Lock()
_direct: _DirectLines | None = None


def redact_event(
    logger: WrappedLogger,  # noqa: ARG001 - structlog's processor protocol
    method_name: str,  # noqa: ARG001 - structlog's processor protocol
    event_dict: EventDict,
) -> EventDict:
    """Redact every value of a structlog event dict in place; never raises."""
    for key, value in list(event_dict.items()):
        if key in _UNREDACTED_KEYS:
            continue
        event_dict[key] = _guarded(functools.partial(_redact_item, key, value, 0))
    return event_dict


def redact(value: object) -> object:
    """Return a copy of ``value`` with secrets masked, recursing into containers."""
    return _guarded(functools.partial(_redact, value, 0))


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Tell whether a field named ``key`` holds a secret whatever its value."""
    if _SUBSTRING_RE.search(_NON_ALNUM.sub("", key.lower())):
        return True
    for segment in _SEGMENT_RE.findall(key):
        word = segment.lower()
        if word in SECRET_KEY_SEGMENTS or (word.endswith("s") and word[:-1] in SECRET_KEY_SEGMENTS):
            return True
    return False


class _TradeGuardHandler(logging.StreamHandler[TextIO]):
    """The one root handler `configure_logging` owns; found again by its class."""


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redact_event,
    ]


def _renderer(*, json: bool, stream: TextIO) -> Processor:
    if json:
        return structlog.processors.JSONRenderer()
    isatty = getattr(stream, "isatty", None)
    return structlog.dev.ConsoleRenderer(colors=bool(isatty and isatty()))


def _install_handler(handler: logging.Handler, level: int) -> None:
    root = logging.getLogger()
    for existing in [h for h in root.handlers if isinstance(h, _TradeGuardHandler)]:
        root.removeHandler(existing)
        existing.close()
    root.addHandler(handler)
    root.setLevel(level)
    for name in ADOPTED_LOGGERS:
        adopted = logging.getLogger(name)
        adopted.handlers.clear()
        adopted.propagate = True
    logging.captureWarnings(capture=True)


def _guarded(compute: Callable[[], object]) -> object:
    try:
        return compute()
    except Exception:  # noqa: BLE001 - a redaction bug must neither drop the line nor leak
        return REDACTED_ERROR


def holds_card_number(value: str | int) -> bool:
    """Whether ``value`` holds a Luhn-valid 13-19 digit card number (spaces, dashes allowed)."""
    text = str(value)
    return bool(_TRIGGER_RE.search(text)) and _DIGIT_RUN_RE.sub(_mask_card_numbers, text) != text


def holds_network_card_number(value: str | int) -> bool:
    """Whether ``value`` holds a card number of a major network (what a request may not carry).

    Stricter than ``holds_card_number``, which redacts logs and may mask too much: a number
    counts only if its first digit is a major network's (2 to 6: Mastercard, American
    Express, JCB, Diners, Visa, Discover, UnionPay). Epoch timestamps in milliseconds or
    nanoseconds (13 and 19 digits, starting with 1) and time-ordered ids (starting with 0)
    are Luhn-valid one time in ten and must not be refused as cards; nor may the digit
    groups of a UUID ("…-4000-0000-0000-0002…"), which are dropped first, nor digits
    inside a longer word such as a hex client order id.
    """
    text = _UUID_RE.sub(" ", str(value))
    if not _TRIGGER_RE.search(text):
        return False
    return any(
        run.group()[start] in CARD_NETWORK_FIRST_DIGITS
        for run in _DIGIT_RUN_RE.finditer(text)
        if _stands_alone(text, run)
        for start, _ in _card_spans(run.group())
    )


def _stands_alone(text: str, run: re.Match[str]) -> bool:
    """Whether the digit run is a word of its own, not part of a token such as a hex id."""
    before = text[run.start() - 1] if run.start() else " "
    after = text[run.end()] if run.end() < len(text) else " "
    return not (before.isalnum() or after.isalnum())


def _redact_item(key: object, value: object, depth: int) -> object:
    if is_secret_key(str(key)):
        return REDACTED
    return _redact(value, depth)


def _redact(value: object, depth: int) -> object:
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, str):
        return _redact_text(value)
    if isinstance(value, int):
        return _redact_int(value)
    if depth >= _MAX_DEPTH:
        return REDACTED_DEPTH
    return _redact_object(value, depth + 1)


def _redact_object(value: object, depth: int) -> object:
    if isinstance(value, _SECRET_TYPES):
        return REDACTED
    if isinstance(value, Mapping):
        return {key: _redact_item(key, item, depth) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_redact(item, depth) for item in value)
    if isinstance(value, list | set | frozenset):
        return [_redact(item, depth) for item in value]
    if isinstance(value, BaseModel):
        return _redact(value.model_dump(), depth)
    return _redact_text(str(value))


def _redact_int(value: int) -> int | str:
    if -_LARGE_INT < value < _LARGE_INT:
        return value
    text = str(value)
    masked = _redact_text(text)
    return value if masked == text else masked


def _redact_text(text: str) -> str:
    if not _TRIGGER_RE.search(text):
        return text
    return _apply_text_rules(text)


def _apply_text_rules(text: str) -> str:
    """Run every shape rule; the order matters (schemes before key=value, PAN before SSN)."""
    text = _DSN_RE.sub(r"\g<head>" + REDACTED, text)
    text = _AUTH_SCHEME_RE.sub(_mask_auth_scheme, text)
    text = _JWT_RE.sub(REDACTED_TOKEN, text)
    text = _mask_key_values(text)
    text = _DIGIT_RUN_RE.sub(_mask_card_numbers, text)
    return _SSN_RE.sub(REDACTED_SSN, text)


def _mask_auth_scheme(match: re.Match[str]) -> str:
    return f"{match.group('scheme') or match.group('basic')} {REDACTED_TOKEN}"


def _mask_key_values(text: str) -> str:
    """Mask the value after every ``secret_key=`` or ``secret_key:`` in free text."""
    pieces: list[str] = []
    cursor = 0
    for match in _KEY_SEP_RE.finditer(text):
        if match.start() < cursor or not is_secret_key(match.group("key")):
            continue
        value = _secret_value_after(text, match.end())
        if value is None:
            continue
        quote = value.group()[0] if value.group()[0] in "\"'" else ""
        pieces.extend((text[cursor : value.start()], quote, REDACTED, quote))
        cursor = value.end()
    if not pieces:
        return text
    pieces.append(text[cursor:])
    return "".join(pieces)


def _secret_value_after(text: str, position: int) -> re.Match[str] | None:
    """Find the value that follows a secret key, unless an earlier rule masked it."""
    value = _VALUE_RE.match(text, position)
    if value is None or value.group().startswith("[REDACTED"):
        return None
    # "Authorization: Bearer [REDACTED:TOKEN]" keeps its scheme word.
    if text.startswith(" " + REDACTED_TOKEN, value.end()):
        return None
    return value


def _mask_card_numbers(match: re.Match[str]) -> str:
    """Mask every Luhn-valid span of 13-19 digits made of whole groups of the run."""
    run = match.group()
    pieces: list[str] = []
    cursor = 0
    for start, end in _card_spans(run):
        pieces.extend((run[cursor:start], REDACTED_PAN))
        cursor = end
    pieces.append(run[cursor:])
    return "".join(pieces)


def _card_spans(run: str) -> Iterator[tuple[int, int]]:
    """Where the run's card numbers are: each longest Luhn-valid span of whole groups."""
    groups = [(group.start(), group.end()) for group in _DIGIT_GROUP_RE.finditer(run)]
    index = 0
    while index < len(groups):
        last = _longest_card_at(run, groups, index)
        if last is None:
            index += 1
            continue
        yield groups[index][0], groups[last][1]
        index = last + 1


def _longest_card_at(run: str, groups: list[tuple[int, int]], first: int) -> int | None:
    """Return the last group of the longest card number starting at group ``first``."""
    digits = ""
    found: int | None = None
    for last in range(first, len(groups)):
        start, end = groups[last]
        digits += run[start:end]
        if len(digits) > _PAN_MAX:
            break
        if len(digits) >= _PAN_MIN and luhn_valid(digits):
            found = last
    return found


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` pass the Luhn (mod 10) check of card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2  # noqa: PLR2004 - Luhn doubling
        total += value
    return total % 10 == 0
